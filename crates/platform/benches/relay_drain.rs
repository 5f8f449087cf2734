//! How fast the outbox relay drains a backlog, against the ceiling JetStream itself allows on this
//! machine in the same run: publishing envelopes of the same size to a file-storage stream with
//! every acknowledgement in flight (`js.publish` then awaiting the acks), no database at all.
//!
//! ```sh
//! cargo bench -p rekisteri-platform --bench relay_drain            # 100,000 events, SQLite and PostgreSQL
//! cargo bench -p rekisteri-platform --bench relay_drain -- 20000 sqlite
//! ```
//!
//! PostgreSQL is `REKISTERI_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! the NATS server is a fresh `nats-server -js` of the bench's own.

use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use prost::Message as _;
use rekisteri_platform::db;
use rekisteri_platform::outbox::{self, OutboxRelay, OutboxSignal, StreamSpec};
use rekisteri_proto::events::v1::{EventEnvelope, RegisterRetired, event_envelope::Payload};
use rekisteri_test_support::{Backend, NatsServer, TestDb};
use sea_orm::TransactionTrait;
use sea_orm_migration::prelude::*;

const STREAM: StreamSpec = StreamSpec {
    name: "REKISTERI_BENCH",
    subjects: &["rekisteri.bench.>"],
    max_age: Duration::from_secs(3600),
    max_bytes: 4 * 1024 * 1024 * 1024,
};

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        rekisteri_platform::migrations()
    }
}

fn event(n: usize) -> EventEnvelope {
    outbox::envelope(
        "bench",
        "rekisteri.bench.retired.v1",
        "bench",
        Payload::RegisterRetired(RegisterRetired {
            register_id: uuid::Uuid::now_v7().to_string(),
            last_published_version: n as u32,
            reason: "Palvelu lopetettu".into(),
        }),
    )
}

/// JetStream's own rate: the same envelopes and headers, as many acks in flight as async-nats
/// allows (a window just under its 5,000).
async fn ceiling(nats: &NatsServer, n: usize) -> f64 {
    let js = async_nats::jetstream::new(nats.client().await);
    let name = "REKISTERI_CEILING";
    let mut config = STREAM.config(1);
    config.name = name.into();
    config.subjects = vec!["rekisteri.ceiling.>".into()];
    js.create_or_update_stream(config).await.unwrap();
    let events: Vec<EventEnvelope> = (0..n).map(event).collect();
    let started = Instant::now();
    // Chunks of 4,000 in flight together (async-nats holds at most 5,000 per context).
    for chunk in events.chunks(4_000) {
        let mut acks = Vec::with_capacity(chunk.len());
        for e in chunk {
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", e.event_id.as_str());
            acks.push(
                js.publish_with_headers(
                    "rekisteri.ceiling.retired",
                    headers,
                    e.encode_to_vec().into(),
                )
                .await
                .unwrap(),
            );
        }
        for ack in
            futures::future::join_all(acks.into_iter().map(std::future::IntoFuture::into_future))
                .await
        {
            ack.unwrap();
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// The relay draining `n` waiting rows; returns events per second.
async fn drain(nats: &NatsServer, backend: Backend, n: usize, batch: u64) -> f64 {
    let test_db = TestDb::fresh(backend).await;
    let mut config = rekisteri_test_support::service_config("bench", &test_db.url, &nats.url());
    config.outbox.batch_size = batch;
    let db = db::connect_and_migrate::<Migrator>(&config.database)
        .await
        .unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let txn = db.writer().begin().await.unwrap();
        for i in chunk {
            outbox::enqueue(&txn, "rekisteri.bench.retired", &event(*i))
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
    }
    let js = async_nats::jetstream::new(nats.client().await);
    js.delete_stream(STREAM.name).await.ok();
    STREAM.ensure(&js, 1).await.unwrap();
    let relay = OutboxRelay::new(
        db.clone(),
        js,
        vec![STREAM],
        1,
        OutboxSignal::default(),
        config.outbox.clone(),
    );
    let started = Instant::now();
    let mut published = 0;
    loop {
        let round = relay.round().await.unwrap();
        published += round.published;
        if round.claimed == 0 {
            break;
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(published, n, "every row published once");
    n as f64 / elapsed.as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let backends: Vec<Backend> = match args.iter().find(|a| a.parse::<usize>().is_err()) {
        Some(b) if b == "sqlite" => vec![Backend::Sqlite],
        Some(b) if b == "postgres" => vec![Backend::Postgres],
        _ => vec![Backend::Sqlite, Backend::Postgres],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let nats = NatsServer::start().await;
        println!(
            "relay drain of {n} events ({} cores)",
            std::thread::available_parallelism().map_or(0, |p| p.get())
        );
        let ceiling = ceiling(&nats, n).await;
        println!("| what | events/s | of the ceiling |");
        println!("|---|---:|---:|");
        println!("| JetStream publish, all acks in flight (ceiling) | {ceiling:.0} | 1.00 |");
        for backend in backends {
            for batch in [100, 500, 4000] {
                let rate = drain(&nats, backend, n, batch).await;
                println!(
                    "| relay on {backend:?}, batch {batch} | {rate:.0} | {:.2} |",
                    rate / ceiling
                );
            }
        }
    });
}
