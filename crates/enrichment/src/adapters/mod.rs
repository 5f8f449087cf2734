//! One module per external source, each behind the one [`Adapter`] trait. An adapter only
//! speaks its source's protocol and maps the answer; timeouts, retries, the circuit breaker,
//! the rate limit and the cache are the same for every source and live in
//! [`crate::resilience`], so a new source gets them by being an adapter.
//!
//! Adding a built-in source: a module here, its configuration section in [`crate::config`],
//! and its line in [`crate::sources::Sources::from_config`].

pub mod contacts;
pub mod credit;
pub mod external;
pub mod opt_out;
pub mod prh;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rekisteri_identifiers::{BusinessId, PhoneNumber};

/// What can be asked of a source. Each adapter answers the kinds it supports.
#[derive(Debug, Clone)]
pub enum Query {
    Business(BusinessId),
    Credit(credit::CreditQuery),
    Contacts(BusinessId),
    OptOut(opt_out::OptOutQuery),
    External(BTreeMap<String, String>),
}

impl Query {
    /// The cache key within one source. A personal identity code is hashed: the key lives only
    /// in memory, but it should not be readable there either.
    pub fn cache_key(&self) -> String {
        match self {
            Query::Business(id) => format!("business:{}", id.as_str()),
            Query::Credit(q) => q.cache_key(),
            Query::Contacts(id) => format!("contacts:{}", id.as_str()),
            Query::OptOut(q) => q.cache_key(),
            // Hashed: a query may carry anything, an identity code too.
            Query::External(query) => {
                use sha2::Digest;
                let text = serde_json::to_string(query).unwrap_or_default();
                format!("external:{}", hex::encode(sha2::Sha256::digest(text)))
            }
        }
    }
}

/// A source's answer, mapped from its format.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `None`: the register does not know the business ID.
    Business(Option<prh::Business>),
    Credit(credit::CreditReport),
    Contacts(Option<contacts::CompanyContacts>),
    OptOut {
        listed: bool,
        loaded_at: DateTime<Utc>,
    },
    External(Option<BTreeMap<String, String>>),
}

/// Why a source gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AdapterError {
    /// Worth another try: a timeout, `429`, a `5xx` or a broken connection. `retry_after` is
    /// what the source asked for (`Retry-After`).
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The source answered in a form we do not understand (e.g. malformed JSON). Not retried:
    /// the same request would get the same answer; counts against the circuit breaker.
    #[error("{0}")]
    Malformed(String),
    /// The source refused this request (a `4xx` other than `429`): the question was wrong. Not
    /// retried.
    #[error("{0}")]
    Refused(String),
    /// The source rejects our configuration: credentials refused (`401`, `403`), or nothing
    /// there (`404`, a wrong base URL). For the operator: logged, counted by the breaker,
    /// answered to callers as the source being unavailable.
    #[error("{0}")]
    Misconfigured(String),
    /// This service's own rate limit for the source is spent: not asked, not the source's
    /// fault.
    #[error("{0}")]
    Throttled(String),
    /// Refused before any call: the question cannot be asked of this source.
    #[error("{0}")]
    Unsupported(String),
}

impl AdapterError {
    pub fn transient(message: impl Into<String>) -> Self {
        AdapterError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    /// Whether the breaker should count it: the source (or the way to it) is failing.
    pub fn is_source_failure(&self) -> bool {
        matches!(
            self,
            AdapterError::Transient { .. }
                | AdapterError::Malformed(_)
                | AdapterError::Misconfigured(_)
        )
    }
}

/// An external source: speaks its protocol and maps its answers.
pub trait Adapter: Send + Sync + std::fmt::Debug + 'static {
    /// The kind of adapter, e.g. "prh".
    fn kind(&self) -> &'static str;
    /// Whether this adapter can answer this kind of query (checked before any call).
    fn supports(&self, query: &Query) -> bool;
    /// Whether a call may be repeated without effect (a credit check may be billed or
    /// recorded at the source per call: it is not retried).
    fn idempotent(&self) -> bool {
        true
    }
    /// One call to the source, without retries (the caller retries).
    fn lookup<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, AdapterError>>;
}

/// An HTTP client for the sources: rustls, a connect timeout, and no redirects (a redirected
/// credit check would carry an identity code and a checksum to wherever it points).
pub fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("rekisteri-enrichment/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| anyhow::anyhow!("building the HTTP client: {e}"))
}

/// Sends a request and sorts the outcome: the body of a `2xx`; `Transient` for timeouts,
/// connection failures, `429` (with its `Retry-After`) and `5xx`; `Misconfigured` for a
/// redirect; any other status is returned for the adapter to read. `what` names the request in
/// messages (the caller adds the source's name).
pub async fn send(
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<(reqwest::StatusCode, bytes_body::Body), AdapterError> {
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            AdapterError::transient(format!("{what}: timed out"))
        } else {
            AdapterError::transient(format!("{what}: {}", without_query(&e)))
        }
    })?;
    let status = response.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let retry_after = retry_after(response.headers());
        return Err(AdapterError::Transient {
            message: format!("{what}: rate limited by the source (429)"),
            retry_after,
        });
    }
    if status.is_server_error() {
        return Err(AdapterError::transient(format!(
            "{what}: the source failed ({status})"
        )));
    }
    if status.is_redirection() {
        return Err(AdapterError::Misconfigured(format!(
            "{what}: the source redirects ({status}); redirects are not followed: check its URL"
        )));
    }
    let body = response.bytes().await.map_err(|e| {
        if e.is_timeout() {
            AdapterError::transient(format!("{what}: timed out reading the answer"))
        } else {
            AdapterError::transient(format!("{what}: {}", without_query(&e)))
        }
    })?;
    Ok((status, bytes_body::Body(body.to_vec())))
}

/// The body of an answer.
pub mod bytes_body {
    #[derive(Debug, Clone)]
    pub struct Body(pub Vec<u8>);

    impl Body {
        /// Parses JSON; a body that is not the expected JSON is `Malformed`.
        pub fn json<T: serde::de::DeserializeOwned>(
            &self,
            what: &str,
        ) -> Result<T, super::AdapterError> {
            serde_json::from_slice(&self.0).map_err(|e| {
                super::AdapterError::Malformed(format!("{what}: unreadable answer: {e}"))
            })
        }
    }
}

/// The error with its URL cut to scheme, host and port (the query may be about a person; the
/// host tells an operator which address was tried), and the innermost cause.
fn without_query(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        let host = format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        );
        text = text.replace(url.as_str(), &host);
    }
    let mut cause = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(c) = cause {
        innermost = Some(c.to_string());
        cause = c.source();
    }
    match innermost {
        Some(c) if !text.contains(&c) => format!("{text}: {c}"),
        _ => text,
    }
}

/// `Retry-After` as seconds (the HTTP-date form is rare for APIs and read as absent), capped
/// at five minutes so that a wrong header cannot park the adapter for a day.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let seconds: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(seconds.min(300)))
}

/// A base URL joined with a path, checked at configuration time.
pub fn join(base: &url::Url, path: &str) -> url::Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        url.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
}

/// Normalised words for comparing names: lower case, letters and digits, single spaces.
pub fn normalise(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A phone number in E.164 for comparison, or the text as given when it is not one.
pub fn phone_key(phone: &str) -> Option<String> {
    PhoneNumber::parse(phone)
        .ok()
        .map(|p| p.as_str().to_owned())
}
