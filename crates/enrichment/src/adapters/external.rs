//! A source plugged in from outside over the adapter protocol
//! (`proto/rekisteri/adapter/v1/adapter.proto`): a process in any language that serves
//! `SourceAdapterService`. The service calls it with the configured bearer token; timeouts,
//! retries, the breaker, the rate limit, the cache and provenance are the same as for a
//! built-in source.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use rekisteri_platform::auth::BearerToken;
use rekisteri_proto::adapter::v1 as pb;
use rekisteri_proto::adapter::v1::source_adapter_service_client::SourceAdapterServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::{Adapter, AdapterError, Answer, Query};

type Client = SourceAdapterServiceClient<InterceptedService<Channel, BearerToken>>;

#[derive(Debug, Clone)]
pub struct External {
    client: Client,
    what: String,
}

impl External {
    /// Connects lazily: the adapter process may start after the service.
    pub fn connect(
        name: &str,
        address: &str,
        token: Option<&str>,
        timeout: std::time::Duration,
    ) -> anyhow::Result<Self> {
        let mut endpoint = tonic::transport::Endpoint::from_shared(address.to_owned())
            .map_err(|e| anyhow::anyhow!("enrichment.external.{name}.base_url `{address}`: {e}"))?
            .connect_timeout(timeout.min(std::time::Duration::from_secs(5)))
            .timeout(timeout);
        // An adapter elsewhere is reached over TLS, checked against the public roots.
        if address.starts_with("https://") {
            endpoint = endpoint
                .tls_config(tonic::transport::ClientTlsConfig::new().with_webpki_roots())
                .map_err(|e| {
                    anyhow::anyhow!("enrichment.external.{name}.base_url `{address}`: {e}")
                })?;
        }
        let channel = endpoint.connect_lazy();
        let token = BearerToken::new(token.unwrap_or_default()).map_err(|_| {
            anyhow::anyhow!("enrichment.external.{name}.token: not a valid header value")
        })?;
        Ok(Self {
            client: SourceAdapterServiceClient::with_interceptor(channel, token),
            what: format!("adapter {name}"),
        })
    }

    async fn ask(&self, query: &BTreeMap<String, String>) -> Result<Answer, AdapterError> {
        let answer = self
            .client
            .clone()
            .lookup(pb::LookupRequest {
                query: query.clone().into_iter().collect(),
            })
            .await;
        match answer {
            Ok(r) => {
                let r = r.into_inner();
                Ok(Answer::External(
                    r.found.then(|| r.fields.into_iter().collect()),
                ))
            }
            Err(status) => {
                use tonic::Code;
                let message = format!("{}: {:?} {}", self.what, status.code(), status.message());
                match status.code() {
                    // A connection dropped mid-call is reported as Cancelled (or Unknown).
                    Code::Unavailable
                    | Code::DeadlineExceeded
                    | Code::ResourceExhausted
                    | Code::Cancelled
                    | Code::Unknown => Err(AdapterError::transient(message)),
                    Code::NotFound => Ok(Answer::External(None)),
                    _ => Err(AdapterError::Refused(message)),
                }
            }
        }
    }
}

impl Adapter for External {
    fn kind(&self) -> &'static str {
        "external"
    }

    fn supports(&self, query: &Query) -> bool {
        matches!(query, Query::External(_))
    }

    fn lookup<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, AdapterError>> {
        Box::pin(async move {
            match query {
                Query::External(q) => self.ask(q).await,
                _ => Err(AdapterError::Unsupported(format!(
                    "{} answers lookups in its own terms only",
                    self.what
                ))),
            }
        })
    }
}
