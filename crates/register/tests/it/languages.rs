//! Registers in Finnish, Swedish and English: translations added from a document of the same
//! register, notices in each language, and publishing that requires a set of languages.

use std::path::Path;

use chrono::{TimeZone, Utc};
use rekisteri_register::RegisterContent;
use rekisteri_register::content::Translation;
use rekisteri_register::import::import;
use rekisteri_register::notice::{Format, Lang, Layout, render};

fn document(name: &str) -> RegisterContent {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/documents")
        .join(name);
    let bytes = std::fs::read(&path).unwrap();
    import(&bytes, name).unwrap().content
}

/// The library's register written in Finnish, with its Swedish document added as the Swedish
/// translation.
fn bilingual() -> RegisterContent {
    let mut register = document("kirjasto-tietosuojaseloste.txt");
    assert_eq!(register.primary_language(), "fi");
    let swedish = document("kirjasto-dataskyddsbeskrivning.txt");
    assert_eq!(swedish.language, "sv");
    let notes = register.add_translation("sv", &swedish);
    assert!(
        notes.iter().all(|n| n.reason.is_none()),
        "every list of the Swedish document lines up: {notes:?}"
    );
    register.check().expect("the translated register is valid")
}

#[test]
fn a_swedish_document_adds_the_swedish_texts_to_a_finnish_register() {
    let register = bilingual();
    let sv = &register.translations["sv"];
    assert_eq!(sv.name, "Stadsbibliotekets kundregister");
    assert_eq!(
        sv.purposes,
        [
            "Skötsel av lån och reserveringar",
            "Indrivning av kundavgifter",
            "Information om bibliotekets evenemang"
        ]
    );
    // Categories by their keys, which stay the Finnish draft's.
    let key = &register.data_categories[1].key;
    assert_eq!(register.data_categories[1].description, "Syntymäaika");
    assert_eq!(sv.data_categories[key], "Födelsedatum");
    // A source is the same organisation in both documents; what it supplies is translated.
    let external = register
        .sources
        .iter()
        .position(|s| s.organisation_name == "Digi- ja väestötietovirasto")
        .unwrap();
    assert_eq!(
        sv.source_supplies[external],
        "uppdateringar av adressuppgifter"
    );
    // The register's own texts are untouched.
    assert_eq!(register.name, "Kaupunginkirjaston asiakasrekisteri");
    assert_eq!(register.purposes[0], "Lainauksen ja varausten hoitaminen");
}

#[test]
fn a_swedish_notice_has_swedish_content_and_says_what_exists_only_in_finnish() {
    let mut register = bilingual();
    let published = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let swedish = render(
        &register,
        1,
        published,
        Lang::Sv,
        Layout::Gdpr,
        Format::Html,
    );
    for text in [
        "Stadsbibliotekets kundregister",
        "Skötsel av lån och reserveringar",
        "Födelsedatum",
        "Personuppgiftsansvarig",
    ] {
        assert!(swedish.contains(text), "{text:?} missing:\n{swedish}");
    }
    for finnish in [
        "Kaupunginkirjaston",
        "Lainauksen ja varausten",
        "Syntymäaika",
    ] {
        assert!(
            !swedish.contains(finnish),
            "{finnish:?} in the Swedish notice"
        );
    }
    assert!(!swedish.contains("endast på finska"), "{swedish}");
    // A text with no Swedish yet is shown in Finnish, and says so.
    register.purposes.push("Kaukolainojen välittäminen".into());
    let swedish = render(
        &register,
        1,
        published,
        Lang::Sv,
        Layout::Gdpr,
        Format::Html,
    );
    assert!(
        swedish.contains("Kaukolainojen välittäminen (endast på finska)"),
        "{swedish}"
    );
    // The Finnish notice is the register's own text, unmarked; English has no texts yet.
    let finnish = render(
        &register,
        1,
        published,
        Lang::Fi,
        Layout::Gdpr,
        Format::Text,
    );
    assert!(finnish.contains("Lainauksen ja varausten hoitaminen"));
    assert!(!finnish.contains("(vain"));
    let english = render(
        &register,
        1,
        published,
        Lang::En,
        Layout::Gdpr,
        Format::Text,
    );
    assert!(english.contains("Kaupunginkirjaston asiakasrekisteri (in Finnish only)"));
}

#[test]
fn publishing_can_require_every_text_in_a_set_of_languages() {
    let mut register = bilingual();
    register.required_languages = vec!["fi".into(), "sv".into()];
    assert!(
        register.completeness().is_empty(),
        "{}",
        register.completeness()
    );
    register.purposes.push("Kaukolainojen välittäminen".into());
    register.required_languages.push("en".into());
    let gaps = register.completeness();
    let fields: Vec<&str> = gaps.iter().map(|v| v.field.as_str()).collect();
    assert!(
        fields.contains(&"translations.sv.purposes[3]"),
        "{fields:?}"
    );
    assert!(fields.contains(&"translations.en"), "{fields:?}");
    assert!(
        gaps.iter()
            .all(|v| v.description.contains("requires Swedish")
                || v.description.contains("requires English")),
        "{gaps}"
    );
}

#[test]
fn lists_of_another_length_are_not_matched_by_guessing() {
    let mut register = document("kirjasto-tietosuojaseloste.txt");
    let mut swedish = document("kirjasto-dataskyddsbeskrivning.txt");
    swedish.purposes.pop();
    let notes = register.add_translation("sv", &swedish);
    let refused: Vec<&str> = notes
        .iter()
        .filter(|n| n.reason.is_some())
        .map(|n| n.field.as_str())
        .collect();
    assert_eq!(refused, ["translations.sv.purposes"]);
    assert!(register.translations["sv"].purposes.is_empty());
    assert_eq!(
        register.translations["sv"].name,
        "Stadsbibliotekets kundregister"
    );
}

#[test]
fn translations_follow_the_register_and_name_known_languages() {
    let mut register = bilingual();
    register.translations.insert(
        "de".into(),
        Translation {
            name: "Kundenregister".into(),
            ..Translation::default()
        },
    );
    let sv = register.translations.get_mut("sv").unwrap();
    sv.purposes.push("one more".into());
    sv.data_categories.insert("no_such_key".into(), "x".into());
    register.required_languages = vec!["sv".into(), "sv".into()];
    let fields: Vec<String> = register
        .check()
        .unwrap_err()
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(
        fields,
        [
            "required_languages[1]",
            "translations.de",
            "translations.sv.purposes[3]",
            "translations.sv.data_categories.no_such_key"
        ]
    );
}

#[test]
fn a_single_language_register_reads_and_writes_as_before() {
    let register = document("kirjasto-tietosuojaseloste.txt");
    let json = serde_json::to_value(&register).unwrap();
    for key in ["language", "translations", "required_languages"] {
        assert!(
            json.get(key).is_none(),
            "{key} written for a Finnish-only register"
        );
    }
    let back: RegisterContent = serde_json::from_value(json).unwrap();
    assert_eq!(back, register);
    let (same, marked) = register.in_language(Lang::Fi);
    assert_eq!((same, marked), (register.clone(), 0));
}

#[test]
fn translations_follow_edits_of_the_register_s_own_texts() {
    let previous = bilingual();
    // The editor moves the last purpose first, rewrites the first category and sends the
    // translations back as they were.
    let mut edited = previous.clone();
    let last = edited.purposes.pop().unwrap();
    edited.purposes.insert(0, last);
    edited.data_categories[0].description = "Nimi, osoite ja puhelinnumero".into();
    edited.carry_translations(&previous, false);
    let sv = &edited.translations["sv"];
    assert_eq!(
        sv.purposes,
        [
            "Information om bibliotekets evenemang",
            "Skötsel av lån och reserveringar",
            "Indrivning av kundavgifter"
        ],
        "each translation moved with its purpose"
    );
    let first_key = &edited.data_categories[0].key;
    assert!(
        !sv.data_categories.contains_key(first_key),
        "a rewritten text loses its old translation"
    );
    let (swedish, marked) = edited.in_language(Lang::Sv);
    assert_eq!(marked, 1);
    assert_eq!(
        swedish.data_categories[0].description,
        "Nimi, osoite ja puhelinnumero (endast på finska)"
    );

    // A client that knows no languages sends none: the register keeps them.
    let mut old_client = previous.clone();
    old_client.language.clear();
    old_client.translations.clear();
    old_client.required_languages.clear();
    old_client.carry_translations(&previous, false);
    assert_eq!(old_client.translations, previous.translations);
    // Unless told to take the content exactly as sent.
    let mut cleared = previous.clone();
    cleared.translations.clear();
    cleared.carry_translations(&previous, true);
    assert!(cleared.translations.is_empty());
}

#[test]
fn an_edit_of_both_languages_keeps_what_the_editor_wrote_and_drops_what_went_stale() {
    let previous = bilingual();
    // The editor rewrites the first Finnish purpose, corrects the second Swedish one, and
    // deletes the third purpose in Finnish only, sending the rest back as read.
    let mut edited = previous.clone();
    edited.purposes[0] = "Lainojen ja varausten hoitaminen".into();
    edited.purposes.remove(2);
    edited.translations.get_mut("sv").unwrap().purposes[1] = "Indrivning av avgifter".into();
    edited.carry_translations(&previous, false);
    let edited = edited
        .check()
        .expect("a deleted purpose takes its translation with it");
    assert_eq!(
        edited.translations["sv"].purposes,
        ["", "Indrivning av avgifter"],
        "the rewritten purpose's translation went stale; the corrected one is kept"
    );
}

#[test]
fn a_document_s_items_are_used_once_and_only_where_the_register_has_a_text() {
    let mut register = document("kirjasto-tietosuojaseloste.txt");
    register.security.manual_material.clear();
    let mut swedish = document("kirjasto-dataskyddsbeskrivning.txt");
    swedish.security.manual_material = "Papper förvaras i ett låst skåp.".into();
    // The Swedish document lists its sources the other way round.
    swedish.sources.reverse();
    register.add_translation("sv", &swedish);
    let sv = &register.translations["sv"];
    assert!(
        sv.security_manual_material.is_empty(),
        "no translation of a text the register does not have"
    );
    let external = register
        .sources
        .iter()
        .position(|s| s.kind == rekisteri_register::content::DataSourceKind::External)
        .unwrap();
    assert_eq!(
        sv.source_supplies[external], "uppdateringar av adressuppgifter",
        "matched by the organisation, not by position"
    );
    let subject = 1 - external;
    assert!(
        sv.source_supplies
            .get(subject)
            .is_none_or(|s| !s.contains("adress")),
        "{:?}",
        sv.source_supplies
    );
    // A translation of a text the register does not have is refused.
    let mut c = bilingual();
    c.translations
        .get_mut("sv")
        .unwrap()
        .security_manual_material = "x".into();
    c.security.manual_material.clear();
    let fields: Vec<String> = c
        .check()
        .unwrap_err()
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(fields, ["translations.sv.security_manual_material"]);
}

/// A register stored before registers had languages (its JSON as the catalogue kept it).
#[test]
fn a_register_stored_before_languages_existed_still_reads() {
    let stored = r#"{"name":"Asiakasrekisteri","controller":{"name":"Verkko24 Oy","business_id":"0112038-9","address":{"lines":["Esimerkkikatu 1"],"postal_code":"00100","post_office":"HELSINKI","country_code":""},"phone":"","email":"tuki@example.fi"},"contact_person":{"name":"","role":"","address":{"lines":[],"postal_code":"","post_office":"","country_code":""},"phone":"","email":""},"legal_bases":["contract"],"legal_basis_description":"","purposes":["Asiakassuhteen hoitaminen"],"data_subject_groups":[],"data_categories":[{"key":"name","description":"Nimi","national_identity_code":false,"special_category":false,"company_data":false}],"sources":[],"disclosures":[],"transfers_outside_eea":"none","transfers":[],"retention":{"trigger":"relationship_end","period":3,"unit":"years","law":"","description":""},"security":{"manual_material":"","electronic_systems":""},"rights":{"access":"","rectification":"","marketing_prohibition":""}}"#;
    let register: RegisterContent = serde_json::from_str(stored).unwrap();
    assert_eq!(register.primary_language(), "fi");
    assert!(register.translations.is_empty());
    assert_eq!(serde_json::to_string(&register).unwrap(), stored);
}
