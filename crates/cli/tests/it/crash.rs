//! `rekisteri serve` killed with SIGKILL while its relay drains a backlog: nothing acknowledged
//! is lost, and after a restart every event is on the stream once, in order.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use prost::Message as _;
use rekisteri_platform::outbox;
use rekisteri_proto::events::v1::{EventEnvelope, RegisterRetired, event_envelope::Payload};
use rekisteri_test_support::{Backend, NatsServer, TestDb, db_tests};
use sea_orm::TransactionTrait;

use super::{BIN, Guard, free_port, listening, stop_gracefully, wait_for};

const EVENTS: usize = 20_000;
const STREAM: &str = "REKISTERI_CATALOGUE";

db_tests!(a_sigkill_mid_batch_loses_nothing);

/// How many messages the stream holds (0 before it exists).
async fn on_stream(js: &async_nats::jetstream::Context) -> u64 {
    match js.get_stream(STREAM).await {
        Ok(mut stream) => stream.info().await.map_or(0, |i| i.state.messages),
        Err(_) => 0,
    }
}

/// Every event id on the stream, in stream order, read with one pull consumer.
async fn stream_ids(js: &async_nats::jetstream::Context) -> Vec<String> {
    use async_nats::jetstream::consumer::{AckPolicy, pull};
    let stream = js.get_stream(STREAM).await.unwrap();
    let consumer = stream
        .create_consumer(pull::Config {
            ack_policy: AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let total = stream.cached_info().state.messages as usize;
    let mut ids = Vec::with_capacity(total);
    let mut messages = consumer.messages().await.unwrap();
    while ids.len() < total {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("the stream keeps delivering")
            .unwrap()
            .unwrap();
        ids.push(
            EventEnvelope::decode(message.payload.clone())
                .unwrap()
                .event_id,
        );
    }
    ids
}

async fn a_sigkill_mid_batch_loses_nothing(backend: Backend) {
    rekisteri_test_support::init_tracing();
    let nats = NatsServer::start().await;
    let db = TestDb::fresh(backend).await;
    let config = rekisteri_test_support::service_config("catalogue", &db.url, &nats.url());
    let conn = rekisteri_platform::db::connect_and_migrate::<
        rekisteri_catalogue::migration::Migrator,
    >(&config.database)
    .await
    .unwrap();
    // A backlog, as if NATS had been away while registers were retired.
    let mut expected = Vec::with_capacity(EVENTS);
    for chunk in 0..EVENTS / 5_000 {
        let txn = conn.writer().begin().await.unwrap();
        for i in 0..5_000 {
            let event = outbox::envelope(
                "catalogue",
                "rekisteri.catalogue.register_retired.v1",
                "test",
                Payload::RegisterRetired(RegisterRetired {
                    register_id: format!("r{}", chunk * 5_000 + i),
                    last_published_version: 1,
                    reason: "backlog".into(),
                }),
            );
            outbox::enqueue(&txn, "rekisteri.catalogue.register.retired", &event)
                .await
                .unwrap();
            expected.push(event.event_id);
        }
        txn.commit().await.unwrap();
    }
    conn.close().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = dir.path().join("catalogue.toml");
    std::fs::write(
        &file,
        format!(
            "[grpc]\nlisten = \"127.0.0.1:{port}\"\n[database]\nurl = \"{}\"\n[nats]\nurl = \"{}\"\n\
             [outbox]\nbatch_size = 500\n[[auth.static_tokens]]\nname = \"t\"\nsha256 = \"{}\"\nroles = [\"admin\"]\n",
            db.url,
            nats.url(),
            rekisteri_platform::auth::hash_token("t"),
        ),
    )
    .unwrap();
    let serve = || {
        Guard(
            Command::new(BIN)
                .args(["serve", "catalogue", "--config"])
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let js = async_nats::jetstream::new(nats.client().await);

    let mut first = serve();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while on_stream(&js).await < 1_000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.0.kill().unwrap(); // SIGKILL: no drain, no flush, batches in flight.
    first.0.wait().unwrap();
    let at_kill = on_stream(&js).await as usize;
    assert!(
        at_kill < EVENTS,
        "the backlog drained before the kill ({at_kill}); the test needs a larger backlog"
    );

    let mut second = serve();
    wait_for("the service to listen", Duration::from_secs(60), || {
        listening(port)
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while (on_stream(&js).await as usize) < EVENTS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backlog did not drain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Rows published before the kill but not yet marked are published again; the stream drops
    // the copies within its duplicate window.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ids = stream_ids(&js).await;
    assert_eq!(ids.len(), EVENTS, "every event once (killed at {at_kill})");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), EVENTS);
    assert_eq!(ids, expected, "in the order they were written");
    stop_gracefully(&mut second);
}
