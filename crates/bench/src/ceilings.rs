//! The machine's own ceilings, measured in the same run as the services:
//! - gRPC: a minimal tonic server (its own process) answering messages of the workload's sizes
//!   without work;
//! - the event bus: JetStream publish-with-ack of envelopes of the same size to a file stream;
//! - the database: the rows a workload writes, inserted directly through the driver (sqlx) in
//!   the same transaction shape, on a fresh database with the service's own schema.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use rekisteri_proto::bench::v1::echo_service_client::EchoServiceClient;
use rekisteri_proto::bench::v1::echo_service_server::{EchoService, EchoServiceServer};
use rekisteri_proto::bench::v1::{EchoRequest, EchoResponse};
use rekisteri_test_support::{Backend, NatsServer, TestDb};
use sea_orm::sqlx::{self, PgPool, Postgres, QueryBuilder, Sqlite, SqlitePool};
use sea_orm_migration::MigratorTrait;

use crate::load::{self, Limit, Measured};

// ----- gRPC -----

#[derive(Debug, Default)]
struct Echo;

#[tonic::async_trait]
impl EchoService for Echo {
    async fn echo(
        &self,
        request: tonic::Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoResponse>, tonic::Status> {
        let size = request.into_inner().response_bytes as usize;
        Ok(tonic::Response::new(EchoResponse {
            payload: vec![0x5a; size.min(64 * 1024 * 1024)],
        }))
    }
}

/// Serves the echo service on `addr` until the process ends: `rekisteri-bench echo-server`.
pub async fn serve_echo(addr: SocketAddr) -> anyhow::Result<()> {
    tonic::transport::Server::builder()
        .add_service(
            EchoServiceServer::new(Echo)
                .max_decoding_message_size(64 * 1024 * 1024)
                .max_encoding_message_size(64 * 1024 * 1024),
        )
        .serve(addr)
        .await?;
    Ok(())
}

/// `clients` callers of the echo server, each request and answer of the given sizes.
pub async fn echo(
    endpoint: &str,
    clients: usize,
    limit: Limit,
    request_bytes: usize,
    response_bytes: usize,
    items_per_call: u64,
) -> anyhow::Result<Measured> {
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let client = EchoServiceClient::new(channel)
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(64 * 1024 * 1024);
    let request = Arc::new(EchoRequest {
        payload: vec![0x5a; request_bytes.saturating_sub(8)],
        response_bytes: response_bytes as u32,
    });
    Ok(load::closed_loop(clients, limit, move |_| {
        let mut client = client.clone();
        let request = request.clone();
        async move {
            client.echo((*request).clone()).await?;
            Ok(items_per_call)
        }
    })
    .await)
}

// ----- the event bus -----

/// Publish-with-ack of `payload_bytes`-byte messages to a file-storage stream on `nats`, with
/// `window` acknowledgements in flight (as the relay keeps a batch in flight), for `limit`.
pub async fn jetstream(
    nats: &NatsServer,
    payload_bytes: usize,
    window: usize,
    limit: Limit,
) -> anyhow::Result<Measured> {
    let client = async_nats::connect(nats.url()).await?;
    let js = jetstream::new(client);
    let name = format!("BENCH_CEILING_{}", uuid::Uuid::now_v7().simple());
    js.create_stream(stream::Config {
        name: name.clone(),
        subjects: vec![format!("bench.{name}.>")],
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await?;
    let subject = format!("bench.{name}.event");
    let payload = bytes::Bytes::from(vec![0x5a; payload_bytes]);
    // One "call" is a window of publications whose acks are awaited together, as the relay
    // does with a batch; items are the messages.
    let measured = load::closed_loop(1, limit, move |_| {
        let js = js.clone();
        let subject = subject.clone();
        let payload = payload.clone();
        async move {
            let mut acks = Vec::with_capacity(window);
            for _ in 0..window {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", uuid::Uuid::now_v7().to_string().as_str());
                acks.push(
                    js.publish_with_headers(subject.clone(), headers, payload.clone())
                        .await?,
                );
            }
            for ack in acks {
                ack.await?;
            }
            Ok(window as u64)
        }
    })
    .await;
    Ok(measured)
}

// ----- the database -----

/// A fresh database with a service's schema, and a pool of the driver's own on it.
pub struct DirectDb {
    pub pool: Pool,
    _database: TestDb,
}

#[derive(Clone)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl DirectDb {
    pub async fn fresh<M: MigratorTrait>(backend: Backend) -> anyhow::Result<Self> {
        let database = TestDb::fresh(backend).await;
        let conn = sea_orm::Database::connect(&database.url).await?;
        M::up(&conn, None).await?;
        conn.close().await?;
        let pool = match backend {
            Backend::Postgres => Pool::Postgres(
                // The services' default pool (database.max_connections).
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(10)
                    .connect(&database.url)
                    .await?,
            ),
            // One writer, as the services run SQLite: WAL, synchronous=NORMAL.
            Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = database.url.parse()?;
                Pool::Sqlite(
                    sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect_with(
                            options
                                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                                .busy_timeout(Duration::from_secs(10)),
                        )
                        .await?,
                )
            }
        };
        Ok(Self {
            pool,
            _database: database,
        })
    }
}

/// Runs the statements of one transaction on either driver: the same SQL, written once, with
/// `DB` naming the driver's database type inside the body.
macro_rules! on_pool {
    ($pool:expr, |$tx:ident| $body:block) => {
        match $pool {
            Pool::Postgres(pool) => {
                type DB = Postgres;
                let mut $tx = pool.begin().await?;
                $body
                $tx.commit().await?;
            }
            Pool::Sqlite(pool) => {
                type DB = Sqlite;
                let mut $tx = pool.begin().await?;
                $body
                $tx.commit().await?;
            }
        }
    };
}

/// A batch of `batch` disclosures as the log appends it, straight through the driver: the head
/// row read under its lock, the entries, their subject links, two tree nodes each, the head
/// row's update and an outbox event each, in one transaction.
pub async fn disclosures_direct(
    db: &DirectDb,
    clients: usize,
    limit: Limit,
    batch: usize,
    envelope_bytes: usize,
) -> anyhow::Result<Measured> {
    let pool = db.pool.clone();
    let next_sequence = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let envelope = Arc::new(vec![0x5a_u8; envelope_bytes]);
    Ok(load::closed_loop(clients, limit, move |_| {
        let pool = pool.clone();
        let next_sequence = next_sequence.clone();
        let envelope = envelope.clone();
        async move {
            on_pool!(&pool, |tx| {
                let lock = if matches!(pool, Pool::Postgres(_)) {
                    "SELECT size FROM log_head WHERE id = 1 FOR UPDATE"
                } else {
                    "SELECT size FROM log_head WHERE id = 1"
                };
                sqlx::query(lock).execute(&mut *tx).await?;
                let first = next_sequence.fetch_add(batch as i64, std::sync::atomic::Ordering::SeqCst);
                let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = (first..first + batch as i64)
                    .map(|s| (s, rand::random::<[u8; 32]>().to_vec(), envelope.to_vec()))
                    .collect();
                let now = chrono::Utc::now().timestamp_micros();
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO entries (sequence, disclosure_id, recorded_at_us, disclosed_at_us, \
                     recipient_name, recipient_business_id, recipient_country, subject_pseudonyms, \
                     register_id, register_version, data_categories, purpose, legal_basis, channel, \
                     principal, regular, transfer, flags, safeguard, leaf_hash) ",
                );
                q.push_values(&rows, |mut b, (s, leaf, _)| {
                    b.push_bind(*s)
                        .push_bind(uuid::Uuid::now_v7().to_string())
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind("Viranomaiset")
                        .push_bind("")
                        .push_bind("FI")
                        .push_bind(hex_pseudonym(*s))
                        .push_bind("01a249e1-d312-778a-9657-2e767bcc2bfe")
                        .push_bind(1_i32)
                        .push_bind("contact_details")
                        .push_bind("Viranomaisen tietopyyntö")
                        .push_bind(3_i32)
                        .push_bind(1_i32)
                        .push_bind("bench")
                        .push_bind(true)
                        .push_bind(0_i32)
                        .push_bind("")
                        .push_bind(0_i32)
                        .push_bind(leaf.clone());
                });
                q.build().execute(&mut *tx).await?;
                let mut q = QueryBuilder::<DB>::new("INSERT INTO entry_subjects (pseudonym, sequence) ");
                q.push_values(&rows, |mut b, (s, _, _)| {
                    b.push_bind(hex_pseudonym(*s)).push_bind(*s);
                });
                q.build().execute(&mut *tx).await?;
                let mut q = QueryBuilder::<DB>::new("INSERT INTO tree_nodes (level, idx, hash) ");
                q.push_values(
                    rows.iter().flat_map(|(s, leaf, _)| [(0_i32, *s, leaf), (1_i32, *s + (1 << 40), leaf)]),
                    |mut b, (level, idx, hash)| {
                        b.push_bind(level).push_bind(idx).push_bind(hash.clone());
                    },
                );
                q.build().execute(&mut *tx).await?;
                sqlx::query("UPDATE log_head SET size = size + 1 WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO outbox_events (id, subject, payload, created_at, attempts) ",
                );
                q.push_values(&rows, |mut b, (_, _, env)| {
                    b.push_bind(uuid::Uuid::now_v7().to_string())
                        .push_bind("rekisteri.disclosures.recorded")
                        .push_bind(env.clone())
                        .push_bind(chrono::Utc::now())
                        .push_bind(0_i32);
                });
                q.build().execute(&mut *tx).await?;
            });
            Ok(batch as u64)
        }
    })
    .await)
}

fn hex_pseudonym(sequence: i64) -> String {
    format!("{:032x}", sequence as u128 * 0x9e37_79b9_7f4a_7c15)
}

/// A person as CreatePerson writes one, straight through the driver: the subject row (sealed
/// identity code, blind index), an email and a phone, the register membership and the outbox
/// event, in one transaction.
pub async fn customers_direct(
    db: &DirectDb,
    clients: usize,
    limit: Limit,
    envelope_bytes: usize,
) -> anyhow::Result<Measured> {
    let pool = db.pool.clone();
    let envelope = Arc::new(vec![0x5a_u8; envelope_bytes]);
    Ok(load::closed_loop(clients, limit, move |n| {
        let pool = pool.clone();
        let envelope = envelope.clone();
        async move {
            let id = uuid::Uuid::now_v7().to_string();
            let now = chrono::Utc::now();
            on_pool!(&pool, |tx| {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO subjects (id, kind, revision, given_names, name, name_key, hetu_sealed, \
                     hetu_key_id, hetu_index, date_of_birth, language, created_by, created_at, updated_at) ",
                );
                q.push_values([()], |mut b, ()| {
                    b.push_bind(id.clone())
                        .push_bind("person")
                        .push_bind(1_i64)
                        .push_bind("Kuorma")
                        .push_bind(format!("Testaaja{n}"))
                        .push_bind(format!("testaaja{n} kuorma"))
                        .push_bind(rand::random::<[u8; 32]>().to_vec())
                        .push_bind("local-1")
                        .push_bind(format!("{:064x}", u128::from(rand::random::<u64>())))
                        .push_bind("1952-10-13")
                        .push_bind("fi")
                        .push_bind("bench")
                        .push_bind(now)
                        .push_bind(now);
                });
                q.build().execute(&mut *tx).await?;
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO subject_values (subject_id, kind, position, value, lookup) ",
                );
                q.push_values(
                    [("email", format!("kuorma{n}@example.fi")), ("phone", format!("+35840{n:07}"))],
                    |mut b, (kind, value)| {
                        b.push_bind(id.clone())
                            .push_bind(kind)
                            .push_bind(0_i32)
                            .push_bind(value.clone())
                            .push_bind(value);
                    },
                );
                q.build().execute(&mut *tx).await?;
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO memberships (subject_id, register_id, basis, start_date) ",
                );
                q.push_values([()], |mut b, ()| {
                    b.push_bind(id.clone())
                        .push_bind("01a249e1-d312-778a-9657-2e767bcc2bfe")
                        .push_bind("asiakassuhde")
                        .push_bind("2026-12-06");
                });
                q.build().execute(&mut *tx).await?;
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO outbox_events (id, subject, payload, created_at, attempts) ",
                );
                q.push_values([()], |mut b, ()| {
                    b.push_bind(uuid::Uuid::now_v7().to_string())
                        .push_bind("rekisteri.customers.subject.created")
                        .push_bind(envelope.to_vec())
                        .push_bind(now)
                        .push_bind(0_i32);
                });
                q.build().execute(&mut *tx).await?;
            });
            Ok(1)
        }
    })
    .await)
}

/// The PRH stand-in asked directly over HTTP, a new business ID each call, `clients` at a
/// time: the most the enrichment service's cold lookups could do against it.
pub async fn http_source(base: &str, clients: usize, limit: Limit) -> anyhow::Result<Measured> {
    let client = reqwest::Client::builder().build()?;
    let url = format!("{base}/opendata-ytj-api/v3/companies");
    // Far from the IDs the service's cold workload asks, so neither warms the other.
    let offset = 5_000_000;
    Ok(load::closed_loop(clients, limit, move |n| {
        let request = client
            .get(&url)
            .query(&[("businessId", crate::prh_mock::business_id(offset + n))]);
        async move {
            let response = request.send().await?.error_for_status()?;
            response.bytes().await?;
            Ok(1)
        }
    })
    .await)
}
