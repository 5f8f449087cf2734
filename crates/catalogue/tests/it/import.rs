//! Importing a real rekisteriseloste over gRPC: the draft, its report and the errors. What the
//! importer reads from documents is tested in `rekisteri-register`, without services.

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
            ..Default::default()
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
    assert!(
        c.data_categories
            .iter()
            .any(|d| d.description == "Yhteyshenkilön henkilötunnus" && d.national_identity_code)
    );
    // "within the limits of the law" names no recipient, and none is invented.
    assert!(c.disclosures.is_empty());
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
    // A letter is no register: it does not become an empty draft, and a dry run shows why.
    let err = import(&mut editor, letter.as_bytes().to_vec(), false)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), violated_fields(&err)),
        (Code::InvalidArgument, vec!["document".to_string()])
    );
    assert!(err.message().contains("nothing in it reads as a register"));
    let response = import(&mut editor, letter.as_bytes().to_vec(), true)
        .await
        .unwrap();
    let report = response.report.unwrap();
    assert!(report.mapped_fields.is_empty());
    assert_eq!(report.unmapped_lines.len(), 3);
    assert_nothing_lost(letter.as_bytes(), &report);
    let listed = app
        .admin()
        .await
        .list_registers(pb::ListRegistersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.page.unwrap().total_size, 0, "nothing was created");

    let err = app
        .client(tokens::READER)
        .await
        .import_register(pb::ImportRegisterRequest {
            document: fixture("verkko24.txt"),
            source_name: String::new(),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}
