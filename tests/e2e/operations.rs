//! The operations service every service serves: status while NATS is away and back, parked events
//! listed and retried, refusals that change nothing.

use rekisteri_e2e::System;
use rekisteri_platform::auth::BearerToken;
use rekisteri_platform::outbox;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::events::v1::{RegisterRetired, event_envelope::Payload};
use rekisteri_proto::operations::v1 as ops;
use rekisteri_proto::operations::v1::operations_service_client::OperationsServiceClient;
use rekisteri_test_support::{Backend, db_tests, tokens};
use tonic::Code;

use crate::wait_until;

db_tests!(
    status_follows_the_outbox_and_nats,
    parked_events_are_listed_and_retried
);

async fn status_follows_the_outbox_and_nats(backend: Backend) {
    let mut system = System::start(backend).await;
    let catalogue = system.service("catalogue");
    let mut ops = OperationsServiceClient::with_interceptor(
        catalogue.channel().await,
        BearerToken::new(tokens::OPERATOR).unwrap(),
    );
    let mut admin = CatalogueServiceClient::with_interceptor(
        catalogue.channel().await,
        BearerToken::new(tokens::ADMIN).unwrap(),
    );
    let status = async |ops: &mut OperationsServiceClient<_>| {
        ops.get_status(ops::GetStatusRequest {})
            .await
            .unwrap()
            .into_inner()
    };
    wait_until("NATS is connected", async || {
        status(&mut ops).await.nats_state == "connected"
    })
    .await;
    let s = status(&mut ops).await;
    assert_eq!(s.service, "catalogue");
    assert!(s.database_reachable);
    assert_eq!(
        (s.outbox_pending, s.outbox_parked, s.dead_letters),
        (0, 0, 0)
    );

    system.nats.stop().await;
    crate::create_and_publish(&mut admin).await;
    wait_until("the status shows NATS away", async || {
        status(&mut ops).await.nats_state != "connected"
    })
    .await;
    let s = status(&mut ops).await;
    assert_eq!(s.outbox_pending, 1, "{s:?}");
    assert!(s.oldest_pending_time.is_some());

    system.nats.restart().await;
    wait_until("the backlog drains", async || {
        let s = status(&mut ops).await;
        s.nats_state == "connected" && s.outbox_pending == 0
    })
    .await;
}

async fn parked_events_are_listed_and_retried(backend: Backend) {
    let system = System::start_with(backend, |_, config| {
        config.outbox.max_attempts = 2;
        config.outbox.poll_interval_ms = 100;
    })
    .await;
    let catalogue = system.service("catalogue");
    // An event no stream takes, as a bug in a service might write.
    let db = sea_orm::Database::connect(system.databases[0].url.as_str())
        .await
        .unwrap();
    let event = outbox::envelope(
        "catalogue",
        "rekisteri.catalogue.oops.v1",
        "test",
        Payload::RegisterRetired(RegisterRetired::default()),
    );
    outbox::enqueue(&db, "rekisteri.nowhere.oops", &event)
        .await
        .unwrap();

    let mut ops = OperationsServiceClient::with_interceptor(
        catalogue.channel().await,
        BearerToken::new(tokens::OPERATOR).unwrap(),
    );
    wait_until("the event is parked", async || {
        ops.get_status(ops::GetStatusRequest {})
            .await
            .unwrap()
            .into_inner()
            .outbox_parked
            == 1
    })
    .await;
    let parked = ops
        .list_parked_events(ops::ListParkedEventsRequest { page_size: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(parked.total_size, 1);
    assert_eq!(parked.events[0].event_id, event.event_id);
    assert_eq!(parked.events[0].attempts, 2);
    assert!(
        parked.events[0]
            .last_error
            .contains("rekisteri.nowhere.oops"),
        "{:?}",
        parked.events[0]
    );

    // Neither ids nor `all`: refused, nothing retried.
    let refused = ops
        .retry_parked_events(ops::RetryParkedEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        rekisteri_platform::error::field_violations(&refused)[0].0,
        "event_ids"
    );
    let bad_size = ops
        .list_parked_events(ops::ListParkedEventsRequest { page_size: -1 })
        .await
        .unwrap_err();
    assert_eq!(bad_size.code(), Code::InvalidArgument);

    let retried = ops
        .retry_parked_events(ops::RetryParkedEventsRequest {
            event_ids: vec![event.event_id.clone()],
            all: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried.retried, 1);
    // Still no stream for it: it fails its attempts again and is parked again.
    wait_until("the event is parked again", async || {
        let parked = ops
            .list_parked_events(ops::ListParkedEventsRequest { page_size: 0 })
            .await
            .unwrap()
            .into_inner();
        parked.events.len() == 1 && parked.events[0].attempts == 2
    })
    .await;

    // A reader of the catalogue is not an operator.
    let mut reader = OperationsServiceClient::with_interceptor(
        catalogue.channel().await,
        BearerToken::new(tokens::READER).unwrap(),
    );
    let denied = reader
        .get_status(ops::GetStatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}
