//! What the importer recognises: section headings, field labels, legal bases, known external
//! sources, retention phrasings, in Finnish, Swedish and English. Everything is matched on
//! lower-case text.

use crate::content::{LegalBasis, PeriodUnit, RetentionTrigger, TransferSafeguard};

/// The sections of a register document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Preamble,
    PurposesAndBasis,
    Controller,
    Contact,
    Name,
    Basis,
    Purposes,
    Subjects,
    Content,
    Sources,
    Disclosures,
    Transfers,
    Security,
    Access,
    Rectification,
    Retention,
    Marketing,
    Rights,
    Complaint,
    Unknown,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Preamble => "preamble",
            Kind::PurposesAndBasis => "purposes_and_legal_basis",
            Kind::Controller => "controller",
            Kind::Contact => "contact_person",
            Kind::Name => "register_name",
            Kind::Basis => "legal_basis",
            Kind::Purposes => "purposes",
            Kind::Subjects => "data_subject_groups",
            Kind::Content => "data_content",
            Kind::Sources => "regular_sources",
            Kind::Disclosures => "regular_disclosures",
            Kind::Transfers => "transfers_outside_eea",
            Kind::Security => "security_principles",
            Kind::Access => "right_of_access",
            Kind::Rectification => "right_to_rectification",
            Kind::Retention => "retention",
            Kind::Marketing => "marketing_prohibition",
            Kind::Rights => "data_subject_rights",
            Kind::Complaint => "right_to_complain",
            Kind::Unknown => "unknown",
        }
    }
}

const HEADINGS: &[(Kind, &[&str])] = &[
    (
        Kind::Complaint,
        &[
            "valitus",
            "valvontaviranomai",
            "klagomål",
            "complaint",
            "supervisory authority",
            "tillsynsmyndighet",
        ],
    ),
    (
        Kind::Contact,
        &[
            "yhteyshenkilö rekisteriä",
            "rekisteriä koskevissa asioissa",
            "rekisteriä koskevat yhteydenotot",
            "rekisteriasioista vastaava",
            "rekisterin yhteyshenkilö",
            "rekisterinpitäjän yhteyshenkilö",
            "rekisterin vastuuhenkilö",
            "tietosuojavastaava",
            "kontaktperson",
            "contact person",
            "dataskyddsombud",
            "data protection officer",
        ],
    ),
    (
        Kind::Subjects,
        &[
            "rekisteröityjen ryhm",
            "rekisteröidyt",
            "rekisteröityjä",
            "henkilöryhmät",
            "kategorier av registrerade",
            "registrerade personer",
            "data subjects",
        ],
    ),
    (
        Kind::Rights,
        &[
            "rekisteröidyn oikeud",
            "rekisteröidyn oikeuksi",
            "registrerades rättigheter",
            "your rights",
            "rights of the data subject",
            "data subject rights",
            "data subject's rights",
        ],
    ),
    (
        Kind::Controller,
        &[
            "rekisterinpitäjä",
            "rekisterin pitäjä",
            "personuppgiftsansvarig",
            "registeransvarig",
            "registerförare",
            "controller",
        ],
    ),
    (
        Kind::Name,
        &[
            "rekisterin nimi",
            "registrets namn",
            "registernamn",
            "name of the register",
            "register name",
            "name of register",
            "name of the personal data file",
        ],
    ),
    (
        Kind::Disclosures,
        &[
            "luovutu",
            "luovute",
            "luovutet",
            "vastaanottaj",
            "utlämna",
            "mottagare",
            "disclos",
            "recipient",
        ],
    ),
    (
        Kind::Sources,
        &[
            "where do we get",
            "where we get",
            "mistä saamme",
            "mistä tiedot",
            "varifrån",
            "tietolähte",
            "lähteet",
            "tietojen lähde",
            "uppgiftskäll",
            "källor",
            "sources",
            "source of",
        ],
    ),
    (
        Kind::Basis,
        &[
            "peruste",
            "rättslig grund",
            "grund för",
            "legal basis",
            "lawful basis",
            "basis for",
            "grounds for",
        ],
    ),
    (
        Kind::Purposes,
        &[
            "tarkoitu",
            "ändamål",
            "purpose",
            "why do we process",
            "why we process",
            "miksi käsittelemme",
            "varför behandlar",
        ],
    ),
    (
        Kind::Content,
        &[
            "what personal data",
            "what data do we",
            "which personal data",
            "mitä tietoja",
            "mitä henkilötietoja",
            "vilka uppgifter",
            "vilka personuppgifter",
            "tietosisältö",
            "sisältämät tiedot",
            "rekisterin sisältö",
            "henkilötietoryhm",
            "käsiteltävät henkilötiedot",
            "käsiteltävät tiedot",
            "tallennettavat tiedot",
            "kerättävät tiedot",
            "kerättävät henkilötiedot",
            "tietoryhmät",
            "registrets innehåll",
            "uppgifter som behandlas",
            "personuppgifter som behandlas",
            "data content",
            "categories of personal data",
            "personal data processed",
            "personal data we",
            "data we collect",
            "information we collect",
            "content of the register",
            "data collected",
        ],
    ),
    (
        Kind::Retention,
        &[
            "säilytysai",
            "säilyty",
            "säilytt",
            "säilytetä",
            "lagringstid",
            "lagring",
            "bevarande",
            "retention",
            "storage period",
            "how long",
        ],
    ),
    (
        Kind::Security,
        &[
            "suojau",
            "suojaaminen",
            "tietoturva",
            "skydd",
            "säkerhet",
            "security",
            "protected",
            "protection of",
        ],
    ),
    (
        Kind::Rectification,
        &["korjaa", "oikaisu", "rättelse", "rectif", "correction"],
    ),
    (
        Kind::Marketing,
        &[
            "markkinointikielto",
            "kielto-oikeus",
            "kieltää",
            "kielto",
            "förbud",
            "direktmarknadsföring",
            "direct marketing",
            "opt-out",
            "opt out",
        ],
    ),
    (
        Kind::Access,
        &[
            "tarkastusoikeu",
            "tarkastaa",
            "tarkastus",
            "insyn",
            "right of access",
            "access right",
            "right to access",
            "tillgång",
        ],
    ),
    (Kind::Unknown, &["evästeet", "cookies", "kakor"]),
];

const TRANSFER_VERBS: &[&str] = &[
    "siirto",
    "siirrot",
    "siirret",
    "siirtä",
    "luovutus",
    "luovutukset",
    "överföring",
    "transfer",
];
const OUTSIDE_EEA: &[&str] = &[
    "eu:n",
    "eta:n",
    "euroopan",
    "ulkopuolel",
    "utanför",
    "outside",
    "third countr",
    "kolmansiin maihin",
    "eu/eta",
    "eu/eea",
    "international",
    "eu-",
    "ees",
];

/// The section a heading names, if any.
pub fn heading_kind(heading: &str) -> Option<Kind> {
    let h = heading.to_lowercase();
    let h = h.trim_end_matches(':').trim();
    if (TRANSFER_VERBS.iter().any(|v| h.contains(v)) && OUTSIDE_EEA.iter().any(|o| h.contains(o)))
        || h.contains("kolmansiin maihin")
        || h.contains("third countries")
    {
        return Some(Kind::Transfers);
    }
    if h == "yhteyshenkilö" || h.starts_with("yhteyshenkilö ") || h == "yhteystiedot" {
        return Some(Kind::Contact);
    }
    let matches = |kind: Kind| {
        HEADINGS
            .iter()
            .any(|(k, words)| *k == kind && words.iter().any(|w| h.contains(w)))
    };
    let kind = HEADINGS
        .iter()
        .find(|(_, words)| words.iter().any(|w| h.contains(w)))
        .map(|(kind, _)| *kind)?;
    // "Käsittelyn tarkoitus ja oikeusperuste" heads both.
    if kind == Kind::Basis && matches(Kind::Purposes) {
        return Some(Kind::PurposesAndBasis);
    }
    Some(kind)
}

/// "Laadittu 1.3.2024", "Last updated: 2 February 2025".
pub fn is_document_date(line: &str) -> bool {
    let l = line.to_lowercase();
    [
        "laadittu",
        "päivitetty",
        "päiväys",
        "last updated",
        "updated",
        "uppdaterad",
        "upprättad",
        "date:",
    ]
    .iter()
    .any(|w| l.starts_with(w))
        && line.chars().any(|c| c.is_ascii_digit())
        && line.split_whitespace().count() <= 8
}

/// Document titles ("Rekisteriseloste", "Tietosuojaseloste", ...).
pub fn is_title(line: &str) -> bool {
    let l = line.to_lowercase();
    const TITLES: &[&str] = &[
        "rekisteriseloste",
        "tietosuojaseloste",
        "tietosuojailmoitus",
        "tietosuojakuvaus",
        "privacy notice",
        "privacy policy",
        "privacy statement",
        "dataskyddsbeskrivning",
        "registerbeskrivning",
        "dataskyddsmeddelande",
        "description of a personal data file",
        "tietosuoja-asetu",
        "dataskyddsförordning",
        "general data protection regulation",
    ];
    line.split_whitespace().count() <= 16 && TITLES.iter().any(|t| l.contains(t))
}

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
const LABELS: &[(Label, &[&str], bool)] = &[
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
    let lower = line.to_lowercase();
    for (label, words, space_ok) in LABELS {
        for word in *words {
            let Some(rest) = lower.strip_prefix(word) else {
                continue;
            };
            // Lower-casing can change byte lengths; take the value only at a character boundary.
            let Some(value) = line.get(line.len().saturating_sub(rest.len())..) else {
                continue;
            };
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

pub const BASES: &[(LegalBasis, &[&str])] = &[
    (LegalBasis::Consent, &["suostumu", "samtycke", "consent"]),
    (
        LegalBasis::Contract,
        &[
            "asiakassuhde",
            "asiakassuhte",
            "asiakkuu",
            "sopimu",
            "sopimukse",
            "avtal",
            "kundförhållande",
            "kundrelation",
            "contract",
            "customer relationship",
        ],
    ),
    (
        LegalBasis::LegalObligation,
        &[
            "lakisääteinen",
            "lakisääteis",
            "lain perusteella",
            "laissa säädet",
            "lain velvoit",
            "lakiin perustuv",
            "rättslig förpliktelse",
            "legal obligation",
        ],
    ),
    (
        LegalBasis::VitalInterests,
        &["elintärke", "grundläggande intressen", "vital interest"],
    ),
    (
        LegalBasis::PublicTask,
        &[
            "yleisen edun",
            "julkisen vallan",
            "allmänt intresse",
            "myndighetsutövning",
            "public interest",
            "official authority",
            "public task",
        ],
    ),
    (
        LegalBasis::LegitimateInterests,
        &[
            "oikeutettu etu",
            "oikeutetun edun",
            "oikeutettuun etuun",
            "berättigat intresse",
            "berättigade intresse",
            "legitimate interest",
        ],
    ),
];

/// The legal bases a text names, in the order of the table.
pub fn bases_in(text: &str) -> Vec<LegalBasis> {
    let t = text.to_lowercase();
    BASES
        .iter()
        .filter(|(_, words)| words.iter().any(|w| t.contains(w)))
        .map(|(b, _)| *b)
        .collect()
}

/// A known external register or data supplier.
#[derive(Debug)]
pub struct KnownSource {
    pub patterns: &'static [&'static str],
    pub name: &'static str,
    pub business_id: Option<&'static str>,
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
        business_id: None,
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
        business_id: Some("0244683-1"),
    },
    KnownSource {
        patterns: &["asiakastieto", "enento"],
        name: "Suomen Asiakastieto Oy",
        business_id: None,
    },
    KnownSource {
        patterns: &["bisnode", "dun & bradstreet", "dun and bradstreet"],
        name: "Dun & Bradstreet Finland Oy",
        business_id: None,
    },
    KnownSource {
        patterns: &["fonecta"],
        name: "Fonecta Oy",
        business_id: None,
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
        business_id: None,
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
        business_id: None,
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
        business_id: None,
    },
    KnownSource {
        patterns: &["postin osoitepalvelu", "osoitepalvelu", "posti oy"],
        name: "Posti Oy:n osoitepalvelu",
        business_id: None,
    },
];

/// Whether `pattern` occurs in `text` as a word of its own (for acronyms like "prh") or at all.
fn mentions(text: &str, pattern: &str) -> bool {
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
];

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

pub const COUNTRIES: &[(&str, &[&str])] = &[
    (
        "US",
        &["yhdysval", "usa", "united states", "förenta staterna"],
    ),
    (
        "GB",
        &[
            "iso-britannia",
            "yhdistynyt kuningaskunta",
            "united kingdom",
            "storbritannien",
        ],
    ),
    ("CH", &["sveitsi", "switzerland", "schweiz"]),
    ("CA", &["kanada", "canada"]),
    ("JP", &["japani", "japan"]),
    ("IN", &["intia", "india", "indien"]),
    ("AU", &["australia", "australien"]),
];

pub fn safeguard_in(text: &str) -> Option<TransferSafeguard> {
    let t = text.to_lowercase();
    const TABLE: &[(TransferSafeguard, &[&str])] = &[
        (
            TransferSafeguard::StandardContractualClauses,
            &[
                "vakiosopimuslauseke",
                "mallisopimuslauseke",
                "standardavtalsklausul",
                "standard contractual clauses",
                "scc",
            ],
        ),
        (
            TransferSafeguard::AdequacyDecision,
            &[
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

pub const MANUAL: &[&str] = &[
    "manuaali", "paperi", "tulostet", "manuell", "papper", "manual", "paper", "printed",
];

pub const RETENTION_VERBS: &[&str] = &[
    "säilytetään",
    "säilytämme",
    "säilyttää",
    "säilytys",
    "poistetaan",
    "hävitetään",
    "lagras",
    "bevaras",
    "raderas",
    "kept",
    "retained",
    "stored",
    "deleted",
    "erased",
];

fn number_word(word: &str) -> Option<u32> {
    Some(match word {
        "yksi" | "yhden" | "yhdeksi" | "one" => 1,
        "kaksi" | "kahden" | "kahdeksi" | "två" | "two" => 2,
        "kolme" | "kolmen" | "kolmeksi" | "tre" | "three" => 3,
        "neljä" | "neljän" | "fyra" | "four" => 4,
        "viisi" | "viiden" | "fem" | "five" => 5,
        "kuusi" | "kuuden" | "sex" | "six" => 6,
        "seitsemän" | "sju" | "seven" => 7,
        "kahdeksan" | "åtta" | "eight" => 8,
        "yhdeksän" | "nio" | "nine" => 9,
        "kymmenen" | "tio" | "ten" => 10,
        "kaksitoista" | "tolv" | "twelve" => 12,
        _ => return None,
    })
}

fn unit_word(word: &str) -> Option<PeriodUnit> {
    if word.starts_with("vuorokau")
        || word.starts_with("päiv")
        || word.starts_with("dag")
        || word.starts_with("day")
    {
        Some(PeriodUnit::Days)
    } else if word.starts_with("kuukau")
        || word == "kk"
        || word.starts_with("månad")
        || word.starts_with("month")
    {
        Some(PeriodUnit::Months)
    } else if word.starts_with("vuo") || word == "år" || word == "åren" || word.starts_with("year")
    {
        Some(PeriodUnit::Years)
    } else {
        None
    }
}

/// "kolme (3) vuotta", "24 kuukautta", "viiden vuoden", "tre år", "five years".
pub fn period_in(text: &str) -> Option<(u32, PeriodUnit)> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        let n = match word.parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => n,
            Ok(_) => continue,
            Err(_) => match number_word(word) {
                Some(n) => n,
                None => continue,
            },
        };
        // "kolme (3) vuotta": skip the figure that repeats the number.
        let mut j = i + 1;
        if words.get(j).and_then(|w| w.parse::<u32>().ok()) == Some(n) {
            j += 1;
        }
        if let Some(unit) = words.get(j).and_then(|w| unit_word(w)) {
            return Some((n, unit));
        }
    }
    None
}

pub fn retention_trigger_in(text: &str) -> Option<RetentionTrigger> {
    let t = text.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if any(&[
        "niin kauan kuin",
        "asiakassuhteen ajan",
        "asiakkuuden ajan",
        "voimassaolon ajan",
        "så länge",
        "as long as",
        "for the duration",
    ]) {
        return Some(RetentionTrigger::RelationshipDuration);
    }
    if any(&["peruuttami", "peruutta", "återkall", "withdraw"]) {
        return Some(RetentionTrigger::ConsentWithdrawal);
    }
    if any(&[
        "päättymi",
        "päätty",
        "loppumi",
        "päätyttyä",
        "upphör",
        "avslut",
        "relationship ends",
        "end of the customer",
        "after the customer relationship",
        "termination",
    ]) {
        return Some(RetentionTrigger::RelationshipEnd);
    }
    if any(&[
        "keräämi",
        "kerätty",
        "keräyk",
        "tallentami",
        "insaml",
        "collect",
    ]) {
        return Some(RetentionTrigger::Collection);
    }
    None
}

/// The law a retention sentence names: "... lain mukaan: Kirjanpitolaki 2:10." or "kirjanpitolain mukaisesti".
pub fn law_in(text: &str) -> Option<String> {
    for marker in ["lain mukaan:", "bestäms av lag:", "set by law:"] {
        if let Some(pos) = text.to_lowercase().find(marker)
            && let Some(rest) = text.get(pos + marker.len()..)
        {
            let law = rest
                .split(". ")
                .next()
                .unwrap_or(rest)
                .trim()
                .trim_end_matches('.')
                .trim();
            if !law.is_empty() {
                return Some(law.to_owned());
            }
        }
    }
    let t = text.to_lowercase();
    if t.contains("kirjanpitolai")
        || t.contains("kirjanpitolaki")
        || t.contains("bokföringslag")
        || t.contains("accounting act")
    {
        return Some("Kirjanpitolaki (1336/1997)".into());
    }
    None
}
