//! What every source gets, whatever its protocol: a timeout per call, retries with exponential
//! backoff (only for idempotent calls, only on timeouts, `429` and `5xx`), a pause when the
//! source asks for one (`429` with `Retry-After`), a circuit breaker that opens after repeated
//! failures and lets one probe through to close again, a rate limit, and a cache with a lifetime
//! that answers concurrent identical lookups with one upstream call.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::adapters::{Adapter, AdapterError, Answer, Query};

/// How one source is called.
#[derive(Debug, Clone)]
pub struct Policy {
    pub timeout: Duration,
    /// Retries after the first try (idempotent calls only).
    pub retries: usize,
    pub rate_per_minute: u32,
    /// 0 turns the cache off.
    pub cache_lifetime: Duration,
    /// Failures in a row that open the breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open before it lets a probe through.
    pub breaker_cool_down: Duration,
    /// The longest `Retry-After` a call waits out; a longer one fails the call at once.
    pub max_retry_after_wait: Duration,
}

/// The state of a breaker, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Circuit {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
enum BreakerState {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; everyone else fails fast until it returns.
    HalfOpen,
}

/// Opens after `failures` source failures in a row; after the cool-down, one probe decides.
#[derive(Debug)]
pub struct Breaker {
    failures: u32,
    cool_down: Duration,
    state: Mutex<(BreakerState, Option<String>)>,
}

impl Breaker {
    pub fn new(failures: u32, cool_down: Duration) -> Self {
        Self {
            failures: failures.max(1),
            cool_down,
            state: Mutex::new((BreakerState::Closed { failures: 0 }, None)),
        }
    }

    /// Whether a call may go out now.
    fn admit(&self) -> Result<(), String> {
        let mut state = self.state.lock().expect("not poisoned");
        match state.0 {
            BreakerState::Closed { .. } => Ok(()),
            BreakerState::Open { until } if Instant::now() >= until => {
                state.0 = BreakerState::HalfOpen;
                Ok(())
            }
            BreakerState::Open { until } => Err(format!(
                "the source failed repeatedly; not asked again for {} s (last error: {})",
                until.saturating_duration_since(Instant::now()).as_secs() + 1,
                state.1.as_deref().unwrap_or("unknown")
            )),
            BreakerState::HalfOpen => Err(format!(
                "the source failed repeatedly; a probe call is deciding whether it is back (last error: {})",
                state.1.as_deref().unwrap_or("unknown")
            )),
        }
    }

    fn succeeded(&self) {
        let mut state = self.state.lock().expect("not poisoned");
        if !matches!(state.0, BreakerState::Closed { failures: 0 }) {
            if matches!(state.0, BreakerState::HalfOpen) {
                tracing::info!("a source is back: its circuit breaker closed");
            }
            *state = (BreakerState::Closed { failures: 0 }, None);
        }
    }

    fn failed(&self, error: &str) {
        let mut state = self.state.lock().expect("not poisoned");
        state.1 = Some(error.to_owned());
        state.0 = match state.0 {
            BreakerState::Closed { failures } if failures + 1 < self.failures => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            _ => {
                tracing::warn!(error, cool_down = ?self.cool_down, "a source keeps failing: its circuit breaker opened");
                BreakerState::Open {
                    until: Instant::now() + self.cool_down,
                }
            }
        };
    }

    /// A call that never reached a verdict (cancelled): a probe must not leave the breaker
    /// half-open for ever.
    fn abandoned(&self) {
        let mut state = self.state.lock().expect("not poisoned");
        if matches!(state.0, BreakerState::HalfOpen) {
            state.0 = BreakerState::Open {
                until: Instant::now(),
            };
        }
    }

    pub fn state(&self) -> (Circuit, Option<String>) {
        let state = self.state.lock().expect("not poisoned");
        let circuit = match state.0 {
            BreakerState::Closed { .. } => Circuit::Closed,
            BreakerState::Open { until } if Instant::now() >= until => Circuit::HalfOpen,
            BreakerState::Open { .. } => Circuit::Open,
            BreakerState::HalfOpen => Circuit::HalfOpen,
        };
        (circuit, state.1.clone())
    }
}

/// Why a guarded call gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The breaker is open: the source was not asked.
    #[error("{0}")]
    CircuitOpen(String),
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

/// An answer and when the source gave it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub answer: Arc<Answer>,
    pub fetched_at: DateTime<Utc>,
    /// Answered from the cache (no upstream call for this lookup).
    pub cached: bool,
}

/// Answers by query, with when the source gave them.
type AnswerCache = moka::future::Cache<String, (Arc<Answer>, DateTime<Utc>)>;

/// A source with everything around it.
#[derive(Debug)]
pub struct Guarded {
    adapter: Arc<dyn Adapter>,
    policy: Policy,
    limiter: DefaultDirectRateLimiter,
    breaker: Breaker,
    /// Not before this: the source asked us to wait (`Retry-After`).
    paused_until: Mutex<Option<Instant>>,
    cache: Option<AnswerCache>,
}

/// Ends a probe that was cancelled before its verdict.
struct Verdict<'a> {
    breaker: &'a Breaker,
    given: bool,
}

impl Drop for Verdict<'_> {
    fn drop(&mut self) {
        if !self.given {
            self.breaker.abandoned();
        }
    }
}

impl Guarded {
    pub fn new(adapter: Arc<dyn Adapter>, policy: Policy) -> Self {
        let rate = NonZeroU32::new(policy.rate_per_minute.max(1)).expect("at least 1");
        // Bursts of at most a tenth of a minute's allowance: a shared upstream limit (PRH's
        // 300 a minute among all users) must not see our whole minute at once.
        let burst = NonZeroU32::new((policy.rate_per_minute / 10).max(1)).expect("at least 1");
        let cache = (!policy.cache_lifetime.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(policy.cache_lifetime)
                .build()
        });
        Self {
            breaker: Breaker::new(policy.breaker_failures, policy.breaker_cool_down),
            limiter: RateLimiter::direct(Quota::per_minute(rate).allow_burst(burst)),
            paused_until: Mutex::new(None),
            adapter,
            policy,
            cache,
        }
    }

    pub fn adapter(&self) -> &dyn Adapter {
        self.adapter.as_ref()
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn circuit(&self) -> (Circuit, Option<String>) {
        self.breaker.state()
    }

    /// One lookup: from the cache when a fresh answer is there (concurrent identical lookups
    /// wait for the one call), otherwise from the source.
    pub async fn call(&self, query: &Query) -> Result<Fetched, CallError> {
        if !self.adapter.supports(query) {
            return Err(AdapterError::Unsupported(format!(
                "the {} source cannot answer this kind of lookup",
                self.adapter.kind()
            ))
            .into());
        }
        let Some(cache) = &self.cache else {
            let answer = self.fetch(query).await?;
            return Ok(Fetched {
                answer: Arc::new(answer),
                fetched_at: Utc::now(),
                cached: false,
            });
        };
        let ran = AtomicBool::new(false);
        let entry = cache
            .try_get_with(query.cache_key(), async {
                ran.store(true, Ordering::Relaxed);
                self.fetch(query)
                    .await
                    .map(|answer| (Arc::new(answer), Utc::now()))
            })
            .await
            .map_err(|e: Arc<CallError>| (*e).clone())?;
        Ok(Fetched {
            answer: entry.0,
            fetched_at: entry.1,
            cached: !ran.load(Ordering::Relaxed),
        })
    }

    /// Forgets cached answers (tests, and an operator who knows the source changed).
    pub fn forget(&self) {
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
        }
    }

    async fn fetch(&self, query: &Query) -> Result<Answer, CallError> {
        self.breaker.admit().map_err(CallError::CircuitOpen)?;
        let mut verdict = Verdict {
            breaker: &self.breaker,
            given: false,
        };
        let attempt = || async {
            self.wait_for_pause()?;
            self.limiter.until_ready().await;
            match tokio::time::timeout(self.policy.timeout, self.adapter.lookup(query)).await {
                Ok(result) => result,
                Err(_) => Err(AdapterError::transient(format!(
                    "{}: no answer within {} ms",
                    self.adapter.kind(),
                    self.policy.timeout.as_millis()
                ))),
            }
        };
        let retries = if self.adapter.idempotent() {
            self.policy.retries
        } else {
            0
        };
        let max_wait = self.policy.max_retry_after_wait;
        let result = attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(100))
                    .with_max_delay(Duration::from_secs(5))
                    .with_max_times(retries)
                    .with_jitter(),
            )
            .sleep(tokio::time::sleep)
            .when(|e| matches!(e, AdapterError::Transient { .. }))
            .adjust(|e, backoff| match e {
                AdapterError::Transient {
                    retry_after: Some(wait),
                    ..
                } => {
                    self.pause(*wait);
                    // Only while retries are left, and only for a wait a call may take.
                    backoff.and((*wait <= max_wait).then_some(*wait))
                }
                _ => backoff,
            })
            .notify(|e, after| {
                tracing::debug!(source = self.adapter.kind(), error = %e, ?after, "retrying a source call")
            })
            .await;
        verdict.given = true;
        match &result {
            Ok(_) => self.breaker.succeeded(),
            // A source that asks us to slow down is not failing: the pause handles it.
            Err(AdapterError::Transient {
                retry_after: Some(_),
                ..
            }) => self.breaker.abandoned(),
            Err(e) if e.is_source_failure() => self.breaker.failed(&e.to_string()),
            // Refused or unsupported: the source works, the question was wrong.
            Err(_) => self.breaker.succeeded(),
        }
        Ok(result?)
    }

    fn pause(&self, wait: Duration) {
        let mut paused = self.paused_until.lock().expect("not poisoned");
        let until = Instant::now() + wait;
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    /// Fails at once while the source has asked us to wait longer than a call may wait.
    fn wait_for_pause(&self) -> Result<(), AdapterError> {
        let paused = *self.paused_until.lock().expect("not poisoned");
        match paused {
            Some(until) if until > Instant::now() => {
                let left = until - Instant::now();
                if left > self.policy.max_retry_after_wait {
                    Err(AdapterError::Transient {
                        message: format!(
                            "{} asked us to wait ({} s more)",
                            self.adapter.kind(),
                            left.as_secs() + 1
                        ),
                        retry_after: Some(left),
                    })
                } else {
                    // Waited out by the retry's sleep (it slept the Retry-After already).
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}
