//! The enrichment service's own settings, the `[enrichment]` section
//! (`REKISTERI_ENRICHMENT__…`), with one sub-section per source. Secrets (credit key, client
//! secret, adapter tokens) are [`Secret`]s: never in logs or `Debug` output.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

pub use rekisteri_platform::auth::Secret;

use crate::resilience::Policy;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichmentConfig {
    /// Where the catalogue answers: which sources a register declares.
    pub catalogue_endpoint: String,
    /// The token this service presents to the catalogue (role `catalogue.reader`).
    pub catalogue_token: Option<Secret>,
    /// Where the customer service answers: which registers a subject is held in.
    pub customers_endpoint: String,
    /// The token this service presents to the customer service (role `customers.reader`).
    pub customers_token: Option<Secret>,
    pub prh: SourceConfig,
    pub credit: SourceConfig,
    pub contacts: SourceConfig,
    pub opt_out: SourceConfig,
    /// Adapters plugged in over the adapter protocol, by name.
    pub external: BTreeMap<String, SourceConfig>,
}

/// One source's settings. Which of the source-specific keys apply depends on the source; a
/// missing one that the source needs is named at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    pub enabled: bool,
    /// The source's HTTP base URL (PRH, contact data) or, for an external adapter, its gRPC
    /// address.
    pub base_url: String,
    /// Per call, including reading the answer.
    pub timeout_ms: u64,
    /// Retries after the first try, for idempotent calls on timeouts, 429 and 5xx.
    pub retries: usize,
    pub rate_per_minute: u32,
    /// How long an answer is reused; 0 turns the cache off.
    pub cache_seconds: u64,
    pub breaker_failures: u32,
    pub breaker_cool_down_seconds: u64,
    /// The longest `Retry-After` a call waits out before it gives up.
    pub max_retry_after_seconds: u64,
    /// Words that name this source in a register's declared regular sources (its organisation
    /// name or business ID), e.g. ["PRH", "YTJ"]. A register declares the source when one of
    /// these occurs in a declared external source's organisation name or business ID as whole
    /// words.
    pub declared_as: Vec<String>,
    /// What the source supplies, for people reading `enrich sources`.
    pub supplies: String,

    // Credit information.
    /// `demo` or `production`.
    pub target: String,
    pub demo_url: String,
    pub production_url: String,
    pub user_id: String,
    pub end_user: String,
    pub key: Option<Secret>,

    // Contact data (OAuth2 client credentials).
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,

    // Opt-out list.
    pub path: String,

    // External adapter.
    /// The bearer token the service presents to the adapter.
    pub token: Option<Secret>,
    /// Plain http to an adapter elsewhere than this machine (inside a cluster whose network is
    /// encrypted, say); otherwise a remote adapter needs https, as its calls carry the token and
    /// whatever the query holds.
    pub allow_plaintext: bool,
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: String::new(),
            timeout_ms: 5_000,
            retries: 2,
            rate_per_minute: 60,
            cache_seconds: 3_600,
            breaker_failures: 5,
            breaker_cool_down_seconds: 30,
            max_retry_after_seconds: 5,
            declared_as: Vec::new(),
            supplies: String::new(),
            target: "demo".into(),
            demo_url: String::new(),
            production_url: String::new(),
            user_id: String::new(),
            end_user: String::new(),
            key: None,
            token_url: String::new(),
            client_id: String::new(),
            client_secret: None,
            path: String::new(),
            token: None,
            allow_plaintext: false,
        }
    }
}

impl SourceConfig {
    pub fn policy(&self, name: &str) -> anyhow::Result<Policy> {
        if self.timeout_ms == 0 {
            anyhow::bail!("enrichment.{name}.timeout_ms: at least 1");
        }
        if self.rate_per_minute == 0 {
            anyhow::bail!("enrichment.{name}.rate_per_minute: at least 1");
        }
        Ok(Policy {
            timeout: Duration::from_millis(self.timeout_ms),
            retries: self.retries.min(10),
            rate_per_minute: self.rate_per_minute,
            cache_lifetime: Duration::from_secs(self.cache_seconds),
            breaker_failures: self.breaker_failures.max(1),
            breaker_cool_down: Duration::from_secs(self.breaker_cool_down_seconds.max(1)),
            max_retry_after_wait: Duration::from_secs(self.max_retry_after_seconds),
        })
    }

    /// A URL setting, checked; the error names the setting.
    pub fn url(&self, name: &str, key: &str, value: &str) -> anyhow::Result<url::Url> {
        if value.trim().is_empty() {
            anyhow::bail!("enrichment.{name}.{key}: required when the source is enabled");
        }
        let url = url::Url::parse(value.trim())
            .map_err(|e| anyhow::anyhow!("enrichment.{name}.{key} `{value}`: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("enrichment.{name}.{key} `{value}`: http or https");
        }
        Ok(url)
    }

    /// A URL that carries personal data or credentials: https, except to this machine (a
    /// local stand-in, a sidecar proxy).
    pub fn secure_url(&self, name: &str, key: &str, value: &str) -> anyhow::Result<url::Url> {
        let url = self.url(name, key, value)?;
        let local = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if url.scheme() != "https" && !local {
            anyhow::bail!(
                "enrichment.{name}.{key} `{value}`: https (plain http only to this machine): the calls carry credentials and personal data"
            );
        }
        Ok(url)
    }

    pub fn required<'a>(&self, name: &str, key: &str, value: &'a str) -> anyhow::Result<&'a str> {
        if value.trim().is_empty() {
            anyhow::bail!("enrichment.{name}.{key}: required when the source is enabled");
        }
        Ok(value.trim())
    }

    pub fn secret<'a>(
        &self,
        name: &str,
        key: &str,
        value: &'a Option<Secret>,
    ) -> anyhow::Result<&'a Secret> {
        value
            .as_ref()
            .filter(|s| !s.expose().trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("enrichment.{name}.{key}: required when the source is enabled")
            })
    }
}
