//! The disclosure service's parts, declared to the platform runtime.

use std::sync::Arc;

use rekisteri_platform::config::ServiceConfig;
use rekisteri_platform::runtime::{Runtime, Service, ServiceSpec};
use rekisteri_proto::disclosures::v1::disclosure_service_server::DisclosureServiceServer;
use tonic::service::Routes;

use crate::config::DisclosuresConfig;
use crate::declarations::Registers;
use crate::grpc::Disclosures;
use crate::log::Log;
use crate::migration::Migrator;
use crate::{events, pseudonyms, roles};

pub const SERVICE_NAME: &str = "rekisteri.disclosures.v1.DisclosureService";

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "disclosures",
    roles: roles::TABLE,
    streams: &[events::STREAM],
    defaults: DEFAULTS,
};

/// Built-in defaults, overridden by a file and by `REKISTERI_*` variables. There is no default
/// signing key: `[disclosures] signing_key` must be configured (see README).
pub const DEFAULTS: &str = r#"
[grpc]
listen = "0.0.0.0:50054"

[database]
url = "sqlite://rekisteri-disclosures.db?mode=rwc"

[nats]
url = "nats://127.0.0.1:4222"

[disclosures]
catalogue_endpoint = "http://127.0.0.1:50051"
"#;

pub async fn build(config: &ServiceConfig) -> anyhow::Result<Service> {
    let own: DisclosuresConfig = config.section(SPEC.name)?;
    let signer = Arc::new(own.signing_key()?);
    let previous_keys = own.previous_public_keys()?;
    if own.checkpoint_interval_secs == 0 {
        anyhow::bail!("disclosures.checkpoint_interval_secs: at least 1");
    }
    let interval = std::time::Duration::from_secs(own.checkpoint_interval_secs);
    let catalogue = rekisteri_catalogue::client::connect(
        SPEC.name,
        &own.catalogue_endpoint,
        own.catalogue_token.as_ref().map(|t| t.expose()),
    )?;
    Runtime::new(&SPEC, config)
        .migrations::<Migrator>()
        .consumer(pseudonyms::consumer_spec(), pseudonyms::Erasures)
        .routes(move |parts| {
            let log = Log::new(
                parts.db.clone(),
                parts.outbox.clone(),
                signer,
                previous_keys,
                Registers::new(catalogue),
            );
            let signing = log.clone();
            parts.spawn_task(move |cancel| Box::pin(signing.sign_periodically(interval, cancel)));
            let service =
                DisclosureServiceServer::new(Disclosures::new(log, parts.max_message_bytes()))
                    .max_decoding_message_size(parts.max_message_bytes())
                    .max_encoding_message_size(parts.max_message_bytes());
            Routes::new(service)
        })
        .build()
        .await
}
