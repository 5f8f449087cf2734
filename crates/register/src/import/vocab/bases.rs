//! Legal bases in the words of the three languages.

use super::*;

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
