//! The services' workloads, each over real gRPC with the services' own generated clients.

use std::sync::{Arc, Mutex};

use prost::Message as _;
use rekisteri_proto::catalogue::v1 as cat;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::customers::v1 as cust;
use rekisteri_proto::customers::v1::customer_service_client::CustomerServiceClient;
use rekisteri_proto::disclosures::v1 as disc;
use rekisteri_proto::disclosures::v1::disclosure_service_client::DisclosureServiceClient;
use rekisteri_proto::enrichment::v1 as enr;
use rekisteri_proto::enrichment::v1::enrichment_service_client::EnrichmentServiceClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::load::{self, Limit, Measured};
use crate::system::{Authed, System};

/// A workload's result with the sizes of one request and its answer (for the echo ceiling).
#[derive(Debug, Clone)]
pub struct Run {
    pub measured: Measured,
    pub request_bytes: usize,
    pub response_bytes: usize,
}

impl Run {
    /// A run whose message sizes do not matter (no echo ceiling is read against it).
    pub fn sizeless(measured: Measured) -> Self {
        Self {
            measured,
            request_bytes: 0,
            response_bytes: 0,
        }
    }
}

/// The same request, `clients` callers at a time: one call first for the sizes of the request
/// and its answer (the echo ceiling's), then the closed loop.
async fn same_request<C, Q, R, F, Fut>(
    client: C,
    request: Q,
    clients: usize,
    limit: Limit,
    call: F,
) -> anyhow::Result<Run>
where
    C: Clone + Send + Sync + 'static,
    Q: prost::Message + Clone + Send + Sync + 'static,
    R: prost::Message,
    F: Fn(C, Q) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<tonic::Response<R>, tonic::Status>> + Send + 'static,
{
    let response_bytes = call(client.clone(), request.clone())
        .await?
        .into_inner()
        .encoded_len();
    let request_bytes = request.encoded_len();
    let measured = load::closed_loop(clients, limit, move |_| {
        let answer = call(client.clone(), request.clone());
        async move {
            answer.await?;
            Ok(1)
        }
    })
    .await;
    Ok(Run {
        measured,
        request_bytes,
        response_bytes,
    })
}

/// `grpc.health.v1.Health/Check` on a service: no auth, no database.
pub async fn health(
    system: &System,
    service: &str,
    clients: usize,
    limit: Limit,
) -> anyhow::Result<Run> {
    let client = HealthClient::new(system.service(service).channel().await?);
    let measured = load::closed_loop(clients, limit, move |_| {
        let mut client = client.clone();
        async move {
            client.check(HealthCheckRequest::default()).await?;
            Ok(1)
        }
    })
    .await;
    Ok(Run {
        measured,
        request_bytes: 0,
        response_bytes: 2,
    })
}

async fn catalogue(system: &System) -> anyhow::Result<CatalogueServiceClient<Authed>> {
    Ok(CatalogueServiceClient::new(
        system.service("catalogue").authed().await?,
    ))
}

pub async fn get_register(
    system: &System,
    register: &str,
    clients: usize,
    limit: Limit,
) -> anyhow::Result<Run> {
    let request = cat::GetRegisterRequest {
        register_id: register.to_owned(),
        ..Default::default()
    };
    same_request(
        catalogue(system).await?,
        request,
        clients,
        limit,
        |mut client, request| async move { client.get_register(request).await },
    )
    .await
}

pub async fn list_registers(system: &System, clients: usize, limit: Limit) -> anyhow::Result<Run> {
    same_request(
        catalogue(system).await?,
        cat::ListRegistersRequest::default(),
        clients,
        limit,
        |mut client, request| async move { client.list_registers(request).await },
    )
    .await
}

/// The `n`th valid identity code: distinct for n below 28 × 12 × 100 × 898 (about 30 million).
pub fn hetu(n: u64) -> String {
    let individual = 2 + n % 898;
    let rest = n / 898;
    let (day, month, year) = (1 + rest % 28, 1 + (rest / 28) % 12, (rest / 336) % 100);
    let digits = day * 10_000_000 + month * 100_000 + year * 1000 + individual;
    let check = b"0123456789ABCDEFHJKLMNPRSTUVWXY"[(digits % 31) as usize] as char;
    format!("{day:02}{month:02}{year:02}-{individual:03}{check}")
}

fn person(n: u64) -> cust::Person {
    cust::Person {
        given_names: "Kuorma".into(),
        family_name: format!("Testaaja{n}"),
        personal_identity_code: hetu(n),
        emails: vec![format!("kuorma{n}@example.fi")],
        phones: vec![format!("040 {:07}", n % 10_000_000)],
        ..Default::default()
    }
}

/// The persons a create run made: number, subject id, etag.
pub type Created = Arc<Mutex<Vec<(u64, String, String)>>>;

async fn customers(system: &System) -> anyhow::Result<CustomerServiceClient<Authed>> {
    Ok(CustomerServiceClient::new(
        system.service("customers").authed().await?,
    ))
}

/// CreatePerson with a distinct valid identity code each, numbered from `first`; the persons
/// made go to `created`.
pub async fn create_person(
    system: &System,
    register: &str,
    first: u64,
    clients: usize,
    limit: Limit,
    created: Created,
) -> anyhow::Result<Run> {
    let client = customers(system).await?;
    let register = register.to_owned();
    let request = move |n: u64| cust::CreatePersonRequest {
        person: Some(person(n)),
        memberships: vec![cust::RegisterMembership {
            register_id: register.clone(),
            basis: "asiakassuhde".into(),
            ..Default::default()
        }],
        billing: None,
    };
    let request_bytes = request(first).encoded_len();
    let sizes = Arc::new(Mutex::new(0usize));
    let measured = {
        let sizes = sizes.clone();
        load::closed_loop(clients, limit, move |i| {
            let mut client = client.clone();
            let n = first + i;
            let request = request(n);
            let created = created.clone();
            let sizes = sizes.clone();
            async move {
                let answer = client.create_person(request).await?.into_inner();
                let subject = answer.subject.clone().unwrap_or_default();
                *sizes.lock().expect("not poisoned") = answer.encoded_len();
                created
                    .lock()
                    .expect("not poisoned")
                    .push((n, subject.subject_id, subject.etag));
                Ok(1)
            }
        })
        .await
    };
    let response_bytes = *sizes.lock().expect("not poisoned");
    Ok(Run {
        measured,
        request_bytes,
        response_bytes,
    })
}

/// GetSubject of one person, by id.
pub async fn get_subject(
    system: &System,
    subject: &str,
    clients: usize,
    limit: Limit,
) -> anyhow::Result<Run> {
    let request = cust::GetSubjectRequest {
        subject_id: subject.to_owned(),
    };
    same_request(
        customers(system).await?,
        request,
        clients,
        limit,
        |mut client, request| async move { client.get_subject(request).await },
    )
    .await
}

/// An open-loop run of GetSubject at `rate` calls per second: one point of the latency chart.
pub async fn get_subject_at_rate(
    system: &System,
    subject: &str,
    rate: f64,
    duration: std::time::Duration,
) -> anyhow::Result<Measured> {
    let client = customers(system).await?;
    let request = cust::GetSubjectRequest {
        subject_id: subject.to_owned(),
    };
    Ok(load::open_loop(rate, duration, 512, move |_| {
        let mut client = client.clone();
        let request = request.clone();
        async move {
            client.get_subject(request).await?;
            Ok(1)
        }
    })
    .await)
}

/// FindSubjects by identity code (the blind index), one of the `known` persons per call; each
/// call must find exactly one.
pub async fn find_by_hetu(
    system: &System,
    known: Arc<Vec<u64>>,
    clients: usize,
    limit: Limit,
) -> anyhow::Result<Run> {
    anyhow::ensure!(!known.is_empty(), "no persons to find");
    let client = customers(system).await?;
    let request = |n: u64| cust::FindSubjectsRequest {
        by: Some(cust::find_subjects_request::By::PersonalIdentityCode(hetu(
            n,
        ))),
        page: None,
    };
    let response_bytes = client
        .clone()
        .find_subjects(request(known[0]))
        .await?
        .into_inner()
        .encoded_len();
    let request_bytes = request(known[0]).encoded_len();
    let measured = load::closed_loop(clients, limit, move |i| {
        let mut client = client.clone();
        let n = known[(i as usize * 7919) % known.len()];
        async move {
            let found = client
                .find_subjects(request(n))
                .await?
                .into_inner()
                .subjects
                .len();
            anyhow::ensure!(found == 1, "identity code {n}: found {found} subjects");
            Ok(1)
        }
    })
    .await;
    Ok(Run {
        measured,
        request_bytes,
        response_bytes,
    })
}

/// UpdatePerson with the etag its creation returned, each person of `created` once, no two
/// calls on one subject (optimistic concurrency: a lost etag would be refused and counted).
/// The most persons the UpdatePerson workload updates.
const MAX_UPDATES: u64 = 10_000;

pub async fn update_person(
    system: &System,
    created: Created,
    clients: usize,
) -> anyhow::Result<Run> {
    let client = customers(system).await?;
    // At most 10,000: after a first size of a million, updating every person created would take
    // longer than the rest of the run.
    let total = (created.lock().expect("not poisoned").len() as u64).min(MAX_UPDATES);
    let measured = load::closed_loop(clients, Limit::Calls(total), move |_| {
        let mut client = client.clone();
        let next = created.lock().expect("not poisoned").pop();
        async move {
            let Some((n, id, etag)) = next else {
                anyhow::bail!("no person left to update");
            };
            let mut p = person(n);
            p.personal_identity_code = String::new();
            p.given_names = "Kuorma Päivitetty".into();
            client
                .update_person(cust::UpdatePersonRequest {
                    subject_id: id,
                    etag,
                    person: Some(p),
                    remove_personal_identity_code: false,
                    memberships: vec![],
                    billing: None,
                })
                .await?;
            Ok(1)
        }
    })
    .await;
    Ok(Run::sizeless(measured))
}

/// RecordDisclosures with `batch` disclosures per call, to a declared recipient, each about one
/// of a thousand subjects.
pub async fn record_disclosures(
    system: &System,
    register: &str,
    batch: usize,
    clients: usize,
    limit: Limit,
) -> anyhow::Result<Run> {
    let client = DisclosureServiceClient::new(system.service("disclosures").authed().await?)
        .max_decoding_message_size(64 * 1024 * 1024);
    let subjects: Arc<Vec<String>> = Arc::new(
        (0..1000)
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect(),
    );
    let register = register.to_owned();
    let request = move |n: u64| disc::RecordDisclosuresRequest {
        disclosures: (0..batch as u64)
            .map(|i| disc::Disclosure {
                recipient: Some(disc::Recipient {
                    name: "Viranomaiset".into(),
                    business_id: String::new(),
                    country_code: "FI".into(),
                }),
                subject_ids: vec![subjects[((n * batch as u64 + i) % 1000) as usize].clone()],
                register_id: register.clone(),
                register_version: 1,
                data_categories: vec!["contact_details".into()],
                purpose: "Viranomaisen tietopyyntö".into(),
                legal_basis: cat::LegalBasis::LegalObligation as i32,
                channel: disc::Channel::Api as i32,
                disclosed_time: None,
                disclosure_id: String::new(),
            })
            .collect(),
    };
    let request_bytes = request(0).encoded_len();
    let sizes = Arc::new(Mutex::new(0usize));
    let measured = {
        let sizes = sizes.clone();
        load::closed_loop(clients, limit, move |n| {
            let mut client = client.clone();
            let request = request(n);
            let sizes = sizes.clone();
            async move {
                let answer = client.record_disclosures(request).await?.into_inner();
                *sizes.lock().expect("not poisoned") = answer.encoded_len();
                anyhow::ensure!(
                    answer.entries.len() == batch,
                    "{} entries for {batch}",
                    answer.entries.len()
                );
                Ok(batch as u64)
            }
        })
        .await
    };
    let response_bytes = *sizes.lock().expect("not poisoned");
    Ok(Run {
        measured,
        request_bytes,
        response_bytes,
    })
}

/// The outbox relay draining a backlog of `events` rows written while it was away, `batch` rows
/// a round (the platform's relay, in this process, on a database of its own): items are events
/// published, each acknowledged by JetStream and marked sent.
/// A backlog written while the relay was away, ready to drain: see [`relay_drain`].
pub struct Backlog {
    db: rekisteri_platform::db::Db,
    config: rekisteri_platform::config::ServiceConfig,
    events: usize,
    event_bytes: usize,
    _database: rekisteri_test_support::TestDb,
}

const RELAY_STREAM: rekisteri_platform::outbox::StreamSpec =
    rekisteri_platform::outbox::StreamSpec {
        name: "REKISTERI_BENCH_RELAY",
        subjects: &["rekisteri.bench.relay.>"],
        max_age: std::time::Duration::from_secs(3600),
        max_bytes: 4 * 1024 * 1024 * 1024,
    };

/// Writes `events` outbox rows to a fresh database of their own (before the measured window).
pub async fn relay_backlog(
    nats: &rekisteri_test_support::NatsServer,
    backend: rekisteri_test_support::Backend,
    events: usize,
    batch: u64,
) -> anyhow::Result<Backlog> {
    use rekisteri_platform::outbox;
    use rekisteri_proto::events::v1::{RegisterRetired, event_envelope::Payload};
    use sea_orm::TransactionTrait as _;

    struct Migrator;
    #[sea_orm_migration::prelude::async_trait::async_trait]
    impl sea_orm_migration::MigratorTrait for Migrator {
        fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
            rekisteri_platform::migrations()
        }
    }
    let event = |n: usize| {
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
    };
    let database = rekisteri_test_support::TestDb::fresh(backend).await;
    let mut config = rekisteri_test_support::service_config("bench", &database.url, &nats.url());
    config.outbox.batch_size = batch;
    let db = rekisteri_platform::db::connect_and_migrate::<Migrator>(&config.database).await?;
    let event_bytes = event(0).encoded_len();
    for chunk in (0..events).collect::<Vec<_>>().chunks(10_000) {
        let txn = db.writer().begin().await?;
        for i in chunk {
            outbox::enqueue(&txn, "rekisteri.bench.relay.retired", &event(*i)).await?;
        }
        txn.commit().await?;
    }
    Ok(Backlog {
        db,
        config,
        events,
        event_bytes,
        _database: database,
    })
}

/// The platform's outbox relay (in this process) draining a [`Backlog`], `batch` rows a round:
/// items are events published, each acknowledged by JetStream and marked sent.
pub async fn relay_drain(
    nats: &rekisteri_test_support::NatsServer,
    backlog: &Backlog,
) -> anyhow::Result<Run> {
    use rekisteri_platform::outbox::{OutboxRelay, OutboxSignal};
    let (db, events) = (backlog.db.clone(), backlog.events);
    let js = async_nats::jetstream::new(nats.client().await);
    let _ = js.delete_stream(RELAY_STREAM.name).await;
    RELAY_STREAM.ensure(&js, 1).await?;
    let relay = OutboxRelay::new(
        db.clone(),
        js,
        vec![RELAY_STREAM],
        1,
        OutboxSignal::default(),
        backlog.config.outbox.clone(),
    );
    let started = std::time::Instant::now();
    let mut published = 0;
    let mut rounds = Vec::new();
    loop {
        let t = std::time::Instant::now();
        let round = relay.round().await?;
        published += round.published;
        if round.claimed == 0 {
            break;
        }
        rounds.push(t.elapsed());
    }
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        published == events,
        "the relay published {published} of {events} events"
    );
    rounds.sort_unstable();
    let at = |q: f64| {
        rounds
            .get(((rounds.len() as f64 * q) as usize).min(rounds.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(Run {
        measured: Measured {
            calls: rounds.len() as u64,
            items: published as u64,
            errors: 0,
            first_error: None,
            seconds,
            calls_per_second: rounds.len() as f64 / seconds,
            items_per_second: published as f64 / seconds,
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        },
        request_bytes: backlog.event_bytes,
        response_bytes: 0,
    })
}

async fn enrichment(system: &System) -> anyhow::Result<EnrichmentServiceClient<Authed>> {
    Ok(EnrichmentServiceClient::new(
        system.service("enrichment").authed().await?,
    ))
}

fn business_lookup(register: &str, business_id: String) -> enr::LookupBusinessRequest {
    enr::LookupBusinessRequest {
        business_id: Some(rekisteri_proto::common::v1::BusinessId { value: business_id }),
        context: Some(enr::LookupContext {
            register_id: register.to_owned(),
            subject_id: String::new(),
            reference: "bench".into(),
        }),
    }
}

/// The same business over and over: after the first call, from the cache.
pub async fn lookup_business_warm(
    system: &System,
    register: &str,
    clients: usize,
    limit: Limit,
) -> anyhow::Result<Run> {
    let request = business_lookup(register, "0112038-9".into());
    same_request(
        enrichment(system).await?,
        request,
        clients,
        limit,
        |mut client, request| async move { client.lookup_business(request).await },
    )
    .await
}

/// A new business each call: every lookup goes to the PRH stand-in.
pub async fn lookup_business_cold(
    system: &System,
    register: &str,
    clients: usize,
    limit: Limit,
) -> anyhow::Result<Run> {
    let client = enrichment(system).await?;
    let register = register.to_owned();
    let measured = load::closed_loop(clients, limit, move |n| {
        let mut client = client.clone();
        let request = business_lookup(&register, crate::prh_mock::business_id(n));
        async move {
            let answer = client.lookup_business(request).await?.into_inner();
            anyhow::ensure!(answer.found, "the stand-in answers every business");
            anyhow::ensure!(
                answer.provenance.is_some_and(|p| !p.cached),
                "a new business is not in the cache"
            );
            Ok(1)
        }
    })
    .await;
    Ok(Run::sizeless(measured))
}

#[cfg(test)]
mod tests {
    #[test]
    fn identity_codes_are_valid_and_distinct() {
        let policy = rekisteri_identifiers::HetuPolicy::default();
        let mut seen = std::collections::HashSet::new();
        for n in (0..2_000_000).step_by(997) {
            let code = super::hetu(n);
            rekisteri_identifiers::PersonalIdentityCode::parse(&code, policy)
                .unwrap_or_else(|e| panic!("{code}: {e}"));
            assert!(seen.insert(code));
        }
    }
}
