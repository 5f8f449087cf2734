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

#[derive(Debug)]
struct BreakerInner {
    state: BreakerState,
    last_error: Option<String>,
    /// Moves on with every change of state: an outcome of a call admitted in an earlier
    /// generation (before the breaker opened, or a probe that was given up) changes nothing.
    generation: u64,
}

/// A call the breaker let through, and the generation it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Admission {
    generation: u64,
}

/// Opens after `failures` source failures in a row; after the cool-down, one probe decides.
#[derive(Debug)]
pub struct Breaker {
    failures: u32,
    cool_down: Duration,
    inner: Mutex<BreakerInner>,
}

impl Breaker {
    pub fn new(failures: u32, cool_down: Duration) -> Self {
        Self {
            failures: failures.max(1),
            cool_down,
            inner: Mutex::new(BreakerInner {
                state: BreakerState::Closed { failures: 0 },
                last_error: None,
                generation: 0,
            }),
        }
    }

    fn enter(inner: &mut BreakerInner, state: BreakerState) {
        inner.state = state;
        inner.generation += 1;
    }

    /// Whether a call may go out now.
    fn admit(&self) -> Result<Admission, String> {
        let mut inner = self.inner.lock().expect("not poisoned");
        let last = || inner.last_error.clone().unwrap_or_else(|| "unknown".into());
        match inner.state {
            BreakerState::Closed { .. } => Ok(Admission {
                generation: inner.generation,
            }),
            BreakerState::Open { until } if Instant::now() >= until => {
                Self::enter(&mut inner, BreakerState::HalfOpen);
                Ok(Admission {
                    generation: inner.generation,
                })
            }
            BreakerState::Open { until } => Err(format!(
                "the source failed repeatedly; not asked again for {} s (last error: {})",
                until.saturating_duration_since(Instant::now()).as_secs() + 1,
                last()
            )),
            BreakerState::HalfOpen => Err(format!(
                "the source failed repeatedly; a probe call is deciding whether it is back (last error: {})",
                last()
            )),
        }
    }

    fn succeeded(&self, admission: Admission) {
        let mut inner = self.inner.lock().expect("not poisoned");
        if admission.generation != inner.generation {
            return;
        }
        match inner.state {
            BreakerState::HalfOpen => {
                tracing::info!("a source is back: its circuit breaker closed");
                Self::enter(&mut inner, BreakerState::Closed { failures: 0 });
                inner.last_error = None;
            }
            BreakerState::Closed { failures } if failures > 0 => {
                inner.state = BreakerState::Closed { failures: 0 };
                inner.last_error = None;
            }
            _ => {}
        }
    }

    fn failed(&self, admission: Admission, error: &str) {
        let mut inner = self.inner.lock().expect("not poisoned");
        if admission.generation != inner.generation {
            return;
        }
        inner.last_error = Some(error.to_owned());
        match inner.state {
            BreakerState::Closed { failures } if failures + 1 < self.failures => {
                inner.state = BreakerState::Closed {
                    failures: failures + 1,
                };
            }
            BreakerState::Closed { .. } | BreakerState::HalfOpen => {
                tracing::warn!(error, cool_down = ?self.cool_down, "a source keeps failing: its circuit breaker opened");
                let until = Instant::now() + self.cool_down;
                Self::enter(&mut inner, BreakerState::Open { until });
            }
            BreakerState::Open { .. } => {}
        }
    }

    /// A call that reached no verdict (cancelled, or the source asked us to wait): a probe must
    /// not leave the breaker half-open for ever, so the next call probes again.
    fn abandoned(&self, admission: Admission) {
        let mut inner = self.inner.lock().expect("not poisoned");
        if admission.generation == inner.generation && matches!(inner.state, BreakerState::HalfOpen)
        {
            let now = Instant::now();
            Self::enter(&mut inner, BreakerState::Open { until: now });
        }
    }

    pub fn state(&self) -> (Circuit, Option<String>) {
        let inner = self.inner.lock().expect("not poisoned");
        let circuit = match inner.state {
            BreakerState::Closed { .. } => Circuit::Closed,
            BreakerState::Open { until } if Instant::now() >= until => Circuit::HalfOpen,
            BreakerState::Open { .. } => Circuit::Open,
            BreakerState::HalfOpen => Circuit::HalfOpen,
        };
        (circuit, inner.last_error.clone())
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

/// Ends a call that was cancelled before its verdict.
struct Verdict<'a> {
    breaker: &'a Breaker,
    admission: Admission,
    given: bool,
}

impl Drop for Verdict<'_> {
    fn drop(&mut self) {
        if !self.given {
            self.breaker.abandoned(self.admission);
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

    /// The longest one lookup may take, retries and waits included.
    fn deadline(&self) -> Duration {
        let attempts = if self.adapter.idempotent() {
            self.policy.retries as u32 + 1
        } else {
            1
        };
        self.policy.timeout * attempts + self.policy.max_retry_after_wait
    }

    async fn fetch(&self, query: &Query) -> Result<Answer, CallError> {
        let admission = self.breaker.admit().map_err(CallError::CircuitOpen)?;
        let mut verdict = Verdict {
            breaker: &self.breaker,
            admission,
            given: false,
        };
        let attempt = || async {
            self.wait_for_pause().await?;
            // The rate limit waits at most a call's timeout: a queue longer than that is this
            // service's own allowance spent, said as such rather than waited out for ever.
            if tokio::time::timeout(self.policy.timeout, self.limiter.until_ready())
                .await
                .is_err()
            {
                return Err(AdapterError::Throttled(format!(
                    "this service's own rate limit for the source ({} a minute) is spent; try again shortly",
                    self.policy.rate_per_minute
                )));
            }
            match tokio::time::timeout(self.policy.timeout, self.adapter.lookup(query)).await {
                Ok(result) => result,
                Err(_) => Err(AdapterError::transient(format!(
                    "no answer within {} ms",
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
        let retried = attempt
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
                    // Every call waits out the pause before it asks (`wait_for_pause`); a retry
                    // goes on only while retries are left and the pause is one a call may wait.
                    self.pause(*wait);
                    backoff.filter(|_| *wait <= max_wait)
                }
                _ => backoff,
            })
            .notify(|e, after| {
                tracing::debug!(source = self.adapter.kind(), error = %e, ?after, "retrying a source call")
            });
        // One deadline for the whole lookup, retries and waits included.
        let result = match tokio::time::timeout(self.deadline(), retried).await {
            Ok(result) => result,
            Err(_) => Err(AdapterError::transient(format!(
                "no answer within {} ms, retries included",
                self.deadline().as_millis()
            ))),
        };
        verdict.given = true;
        match &result {
            Ok(_) => self.breaker.succeeded(admission),
            // A source that asks us to slow down is not failing, nor is our own rate limit: the
            // pause and the limiter handle those.
            Err(
                AdapterError::Transient {
                    retry_after: Some(_),
                    ..
                }
                | AdapterError::Throttled(_),
            ) => self.breaker.abandoned(admission),
            Err(e) if e.is_source_failure() => self.breaker.failed(admission, &e.to_string()),
            // Refused or unsupported: the source works, the question was wrong.
            Err(_) => self.breaker.succeeded(admission),
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

    /// Waits out a pause the source asked for, when it ends soon enough for a call to wait (a
    /// pause made longer meanwhile is waited out too); fails at once when it is longer, without
    /// asking the source.
    async fn wait_for_pause(&self) -> Result<(), AdapterError> {
        loop {
            let paused = *self.paused_until.lock().expect("not poisoned");
            let Some(until) = paused.filter(|u| *u > Instant::now()) else {
                return Ok(());
            };
            let left = until - Instant::now();
            if left > self.policy.max_retry_after_wait {
                return Err(AdapterError::Transient {
                    message: format!(
                        "the source asked us to wait ({} s more)",
                        left.as_secs() + 1
                    ),
                    retry_after: Some(left),
                });
            }
            tokio::time::sleep_until(until.into()).await;
        }
    }
}
