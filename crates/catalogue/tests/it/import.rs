//! Importing real rekisteriseloste documents over gRPC.

use std::collections::BTreeSet;

use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_test_support::{Backend, db_tests, tokens};
use tonic::Code;

use crate::harness::{Client, TestApp, get, violated_fields};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/fixtures/rekisteriseloste/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn import(
    client: &mut Client,
    document: Vec<u8>,
    dry_run: bool,
) -> Result<pb::ImportRegisterResponse, tonic::Status> {
    client
        .import_register(pb::ImportRegisterRequest {
            document,
            source_name: "test.txt".into(),
            dry_run,
        })
        .await
        .map(|r| r.into_inner())
}

/// Every non-empty line of the input is a heading, a line a field came from, or reported unmapped.
fn assert_nothing_lost(document: &[u8], report: &pb::ImportReport) {
    let text = String::from_utf8_lossy(document);
    let headings: BTreeSet<u32> = report
        .sections
        .iter()
        .filter(|s| !s.heading.is_empty())
        .map(|s| s.line)
        .collect();
    let mapped: BTreeSet<u32> = report
        .mapped_fields
        .iter()
        .flat_map(|m| m.lines.iter().copied())
        .collect();
    let unmapped: BTreeSet<u32> = report.unmapped_lines.iter().map(|u| u.line).collect();
    for (i, line) in text.lines().enumerate() {
        let no = i as u32 + 1;
        let blank = line.chars().all(|c| c.is_whitespace());
        if !blank {
            assert!(
                headings.contains(&no) || mapped.contains(&no) || unmapped.contains(&no),
                "line {no} {line:?} is neither mapped nor reported"
            );
        }
    }
    // The sections keep the original text verbatim.
    let kept: String = report
        .sections
        .iter()
        .map(|s| s.original_text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let normalised: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            kept.contains(normalised.trim_start_matches(['-', '•', ' '])),
            "{line:?} not kept in the sections"
        );
    }
}

fn evidence_for<'a>(report: &'a pb::ImportReport, field: &str) -> &'a pb::MappedField {
    report
        .mapped_fields
        .iter()
        .find(|m| m.field == field)
        .unwrap_or_else(|| panic!("no mapped field {field}"))
}

db_tests!(verkko24_imports_as_a_draft_with_its_report);

async fn verkko24_imports_as_a_draft_with_its_report(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let document = fixture("verkko24.txt");
    let response = import(&mut editor, document.clone(), false).await.unwrap();
    let register = response.register.unwrap();
    assert_eq!(register.status(), pb::RegisterStatus::Draft);
    let report = response.report.unwrap();
    assert_eq!(report.language, "fi");
    assert_nothing_lost(&document, &report);

    // The draft holds what was recognised, and the report travels with it.
    let draft = get(
        &mut editor,
        &register.register_id,
        pb::VersionSelector::Draft,
        0,
    )
    .await
    .unwrap()
    .version
    .unwrap();
    assert_eq!(draft.created_by.unwrap().subject, "editor");
    assert_eq!(draft.import_report.as_ref().unwrap(), &report);
    let c = draft.content.unwrap();
    assert_eq!(c.name, "Verkko24.fi palveluiden käyttäjätietokanta");
    let controller = c.controller.clone().unwrap();
    assert_eq!(controller.name, "MMD Networks Oy");
    assert_eq!(controller.business_id.unwrap().value, "1654442-4");
    let address = controller.address.unwrap();
    assert_eq!(
        (
            address.lines,
            address.postal_code.as_str(),
            address.post_office.as_str()
        ),
        (vec!["Kihlmanninraitti 1 E".to_string()], "33100", "Tampere")
    );
    let contact = controller.contact.unwrap();
    assert_eq!(
        (contact.phone.as_str(), contact.email.as_str()),
        ("0600 - 555 808", "asiakaspalvelu@verkko24.fi")
    );
    assert_eq!(c.contact_person.clone().unwrap().name, "Vesa Heinonen");
    assert_eq!(c.legal_bases, [pb::LegalBasis::Contract as i32]);
    assert_eq!(c.legal_basis_description, "Asiakassuhde");
    assert_eq!(
        &c.purposes[..4],
        [
            "Laskutukseen ja maksujen perintään",
            "Markkinointiin",
            "Asiakassuhteen hoitamiseen ja kehittämiseen",
            "Tilastollisiin tarkoituksiin"
        ]
    );
    assert_eq!(c.data_categories.len(), 17);
    assert!(c.data_categories.iter().any(
        |d| d.description.ends_with("Yhteyshenkilön henkilötunnus") && d.national_identity_code
    ));
    assert_eq!(c.disclosures.len(), 1);
    assert!(!c.security.clone().unwrap().electronic_systems.is_empty());

    // It explains itself.
    assert!(
        evidence_for(&report, "controller.business_id")
            .evidence
            .contains("REKISTERINPITÄJÄ")
    );
    assert_eq!(evidence_for(&report, "controller.business_id").lines, [9]);
    let unmapped: Vec<&str> = report
        .unmapped_lines
        .iter()
        .map(|u| u.text.as_str())
        .collect();
    assert!(
        unmapped
            .iter()
            .any(|u| u.starts_with("Tietoja ei luovuteta EU:n ulkopuolelle, pois lukien")),
        "{unmapped:?}"
    );
}

#[tokio::test]
async fn mdo_group_sources_transfers_and_access() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let document = fixture("mdo-group.txt");
    let response = import(&mut editor, document.clone(), false).await.unwrap();
    let report = response.report.unwrap();
    assert_nothing_lost(&document, &report);
    let c = response.content.unwrap();
    assert_eq!(c.name, "MDO Group Oy:n MDO asiakastietokanta");
    let controller = c.controller.clone().unwrap();
    assert_eq!(
        (
            controller.name.as_str(),
            controller.business_id.unwrap().value.as_str()
        ),
        ("MDO Group Oy", "2477525-7")
    );
    let address = controller.address.unwrap();
    assert_eq!(
        (
            address.lines[0].as_str(),
            address.postal_code.as_str(),
            address.post_office.as_str()
        ),
        ("Sepänkatu 14 C 16", "40720", "JYVÄSKYLÄ")
    );
    assert_eq!(controller.contact.unwrap().phone, "+358 50 504 3028");
    assert_eq!(c.contact_person.clone().unwrap().name, "Kari Aho");
    assert_eq!(
        c.legal_bases,
        [
            pb::LegalBasis::Consent as i32,
            pb::LegalBasis::Contract as i32
        ]
    );
    assert_eq!(
        c.purposes[0],
        "Palveluun liittyvien asiakassuhteiden ylläpitämiseen, hoitamiseen ja kehittämiseen"
    );
    assert_eq!(c.data_categories.len(), 8);
    assert_eq!(
        c.data_categories[3].description,
        "Käyttäjätunnukset ja muut tunnistautumistiedot"
    );
    assert_eq!(c.sources.len(), 1);
    assert_eq!(c.sources[0].kind(), pb::DataSourceKind::DataSubject);
    assert_eq!(c.transfers_outside_eea(), pb::TransfersOutsideEea::None);
    assert!(
        c.rights
            .clone()
            .unwrap()
            .access
            .contains("oikeus tarkastaa")
    );
}

#[tokio::test]
async fn mainostakomo_labelled_lines_bullets_and_named_sources() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let document = fixture("mainostakomo.txt");
    let response = import(&mut editor, document.clone(), true).await.unwrap();
    assert!(response.register.is_none(), "a dry run creates nothing");
    let report = response.report.unwrap();
    assert_nothing_lost(&document, &report);
    let c = response.content.unwrap();
    assert_eq!(
        c.name,
        "Mainostakomon internetpalvelujen asiakastietorekisteri"
    );
    let controller = c.controller.clone().unwrap();
    assert_eq!(
        (
            controller.name.as_str(),
            controller.business_id.unwrap().value.as_str()
        ),
        ("Kotisivutaivas Oy", "2135102-9")
    );
    let contact = c.contact_person.clone().unwrap();
    assert_eq!(contact.contact.unwrap().email, "info@mainostakomo.com");
    assert_eq!(
        c.purposes,
        [
            "Mainostakomon palvelujen tuottamiseksi ja kehittämiseksi",
            "Laskutukseen",
            "Tekniseen tukeen",
            "Hallinnointiin",
            "Asiakassuhteiden hoitoon",
            "Vikatilanteista tiedottamiseen",
            "Suoramarkkinointiin"
        ]
    );
    assert_eq!(c.data_categories.len(), 6);
    let external: Vec<&str> = c
        .sources
        .iter()
        .filter(|s| s.kind() == pb::DataSourceKind::External)
        .map(|s| s.organisation_name.as_str())
        .collect();
    assert_eq!(
        external,
        [
            "YTJ (Yritys- ja yhteisötietojärjestelmä)",
            "Patentti ja rekisterihallituksen Yhdistysnetti",
            "Suomen Asiakastieto Oy",
            "Fonecta Oy"
        ]
    );
    assert_eq!(c.transfers_outside_eea(), pb::TransfersOutsideEea::None);
    assert!(
        c.security
            .clone()
            .unwrap()
            .manual_material
            .starts_with("Manuaalinen aineisto")
    );
    let listed = app
        .admin()
        .await
        .list_registers(pb::ListRegistersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.page.unwrap().total_size, 0);
}

#[tokio::test]
async fn other_organisations_documents_swedish_english_latin1_and_obfuscation() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut editor = app.client(tokens::EDITOR).await;

    // Numbered headings, an obfuscated email, a Windows-1252 encoding, retention in words.
    let finnish = "1. Rekisterinpitäjä\r\nPalvelimet Oy\r\nY-tunnus: 0112038-9\r\nPL 123, 00101 Helsinki\r\np. (09) 123 4567\r\ntuki @ palvelimet . net\r\n\r\n2. Rekisterin nimi\r\nAsiakasrekisteri\r\n\r\n3. Henkilötietojen käsittelyn oikeusperuste\r\nRekisterinpitäjän oikeutettu etu.\r\n\r\n4. Säännönmukaiset tietolähteet\r\nTietoja päivitetään Väestörekisterikeskuksen väestötietojärjestelmästä sekä Suomen Asiakastieto Oy:n luottotietorekisteristä.\r\n\r\n5. Tietojen säilytys\r\nTiedot säilytetään enintään kolme (3) vuotta asiakassuhteen päättymisestä.\r\n";
    let latin1: Vec<u8> = finnish
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let c = import(&mut editor, latin1, true)
        .await
        .unwrap()
        .content
        .unwrap();
    let controller = c.controller.clone().unwrap();
    assert_eq!(controller.name, "Palvelimet Oy");
    let contact = controller.contact.unwrap();
    assert_eq!(
        (contact.email.as_str(), contact.phone.as_str()),
        ("tuki@palvelimet.net", "(09) 123 4567")
    );
    assert_eq!(controller.address.unwrap().lines, ["PL 123"]);
    assert_eq!(c.legal_bases, [pb::LegalBasis::LegitimateInterests as i32]);
    let names: Vec<&str> = c
        .sources
        .iter()
        .map(|s| s.organisation_name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Suomen Asiakastieto Oy",
            "Väestötietojärjestelmä (Digi- ja väestötietovirasto)"
        ]
    );
    let retention = c.retention.clone().unwrap();
    assert_eq!(
        (retention.trigger(), retention.period, retention.unit()),
        (
            pb::RetentionTrigger::RelationshipEnd,
            3,
            pb::PeriodUnit::Years
        )
    );

    let swedish = "REGISTERBESKRIVNING\n\nPersonuppgiftsansvarig\nNamn: Exempel Ab\nFO-nummer: 2336509-6\n\nRegistrets namn\nKundregister\n\nÄndamålet med behandlingen av personuppgifter\n- Kundservice\n- Fakturering\n\nRättslig grund för behandlingen\nAvtal med kunden.\n\nLagringstid\nUppgifterna bevaras så länge kundförhållandet består.\n";
    let response = import(&mut editor, swedish.as_bytes().to_vec(), true)
        .await
        .unwrap();
    assert_eq!(response.report.unwrap().language, "sv");
    let c = response.content.unwrap();
    assert_eq!(
        (
            c.name.as_str(),
            c.controller
                .clone()
                .unwrap()
                .business_id
                .unwrap()
                .value
                .as_str()
        ),
        ("Kundregister", "2336509-6")
    );
    assert_eq!(c.purposes, ["Kundservice", "Fakturering"]);
    assert_eq!(c.legal_bases, [pb::LegalBasis::Contract as i32]);
    assert_eq!(
        c.retention.clone().unwrap().trigger(),
        pb::RetentionTrigger::RelationshipDuration
    );

    let english = "# Privacy notice\n\n## Controller\nName: Example Ltd\nEmail: privacy(at)example.com\n\n## Name of the register\nNewsletter subscribers\n\n## Purposes of processing\nSending the newsletter.\n\n## Legal basis for processing\nConsent of the data subject.\n\n## Transfers outside the EU/EEA\nThe data is transferred to the United States under the standard contractual clauses.\n";
    let c = import(&mut editor, english.as_bytes().to_vec(), true)
        .await
        .unwrap()
        .content
        .unwrap();
    assert_eq!(
        c.controller.clone().unwrap().contact.unwrap().email,
        "privacy@example.com"
    );
    assert_eq!(c.purposes, ["Sending the newsletter"]);
    assert_eq!(c.legal_bases, [pb::LegalBasis::Consent as i32]);
    assert_eq!(c.transfers_outside_eea(), pb::TransfersOutsideEea::Some);
    assert_eq!(
        (
            c.transfers[0].country_code.as_str(),
            c.transfers[0].safeguard()
        ),
        ("US", pb::TransferSafeguard::StandardContractualClauses)
    );
}

#[tokio::test]
async fn malformed_documents_get_a_clear_error_or_an_all_unmapped_report() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut editor = app.client(tokens::EDITOR).await;
    for (document, message) in [
        (Vec::new(), "empty"),
        (b"\n \n\t".to_vec(), "empty"),
        (
            vec![
                0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0, 1, 2, 3, 0, 0, 0xff, 0xfe,
            ],
            "binary",
        ),
        (vec![b'a'; 3 * 1024 * 1024], "2 MiB"),
    ] {
        let err = import(&mut editor, document, false).await.unwrap_err();
        assert_eq!(
            (err.code(), violated_fields(&err)),
            (Code::InvalidArgument, vec!["document".to_string()])
        );
        assert!(err.message().contains(message), "{}", err.message());
    }
    let letter = "Hei Matti,\n\nkiitos viimeisestä. Nähdään ensi viikolla!\n\nTerveisin Liisa\n";
    let response = import(&mut editor, letter.as_bytes().to_vec(), false)
        .await
        .unwrap();
    let report = response.report.unwrap();
    assert!(report.mapped_fields.is_empty());
    assert_eq!(report.unmapped_lines.len(), 3);
    assert_nothing_lost(letter.as_bytes(), &report);

    let err = app
        .client(tokens::READER)
        .await
        .import_register(pb::ImportRegisterRequest {
            document: fixture("verkko24.txt"),
            source_name: String::new(),
            dry_run: true,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

fn document(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test]
async fn a_modern_finnish_tietosuojaseloste() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let bytes = document("esimerkki-tietosuojaseloste.txt");
    let response = import(&mut editor, bytes.clone(), true).await.unwrap();
    let report = response.report.unwrap();
    assert_nothing_lost(&bytes, &report);
    let kinds: Vec<&str> = report.sections.iter().map(|s| s.kind.as_str()).collect();
    assert!(kinds.contains(&"purposes_and_legal_basis"), "{kinds:?}");
    let c = response.content.unwrap();
    let controller = c.controller.clone().unwrap();
    assert_eq!(
        (
            controller.name.as_str(),
            controller.business_id.unwrap().value.as_str()
        ),
        ("Esimerkki Oy", "0112038-9")
    );
    assert_eq!(controller.contact.unwrap().phone, "09 1234 5678");
    let contact = c.contact_person.clone().unwrap();
    assert_eq!(
        (
            contact.name.as_str(),
            contact.contact.unwrap().email.as_str()
        ),
        ("Matti Meikäläinen", "tietosuoja@esimerkki.fi")
    );
    assert_eq!(
        c.purposes,
        [
            "Asiakassuhteen hoitamiseksi",
            "Tilausten toimittamiseksi",
            "Markkinointiin"
        ]
    );
    assert_eq!(
        c.legal_bases,
        [
            pb::LegalBasis::Contract as i32,
            pb::LegalBasis::LegitimateInterests as i32
        ]
    );
    let descriptions: Vec<&str> = c
        .data_categories
        .iter()
        .map(|d| d.description.as_str())
        .collect();
    assert_eq!(
        descriptions,
        [
            "Nimi",
            "Sähköpostiosoite",
            "Puhelinnumero",
            "Osoite",
            "Tilaushistoria"
        ]
    );
    assert_eq!(c.sources.len(), 2);
    assert_eq!(c.sources[1].organisation_name, "Posti Oy:n osoitepalvelu");
    assert!(c.disclosures.is_empty());
    assert_eq!(c.transfers_outside_eea(), pb::TransfersOutsideEea::None);
    let retention = c.retention.clone().unwrap();
    assert_eq!(
        (retention.trigger(), retention.period, retention.unit()),
        (
            pb::RetentionTrigger::RelationshipEnd,
            2,
            pb::PeriodUnit::Years
        )
    );
    let security = c.security.clone().unwrap();
    assert!(security.manual_material.starts_with("Paperiset asiakirjat"));
    assert!(security.electronic_systems.starts_with("Sähköiset tiedot"));
    let rights = c.rights.clone().unwrap();
    assert!(rights.access.contains("tietosuoja@esimerkki.fi"));
    assert!(rights.marketing_prohibition.contains("suoramarkkinointiin"));
    let complaint = report
        .unmapped_lines
        .iter()
        .find(|u| u.text.contains("valitus"))
        .unwrap();
    assert!(complaint.reason.contains("complain"));
}

#[tokio::test]
async fn an_english_markdown_privacy_policy_with_question_headings() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut editor = app.client(tokens::EDITOR).await;
    let bytes = document("example-privacy-policy.md");
    let response = import(&mut editor, bytes.clone(), false).await.unwrap();
    let report = response.report.unwrap();
    assert_eq!(report.language, "en");
    assert_nothing_lost(&bytes, &report);
    assert_eq!(
        report.unmapped_lines.len(),
        1,
        "{:?}",
        report.unmapped_lines
    );
    let c = response.content.unwrap();
    let controller = c.controller.clone().unwrap();
    assert_eq!(controller.name, "Example Analytics Ltd");
    assert_eq!(
        controller.contact.unwrap().email,
        "privacy@example-analytics.com"
    );
    assert_eq!(
        c.contact_person.clone().unwrap().role,
        "Data Protection Officer"
    );
    assert_eq!(c.purposes.len(), 3);
    assert_eq!(
        c.legal_bases,
        [
            pb::LegalBasis::Consent as i32,
            pb::LegalBasis::Contract as i32
        ]
    );
    assert!(
        c.data_categories
            .iter()
            .any(|d| d.description == "Company name and business ID" && d.company_data)
    );
    assert!(c.sources.iter().any(|s| {
        s.organisation_business_id
            .as_ref()
            .is_some_and(|b| b.value == "0244683-1")
    }));
    let transfer = &c.transfers[0];
    assert_eq!(
        (transfer.country_code.as_str(), transfer.safeguard()),
        ("US", pb::TransferSafeguard::AdequacyDecision)
    );
    let retention = c.retention.clone().unwrap();
    assert_eq!(
        (retention.period, retention.unit()),
        (24, pb::PeriodUnit::Months)
    );
    // Imported drafts can be completed and published like any other.
    let id = response.register.unwrap().register_id;
    let err = editor
        .publish_register(pb::PublishRegisterRequest {
            etag: String::new(),
            register_id: id,
            expected_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "an editor may import but not publish"
    );
}
