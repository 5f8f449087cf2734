//! Labelled lines ("Nimi: ...", "Y-tunnus 1234567-8") and what names people and organisations.

/// Labels of labelled lines ("Nimi: ...", "Y-tunnus 1234567-8", "Puh. 040 ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Name,
    BusinessId,
    Address,
    Phone,
    Email,
    Role,
    ContactPerson,
}

/// (label, words, whether the label may be followed by a plain space instead of a colon)
pub(super) const LABELS: &[(Label, &[&str], bool)] = &[
    (
        Label::ContactPerson,
        &[
            "rekisteriasioista vastaava henkilö",
            "rekisteriasioista vastaava",
            "rekisterinpitäjän yhteyshenkilö",
            "rekisterin yhteyshenkilö",
            "rekisterin vastuuhenkilö",
            "yhteyshenkilö",
            "vastuuhenkilö",
            "tietosuojavastaava",
            "kontaktperson",
            "contact person",
            "dataskyddsombud",
            "data protection officer",
        ],
        false,
    ),
    (
        Label::BusinessId,
        &[
            "y-tunnus",
            "ytunnus",
            "y tunnus",
            "business id",
            "fo-nummer",
            "fo nummer",
            "org. nr",
            "org.nr",
        ],
        true,
    ),
    (
        Label::Email,
        &[
            "sähköpostiosoite",
            "sähköposti",
            "s-posti",
            "sposti",
            "e-mail",
            "email",
            "e-post",
            "epost",
        ],
        false,
    ),
    (
        Label::Phone,
        &[
            "puhelinnumero",
            "puhelin",
            "matkapuhelin",
            "puh",
            "gsm",
            "telefon",
            "telephone",
            "phone",
            "tel",
            "mobile",
        ],
        true,
    ),
    (
        Label::Address,
        &[
            "postiosoite",
            "käyntiosoite",
            "osoite",
            "postadress",
            "besöksadress",
            "adress",
            "address",
            "postal address",
        ],
        false,
    ),
    (
        Label::Role,
        &[
            "tehtävä",
            "rooli",
            "titteli",
            "asema",
            "uppgift",
            "befattning",
            "role",
            "title",
        ],
        false,
    ),
    (
        Label::Name,
        &[
            "nimi",
            "namn",
            "name",
            "toiminimi",
            "yritys",
            "företag",
            "company",
        ],
        false,
    ),
];

/// Splits a labelled line into its label and value.
pub fn label(line: &str) -> Option<(Label, String)> {
    for (label, words, space_ok) in LABELS {
        for word in *words {
            // Compared character by character on the line as written: lower-casing may change
            // a text's length ("İ"), so the value is cut from the original, never by an offset
            // of the lower-cased copy.
            let k = word.chars().count();
            let split = line.char_indices().nth(k).map_or(line.len(), |(i, _)| i);
            if line[..split].to_lowercase() != *word {
                continue;
            }
            let value = &line[split..];
            let rest = value;
            let ok = rest.starts_with(':')
                || (*space_ok
                    && (rest.starts_with(". ")
                        || rest.starts_with(' ')
                            && rest[1..].starts_with(|c: char| c.is_ascii_digit() || c == '+')));
            if ok {
                let value = value.trim_start_matches([':', '.']).trim();
                return Some((*label, value.to_owned()));
            }
        }
    }
    None
}

/// "Tietosuojavastaava", "Data protection officer": a section about the DPO, not the register's
/// contact person.
pub fn is_dpo_heading(heading: &str) -> bool {
    let h = heading.to_lowercase();
    [
        "tietosuojavastaava",
        "data protection officer",
        "dataskyddsombud",
        "dpo",
    ]
    .iter()
    .any(|w| h.contains(w))
}

/// A word that is a title or a role rather than part of a person's name.
pub fn is_title_word(word: &str) -> bool {
    let w = word.to_lowercase();
    [
        "päällikkö",
        "johtaja",
        "vastaava",
        "sihteeri",
        "isännöitsijä",
        "rehtori",
        "koordinaattori",
        "asiantuntija",
        "esimies",
        "manager",
        "director",
        "officer",
        "coordinator",
        "secretary",
        "chair",
        "chef",
        "direktör",
        "sekreterare",
        "ansvarig",
        "ombud",
        "samordnare",
    ]
    .iter()
    .any(|t| w.ends_with(t))
}

/// Company-form suffixes that make a name an organisation's.
pub fn is_organisation_name(name: &str) -> bool {
    let l = name.to_lowercase();
    let last = l.trim_end_matches('.').rsplit(' ').next().unwrap_or("");
    matches!(
        last,
        "oy" | "oyj"
            | "ab"
            | "abp"
            | "ltd"
            | "inc"
            | "ry"
            | "rf"
            | "ky"
            | "tmi"
            | "gmbh"
            | "as"
            | "llc"
            | "plc"
    ) || [
        "rekisteri",
        "järjestelmä",
        "virasto",
        "tietopalvelu",
        "register",
        "system",
        "registret",
        "myndighet",
    ]
    .iter()
    .any(|w| l.contains(w))
}
