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
            "oikeutettuun etu",
            "oikeutettu etumme",
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
const COMPANY_FORMS: &[&str] = &[
    "oy", "oyj", "ab", "abp", "ltd", "plc", "inc", "ry", "r.y", "ky", "tmi", "gmbh", "llc", "as",
    "sr", "osk",
];

/// Public bodies that receive data, by the stem of their name in any inflection.
const PUBLIC_BODIES: &[(&str, &str)] = &[
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
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.'))
        .map(|w| w.trim_end_matches('.').to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether the stem (one or more words) starts words of `words` in a row. Stems of three letters
/// or fewer ("usa") must be whole words.
fn stem_at(words: &[String], stem: &str) -> bool {
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
    if any(&[
        "peruuttami",
        "peruutta",
        "peruu",
        "perua",
        "återkall",
        "withdraw",
    ]) {
        return Some(RetentionTrigger::ConsentWithdrawal);
    }
    if names_relationship_end(text) {
        return Some(RetentionTrigger::RelationshipEnd);
    }
    if any(&[
        "keräämi",
        "kerätty",
        "keräyk",
        "tallentami",
        "vastaanottami",
        "saapumi",
        "insaml",
        "mottagits",
        "mottagande",
        "inkommit",
        "collect",
        "received",
        "receipt",
    ]) {
        return Some(RetentionTrigger::Collection);
    }
    None
}

/// Whether a retention sentence counts from the end of the relationship ("asiakassuhteen
/// päättymisestä", "after the lease has ended").
pub fn names_relationship_end(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "päättymi",
        "päätty",
        "loppumi",
        "päätyttyä",
        "upphör",
        "avslut",
        "relationship ends",
        "end of the",
        "after the customer relationship",
        "termination",
        "has ended",
        "after it ends",
        "after it has ended",
        " ends,",
        " ends.",
    ]
    .iter()
    .any(|w| t.contains(w))
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
    // "arkistolain (831/1994) nojalla", "asetuksen (298/2009) mukaan": the words before the
    // statute number name it.
    if let Some(open) = text.find('(')
        && let Some(close) = text[open..].find(')')
    {
        let number = &text[open + 1..open + close];
        let statute = number.split_once('/').is_some_and(|(n, y)| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && y.len() == 4
                && y.bytes().all(|b| b.is_ascii_digit())
        });
        let before: Vec<&str> = text[..open].split_whitespace().collect();
        let law_word = before.last().is_some_and(|w| {
            let w = w.to_lowercase();
            [
                "lain",
                "laki",
                "lagen",
                "lag",
                "act",
                "asetuksen",
                "asetus",
                "förordningen",
            ]
            .iter()
            .any(|e| w.ends_with(e))
        });
        if statute && law_word {
            let name = before[before.len().saturating_sub(1)..].join(" ");
            return Some(format!("{} ({number})", super::parse::capitalise(&name)));
        }
    }
    if t.contains("kirjanpitolai")
        || t.contains("kirjanpitolaki")
        || t.contains("bokföringslag")
        || t.contains("accounting act")
    {
        return Some("Kirjanpitolaki (1336/1997)".into());
    }
    None
}
