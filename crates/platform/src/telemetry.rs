//! Logs through `tracing`, spans exported over OTLP when `telemetry.otlp_endpoint` is set, and W3C
//! trace context (`traceparent`) carried in gRPC metadata and NATS headers.
//!
//! A tracer provider is installed even without an exporter, so that every span has a trace id and
//! `traceparent` is propagated whether or not anything collects the spans.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, TelemetryConfig};

/// The W3C trace context header, in gRPC metadata and NATS headers alike.
pub const TRACEPARENT: &str = "traceparent";

/// Flushes exported spans when dropped: keep it alive until the process exits.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
    meters: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
        if let Some(meters) = &self.meters {
            let _ = meters.shutdown();
        }
    }
}

/// Installs the global subscriber. A second call (tests start many services in one process) keeps
/// the first subscriber and still returns a guard.
pub fn init(service_name: &str, config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_owned())
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource.clone());
    let mut meters = None;
    if !config.otlp_endpoint.is_empty() {
        // Metrics (see [`crate::metrics`]) go to the same collector, every minute (the SDK reads
        // OTEL_METRIC_EXPORT_INTERVAL, in milliseconds, for another period).
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(&config.otlp_endpoint)
            .build()?;
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_resource(resource)
            .with_periodic_exporter(exporter)
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());
        meters = Some(provider);
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(&config.otlp_endpoint)
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer(service_name.to_owned());

    let filter = EnvFilter::try_new(&config.log_level)?;
    let fmt = match config.log_format {
        // Logs go to standard error, leaving standard output to what a command prints.
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(true)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(trace_layer(tracer))
        .try_init();
    Ok(TelemetryGuard { provider, meters })
}

/// The OpenTelemetry layer, filtered on its own: the log level must not decide whether request
/// spans exist, or `traceparent` would stop travelling whenever logs are quiet.
pub fn trace_layer<S>(
    tracer: opentelemetry_sdk::trace::SdkTracer,
) -> impl Layer<S> + Send + Sync + 'static
where
    S: tracing::Subscriber
        + for<'span> tracing_subscriber::registry::LookupSpan<'span>
        + Send
        + Sync,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
}

/// The `traceparent` of the current span, if it belongs to a trace.
pub fn current_traceparent() -> Option<String> {
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(
        &tracing::Span::current().context(),
        &mut MapCarrier(&mut carrier),
    );
    carrier.remove(TRACEPARENT)
}

/// Makes `span` a child of the trace in `traceparent` (from a NATS header or gRPC metadata).
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let mut carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&MapCarrier(&mut carrier));
    let _ = span.set_parent(cx);
}

/// Adds the current span's `traceparent` to outgoing gRPC metadata.
pub fn inject_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    if let Some(value) = current_traceparent().and_then(|tp| tp.parse().ok()) {
        metadata.insert(TRACEPARENT, value);
    }
}

struct MapCarrier<'a>(&'a mut HashMap<String, String>);

impl Injector for MapCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

impl Extractor for MapCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}
