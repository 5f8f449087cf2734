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
        // Not ready until the readiness signal says so (the reporter starts out SERVING).
        health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        let health_task = tokio::spawn(follow_readiness(
            health.clone(),
            health_names.clone(),
            ready,
            cancel.clone(),
        ));

        let health_service = tonic_health::pb::health_server::HealthServer::new(
            tonic_health::server::HealthService::from_health_reporter(self.health.clone()),
        );
        // Reflection lists what this port serves, not every service the protos describe.
        let reflection = || {
            let builder = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(rekisteri_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .with_service_name("grpc.health.v1.Health");
            health_names
                .iter()
                .fold(builder, |b, name| b.with_service_name(*name))
        };
        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;
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
            // Refusals (a bad token, invalid input) are the caller's business; internal errors are
            // logged with their chain where they happen.
            .on_failure(DefaultOnFailure::new().level(Level::DEBUG));

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

/// The services answered without a token.
const OPEN_SERVICES: &[&str] = &[
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

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

    /// `None` for the services every client may call without a token (health and reflection);
    /// for anything else the role the method needs, or UNIMPLEMENTED when no table declares one:
    /// a call this port does not serve (another service's, a mistyped method) says so, and a
    /// route added without a role table is closed, not open.
    fn role(&self, service: &str, method: &str) -> Option<Result<&'static str, Status>> {
        if OPEN_SERVICES.contains(&service) {
            return None;
        }
        let table = self.inner.tables.iter().find(|t| t.service == service);
        let role = table.and_then(|t| t.role(method));
        Some(role.ok_or_else(|| {
            let served: Vec<&str> = self.inner.tables.iter().map(|t| t.service).collect();
            Status::unimplemented(match table {
                Some(_) => format!("{service} has no method {method}"),
                None => format!(
                    "{service} is not served on this port (it serves {})",
                    served.join(", ")
                ),
            })
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
            // Only declared methods name a metric series: callers cannot invent labels.
            let label = match &role {
                Ok(_) => method.to_owned(),
                Err(_) => "unknown".to_owned(),
            };
            let outcome = async {
                // The permit first: a flood of bad tokens is limited like any other load.
                let Ok(_permit) = gate.inner.permits.clone().try_acquire_owned() else {
                    return Err(Status::resource_exhausted(format!(
                        "the server is handling its limit of {} calls; retry with backoff",
                        gate.inner.limit
                    )));
                };
                let role = role?;
                gate.admit(&mut request, role)?;
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
                &label,
                code,
                started.elapsed().as_secs_f64() * 1000.0,
            );
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::auth::{AuthConfig, StaticToken, hash_token};

    const TABLE: RoleTable = crate::operations::ROLES;

    fn gate(limit: usize, timeout_ms: u64) -> Gate {
        let auth = Authenticator::new(&AuthConfig {
            static_tokens: vec![
                StaticToken {
                    name: "ops".into(),
                    sha256: hash_token("operator-token"),
                    roles: vec!["operator".into()],
                },
                StaticToken {
                    name: "reader".into(),
                    sha256: hash_token("reader-token"),
                    roles: vec!["catalogue.reader".into()],
                },
            ],
            jwt: None,
        })
        .unwrap();
        let config = GrpcConfig {
            listen: "127.0.0.1:0".into(),
            request_timeout_ms: timeout_ms,
            max_concurrent_requests: limit,
            max_message_bytes: 1 << 20,
            tls: None,
        };
        Gate::new("test", vec![TABLE], auth, &config).unwrap()
    }

    fn request(path: &str, token: Option<&str>) -> http::Request<Body> {
        let mut builder = http::Request::builder().uri(format!("http://localhost{path}"));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        builder.body(Body::empty()).unwrap()
    }

    fn code(response: &http::Response<Body>) -> Code {
        response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
            .map_or(Code::Ok, Code::from_i32)
    }

    /// An inner service that counts its calls and waits for `release` before answering.
    fn inner(
        calls: Arc<AtomicUsize>,
        release: Arc<tokio::sync::Notify>,
    ) -> impl Service<
        http::Request<Body>,
        Response = http::Response<Body>,
        Error = Infallible,
        Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>,
    > + Clone
    + Send
    + 'static {
        tower::service_fn(move |_req: http::Request<Body>| {
            let (calls, release) = (calls.clone(), release.clone());
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                release.notified().await;
                Ok::<_, Infallible>(http::Response::new(Body::empty()))
            }) as BoxFuture<'static, _>
        })
    }

    #[tokio::test]
    async fn refused_calls_never_reach_the_handler() {
        let calls = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let mut service = GateLayer(gate(4, 5_000)).layer(inner(calls.clone(), release));
        let path = "/rekisteri.operations.v1.OperationsService/GetStatus";
        let r = service.call(request(path, None)).await.unwrap();
        assert_eq!(code(&r), Code::Unauthenticated);
        let r = service.call(request(path, Some("wrong"))).await.unwrap();
        assert_eq!(code(&r), Code::Unauthenticated);
        let r = service
            .call(request(path, Some("reader-token")))
            .await
            .unwrap();
        assert_eq!(code(&r), Code::PermissionDenied);
        let r = service
            .call(request(
                "/rekisteri.operations.v1.OperationsService/NoSuchMethod",
                Some("operator-token"),
            ))
            .await
            .unwrap();
        assert_eq!(
            code(&r),
            Code::Unimplemented,
            "an undeclared method is closed, and says it is not served"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        // Health and reflection are not ours: they pass untouched, without a token.
        let health = service.call(request("/grpc.health.v1.Health/Check", None));
        tokio::time::timeout(Duration::from_millis(100), health)
            .await
            .expect_err("reached the inner service, which waits");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn beyond_the_limit_calls_are_refused_at_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let service = GateLayer(gate(2, 5_000)).layer(inner(calls.clone(), release.clone()));
        let path = "/rekisteri.operations.v1.OperationsService/GetStatus";
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut s = service.clone();
            held.push(tokio::spawn(async move {
                s.call(request(path, Some("operator-token"))).await
            }));
        }
        while calls.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let mut third = service.clone();
        let r = tokio::time::timeout(
            Duration::from_secs(1),
            third.call(request(path, Some("operator-token"))),
        )
        .await
        .expect("answered at once, not queued")
        .unwrap();
        assert_eq!(code(&r), Code::ResourceExhausted);
        release.notify_waiters();
        for h in held {
            assert_eq!(code(&h.await.unwrap().unwrap()), Code::Ok);
        }
        // The permits came back.
        let mut fourth = service.clone();
        let answer =
            tokio::spawn(async move { fourth.call(request(path, Some("operator-token"))).await });
        while calls.load(Ordering::SeqCst) < 3 {
            tokio::task::yield_now().await;
        }
        release.notify_waiters();
        assert_eq!(code(&answer.await.unwrap().unwrap()), Code::Ok);
    }

    #[tokio::test]
    async fn a_call_past_the_timeout_is_deadline_exceeded() {
        let calls = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let mut service = GateLayer(gate(2, 50)).layer(inner(calls, release));
        let r = service
            .call(request(
                "/rekisteri.operations.v1.OperationsService/GetStatus",
                Some("operator-token"),
            ))
            .await
            .unwrap();
        assert_eq!(code(&r), Code::DeadlineExceeded);
    }

    #[test]
    fn a_table_missing_a_method_stops_the_start() {
        let partial = RoleTable {
            service: crate::operations::SERVICE_NAME,
            methods: &[("GetStatus", "operator")],
        };
        let err = partial
            .check(rekisteri_proto::FILE_DESCRIPTOR_SET)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ListParkedEvents"), "{err}");
        let extra = RoleTable {
            service: crate::operations::SERVICE_NAME,
            methods: &[
                ("GetStatus", "operator"),
                ("ListParkedEvents", "operator"),
                ("RetryParkedEvents", "operator"),
                ("ListDeadLetters", "operator"),
                ("ReplayDeadLetters", "operator"),
                ("Gone", "operator"),
            ],
        };
        assert!(extra.check(rekisteri_proto::FILE_DESCRIPTOR_SET).is_err());
        assert!(TABLE.check(rekisteri_proto::FILE_DESCRIPTOR_SET).is_ok());
    }
}
