//! Recipients, refusals to disclose, third countries and the safeguards of transfers.

use super::*;

pub const NEGATIVE_DISCLOSURE: &[&str] = &[
    "ei luovuteta",
    "ei säännönmukaisesti luovuteta",
    "ei luovuta",
    "eikä luovuteta",
    "ei myöskään luovuta",
    "ei siirretä",
    "eikä siirretä",
    "lämnas inte ut",
    "lämnas ej ut",
    "överförs inte",
    "not disclosed",
    "not regularly disclosed",
    "does not disclose",
    "not transferred",
    "do not transfer",
    "does not transfer",
    "never transfer",
    "do not disclose",
    "eikä tietoja siirretä",
    "eikä niitä siirretä",
    "tietoja ei siirretä",
    "överför inte",
    "överförs inte",
    "lämnar inte ut",
];

/// Labels whose value is a disclosure's recipient.
pub const RECIPIENT_LABELS: &[&str] = &[
    "vastaanottaja",
    "tietojen vastaanottaja",
    "vastaanottajat",
    "mottagare",
    "mottagaren",
    "recipient",
    "recipients",
];

/// Labels whose value says what is disclosed to the recipient named before.
pub const DISCLOSED_DATA_LABELS: &[&str] = &[
    "luovutettavat tiedot",
    "luovutettavat henkilötiedot",
    "luovutuksen tarkoitus",
    "tarkoitus",
    "uppgifter som lämnas ut",
    "ändamål",
    "data disclosed",
    "purpose",
];

/// Company forms that end (or start) an organisation's name.
pub(super) const COMPANY_FORMS: &[&str] = &[
    "oy", "oyj", "ab", "abp", "ltd", "plc", "inc", "ry", "r.y", "ky", "tmi", "gmbh", "llc", "as",
    "sr", "osk",
];

/// Public bodies that receive data, by the stem of their name in any inflection.
pub(super) const PUBLIC_BODIES: &[(&str, &str)] = &[
    ("kansaneläkelaito", "Kansaneläkelaitos"),
    ("kela", "Kela"),
    ("folkpensionsanstalt", "Folkpensionsanstalten"),
    ("verohallin", "Verohallinto"),
    ("skatteförvaltning", "Skatteförvaltningen"),
    ("tilastokeskus", "Tilastokeskus"),
    ("tilastokeskukse", "Tilastokeskus"),
    ("statistikcentral", "Statistikcentralen"),
    ("opetushallitu", "Opetushallitus"),
    ("opetushallitukse", "Opetushallitus"),
    ("utbildningsstyrelse", "Utbildningsstyrelsen"),
    ("finnish tax administration", "Finnish Tax Administration"),
];

/// The organisations a sentence names: "Posti Oy:lle", "Oy Matkahuolto Ab", "Paytrail Plc",
/// "Kansaneläkelaitokselle". Names are as written, without the inflection after a colon.
pub fn organisations_in(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let clean = |w: &str| -> String {
        let w = w.split(':').next().unwrap_or(w);
        w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '-' || c == '&' || c == '.'))
            .trim_end_matches('.')
            .to_owned()
    };
    let is_form = |w: &str| COMPANY_FORMS.contains(&w.to_lowercase().trim_end_matches('.'));
    let capitalised = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = clean(words[i]);
        // A form that ends a name: the capitalised words before it are the name.
        if is_form(&word) && i > 0 {
            let mut start = i;
            while start > 0
                && i - start < 5
                && capitalised(&clean(words[start - 1]))
                && !clean(words[start - 1]).is_empty()
                // A sentence's first word is not part of the name unless it is a form itself.
                && (start - 1 > 0 || is_form(&clean(words[0])))
                && !words[start - 1].ends_with([',', ';'])
            {
                start -= 1;
            }
            if start < i {
                let name: Vec<String> = (start..=i).map(|j| clean(words[j])).collect();
                let name = name.join(" ");
                if !found.contains(&name) {
                    found.push(name);
                }
            }
        }
        i += 1;
    }
    let lower = text.to_lowercase();
    for (stem, name) in PUBLIC_BODIES {
        let at_word_start = lower.match_indices(stem).any(|(p, _)| {
            !lower[..p]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
        });
        if at_word_start && !found.iter().any(|f| f == name) {
            found.push((*name).to_owned());
        }
    }
    found
}

pub const EXCEPTION: &[&str] = &[
    "pois lukien",
    "lukuun ottamatta",
    "paitsi",
    "poikkeuksena",
    "except",
    "utom",
    "med undantag",
];

pub const AUTHORITIES: &[&str] = &[
    "viranomai",
    "myndighet",
    "authorit",
    "lainsäädännön",
    "lain sallimissa",
    "lain edellyttämi",
    "lain edellyttämä",
    "lain velvoittami",
    "lain sallimi",
    "lagstiftning",
    "required by law",
    "permitted by law",
];

/// Third countries by the stems of their names in Finnish, Swedish and English. A stem matches
/// at the start of a word, so inflected forms count ("Yhdysvaltoihin", "Kanadassa"); words of a
/// stem of several words match word by word ("yhdistyneessä kuningaskunnassa").
pub const COUNTRIES: &[(&str, &[&str])] = &[
    (
        "US",
        &[
            "yhdysval",
            "usa",
            "united states",
            "förenta staterna",
            "u.s.",
        ],
    ),
    (
        "GB",
        &[
            "iso-britanni",
            "isoon-britanniaan",
            "yhdistyn kuningaskun",
            "united kingdom",
            "storbritannien",
            "förenade kungarike",
        ],
    ),
    ("CH", &["sveitsi", "switzerland", "schweiz"]),
    ("CA", &["kanada", "canada"]),
    ("JP", &["japani", "japan"]),
    ("IN", &["intia", "india", "indien"]),
    ("AU", &["australia", "australien"]),
    ("CN", &["kiina", "china", "kina"]),
    ("SG", &["singapore"]),
    ("KR", &["etelä-korea", "south korea", "sydkorea"]),
];

/// The words of `text`, lower-cased, split at anything but letters, digits, hyphens and dots.
pub(super) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.'))
        .map(|w| w.trim_end_matches('.').to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether the stem (one or more words) starts words of `words` in a row. Stems of three letters
/// or fewer ("usa") must be whole words.
pub(super) fn stem_at(words: &[String], stem: &str) -> bool {
    let parts: Vec<&str> = stem.split(' ').map(|p| p.trim_end_matches('.')).collect();
    (0..words.len()).any(|i| {
        parts.iter().enumerate().all(|(j, part)| {
            words.get(i + j).is_some_and(|w| {
                if part.chars().count() <= 3 {
                    w == part
                } else {
                    w.starts_with(part)
                }
            })
        })
    })
}

/// The third countries `text` names as whole words, in the order of the table.
pub fn countries_in(text: &str) -> Vec<&'static str> {
    let words = words(text);
    COUNTRIES
        .iter()
        .filter(|(_, stems)| stems.iter().any(|s| stem_at(&words, s)))
        .map(|(cc, _)| *cc)
        .collect()
}

/// Each country `text` names, with the safeguard named in the same clause (clauses split at
/// semicolons, commas and "and"/"ja"/"och" before another country).
pub fn countries_with_safeguards(text: &str) -> Vec<(&'static str, Option<TransferSafeguard>)> {
    let clauses: Vec<&str> = text.split([';', ',']).collect();
    let mut found: Vec<(&'static str, Option<TransferSafeguard>)> = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    for clause in clauses {
        let countries = countries_in(clause);
        let safeguard = safeguard_in(clause);
        if countries.is_empty() {
            // "..., jonka osalta komissio on tehnyt riittävyyspäätöksen": the country before.
            if let Some(s) = safeguard {
                for i in pending.drain(..) {
                    found[i].1.get_or_insert(s);
                }
            }
            continue;
        }
        pending.clear();
        for cc in countries {
            if found.iter().any(|(c, _)| *c == cc) {
                continue;
            }
            found.push((cc, safeguard));
            if safeguard.is_none() {
                pending.push(found.len() - 1);
            }
        }
    }
    found
}

pub fn safeguard_in(text: &str) -> Option<TransferSafeguard> {
    let t = text.to_lowercase();
    const TABLE: &[(TransferSafeguard, &[&str])] = &[
        (
            TransferSafeguard::StandardContractualClauses,
            &[
                "vakiosopimuslause",
                "mallisopimuslause",
                "vakiolauseke",
                "vakiolausekk",
                "standardavtalsklausul",
                "standard contractual clauses",
                "scc",
            ],
        ),
        (
            TransferSafeguard::AdequacyDecision,
            &[
                "riittävä tietosuojan taso",
                "riittävän tietosuojan tason",
                "riittävyyttä koskeva",
                "riittävyyspäätö",
                "adekvat skyddsnivå",
                "adequacy",
                "data privacy framework",
                "tietosuojakehy",
            ],
        ),
        (
            TransferSafeguard::ExplicitConsent,
            &["nimenomai", "uttryckliga samtycke", "explicit consent"],
        ),
        (
            TransferSafeguard::None,
            &["ei suojatoimia", "inga skyddsåtgärder", "no safeguards"],
        ),
    ];
    TABLE
        .iter()
        .find(|(_, words)| words.iter().any(|w| t.contains(w)))
        .map(|(s, _)| *s)
}
