//! The idempotent consumer: redeliveries, concurrent duplicates, retries, dead letters and their
//! replay, long handlers, settings checked at start.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::HeaderMap;
use prost::Message as _;
use rekisteri_platform::CancellationToken;
use rekisteri_platform::inbox::{
    self, Applied, Consumer, ConsumerSpec, EventHandler, HandlerError,
};
use rekisteri_platform::outbox::{self, OutboxSignal};
use rekisteri_proto::events::v1::{EventEnvelope, RegisterRetired, event_envelope::Payload};
use rekisteri_test_support::{Backend, db_tests};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement};

use super::{Env, STREAM, wait_until};

db_tests!(
    redeliveries_change_nothing,
    two_deliveries_at_once_apply_once,
    failures_are_retried_then_dead_lettered_and_replayed,
    a_handler_longer_than_ack_wait_is_not_redelivered,
    a_message_is_kept_when_its_dead_letter_cannot_be_written,
);

/// How many deliveries the server made to the test consumer, first deliveries and redeliveries
/// alike (the consumer sequence counts every delivery).
async fn deliveries(env: &Env) -> u64 {
    let js = env.jetstream().await;
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = js
        .get_stream(STREAM.name)
        .await
        .unwrap()
        .get_consumer("test-consumer")
        .await
        .unwrap();
    consumer.info().await.unwrap().delivered.consumer_sequence
}

/// Records each event it applies in `applied` and fails as told by the event's reason:
/// `retry:N` fails N times, `reject` rejects while `accept_rejects` is off, `slow:MS` takes that
/// long.
#[derive(Default)]
struct Recorder {
    calls: Mutex<HashMap<String, u32>>,
    accept_rejects: AtomicBool,
}

impl Recorder {
    fn calls(&self, id: &str) -> u32 {
        self.calls.lock().unwrap().get(id).copied().unwrap_or(0)
    }
}

/// The handler the consumer holds; the test keeps the recorder to look at.
struct Handler(Arc<Recorder>);

impl EventHandler for Handler {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let this = &self.0;
        let Some(Payload::RegisterRetired(r)) = &event.payload else {
            return Err(HandlerError::Reject(anyhow::anyhow!("unexpected payload")));
        };
        let calls = {
            let mut calls = this.calls.lock().unwrap();
            let n = calls.entry(r.register_id.clone()).or_default();
            *n += 1;
            *n
        };
        if r.reason == "reject" && !this.accept_rejects.load(Ordering::SeqCst) {
            return Err(HandlerError::Reject(anyhow::anyhow!("never")));
        }
        if let Some(n) = r.reason.strip_prefix("retry:")
            && calls <= n.parse().unwrap()
        {
            return Err(HandlerError::Retry(anyhow::anyhow!("not yet")));
        }
        if let Some(ms) = r.reason.strip_prefix("slow:") {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
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

fn spec(max_deliver: i64, ack_wait: Duration) -> ConsumerSpec {
    ConsumerSpec {
        stream: STREAM,
        durable: "test-consumer".into(),
        filter_subject: "rekisteri.test.>".into(),
        max_deliver,
        ack_wait,
    }
}

/// Starts a consumer with `handler` on the environment's NATS and database.
async fn start(env: &Env, consumer: Consumer) -> CancellationToken {
    let cancel = CancellationToken::new();
    tokio::spawn(consumer.run(
        env.jetstream().await,
        env.db.clone(),
        OutboxSignal::default(),
        cancel.clone(),
    ));
    cancel
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
async fn send(env: &Env, event: &EventEnvelope) {
    let js = env.jetstream().await;
    STREAM.ensure(&js, 1).await.unwrap();
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

async fn applied(env: &Env) -> i64 {
    env.count("SELECT COUNT(*) FROM applied").await
}

async fn redeliveries_change_nothing(backend: Backend) {
    let env = Env::new(backend).await;
    let handler = Arc::new(Recorder::default());
    let cancel = start(
        &env,
        Consumer::new(spec(4, Duration::from_secs(5)), Handler(handler.clone())),
    )
    .await;
    let events: Vec<_> = (0..3).map(|i| event(&format!("r{i}"), "ok")).collect();
    for e in &events {
        send(&env, e).await;
    }
    // The same event again, twice: a consumer must treat it as already done.
    send(&env, &events[1]).await;
    send(&env, &events[1]).await;
    wait_until("three events are applied", async || {
        applied(&env).await == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(applied(&env).await, 3);
    assert_eq!(
        handler.calls("r1"),
        1,
        "the duplicate never reached the handler"
    );
    cancel.cancel();
}

async fn two_deliveries_at_once_apply_once(backend: Backend) {
    let env = Env::new(backend).await;
    let handler = Arc::new(Recorder::default());
    let consumer = Consumer::new(spec(4, Duration::from_secs(5)), Handler(handler.clone()));
    // A slow handler, so that the second delivery arrives while the first is still applying.
    let e = event("twice", "slow:300");
    let signal = OutboxSignal::default();
    let (a, b) = tokio::join!(
        consumer.apply(&env.db, &signal, &e),
        consumer.apply(&env.db, &signal, &e)
    );
    let mut outcomes = vec![a.expect("no error"), b.expect("no error")];
    outcomes.sort_by_key(|o| *o == Applied::Already);
    assert_eq!(outcomes, vec![Applied::Now, Applied::Already]);
    assert_eq!(applied(&env).await, 1);
}

async fn failures_are_retried_then_dead_lettered_and_replayed(backend: Backend) {
    let mut env = Env::new(backend).await;
    let handler = Arc::new(Recorder::default());
    let consumer = Consumer::new(spec(4, Duration::from_secs(5)), Handler(handler.clone()));
    let cancel = start(&env, consumer.clone()).await;
    send(&env, &event("flaky", "retry:2")).await;
    send(&env, &event("poison", "reject")).await;
    send(&env, &event("hopeless", "retry:99")).await;
    send(&env, &event("fine", "ok")).await;
    wait_until("the flaky and fine events are applied", async || {
        applied(&env).await == 2
    })
    .await;
    wait_until("two dead letters are kept", async || {
        inbox::dead_letter_count(env.db.reader()).await.unwrap() == 2
    })
    .await;
    assert_eq!(handler.calls("flaky"), 3, "two failures then success");
    assert_eq!(
        handler.calls("poison"),
        1,
        "a rejected event is not redelivered"
    );
    assert_eq!(
        handler.calls("hopeless"),
        4,
        "max_deliver bounds the attempts"
    );
    let letters = inbox::list_dead_letters(env.db.reader(), 10).await.unwrap();
    let errors: Vec<(&str, i64)> = letters
        .iter()
        .map(|l| (l.error.as_str(), l.deliveries))
        .collect();
    assert!(errors[0].0.starts_with("rejected: never"), "{errors:?}");
    assert_eq!(errors[1].1, 4, "{errors:?}");
    assert!(
        errors[1].0.contains("failed on all 4 deliveries"),
        "{errors:?}"
    );

    // The consumer survives NATS restarting and picks up where it was.
    env.nats.stop().await;
    env.nats.restart().await;
    send(&env, &event("after-restart", "ok")).await;
    wait_until("the event after the restart is applied", async || {
        applied(&env).await == 3
    })
    .await;

    // The cause is fixed; the operator replays: the rejected one applies, the hopeless one fails
    // again and stays.
    handler.accept_rejects.store(true, Ordering::SeqCst);
    let outcomes = inbox::replay_dead_letters(
        &env.db,
        &OutboxSignal::default(),
        std::slice::from_ref(&consumer),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].error, None);
    assert!(
        outcomes[1]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("not yet")
    );
    assert_eq!(applied(&env).await, 4);
    let left = inbox::list_dead_letters(env.db.reader(), 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].error.starts_with("replay: "), "{}", left[0].error);
    // Replaying an applied one again changes nothing.
    let again = inbox::replay_dead_letters(
        &env.db,
        &OutboxSignal::default(),
        &[consumer],
        &[letters[0].id.clone()],
    )
    .await
    .unwrap();
    assert!(
        again.is_empty(),
        "a replayed dead letter is done: {again:?}"
    );
    assert_eq!(applied(&env).await, 4);
    cancel.cancel();
}

async fn a_handler_longer_than_ack_wait_is_not_redelivered(backend: Backend) {
    let env = Env::new(backend).await;
    let handler = Arc::new(Recorder::default());
    // ack_wait 1.5 s, the handler 4 s: without in-progress acks the server would redeliver.
    let cancel = start(
        &env,
        Consumer::new(
            spec(4, Duration::from_millis(1500)),
            Handler(handler.clone()),
        ),
    )
    .await;
    send(&env, &event("slow", "slow:4000")).await;
    wait_until("the slow event is applied", async || {
        applied(&env).await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(handler.calls("slow"), 1);
    // The server never redelivered it: the in-progress acks kept it with this consumer.
    // One delivery in all: the in-progress acks kept the message with this consumer.
    assert_eq!(
        deliveries(&env).await,
        1,
        "no redelivery while the handler worked"
    );
    cancel.cancel();
}

async fn a_message_is_kept_when_its_dead_letter_cannot_be_written(backend: Backend) {
    let env = Env::new(backend).await;
    let handler = Arc::new(Recorder::default());
    // ack_wait far longer than the nak delay: only a nak brings a message back soon.
    let cancel = start(
        &env,
        Consumer::new(spec(2, Duration::from_secs(30)), Handler(handler.clone())),
    )
    .await;
    // The database refuses dead letters for a while (as if it were away).
    env.db
        .writer()
        .execute_unprepared("ALTER TABLE dead_letters RENAME TO dead_letters_away")
        .await
        .unwrap();
    send(&env, &event("doomed", "retry:99")).await;
    send(&env, &event("refused", "reject")).await;
    wait_until(
        "both deliveries are used and the rejection seen",
        async || handler.calls("doomed") >= 2 && handler.calls("refused") >= 1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    env.db
        .writer()
        .execute_unprepared("ALTER TABLE dead_letters_away RENAME TO dead_letters")
        .await
        .unwrap();
    // Both come back after the refused dead letter (naked, well before ack_wait) and are kept.
    let kept = async {
        while inbox::dead_letter_count(env.db.reader()).await.unwrap() < 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), kept)
        .await
        .expect("both messages came back within 15 s and were kept as dead letters");
    let letters = inbox::list_dead_letters(env.db.reader(), 10).await.unwrap();
    assert_eq!(letters.len(), 2, "{letters:?}");
    cancel.cancel();
}

#[test]
fn consumer_settings_are_checked() {
    let ok = spec(4, Duration::from_secs(5));
    assert!(ok.validate().is_ok());
    let mut bad = ok.clone();
    bad.max_deliver = 0;
    assert!(bad.validate().unwrap_err().contains("max_deliver"));
    let mut bad = ok.clone();
    bad.durable = "has.dots".into();
    assert!(bad.validate().unwrap_err().contains("durable"));
    let mut bad = ok.clone();
    bad.filter_subject = "rekisteri.other.>".into();
    assert!(bad.validate().unwrap_err().contains("outside the stream"));
    let mut bad = ok;
    bad.ack_wait = Duration::from_millis(100);
    assert!(bad.validate().unwrap_err().contains("ack_wait"));
}
