//! The end-to-end harness: every service of the system (from the one service table the `rekisteri`
//! binary uses) started on one NATS server of the test's own, each on a fresh database of the
//! chosen backend, over real gRPC on loopback.

use rekisteri_cli::services::{self, ServiceEntry};
use rekisteri_platform::CancellationToken;
use rekisteri_platform::config::ServiceConfig;
use rekisteri_test_support::{Backend, NatsServer, TestDb};
use tokio::task::JoinHandle;

/// One running service (or one replica of it).
#[derive(Debug)]
pub struct Running {
    pub entry: &'static ServiceEntry,
    pub config: ServiceConfig,
    pub port: u16,
    cancel: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// Builds and starts a service with `config`, and waits until it reports SERVING.
    pub async fn start(entry: &'static ServiceEntry, config: ServiceConfig) -> Running {
        let service = (entry.build)(&config)
            .await
            .unwrap_or_else(|e| panic!("the {} starts: {e:#}", entry.name()));
        let port = service.port();
        let cancel = CancellationToken::new();
        let handle = tokio::spawn(service.run_until_stopped(cancel.clone()));
        rekisteri_test_support::wait_until_serving(port).await;
        Running {
            entry,
            config,
            port,
            cancel,
            handle: Some(handle),
        }
    }

    pub async fn channel(&self) -> tonic::transport::Channel {
        rekisteri_test_support::channel(self.port).await
    }

    /// Stops gracefully and waits until it has.
    pub async fn stop(&mut self) {
        self.cancel.cancel();
        if let Some(handle) = self.handle.take() {
            handle
                .await
                .expect("the service task")
                .expect("the service stopped cleanly");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The whole system.
#[derive(Debug)]
pub struct System {
    pub nats: NatsServer,
    pub backend: Backend,
    pub services: Vec<Running>,
    /// Each service's database, by the same index as `services`.
    pub databases: Vec<TestDb>,
    /// Where services keep local files (the customer service's keys).
    pub data_dir: tempfile::TempDir,
}

impl System {
    pub async fn start(backend: Backend) -> System {
        Self::start_with(backend, |_, _| {}).await
    }

    /// Starts every service, letting `tweak` adjust each one's test configuration first.
    pub async fn start_with(
        backend: Backend,
        tweak: impl Fn(&ServiceEntry, &mut ServiceConfig),
    ) -> System {
        rekisteri_test_support::init_tracing();
        let nats = NatsServer::start().await;
        let mut running: Vec<Running> = Vec::new();
        let mut databases = Vec::new();
        let data_dir = tempfile::tempdir().expect("a temporary directory");
        for entry in services::ALL {
            let db = TestDb::fresh(backend).await;
            let mut config =
                rekisteri_test_support::service_config(entry.name(), &db.url, &nats.url());
            // The service's built-in settings, under the test's (as `serve` and `up` have them);
            // but no test asks the real PRH: one that wants a source points it at a stand-in.
            if entry.name() == "enrichment" {
                config
                    .add_sections("[enrichment.prh]\nenabled = false\n")
                    .expect("the test settings parse");
            }
            config
                .add_defaults(entry.spec.defaults)
                .expect("the built-in settings parse");
            // The same local settings `rekisteri up` gives the service (keys, other services).
            if let Some(local) = entry.local {
                let started: Vec<_> = running
                    .iter()
                    .map(|r| {
                        (
                            r.entry.name(),
                            std::net::SocketAddr::from(([127, 0, 0, 1], r.port)),
                        )
                    })
                    .collect();
                let own = local(&services::Local {
                    data_dir: data_dir.path(),
                    admin_token: rekisteri_test_support::tokens::ADMIN,
                    started: &started,
                })
                .expect("the local settings");
                config.add_sections(&own).expect("the local settings parse");
            }
            tweak(entry, &mut config);
            running.push(Running::start(entry, config).await);
            databases.push(db);
        }
        System {
            nats,
            backend,
            services: running,
            databases,
            data_dir,
        }
    }

    pub fn service(&self, name: &str) -> &Running {
        self.services
            .iter()
            .find(|s| s.entry.name() == name)
            .unwrap_or_else(|| panic!("no service {name}"))
    }

    /// Another replica of `name` on the same database and NATS server.
    pub async fn replica(&self, name: &str) -> Running {
        let first = self.service(name);
        Running::start(first.entry, first.config.clone()).await
    }
}
