//! The gRPC server every service runs.
//!
//! - `grpc.health.v1`: NOT_SERVING until the service is ready, while its database does not answer,
//!   and again while it drains; server reflection (v1 and v1alpha). Both need no token.
//! - Every other call passes the [`Gate`]: its bearer token must resolve to a principal holding
//!   the role the service's [`RoleTable`] names for the method (checked before the request body is
//!   read); at most `grpc.max_concurrent_requests` calls run at once (more are answered
//!   `RESOURCE_EXHAUSTED` at once, not queued); a call running past `grpc.request_timeout_ms` is
//!   answered `DEADLINE_EXCEEDED`; count and latency are recorded per method.
//! - A request span per call that continues the caller's `traceparent`.
//! - `TCP_NODELAY` on accepted sockets: the server accepts from its own listener, and without it
//!   Nagle's algorithm holds the last segment of each response until the client's delayed ACK
//!   (a fixed ~40 ms per call).
//! - Optional TLS, and mutual TLS when a client CA is configured.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::{Code, Status};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{Layer, Service};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::{Authenticator, RoleTable};
use crate::config::{GrpcConfig, split_host_port};
use crate::{metrics, telemetry};

/// A bound but not yet serving gRPC server. Binding first lets callers learn the port (port 0 in
/// tests) before serving starts.
#[derive(Debug)]
pub struct GrpcServer {
    listener: TcpListener,
    health: HealthReporter,
    config: GrpcConfig,
}

impl GrpcServer {
    /// Binds `config.listen`; a host name such as `localhost` binds its first address.
    pub async fn bind(config: &GrpcConfig) -> anyhow::Result<Self> {
        let (host, port) = split_host_port(&config.listen).map_err(|e| anyhow::anyhow!(e))?;
        let listener = TcpListener::bind((host, port))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        Ok(Self {
            listener,
            health: HealthReporter::new(),
            config: config.clone(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves `routes` behind `gate` until `cancel` fires, then reports NOT_SERVING and lets
    /// in-flight calls finish. Health follows `ready` (false: NOT_SERVING) for the services in
    /// `health_names` and the server as a whole.
    pub async fn serve(
        self,
        health_names: Vec<&'static str>,
        routes: Routes,
        gate: Gate,
        ready: watch::Receiver<bool>,
        cancel: CancellationToken,
    ) -> anyhow::Result<()> {
        let health = self.health.clone();
        let health_task = tokio::spawn(follow_readiness(
            health.clone(),
            health_names.clone(),
            ready,
            cancel.clone(),
        ));

        let health_service = tonic_health::pb::health_server::HealthServer::new(
            tonic_health::server::HealthService::from_health_reporter(self.health.clone()),
        );
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(rekisteri_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(rekisteri_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        let routes = routes
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let trace = TraceLayer::new_for_grpc()
            .make_span_with(|request: &http::Request<_>| {
                let span = tracing::info_span!(
                    "grpc",
                    method = %request.uri().path(),
                    principal = tracing::field::Empty,
                );
                let traceparent = request
                    .headers()
                    .get(telemetry::TRACEPARENT)
                    .and_then(|v| v.to_str().ok());
                telemetry::set_parent(&span, traceparent);
                span
            })
            .on_response(DefaultOnResponse::new().level(Level::DEBUG))
            .on_failure(DefaultOnFailure::new().level(Level::WARN));

        let addr = self.local_addr();
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let shutdown = {
            let cancel = cancel.clone();
            async move {
                cancel.cancelled().await;
                tracing::info!(%addr, "shutting down: draining in-flight calls");
            }
        };
        let mut builder = tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(30)));
        if let Some(tls) = &self.config.tls {
            builder = builder.tls_config(server_tls(tls)?)?;
        }
        let server = builder
            .layer(trace)
            .layer(GateLayer(gate))
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, shutdown);
        tracing::info!(%addr, services = ?health_names, tls = self.config.tls.is_some(), "serving gRPC");
        let result = server.await;
        cancel.cancel();
        let _ = health_task.await;
        result?;
        Ok(())
    }
}

fn server_tls(
    tls: &crate::config::GrpcTlsConfig,
) -> anyhow::Result<tonic::transport::ServerTlsConfig> {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
    };
    let mut config = ServerTlsConfig::new().identity(Identity::from_pem(
        read(&tls.cert_file)?,
        read(&tls.key_file)?,
    ));
    if let Some(ca) = &tls.client_ca_file {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(config)
}

/// The one owner of the health status: SERVING while `ready` is true and the server has not
/// begun to stop.
async fn follow_readiness(
    health: HealthReporter,
    names: Vec<&'static str>,
    mut ready: watch::Receiver<bool>,
    cancel: CancellationToken,
) {
    let set = async |status: ServingStatus| {
        health.set_service_status("", status).await;
        for name in &names {
            health.set_service_status(*name, status).await;
        }
    };
    loop {
        let status = if *ready.borrow_and_update() && !cancel.is_cancelled() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        set(status).await;
        tokio::select! {
            _ = cancel.cancelled() => break,
            changed = ready.changed() => if changed.is_err() { break },
        }
    }
    set(ServingStatus::NotServing).await;
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (Kubernetes stopping the pod).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// What every call but health and reflection passes: authentication, the method's role, the
/// concurrency limit and the timeout.
#[derive(Debug, Clone)]
pub struct Gate {
    inner: Arc<GateInner>,
}

#[derive(Debug)]
struct GateInner {
    /// Names the service in metrics, e.g. `catalogue`.
    label: &'static str,
    tables: Vec<RoleTable>,
    auth: Authenticator,
    permits: Arc<Semaphore>,
    limit: usize,
    timeout: Duration,
}

impl Gate {
    /// Fails when a table leaves a method of its service without a role.
    pub fn new(
        label: &'static str,
        tables: Vec<RoleTable>,
        auth: Authenticator,
        config: &GrpcConfig,
    ) -> anyhow::Result<Self> {
        for table in &tables {
            table.check(rekisteri_proto::FILE_DESCRIPTOR_SET)?;
        }
        Ok(Self {
            inner: Arc::new(GateInner {
                label,
                tables,
                auth,
                permits: Arc::new(Semaphore::new(config.max_concurrent_requests)),
                limit: config.max_concurrent_requests,
                timeout: Duration::from_millis(config.request_timeout_ms),
            }),
        })
    }

    /// `None`: the path is not one of ours (health, reflection, or unknown to the router).
    fn role(&self, service: &str, method: &str) -> Option<Result<&'static str, Status>> {
        let table = self.inner.tables.iter().find(|t| t.service == service)?;
        Some(table.role(method).ok_or_else(|| {
            Status::permission_denied(format!("{service}/{method} has no role declared"))
        }))
    }

    /// Authenticates and authorises `request`, leaving the principal in its extensions.
    fn admit(&self, request: &mut http::Request<Body>, role: &'static str) -> Result<(), Status> {
        let principal = self
            .inner
            .auth
            .authenticate_header(request.headers().get("authorization"))?;
        tracing::Span::current().record("principal", principal.subject.as_str());
        principal.require(role)?;
        request.extensions_mut().insert(principal);
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct GateLayer(Gate);

impl<S> Layer<S> for GateLayer {
    type Service = GateService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GateService {
            gate: self.0.clone(),
            inner,
        }
    }
}

#[derive(Debug, Clone)]
struct GateService<S> {
    gate: Gate,
    inner: S,
}

impl<S> Service<http::Request<Body>> for GateService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // The clone is ready only if polled; keep the ready one and call it (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gate = self.gate.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let (service, method) = path
                .trim_start_matches('/')
                .split_once('/')
                .unwrap_or(("", ""));
            let Some(role) = gate.role(service, method) else {
                return inner.call(request).await;
            };
            let started = Instant::now();
            let outcome = async {
                let role = role?;
                gate.admit(&mut request, role)?;
                let Ok(_permit) = gate.inner.permits.clone().try_acquire_owned() else {
                    return Err(Status::resource_exhausted(format!(
                        "the server is handling its limit of {} calls; retry with backoff",
                        gate.inner.limit
                    )));
                };
                match tokio::time::timeout(gate.inner.timeout, inner.call(request)).await {
                    Ok(response) => Ok(response.unwrap_or_else(|never| match never {})),
                    Err(_) => Err(Status::deadline_exceeded(format!(
                        "the call did not finish within {} ms",
                        gate.inner.timeout.as_millis()
                    ))),
                }
            }
            .await;
            let response = outcome.unwrap_or_else(|status| status.into_http());
            let code = response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i32>().ok())
                .map_or(Code::Ok, Code::from_i32);
            metrics::rpc(
                gate.inner.label,
                method,
                code,
                started.elapsed().as_secs_f64() * 1000.0,
            );
            Ok(response)
        })
    }
}
