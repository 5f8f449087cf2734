//! What every Rekisteri service shares. Each module is one idea:
//!
//! - [`runtime`]: a service declares its parts; the runtime connects, migrates, serves, relays,
//!   consumes, watches health and stops cleanly;
//! - [`config`]: layered configuration (defaults, optional file, `REKISTERI_<SECTION>__<KEY>`), validated at start;
//! - [`telemetry`] and [`metrics`]: `tracing` logs, OTLP export of spans and metrics, `traceparent` propagation;
//! - [`auth`]: bearer tokens (static, hashed; or JWT) resolving to a [`auth::Principal`] with roles,
//!   and the per-service [`auth::RoleTable`];
//! - [`grpc`]: the server (health, reflection, the gate: auth, roles, limits; TLS; graceful shutdown);
//! - [`cache`]: an in-memory cache for hot reads, read-your-writes on one replica;
//! - [`error`]: the one mapping from failures to `tonic::Status`;
//! - [`db`]: SQLite (one writer, pooled readers) or PostgreSQL, migrated under a lock;
//! - [`nats`]: connecting with credentials and TLS;
//! - [`outbox`]: transactional outbox and the relay that publishes it to JetStream;
//! - [`inbox`]: the idempotent JetStream consumer and its dead letters;
//! - [`operations`]: the operations service every service serves (status, parked events, dead letters).

pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod grpc;
pub mod inbox;
pub mod metrics;
pub mod nats;
pub mod operations;
pub mod outbox;
pub mod runtime;
pub mod telemetry;

pub use tokio_util::sync::CancellationToken;

/// The platform's own tables (outbox, processed events, dead letters), in order. A service's
/// migrator lists them among its own, after the migrations that already ran where it is deployed.
pub fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
    vec![
        Box::new(outbox::migration::Migration),
        Box::new(inbox::migration::Migration),
        Box::new(outbox::migration::Parking),
        Box::new(inbox::migration::DeadLettersMigration),
        Box::new(outbox::migration::ParkedIndex),
    ]
}
