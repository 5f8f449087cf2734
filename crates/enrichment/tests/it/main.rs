//! The adapters and the resilience around them, against local HTTP servers that answer in the
//! sources' real formats (PRH's from captured responses): rate limiting with `Retry-After`,
//! `500`s, timeouts, malformed JSON, expired tokens, unknown business IDs; the breaker opening
//! and closing; the cache answering concurrent lookups with one call.

mod adapters;
mod resilience;
mod worker;

use std::sync::Arc;

use rekisteri_enrichment::adapters::Adapter;
use rekisteri_enrichment::config::SourceConfig;
use rekisteri_enrichment::resilience::{Guarded, Policy};

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// A quick policy for tests: short timeouts and backoff, a breaker that opens after 3.
pub fn policy() -> Policy {
    let mut config = SourceConfig {
        timeout_ms: 500,
        retries: 2,
        rate_per_minute: 6_000,
        cache_seconds: 0,
        breaker_failures: 3,
        breaker_cool_down_seconds: 1,
        max_retry_after_seconds: 2,
        ..SourceConfig::default()
    };
    config.declared_as = vec!["PRH".into()];
    config.policy("test").unwrap()
}

pub fn guarded(adapter: impl Adapter, policy: Policy) -> Guarded {
    Guarded::new(Arc::new(adapter), policy)
}

pub fn client() -> reqwest::Client {
    rekisteri_enrichment::adapters::http_client(std::time::Duration::from_secs(5)).unwrap()
}
