//! The fixed legal phrasing of a privacy notice, in Finnish, Swedish and English. The importer
//! reads the same phrases back, so that a rendered notice imports into the register it came from.

use crate::content::{LegalBasis, PeriodUnit, RetentionRule, RetentionTrigger, TransferSafeguard};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fi,
    Sv,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Fi, Lang::Sv, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fi => "fi",
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    pub fn phrases(self) -> &'static Phrases {
        match self {
            Lang::Fi => &FI,
            Lang::Sv => &SV,
            Lang::En => &EN,
        }
    }
}

/// The sections a notice can have, in no particular order (layouts order them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Controller,
    Contact,
    Name,
    Purposes,
    Basis,
    Subjects,
    Categories,
    Sources,
    Disclosures,
    Transfers,
    Retention,
    Rights,
    Access,
    Rectification,
    Marketing,
    Complaint,
    Security,
}

#[derive(Debug)]
pub struct Phrases {
    lang: Lang,
    headings: &'static [&'static str; 17],
    pub title_gdpr: &'static str,
    pub title_section10: &'static str,
    pub subtitle_gdpr: &'static str,
    pub subtitle_section10: &'static str,
    pub version: &'static str,
    pub published: &'static str,
    pub label_name: &'static str,
    pub label_business_id: &'static str,
    pub label_address: &'static str,
    pub label_phone: &'static str,
    pub label_email: &'static str,
    pub label_role: &'static str,
    pub label_basis_article: &'static str,
    pub data_subject_itself: &'static str,
    pub disclosure_basis: &'static str,
    pub disclosures_none: &'static str,
    pub transfers_none: &'static str,
    pub transfers_some: &'static str,
    pub marker_identity_code: &'static str,
    pub marker_special_category: &'static str,
    pub marker_company_data: &'static str,
    pub label_manual: &'static str,
    pub label_electronic: &'static str,
    pub rights: [&'static str; 4],
    pub right_withdraw_consent: &'static str,
    pub right_portability: &'static str,
    pub rights_requests: &'static str,
    pub label_access: &'static str,
    pub label_rectification: &'static str,
    pub label_marketing: &'static str,
    pub complaint: [&'static str; 2],
}

impl Phrases {
    /// The heading of `section`; the tables list them in `Section`'s order.
    pub fn heading(&self, section: Section) -> &'static str {
        self.headings[section as usize]
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Marks a text the register has only in `text_lang`, in this notice's language.
    pub fn only_in(&self, text_lang: Lang) -> &'static str {
        match (self.lang, text_lang) {
            (Lang::Fi, Lang::Fi) => "(suomeksi)",
            (Lang::Fi, Lang::Sv) => "(vain ruotsiksi)",
            (Lang::Fi, Lang::En) => "(vain englanniksi)",
            (Lang::Sv, Lang::Fi) => "(endast på finska)",
            (Lang::Sv, Lang::Sv) => "(på svenska)",
            (Lang::Sv, Lang::En) => "(endast på engelska)",
            (Lang::En, Lang::Fi) => "(in Finnish only)",
            (Lang::En, Lang::Sv) => "(in Swedish only)",
            (Lang::En, Lang::En) => "(in English)",
        }
    }

    pub fn legal_basis(&self, basis: LegalBasis) -> &'static str {
        use LegalBasis::*;
        match (self.lang(), basis) {
            (Lang::Fi, Consent) => "rekisteröidyn suostumus",
            (Lang::Fi, Contract) => "sopimus tai asiakassuhde",
            (Lang::Fi, LegalObligation) => "lakisääteinen velvoite",
            (Lang::Fi, VitalInterests) => "elintärkeiden etujen suojaaminen",
            (Lang::Fi, PublicTask) => "yleisen edun mukainen tehtävä tai julkisen vallan käyttö",
            (Lang::Fi, LegitimateInterests) => "rekisterinpitäjän oikeutettu etu",
            (Lang::Sv, Consent) => "den registrerades samtycke",
            (Lang::Sv, Contract) => "avtal eller kundförhållande",
            (Lang::Sv, LegalObligation) => "rättslig förpliktelse",
            (Lang::Sv, VitalInterests) => "skydd av grundläggande intressen",
            (Lang::Sv, PublicTask) => "uppgift av allmänt intresse eller myndighetsutövning",
            (Lang::Sv, LegitimateInterests) => "den personuppgiftsansvariges berättigade intresse",
            (Lang::En, Consent) => "the data subject's consent",
            (Lang::En, Contract) => "a contract or customer relationship",
            (Lang::En, LegalObligation) => "a legal obligation",
            (Lang::En, VitalInterests) => "protecting vital interests",
            (Lang::En, PublicTask) => "a task in the public interest or official authority",
            (Lang::En, LegitimateInterests) => "the controller's legitimate interests",
        }
    }

    /// "(GDPR Art. 6(1)(b))" and its translations.
    pub fn legal_basis_article(&self, basis: LegalBasis) -> String {
        let letter = match basis {
            LegalBasis::Consent => 'a',
            LegalBasis::Contract => 'b',
            LegalBasis::LegalObligation => 'c',
            LegalBasis::VitalInterests => 'd',
            LegalBasis::PublicTask => 'e',
            LegalBasis::LegitimateInterests => 'f',
        };
        match self.lang() {
            Lang::Fi => format!("tietosuoja-asetuksen 6 artiklan 1 kohdan {letter} alakohta"),
            Lang::Sv => format!("artikel 6.1 {letter} i dataskyddsförordningen"),
            Lang::En => format!("GDPR Article 6(1)({letter})"),
        }
    }

    pub fn safeguard(&self, safeguard: TransferSafeguard) -> &'static str {
        use TransferSafeguard::*;
        match (self.lang(), safeguard) {
            (Lang::Fi, AdequacyDecision) => {
                "Euroopan komission tietosuojan riittävyyttä koskeva päätös"
            }
            (Lang::Fi, StandardContractualClauses) => "Euroopan komission vakiosopimuslausekkeet",
            (Lang::Fi, ExplicitConsent) => "rekisteröidyn nimenomainen suostumus",
            (Lang::Fi, None) => "ei suojatoimia",
            (Lang::Sv, AdequacyDecision) => "Europeiska kommissionens beslut om adekvat skyddsnivå",
            (Lang::Sv, StandardContractualClauses) => {
                "Europeiska kommissionens standardavtalsklausuler"
            }
            (Lang::Sv, ExplicitConsent) => "den registrerades uttryckliga samtycke",
            (Lang::Sv, None) => "inga skyddsåtgärder",
            (Lang::En, AdequacyDecision) => "an adequacy decision of the European Commission",
            (Lang::En, StandardContractualClauses) => {
                "the European Commission's standard contractual clauses"
            }
            (Lang::En, ExplicitConsent) => "the data subject's explicit consent",
            (Lang::En, None) => "no safeguards",
        }
    }

    fn unit(&self, unit: PeriodUnit, n: u32) -> &'static str {
        use PeriodUnit::*;
        match (self.lang(), unit, n == 1) {
            (Lang::Fi, Years, true) => "vuosi",
            (Lang::Fi, Years, false) => "vuotta",
            (Lang::Fi, Months, true) => "kuukausi",
            (Lang::Fi, Months, false) => "kuukautta",
            (Lang::Fi, Days, true) => "päivä",
            (Lang::Fi, Days, false) => "päivää",
            (Lang::Sv, Years, _) => "år",
            (Lang::Sv, Months, true) => "månad",
            (Lang::Sv, Months, false) => "månader",
            (Lang::Sv, Days, true) => "dag",
            (Lang::Sv, Days, false) => "dagar",
            (Lang::En, Years, true) => "year",
            (Lang::En, Years, false) => "years",
            (Lang::En, Months, true) => "month",
            (Lang::En, Months, false) => "months",
            (Lang::En, Days, true) => "day",
            (Lang::En, Days, false) => "days",
        }
    }

    /// The retention rule as one sentence.
    pub fn retention(&self, rule: &RetentionRule) -> String {
        let period = match rule.unit {
            Some(unit) if rule.period > 0 => {
                format!("{} {}", rule.period, self.unit(unit, rule.period))
            }
            _ => String::new(),
        };
        use RetentionTrigger::*;
        match (self.lang(), rule.trigger) {
            (Lang::Fi, RelationshipEnd) => {
                format!("Tietoja säilytetään enintään {period} asiakassuhteen päättymisestä.")
            }
            (Lang::Fi, Collection) => {
                format!("Tietoja säilytetään enintään {period} niiden keräämisestä.")
            }
            (Lang::Fi, ConsentWithdrawal) if period.is_empty() => {
                "Tietoja säilytetään, kunnes suostumus peruutetaan.".into()
            }
            (Lang::Fi, ConsentWithdrawal) => {
                format!("Tietoja säilytetään enintään {period} suostumuksen peruuttamisesta.")
            }
            (Lang::Fi, RelationshipDuration) => {
                "Tietoja säilytetään niin kauan kuin asiakassuhde on voimassa.".into()
            }
            (Lang::Fi, Law) if period.is_empty() => {
                format!("Säilytysaika määräytyy lain mukaan: {}.", rule.law)
            }
            (Lang::Fi, Law) => format!(
                "Säilytysaika määräytyy lain mukaan: {}. Tietoja säilytetään {period}.",
                rule.law
            ),
            (Lang::Sv, RelationshipEnd) => {
                format!("Uppgifterna bevaras i högst {period} efter att kundförhållandet upphört.")
            }
            (Lang::Sv, Collection) => {
                format!("Uppgifterna bevaras i högst {period} från insamlingen.")
            }
            (Lang::Sv, ConsentWithdrawal) if period.is_empty() => {
                "Uppgifterna bevaras tills samtycket återkallas.".into()
            }
            (Lang::Sv, ConsentWithdrawal) => {
                format!("Uppgifterna bevaras i högst {period} efter att samtycket återkallats.")
            }
            (Lang::Sv, RelationshipDuration) => {
                "Uppgifterna bevaras så länge kundförhållandet består.".into()
            }
            (Lang::Sv, Law) if period.is_empty() => {
                format!("Lagringstiden bestäms av lag: {}.", rule.law)
            }
            (Lang::Sv, Law) => format!(
                "Lagringstiden bestäms av lag: {}. Uppgifterna bevaras i {period}.",
                rule.law
            ),
            (Lang::En, RelationshipEnd) => format!(
                "The data is kept for at most {period} after the customer relationship ends."
            ),
            (Lang::En, Collection) => {
                format!("The data is kept for at most {period} after it was collected.")
            }
            (Lang::En, ConsentWithdrawal) if period.is_empty() => {
                "The data is kept until consent is withdrawn.".into()
            }
            (Lang::En, ConsentWithdrawal) => {
                format!("The data is kept for at most {period} after consent is withdrawn.")
            }
            (Lang::En, RelationshipDuration) => {
                "The data is kept for as long as the customer relationship lasts.".into()
            }
            (Lang::En, Law) if period.is_empty() => {
                format!("The retention period is set by law: {}.", rule.law)
            }
            (Lang::En, Law) => format!(
                "The retention period is set by law: {}. The data is kept for {period}.",
                rule.law
            ),
        }
    }

    pub fn version_line(&self, version: u32, date: &str) -> String {
        format!("{} {version}, {} {date}", self.version, self.published)
    }
}

const FI_HEADINGS: [&str; 17] = [
    "Rekisterinpitäjä",
    "Yhteyshenkilö rekisteriä koskevissa asioissa",
    "Rekisterin nimi",
    "Henkilötietojen käsittelyn tarkoitukset",
    "Käsittelyn oikeusperuste",
    "Rekisteröityjen ryhmät",
    "Käsiteltävät henkilötiedot",
    "Säännönmukaiset tietolähteet",
    "Tietojen säännönmukaiset luovutukset ja vastaanottajat",
    "Tietojen siirto EU:n tai ETA:n ulkopuolelle",
    "Tietojen säilytysaika",
    "Rekisteröidyn oikeudet",
    "Tarkastusoikeus",
    "Oikeus vaatia tiedon korjaamista",
    "Suoramarkkinointikielto",
    "Oikeus tehdä valitus valvontaviranomaiselle",
    "Rekisterin suojauksen periaatteet",
];

const SV_HEADINGS: [&str; 17] = [
    "Personuppgiftsansvarig",
    "Kontaktperson i ärenden som gäller registret",
    "Registrets namn",
    "Ändamålen med behandlingen av personuppgifter",
    "Rättslig grund för behandlingen",
    "Kategorier av registrerade",
    "Personuppgifter som behandlas",
    "Regelbundna uppgiftskällor",
    "Regelbundna utlämnanden och mottagare",
    "Överföring av uppgifter utanför EU eller EES",
    "Lagringstid",
    "Den registrerades rättigheter",
    "Rätt till insyn",
    "Rätt att kräva rättelse",
    "Förbud mot direktmarknadsföring",
    "Rätt att lämna klagomål till tillsynsmyndigheten",
    "Principer för skyddet av registret",
];

const EN_HEADINGS: [&str; 17] = [
    "Controller",
    "Contact person for register matters",
    "Name of the register",
    "Purposes of processing",
    "Legal basis for processing",
    "Categories of data subjects",
    "Personal data processed",
    "Regular sources of data",
    "Regular disclosures and recipients",
    "Transfers outside the EU/EEA",
    "Retention period",
    "Your rights",
    "Right of access",
    "Right to rectification",
    "Prohibition of direct marketing",
    "Right to lodge a complaint with the supervisory authority",
    "How the register is protected",
];

static FI: Phrases = Phrases {
    lang: Lang::Fi,
    headings: &FI_HEADINGS,
    title_gdpr: "Tietosuojaseloste",
    title_section10: "Rekisteriseloste",
    subtitle_gdpr: "EU:n yleisen tietosuoja-asetuksen (2016/679) 13 ja 14 artiklan mukaiset tiedot",
    subtitle_section10: "Henkilötietolain (523/1999) 10 §:n mukainen rekisteriseloste",
    version: "Versio",
    published: "julkaistu",
    label_name: "Nimi",
    label_business_id: "Y-tunnus",
    label_address: "Osoite",
    label_phone: "Puhelin",
    label_email: "Sähköposti",
    label_role: "Tehtävä",
    label_basis_article: "peruste",
    data_subject_itself: "Rekisteröity itse",
    disclosure_basis: "oikeusperuste",
    disclosures_none: "Tietoja ei luovuteta säännönmukaisesti.",
    transfers_none: "Tietoja ei siirretä EU:n tai ETA:n ulkopuolelle.",
    transfers_some: "Tietoja siirretään EU:n tai ETA:n ulkopuolelle seuraavasti:",
    marker_identity_code: "[henkilötunnus]",
    marker_special_category: "[erityinen henkilötietoryhmä]",
    marker_company_data: "[yritystieto]",
    label_manual: "Manuaalinen aineisto",
    label_electronic: "Sähköiset järjestelmät",
    rights: [
        "Sinulla on oikeus saada tietää, käsitelläänkö henkilötietojasi, ja saada jäljennös niistä (tarkastusoikeus, 15 artikla).",
        "Sinulla on oikeus vaatia virheellisten tietojen oikaisemista ja puutteellisten tietojen täydentämistä (16 artikla).",
        "Sinulla on oikeus vaatia tietojesi poistamista (17 artikla) ja käsittelyn rajoittamista (18 artikla) laissa säädetyin edellytyksin.",
        "Sinulla on oikeus vastustaa tietojesi käsittelyä oikeutetun edun perusteella ja kieltää tietojesi käyttö suoramarkkinointiin (21 artikla).",
    ],
    right_withdraw_consent: "Voit peruuttaa suostumuksesi milloin tahansa; peruuttaminen ei vaikuta sitä ennen tehdyn käsittelyn lainmukaisuuteen (7 artikla).",
    right_portability: "Sinulla on oikeus saada itse toimittamasi tiedot koneluettavassa muodossa ja siirtää ne toiselle rekisterinpitäjälle (20 artikla).",
    rights_requests: "Oikeuksiasi koskevat pyynnöt osoitetaan rekisterin yhteyshenkilölle. Pyyntöön vastataan kuukauden kuluessa.",
    label_access: "Tarkastusoikeuden käyttäminen",
    label_rectification: "Tietojen korjaaminen",
    label_marketing: "Suoramarkkinoinnin kieltäminen",
    complaint: [
        "Jos katsot, että henkilötietojesi käsittely rikkoo tietosuoja-asetusta, sinulla on oikeus tehdä valitus valvontaviranomaiselle (77 artikla).",
        "Suomessa valvontaviranomainen on tietosuojavaltuutettu: Tietosuojavaltuutetun toimisto, PL 800, 00531 Helsinki, tietosuoja@om.fi, www.tietosuoja.fi.",
    ],
};

static SV: Phrases = Phrases {
    lang: Lang::Sv,
    headings: &SV_HEADINGS,
    title_gdpr: "Dataskyddsbeskrivning",
    title_section10: "Registerbeskrivning",
    subtitle_gdpr: "Information enligt artiklarna 13 och 14 i EU:s allmänna dataskyddsförordning (2016/679)",
    subtitle_section10: "Registerbeskrivning enligt 10 § i personuppgiftslagen (523/1999)",
    version: "Version",
    published: "publicerad",
    label_name: "Namn",
    label_business_id: "FO-nummer",
    label_address: "Adress",
    label_phone: "Telefon",
    label_email: "E-post",
    label_role: "Uppgift",
    label_basis_article: "grund",
    data_subject_itself: "Den registrerade själv",
    disclosure_basis: "rättslig grund",
    disclosures_none: "Uppgifter lämnas inte ut regelbundet.",
    transfers_none: "Uppgifter överförs inte utanför EU eller EES.",
    transfers_some: "Uppgifter överförs utanför EU eller EES enligt följande:",
    marker_identity_code: "[personbeteckning]",
    marker_special_category: "[särskild kategori av personuppgifter]",
    marker_company_data: "[företagsuppgift]",
    label_manual: "Manuellt material",
    label_electronic: "Elektroniska system",
    rights: [
        "Du har rätt att få veta om dina personuppgifter behandlas och att få en kopia av dem (rätt till insyn, artikel 15).",
        "Du har rätt att kräva att felaktiga uppgifter rättas och att ofullständiga uppgifter kompletteras (artikel 16).",
        "Du har rätt att kräva att dina uppgifter raderas (artikel 17) och att behandlingen begränsas (artikel 18) på de villkor som anges i lag.",
        "Du har rätt att invända mot behandling som grundar sig på berättigat intresse och att förbjuda att dina uppgifter används för direktmarknadsföring (artikel 21).",
    ],
    right_withdraw_consent: "Du kan när som helst återkalla ditt samtycke; återkallandet påverkar inte lagligheten av behandlingen innan dess (artikel 7).",
    right_portability: "Du har rätt att få de uppgifter du själv lämnat i maskinläsbar form och överföra dem till en annan personuppgiftsansvarig (artikel 20).",
    rights_requests: "Begäranden som gäller dina rättigheter riktas till registrets kontaktperson. Vi svarar inom en månad.",
    label_access: "Så begär du insyn",
    label_rectification: "Rättelse av uppgifter",
    label_marketing: "Förbud mot direktmarknadsföring",
    complaint: [
        "Om du anser att behandlingen av dina personuppgifter strider mot dataskyddsförordningen har du rätt att lämna klagomål till tillsynsmyndigheten (artikel 77).",
        "I Finland är tillsynsmyndigheten dataombudsmannen: Dataombudsmannens byrå, PB 800, 00531 Helsingfors, tietosuoja@om.fi, www.tietosuoja.fi/sv.",
    ],
};

static EN: Phrases = Phrases {
    lang: Lang::En,
    headings: &EN_HEADINGS,
    title_gdpr: "Privacy notice",
    title_section10: "Description of a personal data file",
    subtitle_gdpr: "Information under Articles 13 and 14 of the EU General Data Protection Regulation (2016/679)",
    subtitle_section10: "Description of a personal data file under section 10 of the Finnish Personal Data Act (523/1999)",
    version: "Version",
    published: "published",
    label_name: "Name",
    label_business_id: "Business ID",
    label_address: "Address",
    label_phone: "Phone",
    label_email: "Email",
    label_role: "Role",
    label_basis_article: "basis",
    data_subject_itself: "The data subject",
    disclosure_basis: "legal basis",
    disclosures_none: "The data is not disclosed regularly.",
    transfers_none: "The data is not transferred outside the EU or the EEA.",
    transfers_some: "The data is transferred outside the EU or the EEA as follows:",
    marker_identity_code: "[national identity code]",
    marker_special_category: "[special category of personal data]",
    marker_company_data: "[company data]",
    label_manual: "Manual material",
    label_electronic: "Electronic systems",
    rights: [
        "You have the right to know whether your personal data is processed and to get a copy of it (right of access, Article 15).",
        "You have the right to have inaccurate data rectified and incomplete data completed (Article 16).",
        "You have the right to have your data erased (Article 17) and its processing restricted (Article 18) under the conditions set by law.",
        "You have the right to object to processing based on legitimate interests and to prohibit the use of your data for direct marketing (Article 21).",
    ],
    right_withdraw_consent: "You may withdraw your consent at any time; this does not affect the lawfulness of processing before the withdrawal (Article 7).",
    right_portability: "You have the right to receive the data you provided in a machine-readable form and to transmit it to another controller (Article 20).",
    rights_requests: "Send requests concerning your rights to the register's contact person. We answer within one month.",
    label_access: "How to request access",
    label_rectification: "Rectification",
    label_marketing: "Prohibiting direct marketing",
    complaint: [
        "If you consider that the processing of your personal data infringes the GDPR, you have the right to lodge a complaint with the supervisory authority (Article 77).",
        "In Finland the supervisory authority is the Data Protection Ombudsman: Office of the Data Protection Ombudsman, P.O. Box 800, 00531 Helsinki, tietosuoja@om.fi, www.tietosuoja.fi/en.",
    ],
};

/// Every fixed sentence of every language: what the importer treats as standard text.
pub fn standard_sentences() -> impl Iterator<Item = &'static str> {
    Lang::ALL.into_iter().flat_map(|lang| {
        let p = lang.phrases();
        p.rights.iter().chain(p.complaint.iter()).copied().chain([
            p.right_withdraw_consent,
            p.right_portability,
            p.rights_requests,
            p.subtitle_gdpr,
            p.subtitle_section10,
            p.transfers_some,
        ])
    })
}
