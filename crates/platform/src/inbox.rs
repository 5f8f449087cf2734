//! The idempotent JetStream consumer: a durable pull consumer with explicit acks, where each event
//! is applied inside one database transaction that first records its id in `processed_events`.
//!
//! - **Once per event.** The id is inserted before the handler runs, with "do nothing on
//!   conflict": of two deliveries of one event running at once (a redelivery racing a slow first
//!   attempt, or two replicas), one inserts and applies, the other finds the row (PostgreSQL makes
//!   it wait for the first to commit) and changes nothing. The message is acked only after the
//!   commit, so a crash before the ack means a redelivery that changes nothing.
//! - **Nothing dropped silently.** A handler failure naks with a growing delay; when the deliveries
//!   run out, or the handler rejects the event as one it can never apply, the message goes to the
//!   `dead_letters` table with its error before it is terminated. The delivery limit is counted
//!   here, not by the server (its `max_deliver` is unlimited), so if even that insert fails (the
//!   database is away) the message is naked and comes back later. Operators list and replay dead
//!   letters.
//! - **Small pulls.** Messages are pulled eight at a time, so that a message rarely waits in the
//!   local buffer past its `ack_wait` (it would if eight handlers together took longer than that;
//!   a redelivery then changes nothing, but counts as a delivery).
//! - **Long handlers** send in-progress acks so the server does not redeliver while they work.
//! - **Order.** Events of one aggregate can arrive out of order (a retried publication, a
//!   redelivery after a nak): handlers compare versions instead of trusting arrival order.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use prost::Message as _;
use rekisteri_proto::events::v1::EventEnvelope;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::db::Db;
use crate::outbox::{Backoff, OutboxSignal, StreamSpec, sleep_or_cancel, subject_matches};
use crate::{metrics, telemetry};

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

pub mod dead_letter {
    //! `dead_letters`: messages a consumer could not apply, kept for an operator.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dead_letters")]
    pub struct Model {
        /// UUIDv7 of the dead letter itself.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub consumer: String,
        /// Empty when the message was not an event envelope at all.
        pub event_id: String,
        pub subject: String,
        pub payload: Vec<u8>,
        pub error: String,
        pub deliveries: i64,
        pub created_at: ChronoDateTimeUtc,
        /// Set when a replay applied it.
        pub replayed_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod migration {
    //! The `processed_events` and `dead_letters` tables; every service includes these migrations
    //! (through [`crate::migrations`]).
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

    #[derive(DeriveIden)]
    enum DeadLetters {
        Table,
        Id,
        Consumer,
        EventId,
        Subject,
        Payload,
        Error,
        Deliveries,
        CreatedAt,
        ReplayedAt,
    }

    #[derive(Debug)]
    pub struct DeadLettersMigration;

    impl MigrationName for DeadLettersMigration {
        fn name(&self) -> &str {
            "m20261123_000002_create_dead_letters"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for DeadLettersMigration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(DeadLetters::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(DeadLetters::Id)
                                .string_len(36)
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(DeadLetters::Consumer).string().not_null())
                        .col(ColumnDef::new(DeadLetters::EventId).string().not_null())
                        .col(ColumnDef::new(DeadLetters::Subject).string().not_null())
                        .col(ColumnDef::new(DeadLetters::Payload).blob().not_null())
                        .col(ColumnDef::new(DeadLetters::Error).text().not_null())
                        .col(
                            ColumnDef::new(DeadLetters::Deliveries)
                                .big_integer()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(DeadLetters::CreatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .col(ColumnDef::new(DeadLetters::ReplayedAt).timestamp_with_time_zone())
                        .to_owned(),
                )
                .await
        }
    }
}

/// The stream a consumer reads is not there yet: its publisher declares it when it starts.
#[derive(Debug, thiserror::Error)]
#[error("stream {0} is not declared yet (its publisher declares it)")]
struct StreamNotDeclared(&'static str);

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth another try later (a dependency is away): the message is redelivered.
    #[error("retry: {0:#}")]
    Retry(anyhow::Error),
    /// Can never be applied (a malformed event): the message goes to the dead letters.
    #[error("reject: {0:#}")]
    Reject(anyhow::Error),
}

impl From<DbErr> for HandlerError {
    fn from(err: DbErr) -> Self {
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

/// [`EventHandler`] behind a pointer, so the runtime can hold handlers of many types.
trait DynHandler: Send + Sync {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a EventEnvelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>>;
}

impl<H: EventHandler> DynHandler for H {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a EventEnvelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(EventHandler::handle(self, txn, event))
    }
}

/// Which events a consumer reads.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub stream: StreamSpec,
    /// The durable consumer's name, also the key in `processed_events` and `dead_letters`.
    pub durable: String,
    pub filter_subject: String,
    /// Deliveries before a failing message goes to the dead letters (counted by the consumer; the
    /// server keeps redelivering, so a message is never dropped when its dead letter cannot be
    /// written).
    pub max_deliver: i64,
    /// How long the server waits for an ack before redelivering; long handlers keep the message
    /// with in-progress acks at a third of this.
    pub ack_wait: Duration,
}

impl ConsumerSpec {
    /// Checks the settings before anything starts, naming what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.durable;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "consumer `{name}`: a durable name is letters, digits, `-` and `_`"
            ));
        }
        if self.max_deliver < 1 {
            return Err(format!(
                "consumer `{name}`: max_deliver must be at least 1, not {}",
                self.max_deliver
            ));
        }
        if self.ack_wait < Duration::from_secs(1) {
            return Err(format!(
                "consumer `{name}`: ack_wait must be at least one second"
            ));
        }
        if !self
            .stream
            .subjects
            .iter()
            .any(|s| subject_matches(s, &self.filter_subject))
        {
            return Err(format!(
                "consumer `{name}`: the filter {} is outside the stream {} ({:?})",
                self.filter_subject, self.stream.name, self.stream.subjects
            ));
        }
        Ok(())
    }
}

/// When a dead letter cannot be written, the message comes back after this long.
const DEAD_LETTER_RETRY: Duration = Duration::from_secs(5);

/// Messages pulled at a time: handled one by one, each must start well within its `ack_wait`.
const PULL_BATCH: usize = 8;

/// A consumer: its settings and its handler.
#[derive(Clone)]
pub struct Consumer {
    spec: ConsumerSpec,
    handler: Arc<dyn DynHandler>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("spec", &self.spec)
            .finish()
    }
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Now,
    /// It had been applied before; nothing changed.
    Already,
}

impl Consumer {
    pub fn new<H: EventHandler>(spec: ConsumerSpec, handler: H) -> Self {
        Self {
            spec,
            handler: Arc::new(handler),
        }
    }

    pub fn spec(&self) -> &ConsumerSpec {
        &self.spec
    }

    /// Applies `event` once: records its id and runs the handler in one transaction. Wakes the
    /// relay after the commit, for handlers that enqueued events of their own.
    pub async fn apply(
        &self,
        db: &Db,
        outbox: &OutboxSignal,
        event: &EventEnvelope,
    ) -> Result<Applied, HandlerError> {
        let txn = db.begin().await?;
        let inserted = entity::Entity::insert(entity::ActiveModel {
            consumer: Set(self.spec.durable.clone()),
            event_id: Set(event.event_id.clone()),
            processed_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::columns([entity::Column::Consumer, entity::Column::EventId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if inserted == 0 {
            txn.rollback().await?;
            return Ok(Applied::Already);
        }
        self.handler.handle(&txn, event).await?;
        txn.commit().await?;
        outbox.notify();
        Ok(Applied::Now)
    }

    /// Consumes until cancelled, reconnecting when NATS goes away (and waiting for the stream
    /// when its publisher has not declared it yet).
    pub async fn run(
        self,
        jetstream: jetstream::Context,
        db: Db,
        outbox: OutboxSignal,
        cancel: CancellationToken,
    ) {
        let mut backoff = Backoff::new();
        loop {
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = self.consume(&jetstream, &db, &outbox, &mut backoff) => r,
            };
            if let Err(err) = result {
                if let Some(missing) = err.downcast_ref::<StreamNotDeclared>() {
                    // Normal while the publishing service has not started yet.
                    tracing::info!(consumer = %self.spec.durable, stream = missing.0, "waiting for the publishing service to declare its stream");
                } else {
                    tracing::warn!(consumer = %self.spec.durable, error = format!("{err:#}"), "consumer interrupted; reconnecting");
                }
            }
            if sleep_or_cancel(backoff.next(), &cancel).await {
                return;
            }
        }
    }

    async fn consume(
        &self,
        jetstream: &jetstream::Context,
        db: &Db,
        outbox: &OutboxSignal,
        backoff: &mut Backoff,
    ) -> anyhow::Result<()> {
        let spec = &self.spec;
        // The stream belongs to the service that publishes it: wait for it, never redeclare it.
        let stream = jetstream
            .get_stream(spec.stream.name)
            .await
            .map_err(|e| match e.kind() {
                jetstream::context::GetStreamErrorKind::JetStream(js)
                    if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
                {
                    anyhow::Error::new(StreamNotDeclared(spec.stream.name))
                }
                _ => anyhow::anyhow!(
                    "stream {} (declared by its publisher): {e}",
                    spec.stream.name
                ),
            })?;
        // Created, or brought up to these settings when they changed since the last start.
        let consumer: jetstream::consumer::Consumer<pull::Config> = stream
            .create_consumer(pull::Config {
                durable_name: Some(spec.durable.clone()),
                filter_subject: spec.filter_subject.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                max_deliver: -1,
                ack_wait: spec.ack_wait,
                ..Default::default()
            })
            .await?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(PULL_BATCH)
            .messages()
            .await?;
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
            self.process(db, outbox, &message).instrument(span).await?;
        }
        Ok(())
    }

    async fn process(
        &self,
        db: &Db,
        outbox: &OutboxSignal,
        message: &jetstream::Message,
    ) -> anyhow::Result<()> {
        let spec = &self.spec;
        let ack = |kind| async move {
            message
                .ack_with(kind)
                .await
                .map_err(|e| anyhow::anyhow!("ack: {e}"))
        };
        let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
        if delivered > 1 {
            metrics::consumer_redelivered(&spec.durable);
        }
        let event = match EventEnvelope::decode(message.payload.clone()) {
            Ok(event) if !event.event_id.is_empty() => event,
            _ => {
                return self
                    .give_up(db, message, "", "not a Rekisteri event envelope", delivered)
                    .await;
            }
        };
        tracing::Span::current().record("event_id", event.event_id.as_str());

        // In-progress acks at a third of ack_wait keep a slow handler's message from being
        // redelivered to someone else meanwhile.
        let work = self.apply(db, outbox, &event);
        tokio::pin!(work);
        let mut progress = tokio::time::interval(spec.ack_wait / 3);
        progress.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                _ = progress.tick() => {
                    if let Err(err) = message.ack_with(AckKind::Progress).await {
                        tracing::debug!(error = %err, "in-progress ack failed");
                    }
                }
            }
        };
        match result {
            Ok(applied) => {
                if applied == Applied::Already {
                    tracing::debug!("already processed; acking the redelivery");
                }
                message
                    .double_ack()
                    .await
                    .map_err(|e| anyhow::anyhow!("ack: {e}"))
            }
            Err(HandlerError::Reject(err)) => {
                let error = format!("rejected: {err:#}");
                tracing::error!(error, "handler rejected the event; kept as a dead letter");
                self.give_up(db, message, &event.event_id, &error, delivered)
                    .await
            }
            Err(HandlerError::Retry(err)) if delivered >= spec.max_deliver => {
                let error = format!("failed on all {delivered} deliveries: {err:#}");
                tracing::error!(
                    error,
                    "handler failed on the last delivery; kept as a dead letter"
                );
                self.give_up(db, message, &event.event_id, &error, delivered)
                    .await
            }
            Err(HandlerError::Retry(err)) => {
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

    /// Keeps a message as a dead letter, then terminates it. When the dead letter cannot be
    /// written, the message is naked instead and comes back later: never dropped.
    async fn give_up(
        &self,
        db: &Db,
        message: &jetstream::Message,
        event_id: &str,
        error: &str,
        deliveries: i64,
    ) -> anyhow::Result<()> {
        let outcome = match self
            .dead_letter(db, message, event_id, error, deliveries)
            .await
        {
            Ok(()) => AckKind::Term,
            Err(err) => {
                tracing::error!(
                    error = format!("{err:#}"),
                    "cannot keep the dead letter; redelivering later"
                );
                AckKind::Nak(Some(DEAD_LETTER_RETRY))
            }
        };
        message
            .ack_with(outcome)
            .await
            .map_err(|e| anyhow::anyhow!("ack: {e}"))
    }

    async fn dead_letter(
        &self,
        db: &Db,
        message: &jetstream::Message,
        event_id: &str,
        error: &str,
        deliveries: i64,
    ) -> anyhow::Result<()> {
        dead_letter::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            consumer: Set(self.spec.durable.clone()),
            event_id: Set(event_id.to_owned()),
            subject: Set(message.subject.to_string()),
            payload: Set(message.payload.to_vec()),
            error: Set(error.chars().take(4000).collect()),
            deliveries: Set(deliveries),
            created_at: Set(Utc::now()),
            replayed_at: Set(None),
        }
        .insert(db.writer())
        .await?;
        metrics::dead_letter(&self.spec.durable);
        Ok(())
    }
}

/// Dead letters at a glance.
pub async fn dead_letter_count<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    dead_letter::Entity::find()
        .filter(dead_letter::Column::ReplayedAt.is_null())
        .count(conn)
        .await
}

/// Dead letters not yet replayed, oldest first.
pub async fn list_dead_letters<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<dead_letter::Model>, DbErr> {
    dead_letter::Entity::find()
        .filter(dead_letter::Column::ReplayedAt.is_null())
        .order_by_asc(dead_letter::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// The outcome of replaying one dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub id: String,
    /// `None` when it applied (or had been applied meanwhile); else why not.
    pub error: Option<String>,
}

/// Applies dead letters again through their consumers' handlers: the given ids, or all of them
/// when `ids` is empty. One that applies is marked replayed; one that fails again keeps its
/// place with the new error.
pub async fn replay_dead_letters(
    db: &Db,
    outbox: &OutboxSignal,
    consumers: &[Consumer],
    ids: &[String],
) -> Result<Vec<Replay>, DbErr> {
    let mut query = dead_letter::Entity::find()
        .filter(dead_letter::Column::ReplayedAt.is_null())
        .order_by_asc(dead_letter::Column::Id);
    if !ids.is_empty() {
        query = query.filter(dead_letter::Column::Id.is_in(ids.iter().cloned()));
    }
    let letters = query.all(db.writer()).await?;
    let mut outcomes = Vec::with_capacity(letters.len());
    for letter in letters {
        let outcome = match consumers.iter().find(|c| c.spec.durable == letter.consumer) {
            None => Err(format!(
                "this service has no consumer `{}`",
                letter.consumer
            )),
            Some(consumer) => match EventEnvelope::decode(letter.payload.as_slice()) {
                Err(_) => Err("not a Rekisteri event envelope".to_owned()),
                Ok(event) => consumer
                    .apply(db, outbox, &event)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            },
        };
        let mut model: dead_letter::ActiveModel = letter.clone().into();
        match &outcome {
            Ok(()) => model.replayed_at = Set(Some(now())),
            Err(error) => model.error = Set(format!("replay: {error}")),
        }
        model.update(db.writer()).await?;
        outcomes.push(Replay {
            id: letter.id,
            error: outcome.err(),
        });
    }
    Ok(outcomes)
}

fn now() -> DateTime<Utc> {
    Utc::now()
}
