//! Where data comes from: the data subject, known registers and agencies.

/// A known external register or data supplier.
#[derive(Debug)]
pub struct KnownSource {
    pub patterns: &'static [&'static str],
    pub name: &'static str,
}

pub const KNOWN_SOURCES: &[KnownSource] = &[
    KnownSource {
        patterns: &[
            "ytj",
            "yritys- ja yhteisötietojärjestelmä",
            "företags- och organisationsdatasystemet",
            "business information system",
        ],
        name: "Yritys- ja yhteisötietojärjestelmä (YTJ)",
    },
    KnownSource {
        patterns: &[
            "patentti- ja rekisterihallitu",
            "patentti ja rekisterihallitu",
            "prh",
            "kaupparekister",
            "yhdistysrekister",
            "yhdistysnetti",
            "handelsregistret",
            "patent- och registerstyrelsen",
            "trade register",
            "patent and registration office",
        ],
        name: "Patentti- ja rekisterihallitus (PRH)",
    },
    KnownSource {
        patterns: &["asiakastieto", "enento"],
        name: "Suomen Asiakastieto Oy",
    },
    KnownSource {
        patterns: &["bisnode", "dun & bradstreet", "dun and bradstreet"],
        name: "Dun & Bradstreet Finland Oy",
    },
    KnownSource {
        patterns: &["fonecta"],
        name: "Fonecta Oy",
    },
    KnownSource {
        patterns: &[
            "väestötietojärjestelmä",
            "väestörekister",
            "digi- ja väestötietovirasto",
            "dvv",
            "befolkningsdatasystemet",
            "population information system",
            "population register",
        ],
        name: "Väestötietojärjestelmä (Digi- ja väestötietovirasto)",
    },
    KnownSource {
        patterns: &[
            "robinson",
            "kielto- ja ohjauspalvelu",
            "kieltorekister",
            "asiakkuusmarkkinointiliit",
            "opt-out regist",
            "spärrregist",
        ],
        name: "Asiakkuusmarkkinointiliiton kielto- ja ohjauspalvelu (Robinson)",
    },
    KnownSource {
        patterns: &[
            "luottotietorekister",
            "luottotiedot",
            "luottotietoja",
            "kreditupplysning",
            "credit information",
            "credit register",
        ],
        name: "Luottotietorekisteri",
    },
    KnownSource {
        patterns: &["postin osoitepalvelu", "osoitepalvelu", "posti oy"],
        name: "Posti Oy:n osoitepalvelu",
    },
];

/// Whether `pattern` occurs in `text` as a word of its own (for acronyms like "prh") or at all.
pub(super) fn mentions(text: &str, pattern: &str) -> bool {
    if pattern.chars().count() > 4 {
        return text.contains(pattern);
    }
    text.match_indices(pattern).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + pattern.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The known sources a text mentions (credit registers only when no named bureau is).
pub fn known_sources_in(text: &str) -> Vec<&'static KnownSource> {
    let t = text.to_lowercase();
    let mut found: Vec<&KnownSource> = KNOWN_SOURCES
        .iter()
        .filter(|s| s.patterns.iter().any(|p| mentions(&t, p)))
        .collect();
    if found
        .iter()
        .any(|s| s.name.contains("Asiakastieto") || s.name.contains("Bradstreet"))
    {
        found.retain(|s| s.name != "Luottotietorekisteri");
    }
    found
}

pub const DATA_SUBJECT_SOURCE: &[&str] = &[
    "rekisteröidyltä",
    "jäsen itse",
    "jäseneltä",
    "hakijalta",
    "oppilaalta",
    "potilaalta",
    "itseltään",
    "medlemmen själv",
    "kunden själv",
    "av den registrerade",
    "from the customer themselves",
    "sökande själv",
    "from the member",
    "from the tenant",
    "from the applicant",
    "asiakkaalta",
    "asiakkaan ilmoittam",
    "asiakkaan itse",
    "itse ilmoitta",
    "itse antam",
    "itse toimitta",
    "käyttäjä itse",
    "henkilöltä itseltään",
    "yhteydenott",
    "rekisteröitymisen yhteydessä",
    "från den registrerade",
    "den registrerade själv",
    "from the data subject",
    "provided by the customer",
    "you provide",
    "from you",
    "from the customer",
];

/// Public agencies whose names continue in lower case after the first word.
pub const AGENCIES: &[&str] = &[
    "Myndigheten för digitalisering och befolkningsdata",
    "Patent- och registerstyrelsen",
    "Digi- ja väestötietovirasto",
    "Patentti- ja rekisterihallitus",
    "Liikenne- ja viestintävirasto Traficom",
    "Digital and Population Data Services Agency",
    "Finnish Patent and Registration Office",
];
