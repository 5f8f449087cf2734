//! The catalogue over real gRPC on port 0, with a NATS server of the test's own and a fresh
//! database per test; every database test runs on SQLite and on PostgreSQL.

mod auth;
mod events;
mod harness;
mod import;
mod lifecycle;
mod notice;
mod validation;
