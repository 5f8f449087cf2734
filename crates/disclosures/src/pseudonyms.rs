//! Per-subject pseudonyms: the log names people only by these. The table that links a customer
//! subject id to its pseudonym is the one secret erasure destroys; after that the log still
//! verifies, and nothing in it points at the person.

use std::collections::HashMap;

use rekisteri_platform::inbox::{ConsumerSpec, EventHandler, HandlerError};
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::entity::{erased_subjects, log_head, pseudonyms};

/// 128 random bits, hex: not derivable from the subject id, so a deleted link cannot be redone.
pub fn fresh() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The pseudonyms these subjects have now; none are made.
pub async fn existing<C: ConnectionTrait>(
    db: &C,
    subject_ids: &[String],
) -> Result<HashMap<String, String>, sea_orm::DbErr> {
    let mut known = HashMap::with_capacity(subject_ids.len());
    for chunk in subject_ids.chunks(1000) {
        for row in pseudonyms::Entity::find()
            .filter(pseudonyms::Column::SubjectId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            known.insert(row.subject_id, row.pseudonym);
        }
    }
    Ok(known)
}

/// Which of these subjects the customer service erased.
pub async fn erased<C: ConnectionTrait>(
    db: &C,
    subject_ids: &[String],
) -> Result<std::collections::HashSet<String>, sea_orm::DbErr> {
    let mut erased = std::collections::HashSet::new();
    for chunk in subject_ids.chunks(1000) {
        for row in erased_subjects::Entity::find()
            .filter(erased_subjects::Column::SubjectId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            erased.insert(row.subject_id);
        }
    }
    Ok(erased)
}

/// The pseudonym of one subject, if it has one (and was not erased).
pub async fn of<C: ConnectionTrait>(
    db: &C,
    subject_id: &str,
) -> Result<Option<String>, sea_orm::DbErr> {
    Ok(pseudonyms::Entity::find_by_id(subject_id.to_owned())
        .one(db)
        .await?
        .map(|r| r.pseudonym))
}

/// The durable consumer of the customer service's erasures.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec {
        stream: rekisteri_customers::events::STREAM,
        durable: "disclosures-erasures".into(),
        filter_subject: rekisteri_customers::events::SUBJECT_ERASED.into(),
        max_deliver: 10,
        ack_wait: std::time::Duration::from_secs(30),
    }
}

/// Destroys the link between an erased subject and its pseudonym (crypto-shredding by deletion:
/// the pseudonym was random, so nothing can recompute it).
#[derive(Debug, Clone, Copy)]
pub struct Erasures;

impl EventHandler for Erasures {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        if let Some(Payload::SubjectErased(erased)) = &event.payload {
            // Stored the way recording stores subject ids (canonical UUID text).
            let subject_id = uuid::Uuid::parse_str(erased.subject_id.trim())
                .map(|id| id.to_string())
                .unwrap_or_else(|_| erased.subject_id.clone());
            // Under the log head's lock: a batch naming this subject either committed before
            // (its entries keep the pseudonym, now unlinked) or sees the erasure and is refused.
            log_head::Entity::find_by_id(1)
                .lock_exclusive()
                .one(txn)
                .await?;
            erased_subjects::Entity::insert(erased_subjects::ActiveModel {
                subject_id: Set(subject_id.clone()),
            })
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(erased_subjects::Column::SubjectId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
            let gone = pseudonyms::Entity::delete_many()
                .filter(pseudonyms::Column::SubjectId.eq(subject_id))
                .exec(txn)
                .await?;
            if gone.rows_affected > 0 {
                tracing::info!("an erased subject's pseudonym link was destroyed");
            }
        }
        Ok(())
    }
}
