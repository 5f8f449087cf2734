//! `rekisteri.operations.v1.OperationsService`: what an operator asks of one service — its status,
//! its parked outbox events, its dead letters — served by every service for its own database.

use chrono::{DateTime, Utc};
use rekisteri_proto::operations::v1 as pb;
use rekisteri_proto::operations::v1::operations_service_server::OperationsService;
use tonic::{Request, Response, Status};

use crate::auth::{Principal, RoleTable};
use crate::db::Db;
use crate::error::{FieldViolations, ServiceError};
use crate::inbox::{self, Consumer};
use crate::outbox::{self, OutboxSignal};

/// The role every operations call needs (`admin` holds it too).
pub const OPERATOR_ROLE: &str = "operator";

pub const SERVICE_NAME: &str = "rekisteri.operations.v1.OperationsService";

pub const ROLES: RoleTable = RoleTable {
    service: SERVICE_NAME,
    methods: &[
        ("GetStatus", OPERATOR_ROLE),
        ("ListParkedEvents", OPERATOR_ROLE),
        ("RetryParkedEvents", OPERATOR_ROLE),
        ("ListDeadLetters", OPERATOR_ROLE),
        ("ReplayDeadLetters", OPERATOR_ROLE),
    ],
};

/// An outside dependency as the service reports it (`rekisteri status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub state: String,
    pub detail: String,
}

/// Reports a service's outside dependencies when asked.
pub type DependencyReport = std::sync::Arc<dyn Fn() -> Vec<Dependency> + Send + Sync>;

/// A service's state as operators and health see it.
#[derive(Debug, Clone)]
pub struct ServiceStatus {
    pub database_reachable: bool,
    pub nats_state: &'static str,
    pub outbox: outbox::OutboxStatus,
    pub dead_letters: u64,
}

#[derive(Clone)]
pub struct Operations {
    pub(crate) service: &'static str,
    pub(crate) db: Db,
    pub(crate) nats: async_nats::Client,
    pub(crate) outbox: OutboxSignal,
    pub(crate) consumers: Vec<Consumer>,
    pub(crate) dependencies: Option<DependencyReport>,
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations")
            .field("service", &self.service)
            .field("consumers", &self.consumers)
            .finish_non_exhaustive()
    }
}

impl Operations {
    pub async fn status(&self) -> Result<ServiceStatus, ServiceError> {
        let database_reachable = self.db.is_reachable().await;
        let (outbox, dead_letters) = if database_reachable {
            (
                outbox::status(self.db.reader()).await?,
                inbox::dead_letter_count(self.db.reader()).await?,
            )
        } else {
            Default::default()
        };
        Ok(ServiceStatus {
            database_reachable,
            nats_state: crate::nats::state(&self.nats),
            outbox,
            dead_letters,
        })
    }
}

fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

fn page_size(size: i32) -> Result<u64, ServiceError> {
    let mut v = FieldViolations::new();
    if !(0..=1000).contains(&size) {
        v.add("page_size", "between 0 (the default, 100) and 1000");
    }
    v.into_result(if size == 0 { 100 } else { size as u64 })
}

/// Either some ids or `all`, never neither (an empty request must not act on everything).
fn selection(ids: &[String], all: bool, field: &str) -> Result<Vec<String>, ServiceError> {
    let mut v = FieldViolations::new();
    match (ids.is_empty(), all) {
        (true, false) => v.add(field, "name at least one, or set `all`"),
        (false, true) => v.add("all", format!("`all` goes without {field}")),
        _ => {}
    }
    v.into_result(ids.to_vec())
}

#[tonic::async_trait]
impl OperationsService for Operations {
    async fn get_status(
        &self,
        request: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::GetStatusResponse>, Status> {
        Principal::of(&request)?;
        let status = self.status().await?;
        let now = Utc::now();
        Ok(Response::new(pb::GetStatusResponse {
            service: self.service.to_owned(),
            database_reachable: status.database_reachable,
            nats_state: status.nats_state.to_owned(),
            outbox_pending: status.outbox.pending as i64,
            oldest_pending_time: status.outbox.oldest_pending.map(timestamp),
            oldest_pending_age_seconds: status
                .outbox
                .oldest_pending
                .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0),
            outbox_parked: status.outbox.parked as i64,
            dead_letters: status.dead_letters as i64,
            consumers: self
                .consumers
                .iter()
                .map(|c| c.spec().durable.clone())
                .collect(),
            dependencies: self
                .dependencies
                .as_ref()
                .map(|report| report())
                .unwrap_or_default()
                .into_iter()
                .map(|d| pb::Dependency {
                    name: d.name,
                    state: d.state,
                    detail: d.detail,
                })
                .collect(),
        }))
    }

    async fn list_parked_events(
        &self,
        request: Request<pb::ListParkedEventsRequest>,
    ) -> Result<Response<pb::ListParkedEventsResponse>, Status> {
        Principal::of(&request)?;
        let limit = page_size(request.get_ref().page_size)?;
        let rows = outbox::list_parked(self.db.reader(), limit)
            .await
            .map_err(ServiceError::from)?;
        let total = outbox::parked_count(self.db.reader())
            .await
            .map_err(ServiceError::from)?;
        Ok(Response::new(pb::ListParkedEventsResponse {
            events: rows
                .into_iter()
                .map(|r| pb::ParkedEvent {
                    event_id: r.id,
                    subject: r.subject,
                    attempts: r.attempts,
                    last_error: r.last_error.unwrap_or_default(),
                    create_time: Some(timestamp(r.created_at)),
                    park_time: r.parked_at.map(timestamp),
                })
                .collect(),
            total_size: total as i64,
        }))
    }

    async fn retry_parked_events(
        &self,
        request: Request<pb::RetryParkedEventsRequest>,
    ) -> Result<Response<pb::RetryParkedEventsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let ids = selection(&req.event_ids, req.all, "event_ids")?;
        let retried = outbox::retry_parked(self.db.writer(), &ids)
            .await
            .map_err(ServiceError::from)?;
        self.outbox.notify();
        tracing::info!(actor = %principal.subject, retried, "parked outbox events put back in line");
        Ok(Response::new(pb::RetryParkedEventsResponse {
            retried: retried as i64,
        }))
    }

    async fn list_dead_letters(
        &self,
        request: Request<pb::ListDeadLettersRequest>,
    ) -> Result<Response<pb::ListDeadLettersResponse>, Status> {
        Principal::of(&request)?;
        let limit = page_size(request.get_ref().page_size)?;
        let rows = inbox::list_dead_letters(self.db.reader(), limit)
            .await
            .map_err(ServiceError::from)?;
        let total = inbox::dead_letter_count(self.db.reader())
            .await
            .map_err(ServiceError::from)?;
        Ok(Response::new(pb::ListDeadLettersResponse {
            dead_letters: rows
                .into_iter()
                .map(|r| pb::DeadLetter {
                    dead_letter_id: r.id,
                    consumer: r.consumer,
                    event_id: r.event_id,
                    subject: r.subject,
                    error: r.error,
                    deliveries: r.deliveries,
                    create_time: Some(timestamp(r.created_at)),
                })
                .collect(),
            total_size: total as i64,
        }))
    }

    async fn replay_dead_letters(
        &self,
        request: Request<pb::ReplayDeadLettersRequest>,
    ) -> Result<Response<pb::ReplayDeadLettersResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let ids = selection(&req.dead_letter_ids, req.all, "dead_letter_ids")?;
        let outcomes = inbox::replay_dead_letters(&self.db, &self.outbox, &self.consumers, &ids)
            .await
            .map_err(ServiceError::from)?;
        let applied = outcomes.iter().filter(|o| o.error.is_none()).count();
        tracing::info!(actor = %principal.subject, applied, failed = outcomes.len() - applied, "dead letters replayed");
        Ok(Response::new(pb::ReplayDeadLettersResponse {
            outcomes: outcomes
                .into_iter()
                .map(|o| pb::ReplayOutcome {
                    dead_letter_id: o.id,
                    applied: o.error.is_none(),
                    error: o.error.unwrap_or_default(),
                })
                .collect(),
        }))
    }
}
