//! The service runtime: a service declares its parts — name, role table, streams, migrations,
//! consumers, gRPC routes — and the runtime does the rest: connect and migrate the database,
//! connect to NATS, serve gRPC (health, reflection, auth, limits, the operations service), run the
//! outbox relay and every consumer, watch the database for health, and drain and stop cleanly.
//!
//! ```text
//! let service = Runtime::new(&SPEC, config)
//!     .migrations::<Migrator>()
//!     .consumer(spec, handler)
//!     .routes(|parts| Routes::new(MyServiceServer::new(My::new(parts.db.clone()))))
//!     .build()
//!     .await?;
//! let port = service.port();
//! service.run_until_stopped(cancel).await?;
//! ```

use std::time::Duration;

use futures::future::BoxFuture;
use rekisteri_proto::operations::v1::operations_service_server::OperationsServiceServer;
use sea_orm_migration::MigratorTrait;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::auth::{Authenticator, RoleTable};
use crate::config::{DatabaseConfig, ServiceConfig};
use crate::db::{self, Db};
use crate::grpc::{Gate, GrpcServer};
use crate::inbox::{Consumer, ConsumerSpec, EventHandler};
use crate::operations::{self, Operations};
use crate::outbox::{OutboxRelay, OutboxSignal, StreamSpec};

/// What a service is, declared once as a constant in its crate.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSpec {
    /// Short name: `catalogue`. Names the NATS client, metrics and the operations status.
    pub name: &'static str,
    /// The gRPC service and the role each of its methods needs.
    pub roles: RoleTable,
    /// The streams it publishes to.
    pub streams: &'static [StreamSpec],
    /// Built-in configuration defaults (TOML), overridden by a file and the environment.
    pub defaults: &'static str,
}

impl ServiceSpec {
    /// The fully qualified gRPC service, e.g. `rekisteri.catalogue.v1.CatalogueService`.
    pub fn grpc_service(&self) -> &'static str {
        self.roles.service
    }
}

/// A service's own background work (e.g. signing checkpoints): started with the relay and the
/// consumers, stopped with them.
pub type BackgroundTask = Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, ()> + Send>;

#[derive(Default, Clone)]
struct Background(std::sync::Arc<std::sync::Mutex<Vec<BackgroundTask>>>);

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |t| t.len());
        write!(f, "{n} background tasks")
    }
}

struct Tasks(Vec<BackgroundTask>);

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} background tasks", self.0.len())
    }
}

/// What a service's routes are built from.
#[derive(Debug, Clone)]
pub struct Parts {
    pub db: Db,
    /// Wake the relay after a commit that enqueued events.
    pub outbox: OutboxSignal,
    pub nats: async_nats::Client,
    pub config: ServiceConfig,
    background: Background,
}

impl Parts {
    /// Runs `task` beside the server until the service stops (its token is cancelled then).
    pub fn spawn_task(
        &self,
        task: impl FnOnce(CancellationToken) -> BoxFuture<'static, ()> + Send + 'static,
    ) {
        self.background
            .0
            .lock()
            .expect("not poisoned")
            .push(Box::new(task));
    }

    /// The configured message size limit, for the generated server's
    /// `max_decoding_message_size` and `max_encoding_message_size`.
    pub fn max_message_bytes(&self) -> usize {
        self.config.grpc.max_message_bytes
    }
}

type Connect = for<'a> fn(&'a DatabaseConfig) -> BoxFuture<'a, anyhow::Result<Db>>;
type MakeRoutes = Box<dyn FnOnce(&Parts) -> Routes + Send>;

fn connect_with<M: MigratorTrait + 'static>(
    config: &DatabaseConfig,
) -> BoxFuture<'_, anyhow::Result<Db>> {
    Box::pin(db::connect_and_migrate::<M>(config))
}

/// Collects a service's parts; [`Runtime::build`] starts them.
pub struct Runtime {
    spec: &'static ServiceSpec,
    config: ServiceConfig,
    connect: Option<Connect>,
    consumers: Vec<Consumer>,
    routes: Option<MakeRoutes>,
    dependencies: Option<operations::DependencyReport>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("service", &self.spec.name)
            .field("consumers", &self.consumers)
            .finish()
    }
}

impl Runtime {
    pub fn new(spec: &'static ServiceSpec, config: &ServiceConfig) -> Self {
        Self {
            spec,
            config: config.clone(),
            connect: None,
            consumers: Vec::new(),
            routes: None,
            dependencies: None,
        }
    }

    /// Outside dependencies the service reports in its status (`rekisteri status`), asked
    /// each time the status is.
    pub fn dependencies(
        mut self,
        report: impl Fn() -> Vec<operations::Dependency> + Send + Sync + 'static,
    ) -> Self {
        self.dependencies = Some(std::sync::Arc::new(report));
        self
    }

    /// The service's migrator; it must include [`crate::migrations`].
    pub fn migrations<M: MigratorTrait + 'static>(mut self) -> Self {
        self.connect = Some(connect_with::<M>);
        self
    }

    pub fn consumer<H: EventHandler>(mut self, spec: ConsumerSpec, handler: H) -> Self {
        self.consumers.push(Consumer::new(spec, handler));
        self
    }

    /// The service's gRPC routes, built once the database and NATS are connected. No auth
    /// interceptor: the runtime's gate checks every call against the service's role table.
    pub fn routes(mut self, make: impl FnOnce(&Parts) -> Routes + Send + 'static) -> Self {
        self.routes = Some(Box::new(make));
        self
    }

    /// Checks the configuration, connects and migrates, binds the port. Nothing is served yet.
    pub async fn build(self) -> anyhow::Result<Service> {
        let spec = self.spec;
        let config = self.config;
        let connect = self
            .connect
            .ok_or_else(|| anyhow::anyhow!("{}: no migrations declared", spec.name))?;
        let make_routes = self
            .routes
            .ok_or_else(|| anyhow::anyhow!("{}: no gRPC routes declared", spec.name))?;
        for consumer in &self.consumers {
            consumer.spec().validate().map_err(|e| anyhow::anyhow!(e))?;
        }
        // A section only another service reads is a mistake here (a typo, or the wrong file):
        // say so rather than run without the settings someone meant to give.
        if let Some(stranger) = config.sections.names().find(|n| *n != spec.name) {
            anyhow::bail!(
                "configuration: unknown section `[{stranger}]`; the {} service reads the platform's sections and `[{}]`",
                spec.name,
                spec.name
            );
        }
        let auth = Authenticator::new(&config.auth)?;
        // A JWKS URL is fetched in the background; give it a moment so the first calls after
        // start are not refused, but do not let an identity provider that is away stop the
        // service (static tokens, health and the retries keep working).
        if !auth.wait_for_keys(Duration::from_secs(5)).await {
            tracing::error!(
                "auth.jwt.jwks_url: no keys fetched yet; JWTs that need them are refused until a fetch succeeds (retrying)"
            );
        }
        let gate = Gate::new(
            spec.name,
            vec![spec.roles, operations::ROLES],
            auth,
            &config.grpc,
        )?;
        let db = connect(&config.database).await?;
        let nats = crate::nats::connect(spec.name, &config.nats).await?;
        let server = GrpcServer::bind(&config.grpc).await?;
        let outbox = OutboxSignal::default();
        let parts = Parts {
            db: db.clone(),
            outbox: outbox.clone(),
            nats: nats.clone(),
            config: config.clone(),
            background: Background::default(),
        };
        let max = parts.max_message_bytes();
        let operations = Operations {
            service: spec.name,
            db: db.clone(),
            nats: nats.clone(),
            outbox: outbox.clone(),
            consumers: self.consumers.clone(),
            dependencies: self.dependencies.clone(),
        };
        let routes = make_routes(&parts).add_service(
            OperationsServiceServer::new(operations.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        );
        let background = Tasks(std::mem::take(
            &mut *parts.background.0.lock().expect("not poisoned"),
        ));
        Ok(Service {
            spec,
            config,
            background,
            server,
            routes,
            gate,
            db,
            nats,
            outbox,
            operations,
            consumers: self.consumers,
        })
    }
}

/// A service whose database is migrated and whose port is bound, ready to run.
#[derive(Debug)]
pub struct Service {
    spec: &'static ServiceSpec,
    config: ServiceConfig,
    background: Tasks,
    server: GrpcServer,
    routes: Routes,
    gate: Gate,
    db: Db,
    nats: async_nats::Client,
    outbox: OutboxSignal,
    operations: Operations,
    consumers: Vec<Consumer>,
}

impl Service {
    pub fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }

    pub fn spec(&self) -> &'static ServiceSpec {
        self.spec
    }

    /// Serves until `cancel` fires, then drains in-flight calls and stops the relay and the
    /// consumers. Events not yet published stay in the outbox and go out on the next start.
    pub async fn run_until_stopped(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let workers = cancel.child_token();
        let replicas = self.config.nats.stream_replicas;
        let jetstream = async_nats::jetstream::new(self.nats.clone());
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(
            OutboxRelay::new(
                self.db.clone(),
                jetstream.clone(),
                self.spec.streams.to_vec(),
                replicas,
                self.outbox.clone(),
                self.config.outbox.clone(),
            )
            .run(workers.clone()),
        ));
        for task in self.background.0 {
            tasks.push(tokio::spawn(task(workers.clone())));
        }
        for consumer in self.consumers {
            tasks.push(tokio::spawn(consumer.run(
                jetstream.clone(),
                self.db.clone(),
                self.outbox.clone(),
                workers.clone(),
            )));
        }
        let (ready_tx, ready) = watch::channel(false);
        tasks.push(tokio::spawn(watch_health(
            self.spec.name,
            self.operations,
            Duration::from_millis(self.config.database.health_check_interval_ms),
            ready_tx,
            workers.clone(),
        )));

        let result = self
            .server
            .serve(
                vec![self.spec.grpc_service(), operations::SERVICE_NAME],
                self.routes,
                self.gate,
                ready,
                cancel.clone(),
            )
            .await;
        // The server is down (stopped, or failed): stop everything else with it.
        cancel.cancel();
        workers.cancel();
        let mut panicked = None;
        for task in tasks {
            if let Err(err) = task.await {
                panicked.get_or_insert(err);
            }
        }
        // Bounded: with NATS unreachable the client never gets to handle the flush.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.nats.flush()).await;
        self.db.close().await?;
        if let Some(err) = panicked {
            return Err(anyhow::Error::new(err).context("a background task of the service failed"));
        }
        result
    }
}

/// Health follows the database: NOT_SERVING while it does not answer. Also refreshes the outbox
/// backlog metrics.
async fn watch_health(
    service: &'static str,
    operations: Operations,
    every: Duration,
    ready: watch::Sender<bool>,
    cancel: CancellationToken,
) {
    loop {
        let status = operations.status().await;
        let reachable = status.as_ref().is_ok_and(|s| s.database_reachable);
        if reachable != *ready.borrow() {
            if reachable {
                tracing::info!("database reachable: serving");
            } else {
                tracing::warn!("database unreachable: health is NOT_SERVING until it answers");
            }
        }
        ready.send_replace(reachable);
        if let Ok(status) = &status {
            let age = status.outbox.oldest_pending.map_or(0.0, |t| {
                (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0
            });
            crate::metrics::outbox_backlog(service, status.outbox.pending, age);
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
