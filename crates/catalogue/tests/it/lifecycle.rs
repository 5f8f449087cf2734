use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::common::v1::{BusinessId, PageRequest};
use rekisteri_test_support::{Backend, db_tests, tokens};
use tonic::Code;

use crate::harness::{TestApp, create, create_id, get, publish, sample, update};

db_tests!(
    draft_publish_edit_republish_retire,
    published_versions_are_immutable,
    publishing_twice_without_a_draft_is_refused,
    stale_expected_versions_are_aborted,
    list_filters_and_pages,
    data_survives_a_restart,
    a_stale_etag_is_aborted_and_changes_nothing,
    concurrent_edits_of_a_published_register_never_fail_internally,
);

async fn a_stale_etag_is_aborted_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let mut publisher = app.client(tokens::PUBLISHER).await;
    let created = create(&mut editor, sample()).await;
    let register = created.register.unwrap();
    let id = register.register_id.clone();
    let read_by_both = register.etag.clone();
    assert!(!read_by_both.is_empty(), "every read carries an etag");

    // Two editors read the same draft; the first saves.
    let mut first = sample();
    first
        .purposes
        .push("Ensimmäisen muokkaajan tarkoitus".into());
    let saved = editor
        .update_register_draft(pb::UpdateRegisterDraftRequest {
            register_id: id.clone(),
            content: Some(first.clone()),
            expected_latest_version: 0,
            etag: read_by_both.clone(),
            clear_translations: false,
        })
        .await
        .unwrap()
        .into_inner();
    let after_first = saved.register.unwrap().etag;
    assert_ne!(after_first, read_by_both, "a change changes the etag");

    // The second saves with what it read: refused, and the first editor's work stands.
    let mut second = sample();
    second.name = "Toisen muokkaajan nimi".into();
    let err = editor
        .update_register_draft(pb::UpdateRegisterDraftRequest {
            register_id: id.clone(),
            content: Some(second),
            expected_latest_version: 0,
            etag: read_by_both.clone(),
            clear_translations: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    let draft = get(&mut editor, &id, pb::VersionSelector::Draft, 0)
        .await
        .unwrap();
    assert_eq!(draft.version.unwrap().content.unwrap(), first);
    assert_eq!(draft.register.as_ref().unwrap().etag, after_first);

    // Publishing and retiring check the etag too.
    let err = publisher
        .publish_register(pb::PublishRegisterRequest {
            register_id: id.clone(),
            expected_version: 0,
            etag: read_by_both.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    let published = publisher
        .publish_register(pb::PublishRegisterRequest {
            register_id: id.clone(),
            expected_version: 0,
            etag: after_first.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let err = publisher
        .retire_register(pb::RetireRegisterRequest {
            register_id: id.clone(),
            reason: "Lopetettu".into(),
            etag: after_first,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    publisher
        .retire_register(pb::RetireRegisterRequest {
            register_id: id,
            reason: "Lopetettu".into(),
            etag: published.register.unwrap().etag,
        })
        .await
        .unwrap();
}

async fn concurrent_edits_of_a_published_register_never_fail_internally(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    publish(&mut admin, &id).await;
    // Eight editors start version 2 at once, none sending an etag.
    let mut calls = Vec::new();
    for i in 0..8 {
        let mut client = app.admin().await;
        let id = id.clone();
        calls.push(tokio::spawn(async move {
            let mut content = sample();
            content.purposes.push(format!("Tarkoitus {i}"));
            update(&mut client, &id, content, 0).await
        }));
    }
    let mut saved = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(r) => {
                assert_eq!(r.version.unwrap().version, 2);
                saved += 1;
            }
            Err(status) => assert_eq!(status.code(), Code::Aborted, "{status:?}"),
        }
    }
    assert!(saved >= 1);
    let latest = get(&mut admin, &id, pb::VersionSelector::Latest, 0)
        .await
        .unwrap();
    assert_eq!(
        latest.register.unwrap().latest_version,
        2,
        "one version 2, no more"
    );
}

async fn draft_publish_edit_republish_retire(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let mut publisher = app.client(tokens::PUBLISHER).await;

    let created = create(&mut editor, sample()).await;
    let register = created.register.unwrap();
    let id = register.register_id.clone();
    assert_eq!(register.status(), pb::RegisterStatus::Draft);
    assert_eq!(
        (register.latest_version, register.published_version),
        (1, 0)
    );
    let v1 = created.version.unwrap();
    assert_eq!(v1.state(), pb::VersionState::Draft);
    assert_eq!(v1.created_by.unwrap().subject, "editor");
    assert_eq!(v1.content.unwrap(), sample());

    // Nothing is published yet; the draft is readable.
    let err = get(&mut editor, &id, pb::VersionSelector::LatestPublished, 0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(
        get(&mut editor, &id, pb::VersionSelector::Draft, 0)
            .await
            .unwrap()
            .version
            .unwrap()
            .version,
        1
    );

    let published = publish(&mut publisher, &id).await;
    assert_eq!(
        published.register.as_ref().unwrap().status(),
        pb::RegisterStatus::Published
    );
    let v1 = published.version.unwrap();
    assert_eq!(v1.state(), pb::VersionState::Published);
    assert_eq!(v1.published_by.unwrap().subject, "publisher");
    assert!(v1.publish_time.is_some());

    // Editing a published register starts version 2; editing again changes version 2 in place.
    let mut edited = sample();
    edited.purposes.push("Asiakastyytyväisyyskyselyt".into());
    let updated = update(&mut editor, &id, edited.clone(), 1).await.unwrap();
    assert_eq!(updated.version.as_ref().unwrap().version, 2);
    assert_eq!(
        updated.register.as_ref().unwrap().status(),
        pb::RegisterStatus::Published
    );
    edited.name = "Asiakasrekisteri 2027".into();
    let updated = update(&mut editor, &id, edited.clone(), 2).await.unwrap();
    assert_eq!(updated.version.as_ref().unwrap().version, 2);
    assert_eq!(updated.register.as_ref().unwrap().latest_version, 2);
    assert_eq!(
        updated.register.as_ref().unwrap().name,
        sample().name,
        "lists show the published name, not an unpublished draft's"
    );

    // The default read is still the published version 1.
    let current = get(&mut editor, &id, pb::VersionSelector::Unspecified, 0)
        .await
        .unwrap();
    assert_eq!(current.version.unwrap().content.unwrap(), sample());

    let republished = publish(&mut publisher, &id).await;
    assert_eq!(republished.version.as_ref().unwrap().version, 2);
    assert_eq!(republished.register.as_ref().unwrap().published_version, 2);
    assert_eq!(
        republished.register.as_ref().unwrap().name,
        "Asiakasrekisteri 2027",
        "publishing makes the new name the listed one"
    );
    // Published reads are served from memory, but never an answer older than this server's own
    // last change: the default read, read before as version 1, is now version 2.
    let current = get(&mut editor, &id, pb::VersionSelector::Unspecified, 0)
        .await
        .unwrap();
    assert_eq!(current.version.as_ref().unwrap().version, 2);
    assert_eq!(current.version.unwrap().content.unwrap(), edited);
    let published_list = |client: &mut crate::harness::Client| {
        let mut client = client.clone();
        async move {
            client
                .list_registers(pb::ListRegistersRequest {
                    status: pb::RegisterStatus::Published as i32,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .registers
                .into_iter()
                .map(|r| r.register_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(published_list(&mut editor).await, std::slice::from_ref(&id));
    let before_retiring = get(&mut editor, &id, pb::VersionSelector::Number, 2)
        .await
        .unwrap();
    assert_eq!(
        before_retiring.version.unwrap().state(),
        pb::VersionState::Published
    );

    let versions = editor
        .list_register_versions(pb::ListRegisterVersionsRequest {
            register_id: id.clone(),
            page: None,
        })
        .await
        .unwrap()
        .into_inner()
        .versions;
    let states: Vec<_> = versions.iter().map(|v| (v.version, v.state())).collect();
    assert_eq!(
        states,
        [
            (1, pb::VersionState::Superseded),
            (2, pb::VersionState::Published)
        ]
    );
    assert_eq!(versions[1].content.as_ref().unwrap(), &edited);

    let retired = publisher
        .retire_register(pb::RetireRegisterRequest {
            etag: String::new(),
            register_id: id.clone(),
            reason: "Palvelu lopetettu".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .register
        .unwrap();
    assert_eq!(retired.status(), pb::RegisterStatus::Retired);
    assert_eq!(retired.retire_reason, "Palvelu lopetettu");
    assert_eq!(retired.retired_by.unwrap().subject, "publisher");
    assert!(retired.retire_time.is_some());
    assert!(
        published_list(&mut editor).await.is_empty(),
        "a list read before the change is not served after it"
    );

    // A retired register stays readable and can no longer change.
    let last = get(&mut editor, &id, pb::VersionSelector::Number, 2)
        .await
        .unwrap()
        .version
        .unwrap();
    assert_eq!(last.state(), pb::VersionState::Retired);
    let err = update(&mut editor, &id, sample(), 0).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = publisher
        .retire_register(pb::RetireRegisterRequest {
            etag: String::new(),
            register_id: id.clone(),
            reason: "again".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

async fn published_versions_are_immutable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    let v1 = publish(&mut admin, &id).await.version.unwrap();

    for name in ["Muutettu nimi", "Toinen muutos"] {
        let mut changed = sample();
        changed.name = name.into();
        update(&mut admin, &id, changed, 0).await.unwrap();
    }
    let read = get(&mut admin, &id, pb::VersionSelector::Number, 1)
        .await
        .unwrap()
        .version
        .unwrap();
    assert_eq!(read.content, v1.content);
    assert_eq!(read.state(), pb::VersionState::Published);
    let latest = get(&mut admin, &id, pb::VersionSelector::Latest, 0)
        .await
        .unwrap()
        .version
        .unwrap();
    assert_eq!(
        (latest.version, latest.content.unwrap().name.as_str()),
        (2, "Toinen muutos")
    );
    let err = get(&mut admin, &id, pb::VersionSelector::Number, 3)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

async fn publishing_twice_without_a_draft_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    publish(&mut admin, &id).await;
    let err = admin
        .publish_register(pb::PublishRegisterRequest {
            etag: String::new(),
            register_id: id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("no draft"), "{}", err.message());
}

async fn stale_expected_versions_are_aborted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    let err = update(&mut admin, &id, sample(), 7).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    let err = admin
        .publish_register(pb::PublishRegisterRequest {
            etag: String::new(),
            register_id: id.clone(),
            expected_version: 2,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    // Neither call changed anything.
    let draft = get(&mut admin, &id, pb::VersionSelector::Draft, 0)
        .await
        .unwrap();
    assert_eq!(draft.register.unwrap().latest_version, 1);
}

async fn list_filters_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut content = sample();
        content.name = format!("Rekisteri {i}");
        if i % 2 == 1 {
            // Nokia Oyj as controller of every other register.
            content.controller.as_mut().unwrap().business_id = Some(BusinessId {
                value: "0112038-9".into(),
            });
        }
        let id = create_id(&mut admin, content).await;
        if i < 3 {
            publish(&mut admin, &id).await;
        }
        ids.push(id);
    }

    let list = |status: pb::RegisterStatus, controller: &str, size: i32, token: String| {
        pb::ListRegistersRequest {
            page: Some(PageRequest {
                page_size: size,
                page_token: token,
            }),
            status: status as i32,
            controller_business_id: (!controller.is_empty()).then(|| BusinessId {
                value: controller.into(),
            }),
        }
    };

    // Newest first, three pages of two.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = admin
            .list_registers(list(pb::RegisterStatus::Unspecified, "", 2, token))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.page.as_ref().unwrap().total_size, 5);
        seen.extend(page.registers.iter().map(|r| r.register_id.clone()));
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let newest_first: Vec<_> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let mut names = async |status: pb::RegisterStatus, controller: &str| -> Vec<String> {
        let request = list(status, controller, 0, String::new());
        let page = admin.list_registers(request).await.unwrap().into_inner();
        page.registers.into_iter().map(|r| r.name).collect()
    };
    assert_eq!(
        names(pb::RegisterStatus::Published, "").await,
        ["Rekisteri 2", "Rekisteri 1", "Rekisteri 0"]
    );
    assert_eq!(
        names(pb::RegisterStatus::Unspecified, "0112038-9").await,
        ["Rekisteri 3", "Rekisteri 1"],
        "Nokia's registers"
    );
    assert_eq!(
        names(pb::RegisterStatus::Draft, "2135102-9").await,
        ["Rekisteri 4"]
    );
}

async fn data_survives_a_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    publish(&mut admin, &id).await;
    app.stop().await;
    app.start().await;
    let mut admin = app.admin().await;
    let read = get(&mut admin, &id, pb::VersionSelector::LatestPublished, 0)
        .await
        .unwrap();
    assert_eq!(read.version.unwrap().content.unwrap(), sample());
}
