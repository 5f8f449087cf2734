//! The service's work: a lookup is allowed only for a register that declares the source (and,
//! for a subject, only for a register the subject is held in); every answer is recorded with
//! its provenance; a subject's enrichment proposes field values with their source and is
//! published as an event. Requests from the customer service's events are done by a worker,
//! once each, outside any database transaction.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rekisteri_platform::db::Db;
use rekisteri_platform::error::ServiceError;
use rekisteri_platform::outbox::{self, OutboxSignal};
use rekisteri_proto::common::v1 as common;
use rekisteri_proto::events::v1::{EnrichedField, EnrichmentCompleted, event_envelope::Payload};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::adapters::prh::{AddressKind, Business, Status};
use crate::adapters::{AdapterError, Answer, Query};
use crate::entity::{provenance, requests};
use crate::events;
use crate::registers::{Registers, SubjectRef, Subjects};
use crate::resilience::{CallError, Fetched};
use crate::sources::{Source, Sources};

/// Why and for whom a lookup is made.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub register_id: String,
    pub subject_id: String,
    pub reference: String,
    /// The principal of an RPC, or `event:<id>`.
    pub requested_by: String,
}

/// A subject's enrichment: proposed values, why a declared source gave none, and the
/// provenance records to store.
#[derive(Debug, Clone, Default)]
pub struct Enriched {
    pub fields: Vec<EnrichedField>,
    pub notes: Vec<String>,
    pub records: Vec<provenance::Model>,
}

#[derive(Debug, Clone)]
pub struct Enricher {
    db: Db,
    outbox: OutboxSignal,
    sources: Sources,
    registers: Registers,
    subjects: Subjects,
    wake: Arc<Notify>,
}

/// Attempts at an event's request before it is answered with the failure.
const MAX_ATTEMPTS: i32 = 20;
/// How long a worker holds a claimed request before another may take it.
const LEASE: Duration = Duration::from_secs(300);

impl Enricher {
    pub fn new(
        db: Db,
        outbox: OutboxSignal,
        sources: Sources,
        registers: Registers,
        subjects: Subjects,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            outbox,
            sources,
            registers,
            subjects,
            wake,
        }
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    /// The source named `name`, or FAILED_PRECONDITION saying it is not configured.
    pub fn source(&self, name: &str) -> Result<&Source, ServiceError> {
        self.sources.by_name(name).ok_or_else(|| {
            let key = if ["prh", "credit", "contacts", "opt_out"].contains(&name) {
                format!("enrichment.{name}.enabled")
            } else {
                format!("enrichment.external.{name}.enabled")
            };
            ServiceError::FailedPrecondition(format!(
                "the source `{name}` is not enabled here ({key}); enabled: {}",
                self.sources
                    .all()
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// The register must declare the source; with a subject, the subject must be held in it.
    pub async fn allowed(&self, source: &Source, context: &Context) -> Result<(), ServiceError> {
        let declared = self.registers.published(&context.register_id).await?;
        if !declared.declares(source) {
            let names: Vec<String> = declared
                .sources
                .iter()
                .filter(|d| !d.organisation_name.is_empty())
                .map(|d| d.organisation_name.clone())
                .collect();
            return Err(ServiceError::FailedPrecondition(format!(
                "register {} ({}) does not declare `{}` as a regular source (it declares: {}); a lookup is made only for a register that declares the source",
                declared.register_id,
                declared.name,
                source.name,
                if names.is_empty() {
                    "no external sources".into()
                } else {
                    names.join("; ")
                }
            )));
        }
        if !context.subject_id.is_empty() {
            let subject = self.subjects.get(&context.subject_id).await?;
            if !subject.register_ids.contains(&context.register_id) {
                return Err(ServiceError::FailedPrecondition(format!(
                    "subject {} is not held in register {}",
                    context.subject_id, context.register_id
                )));
            }
        }
        Ok(())
    }

    /// Checks, asks the source, records the provenance. `fields` names what the answer
    /// supplied.
    pub async fn lookup(
        &self,
        source: &Source,
        query: &Query,
        context: &Context,
        fields: impl FnOnce(&Answer) -> Vec<String>,
    ) -> Result<(Fetched, provenance::Model), ServiceError> {
        self.allowed(source, context).await?;
        let fetched = call(source, query).await?;
        let record = record(source, &fetched, context, fields(&fetched.answer));
        provenance::Entity::insert(provenance::ActiveModel::from(record.clone()))
            .exec_without_returning(self.db.writer())
            .await?;
        Ok((fetched, record))
    }

    /// Proposes values for a subject's fields from the sources its registers declare. Only
    /// organisations with a business ID are enriched from the business register; the other
    /// sources answer direct lookups (a credit check needs a purpose, an opt-out check a
    /// number).
    pub async fn enrich(
        &self,
        subject: &SubjectRef,
        requested_by: &str,
        reference: &str,
    ) -> Result<Enriched, ServiceError> {
        let mut enriched = Enriched::default();
        if subject.kind != "organisation" || subject.business_id.is_empty() {
            enriched.notes.push(
                "only organisations with a business ID are enriched from the business register"
                    .into(),
            );
            return Ok(enriched);
        }
        let Some(prh) = self.sources.by_kind("prh") else {
            enriched
                .notes
                .push("no business register source (prh) is enabled".into());
            return Ok(enriched);
        };
        let mut register = None;
        for id in &subject.register_ids {
            match self.registers.published(id).await {
                Ok(declared) if declared.declares(prh) => {
                    register = Some(declared);
                    break;
                }
                Ok(_) => {}
                Err(ServiceError::FailedPrecondition(why)) => enriched.notes.push(why),
                Err(e) => return Err(e),
            }
        }
        let Some(register) = register else {
            enriched.notes.push(format!(
                "{}: none of the subject's registers declares it as a regular source",
                prh.name
            ));
            return Ok(enriched);
        };
        let id = rekisteri_identifiers::BusinessId::parse(&subject.business_id).map_err(|e| {
            ServiceError::FailedPrecondition(format!("the subject's business ID: {e}"))
        })?;
        let fetched = call(prh, &Query::Business(id)).await?;
        let context = Context {
            register_id: register.register_id.clone(),
            subject_id: subject.subject_id.clone(),
            reference: reference.to_owned(),
            requested_by: requested_by.to_owned(),
        };
        let Answer::Business(business) = fetched.answer.as_ref() else {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "prh answered a business lookup with something else"
            )));
        };
        let Some(business) = business else {
            enriched.notes.push(format!(
                "{}: {} is not in the business register",
                prh.name, subject.business_id
            ));
            enriched
                .records
                .push(record(prh, &fetched, &context, vec![]));
            return Ok(enriched);
        };
        if let Some(status) = status_note(business) {
            enriched.notes.push(format!("{}: {status}", prh.name));
        }
        let record = record(prh, &fetched, &context, business_fields(business));
        // A sole trader's business name and address are a person's: they do not go into an
        // event. The provenance says the source was asked.
        if is_sole_trader(business) || business.company_form.is_empty() {
            enriched.notes.push(if business.company_form.is_empty() {
                format!(
                    "{}: {} has no company form stated: values are not proposed through events (a sole trader's would be a person's)",
                    prh.name, subject.business_id
                )
            } else {
                format!(
                    "{}: {} is a sole trader: a person's name and address are not proposed through events",
                    prh.name, subject.business_id
                )
            });
            enriched.records.push(record);
            return Ok(enriched);
        }
        let field = |name: &str| EnrichedField {
            field: name.into(),
            source: prh.name.clone(),
            provenance_id: record.provenance_id.clone(),
            fetched_time: Some(crate::convert::timestamp(fetched.fetched_at)),
            register_id: register.register_id.clone(),
            ..Default::default()
        };
        if !business.name.is_empty() {
            enriched.fields.push(EnrichedField {
                text: business.name.clone(),
                ..field("organisation.name")
            });
        }
        let addresses = postal_first(business);
        if !addresses.is_empty() {
            enriched.fields.push(EnrichedField {
                addresses,
                ..field("organisation.addresses")
            });
        }
        enriched.records.push(record);
        Ok(enriched)
    }

    /// Stores the provenance and publishes the result, in one transaction.
    /// Stores the provenance and publishes the result, in one transaction. `lease` fences a
    /// worker's request: when another worker has taken it since, nothing is written.
    pub async fn publish(
        &self,
        request_id: &str,
        subject: &SubjectRef,
        actor: &str,
        enriched: &Enriched,
        lease: Option<&requests::Model>,
    ) -> Result<(), ServiceError> {
        let txn = self.db.begin().await?;
        if let Some(request) = lease {
            let done = requests::Entity::update_many()
                .col_expr(requests::Column::State, Expr::value("done"))
                .col_expr(requests::Column::DoneAt, Expr::value(Utc::now()))
                .filter(requests::Column::RequestId.eq(&request.request_id))
                .filter(requests::Column::State.eq("pending"))
                .filter(requests::Column::NextAttemptAt.eq(request.next_attempt_at))
                .exec(&txn)
                .await?;
            if done.rows_affected != 1 {
                txn.rollback().await?;
                return Err(ServiceError::Aborted(
                    "the request's lease ran out and another worker took it".into(),
                ));
            }
        }
        if !enriched.records.is_empty() {
            provenance::Entity::insert_many(
                enriched
                    .records
                    .iter()
                    .cloned()
                    .map(provenance::ActiveModel::from),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        let envelope = outbox::envelope(
            events::SOURCE,
            events::COMPLETED_TYPE,
            actor,
            Payload::EnrichmentCompleted(EnrichmentCompleted {
                request_id: request_id.to_owned(),
                subject_id: subject.subject_id.clone(),
                fields: enriched.fields.clone(),
                notes: enriched.notes.clone(),
                business_id: (!subject.business_id.is_empty()).then(|| common::BusinessId {
                    value: subject.business_id.clone(),
                }),
                subject_etag: subject.etag.clone(),
            }),
        );
        outbox::enqueue(&txn, events::COMPLETED, &envelope).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(())
    }

    /// Does the requests the customer service's events asked for, until cancelled.
    pub async fn run_requests(self, cancel: CancellationToken) {
        loop {
            loop {
                match self.claim().await {
                    Ok(Some(request)) => self.process(request).await,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read enrichment requests");
                        break;
                    }
                }
                if cancel.is_cancelled() {
                    return;
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// The oldest due request, leased to this worker.
    async fn claim(&self) -> Result<Option<requests::Model>, sea_orm::DbErr> {
        use chrono::SubsecRound;
        // A replica that loses the race for one request looks at the next at once.
        for _ in 0..10 {
            let now = Utc::now();
            let due = requests::Entity::find()
                .filter(requests::Column::State.eq("pending"))
                .filter(requests::Column::NextAttemptAt.lte(now))
                .order_by_asc(requests::Column::CreatedAt)
                .one(self.db.reader())
                .await?;
            let Some(request) = due else {
                return Ok(None);
            };
            // Microseconds, as PostgreSQL keeps them: the lease is compared again when the
            // outcome is written.
            let lease = (now + LEASE).trunc_subsecs(6);
            let leased = requests::Entity::update_many()
                .col_expr(requests::Column::NextAttemptAt, Expr::value(lease))
                .filter(requests::Column::RequestId.eq(&request.request_id))
                .filter(requests::Column::NextAttemptAt.eq(request.next_attempt_at))
                .filter(requests::Column::State.eq("pending"))
                .exec(self.db.writer())
                .await?;
            if leased.rows_affected == 1 {
                return Ok(Some(requests::Model {
                    next_attempt_at: lease,
                    ..request
                }));
            }
        }
        Ok(None)
    }

    async fn process(&self, request: requests::Model) {
        let subject = SubjectRef {
            subject_id: request.subject_id.clone(),
            kind: request.kind.clone(),
            business_id: request.business_id.clone(),
            register_ids: request
                .register_ids
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            etag: request.subject_etag.clone(),
        };
        let requested_by = format!("event:{}", request.event_id);
        // Within the lease, with a margin to write the outcome: past it another worker may
        // take the request.
        let work = tokio::time::timeout(LEASE - Duration::from_secs(30), async {
            self.enrich(&subject, &requested_by, "").await
        });
        let outcome = match work.await {
            Ok(Ok(enriched)) => Ok(enriched),
            Ok(Err(e @ (ServiceError::Unavailable(_) | ServiceError::Internal(_))))
                if request.attempts + 1 < MAX_ATTEMPTS =>
            {
                // Worth another try: a source, the catalogue or the database is away.
                Err(e.to_string())
            }
            Err(_) if request.attempts + 1 < MAX_ATTEMPTS => {
                Err("took longer than the request's lease".to_owned())
            }
            // Answered with why: nothing will change by trying again.
            Ok(Err(e)) => Ok(Enriched {
                notes: vec![format!("not enriched: {e}")],
                ..Default::default()
            }),
            Err(_) => Ok(Enriched {
                notes: vec!["not enriched: every attempt took longer than its lease".into()],
                ..Default::default()
            }),
        };
        let result = match outcome {
            Ok(enriched) => {
                self.publish(
                    &request.request_id,
                    &subject,
                    &requested_by,
                    &enriched,
                    Some(&request),
                )
                .await
            }
            Err(error) => {
                let attempts = request.attempts + 1;
                let delay = Duration::from_secs(2u64.pow(attempts.clamp(1, 9) as u32).min(600));
                tracing::warn!(request_id = %request.request_id, attempts, ?delay, error, "enrichment request failed; trying again later");
                requests::Entity::update_many()
                    .col_expr(requests::Column::Attempts, Expr::value(attempts))
                    .col_expr(requests::Column::LastError, Expr::value(error))
                    .col_expr(
                        requests::Column::NextAttemptAt,
                        Expr::value(Utc::now() + delay),
                    )
                    .filter(requests::Column::RequestId.eq(&request.request_id))
                    .filter(requests::Column::State.eq("pending"))
                    .filter(requests::Column::NextAttemptAt.eq(request.next_attempt_at))
                    .exec(self.db.writer())
                    .await
                    .map(drop)
                    .map_err(ServiceError::from)
            }
        };
        if let Err(e) = result {
            // The lease runs out and the request is tried again (or another worker has it).
            tracing::warn!(request_id = %request.request_id, error = %e, "cannot record an enrichment request's outcome");
        }
    }
}

/// Stores a request from an event; a request seen before changes nothing.
pub async fn accept_request<C: ConnectionTrait>(
    txn: &C,
    event_id: &str,
    request: &rekisteri_proto::events::v1::EnrichmentRequested,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    requests::Entity::insert(requests::ActiveModel {
        request_id: Set(request.request_id.clone()),
        event_id: Set(event_id.to_owned()),
        subject_id: Set(request.subject_id.clone()),
        kind: Set(request.kind.clone()),
        business_id: Set(request
            .business_id
            .as_ref()
            .map(|b| b.value.clone())
            .unwrap_or_default()),
        register_ids: Set(request.register_ids.join(" ")),
        subject_etag: Set(request.subject_etag.clone()),
        state: Set("pending".into()),
        attempts: Set(0),
        last_error: Set(String::new()),
        created_at: Set(now),
        next_attempt_at: Set(now),
        done_at: Set(None),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(requests::Column::RequestId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// A guarded call, its failures as service errors. A source rejecting this service's own
/// configuration is the operator's to fix: logged in full, answered as the source being
/// unavailable.
pub async fn call(source: &Source, query: &Query) -> Result<Fetched, ServiceError> {
    source.guarded.call(query).await.map_err(|e| match e {
        CallError::CircuitOpen(why) => ServiceError::Unavailable(format!("{}: {why}", source.name)),
        CallError::Adapter(AdapterError::Transient { message, .. }) => {
            ServiceError::Unavailable(format!("{}: {message}; retry later", source.name))
        }
        CallError::Adapter(AdapterError::Malformed(why) | AdapterError::Throttled(why)) => {
            ServiceError::Unavailable(format!("{}: {why}", source.name))
        }
        CallError::Adapter(AdapterError::Misconfigured(why)) => {
            tracing::error!(source = %source.name, error = %why, "a source rejects this service's configuration");
            ServiceError::Unavailable(format!(
                "{}: not usable now (it rejects this service's configuration; the server log says how)",
                source.name
            ))
        }
        CallError::Adapter(AdapterError::Refused(why) | AdapterError::Unsupported(why)) => {
            ServiceError::FailedPrecondition(format!("{}: {why}", source.name))
        }
    })
}

fn record(
    source: &Source,
    fetched: &Fetched,
    context: &Context,
    fields: Vec<String>,
) -> provenance::Model {
    provenance::Model {
        provenance_id: uuid::Uuid::now_v7().to_string(),
        source: source.name.clone(),
        fetched_at: fetched.fetched_at,
        recorded_at: Utc::now(),
        cached: fetched.cached,
        register_id: context.register_id.clone(),
        subject_id: context.subject_id.clone(),
        reference: context.reference.clone(),
        requested_by: context.requested_by.clone(),
        fields: fields.join(" "),
    }
}

/// The fields a business answer supplied.
pub fn business_fields(b: &Business) -> Vec<String> {
    let mut fields = vec!["business_id".to_owned()];
    let mut add = |present: bool, name: &str| {
        if present {
            fields.push(name.to_owned());
        }
    };
    add(!b.name.is_empty(), "name");
    add(!b.other_names.is_empty(), "other_names");
    add(!b.addresses.is_empty(), "addresses");
    add(!b.business_line_code.is_empty(), "business_line");
    add(!b.company_form.is_empty(), "company_form");
    add(b.status != Status::Unspecified, "status");
    add(!b.registration_date.is_empty(), "registration_date");
    fields
}

/// A sole trader (yksityinen elinkeinonharjoittaja, enskild näringsidkare), by the company
/// form PRH names.
pub fn is_sole_trader(b: &Business) -> bool {
    b.company_form.iter().any(|(_, text)| {
        let text = text.to_lowercase();
        text.contains("elinkeinonharjoittaja")
            || text.contains("näringsidkare")
            || text.contains("sole trader")
            || text.contains("private trader")
    })
}

fn status_note(b: &Business) -> Option<String> {
    match b.status {
        Status::Active | Status::Unspecified => None,
        Status::Liquidation => Some(format!("{} is in liquidation", b.business_id)),
        Status::Bankruptcy => Some(format!("{} is bankrupt", b.business_id)),
        Status::Restructuring => Some(format!("{} is in restructuring", b.business_id)),
        Status::Ceased => Some(format!("{} has ceased", b.business_id)),
    }
}

/// The postal address first (where letters go), then the visiting address.
fn postal_first(b: &Business) -> Vec<common::PostalAddress> {
    let mut addresses: Vec<&crate::adapters::prh::Address> = b.addresses.iter().collect();
    addresses.sort_by_key(|a| a.kind != AddressKind::Postal);
    addresses
        .into_iter()
        .map(crate::convert::postal_address)
        .collect()
}
