//! Company contact data (a Fonecta-style API): decision-makers, industry, revenue and offices
//! by business ID. OAuth2 client credentials: the token is cached until it expires and fetched
//! again once when the API answers `401` (a token revoked before its time).
//!
//! Token: `POST {token_url}` with `grant_type=client_credentials` (client id and secret as HTTP
//! basic auth), answered `{"access_token": …, "expires_in": seconds}`. Search:
//! `GET {base}/v1/companies?businessId=…` answered `{"companies": [{"businessId", "decisionMakers":
//! [{"name", "title"}], "industry": {"name"}, "revenue": {"amount", "currency"}, "offices":
//! [{"street", "postalCode", "city"}]}]}`.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use rekisteri_identifiers::BusinessId;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::{Adapter, AdapterError, Answer, Query};
use crate::config::Secret;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompanyContacts {
    /// (name, title)
    pub decision_makers: Vec<(String, String)>,
    pub industry: String,
    /// In euros; 0 when not reported (or reported in another currency).
    pub revenue_eur: i64,
    /// (street, postal code, city)
    pub offices: Vec<(String, String, String)>,
}

#[derive(Debug)]
pub struct Contacts {
    client: reqwest::Client,
    token_url: url::Url,
    companies: url::Url,
    client_id: String,
    client_secret: Secret,
    token: Mutex<Option<(Secret, Instant)>>,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    companies: Vec<RawCompany>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCompany {
    business_id: String,
    #[serde(default)]
    decision_makers: Vec<RawPerson>,
    #[serde(default)]
    industry: Option<Named>,
    #[serde(default)]
    revenue: Option<Money>,
    #[serde(default)]
    offices: Vec<RawOffice>,
}

#[derive(Debug, Deserialize)]
struct RawPerson {
    name: String,
    #[serde(default)]
    title: String,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Money {
    amount: i64,
    #[serde(default)]
    currency: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOffice {
    #[serde(default)]
    street: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    city: String,
}

impl Contacts {
    pub fn new(
        client: reqwest::Client,
        base: &url::Url,
        token_url: url::Url,
        client_id: String,
        client_secret: Secret,
    ) -> Self {
        Self {
            client,
            token_url,
            companies: super::join(base, "v1/companies"),
            client_id,
            client_secret,
            token: Mutex::new(None),
        }
    }

    /// A token that is still valid for a while, fetched when there is none, or when the API
    /// refused `stale` and it is still the one held (concurrent refusals fetch one new token).
    async fn token(&self, stale: Option<&Secret>) -> Result<Secret, AdapterError> {
        let mut held = self.token.lock().await;
        if let Some((token, until)) = held.as_ref()
            && Instant::now() < *until
            && stale != Some(token)
        {
            return Ok(token.clone());
        }
        let request = self
            .client
            .post(self.token_url.clone())
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .form(&[("grant_type", "client_credentials")]);
        let (status, body) = super::send(request, "token request").await?;
        if !status.is_success() {
            return Err(AdapterError::Misconfigured(format!(
                "refused our client credentials ({status}): check enrichment.contacts.client_id and client_secret"
            )));
        }
        let answer: TokenAnswer = body.json("token")?;
        // A minute's margin so a token does not expire between check and use.
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(300).saturating_sub(60));
        let token = Secret::new(answer.access_token);
        *held = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// The answer, or `None` when the API refused the token (401).
    async fn search(
        &self,
        id: &BusinessId,
        token: &Secret,
    ) -> Result<Option<Answer>, AdapterError> {
        let request = self
            .client
            .get(self.companies.clone())
            .query(&[("businessId", id.as_str())])
            .bearer_auth(token.expose());
        let (status, body) = super::send(request, "request").await?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Ok(None);
        }
        // An unknown company is an empty list; a 404 is a wrong address, not "not found".
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(AdapterError::Misconfigured(
                "answered 404: check enrichment.contacts.base_url".into(),
            ));
        }
        if status == reqwest::StatusCode::FORBIDDEN {
            return Err(AdapterError::Misconfigured(
                "refused access (403): check the client's rights".into(),
            ));
        }
        if !status.is_success() {
            return Err(AdapterError::Refused(format!(
                "refused the request ({status})"
            )));
        }
        let page: Page = body.json("answer")?;
        let company = page
            .companies
            .into_iter()
            .find(|c| c.business_id == id.as_str());
        Ok(Some(Answer::Contacts(company.map(|c| {
            CompanyContacts {
                decision_makers: c
                    .decision_makers
                    .into_iter()
                    .map(|p| (p.name, p.title))
                    .collect(),
                industry: c.industry.map(|i| i.name).unwrap_or_default(),
                revenue_eur: c
                    .revenue
                    .filter(|m| m.currency.is_empty() || m.currency.eq_ignore_ascii_case("EUR"))
                    .map(|m| m.amount)
                    .unwrap_or(0),
                offices: c
                    .offices
                    .into_iter()
                    .map(|o| (o.street, o.postal_code, o.city))
                    .collect(),
            }
        }))))
    }

    async fn company(&self, id: &BusinessId) -> Result<Answer, AdapterError> {
        let token = self.token(None).await?;
        if let Some(answer) = self.search(id, &token).await? {
            return Ok(answer);
        }
        // Revoked or expired early: one new token, one more try.
        let token = self.token(Some(&token)).await?;
        self.search(id, &token)
            .await?
            .ok_or_else(|| AdapterError::Misconfigured("refused a fresh token (401)".into()))
    }
}

impl Adapter for Contacts {
    fn kind(&self) -> &'static str {
        "contacts"
    }

    fn supports(&self, query: &Query) -> bool {
        matches!(query, Query::Contacts(_))
    }

    fn lookup<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, AdapterError>> {
        Box::pin(async move {
            match query {
                Query::Contacts(id) => self.company(id).await,
                _ => Err(AdapterError::Unsupported(
                    "the contact data source answers company lookups only".into(),
                )),
            }
        })
    }
}
