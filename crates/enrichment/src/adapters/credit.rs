//! Credit information (an Asiakastieto-style HTTPS API). Every request is signed with a
//! checksum: SHA-512 of `userid&enduser&timestamp&key&`, upper-case hex, so the shared key never
//! travels. The adapter talks to the demo or the production target, as configured.
//!
//! The Credit Information Act (527/2007) allows using credit information only for a stated
//! purpose; a query without one is refused here before any call is made.
//!
//! The request: `POST {target}/v1/credit-checks` with a JSON body (`userid`, `enduser`,
//! `timestamp`, `checksum`, `purpose`, and `personId` or `businessId`). The answer:
//! `{"found": true, "creditClass": 1..5, "score": 0..100, "paymentDefaults": [{"type": …,
//! "date": …, "amount": …}]}`; `found: false` when the subject is unknown.

use futures::future::BoxFuture;
use serde::Deserialize;
use sha2::{Digest, Sha512};

use super::{Adapter, AdapterError, Answer, Query};
use crate::config::Secret;

/// Purposes the Credit Information Act permits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    CreditGranting,
    CreditMonitoring,
    DebtCollection,
    CustomerDueDiligence,
    Tenancy,
    EmploymentSecurityClearance,
}

impl Purpose {
    /// The code sent to the source.
    pub fn code(self) -> &'static str {
        match self {
            Purpose::CreditGranting => "credit_granting",
            Purpose::CreditMonitoring => "credit_monitoring",
            Purpose::DebtCollection => "debt_collection",
            Purpose::CustomerDueDiligence => "customer_due_diligence",
            Purpose::Tenancy => "tenancy",
            Purpose::EmploymentSecurityClearance => "employment_security_clearance",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum CreditTarget {
    /// A personal identity code, already checked.
    Person(String),
    Business(String),
}

impl std::fmt::Debug for CreditTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CreditTarget::Person(_) => f.write_str("Person(<identity code>)"),
            CreditTarget::Business(id) => write!(f, "Business({id})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditQuery {
    pub target: CreditTarget,
    /// `None` is refused before any call.
    pub purpose: Option<Purpose>,
}

impl CreditQuery {
    pub fn cache_key(&self) -> String {
        let target = match &self.target {
            // Keyed with a secret of this process: the identity code space is small enough to
            // reverse a plain hash.
            CreditTarget::Person(code) => {
                let mut digest = Sha512::new();
                digest.update(cache_salt());
                digest.update(code.as_bytes());
                format!("p:{}", hex::encode(digest.finalize()))
            }
            CreditTarget::Business(id) => format!("b:{id}"),
        };
        let purpose = self.purpose.map(Purpose::code).unwrap_or_default();
        format!("credit:{target}:{purpose}")
    }
}

/// A random secret of this process, for the cache keys of identity codes.
fn cache_salt() -> &'static [u8; 32] {
    static SALT: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    SALT.get_or_init(rand::random)
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreditReport {
    pub found: bool,
    /// 1 to 5, when the source gave one.
    pub credit_class: Option<u32>,
    /// 0 to 100, when the source gave one.
    pub score: Option<u32>,
    pub payment_defaults: Vec<String>,
}

#[derive(Debug)]
pub struct Credit {
    client: reqwest::Client,
    target: url::Url,
    user_id: String,
    end_user: String,
    key: Secret,
}

/// The request checksum: SHA-512 of `userid&enduser&timestamp&key&`, upper-case hex.
pub fn checksum(user_id: &str, end_user: &str, timestamp: &str, key: &str) -> String {
    let text = format!("{user_id}&{end_user}&{timestamp}&{key}&");
    hex::encode_upper(Sha512::digest(text.as_bytes()))
}

/// The timestamp the checksum covers: UTC, `YYYYMMDDhhmmssff` then `+0000`.
pub fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{}{:02}+0000",
        now.format("%Y%m%d%H%M%S"),
        now.timestamp_subsec_millis() / 10
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawReport {
    found: bool,
    #[serde(default)]
    credit_class: Option<u32>,
    #[serde(default)]
    score: Option<u32>,
    #[serde(default)]
    payment_defaults: Vec<RawDefault>,
}

#[derive(Debug, Deserialize)]
struct RawDefault {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    date: Option<String>,
}

impl Credit {
    pub fn new(
        client: reqwest::Client,
        target: &url::Url,
        user_id: String,
        end_user: String,
        key: Secret,
    ) -> Self {
        Self {
            client,
            target: super::join(target, "v1/credit-checks"),
            user_id,
            end_user,
            key,
        }
    }

    async fn check(&self, query: &CreditQuery) -> Result<Answer, AdapterError> {
        let Some(purpose) = query.purpose else {
            return Err(AdapterError::Unsupported(
                "credit information needs a purpose the Credit Information Act permits (credit granting, debt collection, customer due diligence, tenancy, …)".into(),
            ));
        };
        let timestamp = timestamp(chrono::Utc::now());
        let mut body = serde_json::json!({
            "userid": self.user_id,
            "enduser": self.end_user,
            "timestamp": timestamp,
            "checksum": checksum(&self.user_id, &self.end_user, &timestamp, self.key.expose()),
            "purpose": purpose.code(),
        });
        match &query.target {
            CreditTarget::Person(code) => body["personId"] = code.clone().into(),
            CreditTarget::Business(id) => body["businessId"] = id.clone().into(),
        }
        let request = self
            .client
            .post(self.target.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let (status, answer) = super::send(request, "request").await?;
        if status == reqwest::StatusCode::UNAUTHORIZED
            || status == reqwest::StatusCode::FORBIDDEN
            || status == reqwest::StatusCode::NOT_FOUND
        {
            return Err(AdapterError::Misconfigured(format!(
                "refused our request ({status}): check enrichment.credit.target, its URL, user_id, end_user and key"
            )));
        }
        if !status.is_success() {
            return Err(AdapterError::Refused(format!(
                "refused the request ({status})"
            )));
        }
        let raw: RawReport = answer.json("answer")?;
        if let Some(class) = raw.credit_class
            && !(1..=5).contains(&class)
        {
            return Err(AdapterError::Malformed(format!(
                "credit class {class} is not 1 to 5"
            )));
        }
        if raw.score.is_some_and(|s| s > 100) {
            return Err(AdapterError::Malformed("a score over 100".into()));
        }
        if !raw.found {
            // Nothing else of an unknown subject is an answer.
            return Ok(Answer::Credit(CreditReport::default()));
        }
        Ok(Answer::Credit(CreditReport {
            found: raw.found,
            credit_class: raw.credit_class,
            score: raw.score,
            payment_defaults: raw
                .payment_defaults
                .into_iter()
                .map(|d| match d.date {
                    Some(date) => format!("{} {date}", d.kind),
                    None => d.kind,
                })
                .collect(),
        }))
    }
}

impl Adapter for Credit {
    fn kind(&self) -> &'static str {
        "credit"
    }

    fn supports(&self, query: &Query) -> bool {
        matches!(query, Query::Credit(_))
    }

    fn idempotent(&self) -> bool {
        false
    }

    fn lookup<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, AdapterError>> {
        Box::pin(async move {
            match query {
                Query::Credit(q) => self.check(q).await,
                _ => Err(AdapterError::Unsupported(
                    "the credit source answers credit checks only".into(),
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_upper_case_sha512_of_the_joined_fields() {
        let sum = checksum("user", "enduser", "2026120608151200+0000", "secret");
        let expected = hex::encode_upper(Sha512::digest(
            b"user&enduser&2026120608151200+0000&secret&",
        ));
        assert_eq!(sum, expected);
        assert_eq!(sum.len(), 128);
        assert!(
            sum.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }

    #[test]
    fn the_timestamp_has_centiseconds_and_a_zone() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-06T08:15:12.345Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(timestamp(t), "2026120608151234+0000");
    }

    #[test]
    fn a_person_is_not_readable_from_the_cache_key_or_debug() {
        let q = CreditQuery {
            target: CreditTarget::Person("131052-308T".into()),
            purpose: Some(Purpose::CreditGranting),
        };
        assert!(!q.cache_key().contains("131052"));
        assert!(!format!("{q:?}").contains("131052"));
    }
}
