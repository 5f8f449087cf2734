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
            "translations.sv.purposes",
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
