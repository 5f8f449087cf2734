//! Reading existing register documents — Finnish "rekisteriseloste" texts (Personal Data Act
//! §10), "tietosuojaseloste" privacy notices, their Swedish and English counterparts, and notices
//! this service rendered — into a draft register.
//!
//! The import is deterministic and explains itself: every field it fills is reported with the
//! heading, label or phrase that produced it, and every non-empty line of the input is either a
//! section heading, a line a field was taken from, or listed as unmapped with the reason.

mod extract;
mod parse;
mod report;
mod text;
mod vocab;

use extract::Builder;
pub use report::{ImportReport, MappedField, SectionReport, UnmappedLine};
use text::Line;
use vocab::Kind;

use crate::content::RegisterContent;
use crate::notice::{Lang, standard_sentences};

/// Documents larger than this are refused: real register documents are a few kilobytes.
pub const MAX_DOCUMENT_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the document is empty")]
    Empty,
    #[error(
        "the document is {0} bytes; documents up to {MAX_DOCUMENT_BYTES} bytes (2 MiB) can be imported"
    )]
    TooLarge(usize),
    #[error(
        "the document is binary data, not text; export it as plain text, Markdown or HTML first"
    )]
    Binary,
}

/// What an import produced: the draft's content and the report.
#[derive(Debug, Clone)]
pub struct Imported {
    pub content: RegisterContent,
    pub report: ImportReport,
}

pub fn import(bytes: &[u8], source_name: &str) -> Result<Imported, ImportError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ImportError::TooLarge(bytes.len()));
    }
    let decoded = text::decode(bytes).ok_or(ImportError::Binary)?;
    if decoded.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let plain = if text::looks_like_html(&decoded) {
        text::html_to_text(&decoded)
    } else {
        decoded
    };
    let lines = text::lines(&plain);
    let sections = segment(&lines);
    let mut builder = Builder::new(detect_language(&lines), source_name);
    for section in &sections {
        builder.section(section);
    }
    builder.retention_elsewhere(&sections);
    let mut imported = builder.finish(&lines, &sections);
    // Texts of a Swedish or English document are in that language; Finnish is the default.
    if imported.report.language != "fi" && imported.content != RegisterContent::default() {
        imported.content.language = imported.report.language.clone();
    }
    Ok(imported)
}

/// A run of lines under one heading.
#[derive(Debug)]
struct Section<'a> {
    heading: Option<&'a Line>,
    kind: Kind,
    lines: Vec<&'a Line>,
}

impl Section<'_> {
    fn name(&self) -> String {
        self.heading.map_or_else(
            || "(before the first heading)".to_owned(),
            |h| h.text.clone(),
        )
    }
}

/// "1. ", "2) ", "§ 3 ", "10.1 " before a heading; not a postal code.
fn strip_numbering(text: &str) -> &str {
    let rest =
        text.trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '.' | ')' | '§'));
    let digits = text.len() - rest.len();
    if digits > 0
        && digits <= 5
        && rest.starts_with(' ')
        && !text[..digits]
            .chars()
            .all(|c| c.is_ascii_digit() && digits == 5)
    {
        rest.trim_start()
    } else {
        text
    }
}

fn is_standard(text: &str) -> bool {
    let lower = text.to_lowercase();
    let version_line = ["versio ", "version "].iter().any(|v| lower.starts_with(v))
        && [", julkaistu ", ", publicerad ", ", published "]
            .iter()
            .any(|p| lower.contains(p))
        && lower.split_whitespace().count() <= 6;
    version_line || standard_sentences().any(|s| s.eq_ignore_ascii_case(text) || s == text)
}

/// Whether a line is a section heading, and of which section.
fn heading(line: &Line, marked_only: bool) -> Option<Kind> {
    let text = strip_numbering(&line.text);
    if is_standard(&line.text) || vocab::is_title(text) {
        return None;
    }
    if line.marked_heading {
        return Some(vocab::heading_kind(text).unwrap_or(Kind::Unknown));
    }
    if marked_only {
        // A document that marks its headings (Markdown, HTML) marks all of them.
        return None;
    }
    let words = text.split_whitespace().count();
    let labelled = text
        .split_once(": ")
        .is_some_and(|(_, v)| !v.trim().is_empty());
    if line.bullet
        || words > 12
        || text.chars().count() > 110
        || text.ends_with(['.', ',', ';'])
        || labelled
    {
        return None;
    }
    // "Säännönmukaisia tietolähteitä ovat mm.:" introduces a list; it does not head a section.
    let lower = format!(" {} ", text.to_lowercase());
    if text.ends_with(':')
        && (words > 6
            || [" ovat ", " on ", " mm.", " är ", " are ", " is "]
                .iter()
                .any(|v| lower.contains(v)))
    {
        return None;
    }
    if let Some(kind) = vocab::heading_kind(text) {
        return Some(kind);
    }
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let shouting = letters.len() >= 4
        && letters.iter().all(|c| c.is_uppercase())
        && !line.text.chars().any(|c| c.is_ascii_digit());
    (shouting && !vocab::is_organisation_name(text)).then_some(Kind::Unknown)
}

fn segment(lines: &[Line]) -> Vec<Section<'_>> {
    let mut sections = vec![Section {
        heading: None,
        kind: Kind::Preamble,
        lines: vec![],
    }];
    let marked_only = lines.iter().any(|l| l.marked_heading);
    for line in lines {
        match heading(line, marked_only) {
            Some(kind) => sections.push(Section {
                heading: Some(line),
                kind,
                lines: vec![],
            }),
            None => sections
                .last_mut()
                .expect("starts with the preamble")
                .lines
                .push(line),
        }
    }
    sections
}

fn detect_language(lines: &[Line]) -> Lang {
    const WORDS: [(Lang, &[&str]); 3] = [
        (
            Lang::Fi,
            &[
                "ja",
                "tai",
                "tiedot",
                "tietoja",
                "rekisterin",
                "sekä",
                "on",
                "ei",
                "henkilötietoja",
                "asiakkaan",
            ],
        ),
        (
            Lang::Sv,
            &[
                "och",
                "eller",
                "uppgifter",
                "registret",
                "personuppgifter",
                "av",
                "som",
                "är",
                "inte",
                "för",
            ],
        ),
        (
            Lang::En,
            &[
                "and", "or", "the", "data", "personal", "of", "is", "not", "to", "for",
            ],
        ),
    ];
    let mut counts = [0usize; 3];
    for line in lines {
        for word in line
            .text
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
        {
            for (i, (_, words)) in WORDS.iter().enumerate() {
                if words.contains(&word) {
                    counts[i] += 1;
                }
            }
        }
    }
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    WORDS[best].0
}

/// A paragraph: lines joined where a sentence runs on to the next line.
#[derive(Debug, Clone)]
struct Para {
    text: String,
    lines: Vec<u32>,
    bullet: bool,
}

fn paragraphs(lines: &[&Line]) -> Vec<Para> {
    let mut out: Vec<Para> = Vec::new();
    // Words of the line before: a short line ("nimi", "kotikunta") is a list item of its own
    // even without a bullet; a long one was wrapped and continues on the next line.
    let mut previous_words = 0;
    for line in lines {
        let continues = out.last().is_some_and(|prev: &Para| {
            !prev.bullet
                && !line.bullet
                && !prev.text.ends_with(['.', ':', ';', '!', '?'])
                && line.text.chars().next().is_some_and(char::is_lowercase)
                && (previous_words >= 7
                    || prev.text.ends_with(',')
                    || [
                        " ja", " sekä", " tai", " and", " or", " och", " samt", " eller",
                    ]
                    .iter()
                    .any(|c| prev.text.ends_with(c)))
        });
        previous_words = line.text.split_whitespace().count();
        if continues {
            let prev = out.last_mut().expect("checked");
            prev.text.push(' ');
            prev.text.push_str(&line.text);
            prev.lines.push(line.no);
        } else {
            out.push(Para {
                text: line.text.clone(),
                lines: vec![line.no],
                bullet: line.bullet,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::extract::Builder;
    use super::parse::*;
    use super::*;
    use crate::content::RetentionTrigger;

    #[test]
    fn emails_are_deobfuscated() {
        assert_eq!(
            email_in("tuki @ palvelimet . net").as_deref(),
            Some("tuki@palvelimet.net")
        );
        assert_eq!(
            email_in("info(at)example.fi").as_deref(),
            Some("info@example.fi")
        );
        assert_eq!(
            email_in("Sähköposti: Asiakaspalvelu@Verkko24.fi.").as_deref(),
            Some("asiakaspalvelu@verkko24.fi")
        );
        assert_eq!(email_in("ei osoitetta"), None);
    }

    #[test]
    fn phones_in_local_styles() {
        assert_eq!(
            phone_in("0600 - 555 808 (1,49e/min, avoinna arkisin 08:30-16)").as_deref(),
            Some("0600 - 555 808")
        );
        assert_eq!(
            phone_in("+358 50 504 3028").as_deref(),
            Some("+358 50 504 3028")
        );
        assert_eq!(phone_in("(09) 123 4567").as_deref(), Some("(09) 123 4567"));
        assert_eq!(phone_in("Avoinna 8-16"), None);
    }

    #[test]
    fn enumerations_split_into_purposes() {
        let items = enumeration("Asiakkaista tallennettuja tietoja käsitellään laskutukseen ja maksujen perintään, markkinointiin, asiakassuhteen hoitamiseen ja kehittämiseen sekä tilastollisiin tarkoituksiin.").unwrap();
        assert_eq!(
            items,
            [
                "Laskutukseen ja maksujen perintään",
                "Markkinointiin",
                "Asiakassuhteen hoitamiseen ja kehittämiseen",
                "Tilastollisiin tarkoituksiin"
            ]
        );
        let items = enumeration("Tietoja käsitellään asiakassuhteiden ylläpitämiseen, hoitamiseen ja kehittämiseen, analysointiin sekä tilastointiin.").unwrap();
        assert_eq!(
            items,
            [
                "Asiakassuhteiden ylläpitämiseen, hoitamiseen ja kehittämiseen",
                "Analysointiin",
                "Tilastointiin"
            ]
        );
    }

    #[test]
    fn retention_phrasings() {
        let rule = Builder::parse_retention(
            "Tiedot säilytetään enintään kolme (3) vuotta asiakassuhteen päättymisestä.",
        )
        .unwrap();
        assert_eq!(
            (rule.trigger, rule.period, rule.unit),
            (
                RetentionTrigger::RelationshipEnd,
                3,
                Some(crate::content::PeriodUnit::Years)
            )
        );
        let rule = Builder::parse_retention(
            "Kirjanpitoaineisto säilytetään kirjanpitolain mukaisesti kymmenen vuotta.",
        )
        .unwrap();
        assert_eq!(
            (rule.trigger, rule.period, rule.law.as_str()),
            (RetentionTrigger::Law, 10, "Kirjanpitolaki (1336/1997)")
        );
        let rule =
            Builder::parse_retention("Uppgifterna bevaras så länge kundförhållandet består.")
                .unwrap();
        assert_eq!(rule.trigger, RetentionTrigger::RelationshipDuration);
        let rule =
            Builder::parse_retention("Data is deleted 24 months after it was collected.").unwrap();
        assert_eq!(
            (rule.trigger, rule.period, rule.unit),
            (
                RetentionTrigger::Collection,
                24,
                Some(crate::content::PeriodUnit::Months)
            )
        );
        assert!(
            Builder::parse_retention("Manuaalinen aineisto säilytetään lukituissa tiloissa.")
                .is_none()
        );
    }

    #[test]
    fn malformed_input_is_refused_or_reported_never_panics() {
        assert_eq!(import(b"", "x").unwrap_err(), ImportError::Empty);
        assert_eq!(import(b" \n\t\n", "x").unwrap_err(), ImportError::Empty);
        assert_eq!(
            import(&[0, 1, 2, 3, 0, 5, 6, 7, 8, 0xff], "x").unwrap_err(),
            ImportError::Binary
        );
        let big = vec![b'a'; 10 * 1024 * 1024];
        assert!(matches!(
            import(&big, "x").unwrap_err(),
            ImportError::TooLarge(_)
        ));
        let imported = import(
            "Hello world.\nThis is a letter to a friend.\nBest wishes".as_bytes(),
            "x",
        )
        .unwrap();
        assert_eq!(imported.content, RegisterContent::default());
        assert_eq!(imported.report.unmapped.len(), 3);
    }
}

/// Random documents built from the genre's pieces and from awkward characters: the import never
/// panics, never loses a line, and always produces content the catalogue accepts.
#[cfg(test)]
mod robustness {
    use std::collections::BTreeSet;

    use super::*;

    const PIECES: &[&str] = &[
        // Letters whose lower case has another length, before a verb a heading label uses.
        "ẞé on ",
        "İstanbul is ",
        "Rekisterin nimi İ: ",
        "REKISTERINPITÄJÄ",
        "1. Rekisterinpitäjä",
        "Rekisterin nimi",
        "REKISTERIN KÄYTTÖTARKOITUS",
        "Tietosisältö",
        "Säännönmukaiset tietolähteet",
        "TIETOJEN LUOVUTUS",
        "Tietojen siirto EU:n tai ETA:n ulkopuolelle",
        "Säilytysaika",
        "Rekisterin suojauksen periaatteet",
        "Tarkastusoikeus",
        "Registrets namn",
        "Lagringstid",
        "## Your rights",
        "# Privacy notice",
        "Nimi: Testi Oy",
        "Y-tunnus: 0112038-9",
        "Y-tunnus 1234567-0",
        "Puh. 040 123 4567",
        "tuki @ palvelimet . net",
        "x(at)y",
        "Osoite: Katu 1, 00100 Helsinki",
        "00100",
        "- ",
        "• item",
        "o option",
        "1) first",
        "a) second",
        "Käyttötarkoitus: markkinointi",
        "Tietoja käsitellään laskutukseen, markkinointiin sekä tilastointiin.",
        "Tietoja ei luovuteta EU:n ulkopuolelle.",
        "Tiedot säilytetään kolme (3) vuotta asiakassuhteen päättymisestä.",
        "Kirjanpitolain mukaan",
        "Rekisteröity itse: tiedot",
        "Suomen Asiakastieto Oy: luottotiedot",
        "US: adequacy",
        "XX: ",
        "Viranomaiset: (oikeusperuste: lakisääteinen velvoite)",
        "Manuaalinen aineisto: ",
        "Sähköiset järjestelmät:",
        "İSTANBUL",
        "ẞTRASSE",
        "e\u{301}",
        "👍",
        "\u{a0}\u{a0}",
        "\u{200b}",
        "\u{feff}",
        ":",
        "::",
        ". . .",
        "(",
        ")",
        "§",
        "<p>",
        "</p>",
        "<h2>",
        "&auml;",
        "&#x1F600;",
        "&",
        "**",
        "_",
        "\\",
        "=====",
        "----",
        "\t",
        "  ",
        "Ö",
        "ö",
        "ä",
        "12345678901234567890",
        "-",
        "0",
        "a:b",
        "Y-tunnus:",
        "Nimi:",
        "Puhelin:",
        "[henkilötunnus]",
        "[yritystieto]",
        "Versio 1, julkaistu 1.1.2026",
        "Laadittu 1.1.2020",
        "käytetään",
        "sekä",
        ", ",
        "ja",
        "mm.",
        "esim. ",
    ];

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    #[test]
    fn random_documents_never_panic_lose_lines_or_produce_invalid_content() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..3000 {
            let mut doc = String::new();
            for _ in 0..(rng.next() % 40) {
                for _ in 0..(1 + rng.next() % 4) {
                    doc.push_str(rng.pick(PIECES));
                    if rng.next().is_multiple_of(3) {
                        doc.push(' ');
                    }
                }
                doc.push(if rng.next().is_multiple_of(9) {
                    '\r'
                } else {
                    '\n'
                });
            }
            let imported = match import(doc.as_bytes(), "random") {
                Ok(imported) => imported,
                Err(_) => continue,
            };
            if let Err(violations) = imported.content.clone().check() {
                panic!("round {round}: invalid content {violations}\n--- document\n{doc}");
            }
            let r = &imported.report;
            let covered: BTreeSet<u32> = r
                .sections
                .iter()
                .filter(|s| !s.heading.is_empty())
                .map(|s| s.line)
                .chain(r.mapped.iter().flat_map(|m| m.lines.iter().copied()))
                .chain(r.unmapped.iter().map(|u| u.line))
                .collect();
            let source = if text::looks_like_html(&doc) {
                text::html_to_text(&doc)
            } else {
                doc.clone()
            };
            for line in text::lines(&source) {
                assert!(
                    covered.contains(&line.no),
                    "round {round}: line {} {:?} lost\n{doc}",
                    line.no,
                    line.text
                );
            }
        }
    }
}
