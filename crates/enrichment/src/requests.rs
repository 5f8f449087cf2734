//! The durable consumer of the customer service's enrichment requests. It only stores each
//! request (once: a redelivery finds it stored); the enricher's worker does it, outside the
//! consumer's transaction, so that a slow source never holds the database's write lock.

use std::sync::Arc;

use rekisteri_platform::inbox::{ConsumerSpec, EventHandler, HandlerError};
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use sea_orm::DatabaseTransaction;
use tokio::sync::Notify;

pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec {
        stream: rekisteri_customers::events::STREAM,
        durable: "enrichment-requests".into(),
        filter_subject: rekisteri_customers::events::ENRICHMENT_REQUESTED.into(),
        max_deliver: 10,
        ack_wait: std::time::Duration::from_secs(30),
    }
}

#[derive(Debug, Clone)]
pub struct Requests {
    /// Wakes the worker (it also looks every second, for a request committed after the wake).
    pub wake: Arc<Notify>,
}

impl EventHandler for Requests {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let Some(Payload::EnrichmentRequested(request)) = &event.payload else {
            return Ok(());
        };
        if request.request_id.is_empty() || request.subject_id.is_empty() {
            return Err(HandlerError::Reject(anyhow::anyhow!(
                "an enrichment request without request_id or subject_id"
            )));
        }
        crate::enricher::accept_request(txn, &event.event_id, request).await?;
        self.wake.notify_one();
        Ok(())
    }
}
