//! Values the enrichment service proposes (its `EnrichmentCompleted` events), applied where the
//! subject's registers allow them, each field recording its source. A redelivered event is
//! applied once (the platform's inbox); a subject erased or no longer in the register the value
//! was fetched for takes nothing.

use chrono::Utc;
use rekisteri_platform::error::ServiceError;
use rekisteri_platform::inbox::{ConsumerSpec, EventHandler, HandlerError};
use rekisteri_platform::outbox;
use rekisteri_proto::events::v1::{
    EnrichedField, EnrichmentCompleted, EventEnvelope, SubjectUpdated, event_envelope::Payload,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::domain::{Address, FieldKind};
use crate::entity::{field_sources, subjects};
use crate::events;
use crate::registers::check_fields;
use crate::store::{self, ORGANISATION};

pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec {
        stream: events::enrichment::STREAM,
        durable: "customers-enrichment".into(),
        filter_subject: events::enrichment::COMPLETED.into(),
        max_deliver: 10,
        ack_wait: std::time::Duration::from_secs(30),
    }
}

#[derive(Debug, Clone, Copy)]
pub struct EnrichmentResults;

impl EventHandler for EnrichmentResults {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let Some(Payload::EnrichmentCompleted(completed)) = &event.payload else {
            return Ok(());
        };
        let actor = event
            .actor
            .as_ref()
            .map(|a| a.subject.clone())
            .unwrap_or_default();
        apply(txn, completed, &format!("enrichment ({actor})"))
            .await
            .map_err(|e| match e {
                ServiceError::Internal(e) => HandlerError::Retry(e),
                other => HandlerError::Retry(anyhow::anyhow!("{other}")),
            })?;
        Ok(())
    }
}

/// The customer field a proposed value is for, and the kind of data it is.
fn field_kind(field: &str) -> Option<FieldKind> {
    match field {
        "organisation.name" | "organisation.addresses" => Some(FieldKind::OrganisationDetails),
        _ => None,
    }
}

/// Applies what the registers allow; returns the fields whose value changed.
pub async fn apply(
    txn: &DatabaseTransaction,
    completed: &EnrichmentCompleted,
    actor: &str,
) -> Result<Vec<String>, ServiceError> {
    if completed.fields.is_empty() {
        return Ok(Vec::new());
    }
    let Some(subject) = subjects::Entity::find_by_id(completed.subject_id.clone())
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|s| s.erased_at.is_none())
    else {
        tracing::info!(subject_id = %completed.subject_id, "enrichment for a subject that is gone: nothing applied");
        return Ok(Vec::new());
    };
    if subject.kind != ORGANISATION {
        return Ok(Vec::new());
    }
    let registers = store::registers_holding(txn, &subject.id).await?;
    let now = Utc::now();
    let mut changed = Vec::new();
    let mut sourced = Vec::new();
    for field in &completed.fields {
        let Some(kind) = field_kind(&field.field) else {
            tracing::warn!(field = %field.field, "an enriched field this service does not hold: skipped");
            continue;
        };
        if !registers.iter().any(|r| r.register_id == field.register_id) {
            tracing::info!(subject_id = %subject.id, register_id = %field.register_id, "enriched for a register that no longer holds the subject: skipped");
            continue;
        }
        if check_fields(&registers, &[(field.field.clone(), kind)]).is_err() {
            tracing::info!(subject_id = %subject.id, field = %field.field, "the subject's registers do not allow this field: skipped");
            continue;
        }
        if write(txn, &subject, field).await? {
            changed.push(field.field.clone());
        }
        sourced.push(field_sources::ActiveModel {
            subject_id: Set(subject.id.clone()),
            field: Set(field.field.clone()),
            source: Set(field.source.clone()),
            provenance_id: Set(field.provenance_id.clone()),
            register_id: Set(field.register_id.clone()),
            request_id: Set(completed.request_id.clone()),
            fetched_at: Set(field
                .fetched_time
                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
                .unwrap_or(now)),
            applied_at: Set(now),
        });
    }
    if sourced.is_empty() {
        return Ok(changed);
    }
    field_sources::Entity::insert_many(sourced)
        .on_conflict(
            OnConflict::columns([
                field_sources::Column::SubjectId,
                field_sources::Column::Field,
            ])
            .update_columns([
                field_sources::Column::Source,
                field_sources::Column::ProvenanceId,
                field_sources::Column::RegisterId,
                field_sources::Column::RequestId,
                field_sources::Column::FetchedAt,
                field_sources::Column::AppliedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    // A new revision either way: the subject now says where its fields came from.
    subjects::Entity::update_many()
        .col_expr(
            subjects::Column::Revision,
            Expr::value(subject.revision + 1),
        )
        .col_expr(subjects::Column::UpdatedAt, Expr::value(now))
        .filter(subjects::Column::Id.eq(&subject.id))
        .exec(txn)
        .await?;
    if !changed.is_empty() {
        let envelope = outbox::envelope(
            events::SOURCE,
            events::SUBJECT_UPDATED_TYPE,
            actor,
            Payload::SubjectUpdated(SubjectUpdated {
                subject_id: subject.id.clone(),
                changed_fields: changed.clone(),
                business_id: subject
                    .business_id
                    .clone()
                    .map(|value| rekisteri_proto::common::v1::BusinessId { value }),
            }),
        );
        outbox::enqueue(txn, events::SUBJECT_UPDATED, &envelope).await?;
        tracing::info!(subject_id = %subject.id, fields = ?changed, "enriched values applied");
    }
    Ok(changed)
}

/// Writes one value; whether it changed what was stored.
async fn write(
    txn: &DatabaseTransaction,
    subject: &subjects::Model,
    field: &EnrichedField,
) -> Result<bool, ServiceError> {
    match field.field.as_str() {
        "organisation.name" => {
            let name = field.text.trim();
            if name.is_empty() || subject.name.as_deref() == Some(name) {
                return Ok(false);
            }
            store::write_organisation_name(txn, &subject.id, name).await?;
            Ok(true)
        }
        "organisation.addresses" => {
            let list: Vec<Address> = field
                .addresses
                .iter()
                .map(|a| Address {
                    lines: a.lines.clone(),
                    postal_code: a.postal_code.clone(),
                    post_office: a.post_office.clone(),
                    country_code: if a.country_code.is_empty() {
                        "FI".into()
                    } else {
                        a.country_code.to_ascii_uppercase()
                    },
                })
                .collect();
            if list.is_empty() {
                return Ok(false);
            }
            store::write_organisation_addresses(txn, &subject.id, &list).await
        }
        _ => Ok(false),
    }
}
