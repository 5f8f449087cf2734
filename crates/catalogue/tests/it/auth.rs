use rekisteri_catalogue::app::SERVICE_NAME;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_test_support::{Backend, Bearer, tokens};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{TestApp, create_id, sample};

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let channel = rekisteri_test_support::channel(app.port).await;
    for bearer in [
        Bearer::none(),
        Bearer::new("not-a-token").unwrap(),
        Bearer::new("a.b.c").unwrap(),
    ] {
        let mut client = CatalogueServiceClient::with_interceptor(channel.clone(), bearer);
        let err = client
            .list_registers(pb::ListRegistersRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
        let err = client
            .create_register(pb::CreateRegisterRequest {
                content: Some(sample()),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
    }
    // Nothing was created by the refused calls.
    let mut admin = app.admin().await;
    let page = admin
        .list_registers(pb::ListRegistersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.page.unwrap().total_size, 0);
}

#[tokio::test]
async fn each_call_needs_its_role() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut nobody = app.client(tokens::NOBODY).await;
    let mut reader = app.client(tokens::READER).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let mut publisher = app.client(tokens::PUBLISHER).await;

    let err = nobody
        .list_registers(pb::ListRegistersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(err.message().contains("catalogue.reader"));
    reader
        .list_registers(pb::ListRegistersRequest::default())
        .await
        .unwrap();

    let err = reader
        .create_register(pb::CreateRegisterRequest {
            content: Some(sample()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = publisher
        .create_register(pb::CreateRegisterRequest {
            content: Some(sample()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let id = create_id(&mut editor, sample()).await;

    let publish = |id: &str| pb::PublishRegisterRequest {
        etag: String::new(),
        register_id: id.into(),
        expected_version: 0,
    };
    assert_eq!(
        editor
            .publish_register(publish(&id))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let retire = pb::RetireRegisterRequest {
        etag: String::new(),
        register_id: id.clone(),
        reason: "test".into(),
    };
    assert_eq!(
        editor
            .retire_register(retire.clone())
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    publisher.publish_register(publish(&id)).await.unwrap();
    publisher.retire_register(retire).await.unwrap();
}

#[tokio::test]
async fn health_needs_no_token_and_reports_serving() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut health = HealthClient::new(rekisteri_test_support::channel(app.port).await);
    for service in ["", SERVICE_NAME] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
}
