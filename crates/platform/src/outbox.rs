//! Transactional outbox: an event is written to `outbox_events` in the same database transaction as
//! the change it describes, and [`OutboxRelay`] publishes it to JetStream afterwards.
//!
//! **What is promised.** The relay sets `Nats-Msg-Id` to the event id and marks a row sent only
//! after the stream's PubAck. A crash between the PubAck and the mark, or NATS going away
//! mid-batch, makes the relay publish the row again; the stream drops the copy when it arrives
//! within its duplicate window (two minutes), and consumers drop any later copy by event id. That
//! is "effectively once": no acknowledged change is lost, and no consumer applies an event twice.
//! It is not a promise that a copy can never reach the stream.
//!
//! **Order.** Rows are published in id (UUIDv7, so creation) order, one relay at a time per
//! database: on PostgreSQL each round holds a transaction-level advisory lock, so several replicas
//! never publish the same rows at once or interleave their batches. A row that fails while the rows
//! behind it succeed is retried later, so an event can reach the stream after a later one of the
//! same aggregate: consumers compare versions rather than trust arrival order. On SQLite the same
//! exclusion is a lock on a file beside the database, taken for each round.
//!
//! **Poison.** A row that keeps failing for a reason of its own (no stream takes its subject, it is
//! larger than the server's `max_payload`) is parked after `outbox.max_attempts` with its last
//! error, stops holding up the rows behind it, and waits for an operator (`rekisteri outbox
//! parked`, `rekisteri outbox retry`). NATS or JetStream being away or refusing (timeouts, a full
//! store, any other server error) is not such a reason: then nothing counts as an attempt and every
//! row simply waits.
//!
//! **Retention.** Published rows are deleted after `outbox.sent_retention_secs` (events may
//! describe people); each stream declares its own retention in its [`StreamSpec`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream;
use async_nats::jetstream::context::PublishErrorKind;
use chrono::{DateTime, Utc};
use prost::Message as _;
use rekisteri_proto::common::v1::Actor;
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait, Value,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::OutboxConfig;
use crate::db::Db;
use crate::{metrics, telemetry};

/// A JetStream stream a service publishes to, declared in code with its retention and created (or
/// brought up to date) at start.
#[derive(Debug, Clone, Copy)]
pub struct StreamSpec {
    pub name: &'static str,
    pub subjects: &'static [&'static str],
    /// Messages older than this are removed.
    pub max_age: Duration,
    /// The stream's size limit in bytes; the oldest messages go first.
    pub max_bytes: i64,
}

/// How long relay retries are recognised as copies of an event already on the stream.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

impl StreamSpec {
    /// Creates the stream, or updates an existing one to this declaration. File storage, so that
    /// nothing acknowledged is lost when NATS restarts.
    pub async fn ensure(&self, js: &jetstream::Context, replicas: usize) -> anyhow::Result<()> {
        js.create_or_update_stream(self.config(replicas)).await?;
        Ok(())
    }

    pub fn config(&self, replicas: usize) -> jetstream::stream::Config {
        jetstream::stream::Config {
            name: self.name.to_owned(),
            subjects: self.subjects.iter().map(|s| s.to_string()).collect(),
            storage: jetstream::stream::StorageType::File,
            num_replicas: replicas,
            max_age: self.max_age,
            max_bytes: self.max_bytes,
            discard: jetstream::stream::DiscardPolicy::Old,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        }
    }

    /// True when `subject` falls under one of the stream's subjects.
    pub fn covers(&self, subject: &str) -> bool {
        self.subjects
            .iter()
            .any(|pattern| subject_matches(pattern, subject))
    }
}

/// NATS subject matching: `*` is one token, a final `>` one or more.
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject = subject.split('.');
    for token in pattern.split('.') {
        match (token, subject.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (t, Some(s)) if t == s => {}
            _ => return false,
        }
    }
    subject.next().is_none()
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
        /// Failed publications that were the row's own fault (not NATS being away).
        pub attempts: i32,
        pub last_error: Option<String>,
        /// Set when the row stopped being retried; cleared by an operator's retry.
        pub parked_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod migration {
    //! The `outbox_events` table; every service includes these migrations (through
    //! [`crate::migrations`]).
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
        LastError,
        ParkedAt,
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

    /// Parking of poison rows, and indexes for the relay's two questions (what is waiting, what
    /// may be deleted).
    #[derive(Debug)]
    pub struct Parking;

    impl MigrationName for Parking {
        fn name(&self) -> &str {
            "m20261123_000001_outbox_parking"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Parking {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for column in [
                ColumnDef::new(OutboxEvents::LastError).text().to_owned(),
                ColumnDef::new(OutboxEvents::ParkedAt)
                    .timestamp_with_time_zone()
                    .to_owned(),
            ] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(OutboxEvents::Table)
                            .add_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
            let db = manager.get_connection();
            db.execute_unprepared("DROP INDEX IF EXISTS outbox_events_unsent")
                .await?;
            // Partial indexes (the same syntax on SQLite and PostgreSQL): the waiting rows are few
            // among many sent ones, and the relay asks for them on every round.
            db.execute_unprepared(
                "CREATE INDEX IF NOT EXISTS outbox_events_waiting ON outbox_events (id) \
                 WHERE sent_at IS NULL AND parked_at IS NULL",
            )
            .await?;
            db.execute_unprepared(
                "CREATE INDEX IF NOT EXISTS outbox_events_sent ON outbox_events (sent_at) \
                 WHERE sent_at IS NOT NULL",
            )
            .await?;
            Ok(())
        }
    }

    /// An index for the parked rows, which status asks about every few seconds.
    #[derive(Debug)]
    pub struct ParkedIndex;

    impl MigrationName for ParkedIndex {
        fn name(&self) -> &str {
            "m20261123_000003_outbox_parked_index"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for ParkedIndex {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS outbox_events_parked ON outbox_events (id) \
                     WHERE sent_at IS NULL AND parked_at IS NOT NULL",
                )
                .await?;
            Ok(())
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

/// An unsent outbox row for `event` on `subject`.
fn outbox_row(
    subject: &str,
    event: &EventEnvelope,
    traceparent: Option<String>,
    now: chrono::DateTime<Utc>,
) -> entity::ActiveModel {
    entity::ActiveModel {
        id: Set(event.event_id.clone()),
        subject: Set(subject.to_owned()),
        payload: Set(event.encode_to_vec()),
        traceparent: Set(traceparent),
        created_at: Set(now),
        sent_at: Set(None),
        stream_sequence: Set(None),
        attempts: Set(0),
        last_error: Set(None),
        parked_at: Set(None),
    }
}

/// Writes `event` to the outbox on `txn`, the transaction that makes the change it describes.
/// Call [`OutboxSignal::notify`] after the commit so the relay publishes at once.
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    subject: &str,
    event: &EventEnvelope,
) -> Result<(), DbErr> {
    outbox_row(subject, event, telemetry::current_traceparent(), Utc::now())
        .insert(txn)
        .await?;
    Ok(())
}

/// Writes many events to the outbox on `txn` with multi-row inserts (a batch of changes, one
/// round trip per few hundred events instead of one per event).
pub async fn enqueue_many<C: ConnectionTrait>(
    txn: &C,
    events: &[(&str, EventEnvelope)],
) -> Result<(), DbErr> {
    let traceparent = telemetry::current_traceparent();
    let now = Utc::now();
    // 10 columns a row: well under SQLite's 32,766 bound variables.
    for chunk in events.chunks(500) {
        let rows = chunk
            .iter()
            .map(|(subject, event)| outbox_row(subject, event, traceparent.clone(), now));
        entity::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
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

/// Any number that is ours alone: the key of the transaction-level advisory lock a relay round
/// holds on PostgreSQL ("outbox" in ASCII).
const RELAY_LOCK_KEY: i64 = 0x6f7574626f78;

/// The largest batch: async-nats lets 5,000 acknowledgements be in flight per context, and a batch
/// holds all of its own until the end.
pub const MAX_BATCH: u64 = 4_000;

/// How often published rows past their retention are deleted.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);

/// Publishes the outbox to JetStream until cancelled.
#[derive(Debug)]
pub struct OutboxRelay {
    db: Db,
    /// SQLite: the file locked for the duration of a round, so that two processes on one database
    /// file take turns.
    round_lock: Option<std::path::PathBuf>,
    jetstream: jetstream::Context,
    streams: Vec<StreamSpec>,
    replicas: usize,
    signal: OutboxSignal,
    config: OutboxConfig,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Rows taken for publication.
    pub claimed: usize,
    pub published: usize,
    /// Rows that failed for a reason of their own (counted towards parking).
    pub failed: usize,
    pub parked: usize,
    /// Another relay holds the round (replicas on PostgreSQL, or processes sharing a SQLite file).
    pub busy: bool,
}

impl OutboxRelay {
    pub fn new(
        db: Db,
        jetstream: jetstream::Context,
        streams: Vec<StreamSpec>,
        replicas: usize,
        signal: OutboxSignal,
        config: OutboxConfig,
    ) -> Self {
        let round_lock = db
            .sqlite_file()
            .map(|path| crate::db::lock_beside(&path, "relay.lock"));
        Self {
            db,
            round_lock,
            jetstream,
            streams,
            replicas,
            signal,
            config,
        }
    }

    /// Declares the streams, then relays until `cancel` fires. Events not yet published stay in
    /// the outbox and go out on the next start.
    pub async fn run(self, cancel: CancellationToken) {
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        let mut backoff = Backoff::new();
        // The streams must exist before the first publish; NATS may not be up yet.
        while let Err(err) = self.ensure_streams().await {
            tracing::warn!(
                error = format!("{err:#}"),
                "cannot declare the streams yet; retrying"
            );
            if sleep_or_cancel(backoff.next(), &cancel).await {
                return;
            }
        }
        backoff.reset();
        let mut last_cleanup: Option<Instant> = None;
        loop {
            if last_cleanup.is_none_or(|t| t.elapsed() >= CLEANUP_EVERY) {
                match self.delete_expired().await {
                    Ok(n) if n > 0 => {
                        tracing::info!(deleted = n, "deleted published events past their retention")
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "outbox cleanup failed; will retry"),
                }
                last_cleanup = Some(Instant::now());
            }
            let round = tokio::select! {
                // Dropping a round midway is safe: unmarked rows are published again next time.
                _ = cancel.cancelled() => return,
                round = self.round() => round,
            };
            match round {
                Ok(round) if round.failed > 0 && round.published == 0 => {
                    // Only failing rows: space their attempts out.
                    if sleep_or_cancel(backoff.next(), &cancel).await {
                        return;
                    }
                }
                Ok(round) => {
                    backoff.reset();
                    if !round.busy && round.claimed as u64 >= self.config.batch_size {
                        continue;
                    }
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

    async fn ensure_streams(&self) -> anyhow::Result<()> {
        for stream in &self.streams {
            stream.ensure(&self.jetstream, self.replicas).await?;
        }
        Ok(())
    }

    /// Publishes up to one batch of waiting rows, all acknowledgements in flight together, and
    /// marks the published ones sent in one statement. An `Err` means nothing could be published
    /// (NATS or the database away): no row counts it as an attempt.
    pub async fn round(&self) -> anyhow::Result<Round> {
        if self.db.is_sqlite() {
            // Holding the single writer connection while publishing would stall every write: the
            // exclusion is a file lock instead (two processes on one file take turns).
            let _lock = match &self.round_lock {
                Some(path) => match crate::db::lock_file(path.clone(), false).await? {
                    Some(lock) => Some(lock),
                    None => {
                        return Ok(Round {
                            busy: true,
                            ..Round::default()
                        });
                    }
                },
                None => None,
            };
            // The waiting rows are read on a reader (the file lock keeps other relays away), so
            // that only the marking of what was published waits for the one writer.
            return self
                .publish_waiting(self.db.reader(), self.db.writer())
                .await;
        }
        let txn = self.db.writer().begin().await?;
        let locked = txn
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                format!("SELECT pg_try_advisory_xact_lock({RELAY_LOCK_KEY}) AS locked"),
            ))
            .await?
            .map(|row| row.try_get::<bool>("", "locked"))
            .transpose()?
            .unwrap_or(false);
        if !locked {
            txn.commit().await?;
            return Ok(Round {
                busy: true,
                ..Round::default()
            });
        }
        let round = self.publish_waiting(&txn, &txn).await;
        // Commit even after a failure: whatever was marked stays marked. The lock goes with it.
        txn.commit().await?;
        round
    }

    /// Publishes the rows waiting (read on `read`) and marks them (on `conn`).
    async fn publish_waiting<R: ConnectionTrait, C: ConnectionTrait>(
        &self,
        read: &R,
        conn: &C,
    ) -> anyhow::Result<Round> {
        use entity::Column;
        let rows = entity::Entity::find()
            .filter(Column::SentAt.is_null())
            .filter(Column::ParkedAt.is_null())
            .order_by_asc(Column::Id)
            .limit(self.config.batch_size)
            .all(read)
            .await?;
        let mut round = Round {
            claimed: rows.len(),
            ..Round::default()
        };
        if rows.is_empty() {
            return Ok(round);
        }

        // Send every message first, then collect the acknowledgements: one round trip per batch
        // rather than one per event.
        let mut pending = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", row.id.as_str());
            if let Some(tp) = &row.traceparent {
                headers.insert(telemetry::TRACEPARENT, tp.as_str());
            }
            let sent = self
                .jetstream
                .publish_with_headers(row.subject.clone(), headers, row.payload.clone().into())
                .await;
            // NATS away: sending the rest would only wait out the same timeout once per row.
            let stop = matches!(&sent, Err(e)
                if matches!(e.kind(), PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe));
            pending.push(sent);
            if stop {
                break;
            }
        }
        // All acknowledgements awaited together: each has its own timeout, running at once, so
        // NATS going away mid-batch costs one timeout, not one per event. Rows not sent (after a
        // send failed) are neither marked nor counted: they go in the next round.
        let acks = futures::future::join_all(pending.into_iter().map(|sent| async move {
            match sent {
                Ok(ack) => ack.await,
                Err(err) => Err(err),
            }
        }));
        let outcomes = acks.await;

        let now = Utc::now();
        let mut sent = Vec::new();
        let mut transient: Option<anyhow::Error> = None;
        let mut own_fault = Vec::new();
        let mut no_stream = Vec::new();
        for (row, outcome) in rows.iter().zip(outcomes) {
            match outcome {
                Ok(ack) => {
                    if ack.duplicate {
                        tracing::debug!(event_id = %row.id, "event was already on the stream");
                    }
                    sent.push((row.id.clone(), ack.sequence as i64));
                }
                Err(err) => match err.kind() {
                    // The row's own: it will never fit.
                    PublishErrorKind::MaxPayloadExceeded => {
                        own_fault.push((row, err.to_string()));
                    }
                    PublishErrorKind::StreamNotFound => no_stream.push(row),
                    // Timeouts, a full store, any other server error: NATS's, not the row's.
                    _ => transient = Some(err.into()),
                },
            }
        }
        if !no_stream.is_empty() {
            if self.ensure_streams().await.is_ok() {
                // The streams exist, so no stream takes these subjects: the rows' own fault.
                for row in no_stream {
                    own_fault.push((row, format!("no stream takes the subject {}", row.subject)));
                }
            } else {
                // JetStream itself is away (a restart still recovering): nobody's fault.
                transient = Some(anyhow::anyhow!(
                    "JetStream answers no stream and cannot declare one"
                ));
            }
        }
        mark_sent(conn, &sent, now).await?;
        round.published = sent.len();
        for (row, error) in &own_fault {
            let parked = row.attempts + 1 >= self.config.max_attempts as i32;
            record_failure(conn, &row.id, error, parked.then_some(now)).await?;
            round.failed += 1;
            if parked {
                round.parked += 1;
                metrics::outbox_parked(1);
                tracing::error!(
                    event_id = %row.id,
                    subject = %row.subject,
                    attempts = row.attempts + 1,
                    error = %error,
                    "outbox event parked after repeated failures; `rekisteri outbox parked` lists it"
                );
            } else {
                tracing::warn!(event_id = %row.id, subject = %row.subject, error = %error, "publishing an outbox event failed");
            }
        }
        metrics::outbox_published(round.published as u64);
        if let Some(err) = transient
            && round.published == 0
            && own_fault.is_empty()
        {
            return Err(err.context("publishing to JetStream"));
        }
        if round.published > 0 {
            tracing::debug!(published = round.published, "outbox batch published");
        }
        Ok(round)
    }

    /// Deletes published rows older than the retention; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, DbErr> {
        let cutoff = Utc::now() - Duration::from_secs(self.config.sent_retention_secs);
        delete_sent_before(self.db.writer(), cutoff).await
    }
}

/// Deletes rows published before `cutoff`, a thousand at a time so that no single statement holds
/// the writer (SQLite's only one) for long.
pub async fn delete_sent_before<C: ConnectionTrait>(
    conn: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    const CHUNK: u64 = 1_000;
    let backend = conn.get_database_backend();
    let sql = match backend {
        // `= ANY (ARRAY(...))`: PostgreSQL deletes the thousand by their primary key. With
        // `IN (SELECT ...)` it planned a hash join over a scan of the whole table, every chunk.
        DatabaseBackend::Postgres => {
            "DELETE FROM outbox_events WHERE id = ANY (ARRAY(SELECT id FROM outbox_events \
             WHERE sent_at IS NOT NULL AND sent_at < $1 LIMIT 1000))"
        }
        _ => {
            "DELETE FROM outbox_events WHERE id IN (SELECT id FROM outbox_events \
             WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT 1000)"
        }
    };
    let mut deleted = 0;
    loop {
        let n = conn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [cutoff.into()],
            ))
            .await?
            .rows_affected();
        deleted += n;
        if n < CHUNK {
            return Ok(deleted);
        }
    }
}

/// Marks rows sent with their stream sequences, in one statement.
async fn mark_sent<C: ConnectionTrait>(
    conn: &C,
    sent: &[(String, i64)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if sent.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(1 + 2 * sent.len());
    values.push(now.into());
    let mut n = 1;
    let mut placeholder = || {
        n += 1;
        match backend {
            DatabaseBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        }
    };
    let first = match backend {
        DatabaseBackend::Postgres => "$1",
        _ => "?",
    };
    let rows: Vec<String> = sent
        .iter()
        .map(|(id, seq)| {
            values.push(id.clone().into());
            values.push((*seq).into());
            format!("({}, CAST({} AS BIGINT))", placeholder(), placeholder())
        })
        .collect();
    // `VALUES` columns are named column1, column2 on both SQLite and PostgreSQL.
    let sql = format!(
        "UPDATE outbox_events SET sent_at = {first}, stream_sequence = v.column2 \
         FROM (VALUES {}) AS v WHERE outbox_events.id = v.column1",
        rows.join(", ")
    );
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

async fn record_failure<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    error: &str,
    parked_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    entity::Entity::update_many()
        .col_expr(
            entity::Column::Attempts,
            Expr::col(entity::Column::Attempts).add(1),
        )
        .col_expr(
            entity::Column::LastError,
            Expr::value(truncate(error, 2000)),
        )
        .col_expr(entity::Column::ParkedAt, Expr::value(parked_at))
        .filter(entity::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The outbox at a glance, for health details and operators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    /// Rows waiting for publication (not parked).
    pub pending: u64,
    /// When the oldest waiting row was written.
    pub oldest_pending: Option<DateTime<Utc>>,
    pub parked: u64,
}

pub async fn status<C: ConnectionTrait>(conn: &C) -> Result<OutboxStatus, DbErr> {
    use entity::Column;
    let waiting = entity::Entity::find()
        .filter(Column::SentAt.is_null())
        .filter(Column::ParkedAt.is_null());
    let pending = waiting.clone().count(conn).await?;
    let oldest_pending = waiting
        .order_by_asc(Column::Id)
        .one(conn)
        .await?
        .map(|row| row.created_at);
    let parked = parked_count(conn).await?;
    Ok(OutboxStatus {
        pending,
        oldest_pending,
        parked,
    })
}

/// How many rows are parked.
pub async fn parked_count<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::SentAt.is_null())
        .filter(entity::Column::ParkedAt.is_not_null())
        .count(conn)
        .await
}

/// Parked rows, oldest first.
pub async fn list_parked<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<entity::Model>, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::SentAt.is_null())
        .filter(entity::Column::ParkedAt.is_not_null())
        .order_by_asc(entity::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// Puts parked rows back in line with their attempts reset: the given ids, or every parked row
/// when `ids` is empty. Returns how many.
pub async fn retry_parked<C: ConnectionTrait>(conn: &C, ids: &[String]) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Expr;
    let mut update = entity::Entity::update_many()
        .col_expr(
            entity::Column::ParkedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(entity::Column::Attempts, Expr::value(0))
        .filter(entity::Column::SentAt.is_null())
        .filter(entity::Column::ParkedAt.is_not_null());
    if !ids.is_empty() {
        update = update.filter(entity::Column::Id.is_in(ids.iter().cloned()));
    }
    Ok(update.exec(conn).await?.rows_affected)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_match_as_nats_does() {
        assert!(subject_matches(
            "rekisteri.catalogue.>",
            "rekisteri.catalogue.register.published"
        ));
        assert!(!subject_matches(
            "rekisteri.catalogue.>",
            "rekisteri.catalogue"
        ));
        assert!(subject_matches("a.*.c", "a.b.c"));
        assert!(!subject_matches("a.*.c", "a.b.c.d"));
        assert!(!subject_matches(
            "rekisteri.catalogue.>",
            "rekisteri.customers.x"
        ));
    }
}
