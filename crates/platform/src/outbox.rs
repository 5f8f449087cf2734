//! Transactional outbox: an event is written to `outbox_events` in the same database transaction as
//! the change it describes, and [`OutboxRelay`] publishes it to JetStream afterwards.
//!
//! The relay sets `Nats-Msg-Id` to the event id, waits for the stream's PubAck, and only then marks
//! the row sent. A crash between the PubAck and the mark, or NATS going away mid-publish, makes the
//! relay publish the row again; JetStream's duplicate window drops the copy, so each event lands on
//! the stream once. While NATS is unreachable rows simply wait: writes keep being accepted.

use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use chrono::Utc;
use prost::Message as _;
use rekisteri_proto::common::v1::Actor;
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::OutboxConfig;
use crate::telemetry;

/// A JetStream stream a service publishes to, declared in code and created on first use.
#[derive(Debug, Clone, Copy)]
pub struct StreamSpec {
    pub name: &'static str,
    pub subjects: &'static [&'static str],
}

impl StreamSpec {
    /// Creates the stream, or returns the existing one. File storage, so that nothing acknowledged
    /// is lost when NATS restarts; a two-minute duplicate window for relay retries.
    pub async fn ensure(
        &self,
        js: &jetstream::Context,
    ) -> anyhow::Result<jetstream::stream::Stream> {
        let config = jetstream::stream::Config {
            name: self.name.to_owned(),
            subjects: self.subjects.iter().map(|s| s.to_string()).collect(),
            storage: jetstream::stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        Ok(js.get_or_create_stream(config).await?)
    }
}

pub mod entity {
    //! `outbox_events`: events waiting for (or done with) publication.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_events")]
    pub struct Model {
        /// The event id (UUIDv7); also the `Nats-Msg-Id`. Its order is the publication order.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub subject: String,
        /// The encoded `EventEnvelope`.
        pub payload: Vec<u8>,
        pub traceparent: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub sent_at: Option<ChronoDateTimeUtc>,
        /// The stream sequence JetStream assigned.
        pub stream_sequence: Option<i64>,
        pub attempts: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod migration {
    //! The `outbox_events` table; every publishing service includes this migration.
    use sea_orm_migration::prelude::*;

    #[derive(Debug)]
    pub struct Migration;

    impl MigrationName for Migration {
        // Explicit and dated: the name is what the migrations table records, so it must never change.
        fn name(&self) -> &str {
            "m20261122_000001_create_outbox_events"
        }
    }

    #[derive(DeriveIden)]
    enum OutboxEvents {
        Table,
        Id,
        Subject,
        Payload,
        Traceparent,
        CreatedAt,
        SentAt,
        StreamSequence,
        Attempts,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(OutboxEvents::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(OutboxEvents::Id)
                                .string_len(36)
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(OutboxEvents::Subject).string().not_null())
                        .col(ColumnDef::new(OutboxEvents::Payload).blob().not_null())
                        .col(ColumnDef::new(OutboxEvents::Traceparent).string())
                        .col(
                            ColumnDef::new(OutboxEvents::CreatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .col(ColumnDef::new(OutboxEvents::SentAt).timestamp_with_time_zone())
                        .col(ColumnDef::new(OutboxEvents::StreamSequence).big_integer())
                        .col(
                            ColumnDef::new(OutboxEvents::Attempts)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("outbox_events_unsent")
                        .table(OutboxEvents::Table)
                        .col(OutboxEvents::SentAt)
                        .col(OutboxEvents::Id)
                        .if_not_exists()
                        .to_owned(),
                )
                .await
        }
    }
}

/// Builds an envelope with a fresh UUIDv7 id, the current time and the acting principal.
pub fn envelope(
    source_service: &str,
    event_type: &str,
    actor: &str,
    payload: Payload,
) -> EventEnvelope {
    let now = Utc::now();
    EventEnvelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        event_type: event_type.to_owned(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: now.timestamp_subsec_nanos() as i32,
        }),
        source_service: source_service.to_owned(),
        actor: Some(Actor {
            subject: actor.to_owned(),
        }),
        payload: Some(payload),
    }
}

/// Writes `event` to the outbox on `txn`, the transaction that makes the change it describes.
/// Call [`OutboxSignal::notify`] after the commit so the relay publishes at once.
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    subject: &str,
    event: &EventEnvelope,
) -> Result<(), DbErr> {
    entity::ActiveModel {
        id: Set(event.event_id.clone()),
        subject: Set(subject.to_owned()),
        payload: Set(event.encode_to_vec()),
        traceparent: Set(telemetry::current_traceparent()),
        created_at: Set(Utc::now()),
        sent_at: Set(None),
        stream_sequence: Set(None),
        attempts: Set(0),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Wakes the relay after a commit that enqueued events.
#[derive(Debug, Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

/// Publishes the outbox to JetStream until cancelled.
#[derive(Debug)]
pub struct OutboxRelay {
    db: DatabaseConnection,
    jetstream: jetstream::Context,
    stream: StreamSpec,
    signal: OutboxSignal,
    config: OutboxConfig,
}

impl OutboxRelay {
    pub fn new(
        db: DatabaseConnection,
        jetstream: jetstream::Context,
        stream: StreamSpec,
        signal: OutboxSignal,
        config: OutboxConfig,
    ) -> Self {
        Self {
            db,
            jetstream,
            stream,
            signal,
            config,
        }
    }

    pub async fn run(self, cancel: CancellationToken) {
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        let mut backoff = Backoff::new();
        // The stream must exist before the first publish; NATS may not be up yet.
        loop {
            match self.stream.ensure(&self.jetstream).await {
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(stream = self.stream.name, error = %err, "cannot declare stream yet; retrying");
                    if sleep_or_cancel(backoff.next(), &cancel).await {
                        return;
                    }
                }
            }
        }
        backoff.reset();
        loop {
            match self.publish_batch().await {
                Ok(n) if n as u64 >= self.config.batch_size => continue,
                Ok(_) => {
                    backoff.reset();
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = self.signal.0.notified() => {}
                        _ = tokio::time::sleep(poll) => {}
                    }
                }
                Err(err) => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "outbox relay: publishing failed; will retry"
                    );
                    if sleep_or_cancel(backoff.next(), &cancel).await {
                        return;
                    }
                }
            }
        }
    }

    /// Publishes up to one batch of unsent events in id order; returns how many were published.
    async fn publish_batch(&self) -> anyhow::Result<usize> {
        use entity::Column;
        let pending = entity::Entity::find()
            .filter(Column::SentAt.is_null())
            .order_by_asc(Column::Id)
            .limit(self.config.batch_size)
            .all(&self.db)
            .await?;
        for (published, row) in pending.iter().enumerate() {
            if let Err(err) = self.publish_one(row).await {
                entity::Entity::update_many()
                    .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
                    .filter(Column::Id.eq(&row.id))
                    .exec(&self.db)
                    .await?;
                return if published == 0 {
                    Err(err)
                } else {
                    Ok(published)
                };
            }
        }
        Ok(pending.len())
    }

    async fn publish_one(&self, row: &entity::Model) -> anyhow::Result<()> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", row.id.as_str());
        if let Some(tp) = &row.traceparent {
            headers.insert(telemetry::TRACEPARENT, tp.as_str());
        }
        let ack = self
            .jetstream
            .publish_with_headers(row.subject.clone(), headers, row.payload.clone().into())
            .await?
            .await?;
        if ack.duplicate {
            tracing::debug!(event_id = %row.id, "event was already on the stream");
        }
        entity::Entity::update_many()
            .col_expr(entity::Column::SentAt, Expr::value(Utc::now()))
            .col_expr(
                entity::Column::StreamSequence,
                Expr::value(ack.sequence as i64),
            )
            .filter(entity::Column::Id.eq(&row.id))
            .exec(&self.db)
            .await?;
        tracing::debug!(event_id = %row.id, subject = %row.subject, sequence = ack.sequence, "event published");
        Ok(())
    }
}

/// How many events are still waiting for publication (for readiness and tests).
pub async fn pending_count(db: &DatabaseConnection) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    entity::Entity::find()
        .filter(entity::Column::SentAt.is_null())
        .count(db)
        .await
}

/// Exponential backoff from 100 ms to 5 s.
#[derive(Debug)]
pub(crate) struct Backoff(Duration);

impl Backoff {
    pub(crate) fn new() -> Self {
        Self(Duration::from_millis(100))
    }
    pub(crate) fn next(&mut self) -> Duration {
        let current = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        current
    }
    pub(crate) fn reset(&mut self) {
        *self = Self::new();
    }
}

/// Sleeps; true when cancelled first.
pub(crate) async fn sleep_or_cancel(duration: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => true,
        _ = tokio::time::sleep(duration) => false,
    }
}
