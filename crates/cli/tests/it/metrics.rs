//! Metrics leave the process over OTLP: `rekisteri serve` with `telemetry.otlp_endpoint` set sends
//! RPC counts per method and the outbox backlog to a collector (a small one of the test's own).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

use super::{BIN, Guard, free_port, listening, stop_gracefully, wait_for};

/// Metric name -> the `rpc.method` attributes seen on its data points.
#[derive(Default, Clone)]
struct Collector(Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>);

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let mut seen = self.0.lock().unwrap();
        for rm in &request.get_ref().resource_metrics {
            for sm in &rm.scope_metrics {
                for metric in &sm.metrics {
                    let methods = seen.entry(metric.name.clone()).or_default();
                    let attributes: Vec<_> = match &metric.data {
                        Some(Data::Sum(s)) => {
                            s.data_points.iter().flat_map(|p| &p.attributes).collect()
                        }
                        Some(Data::Histogram(h)) => {
                            h.data_points.iter().flat_map(|p| &p.attributes).collect()
                        }
                        Some(Data::Gauge(g)) => {
                            g.data_points.iter().flat_map(|p| &p.attributes).collect()
                        }
                        _ => Vec::new(),
                    };
                    for kv in attributes {
                        if kv.key == "rpc.method"
                            && let Some(Value::StringValue(m)) =
                                kv.value.as_ref().and_then(|v| v.value.as_ref())
                        {
                            methods.insert(m.clone());
                        }
                    }
                }
            }
        }
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_reach_an_otlp_collector() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_port = listener.local_addr().unwrap().port();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(MetricsServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let token = "metrics-test-token";
    let config = dir.path().join("catalogue.toml");
    std::fs::write(
        &config,
        format!(
            "[grpc]\nlisten = \"127.0.0.1:{port}\"\n[database]\nurl = \"sqlite://{}?mode=rwc\"\n\
             [nats]\nurl = \"nats://127.0.0.1:{}\"\n[telemetry]\notlp_endpoint = \"http://127.0.0.1:{collector_port}\"\n\
             [[auth.static_tokens]]\nname = \"crm\"\nsha256 = \"{}\"\nroles = [\"catalogue.reader\"]\n",
            dir.path().join("c.db").display(),
            free_port(),
            rekisteri_platform::auth::hash_token(token),
        ),
    )
    .unwrap();
    let mut serve = Guard(
        Command::new(BIN)
            .args(["serve", "catalogue", "--config"])
            .arg(&config)
            // The SDK's own setting: export every half second instead of every minute.
            .env("OTEL_METRIC_EXPORT_INTERVAL", "500")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the catalogue to listen", Duration::from_secs(60), || {
        listening(port)
    });
    for _ in 0..3 {
        let out = Command::new(BIN)
            .args([
                "catalogue",
                "--endpoint",
                &format!("http://127.0.0.1:{port}"),
            ])
            .args(["--token", token, "list"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let seen = collector.0.lock().unwrap().clone();
        let calls = seen.get("rpc.server.calls");
        if calls.is_some_and(|m| m.contains("ListRegisters"))
            && seen
                .get("rpc.server.duration")
                .is_some_and(|m| m.contains("ListRegisters"))
            && seen.contains_key("rekisteri.outbox.backlog")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the collector did not receive the metrics: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop_gracefully(&mut serve);
}
