//! What a register declares as its regular sources (asked of the catalogue, remembered for a
//! minute: a register republished with a new source is seen soon), and which registers a
//! customer subject is held in (asked of the customer service).

use std::sync::Arc;
use std::time::Duration;

use rekisteri_catalogue::client::Catalogue;
use rekisteri_platform::auth::BearerToken;
use rekisteri_platform::error::ServiceError;
use rekisteri_proto::catalogue::v1 as catalogue;
use rekisteri_proto::customers::v1 as customers;
use rekisteri_proto::customers::v1::customer_service_client::CustomerServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::sources::Source;

/// A published register's name and declared sources.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    pub register_id: String,
    pub name: String,
    pub sources: Vec<catalogue::DataSource>,
}

impl Declared {
    pub fn declares(&self, source: &Source) -> bool {
        self.sources.iter().any(|d| source.is_declared_by(d))
    }
}

#[derive(Debug, Clone)]
pub struct Registers {
    catalogue: Option<Catalogue>,
    known: moka::future::Cache<String, Arc<Declared>>,
}

impl Registers {
    pub fn new(catalogue: Option<Catalogue>) -> Self {
        Self {
            catalogue,
            known: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    /// The latest published version's declarations.
    pub async fn published(&self, id: &str) -> Result<Arc<Declared>, ServiceError> {
        if let Some(known) = self.known.get(id).await {
            return Ok(known);
        }
        let Some(client) = &self.catalogue else {
            return Err(ServiceError::Unavailable(
                "no catalogue endpoint is configured (enrichment.catalogue_endpoint)".into(),
            ));
        };
        let answer = client
            .clone()
            .get_register(catalogue::GetRegisterRequest {
                register_id: id.to_owned(),
                selector: catalogue::VersionSelector::LatestPublished as i32,
                version: 0,
            })
            .await;
        let response = match answer {
            Ok(r) => r.into_inner(),
            Err(status) if status.code() == tonic::Code::NotFound => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "register {id} has no published version in the catalogue"
                )));
            }
            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                let mut v = rekisteri_platform::error::FieldViolations::new();
                v.add(
                    "context.register_id",
                    format!("`{id}` is not a register id"),
                );
                return Err(ServiceError::InvalidArgument(v));
            }
            Err(status) => {
                tracing::warn!(register_id = %id, code = ?status.code(), message = status.message(), "cannot ask the catalogue about a register");
                return Err(ServiceError::Unavailable(format!(
                    "the catalogue cannot be asked about register {id} now; retry"
                )));
            }
        };
        if response.register.as_ref().map(|r| r.status())
            == Some(catalogue::RegisterStatus::Retired)
        {
            return Err(ServiceError::FailedPrecondition(format!(
                "register {id} is retired: no data is fetched for it"
            )));
        }
        let content = response.version.and_then(|v| v.content).unwrap_or_default();
        let declared = Arc::new(Declared {
            register_id: id.to_owned(),
            name: content.name,
            sources: content.sources,
        });
        self.known.insert(id.to_owned(), declared.clone()).await;
        Ok(declared)
    }
}

/// What this service needs to know of a customer subject.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectRef {
    pub subject_id: String,
    /// "person" or "organisation".
    pub kind: String,
    /// An organisation's business ID, empty when none.
    pub business_id: String,
    /// The registers it is held in now.
    pub register_ids: Vec<String>,
    /// Its etag when read (or when the request was made).
    pub etag: String,
}

type CustomersClient = CustomerServiceClient<InterceptedService<Channel, BearerToken>>;

#[derive(Debug, Clone)]
pub struct Subjects {
    client: Option<CustomersClient>,
}

impl Subjects {
    pub fn connect(endpoint: &str, token: Option<&str>) -> anyhow::Result<Self> {
        if endpoint.is_empty() {
            return Ok(Self { client: None });
        }
        let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
            .map_err(|e| anyhow::anyhow!("enrichment.customers_endpoint `{endpoint}`: {e}"))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .connect_lazy();
        let token = BearerToken::new(token.unwrap_or_default())
            .map_err(|_| anyhow::anyhow!("enrichment.customers_token: not a valid header value"))?;
        Ok(Self {
            client: Some(CustomerServiceClient::with_interceptor(channel, token)),
        })
    }

    pub async fn get(&self, subject_id: &str) -> Result<SubjectRef, ServiceError> {
        let Some(client) = &self.client else {
            return Err(ServiceError::Unavailable(
                "no customer service endpoint is configured (enrichment.customers_endpoint) to learn the subject's registers".into(),
            ));
        };
        let answer = client
            .clone()
            .get_subject(customers::GetSubjectRequest {
                subject_id: subject_id.to_owned(),
            })
            .await;
        let subject = match answer {
            Ok(r) => r.into_inner().subject.unwrap_or_default(),
            Err(status) if status.code() == tonic::Code::NotFound => {
                return Err(ServiceError::NotFound(format!("no subject {subject_id}")));
            }
            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "subject {subject_id}: {}",
                    status.message()
                )));
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "cannot ask the customer service about a subject");
                return Err(ServiceError::Unavailable(
                    "the customer service cannot be asked about the subject now; retry".into(),
                ));
            }
        };
        let today = chrono::Utc::now().date_naive().to_string();
        Ok(SubjectRef {
            subject_id: subject.subject_id.clone(),
            kind: match subject.kind() {
                customers::SubjectKind::Organisation => "organisation",
                _ => "person",
            }
            .into(),
            business_id: subject
                .organisation
                .as_ref()
                .and_then(|o| o.business_id.as_ref())
                .map(|b| b.value.clone())
                .unwrap_or_default(),
            // Memberships that have not ended.
            register_ids: subject
                .memberships
                .iter()
                .filter(|m| m.end_date.is_empty() || m.end_date.as_str() >= today.as_str())
                .map(|m| m.register_id.clone())
                .collect(),
            etag: subject.etag.clone(),
        })
    }
}
