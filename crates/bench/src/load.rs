//! The load generator: closed loop (N clients, each calling again as soon as it has its answer:
//! the peak rate) and open loop (calls started at a fixed rate whatever the answers do: latency
//! at an offered load, measured from when each call was due so that a stall is not hidden).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long a workload runs: a fixed time, or a fixed number of calls.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    Time(Duration),
    Calls(u64),
}

/// What one workload did: throughput, latency and errors.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measured {
    pub calls: u64,
    /// Calls × the items each carries (a batch of 100 disclosures is 100 items).
    pub items: u64,
    pub errors: u64,
    /// The first error, to say what went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    pub seconds: f64,
    pub calls_per_second: f64,
    pub items_per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Latencies in microseconds, and the counts.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    /// Calls the open-loop generator could not start: errors without a latency.
    refused: u64,
    items: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, took: Duration, outcome: anyhow::Result<u64>) {
        self.latencies_us
            .push(took.as_micros().min(u128::from(u32::MAX)) as u32);
        match outcome {
            Ok(items) => self.items += items,
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }

    fn refuse(&mut self, why: String) {
        self.refused += 1;
        self.errors += 1;
        self.first_error.get_or_insert(why);
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.refused += other.refused;
        self.items += other.items;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn finish(mut self, seconds: f64) -> Measured {
        self.latencies_us.sort_unstable();
        let at = |q: f64| {
            let n = self.latencies_us.len();
            if n == 0 {
                return 0.0;
            }
            let i = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
            f64::from(self.latencies_us[i]) / 1000.0
        };
        let calls = self.latencies_us.len() as u64 + self.refused;
        Measured {
            calls,
            items: self.items,
            errors: self.errors,
            first_error: self.first_error,
            seconds,
            calls_per_second: calls as f64 / seconds,
            items_per_second: self.items as f64 / seconds,
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// `clients` callers, each calling `call(n)` (n counts up across all of them) again as soon as
/// the previous call answered, until `limit`. `call` returns the items the call carried.
pub async fn closed_loop<F, Fut>(clients: usize, limit: Limit, call: F) -> Measured
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let next = next.clone();
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                match limit {
                    Limit::Calls(total) if n >= total => break,
                    Limit::Time(d) if started.elapsed() >= d => break,
                    _ => {}
                }
                let t = Instant::now();
                let outcome = call(n).await;
                tally.record(t.elapsed(), outcome);
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for w in workers {
        if let Ok(tally) = w.await {
            all.merge(tally);
        }
    }
    all.finish(started.elapsed().as_secs_f64())
}

/// Calls started at `rate` per second for `duration`, at most `max_in_flight` at once (beyond
/// that the generator itself would be the bottleneck; such calls count as errors). Latency runs
/// from when each call was due.
pub async fn open_loop<F, Fut>(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    call: F,
) -> Measured
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
{
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * duration.as_secs_f64()).ceil() as u64;
    let limit = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
    let started = Instant::now();
    let mut calls = Vec::with_capacity(total as usize);
    let mut refused = Tally::default();
    for n in 0..total {
        let due = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            refused.refuse(format!(
                "more than {max_in_flight} calls in flight: the offered load is past what the service answers"
            ));
            continue;
        };
        let call = call.clone();
        calls.push(tokio::spawn(async move {
            let outcome = call(n).await;
            drop(permit);
            (due.elapsed(), outcome)
        }));
    }
    let mut all = refused;
    for c in calls {
        if let Ok((took, outcome)) = c.await {
            all.record(took, outcome);
        }
    }
    all.finish(started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closed_loop_counts_calls_items_and_errors() {
        let m = closed_loop(4, Limit::Calls(100), |n| async move {
            if n % 10 == 0 {
                anyhow::bail!("call {n} fails")
            }
            Ok(3)
        })
        .await;
        assert_eq!(m.calls, 100);
        assert_eq!(m.errors, 10);
        assert_eq!(m.items, 90 * 3);
        assert!(m.first_error.unwrap().contains("fails"));
    }

    #[tokio::test]
    async fn latency_quantiles_come_from_the_calls() {
        // Calls 0..100 take n/10 ms: p50 near 5 ms, max near 10 ms.
        let m = closed_loop(100, Limit::Calls(100), |n| async move {
            tokio::time::sleep(Duration::from_micros(n * 100)).await;
            Ok(1)
        })
        .await;
        assert!(m.p50_ms >= 4.0 && m.p50_ms < 9.0, "{m:?}");
        assert!(m.max_ms >= 9.9, "{m:?}");
        assert!(m.p50_ms <= m.p90_ms && m.p90_ms <= m.p99_ms && m.p99_ms <= m.max_ms);
    }

    #[tokio::test]
    async fn open_loop_offers_the_rate_asked_for() {
        let m = open_loop(200.0, Duration::from_millis(500), 64, |_| async { Ok(1) }).await;
        assert_eq!(m.calls, 100);
        assert!(m.seconds >= 0.49, "{m:?}");
    }
}
