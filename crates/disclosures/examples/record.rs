//! Records disclosures over gRPC, CONCURRENCY calls at a time, BATCH disclosures per call, until
//! COUNT are recorded; prints the throughput (entries per second) and the latency of the calls:
//! the recording workloads of `scripts/bench-disclosures`.
//!
//!   cargo run --release -p rekisteri-disclosures --example record -- ENDPOINT TOKEN REGISTER_ID COUNT CONCURRENCY BATCH
//!
//! Prints one line of JSON: entries, calls, seconds, entries_per_second, p50_ms, p99_ms.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rekisteri_platform::auth::BearerToken;
use rekisteri_proto::catalogue::v1::LegalBasis;
use rekisteri_proto::disclosures::v1 as pb;
use rekisteri_proto::disclosures::v1::disclosure_service_client::DisclosureServiceClient;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, endpoint, token, register, count, concurrency, batch] = args.as_slice() else {
        anyhow::bail!("usage: record ENDPOINT TOKEN REGISTER_ID COUNT CONCURRENCY BATCH");
    };
    let count: u64 = count.parse()?;
    let concurrency: u64 = concurrency.parse()?;
    let batch: u64 = batch.parse()?;
    let channel = tonic::transport::Endpoint::from_shared(endpoint.clone())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let client = DisclosureServiceClient::with_interceptor(channel, BearerToken::new(token)?)
        .max_decoding_message_size(64 * 1024 * 1024);
    // A pool of subjects, as a CRM would name its customers.
    let subjects: Arc<Vec<String>> = Arc::new(
        (0..1000)
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect(),
    );
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let mut client = client.clone();
        let next = next.clone();
        let register = register.clone();
        let subjects = subjects.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let first = next.fetch_add(batch, Ordering::Relaxed);
                if first >= count {
                    return anyhow::Ok(latencies);
                }
                let n = batch.min(count - first);
                let disclosures = (first..first + n)
                    .map(|i| pb::Disclosure {
                        recipient: Some(pb::Recipient {
                            name: "Viranomaiset".into(),
                            business_id: String::new(),
                            country_code: "FI".into(),
                        }),
                        subject_ids: vec![subjects[(i % 1000) as usize].clone()],
                        register_id: register.clone(),
                        register_version: 1,
                        data_categories: vec!["contact_details".into()],
                        purpose: "Viranomaisen tietopyyntö".into(),
                        legal_basis: LegalBasis::LegalObligation as i32,
                        channel: pb::Channel::Api as i32,
                        disclosed_time: None,
                        disclosure_id: String::new(),
                    })
                    .collect();
                let t = Instant::now();
                client
                    .record_disclosures(pb::RecordDisclosuresRequest { disclosures })
                    .await?;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for w in workers {
        latencies.extend(w.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let q = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{{\"entries\":{count},\"calls\":{},\"seconds\":{seconds:.2},\"entries_per_second\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2}}}",
        latencies.len(),
        count as f64 / seconds,
        q(0.50),
        q(0.99)
    );
    Ok(())
}
