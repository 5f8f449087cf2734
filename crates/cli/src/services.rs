//! Every service the system runs, in one table: `rekisteri up` starts them all, `rekisteri serve
//! NAME` one of them, the client commands find their default endpoints here, and the end-to-end
//! tests walk them. Adding a service means adding its row.

use futures::future::BoxFuture;
use rekisteri_platform::config::ServiceConfig;
use rekisteri_platform::runtime::{Service, ServiceSpec};

/// One row: what the service is, where it listens by default, how to build it.
#[derive(Debug, Clone, Copy)]
pub struct ServiceEntry {
    pub spec: &'static ServiceSpec,
    pub default_port: u16,
    pub build: for<'a> fn(&'a ServiceConfig) -> BoxFuture<'a, anyhow::Result<Service>>,
}

impl ServiceEntry {
    pub fn name(&self) -> &'static str {
        self.spec.name
    }
}

pub const ALL: &[ServiceEntry] = &[ServiceEntry {
    spec: &rekisteri_catalogue::app::SPEC,
    default_port: 50051,
    build: |config| Box::pin(rekisteri_catalogue::build(config)),
}];

/// The row named `name`, or an error listing the names there are.
pub fn find(name: &str) -> anyhow::Result<&'static ServiceEntry> {
    ALL.iter().find(|s| s.name() == name).ok_or_else(|| {
        anyhow::anyhow!(
            "no service `{name}`; the services are: {}",
            ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
        )
    })
}

/// clap's parser for a service name.
pub fn parse(name: &str) -> Result<&'static ServiceEntry, String> {
    find(name).map_err(|e| e.to_string())
}
