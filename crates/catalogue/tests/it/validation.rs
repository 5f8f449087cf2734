use std::time::Duration;

use rekisteri_catalogue::events::STREAM;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::common::v1::{BusinessId, PageRequest};
use rekisteri_test_support::{Backend, db_tests, stream_messages};
use tonic::Code;

use crate::harness::{TestApp, create_id, get, sample, update, violated_fields};

db_tests!(
    malformed_content_is_rejected_field_by_field_and_creates_nothing,
    an_incomplete_draft_cannot_be_published_and_stays_a_draft,
    malformed_updates_change_nothing,
    ids_paging_and_reasons_are_checked,
);

async fn total(client: &mut crate::harness::Client) -> i64 {
    client
        .list_registers(pb::ListRegistersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .page
        .unwrap()
        .total_size
}

async fn malformed_content_is_rejected_field_by_field_and_creates_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;

    let mut bad = sample();
    let controller = bad.controller.as_mut().unwrap();
    controller.business_id = Some(BusinessId {
        value: "2135102-8".into(),
    });
    controller.contact = Some(rekisteri_proto::common::v1::ContactDetails {
        phone: "call me".into(),
        email: "info at example".into(),
    });
    controller.address.as_mut().unwrap().postal_code = "9081".into();
    bad.legal_bases.push(42);
    bad.data_categories[1].key = "contact_details".into();
    bad.sources.push(pb::DataSource {
        kind: pb::DataSourceKind::External as i32,
        ..Default::default()
    });
    bad.transfers.push(pb::ThirdCountryTransfer {
        country_code: "USA".into(),
        safeguard: pb::TransferSafeguard::None as i32,
        description: String::new(),
    });
    bad.retention = Some(pb::RetentionRule {
        trigger: pb::RetentionTrigger::Law as i32,
        ..Default::default()
    });

    let err = admin
        .create_register(pb::CreateRegisterRequest { content: Some(bad) })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&err),
        [
            "content.controller.business_id",
            "content.controller.address.postal_code",
            "content.controller.contact.phone",
            "content.controller.contact.email",
            "content.legal_bases[2]",
            "content.data_categories[1].key",
            "content.sources[4].organisation_name",
            "content.transfers[0].country_code",
            "content.transfers[0].description",
            "content.transfers",
            "content.retention.law",
        ]
    );
    let err = admin
        .create_register(pb::CreateRegisterRequest { content: None })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["content"]);
    assert_eq!(total(&mut admin).await, 0);
}

async fn an_incomplete_draft_cannot_be_published_and_stays_a_draft(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    // A draft may be incomplete.
    let draft = pb::RegisterContent {
        legal_basis_description: "Asiakassuhde".into(),
        ..Default::default()
    };
    let id = create_id(&mut admin, draft).await;

    let err = admin
        .publish_register(pb::PublishRegisterRequest {
            etag: String::new(),
            register_id: id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&err),
        [
            "content.name",
            "content.controller.name",
            "content.controller.business_id",
            "content.purposes",
            "content.legal_bases",
            "content.data_categories",
            "content.retention",
        ]
    );
    let read = get(&mut admin, &id, pb::VersionSelector::Latest, 0)
        .await
        .unwrap();
    assert_eq!(read.register.unwrap().status(), pb::RegisterStatus::Draft);
    assert_eq!(read.version.unwrap().state(), pb::VersionState::Draft);

    // Nothing was announced either.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        stream_messages(&app.nats_client().await, STREAM.name)
            .await
            .expect("the stream can be read")
            .is_empty()
    );
}

async fn malformed_updates_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    let mut bad = sample();
    bad.name = "x".repeat(301);
    bad.data_categories[0].description = String::new();
    let err = update(&mut admin, &id, bad, 0).await.unwrap_err();
    assert_eq!(
        violated_fields(&err),
        ["content.name", "content.data_categories[0].description"]
    );
    let draft = get(&mut admin, &id, pb::VersionSelector::Draft, 0)
        .await
        .unwrap()
        .version
        .unwrap();
    assert_eq!(draft.content.unwrap(), sample());
}

async fn ids_paging_and_reasons_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;

    let err = get(&mut admin, "not-a-uuid", pb::VersionSelector::Latest, 0)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), violated_fields(&err)),
        (Code::InvalidArgument, vec!["register_id".to_string()])
    );
    let err = get(
        &mut admin,
        "0190f5a0-0000-7000-8000-000000000000",
        pb::VersionSelector::Latest,
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = get(
        &mut admin,
        "0190f5a0-0000-7000-8000-000000000000",
        pb::VersionSelector::Number,
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&err), ["version"]);

    let err = admin
        .list_registers(pb::ListRegistersRequest {
            page: Some(PageRequest {
                page_size: 501,
                page_token: "garbage".into(),
            }),
            status: 9,
            controller_business_id: Some(BusinessId {
                value: "123".into(),
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&err),
        [
            "page.page_size",
            "page.page_token",
            "status",
            "controller_business_id"
        ]
    );

    let id = create_id(&mut admin, sample()).await;
    let err = admin
        .retire_register(pb::RetireRegisterRequest {
            etag: String::new(),
            register_id: id.clone(),
            reason: "  ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["reason"]);
    let read = get(&mut admin, &id, pb::VersionSelector::Latest, 0)
        .await
        .unwrap();
    assert_eq!(read.register.unwrap().status(), pb::RegisterStatus::Draft);
}
