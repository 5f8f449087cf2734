//! Rendering published registers as privacy notices, and importing them back.

use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_test_support::{Backend, db_tests, tokens};
use tonic::Code;

use crate::harness::{Client, TestApp, create_id, get, publish, sample, update, violated_fields};

async fn render(
    client: &mut Client,
    register_id: &str,
    language: pb::NoticeLanguage,
    format: pb::NoticeFormat,
    layout: pb::NoticeLayout,
) -> Result<pb::RenderPrivacyNoticeResponse, tonic::Status> {
    client
        .render_privacy_notice(pb::RenderPrivacyNoticeRequest {
            register_id: register_id.into(),
            version: 0,
            language: language as i32,
            format: format as i32,
            layout: layout as i32,
        })
        .await
        .map(|r| r.into_inner())
}

db_tests!(a_rendered_finnish_notice_imports_back_into_the_same_register);

async fn a_rendered_finnish_notice_imports_back_into_the_same_register(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    publish(&mut admin, &id).await;
    for format in [
        pb::NoticeFormat::Text,
        pb::NoticeFormat::Markdown,
        pb::NoticeFormat::Html,
    ] {
        for layout in [pb::NoticeLayout::Gdpr, pb::NoticeLayout::Section10] {
            let notice = render(&mut admin, &id, pb::NoticeLanguage::Fi, format, layout)
                .await
                .unwrap();
            let imported = admin
                .import_register(pb::ImportRegisterRequest {
                    document: notice.content.into_bytes(),
                    source_name: "notice".into(),
                    dry_run: false,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            let copy = imported.register.unwrap().register_id;
            let mut back = get(&mut admin, &copy, pb::VersionSelector::Draft, 0)
                .await
                .unwrap()
                .version
                .unwrap()
                .content
                .unwrap();
            // A notice shows no machine keys; everything else comes back as it was.
            let original = sample();
            for (category, key) in back
                .data_categories
                .iter_mut()
                .zip(original.data_categories.iter().map(|c| &c.key))
            {
                assert!(!category.key.is_empty());
                category.key = key.clone();
            }
            assert_eq!(back, original, "{format:?} {layout:?}");
            assert!(
                imported.report.unwrap().unmapped_lines.is_empty(),
                "{format:?} {layout:?}: nothing of a rendered notice is unmapped"
            );
        }
    }
}

#[tokio::test]
async fn notices_in_three_languages_say_what_gdpr_requires() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    publish(&mut admin, &id).await;
    let mut reader = app.client(tokens::READER).await;
    let cases = [
        (
            pb::NoticeLanguage::Fi,
            "fi",
            [
                "Tietosuojaseloste",
                "Rekisterinpitäjä",
                "Käsittelyn oikeusperuste",
                "tietosuojavaltuutettu",
                "Tietojen säilytysaika",
                "enintään 3 vuotta asiakassuhteen päättymisestä",
            ],
        ),
        (
            pb::NoticeLanguage::Sv,
            "sv",
            [
                "Dataskyddsbeskrivning",
                "Personuppgiftsansvarig",
                "Rättslig grund för behandlingen",
                "dataombudsmannen",
                "Lagringstid",
                "högst 3 år efter att kundförhållandet upphört",
            ],
        ),
        (
            pb::NoticeLanguage::En,
            "en",
            [
                "Privacy notice",
                "Controller",
                "Legal basis for processing",
                "Data Protection Ombudsman",
                "Retention period",
                "at most 3 years after the customer relationship ends",
            ],
        ),
    ];
    for (language, code, phrases) in cases {
        let html = render(
            &mut reader,
            &id,
            language,
            pb::NoticeFormat::Html,
            pb::NoticeLayout::Gdpr,
        )
        .await
        .unwrap();
        assert_eq!(html.media_type, "text/html; charset=utf-8");
        assert_eq!(html.version, 1);
        let page = html.content;
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(&format!("<html lang=\"{code}\">")));
        assert!(
            page.contains("<h1>")
                && page.contains("<h2 id=\"s1\">")
                && page.contains("@media print")
        );
        for phrase in phrases {
            assert!(page.contains(phrase), "{code}: {phrase:?} missing");
        }
        // The register's own content, whatever the language of the notice.
        for own in [
            "Kotisivutaivas Oy",
            "2135102-9",
            "Suoramarkkinointi",
            "Suomen Asiakastieto Oy",
            "Viranomaiset",
        ] {
            assert!(page.contains(own), "{code}: {own:?} missing");
        }
    }
    let text = render(
        &mut reader,
        &id,
        pb::NoticeLanguage::Fi,
        pb::NoticeFormat::Text,
        pb::NoticeLayout::Section10,
    )
    .await
    .unwrap();
    assert_eq!(text.media_type, "text/plain; charset=utf-8");
    let headings: Vec<&str> = text
        .content
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(
        &headings[..5],
        [
            "1. REKISTERINPITÄJÄ",
            "2. YHTEYSHENKILÖ REKISTERIÄ KOSKEVISSA ASIOISSA",
            "3. REKISTERIN NIMI",
            "4. KÄSITTELYN OIKEUSPERUSTE",
            "5. HENKILÖTIETOJEN KÄSITTELYN TARKOITUKSET"
        ]
    );
    assert!(text.content.starts_with("REKISTERISELOSTE\n"));
    let markdown = render(
        &mut reader,
        &id,
        pb::NoticeLanguage::En,
        pb::NoticeFormat::Markdown,
        pb::NoticeLayout::Gdpr,
    )
    .await
    .unwrap();
    assert!(
        markdown.content.starts_with("# Privacy notice\n")
            && markdown.content.contains("\n## 1. Controller\n")
    );
}

#[tokio::test]
async fn only_published_versions_have_a_notice() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut admin = app.admin().await;
    let id = create_id(&mut admin, sample()).await;
    let err = render(
        &mut admin,
        &id,
        pb::NoticeLanguage::Fi,
        pb::NoticeFormat::Html,
        pb::NoticeLayout::Gdpr,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    publish(&mut admin, &id).await;
    let mut changed = sample();
    changed.name = "Uusi nimi".into();
    update(&mut admin, &id, changed, 0).await.unwrap();
    let err = admin
        .render_privacy_notice(pb::RenderPrivacyNoticeRequest {
            register_id: id.clone(),
            version: 2,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    // The published version 1 is what the default renders.
    let notice = render(
        &mut admin,
        &id,
        pb::NoticeLanguage::Fi,
        pb::NoticeFormat::Text,
        pb::NoticeLayout::Gdpr,
    )
    .await
    .unwrap();
    assert_eq!(notice.version, 1);
    assert!(!notice.content.contains("Uusi nimi"));

    let err = admin
        .render_privacy_notice(pb::RenderPrivacyNoticeRequest {
            register_id: id,
            version: 0,
            language: 7,
            format: 9,
            layout: 4,
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["language", "format", "layout"]);
}

fn register_document(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../register/tests/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

db_tests!(a_swedish_document_adds_the_swedish_texts_and_the_swedish_notice_shows_them);

/// A bilingual municipality's register: created from its Finnish notice, required in Finnish
/// and Swedish, completed with its Swedish notice, published, rendered in Swedish.
async fn a_swedish_document_adds_the_swedish_texts_and_the_swedish_notice_shows_them(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let created = admin
        .import_register(pb::ImportRegisterRequest {
            document: register_document("kirjasto-tietosuojaseloste.txt"),
            source_name: "kirjasto-tietosuojaseloste.txt".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id = created.register.unwrap().register_id;
    let mut content = created.content.unwrap();
    content.required_languages = vec!["fi".into(), "sv".into()];
    update(&mut admin, &id, content, 1).await.unwrap();

    // Without its Swedish texts the register cannot be published.
    let err = admin
        .publish_register(pb::PublishRegisterRequest {
            register_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["content.translations"]);

    // A Swedish document of a register written in Finnish adds its texts to the draft.
    let imported = admin
        .import_register(pb::ImportRegisterRequest {
            document: register_document("kirjasto-dataskyddsbeskrivning.txt"),
            source_name: "kirjasto-dataskyddsbeskrivning.txt".into(),
            register_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        imported.register.unwrap().register_id,
        id,
        "no new register"
    );
    let report = imported.report.unwrap();
    assert_eq!(report.language, "sv");
    assert!(
        report
            .mapped_fields
            .iter()
            .any(|m| m.field == "translations.sv.purposes[0]"
                && m.value == "Skötsel av lån och reserveringar")
    );
    let draft = get(&mut admin, &id, pb::VersionSelector::Draft, 0)
        .await
        .unwrap()
        .version
        .unwrap()
        .content
        .unwrap();
    assert_eq!(draft.name, "Kaupunginkirjaston asiakasrekisteri");
    let sv = &draft.translations[0];
    assert_eq!(
        (sv.language.as_str(), sv.name.as_str()),
        ("sv", "Stadsbibliotekets kundregister")
    );
    publish(&mut admin, &id).await;

    let mut reader = app.client(tokens::READER).await;
    let swedish = render(
        &mut reader,
        &id,
        pb::NoticeLanguage::Sv,
        pb::NoticeFormat::Html,
        pb::NoticeLayout::Gdpr,
    )
    .await
    .unwrap()
    .content;
    for text in [
        "<html lang=\"sv\">",
        "Stadsbibliotekets kundregister",
        "Skötsel av lån och reserveringar",
        "Födelsedatum",
    ] {
        assert!(swedish.contains(text), "{text:?} missing:\n{swedish}");
    }
    assert!(!swedish.contains("Lainauksen ja varausten hoitaminen"));
    let finnish = render(
        &mut reader,
        &id,
        pb::NoticeLanguage::Fi,
        pb::NoticeFormat::Html,
        pb::NoticeLayout::Gdpr,
    )
    .await
    .unwrap()
    .content;
    assert!(finnish.contains("Lainauksen ja varausten hoitaminen"));

    // Another organisation's notice is not this register's translation.
    let mut other =
        String::from_utf8(register_document("kirjasto-dataskyddsbeskrivning.txt")).unwrap();
    other = other.replace("0204819-8", "0112038-9");
    let err = admin
        .import_register(pb::ImportRegisterRequest {
            document: other.into_bytes(),
            register_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("0112038-9"), "{}", err.message());

    // A dry run into the register changes nothing; a stale etag is refused.
    let before = get(&mut admin, &id, pb::VersionSelector::Latest, 0)
        .await
        .unwrap();
    let dry = admin
        .import_register(pb::ImportRegisterRequest {
            document: register_document("kirjasto-dataskyddsbeskrivning.txt"),
            register_id: id.clone(),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(dry.register.is_none() && dry.version.is_none());
    let after = get(&mut admin, &id, pb::VersionSelector::Latest, 0)
        .await
        .unwrap();
    assert_eq!(before, after, "a dry run writes nothing");
    let err = admin
        .import_register(pb::ImportRegisterRequest {
            document: register_document("kirjasto-dataskyddsbeskrivning.txt"),
            register_id: id.clone(),
            etag: "stale-1".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);

    // Importing the register's own language again is refused: that is an update.
    let err = admin
        .import_register(pb::ImportRegisterRequest {
            document: register_document("kirjasto-tietosuojaseloste.txt"),
            register_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), violated_fields(&err)),
        (Code::InvalidArgument, vec!["document".to_string()])
    );
}

db_tests!(an_edit_of_a_bilingual_register_keeps_its_translations_following_the_texts);

/// Editing a register that has translations: a client that knows no languages keeps them, a
/// deleted purpose takes its translation with it, and clearing removes them.
async fn an_edit_of_a_bilingual_register_keeps_its_translations_following_the_texts(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin().await;
    let created = admin
        .import_register(pb::ImportRegisterRequest {
            document: register_document("kirjasto-tietosuojaseloste.txt"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id = created.register.unwrap().register_id;
    admin
        .import_register(pb::ImportRegisterRequest {
            document: register_document("kirjasto-dataskyddsbeskrivning.txt"),
            register_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let draft = |admin: &mut Client| {
        let id = id.clone();
        let mut admin = admin.clone();
        async move {
            get(&mut admin, &id, pb::VersionSelector::Draft, 0)
                .await
                .unwrap()
                .version
                .unwrap()
                .content
                .unwrap()
        }
    };
    let read = draft(&mut admin).await;
    assert_eq!(read.translations[0].purposes.len(), 3);

    // A client written before languages sends the content without them.
    let mut old_client = read.clone();
    old_client.translations.clear();
    old_client.language.clear();
    update(&mut admin, &id, old_client, 0).await.unwrap();
    assert_eq!(draft(&mut admin).await.translations, read.translations);

    // Deleting a purpose, the translations sent back as read.
    let mut edited = read.clone();
    edited.purposes.remove(0);
    update(&mut admin, &id, edited, 0).await.unwrap();
    let after = draft(&mut admin).await;
    assert_eq!(
        after.translations[0].purposes,
        [
            "Indrivning av kundavgifter",
            "Information om bibliotekets evenemang"
        ]
    );

    // Clearing them.
    let mut cleared = after.clone();
    cleared.translations.clear();
    admin
        .update_register_draft(pb::UpdateRegisterDraftRequest {
            register_id: id.clone(),
            content: Some(cleared),
            clear_translations: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(draft(&mut admin).await.translations.is_empty());

    // A document that translates nothing of the register changes nothing.
    let letter = "Dear reader,\n\nthank you for your letter.\n"
        .as_bytes()
        .to_vec();
    let err = admin
        .import_register(pb::ImportRegisterRequest {
            document: letter,
            register_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}
