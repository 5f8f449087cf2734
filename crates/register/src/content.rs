//! The register as the catalogue understands it: what a rekisteriseloste / GDPR Art. 30 record
//! declares. This is also the YAML/JSON file format of `rekisteri catalogue create --file`.
//!
//! A draft may be incomplete, but whatever it holds is well-formed: [`RegisterContent::check`]
//! trims it and checks formats (business IDs, emails, keys, lengths), the same checks for a client's
//! request and for an imported document. [`RegisterContent::completeness`] checks what publishing
//! needs. Both report every problem at once, under the field paths of this model.

use std::collections::BTreeMap;

use rekisteri_identifiers::BusinessId;
use serde::{Deserialize, Serialize};

pub use crate::translate::{LANGUAGES, Translation};

/// The most items a register's list (purposes, categories, sources, ...) may hold.
pub const MAX_LIST_ITEMS: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterContent {
    pub name: String,
    pub controller: Controller,
    pub contact_person: ContactPerson,
    pub legal_bases: Vec<LegalBasis>,
    pub legal_basis_description: String,
    pub purposes: Vec<String>,
    pub data_subject_groups: Vec<String>,
    pub data_categories: Vec<DataCategory>,
    pub sources: Vec<DataSource>,
    pub disclosures: Vec<Disclosure>,
    pub transfers_outside_eea: Option<TransfersOutsideEea>,
    pub transfers: Vec<ThirdCountryTransfer>,
    pub retention: Option<RetentionRule>,
    pub security: SecurityPrinciples,
    pub rights: DataSubjectRights,
    /// The language of the texts above: "fi", "sv" or "en"; empty means Finnish, as registers
    /// were before they had translations.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub language: String,
    /// The same texts in the register's other languages, by language code.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, Translation>,
    /// Languages a published version has every text in (a bilingual municipality: fi and sv).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_languages: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Controller {
    pub name: String,
    pub business_id: Option<BusinessId>,
    pub address: PostalAddress,
    pub phone: String,
    pub email: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactPerson {
    pub name: String,
    pub role: String,
    pub address: PostalAddress,
    pub phone: String,
    pub email: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostalAddress {
    pub lines: Vec<String>,
    pub postal_code: String,
    pub post_office: String,
    pub country_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterests,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataCategory {
    pub key: String,
    pub description: String,
    pub national_identity_code: bool,
    pub special_category: bool,
    pub company_data: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSourceKind {
    DataSubject,
    External,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    pub kind: DataSourceKind,
    #[serde(default)]
    pub organisation_name: String,
    #[serde(default)]
    pub organisation_business_id: Option<BusinessId>,
    #[serde(default)]
    pub supplies: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    pub recipient: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub legal_basis: Option<LegalBasis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransfersOutsideEea {
    None,
    Some,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferSafeguard {
    AdequacyDecision,
    StandardContractualClauses,
    ExplicitConsent,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThirdCountryTransfer {
    pub country_code: String,
    pub safeguard: TransferSafeguard,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionTrigger {
    Collection,
    RelationshipEnd,
    RelationshipDuration,
    Law,
    ConsentWithdrawal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Days,
    Months,
    Years,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub trigger: RetentionTrigger,
    #[serde(default)]
    pub period: u32,
    #[serde(default)]
    pub unit: Option<PeriodUnit>,
    #[serde(default)]
    pub law: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityPrinciples {
    pub manual_material: String,
    pub electronic_systems: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSubjectRights {
    pub access: String,
    pub rectification: String,
    pub marketing_prohibition: String,
}
