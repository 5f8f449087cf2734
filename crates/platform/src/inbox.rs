//! The idempotent JetStream consumer: a durable pull consumer with explicit acks, where each event
//! is handled inside a database transaction that also records it in `processed_events`. The message
//! is acked only after that commit, so a crash before the ack means a redelivery, and the
//! redelivery finds the event already processed and changes nothing.
//!
//! A handler failure naks the message with a growing delay; after `max_deliver` attempts, or when
//! the handler rejects the event as one it can never process, the message is terminated and logged.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use chrono::Utc;
use futures::StreamExt;
use prost::Message as _;
use rekisteri_proto::events::v1::EventEnvelope;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set, TransactionTrait,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::outbox::{Backoff, StreamSpec, sleep_or_cancel};
use crate::telemetry;

pub mod entity {
    //! `processed_events`: which events each consumer has already applied.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "processed_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub processed_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod migration {
    //! The `processed_events` table; every consuming service includes this migration.
    use sea_orm_migration::prelude::*;

    #[derive(Debug)]
    pub struct Migration;

    impl MigrationName for Migration {
        // Explicit and dated: the name is what the migrations table records, so it must never change.
        fn name(&self) -> &str {
            "m20261122_000001_create_processed_events"
        }
    }

    #[derive(DeriveIden)]
    enum ProcessedEvents {
        Table,
        Consumer,
        EventId,
        ProcessedAt,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(ProcessedEvents::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(ProcessedEvents::Consumer)
                                .string()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(ProcessedEvents::EventId)
                                .string_len(36)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(ProcessedEvents::ProcessedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .primary_key(
                            Index::create()
                                .col(ProcessedEvents::Consumer)
                                .col(ProcessedEvents::EventId),
                        )
                        .to_owned(),
                )
                .await
        }
    }
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth another try later (a dependency is away): the message is redelivered.
    #[error("retry: {0:#}")]
    Retry(anyhow::Error),
    /// Can never be applied (a malformed event): the message is terminated.
    #[error("reject: {0:#}")]
    Reject(anyhow::Error),
}

impl From<sea_orm::DbErr> for HandlerError {
    fn from(err: sea_orm::DbErr) -> Self {
        HandlerError::Retry(err.into())
    }
}

/// Applies one event inside the consumer's transaction. Do not commit it: the consumer does.
pub trait EventHandler: Send + Sync + 'static {
    fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Which events a consumer reads.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub stream: StreamSpec,
    /// The durable consumer's name, also the key in `processed_events`.
    pub durable: String,
    pub filter_subject: String,
    /// Deliveries before a failing message is terminated.
    pub max_deliver: i64,
    /// How long the server waits for an ack before redelivering.
    pub ack_wait: Duration,
}

/// Consumes until cancelled, reconnecting when NATS goes away.
pub async fn run_consumer<H: EventHandler>(
    jetstream: jetstream::Context,
    db: DatabaseConnection,
    spec: ConsumerSpec,
    handler: Arc<H>,
    cancel: CancellationToken,
) {
    let mut backoff = Backoff::new();
    loop {
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = consume(&jetstream, &db, &spec, handler.as_ref(), &mut backoff) => r,
        };
        if let Err(err) = result {
            tracing::warn!(consumer = %spec.durable, error = format!("{err:#}"), "consumer interrupted; reconnecting");
        }
        if sleep_or_cancel(backoff.next(), &cancel).await {
            return;
        }
    }
}

async fn consume<H: EventHandler>(
    jetstream: &jetstream::Context,
    db: &DatabaseConnection,
    spec: &ConsumerSpec,
    handler: &H,
    backoff: &mut Backoff,
) -> anyhow::Result<()> {
    let stream = spec.stream.ensure(jetstream).await?;
    let consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .get_or_create_consumer(
            &spec.durable,
            pull::Config {
                durable_name: Some(spec.durable.clone()),
                filter_subject: spec.filter_subject.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                max_deliver: spec.max_deliver,
                ack_wait: spec.ack_wait,
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;
    backoff.reset();
    while let Some(message) = messages.next().await {
        let message = message?;
        let traceparent = message
            .headers
            .as_ref()
            .and_then(|h| h.get(telemetry::TRACEPARENT))
            .map(|v| v.to_string());
        let span = tracing::info_span!("consume", consumer = %spec.durable, subject = %message.subject, event_id = tracing::field::Empty);
        telemetry::set_parent(&span, traceparent.as_deref());
        process(db, spec, handler, &message)
            .instrument(span)
            .await?;
    }
    Ok(())
}

async fn process<H: EventHandler>(
    db: &DatabaseConnection,
    spec: &ConsumerSpec,
    handler: &H,
    message: &jetstream::Message,
) -> anyhow::Result<()> {
    let ack = |kind| async move {
        message
            .ack_with(kind)
            .await
            .map_err(|e| anyhow::anyhow!("ack: {e}"))
    };
    let event = match EventEnvelope::decode(message.payload.clone()) {
        Ok(event) if !event.event_id.is_empty() => event,
        _ => {
            tracing::error!("not a Rekisteri event envelope; terminating the message");
            return ack(AckKind::Term).await;
        }
    };
    tracing::Span::current().record("event_id", event.event_id.as_str());
    let delivered = message.info().map(|i| i.delivered).unwrap_or(1);

    let txn = db.begin().await?;
    let key = (spec.durable.clone(), event.event_id.clone());
    if entity::Entity::find_by_id(key).one(&txn).await?.is_some() {
        txn.commit().await?;
        tracing::debug!("already processed; acking the redelivery");
        return message
            .double_ack()
            .await
            .map_err(|e| anyhow::anyhow!("ack: {e}"));
    }
    match handler.handle(&txn, &event).await {
        Ok(()) => {
            entity::ActiveModel {
                consumer: Set(spec.durable.clone()),
                event_id: Set(event.event_id.clone()),
                processed_at: Set(Utc::now()),
            }
            .insert(&txn)
            .await?;
            txn.commit().await?;
            message
                .double_ack()
                .await
                .map_err(|e| anyhow::anyhow!("ack: {e}"))
        }
        Err(HandlerError::Reject(err)) => {
            txn.rollback().await?;
            tracing::error!(
                error = format!("{err:#}"),
                "handler rejected the event; terminating the message"
            );
            ack(AckKind::Term).await
        }
        Err(HandlerError::Retry(err)) if delivered >= spec.max_deliver => {
            txn.rollback().await?;
            tracing::error!(
                error = format!("{err:#}"),
                delivered,
                "handler failed on the last delivery; terminating"
            );
            ack(AckKind::Term).await
        }
        Err(HandlerError::Retry(err)) => {
            txn.rollback().await?;
            let delay = Duration::from_millis(200 * 2u64.pow(delivered.clamp(1, 8) as u32 - 1));
            tracing::warn!(
                error = format!("{err:#}"),
                delivered,
                ?delay,
                "handler failed; redelivering later"
            );
            ack(AckKind::Nak(Some(delay))).await
        }
    }
}
