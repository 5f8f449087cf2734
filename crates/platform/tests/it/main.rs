//! The event pipeline against a real NATS server and a real database (SQLite and PostgreSQL):
//! the outbox relay (`relay.rs`) and the idempotent consumer (`consumer.rs`).

mod consumer;
mod relay;

use std::time::Duration;

use rekisteri_platform::config::ServiceConfig;
use rekisteri_platform::db::{self, Db};
use rekisteri_platform::outbox::StreamSpec;
use rekisteri_test_support::{Backend, NatsServer, TestDb};
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;

const STREAM: StreamSpec = StreamSpec {
    name: "REKISTERI_TEST",
    subjects: &["rekisteri.test.>"],
    max_age: Duration::from_secs(3600),
    max_bytes: 256 * 1024 * 1024,
};

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = rekisteri_platform::migrations();
        all.push(Box::new(Applied));
        all
    }
}

/// `applied`: what the test handler did, with a primary key so that applying twice would fail.
struct Applied;

impl MigrationName for Applied {
    fn name(&self) -> &str {
        "m20261123_000099_test_applied"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Applied {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("CREATE TABLE applied (event_id VARCHAR(36) PRIMARY KEY)")
            .await?;
        Ok(())
    }
}

/// A fresh database and a NATS server of the test's own.
struct Env {
    nats: NatsServer,
    _db: TestDb,
    db: Db,
    config: ServiceConfig,
}

impl Env {
    async fn new(backend: Backend) -> Env {
        rekisteri_test_support::init_tracing();
        let nats = NatsServer::start().await;
        let test_db = TestDb::fresh(backend).await;
        let config = rekisteri_test_support::service_config("test", &test_db.url, &nats.url());
        let db = db::connect_and_migrate::<Migrator>(&config.database)
            .await
            .expect("the test database migrates");
        Env {
            nats,
            _db: test_db,
            db,
            config,
        }
    }

    async fn jetstream(&self) -> async_nats::jetstream::Context {
        async_nats::jetstream::new(self.nats.client().await)
    }

    async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .writer()
            .query_one_raw(Statement::from_string(
                self.db.writer().get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
