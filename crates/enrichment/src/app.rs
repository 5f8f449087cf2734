//! The enrichment service's parts, declared to the platform runtime.

use std::sync::Arc;

use rekisteri_platform::config::ServiceConfig;
use rekisteri_platform::runtime::{Runtime, Service, ServiceSpec};
use rekisteri_proto::enrichment::v1::enrichment_service_server::EnrichmentServiceServer;
use tokio::sync::Notify;
use tonic::service::Routes;

use crate::config::EnrichmentConfig;
use crate::enricher::Enricher;
use crate::grpc::Enrichment;
use crate::migration::Migrator;
use crate::registers::{Registers, Subjects};
use crate::requests::{self, Requests};
use crate::sources::Sources;
use crate::{events, roles};

pub const SERVICE_NAME: &str = "rekisteri.enrichment.v1.EnrichmentService";

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "enrichment",
    roles: roles::TABLE,
    streams: &[events::STREAM],
    defaults: DEFAULTS,
};

/// Built-in defaults, overridden by a file and by `REKISTERI_*` variables. PRH's open data
/// needs no credentials and is on; the other sources need an agreement with their supplier
/// and are off until configured.
pub const DEFAULTS: &str = r#"
[grpc]
listen = "0.0.0.0:50053"

[database]
url = "sqlite://rekisteri-enrichment.db?mode=rwc"

[nats]
url = "nats://127.0.0.1:4222"

[enrichment]
catalogue_endpoint = "http://127.0.0.1:50051"
customers_endpoint = "http://127.0.0.1:50052"

[enrichment.prh]
enabled = true
base_url = "https://avoindata.prh.fi"
supplies = "business data: names, addresses, business line, company form, status"
declared_as = ["PRH", "YTJ", "0244683-1", "Patentti- ja rekisterihallitus", "Patent- och registerstyrelsen", "Finnish Patent and Registration Office", "Yritys- ja yhteisötietojärjestelmä", "Företags- och organisationsdatasystemet", "Business Information System"]
# PRH shares about 300 requests a minute among all its users.
rate_per_minute = 60
cache_seconds = 86400

[enrichment.credit]
supplies = "credit information: credit class, score, payment defaults"
declared_as = ["Asiakastieto", "Suomen Asiakastieto", "Enento", "luottotietorekisteri", "luottotietorekisteristä", "luottotietorekistereistä", "credit information register"]
cache_seconds = 0

[enrichment.contacts]
supplies = "company contact data: decision-makers, industry, revenue, offices"
declared_as = ["Fonecta"]
cache_seconds = 86400

[enrichment.opt_out]
supplies = "direct-marketing opt-out list"
declared_as = ["ASML", "kieltorekisteri", "kieltorekisteristä", "kieltorekistereistä", "Robinson", "opt-out list"]
cache_seconds = 0
"#;

pub async fn build(config: &ServiceConfig) -> anyhow::Result<Service> {
    let own: EnrichmentConfig = config.section(SPEC.name)?;
    let sources = Sources::from_config(&own)?;
    let catalogue = rekisteri_catalogue::client::connect(
        SPEC.name,
        &own.catalogue_endpoint,
        own.catalogue_token.as_ref().map(|t| t.expose()),
    )?;
    let subjects = Subjects::connect(
        &own.customers_endpoint,
        own.customers_token.as_ref().map(|t| t.expose()),
    )?;
    let wake = Arc::new(Notify::new());
    let reported = sources.clone();
    Runtime::new(&SPEC, config)
        .migrations::<Migrator>()
        .dependencies(move || reported.report())
        .consumer(requests::consumer_spec(), Requests { wake: wake.clone() })
        .routes(move |parts| {
            let enricher = Enricher::new(
                parts.db.clone(),
                parts.outbox.clone(),
                sources,
                Registers::new(catalogue),
                subjects,
                wake,
            );
            let worker = enricher.clone();
            parts.spawn_task(move |cancel| Box::pin(worker.run_requests(cancel)));
            let service = EnrichmentServiceServer::new(Enrichment::new(enricher))
                .max_decoding_message_size(parts.max_message_bytes())
                .max_encoding_message_size(parts.max_message_bytes());
            Routes::new(service)
        })
        .build()
        .await
}
