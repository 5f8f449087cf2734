//! The gRPC server every service runs: `grpc.health.v1` (NOT_SERVING until the service is ready and
//! again while it drains), server reflection, a request span per call that continues the caller's
//! `traceparent`, and graceful shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::telemetry;

/// A bound but not yet serving gRPC server. Binding first lets callers learn the port (port 0 in
/// tests) before serving starts.
#[derive(Debug)]
pub struct GrpcServer {
    listener: TcpListener,
    health: HealthReporter,
}

impl GrpcServer {
    pub async fn bind(addr: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        Ok(Self {
            listener,
            health: HealthReporter::new(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The health reporter, for a service that wants to report more than up/down.
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Serves `routes` (the service, already wrapped in its auth interceptor) until `cancel` fires,
    /// then reports NOT_SERVING and lets in-flight calls finish.
    ///
    /// `service_name` is the fully qualified proto service, e.g. `rekisteri.catalogue.v1.CatalogueService`.
    pub async fn serve(
        self,
        service_name: &str,
        routes: Routes,
        cancel: CancellationToken,
    ) -> anyhow::Result<()> {
        let health = self.health.clone();
        let set_all = |status: ServingStatus| {
            let health = health.clone();
            let name = service_name.to_owned();
            async move {
                health.set_service_status("", status).await;
                health.set_service_status(name, status).await;
            }
        };
        set_all(ServingStatus::NotServing).await;

        let health_service =
            tonic_health::pb::health_server::HealthServer::new(health_service(&self.health));
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
        let incoming = TcpListenerStream::new(self.listener);
        let shutdown = {
            let cancel = cancel.clone();
            async move {
                cancel.cancelled().await;
                set_all(ServingStatus::NotServing).await;
                tracing::info!(%addr, "shutting down: draining in-flight calls");
            }
        };
        let server = tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .layer(trace)
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, shutdown);
        // The listener is bound and the service constructed: from here on calls are answered.
        set_all(ServingStatus::Serving).await;
        tracing::info!(%addr, service = service_name, "serving gRPC");
        server.await?;
        Ok(())
    }
}

fn health_service(reporter: &HealthReporter) -> impl tonic_health::pb::health_server::Health {
    // `health_reporter()` creates a fresh reporter; we need the service bound to ours.
    tonic_health::server::HealthService::from_health_reporter(reporter.clone())
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
