//! The harness every service's tests use: a NATS server of the test's own on a free port, a fresh
//! database (SQLite file or a new PostgreSQL database) per test, a service configuration with
//! known tokens, and bearer-token clients.
//!
//! Each database test runs twice, on SQLite and on PostgreSQL, through [`db_tests!`]. The
//! PostgreSQL server is `REKISTERI_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates and later drops its own database.

mod database;
mod nats;

use std::collections::HashMap;
use std::sync::Once;

pub use database::{Backend, TestDb};
pub use nats::{NatsServer, stream_messages, wait_for_messages};
use rekisteri_platform::auth::hash_token;
use rekisteri_platform::config::{ServiceConfig, Sources};

/// Generates, for each named `async fn NAME(backend: Backend)`, a module `NAME` with two tests:
/// `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Tokens the test configuration accepts, one per role set.
pub mod tokens {
    pub const ADMIN: &str = "test-admin-token";
    pub const READER: &str = "test-reader-token";
    pub const EDITOR: &str = "test-editor-token";
    pub const PUBLISHER: &str = "test-publisher-token";
    /// The `operator` role: the operations service.
    pub const OPERATOR: &str = "test-operator-token";
    /// Authenticates but holds no role.
    pub const NOBODY: &str = "test-nobody-token";
}

/// Logs to the test's captured output (`RUST_LOG` selects what; default: warnings), and traces
/// spans as the services do, so that `traceparent` propagation is exercised in tests too.
pub fn init_tracing() {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let tracer = provider.tracer("rekisteri-tests");
        // The provider lives as long as the test process.
        std::mem::forget(provider);
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_test_writer()
                    .with_filter(filter),
            )
            .with(rekisteri_platform::telemetry::trace_layer(tracer))
            .try_init();
    });
}

/// A service configuration on 127.0.0.1:0 with the test tokens. `service` prefixes the roles:
/// `catalogue` gives the reader token `catalogue.reader`, and so on.
pub fn service_config(service: &str, database_url: &str, nats_url: &str) -> ServiceConfig {
    let token = |name: &str, token: &str, roles: &[&str]| {
        let roles = roles
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "[[auth.static_tokens]]\nname = \"{name}\"\nsha256 = \"{}\"\nroles = [{roles}]\n",
            hash_token(token)
        )
    };
    let mut defaults = format!(
        "[grpc]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"{database_url}\"\nmax_connections = 5\n\
         [nats]\nurl = \"{nats_url}\"\n[outbox]\npoll_interval_ms = 200\n"
    );
    defaults += &token("admin", tokens::ADMIN, &["admin"]);
    defaults += &token("reader", tokens::READER, &[&format!("{service}.reader")]);
    defaults += &token(
        "editor",
        tokens::EDITOR,
        &[&format!("{service}.editor"), &format!("{service}.reader")],
    );
    defaults += &token(
        "publisher",
        tokens::PUBLISHER,
        &[
            &format!("{service}.publisher"),
            &format!("{service}.reader"),
        ],
    );
    defaults += &token("operator", tokens::OPERATOR, &["operator"]);
    defaults += &token("nobody", tokens::NOBODY, &[]);
    ServiceConfig::load(Sources {
        defaults: &defaults,
        file: None,
        env: HashMap::new(),
    })
    .expect("the test configuration is valid")
}

/// The client interceptor the services' own clients use.
pub use rekisteri_platform::auth::BearerToken as Bearer;

/// Waits until the service on 127.0.0.1:`port` reports SERVING (its database answered), as a
/// Kubernetes readiness probe would.
pub async fn wait_until_serving(port: u16) {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let mut health = HealthClient::new(channel(port).await);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|r| r.into_inner().status());
        if matches!(status, Ok(ServingStatus::Serving)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service on port {port} did not become SERVING: {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A channel to a service on 127.0.0.1:`port`.
pub async fn channel(port: u16) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("valid endpoint")
        .connect()
        .await
        .expect("the service accepts connections")
}

/// A gRPC codec that sends and receives message bytes as they are, so that a test can call any
/// method by its path (the role walk calls every method of every service this way).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        let n = bytes::Buf::remaining(src);
        Ok(Some(bytes::Buf::copy_to_bytes(src, n).to_vec()))
    }
}

/// Calls `path` (`/package.Service/Method`) with `body` as the encoded request, with a bearer
/// token when one is given.
pub async fn raw_call(
    channel: tonic::transport::Channel,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(body);
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("an ASCII token"),
        );
    }
    let path = path
        .parse::<http::uri::PathAndQuery>()
        .expect("a method path");
    grpc.unary(request, path, RawCodec)
        .await
        .map(|r| r.into_inner())
}
