//! The outbox relay: batches, replicas, poison rows, NATS going away, retention.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use prost::Message as _;
use rekisteri_platform::CancellationToken;
use rekisteri_platform::outbox::{self, OutboxRelay, OutboxSignal};
use rekisteri_proto::events::v1::{EventEnvelope, RegisterRetired, event_envelope::Payload};
use rekisteri_test_support::{Backend, db_tests, stream_messages, wait_for_messages};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::{Env, STREAM, wait_until};

db_tests!(
    a_backlog_drains_in_order_once,
    two_relays_on_one_database_publish_each_event_once_in_order,
    a_poison_row_is_parked_and_the_rest_flow,
    an_oversized_event_is_parked,
    events_written_while_nats_is_away_go_out_when_it_returns,
    published_rows_are_deleted_after_their_retention,
);

fn event(n: usize) -> EventEnvelope {
    outbox::envelope(
        "test",
        "rekisteri.test.retired.v1",
        "tester",
        Payload::RegisterRetired(RegisterRetired {
            register_id: format!("r{n:06}"),
            last_published_version: 1,
            reason: "test".into(),
        }),
    )
}

/// Writes `n` events to the outbox in one transaction; returns their ids in order.
async fn enqueue(env: &Env, n: usize, subject: &str) -> Vec<String> {
    let txn = env.db.writer().begin().await.unwrap();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let e = event(i);
        outbox::enqueue(&txn, subject, &e).await.unwrap();
        ids.push(e.event_id);
    }
    txn.commit().await.unwrap();
    ids
}

fn relay(env: &Env, js: async_nats::jetstream::Context) -> OutboxRelay {
    OutboxRelay::new(
        env.db.clone(),
        js,
        vec![STREAM],
        1,
        OutboxSignal::default(),
        env.config.outbox.clone(),
    )
}

/// The event ids on the stream, in stream order.
async fn on_stream(env: &Env) -> Vec<String> {
    stream_messages(&env.nats.client().await, STREAM.name)
        .await
        .expect("the stream can be read")
        .iter()
        .map(|m| EventEnvelope::decode(m.payload.clone()).unwrap().event_id)
        .collect()
}

async fn a_backlog_drains_in_order_once(backend: Backend) {
    let env = Env::new(backend).await;
    let ids = enqueue(&env, 1_250, "rekisteri.test.retired").await;
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay(&env, env.jetstream().await).run(cancel.clone()));
    wait_for_messages(
        &env.nats.client().await,
        STREAM.name,
        ids.len(),
        Duration::from_secs(30),
    )
    .await;
    wait_until("every row is marked sent", async || {
        outbox::status(env.db.reader()).await.unwrap().pending == 0
    })
    .await;
    assert_eq!(on_stream(&env).await, ids, "every event once, in order");
    let sequences = env
        .count(
            "SELECT COUNT(DISTINCT stream_sequence) FROM outbox_events WHERE sent_at IS NOT NULL",
        )
        .await;
    assert_eq!(
        sequences,
        ids.len() as i64,
        "each row keeps its own stream sequence"
    );
    cancel.cancel();
    task.await.unwrap();
}

async fn two_relays_on_one_database_publish_each_event_once_in_order(backend: Backend) {
    let env = Env::new(backend).await;
    let ids = enqueue(&env, 2_000, "rekisteri.test.retired").await;
    STREAM.ensure(&env.jetstream().await, 1).await.unwrap();
    // Two replicas: their own NATS connections, the same database, rounds racing each other.
    let a = relay(&env, env.jetstream().await);
    let b = relay(&env, env.jetstream().await);
    let drive = async |relay: &OutboxRelay| {
        let mut published = 0;
        loop {
            let round = relay.round().await.unwrap();
            published += round.published;
            if !round.busy && round.claimed == 0 {
                return published;
            }
            tokio::task::yield_now().await;
        }
    };
    let (by_a, by_b) = tokio::join!(drive(&a), drive(&b));
    assert_eq!(on_stream(&env).await, ids, "every event once, in order");
    // Each row was published by exactly one of them (PostgreSQL: an advisory lock; SQLite: a file
    // lock): nothing was sent twice and left to the stream's duplicate window to drop.
    assert_eq!(by_a + by_b, ids.len(), "a: {by_a}, b: {by_b}");
}

async fn a_poison_row_is_parked_and_the_rest_flow(backend: Backend) {
    let env = Env::new(backend).await;
    let mut config = env.config.outbox.clone();
    config.max_attempts = 3;
    config.poll_interval_ms = 50;
    let before = enqueue(&env, 5, "rekisteri.test.retired").await;
    // No stream takes this subject: publication fails for this row alone, every time.
    let poison = enqueue(&env, 1, "rekisteri.nowhere.retired").await;
    let after = enqueue(&env, 5, "rekisteri.test.retired").await;
    let relay = OutboxRelay::new(
        env.db.clone(),
        env.jetstream().await,
        vec![STREAM],
        1,
        OutboxSignal::default(),
        config,
    );
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay.run(cancel.clone()));
    wait_until("the poison row is parked", async || {
        outbox::status(env.db.reader()).await.unwrap().parked == 1
    })
    .await;
    let expected: Vec<String> = before.iter().chain(&after).cloned().collect();
    assert_eq!(on_stream(&env).await, expected, "the healthy rows went out");
    let status = outbox::status(env.db.reader()).await.unwrap();
    assert_eq!(status.pending, 0, "a parked row is not waiting: {status:?}");
    let parked = outbox::list_parked(env.db.reader(), 10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].id, poison[0]);
    assert_eq!(parked[0].attempts, 3);
    let error = parked[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("rekisteri.nowhere.retired"), "{error}");

    // The operator declares a stream for it and retries: it goes out.
    let js = env.jetstream().await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "REKISTERI_NOWHERE".into(),
        subjects: vec!["rekisteri.nowhere.>".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        outbox::retry_parked(env.db.writer(), &poison)
            .await
            .unwrap(),
        1
    );
    wait_until("the retried row is published", async || {
        let s = outbox::status(env.db.reader()).await.unwrap();
        s.pending == 0 && s.parked == 0
    })
    .await;
    let nowhere = stream_messages(&env.nats.client().await, "REKISTERI_NOWHERE")
        .await
        .unwrap();
    assert_eq!(nowhere.len(), 1);
    cancel.cancel();
    task.await.unwrap();
}

async fn an_oversized_event_is_parked(backend: Backend) {
    let env = Env::new(backend).await;
    let mut config = env.config.outbox.clone();
    config.max_attempts = 2;
    config.poll_interval_ms = 50;
    let small = enqueue(&env, 3, "rekisteri.test.retired").await;
    // Larger than the server's max_payload (1 MiB by default).
    let mut big = event(99);
    if let Some(Payload::RegisterRetired(r)) = &mut big.payload {
        r.reason = "x".repeat(2 * 1024 * 1024);
    }
    outbox::enqueue(env.db.writer(), "rekisteri.test.retired", &big)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let relay = OutboxRelay::new(
        env.db.clone(),
        env.jetstream().await,
        vec![STREAM],
        1,
        OutboxSignal::default(),
        config,
    );
    let task = tokio::spawn(relay.run(cancel.clone()));
    wait_until("the oversized row is parked", async || {
        outbox::status(env.db.reader()).await.unwrap().parked == 1
    })
    .await;
    assert_eq!(on_stream(&env).await, small);
    let parked = outbox::list_parked(env.db.reader(), 10).await.unwrap();
    assert_eq!(parked[0].id, big.event_id);
    let error = parked[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("max payload"), "{error}");
    cancel.cancel();
    task.await.unwrap();
}

async fn events_written_while_nats_is_away_go_out_when_it_returns(backend: Backend) {
    let mut env = Env::new(backend).await;
    let first = enqueue(&env, 10, "rekisteri.test.retired").await;
    let client = rekisteri_platform::nats::connect("test", &env.config.nats)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(relay(&env, async_nats::jetstream::new(client)).run(cancel.clone()));
    wait_for_messages(
        &env.nats.client().await,
        STREAM.name,
        10,
        Duration::from_secs(20),
    )
    .await;

    env.nats.stop().await;
    let during = enqueue(&env, 200, "rekisteri.test.retired").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = outbox::status(env.db.reader()).await.unwrap();
    assert_eq!(status.pending, 200, "{status:?}");
    assert_eq!(status.parked, 0, "NATS being away parks nothing");
    assert_eq!(
        env.count("SELECT CAST(COALESCE(MAX(attempts), 0) AS BIGINT) FROM outbox_events")
            .await,
        0,
        "NATS being away counts as nobody's attempt"
    );

    env.nats.restart().await;
    wait_until("the backlog is published", async || {
        outbox::status(env.db.reader()).await.unwrap().pending == 0
    })
    .await;
    let expected: Vec<String> = first.iter().chain(&during).cloned().collect();
    let got = on_stream(&env).await;
    assert_eq!(got.len(), expected.len(), "no event lost or doubled");
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), expected.len());
    assert_eq!(got, expected, "in order");
    cancel.cancel();
    task.await.unwrap();
}

async fn published_rows_are_deleted_after_their_retention(backend: Backend) {
    let env = Env::new(backend).await;
    let ids = enqueue(&env, 6, "rekisteri.test.retired").await;
    let relay = relay(&env, env.jetstream().await);
    STREAM.ensure(&env.jetstream().await, 1).await.unwrap();
    assert_eq!(relay.round().await.unwrap().published, 6);
    // Three were published four days ago, three just now; two more wait unsent.
    let old = Utc::now() - chrono::Duration::days(4);
    outbox::entity::Entity::update_many()
        .col_expr(outbox::entity::Column::SentAt, Expr::value(old))
        .filter(outbox::entity::Column::Id.is_in(ids[..3].iter().cloned()))
        .exec(env.db.writer())
        .await
        .unwrap();
    enqueue(&env, 2, "rekisteri.test.retired").await;
    // The default retention is three days.
    assert_eq!(relay.delete_expired().await.unwrap(), 3);
    assert_eq!(env.count("SELECT COUNT(*) FROM outbox_events").await, 5);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM outbox_events WHERE sent_at IS NULL")
            .await,
        2,
        "unsent rows are never deleted"
    );
}
