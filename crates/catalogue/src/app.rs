//! The catalogue's parts, declared to the platform runtime: its name and roles, the stream it
//! publishes, its migrations and its gRPC routes. The binary and the tests both start it here.

use rekisteri_platform::config::ServiceConfig;
use rekisteri_platform::runtime::{Runtime, Service, ServiceSpec};
use rekisteri_proto::catalogue::v1::catalogue_service_server::CatalogueServiceServer;
use tonic::service::Routes;

use crate::grpc::Catalogue;
use crate::migration::Migrator;
use crate::{events, roles};

/// The fully qualified gRPC service name, as health checks and reflection know it.
pub const SERVICE_NAME: &str = "rekisteri.catalogue.v1.CatalogueService";

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "catalogue",
    roles: roles::TABLE,
    streams: &[events::STREAM],
    defaults: DEFAULTS,
};

/// Built-in defaults, overridden by a file and by `REKISTERI_*` variables.
pub const DEFAULTS: &str = r#"
[grpc]
listen = "0.0.0.0:50051"

[database]
url = "sqlite://rekisteri-catalogue.db?mode=rwc"

[nats]
url = "nats://127.0.0.1:4222"
"#;

/// A catalogue whose database is migrated and whose port is bound, ready to run.
pub async fn build(config: &ServiceConfig) -> anyhow::Result<Service> {
    Runtime::new(&SPEC, config)
        .migrations::<Migrator>()
        .routes(|parts| {
            let service = CatalogueServiceServer::new(Catalogue::new(
                parts.db.clone(),
                parts.outbox.clone(),
                &parts.config.read_cache,
            ))
            .max_decoding_message_size(parts.max_message_bytes())
            .max_encoding_message_size(parts.max_message_bytes());
            Routes::new(service)
        })
        .build()
        .await
}
