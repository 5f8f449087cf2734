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

/// An in-memory SQLite database lives on the connection that opened it: reads (and the outbox
/// relay, which reads on the reader) must see what the writer wrote, not a second, empty database.
#[tokio::test]
async fn an_in_memory_sqlite_database_is_read_where_it_was_written() {
    let nats = NatsServer::start().await;
    let config = rekisteri_test_support::service_config("test", "sqlite::memory:", &nats.url());
    let db = db::connect_and_migrate::<Migrator>(&config.database)
        .await
        .expect("an in-memory database migrates");
    db.writer()
        .execute_unprepared("INSERT INTO applied (event_id) VALUES ('written')")
        .await
        .expect("the writer writes");
    let row = db
        .reader()
        .query_one_raw(Statement::from_string(
            db.reader().get_database_backend(),
            "SELECT count(*) AS n FROM applied",
        ))
        .await
        .expect("the reader reads the same database")
        .expect("a count");
    assert_eq!(row.try_get::<i64>("", "n").expect("a number"), 1);
}

/// `database.postgres_settings` reach every session of the pool; a setting PostgreSQL does not
/// know stops the start with PostgreSQL's own words.
#[tokio::test]
async fn postgres_settings_reach_every_session_and_an_unknown_one_stops_the_start() {
    let nats = NatsServer::start().await;
    let test_db = TestDb::fresh(Backend::Postgres).await;
    let mut config = rekisteri_test_support::service_config("test", &test_db.url, &nats.url());
    config.database.postgres_settings = [
        ("plan_cache_mode", "force_generic_plan"),
        ("statement_timeout", "4321ms"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let db = db::connect_and_migrate::<Migrator>(&config.database)
        .await
        .expect("the settings are PostgreSQL's own");
    // Every connection of the pool, not only the first: hold several at once.
    let shows = (0..4).map(|_| async {
        let backend = db.reader().get_database_backend();
        let row = db
            .reader()
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT current_setting('plan_cache_mode') || ' ' || current_setting('statement_timeout') || ' ' || pg_backend_pid()::text, pg_sleep(0.2)",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<String>(0).unwrap()
    });
    let seen = futures::future::join_all(shows).await;
    let sessions: std::collections::HashSet<&str> =
        seen.iter().map(|s| s.rsplit(' ').next().unwrap()).collect();
    assert!(sessions.len() > 1, "several sessions: {seen:?}");
    for s in &seen {
        assert!(s.starts_with("force_generic_plan 4321ms "), "{s}");
    }

    config.database.postgres_settings =
        [("plan_cache_mod".to_owned(), "force_generic_plan".to_owned())].into();
    let started = std::time::Instant::now();
    let err = db::connect_and_migrate::<Migrator>(&config.database)
        .await
        .expect_err("an unknown setting");
    assert!(err.to_string().contains("plan_cache_mod"), "{err:#}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused at once, not retried as an unreachable server"
    );
}
