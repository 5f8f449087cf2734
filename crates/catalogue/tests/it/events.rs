use std::collections::HashSet;
use std::time::Duration;

use prost::Message as _;
use rekisteri_catalogue::events::{REGISTER_PUBLISHED_SUBJECT, REGISTER_RETIRED_SUBJECT, STREAM};
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use rekisteri_test_support::{Backend, db_tests, stream_messages, tokens, wait_for_messages};
use sea_orm::{ConnectionTrait, Database};

use crate::harness::{TestApp, create_id, publish, sample};

const WAIT: Duration = Duration::from_secs(20);

db_tests!(
    publishing_and_retiring_emit_one_event_each,
    events_wait_out_a_nats_outage_and_arrive_once,
    a_republished_outbox_row_is_deduplicated,
);

fn envelope(message: &async_nats::jetstream::message::StreamMessage) -> EventEnvelope {
    EventEnvelope::decode(message.payload.clone()).expect("an EventEnvelope")
}

/// Waits a little longer than the relay's poll interval and checks nothing more arrived.
async fn settle_and_read(app: &TestApp) -> Vec<async_nats::jetstream::message::StreamMessage> {
    tokio::time::sleep(Duration::from_millis(800)).await;
    stream_messages(&app.nats_client().await, STREAM.name)
        .await
        .expect("the stream can be read")
}

async fn publishing_and_retiring_emit_one_event_each(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let mut publisher = app.client(tokens::PUBLISHER).await;
    let id = create_id(&mut editor, sample()).await;
    publish(&mut publisher, &id).await;
    publisher
        .retire_register(pb::RetireRegisterRequest {
            etag: String::new(),
            register_id: id.clone(),
            reason: "Palvelu lopetettu".into(),
        })
        .await
        .unwrap();

    let nats = app.nats_client().await;
    wait_for_messages(&nats, STREAM.name, 2, WAIT).await;
    let messages = settle_and_read(&app).await;
    assert_eq!(messages.len(), 2, "exactly one event per change");

    let published = &messages[0];
    assert_eq!(published.subject.as_str(), REGISTER_PUBLISHED_SUBJECT);
    let event = envelope(published);
    assert_eq!(
        published.headers.get("Nats-Msg-Id").map(|v| v.to_string()),
        Some(event.event_id.clone())
    );
    assert_eq!(
        uuid::Uuid::parse_str(&event.event_id)
            .unwrap()
            .get_version_num(),
        7
    );
    assert_eq!(
        event.event_type,
        "rekisteri.catalogue.register_published.v1"
    );
    assert_eq!(event.source_service, "catalogue");
    assert_eq!(event.actor.unwrap().subject, "publisher");
    assert!(event.occurred_at.is_some());
    let Some(Payload::RegisterPublished(p)) = event.payload else {
        panic!("a RegisterPublished payload")
    };
    assert_eq!(
        (p.register_id.as_str(), p.version, p.superseded_version),
        (id.as_str(), 1, 0)
    );
    assert_eq!(p.register_name, sample().name);
    assert_eq!(p.controller_business_id.unwrap().value, "2135102-9");
    assert!(p.includes_national_identity_code);
    assert_eq!(p.data_category_keys.len(), 5);

    let retired = &messages[1];
    assert_eq!(retired.subject.as_str(), REGISTER_RETIRED_SUBJECT);
    let Some(Payload::RegisterRetired(r)) = envelope(retired).payload else {
        panic!("a RegisterRetired payload")
    };
    assert_eq!(
        (
            r.register_id.as_str(),
            r.last_published_version,
            r.reason.as_str()
        ),
        (id.as_str(), 1, "Palvelu lopetettu")
    );
}

async fn events_wait_out_a_nats_outage_and_arrive_once(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    // One event goes out while NATS is up, so the stream exists before the outage.
    let first = create_id(&mut admin, sample()).await;
    publish(&mut admin, &first).await;
    wait_for_messages(&app.nats_client().await, STREAM.name, 1, WAIT).await;

    app.nats.stop().await;
    let mut during = Vec::new();
    for i in 0..3 {
        let mut content = sample();
        content.name = format!("Outage register {i}");
        let id = create_id(&mut admin, content).await;
        publish(&mut admin, &id).await;
        during.push(id);
    }
    // Let the relay fail a few times against the dead server.
    tokio::time::sleep(Duration::from_secs(1)).await;
    app.nats.restart().await;

    let nats = app.nats_client().await;
    wait_for_messages(&nats, STREAM.name, 4, WAIT).await;
    let messages = settle_and_read(&app).await;
    let published: Vec<String> = messages
        .iter()
        .map(|m| match envelope(m).payload {
            Some(Payload::RegisterPublished(p)) => p.register_id,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let mut expected = vec![first];
    expected.extend(during);
    assert_eq!(published, expected, "every publication once, in order");
    let ids: HashSet<_> = messages.iter().map(|m| envelope(m).event_id).collect();
    assert_eq!(ids.len(), 4);
}

async fn a_republished_outbox_row_is_deduplicated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    publish(&mut admin, &id).await;
    let nats = app.nats_client().await;
    wait_for_messages(&nats, STREAM.name, 1, WAIT).await;

    // As if the relay had crashed after the PubAck but before marking the row sent.
    let db = Database::connect(app.db.url.as_str()).await.unwrap();
    let marked = db
        .execute_unprepared("UPDATE outbox_events SET sent_at = NULL")
        .await
        .unwrap();
    assert_eq!(marked.rows_affected(), 1);
    // The relay publishes the row again on its next poll and marks it sent.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let pending = rekisteri_platform::outbox::status(&db)
            .await
            .unwrap()
            .pending;
        if pending == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay never re-sent the row"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    db.close().await.unwrap();
    assert_eq!(
        settle_and_read(&app).await.len(),
        1,
        "JetStream dropped the duplicate"
    );
}

#[tokio::test]
async fn the_callers_trace_continues_into_the_event() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let channel = rekisteri_test_support::channel(app.port).await;
    let mut client =
        CatalogueServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
            let metadata = request.metadata_mut();
            metadata.insert(
                "authorization",
                format!("Bearer {}", tokens::ADMIN).parse().unwrap(),
            );
            metadata.insert("traceparent", traceparent.parse().unwrap());
            Ok(request)
        });
    let id = client
        .create_register(pb::CreateRegisterRequest {
            content: Some(sample()),
        })
        .await
        .unwrap()
        .into_inner()
        .register
        .unwrap()
        .register_id;
    client
        .publish_register(pb::PublishRegisterRequest {
            etag: String::new(),
            register_id: id,
            expected_version: 0,
        })
        .await
        .unwrap();
    let messages = wait_for_messages(&app.nats_client().await, STREAM.name, 1, WAIT).await;
    let header = messages[0]
        .headers
        .get("traceparent")
        .map(|v| v.to_string())
        .expect("a traceparent header");
    assert!(header.starts_with(&format!("00-{trace_id}-")), "{header}");
}
