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
use crate::entity::{enrichment_requests, field_sources, subjects};
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
    // The request this answers, if this service made it: answered now, whatever is applied.
    let request = enrichment_requests::Entity::find_by_id(completed.request_id.clone())
        .one(txn)
        .await?;
    if request.is_some() {
        enrichment_requests::Entity::delete_by_id(completed.request_id.clone())
            .exec(txn)
            .await?;
    }
    // Fetched for another business ID than the subject's now (changed meanwhile): not its data.
    let fetched_for = completed
        .business_id
        .as_ref()
        .map(|b| b.value.as_str())
        .unwrap_or_default();
    if fetched_for.is_empty() || subject.business_id.as_deref() != Some(fetched_for) {
        tracing::warn!(subject_id = %subject.id, "enrichment for a business ID the subject no longer has (or none named): nothing applied");
        return Ok(Vec::new());
    }
    let registers = store::registers_holding(txn, &subject.id).await?;
    let held: Vec<field_sources::Model> = field_sources::Entity::find()
        .filter(field_sources::Column::SubjectId.eq(&subject.id))
        .all(txn)
        .await?;
    // A value a person wrote is replaced only while it is what it was when enrichment was asked
    // for (this service kept its fingerprint with the request); an edit made since is theirs to
    // keep. For a result asked for elsewhere (EnrichSubject), only while the whole subject is
    // unchanged since it was read. A value the source gave before, or none, is replaced.
    let etag_unchanged =
        !completed.subject_etag.is_empty() && completed.subject_etag == store::etag(&subject);
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
        let before = held.iter().find(|h| h.field == field.field);
        let as_requested = match &request {
            Some(request) => {
                current_fingerprint(txn, &subject, &field.field).await?
                    == match field.field.as_str() {
                        "organisation.name" => request.name_fingerprint.clone(),
                        _ => request.addresses_fingerprint.clone(),
                    }
            }
            None => etag_unchanged,
        };
        if !as_requested && before.is_none() && !is_empty(txn, &subject, &field.field).await? {
            tracing::info!(subject_id = %subject.id, field = %field.field, "changed by a person since the request: kept");
            continue;
        }
        let Some(value) = Value::of(field) else {
            tracing::info!(subject_id = %subject.id, field = %field.field, "an enriched value this service would not accept: skipped");
            continue;
        };
        let wrote = write(txn, &subject, &value).await?;
        if wrote {
            changed.push(field.field.clone());
        }
        // The same value from the same source again changes nothing, not even the revision.
        if !wrote
            && before
                .is_some_and(|b| b.source == field.source && b.register_id == field.register_id)
        {
            continue;
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
    // A new revision: a value or where it came from changed.
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

/// A fingerprint of an organisation's name (SHA-256, hex): compared, never read back.
pub fn fingerprint_name(name: Option<&str>) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(name.unwrap_or_default().as_bytes()))
}

/// A fingerprint of an address list, in order. Lines are taken as stored (joined by line
/// breaks), so a list as written and as read back fingerprint alike.
pub fn fingerprint_addresses(list: &[Address]) -> String {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    for a in list {
        let lines = a.lines.join("\n");
        for part in [&lines, &a.postal_code, &a.post_office, &a.country_code] {
            digest.update(part.as_bytes());
            digest.update([0]);
        }
        digest.update([1]);
    }
    hex::encode(digest.finalize())
}

async fn current_fingerprint(
    txn: &DatabaseTransaction,
    subject: &subjects::Model,
    field: &str,
) -> Result<String, ServiceError> {
    Ok(match field {
        "organisation.name" => fingerprint_name(subject.name.as_deref()),
        _ => fingerprint_addresses(&store::postal_addresses(txn, &subject.id).await?),
    })
}

/// Whether the subject holds no value for `field` now.
async fn is_empty(
    txn: &DatabaseTransaction,
    subject: &subjects::Model,
    field: &str,
) -> Result<bool, ServiceError> {
    Ok(match field {
        "organisation.name" => subject.name.as_deref().is_none_or(str::is_empty),
        "organisation.addresses" => !store::has_postal_addresses(txn, &subject.id).await?,
        _ => false,
    })
}

/// A proposed value, checked as this service checks what clients write.
enum Value {
    Name(String),
    Addresses(Vec<Address>),
}

impl Value {
    /// The value, checked as a client's write of the field is; an address that fails is left
    /// out on its own (the others stay), and a value with nothing valid is `None`.
    fn of(field: &EnrichedField) -> Option<Value> {
        use crate::domain::{MAX_TEXT, address, text};
        use rekisteri_platform::error::FieldViolations;
        match field.field.as_str() {
            "organisation.name" => {
                let mut v = FieldViolations::new();
                let name = text(&field.text, "organisation.name", true, MAX_TEXT, &mut v);
                if !v.is_empty() {
                    tracing::info!(violations = ?v.iter().collect::<Vec<_>>(), "an enriched name that fails validation");
                }
                v.is_empty().then_some(Value::Name(name))
            }
            "organisation.addresses" => {
                let list: Vec<Address> = field
                    .addresses
                    .iter()
                    .enumerate()
                    .filter_map(|(i, a)| {
                        let mut v = FieldViolations::new();
                        let checked = address(a, &format!("addresses[{i}]"), &mut v);
                        if !v.is_empty() {
                            tracing::info!(violations = ?v.iter().collect::<Vec<_>>(), "an enriched address that fails validation: left out");
                        }
                        v.is_empty().then_some(checked)
                    })
                    .collect();
                (!list.is_empty()).then_some(Value::Addresses(list))
            }
            _ => None,
        }
    }
}

/// Writes one value; whether it changed what was stored.
async fn write(
    txn: &DatabaseTransaction,
    subject: &subjects::Model,
    value: &Value,
) -> Result<bool, ServiceError> {
    match value {
        Value::Name(name) => {
            if subject.name.as_deref() == Some(name.as_str()) {
                return Ok(false);
            }
            store::write_organisation_name(txn, &subject.id, name).await?;
            Ok(true)
        }
        Value::Addresses(list) => store::write_organisation_addresses(txn, &subject.id, list).await,
    }
}
