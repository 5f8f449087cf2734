//! End-to-end tests: the whole system on one NATS server, over real gRPC, on SQLite and
//! PostgreSQL.

mod customers;
mod disclosures;
mod enrichment;
mod health;
mod operations;
mod replicas;
mod roles;
mod security;

use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(30);

pub async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A complete register, transcribed from a real rekisteriseloste.
pub fn sample() -> rekisteri_proto::catalogue::v1::RegisterContent {
    let yaml = include_str!("../../examples/registers/mainostakomo.yaml");
    let content: rekisteri_register::RegisterContent =
        serde_yaml::from_str(yaml).expect("the example register parses");
    rekisteri_catalogue::convert::content_pb(&content)
}

/// Creates the sample register and publishes it; returns its id.
pub async fn create_and_publish<T>(
    client: &mut rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient<
        T,
    >,
) -> String
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    use rekisteri_proto::catalogue::v1 as pb;
    let id = client
        .create_register(pb::CreateRegisterRequest {
            content: Some(sample()),
        })
        .await
        .expect("create")
        .into_inner()
        .register
        .expect("a register")
        .register_id;
    client
        .publish_register(pb::PublishRegisterRequest {
            register_id: id.clone(),
            expected_version: 0,
            etag: String::new(),
        })
        .await
        .expect("publish (accepted even while NATS is away)");
    id
}
