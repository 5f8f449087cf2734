//! Two replicas of the catalogue on one database publish each event once, in order.

use std::collections::HashSet;

use futures::StreamExt;
use prost::Message as _;
use rekisteri_catalogue::events::STREAM;
use rekisteri_e2e::System;
use rekisteri_platform::auth::BearerToken;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use rekisteri_test_support::{Backend, db_tests, stream_messages, tokens, wait_for_messages};

use crate::{WAIT, sample};

db_tests!(
    two_replicas_publish_each_event_once_in_order,
    replicas_migrating_at_once_both_start,
    a_change_through_one_replica_shows_on_the_other_within_the_read_cache_ttl
);

async fn two_replicas_publish_each_event_once_in_order(backend: Backend) {
    let system = System::start(backend).await;
    let a = system.service("catalogue");
    let b = system.replica("catalogue").await;
    let client = async |port: u16| {
        CatalogueServiceClient::with_interceptor(
            rekisteri_test_support::channel(port).await,
            BearerToken::new(tokens::ADMIN).unwrap(),
        )
    };
    let mut clients = [client(a.port).await, client(b.port).await];
    // A plain NATS subscription sees every publication, including copies the stream would drop
    // as duplicates: it shows whether the replicas really took turns.
    let watcher = system.nats.client().await;
    let mut raw = watcher.subscribe("rekisteri.catalogue.>").await.unwrap();
    watcher.flush().await.unwrap();
    let mut published = Vec::new();
    for i in 0..24 {
        let c = &mut clients[i % 2];
        let mut content = sample();
        content.name = format!("Rekisteri {i}");
        let id = c
            .create_register(pb::CreateRegisterRequest {
                content: Some(content),
            })
            .await
            .unwrap()
            .into_inner()
            .register
            .unwrap()
            .register_id;
        // Published through the other replica than the one that created it.
        clients[(i + 1) % 2]
            .publish_register(pb::PublishRegisterRequest {
                register_id: id.clone(),
                expected_version: 0,
                etag: String::new(),
            })
            .await
            .unwrap();
        published.push(id);
    }
    let nats = system.nats.client().await;
    wait_for_messages(&nats, STREAM.name, published.len(), WAIT).await;
    // Both relays poll again meanwhile; nothing more may arrive.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let messages = stream_messages(&nats, STREAM.name).await.unwrap();
    let events: Vec<EventEnvelope> = messages
        .iter()
        .map(|m| EventEnvelope::decode(m.payload.clone()).unwrap())
        .collect();
    let order: Vec<String> = events
        .iter()
        .map(|e| match &e.payload {
            Some(Payload::RegisterPublished(p)) => p.register_id.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        order, published,
        "each publication once, in the order it happened"
    );
    let ids: HashSet<_> = events.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(ids.len(), published.len());
    let mut publications = 0;
    while let Ok(Some(_)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), raw.next()).await
    {
        publications += 1;
    }
    assert_eq!(
        publications,
        published.len(),
        "each event was published by one replica only, not left to the stream to deduplicate"
    );
}

async fn replicas_migrating_at_once_both_start(backend: Backend) {
    rekisteri_test_support::init_tracing();
    let nats = rekisteri_test_support::NatsServer::start().await;
    let db = rekisteri_test_support::TestDb::fresh(backend).await;
    let config = rekisteri_test_support::service_config("catalogue", &db.url, &nats.url());
    let entry = rekisteri_cli::services::find("catalogue").unwrap();
    // Both find an empty database and migrate it at the same moment.
    let (a, b) = tokio::join!(
        rekisteri_e2e::Running::start(entry, config.clone()),
        rekisteri_e2e::Running::start(entry, config.clone())
    );
    let mut client = CatalogueServiceClient::with_interceptor(
        b.channel().await,
        BearerToken::new(tokens::ADMIN).unwrap(),
    );
    client
        .create_register(pb::CreateRegisterRequest {
            content: Some(sample()),
        })
        .await
        .expect("the schema is whole");
    drop(a);
}

async fn a_change_through_one_replica_shows_on_the_other_within_the_read_cache_ttl(
    backend: Backend,
) {
    let system = System::start(backend).await;
    let a = system.service("catalogue");
    let b = system.replica("catalogue").await;
    let client = async |port: u16| {
        CatalogueServiceClient::with_interceptor(
            rekisteri_test_support::channel(port).await,
            BearerToken::new(tokens::ADMIN).unwrap(),
        )
    };
    let (mut a, mut b) = (client(a.port).await, client(b.port).await);
    let get = async |client: &mut CatalogueServiceClient<_>, id: &str, selector| {
        client
            .get_register(pb::GetRegisterRequest {
                register_id: id.to_owned(),
                selector: selector as i32,
                version: 0,
            })
            .await
            .unwrap()
            .into_inner()
            .version
            .unwrap()
            .version
    };
    let publish = async |client: &mut CatalogueServiceClient<_>, id: &str| {
        client
            .publish_register(pb::PublishRegisterRequest {
                register_id: id.to_owned(),
                expected_version: 0,
                etag: String::new(),
            })
            .await
            .unwrap();
    };
    let id = a
        .create_register(pb::CreateRegisterRequest {
            content: Some(sample()),
        })
        .await
        .unwrap()
        .into_inner()
        .register
        .unwrap()
        .register_id;
    publish(&mut a, &id).await;
    // Replica b reads version 1 and keeps the answer.
    assert_eq!(
        get(&mut b, &id, pb::VersionSelector::LatestPublished).await,
        1
    );

    let mut edited = sample();
    edited.name = "Asiakasrekisteri, versio 2".into();
    a.update_register_draft(pb::UpdateRegisterDraftRequest {
        etag: String::new(),
        register_id: id.clone(),
        content: Some(edited),
        expected_latest_version: 0,
        clear_translations: false,
    })
    .await
    .unwrap();
    // Editors' reads are never served from memory, whichever replica they reach.
    assert_eq!(get(&mut b, &id, pb::VersionSelector::Draft).await, 2);
    publish(&mut a, &id).await;
    assert_eq!(get(&mut b, &id, pb::VersionSelector::Latest).await, 2);
    assert_eq!(
        get(&mut a, &id, pb::VersionSelector::LatestPublished).await,
        2
    );

    // Replica b learns of a's change when its answer expires: within read_cache.ttl_ms.
    let ttl =
        std::time::Duration::from_millis(system.service("catalogue").config.read_cache.ttl_ms);
    assert!(!ttl.is_zero(), "the test needs the cache on");
    let deadline = std::time::Instant::now() + ttl + std::time::Duration::from_secs(2);
    while get(&mut b, &id, pb::VersionSelector::LatestPublished).await != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "replica b still serves version 1 long after the cache's ttl"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
