//! What the importer recognises: section headings, field labels, legal bases, known external
//! sources, retention phrasings, in Finnish, Swedish and English. Everything is matched on
//! lower-case text.

use crate::content::{LegalBasis, PeriodUnit, RetentionTrigger, TransferSafeguard};

mod bases;
mod disclosures;
mod labels;
mod retention;
mod sources;

pub use bases::*;
pub use disclosures::*;
pub use labels::*;
pub use retention::*;
pub use sources::*;

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
            "rekisteriasioiden yhteyshenkilö",
            "rekisteriasioiden hoitaja",
            "kontaktperson i ärenden",
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
            "whose data",
            "whose personal data",
            "keiden tietoja",
            "keiden henkilötietoja",
            "vems uppgifter",
            "vems personuppgifter",
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
            "who is responsible for",
            "vem ansvarar för",
            "kuka vastaa",
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
            "vad heter registret",
            "what is the register called",
        ],
    ),
    (
        Kind::Disclosures,
        &[
            "luovutu",
            "luovute",
            "luovutet",
            "luovutamme",
            "luovutammeko",
            "vastaanottaj",
            "utlämna",
            "share data",
            "share your data",
            "share personal data",
            "jaamme",
            "delar vi",
            "vem lämnar vi",
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
            "muualta hankitta",
            "muualta saata",
            "muista lähteistä",
            "other sources",
            "andra källor",
            "källor",
            "sources",
            "source of",
            "where does the data come from",
            "where does your data come from",
            "mistä henkilötiedot",
            "peräisin",
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
            "på vilken grund",
            "millä perusteella",
            "on what grounds",
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
            "mihin käytämme",
            "mihin tietoja käytetään",
            "mihin henkilötietoja käytetään",
            "vad använder vi",
            "hur använder vi",
            "what do we use",
            "how do we use",
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
            "datainnehåll",
            "personuppgiftskategorier",
            "data do we collect",
            "data we process",
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
            "minkälaisia henkilötietoja",
            "minkälaisia tietoja",
            "millaisia henkilötietoja",
            "millaisia tietoja",
            "what kind of data",
            "what kind of personal data",
            "vilka slags uppgifter",
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
            "hur länge",
            "kuinka kauan",
            "kuinka pitkään",
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
    "överför",
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
    if ["registrerade", "de registrerade", "rekisteröidyt"].contains(&h) {
        return Some(Kind::Subjects);
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
