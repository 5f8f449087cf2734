//! Creates persons with distinct valid identity codes over gRPC, CONCURRENCY at a time, and prints
//! the throughput and latency of `CreatePerson`: the write workload of `scripts/bench-customers`
//! and the way it fills the service to 10k and 100k subjects.
//!
//!   cargo run --release -p rekisteri-customers --example load -- ENDPOINT TOKEN REGISTER_ID COUNT CONCURRENCY [FIRST]
//!
//! Prints one line of JSON: created, seconds, per_second, p50_ms, p99_ms, and the id and identity
//! code of the first subject created (for the read workloads). With `update` after FIRST, each
//! person created is then updated once with the etag its creation returned (an optimistic
//! concurrency write, CONCURRENCY at a time, no two on one subject), and the JSON carries
//! update_per_second, update_p50_ms and update_p99_ms as well.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rekisteri_platform::auth::BearerToken;
use rekisteri_proto::customers::v1 as pb;
use rekisteri_proto::customers::v1::customer_service_client::CustomerServiceClient;

/// The `n`th valid identity code: distinct for n below 28 * 12 * 100 * 898.
fn hetu(n: u64) -> String {
    let individual = 2 + n % 898;
    let rest = n / 898;
    let (day, month, year) = (1 + rest % 28, 1 + (rest / 28) % 12, (rest / 336) % 100);
    let digits = day * 10_000_000 + month * 100_000 + year * 1000 + individual;
    let check = b"0123456789ABCDEFHJKLMNPRSTUVWXY"[(digits % 31) as usize] as char;
    format!("{day:02}{month:02}{year:02}-{individual:03}{check}")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, endpoint, token, register, count, concurrency, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: load ENDPOINT TOKEN REGISTER_ID COUNT CONCURRENCY [FIRST [update]]");
    };
    let update = rest.get(1).is_some_and(|m| m == "update");
    let count: u64 = count.parse()?;
    let concurrency: u64 = concurrency.parse()?;
    let first: u64 = rest.first().map_or(Ok(0), |f| f.parse())?;
    let channel = tonic::transport::Endpoint::from_shared(endpoint.clone())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let client = CustomerServiceClient::with_interceptor(channel, BearerToken::new(token)?);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(first));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let mut client = client.clone();
        let next = next.clone();
        let register = register.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut firsts = Vec::new();
            let mut made = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= first + count {
                    return anyhow::Ok((latencies, firsts, made));
                }
                let code = hetu(n);
                let request = pb::CreatePersonRequest {
                    person: Some(pb::Person {
                        given_names: "Kuorma".into(),
                        family_name: format!("Testaaja{n}"),
                        personal_identity_code: code.clone(),
                        emails: vec![format!("kuorma{n}@example.fi")],
                        phones: vec![format!("040 {:07}", n % 10_000_000)],
                        ..Default::default()
                    }),
                    memberships: vec![pb::RegisterMembership {
                        register_id: register.clone(),
                        basis: "asiakassuhde".into(),
                        ..Default::default()
                    }],
                    billing: None,
                };
                let t = Instant::now();
                let subject = client
                    .create_person(request)
                    .await?
                    .into_inner()
                    .subject
                    .unwrap_or_default();
                latencies.push(t.elapsed());
                if update {
                    made.push((n, subject.subject_id.clone(), subject.etag.clone()));
                }
                if n == first {
                    firsts.push((subject.subject_id, code));
                }
            }
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut firsts = Vec::new();
    let mut made = Vec::new();
    for w in workers {
        let (l, f, m) = w.await??;
        latencies.extend(l);
        firsts.extend(f);
        made.extend(m);
    }
    let seconds = started.elapsed().as_secs_f64();
    let (id, code) = firsts.pop().unwrap_or_default();
    let mut json = format!(
        "{{\"created\":{},\"seconds\":{seconds:.2},\"per_second\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"first_id\":\"{id}\",\"first_code\":\"{code}\"",
        latencies.len(),
        latencies.len() as f64 / seconds,
        quantile(&mut latencies, 0.50),
        quantile(&mut latencies, 0.99)
    );
    if update {
        let (mut took, seconds) = update_all(&client, made, concurrency).await?;
        json += &format!(
            ",\"updated\":{},\"update_per_second\":{:.0},\"update_p50_ms\":{:.2},\"update_p99_ms\":{:.2}",
            took.len(),
            took.len() as f64 / seconds,
            quantile(&mut took, 0.50),
            quantile(&mut took, 0.99)
        );
    }
    println!("{json}}}");
    Ok(())
}

fn quantile(latencies: &mut [Duration], p: f64) -> f64 {
    latencies.sort();
    latencies
        .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

type Client = CustomerServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, BearerToken>,
>;

/// UpdatePerson once per subject with the etag it was created with; returns the latencies and
/// the seconds it took. A refusal (ABORTED would mean a lost etag) fails the run.
async fn update_all(
    client: &Client,
    made: Vec<(u64, String, String)>,
    concurrency: u64,
) -> anyhow::Result<(Vec<Duration>, f64)> {
    let queue = Arc::new(std::sync::Mutex::new(made));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let mut client = client.clone();
        let queue = queue.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some((n, id, etag)) = queue.lock().expect("not poisoned").pop() else {
                    return anyhow::Ok(latencies);
                };
                let request = pb::UpdatePersonRequest {
                    subject_id: id,
                    etag,
                    person: Some(pb::Person {
                        given_names: "Kuorma Päivitetty".into(),
                        family_name: format!("Testaaja{n}"),
                        emails: vec![format!("kuorma{n}@example.fi")],
                        phones: vec![format!("050 {:07}", n % 10_000_000)],
                        ..Default::default()
                    }),
                    remove_personal_identity_code: false,
                    memberships: vec![],
                    billing: None,
                };
                let t = Instant::now();
                client.update_person(request).await?;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await??);
    }
    Ok((latencies, started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_valid_and_distinct() {
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
