//! Wiring: configuration in, a running catalogue out. The binary and the tests both start the
//! service through [`Application`].

use std::time::Duration;

use rekisteri_platform::auth::Authenticator;
use rekisteri_platform::config::ServiceConfig;
use rekisteri_platform::grpc::GrpcServer;
use rekisteri_platform::outbox::{OutboxRelay, OutboxSignal};
use rekisteri_platform::{CancellationToken, db};
use rekisteri_proto::catalogue::v1::catalogue_service_server::CatalogueServiceServer;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tonic::service::Routes;

use crate::migration::Migrator;
use crate::service::Catalogue;

/// The fully qualified gRPC service name, as health checks and reflection know it.
pub const SERVICE_NAME: &str = "rekisteri.catalogue.v1.CatalogueService";

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
#[derive(Debug)]
pub struct Application {
    server: GrpcServer,
    catalogue: Catalogue,
    auth: Authenticator,
    relay: OutboxRelay,
    db: DatabaseConnection,
}

impl Application {
    pub async fn build(config: &ServiceConfig) -> anyhow::Result<Self> {
        let auth = Authenticator::new(&config.auth)?;
        let db = db::connect(&config.database).await?;
        Migrator::up(&db, None).await?;
        // Connecting must not wait for NATS: writes are accepted while it is away and the relay
        // catches up when it returns.
        let nats = async_nats::ConnectOptions::new()
            .name("rekisteri-catalogue")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(config.nats.url.as_str())
            .await?;
        let signal = OutboxSignal::default();
        let relay = OutboxRelay::new(
            db.clone(),
            async_nats::jetstream::new(nats),
            crate::events::STREAM,
            signal.clone(),
            config.outbox.clone(),
        );
        let server = GrpcServer::bind(&config.grpc.listen).await?;
        Ok(Self {
            server,
            catalogue: Catalogue::new(db.clone(), signal),
            auth,
            relay,
            db,
        })
    }

    pub fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    /// Serves until `cancel` fires, then drains in-flight calls and stops the relay. Events not
    /// yet published stay in the outbox and go out on the next start.
    pub async fn run_until_stopped(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = tokio::spawn(self.relay.run(cancel.clone()));
        let service = CatalogueServiceServer::with_interceptor(self.catalogue, self.auth);
        let result = self
            .server
            .serve(SERVICE_NAME, Routes::new(service), cancel.clone())
            .await;
        cancel.cancel();
        relay.await?;
        self.db.close().await?;
        result
    }
}
