//! Creates persons with distinct valid identity codes over gRPC, CONCURRENCY at a time, and prints
//! the throughput and latency of `CreatePerson`: the write workload of `scripts/bench-customers`
//! and the way it fills the service to 10k and 100k subjects.
//!
//!   cargo run --release -p rekisteri-customers --example load -- ENDPOINT TOKEN REGISTER_ID COUNT CONCURRENCY [FIRST]
//!
//! Prints one line of JSON: created, seconds, per_second, p50_ms, p99_ms, and the id and identity
//! code of the first subject created (for the read workloads).

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
        anyhow::bail!("usage: load ENDPOINT TOKEN REGISTER_ID COUNT CONCURRENCY [FIRST]");
    };
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
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= first + count {
                    return anyhow::Ok((latencies, firsts));
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
                let subject = client.create_person(request).await?.into_inner().subject;
                latencies.push(t.elapsed());
                if n == first {
                    firsts.push((subject.unwrap_or_default().subject_id, code));
                }
            }
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut firsts = Vec::new();
    for w in workers {
        let (l, f) = w.await??;
        latencies.extend(l);
        firsts.extend(f);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let q = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let (id, code) = firsts.pop().unwrap_or_default();
    println!(
        "{{\"created\":{},\"seconds\":{seconds:.2},\"per_second\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"first_id\":\"{id}\",\"first_code\":\"{code}\"}}",
        latencies.len(),
        latencies.len() as f64 / seconds,
        q(0.50),
        q(0.99)
    );
    Ok(())
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
