//! The metrics every service reports through OpenTelemetry: RPC count and latency per method,
//! outbox throughput, backlog and parked rows, consumer redeliveries and dead letters. They go
//! wherever the global meter provider sends them: over OTLP when `telemetry.otlp_endpoint` is set
//! ([`crate::telemetry::init`]), nowhere otherwise (the instruments are then no-ops).

use std::sync::OnceLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram};

struct Instruments {
    rpc_calls: Counter<u64>,
    rpc_duration: Histogram<f64>,
    outbox_published: Counter<u64>,
    outbox_parked: Counter<u64>,
    outbox_backlog: Gauge<u64>,
    outbox_oldest_age: Gauge<f64>,
    consumer_redeliveries: Counter<u64>,
    dead_letters: Counter<u64>,
}

fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = opentelemetry::global::meter("rekisteri");
        Instruments {
            rpc_calls: meter
                .u64_counter("rpc.server.calls")
                .with_description("gRPC calls answered, by method and status code")
                .build(),
            rpc_duration: meter
                .f64_histogram("rpc.server.duration")
                .with_unit("ms")
                .with_description("gRPC call latency, by method")
                .build(),
            outbox_published: meter
                .u64_counter("rekisteri.outbox.published")
                .with_description("events the relay published to JetStream")
                .build(),
            outbox_parked: meter
                .u64_counter("rekisteri.outbox.parked")
                .with_description("events parked after repeated failures")
                .build(),
            outbox_backlog: meter
                .u64_gauge("rekisteri.outbox.backlog")
                .with_description("events waiting for publication")
                .build(),
            outbox_oldest_age: meter
                .f64_gauge("rekisteri.outbox.oldest_age")
                .with_unit("s")
                .with_description("age of the oldest event waiting for publication")
                .build(),
            consumer_redeliveries: meter
                .u64_counter("rekisteri.consumer.redeliveries")
                .with_description("messages delivered more than once, by consumer")
                .build(),
            dead_letters: meter
                .u64_counter("rekisteri.consumer.dead_letters")
                .with_description("messages a consumer gave up on, by consumer")
                .build(),
        }
    })
}

pub(crate) fn rpc(service: &'static str, method: &str, code: tonic::Code, millis: f64) {
    let i = instruments();
    let method = KeyValue::new("rpc.method", method.to_owned());
    let service = KeyValue::new("service", service);
    i.rpc_calls.add(
        1,
        &[
            service.clone(),
            method.clone(),
            KeyValue::new("rpc.grpc.status_code", code as i64),
        ],
    );
    i.rpc_duration.record(millis, &[service, method]);
}

pub(crate) fn outbox_published(n: u64) {
    if n > 0 {
        instruments().outbox_published.add(n, &[]);
    }
}

pub(crate) fn outbox_parked(n: u64) {
    instruments().outbox_parked.add(n, &[]);
}

pub(crate) fn outbox_backlog(service: &'static str, pending: u64, oldest_age_secs: f64) {
    let i = instruments();
    let attrs = [KeyValue::new("service", service)];
    i.outbox_backlog.record(pending, &attrs);
    i.outbox_oldest_age.record(oldest_age_secs, &attrs);
}

pub(crate) fn consumer_redelivered(consumer: &str) {
    instruments()
        .consumer_redeliveries
        .add(1, &[KeyValue::new("consumer", consumer.to_owned())]);
}

pub(crate) fn dead_letter(consumer: &str) {
    instruments()
        .dead_letters
        .add(1, &[KeyValue::new("consumer", consumer.to_owned())]);
}
