//! The customer service's parts, declared to the platform runtime.

use std::sync::Arc;

use rekisteri_platform::config::ServiceConfig;
use rekisteri_platform::runtime::{Runtime, Service, ServiceSpec};
use rekisteri_proto::customers::v1::customer_service_server::CustomerServiceServer;
use tonic::service::Routes;

use crate::config::CustomersConfig;
use crate::enrichment::EnrichmentResults;
use crate::grpc::Customers;
use crate::migration::Migrator;
use crate::registers::{RegisterEvents, Registers};
use crate::store::Store;
use crate::{enrichment, events, registers, roles};

pub const SERVICE_NAME: &str = "rekisteri.customers.v1.CustomerService";

pub const SPEC: ServiceSpec = ServiceSpec {
    name: "customers",
    roles: roles::TABLE,
    streams: &[events::STREAM],
    defaults: DEFAULTS,
};

/// Built-in defaults, overridden by a file and by `REKISTERI_*` variables. There are no default
/// keys: `[customers]` must name them (see README).
pub const DEFAULTS: &str = r#"
[grpc]
listen = "0.0.0.0:50052"

[database]
url = "sqlite://rekisteri-customers.db?mode=rwc"

# The statements of this service find their rows by key, so the plan PostgreSQL makes once for a
# prepared statement is the right one for any value. Left to choose (`auto`), PostgreSQL was
# measured planning a subject's one-statement read anew on every call, 58% of its samples in the
# planner (docs/performance.md, "Customer reads and writes, before and after"). The one exception,
# a find by name prefix, asks for a plan of its own (store.rs).
[database.postgres_settings]
plan_cache_mode = "force_generic_plan"

[nats]
url = "nats://127.0.0.1:4222"

[customers]
catalogue_endpoint = "http://127.0.0.1:50051"
"#;

pub async fn build(config: &ServiceConfig) -> anyhow::Result<Service> {
    let own: CustomersConfig = config.section(SPEC.name)?;
    let vault = Arc::new(own.vault()?);
    let policy = own.hetu_policy();
    let catalogue = registers::catalogue_client(
        &own.catalogue_endpoint,
        own.catalogue_token.as_ref().map(|t| t.expose()),
    )?;
    Runtime::new(&SPEC, config)
        .migrations::<Migrator>()
        .consumer(registers::consumer_spec(), RegisterEvents)
        .consumer(enrichment::consumer_spec(), EnrichmentResults)
        .routes(move |parts| {
            let registers = Registers::new(parts.db.clone(), catalogue);
            let store = Store::new(parts.db.clone(), parts.outbox.clone(), vault, registers);
            let service = CustomerServiceServer::new(Customers::new(store, policy))
                .max_decoding_message_size(parts.max_message_bytes())
                .max_encoding_message_size(parts.max_message_bytes());
            Routes::new(service)
        })
        .build()
        .await
}
