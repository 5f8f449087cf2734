//! The request worker's lease: a worker that took longer than its lease (another took the
//! request meanwhile) writes nothing, so a request is answered once.

use std::sync::Arc;

use rekisteri_enrichment::enricher::{Enriched, Enricher, accept_request};
use rekisteri_enrichment::entity::requests;
use rekisteri_enrichment::migration::Migrator;
use rekisteri_enrichment::registers::{Registers, SubjectRef, Subjects};
use rekisteri_enrichment::sources::Sources;
use rekisteri_platform::auth::Secret;
use rekisteri_platform::config::DatabaseConfig;
use rekisteri_platform::error::ServiceError;
use rekisteri_platform::outbox::{self, OutboxSignal};
use rekisteri_proto::common::v1::BusinessId;
use rekisteri_proto::events::v1::EnrichmentRequested;
use sea_orm::EntityTrait;

#[tokio::test]
async fn a_worker_whose_lease_ran_out_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = DatabaseConfig {
        url: Secret::new(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("enrichment.db").display()
        )),
        max_connections: 2,
        health_check_interval_ms: 2000,
        postgres_settings: Default::default(),
    };
    let db = rekisteri_platform::db::connect_and_migrate::<Migrator>(&config)
        .await
        .unwrap();
    let enricher = Enricher::new(
        db.clone(),
        OutboxSignal::default(),
        Sources::default(),
        Registers::new(None),
        Subjects::connect("", None).unwrap(),
        Arc::new(tokio::sync::Notify::new()),
    );
    let txn = db.begin().await.unwrap();
    accept_request(
        &txn,
        "event-1",
        &EnrichmentRequested {
            request_id: "request-1".into(),
            subject_id: "0190a0a0-0000-7000-8000-000000000001".into(),
            kind: "organisation".into(),
            business_id: Some(BusinessId {
                value: "0112038-9".into(),
            }),
            register_ids: vec!["register-1".into()],
            subject_etag: "00000001-1".into(),
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let stored = requests::Entity::find_by_id("request-1".to_owned())
        .one(db.reader())
        .await
        .unwrap()
        .unwrap();
    let subject = SubjectRef {
        subject_id: stored.subject_id.clone(),
        kind: stored.kind.clone(),
        business_id: stored.business_id.clone(),
        register_ids: vec!["register-1".into()],
        etag: stored.subject_etag.clone(),
    };
    let pending = || async { outbox::status(db.reader()).await.unwrap().pending };

    // This worker's lease is not the one stored (another worker leased the request since).
    let stale = requests::Model {
        next_attempt_at: stored.next_attempt_at - chrono::Duration::seconds(300),
        ..stored.clone()
    };
    let lost = enricher
        .publish(
            "request-1",
            &subject,
            "event:event-1",
            &Enriched::default(),
            Some(&stale),
        )
        .await
        .unwrap_err();
    assert!(matches!(lost, ServiceError::Aborted(_)), "{lost}");
    assert_eq!(pending().await, 0, "no result published");

    // The worker holding the lease answers it, once.
    enricher
        .publish(
            "request-1",
            &subject,
            "event:event-1",
            &Enriched::default(),
            Some(&stored),
        )
        .await
        .unwrap();
    assert_eq!(pending().await, 1);
    let done = requests::Entity::find_by_id("request-1".to_owned())
        .one(db.reader())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, "done");
    let again = enricher
        .publish(
            "request-1",
            &subject,
            "event:event-1",
            &Enriched::default(),
            Some(&stored),
        )
        .await;
    assert!(again.is_err(), "a done request is not answered twice");
    assert_eq!(pending().await, 1);
}
