//! A client of the catalogue for the services that bind data to its registers (customers,
//! disclosures): connected lazily, with the service's own token.

use rekisteri_platform::auth::BearerToken;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Catalogue = CatalogueServiceClient<InterceptedService<Channel, BearerToken>>;

/// A client of the catalogue at `endpoint`, or none when the endpoint is empty. `section` names
/// the configuration section the settings came from, for the errors.
pub fn connect(
    section: &str,
    endpoint: &str,
    token: Option<&str>,
) -> anyhow::Result<Option<Catalogue>> {
    if endpoint.is_empty() {
        return Ok(None);
    }
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .map_err(|e| anyhow::anyhow!("{section}.catalogue_endpoint `{endpoint}`: {e}"))?
        .connect_timeout(std::time::Duration::from_secs(3))
        .timeout(std::time::Duration::from_secs(10))
        .connect_lazy();
    let token = BearerToken::new(token.unwrap_or_default())
        .map_err(|_| anyhow::anyhow!("{section}.catalogue_token: not a valid header value"))?;
    Ok(Some(CatalogueServiceClient::with_interceptor(
        channel, token,
    )))
}
