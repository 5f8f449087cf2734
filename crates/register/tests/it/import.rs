//! Importing register documents, without services: the real seed documents and documents of
//! other layouts, encodings and languages.

use std::collections::BTreeSet;
use std::path::Path;

use rekisteri_register::content::{
    DataSourceKind, LegalBasis, PeriodUnit, RetentionTrigger, TransferSafeguard,
    TransfersOutsideEea,
};
use rekisteri_register::evaluate::{Evaluation, Expected};
use rekisteri_register::import::{ImportError, ImportReport, Imported, import};

fn read(dir: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn imported(dir: &str, name: &str) -> (Vec<u8>, Imported) {
    let bytes = read(dir, name);
    let imported = import(&bytes, name).unwrap();
    assert_nothing_lost(&bytes, &imported.report);
    (bytes, imported)
}

/// Every non-empty line of the input is a heading, a line a field came from, or reported
/// unmapped, and the sections keep the original text.
fn assert_nothing_lost(document: &[u8], report: &ImportReport) {
    let text = String::from_utf8_lossy(document);
    let headings: BTreeSet<u32> = report
        .sections
        .iter()
        .filter(|s| !s.heading.is_empty())
        .map(|s| s.line)
        .collect();
    let mapped: BTreeSet<u32> = report
        .mapped
        .iter()
        .flat_map(|m| m.lines.iter().copied())
        .collect();
    let unmapped: BTreeSet<u32> = report.unmapped.iter().map(|u| u.line).collect();
    for (i, line) in text.lines().enumerate() {
        let no = i as u32 + 1;
        if !line.chars().all(char::is_whitespace) {
            assert!(
                headings.contains(&no) || mapped.contains(&no) || unmapped.contains(&no),
                "line {no} {line:?} is neither mapped nor reported"
            );
        }
    }
    let kept: String = report
        .sections
        .iter()
        .map(|s| s.original_text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    if !text.contains('<') {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let normalised: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                kept.contains(normalised.trim_start_matches(['-', '•', ' '])),
                "{line:?} not kept in the sections"
            );
        }
    }
}

/// What the issue asks of each of the five real documents: controller, business ID, register
/// name, every itemised purpose, every named external source, the retention rule and transfers
/// exactly as the document states them. Nothing of these wrong, nothing missing.
#[test]
fn every_seed_document_imports_with_its_stated_facts_and_nothing_invented() {
    const KINDS: &[&str] = &[
        "controller.name",
        "controller.business_id",
        "name",
        "purposes",
        "external_sources",
        "external_sources.supplies",
        "retention",
        "transfers_outside_eea",
        "transfers",
    ];
    for seed in [
        "verkko24",
        "mdo-group",
        "mainostakomo",
        "iljoja",
        "i-mediat",
    ] {
        let name = format!("seed-{seed}.txt");
        let (_, imported) = imported("evaluation", &name);
        let expected: Expected =
            serde_yaml::from_slice(&read("evaluation", &format!("seed-{seed}.expected.yaml")))
                .unwrap();
        let mut evaluation = Evaluation::default();
        evaluation.add(
            &name,
            &imported.report.language,
            &imported.content,
            &expected,
        );
        let off: Vec<String> = evaluation
            .wrong
            .iter()
            .map(|m| format!("wrong {}: {}", m.kind, m.value))
            .chain(
                evaluation
                    .missed
                    .iter()
                    .map(|m| format!("missing {}: {}", m.kind, m.value)),
            )
            .filter(|m| KINDS.iter().any(|k| m.contains(&format!(" {k}: "))))
            .collect();
        assert!(off.is_empty(), "{name}: {off:#?}");
    }
}

#[test]
fn the_failures_seen_on_unseen_documents_do_not_come_back() {
    // External sources under a sub-heading inside the sources section are sources, not the
    // legal basis.
    let (_, iljoja) = imported("evaluation", "seed-iljoja.txt");
    let c = &iljoja.content;
    assert!(c.legal_bases.is_empty(), "{:?}", c.legal_bases);
    let fonecta = c
        .sources
        .iter()
        .find(|s| s.organisation_name == "Fonecta Oy")
        .unwrap();
    assert_eq!(fonecta.kind, DataSourceKind::External);
    assert!(fonecta.supplies.starts_with("Asiakkaan muut tiedot"));
    // A connective fragment is not a purpose; the purposes are the items.
    assert_eq!(c.purposes.len(), 6, "{:?}", c.purposes);
    assert!(c.purposes.iter().all(|p| !p.contains("muun muassa")));
    // A transfer outside the EU/EEA that names no country: the answer, no invented country.
    assert_eq!(c.transfers_outside_eea, Some(TransfersOutsideEea::Some));
    assert!(c.transfers.is_empty());

    let (_, mediat) = imported("evaluation", "seed-i-mediat.txt");
    let c = &mediat.content;
    // Sources named inside a prose sentence are each a source of their own.
    let names: Vec<&str> = c
        .sources
        .iter()
        .filter(|s| s.kind == DataSourceKind::External)
        .map(|s| s.organisation_name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Väestötietojärjestelmä",
            "Kaupparekisteri",
            "Luottotietorekisterit",
            "ASML Suomen Asiakkuusmarkkinointiliiton ylläpitämät kieltorekisterit"
        ]
    );
    // "at least for the relationship, but at most three years after it ends": the maximum.
    let retention = c.retention.clone().unwrap();
    assert_eq!(
        (retention.trigger, retention.period, retention.unit),
        (
            RetentionTrigger::RelationshipEnd,
            3,
            Some(PeriodUnit::Years)
        )
    );
    // The retention sentence under the data content is retention, the list's introduction is
    // no category, and "luovuttamatta ... ulkopuoliselle taholle" names no transfer.
    assert_eq!(c.data_categories.len(), 7, "{:?}", c.data_categories);
    assert!(
        c.data_categories
            .iter()
            .all(|d| !d.description.contains("säilytetään") && !d.description.ends_with(':'))
    );
    assert_eq!(c.transfers_outside_eea, Some(TransfersOutsideEea::None));
    assert!(c.transfers.is_empty());
    // The address pattern "etunimi.sukunimi@..." is no one's address.
    assert!(c.contact_person.email.is_empty());
    let reasons: Vec<&str> = mediat
        .report
        .unmapped
        .iter()
        .map(|u| u.reason.as_str())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("pattern for addresses")));
}

#[test]
fn verkko24_categories_under_group_labels_and_what_it_leaves_unmapped() {
    let (_, verkko24) = imported("evaluation", "seed-verkko24.txt");
    let c = &verkko24.content;
    assert_eq!(c.controller.address.lines, ["Kihlmanninraitti 1 E"]);
    assert_eq!(
        (
            c.controller.address.postal_code.as_str(),
            c.controller.address.post_office.as_str()
        ),
        ("33100", "Tampere")
    );
    assert_eq!(c.legal_bases, [LegalBasis::Contract]);
    assert_eq!(c.data_categories.len(), 17);
    assert!(
        c.data_categories
            .iter()
            .any(|d| d.description == "Yhteyshenkilön henkilötunnus" && d.national_identity_code)
    );
    // "within the limits of the law" names no recipient: none is invented.
    assert!(c.disclosures.is_empty());
    let unmapped: Vec<&str> = verkko24
        .report
        .unmapped
        .iter()
        .map(|u| u.text.as_str())
        .collect();
    assert!(
        unmapped
            .iter()
            .any(|u| u.starts_with("Tietoja ei luovuteta EU:n ulkopuolelle, pois lukien")),
        "{unmapped:?}"
    );
    assert!(c.transfers_outside_eea.is_none());
}

#[test]
fn other_layouts_encodings_and_languages() {
    // Numbered headings, an obfuscated email, a Windows-1252 encoding, retention in words.
    let finnish = "1. Rekisterinpitäjä\r\nPalvelimet Oy\r\nY-tunnus: 0112038-9\r\nPL 123, 00101 Helsinki\r\np. (09) 123 4567\r\ntuki @ palvelimet . net\r\n\r\n2. Rekisterin nimi\r\nAsiakasrekisteri\r\n\r\n3. Henkilötietojen käsittelyn oikeusperuste\r\nRekisterinpitäjän oikeutettu etu.\r\n\r\n4. Säännönmukaiset tietolähteet\r\nTietoja päivitetään Väestörekisterikeskuksen väestötietojärjestelmästä sekä Suomen Asiakastieto Oy:n luottotietorekisteristä.\r\n\r\n5. Tietojen säilytys\r\nTiedot säilytetään enintään kolme (3) vuotta asiakassuhteen päättymisestä.\r\n";
    let latin1: Vec<u8> = finnish
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let c = import(&latin1, "latin1.txt").unwrap().content;
    assert_eq!(c.controller.name, "Palvelimet Oy");
    assert_eq!(
        (c.controller.email.as_str(), c.controller.phone.as_str()),
        ("tuki@palvelimet.net", "(09) 123 4567")
    );
    assert_eq!(c.controller.address.lines, ["PL 123"]);
    assert_eq!(c.legal_bases, [LegalBasis::LegitimateInterests]);
    let names: Vec<&str> = c
        .sources
        .iter()
        .map(|s| s.organisation_name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Väestörekisterikeskuksen väestötietojärjestelmä",
            "Suomen Asiakastieto Oy:n luottotietorekisteri"
        ]
    );
    let retention = c.retention.clone().unwrap();
    assert_eq!(
        (retention.trigger, retention.period, retention.unit),
        (
            RetentionTrigger::RelationshipEnd,
            3,
            Some(PeriodUnit::Years)
        )
    );

    let swedish = "REGISTERBESKRIVNING\n\nPersonuppgiftsansvarig\nNamn: Exempel Ab\nFO-nummer: 2336509-6\n\nRegistrets namn\nKundregister\n\nÄndamålet med behandlingen av personuppgifter\n- Kundservice\n- Fakturering\n\nRättslig grund för behandlingen\nAvtal med kunden.\n\nLagringstid\nUppgifterna bevaras så länge kundförhållandet består.\n";
    let imported = import(swedish.as_bytes(), "sv.txt").unwrap();
    assert_eq!(imported.report.language, "sv");
    let c = imported.content;
    assert_eq!(
        (
            c.name.as_str(),
            c.controller.business_id.unwrap().to_string().as_str()
        ),
        ("Kundregister", "2336509-6")
    );
    assert_eq!(c.purposes, ["Kundservice", "Fakturering"]);
    assert_eq!(c.legal_bases, [LegalBasis::Contract]);
    assert_eq!(
        c.retention.unwrap().trigger,
        RetentionTrigger::RelationshipDuration
    );

    let english = "# Privacy notice\n\n## Controller\nName: Example Ltd\nEmail: privacy(at)example.com\n\n## Name of the register\nNewsletter subscribers\n\n## Purposes of processing\nSending the newsletter.\n\n## Legal basis for processing\nConsent of the data subject.\n\n## Transfers outside the EU/EEA\nThe data is transferred to the United States under the standard contractual clauses.\n";
    let c = import(english.as_bytes(), "en.md").unwrap().content;
    assert_eq!(c.controller.email, "privacy@example.com");
    assert_eq!(c.purposes, ["Sending the newsletter"]);
    assert_eq!(c.legal_bases, [LegalBasis::Consent]);
    assert_eq!(c.transfers_outside_eea, Some(TransfersOutsideEea::Some));
    assert_eq!(
        (
            c.transfers[0].country_code.as_str(),
            c.transfers[0].safeguard
        ),
        ("US", TransferSafeguard::StandardContractualClauses)
    );
}

#[test]
fn malformed_documents_get_a_clear_error_or_an_all_unmapped_report() {
    assert_eq!(import(b"", "x").unwrap_err(), ImportError::Empty);
    assert_eq!(import(b"\n \n\t", "x").unwrap_err(), ImportError::Empty);
    let png = [
        0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0, 1, 2, 3, 0, 0, 0xff, 0xfe,
    ];
    assert_eq!(import(&png, "x").unwrap_err(), ImportError::Binary);
    assert!(matches!(
        import(&vec![b'a'; 3 * 1024 * 1024], "x").unwrap_err(),
        ImportError::TooLarge(_)
    ));
    let letter = "Hei Matti,\n\nkiitos viimeisestä. Nähdään ensi viikolla!\n\nTerveisin Liisa\n";
    let imported = import(letter.as_bytes(), "letter.txt").unwrap();
    assert!(imported.report.mapped.is_empty());
    assert_eq!(imported.report.unmapped.len(), 3);
    assert_nothing_lost(letter.as_bytes(), &imported.report);
}

#[test]
fn a_modern_finnish_tietosuojaseloste() {
    let (_, imported) = imported("documents", "esimerkki-tietosuojaseloste.txt");
    let report = &imported.report;
    let kinds: Vec<&str> = report.sections.iter().map(|s| s.kind.as_str()).collect();
    assert!(kinds.contains(&"purposes_and_legal_basis"), "{kinds:?}");
    let c = &imported.content;
    assert_eq!(
        (
            c.controller.name.as_str(),
            c.controller.business_id.as_ref().unwrap().as_str()
        ),
        ("Esimerkki Oy", "0112038-9")
    );
    assert_eq!(c.controller.phone, "09 1234 5678");
    assert_eq!(
        (
            c.contact_person.name.as_str(),
            c.contact_person.email.as_str()
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
        [LegalBasis::Contract, LegalBasis::LegitimateInterests]
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
    assert!(c.disclosures.is_empty());
    assert_eq!(c.transfers_outside_eea, Some(TransfersOutsideEea::None));
    let retention = c.retention.clone().unwrap();
    assert_eq!(
        (retention.trigger, retention.period, retention.unit),
        (
            RetentionTrigger::RelationshipEnd,
            2,
            Some(PeriodUnit::Years)
        )
    );
    assert!(
        c.security
            .manual_material
            .starts_with("Paperiset asiakirjat")
    );
    assert!(
        c.security
            .electronic_systems
            .starts_with("Sähköiset tiedot")
    );
    assert!(c.rights.access.contains("tietosuoja@esimerkki.fi"));
    assert!(
        c.rights
            .marketing_prohibition
            .contains("suoramarkkinointiin")
    );
    let complaint = report
        .unmapped
        .iter()
        .find(|u| u.text.contains("valitus"))
        .unwrap();
    assert!(complaint.reason.contains("complain"));
}

#[test]
fn an_english_markdown_privacy_policy_with_question_headings() {
    let (_, imported) = imported("documents", "example-privacy-policy.md");
    assert_eq!(imported.report.language, "en");
    let c = &imported.content;
    assert_eq!(c.controller.name, "Example Analytics Ltd");
    assert_eq!(c.controller.email, "privacy@example-analytics.com");
    assert_eq!(c.contact_person.role, "Data Protection Officer");
    assert_eq!(c.purposes.len(), 3);
    assert_eq!(c.legal_bases, [LegalBasis::Consent, LegalBasis::Contract]);
    assert!(
        c.data_categories
            .iter()
            .any(|d| d.description == "Company name and business ID" && d.company_data)
    );
    let transfer = &c.transfers[0];
    assert_eq!(
        (transfer.country_code.as_str(), transfer.safeguard),
        ("US", TransferSafeguard::AdequacyDecision)
    );
    let retention = c.retention.clone().unwrap();
    assert_eq!(
        (retention.period, retention.unit),
        (24, Some(PeriodUnit::Months))
    );
}

#[test]
fn letters_whose_lower_case_is_longer_or_shorter_do_not_break_the_import() {
    for document in [
        "Rekisterin nimi\nẞé on Asiakasrekisteri\n",
        "Rekisterin nimi\nİİİ on İİ\n",
        "Rekisterinpitäjä\nNimi: İsmail Oy\nY-tunnus: 0112038-9\n",
    ] {
        let imported = import(document.as_bytes(), "x").unwrap();
        assert_nothing_lost(document.as_bytes(), &imported.report);
    }
    let c = import("Rekisterinpitäjä\nNimi: İsmail Oy\n".as_bytes(), "x")
        .unwrap()
        .content;
    assert_eq!(c.controller.name, "İsmail Oy");
}

#[test]
fn a_list_longer_than_a_register_holds_is_cut_and_reported() {
    let mut document = String::from("Rekisterin tietosisältö\n");
    for i in 0..2000 {
        // The same line again and again, and as many different ones.
        document.push_str(if i % 2 == 0 { "- Nimi\n" } else { "- Osoite\n" });
    }
    let imported = import(document.as_bytes(), "x").unwrap();
    assert_eq!(imported.content.data_categories.len(), 500);
    let keys: BTreeSet<&str> = imported
        .content
        .data_categories
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(keys.len(), 500, "every key is its own");
    assert!(
        imported
            .report
            .unmapped
            .iter()
            .any(|u| u.reason.contains("at most 500")),
        "the cut is reported"
    );
    assert!(
        imported.report.mapped.iter().all(|m| {
            m.field
                .strip_prefix("data_categories[")
                .and_then(|i| i.trim_end_matches(']').parse::<usize>().ok())
                .is_none_or(|i| i < 500)
        }),
        "no field of the report names an item that was cut"
    );
    imported.content.check().unwrap();
}

#[test]
fn a_utf16_document_as_notepad_saves_it_imports() {
    let text = "Rekisterin nimi\r\nAsiakasrekisteri\r\n";
    for (bom, unit) in [
        (&[0xff, 0xfe][..], u16::to_le_bytes as fn(u16) -> [u8; 2]),
        (&[0xfe, 0xff][..], u16::to_be_bytes),
    ] {
        let mut bytes = bom.to_vec();
        bytes.extend(text.encode_utf16().flat_map(unit));
        let imported = import(&bytes, "utf16.txt").unwrap();
        assert_eq!(imported.content.name, "Asiakasrekisteri");
    }
}
