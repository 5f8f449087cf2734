//! What every Rekisteri service shares. Each module is one idea:
//!
//! - [`config`]: layered configuration (defaults, optional file, `REKISTERI_<SECTION>__<KEY>`), validated at start;
//! - [`telemetry`]: `tracing` logs, optional OTLP export, `traceparent` propagation;
//! - [`auth`]: bearer tokens (static, hashed; or JWT) resolving to a [`auth::Principal`] with roles;
//! - [`grpc`]: the server every service runs (health, reflection, auth, trace layer, graceful shutdown);
//! - [`error`]: the one mapping from failures to `tonic::Status`;
//! - [`db`]: connecting to SQLite or PostgreSQL;
//! - [`outbox`]: transactional outbox and the relay that publishes it to JetStream;
//! - [`inbox`]: the idempotent JetStream consumer.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod grpc;
pub mod inbox;
pub mod outbox;
pub mod telemetry;

pub use tokio_util::sync::CancellationToken;
