//! The idempotent consumer against a real NATS server and a real database (SQLite and PostgreSQL).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::HeaderMap;
use prost::Message as _;
use rekisteri_platform::CancellationToken;
use rekisteri_platform::inbox::{ConsumerSpec, EventHandler, HandlerError, run_consumer};
use rekisteri_platform::outbox::{self, StreamSpec};
use rekisteri_proto::events::v1::{EventEnvelope, RegisterRetired, event_envelope::Payload};
use rekisteri_test_support::{Backend, NatsServer, TestDb, db_tests};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement};
use sea_orm_migration::prelude::*;

const STREAM: StreamSpec = StreamSpec {
    name: "REKISTERI_TEST",
    subjects: &["rekisteri.test.>"],
};

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(rekisteri_platform::inbox::migration::Migration)]
    }
}

/// Records each event it applies in `applied` (a primary key, so applying twice would fail) and
/// fails as told per register id: `retry:N` fails N times, `reject` always rejects.
#[derive(Default)]
struct Recorder {
    calls: Mutex<HashMap<String, u32>>,
}

impl EventHandler for Recorder {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let Some(Payload::RegisterRetired(r)) = &event.payload else {
            return Err(HandlerError::Reject(anyhow::anyhow!("unexpected payload")));
        };
        let calls = {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(r.register_id.clone()).or_default();
            *n += 1;
            *n
        };
        if r.reason == "reject" {
            return Err(HandlerError::Reject(anyhow::anyhow!("never")));
        }
        if let Some(n) = r.reason.strip_prefix("retry:")
            && calls <= n.parse().unwrap()
        {
            return Err(HandlerError::Retry(anyhow::anyhow!("not yet")));
        }
        let backend = txn.get_database_backend();
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => "INSERT INTO applied (event_id) VALUES ($1)",
                _ => "INSERT INTO applied (event_id) VALUES (?)",
            },
            [event.event_id.clone().into()],
        ))
        .await?;
        Ok(())
    }
}

struct Setup {
    nats: NatsServer,
    _db: TestDb,
    conn: DatabaseConnection,
    js: async_nats::jetstream::Context,
    handler: Arc<Recorder>,
    cancel: CancellationToken,
}

async fn setup(backend: Backend) -> Setup {
    rekisteri_test_support::init_tracing();
    let nats = NatsServer::start().await;
    let db = TestDb::fresh(backend).await;
    let config = rekisteri_test_support::service_config("test", &db.url, &nats.url());
    let conn = rekisteri_platform::db::connect(&config.database)
        .await
        .unwrap();
    Migrator::up(&conn, None).await.unwrap();
    conn.execute_unprepared("CREATE TABLE applied (event_id VARCHAR(36) PRIMARY KEY)")
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nats.client().await);
    STREAM.ensure(&js).await.unwrap();
    let handler = Arc::new(Recorder::default());
    let cancel = CancellationToken::new();
    let spec = ConsumerSpec {
        stream: STREAM,
        durable: "test-consumer".into(),
        filter_subject: "rekisteri.test.>".into(),
        max_deliver: 4,
        ack_wait: Duration::from_secs(5),
    };
    tokio::spawn(run_consumer(
        js.clone(),
        conn.clone(),
        spec,
        handler.clone(),
        cancel.clone(),
    ));
    Setup {
        nats,
        _db: db,
        conn,
        js,
        handler,
        cancel,
    }
}

fn event(register_id: &str, reason: &str) -> EventEnvelope {
    let payload = Payload::RegisterRetired(RegisterRetired {
        register_id: register_id.into(),
        last_published_version: 1,
        reason: reason.into(),
    });
    outbox::envelope("test", "rekisteri.test.retired.v1", "tester", payload)
}

/// Publishes under a message id of its own, so that JetStream keeps copies of the same event:
/// exactly what a consumer sees when an event is redelivered.
async fn send(js: &async_nats::jetstream::Context, event: &EventEnvelope) {
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", uuid::Uuid::now_v7().to_string().as_str());
    js.publish_with_headers(
        "rekisteri.test.retired",
        headers,
        event.encode_to_vec().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
}

async fn applied(conn: &DatabaseConnection) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM applied",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

db_tests!(
    redeliveries_change_nothing,
    failures_are_retried_and_poison_is_terminated
);

async fn redeliveries_change_nothing(backend: Backend) {
    let s = setup(backend).await;
    let events: Vec<_> = (0..3).map(|i| event(&format!("r{i}"), "ok")).collect();
    for e in &events {
        send(&s.js, e).await;
    }
    // The same event again, twice: a consumer must treat it as already done.
    send(&s.js, &events[1]).await;
    send(&s.js, &events[1]).await;
    wait_until("three events are applied", async || {
        applied(&s.conn).await == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(applied(&s.conn).await, 3);
    let calls = s.handler.calls.lock().unwrap().clone();
    assert_eq!(
        calls.values().sum::<u32>(),
        3,
        "the handler ran once per event: {calls:?}"
    );
    s.cancel.cancel();
}

async fn failures_are_retried_and_poison_is_terminated(backend: Backend) {
    let mut s = setup(backend).await;
    send(&s.js, &event("flaky", "retry:2")).await;
    send(&s.js, &event("poison", "reject")).await;
    send(&s.js, &event("hopeless", "retry:99")).await;
    send(&s.js, &event("fine", "ok")).await;
    wait_until("the flaky and fine events are applied", async || {
        applied(&s.conn).await == 2
    })
    .await;
    wait_until("the hopeless event used its deliveries", async || {
        s.handler.calls.lock().unwrap().get("hopeless").copied() == Some(4)
    })
    .await;
    let calls = s.handler.calls.lock().unwrap().clone();
    assert_eq!(calls["flaky"], 3, "two failures then success");
    assert_eq!(calls["poison"], 1, "a rejected event is not redelivered");

    // The consumer survives NATS restarting and picks up where it was.
    s.nats.stop().await;
    s.nats.restart().await;
    let js = async_nats::jetstream::new(s.nats.client().await);
    send(&js, &event("after-restart", "ok")).await;
    wait_until("the event after the restart is applied", async || {
        applied(&s.conn).await == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        s.handler.calls.lock().unwrap()["hopeless"],
        4,
        "max_deliver bounds the attempts"
    );
    s.cancel.cancel();
}
