//! The register as the catalogue understands it: what a rekisteriseloste / GDPR Art. 30 record
//! declares. This is also the YAML/JSON file format of `rekisteri catalogue create --file`.
//!
//! A draft may be incomplete, but whatever it holds is well-formed: [`RegisterContent::from_proto`]
//! checks formats (business IDs, emails, enums, keys). [`RegisterContent::completeness`] checks
//! what publishing needs, and reports every gap at once.

use rekisteri_identifiers::BusinessId;
use rekisteri_platform::error::FieldViolations;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::common::v1 as common;
use serde::{Deserialize, Serialize};

const MAX_SHORT: usize = 300;
const MAX_LONG: usize = 10_000;
const MAX_ITEMS: usize = 500;

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

// ---------------------------------------------------------------------------------------------
// Validation helpers. Each adds violations under `path` and returns the cleaned value.

struct Checker<'a> {
    violations: &'a mut FieldViolations,
}

impl Checker<'_> {
    fn text(&mut self, path: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.chars().count() > max {
            self.violations
                .add(path, format!("at most {max} characters"));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            self.violations
                .add(path, "must not contain control characters");
        }
        value.to_owned()
    }

    fn list(&mut self, path: &str, values: &[String], max_len: usize) -> Vec<String> {
        if values.len() > MAX_ITEMS {
            self.violations
                .add(path, format!("at most {MAX_ITEMS} entries"));
        }
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let v = self.text(&format!("{path}[{i}]"), v, max_len);
            if v.is_empty() {
                self.violations
                    .add(format!("{path}[{i}]"), "must not be empty");
            }
            out.push(v);
        }
        out
    }

    fn business_id(
        &mut self,
        path: &str,
        value: Option<&common::BusinessId>,
    ) -> Option<BusinessId> {
        let raw = value.map(|b| b.value.trim()).filter(|v| !v.is_empty())?;
        match BusinessId::parse(raw) {
            Ok(id) => Some(id),
            Err(e) => {
                self.violations.add(path, e.to_string());
                None
            }
        }
    }

    fn email(&mut self, path: &str, value: &str) -> String {
        let value = self.text(path, value, MAX_SHORT);
        if !value.is_empty() && !looks_like_email(&value) {
            self.violations
                .add(path, format!("`{value}` is not an email address"));
        }
        value
    }

    fn phone(&mut self, path: &str, value: &str) -> String {
        let value = self.text(path, value, 50);
        let allowed = value
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()/".contains(c));
        let digits = value.chars().filter(char::is_ascii_digit).count();
        if !value.is_empty() && (!allowed || !(5..=15).contains(&digits)) {
            self.violations
                .add(path, format!("`{value}` is not a phone number"));
        }
        value
    }

    fn country(&mut self, path: &str, value: &str) -> String {
        let value = value.trim().to_ascii_uppercase();
        let alpha2 = value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase());
        if !value.is_empty() && !alpha2 {
            self.violations
                .add(path, "an ISO 3166-1 alpha-2 country code, e.g. FI");
        }
        value
    }

    fn address(&mut self, path: &str, value: Option<&common::PostalAddress>) -> PostalAddress {
        let Some(a) = value else {
            return PostalAddress::default();
        };
        let country_code = self.country(&format!("{path}.country_code"), &a.country_code);
        let postal_code = self.text(&format!("{path}.postal_code"), &a.postal_code, 20);
        let finnish = country_code.is_empty() || country_code == "FI";
        if finnish
            && !postal_code.is_empty()
            && !(postal_code.len() == 5 && postal_code.bytes().all(|b| b.is_ascii_digit()))
        {
            self.violations.add(
                format!("{path}.postal_code"),
                "a Finnish postal code is five digits",
            );
        }
        PostalAddress {
            lines: self.list(&format!("{path}.lines"), &a.lines, MAX_SHORT),
            postal_code,
            post_office: self.text(&format!("{path}.post_office"), &a.post_office, MAX_SHORT),
            country_code,
        }
    }

    fn legal_basis(&mut self, path: &str, value: i32, required: bool) -> Option<LegalBasis> {
        use pb::LegalBasis as P;
        match P::try_from(value) {
            Ok(P::Unspecified) if !required => None,
            Ok(P::Unspecified) => {
                self.violations.add(path, "choose a legal basis");
                None
            }
            Ok(P::Consent) => Some(LegalBasis::Consent),
            Ok(P::Contract) => Some(LegalBasis::Contract),
            Ok(P::LegalObligation) => Some(LegalBasis::LegalObligation),
            Ok(P::VitalInterests) => Some(LegalBasis::VitalInterests),
            Ok(P::PublicTask) => Some(LegalBasis::PublicTask),
            Ok(P::LegitimateInterests) => Some(LegalBasis::LegitimateInterests),
            Err(_) => {
                self.violations
                    .add(path, format!("{value} is not a LegalBasis"));
                None
            }
        }
    }
}

fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(char::is_whitespace)
}

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z'))
        && key.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl RegisterContent {
    /// Parses and format-checks a request's content. Every problem is reported, under paths
    /// starting with `prefix` (e.g. `content`).
    pub fn from_proto(
        prefix: &str,
        content: Option<&pb::RegisterContent>,
    ) -> Result<Self, FieldViolations> {
        let mut violations = FieldViolations::new();
        let Some(c) = content else {
            violations.add(prefix, "required");
            return Err(violations);
        };
        let mut ck = Checker {
            violations: &mut violations,
        };
        let p = |field: &str| format!("{prefix}.{field}");

        let name = ck.text(&p("name"), &c.name, MAX_SHORT);
        let controller = match &c.controller {
            None => Controller::default(),
            Some(ctl) => Controller {
                name: ck.text(&p("controller.name"), &ctl.name, MAX_SHORT),
                business_id: ck.business_id(&p("controller.business_id"), ctl.business_id.as_ref()),
                address: ck.address(&p("controller.address"), ctl.address.as_ref()),
                phone: ck.phone(
                    &p("controller.contact.phone"),
                    ctl.contact.as_ref().map_or("", |x| &x.phone),
                ),
                email: ck.email(
                    &p("controller.contact.email"),
                    ctl.contact.as_ref().map_or("", |x| &x.email),
                ),
            },
        };
        let contact_person = match &c.contact_person {
            None => ContactPerson::default(),
            Some(cp) => ContactPerson {
                name: ck.text(&p("contact_person.name"), &cp.name, MAX_SHORT),
                role: ck.text(&p("contact_person.role"), &cp.role, MAX_SHORT),
                address: ck.address(&p("contact_person.address"), cp.address.as_ref()),
                phone: ck.phone(
                    &p("contact_person.contact.phone"),
                    cp.contact.as_ref().map_or("", |x| &x.phone),
                ),
                email: ck.email(
                    &p("contact_person.contact.email"),
                    cp.contact.as_ref().map_or("", |x| &x.email),
                ),
            },
        };
        let mut legal_bases = Vec::new();
        for (i, basis) in c.legal_bases.iter().enumerate() {
            if let Some(b) = ck.legal_basis(&p(&format!("legal_bases[{i}]")), *basis, true) {
                if legal_bases.contains(&b) {
                    ck.violations
                        .add(p(&format!("legal_bases[{i}]")), "listed twice");
                }
                legal_bases.push(b);
            }
        }
        let legal_basis_description = ck.text(
            &p("legal_basis_description"),
            &c.legal_basis_description,
            MAX_LONG,
        );
        let purposes = ck.list(&p("purposes"), &c.purposes, MAX_LONG);
        let data_subject_groups =
            ck.list(&p("data_subject_groups"), &c.data_subject_groups, MAX_SHORT);

        let mut data_categories: Vec<DataCategory> = Vec::new();
        for (i, cat) in c.data_categories.iter().enumerate() {
            let path = p(&format!("data_categories[{i}]"));
            let key = cat.key.trim().to_owned();
            if !is_key(&key) {
                ck.violations.add(
                    format!("{path}.key"),
                    "a lower_snake_case key starting with a letter, at most 64 characters",
                );
            } else if data_categories.iter().any(|d| d.key == key) {
                ck.violations.add(
                    format!("{path}.key"),
                    format!("`{key}` is used by another category"),
                );
            }
            let description = ck.text(&format!("{path}.description"), &cat.description, MAX_LONG);
            if description.is_empty() {
                ck.violations
                    .add(format!("{path}.description"), "say what the category holds");
            }
            if cat.national_identity_code && cat.company_data {
                ck.violations.add(
                    format!("{path}.company_data"),
                    "a national identity code is about a person, not a company",
                );
            }
            data_categories.push(DataCategory {
                key,
                description,
                national_identity_code: cat.national_identity_code,
                special_category: cat.special_category,
                company_data: cat.company_data,
            });
        }

        let mut sources = Vec::new();
        for (i, src) in c.sources.iter().enumerate() {
            let path = p(&format!("sources[{i}]"));
            let organisation_name = ck.text(
                &format!("{path}.organisation_name"),
                &src.organisation_name,
                MAX_SHORT,
            );
            let organisation_business_id = ck.business_id(
                &format!("{path}.organisation_business_id"),
                src.organisation_business_id.as_ref(),
            );
            let supplies = ck.text(&format!("{path}.supplies"), &src.supplies, MAX_LONG);
            let kind = match pb::DataSourceKind::try_from(src.kind) {
                Ok(pb::DataSourceKind::DataSubject) => DataSourceKind::DataSubject,
                Ok(pb::DataSourceKind::External) => {
                    if organisation_name.is_empty() {
                        ck.violations.add(
                            format!("{path}.organisation_name"),
                            "name the external source",
                        );
                    }
                    DataSourceKind::External
                }
                _ => {
                    ck.violations
                        .add(format!("{path}.kind"), "DATA_SUBJECT or EXTERNAL");
                    continue;
                }
            };
            sources.push(DataSource {
                kind,
                organisation_name,
                organisation_business_id,
                supplies,
            });
        }

        let mut disclosures = Vec::new();
        for (i, d) in c.disclosures.iter().enumerate() {
            let path = p(&format!("disclosures[{i}]"));
            let recipient = ck.text(&format!("{path}.recipient"), &d.recipient, MAX_SHORT);
            if recipient.is_empty() {
                ck.violations
                    .add(format!("{path}.recipient"), "name the recipient");
            }
            disclosures.push(Disclosure {
                recipient,
                purpose: ck.text(&format!("{path}.purpose"), &d.purpose, MAX_LONG),
                legal_basis: ck.legal_basis(&format!("{path}.legal_basis"), d.legal_basis, false),
            });
        }

        let transfers_outside_eea = match pb::TransfersOutsideEea::try_from(c.transfers_outside_eea)
        {
            Ok(pb::TransfersOutsideEea::Unspecified) => None,
            Ok(pb::TransfersOutsideEea::None) => Some(TransfersOutsideEea::None),
            Ok(pb::TransfersOutsideEea::Some) => Some(TransfersOutsideEea::Some),
            Err(_) => {
                ck.violations
                    .add(p("transfers_outside_eea"), "NONE or SOME");
                None
            }
        };
        let mut transfers = Vec::new();
        for (i, t) in c.transfers.iter().enumerate() {
            let path = p(&format!("transfers[{i}]"));
            let country_code = ck.country(&format!("{path}.country_code"), &t.country_code);
            if country_code.is_empty() {
                ck.violations
                    .add(format!("{path}.country_code"), "required");
            }
            let description = ck.text(&format!("{path}.description"), &t.description, MAX_LONG);
            let safeguard = match pb::TransferSafeguard::try_from(t.safeguard) {
                Ok(pb::TransferSafeguard::AdequacyDecision) => TransferSafeguard::AdequacyDecision,
                Ok(pb::TransferSafeguard::StandardContractualClauses) => {
                    TransferSafeguard::StandardContractualClauses
                }
                Ok(pb::TransferSafeguard::ExplicitConsent) => TransferSafeguard::ExplicitConsent,
                Ok(pb::TransferSafeguard::None) => {
                    if description.is_empty() {
                        ck.violations.add(
                            format!("{path}.description"),
                            "without a safeguard the register must say so and why",
                        );
                    }
                    TransferSafeguard::None
                }
                _ => {
                    ck.violations
                        .add(format!("{path}.safeguard"), "choose the safeguard, or NONE");
                    continue;
                }
            };
            transfers.push(ThirdCountryTransfer {
                country_code,
                safeguard,
                description,
            });
        }
        match transfers_outside_eea {
            Some(TransfersOutsideEea::None) if !c.transfers.is_empty() => {
                ck.violations.add(
                    p("transfers"),
                    "transfers are listed but transfers_outside_eea is NONE",
                );
            }
            Some(TransfersOutsideEea::Some) if c.transfers.is_empty() => {
                ck.violations
                    .add(p("transfers"), "list each transfer outside the EU/EEA");
            }
            None if !c.transfers.is_empty() => {
                ck.violations
                    .add(p("transfers_outside_eea"), "transfers are listed: set SOME");
            }
            _ => {}
        }

        let retention = c
            .retention
            .as_ref()
            .and_then(|r| retention(&mut ck, &p("retention"), r));
        let security = c
            .security
            .as_ref()
            .map_or_else(SecurityPrinciples::default, |s| SecurityPrinciples {
                manual_material: ck.text(
                    &p("security.manual_material"),
                    &s.manual_material,
                    MAX_LONG,
                ),
                electronic_systems: ck.text(
                    &p("security.electronic_systems"),
                    &s.electronic_systems,
                    MAX_LONG,
                ),
            });
        let rights = c
            .rights
            .as_ref()
            .map_or_else(DataSubjectRights::default, |r| DataSubjectRights {
                access: ck.text(&p("rights.access"), &r.access, MAX_LONG),
                rectification: ck.text(&p("rights.rectification"), &r.rectification, MAX_LONG),
                marketing_prohibition: ck.text(
                    &p("rights.marketing_prohibition"),
                    &r.marketing_prohibition,
                    MAX_LONG,
                ),
            });

        let content = RegisterContent {
            name,
            controller,
            contact_person,
            legal_bases,
            legal_basis_description,
            purposes,
            data_subject_groups,
            data_categories,
            sources,
            disclosures,
            transfers_outside_eea,
            transfers,
            retention,
            security,
            rights,
        };
        if violations.is_empty() {
            Ok(content)
        } else {
            Err(violations)
        }
    }

    /// What publishing requires and this version lacks, every gap at once, under `prefix`.
    pub fn completeness(&self, prefix: &str) -> FieldViolations {
        let mut v = FieldViolations::new();
        let p = |field: &str| format!("{prefix}.{field}");
        if self.name.is_empty() {
            v.add(p("name"), "a published register needs a name");
        }
        if self.controller.name.is_empty() {
            v.add(
                p("controller.name"),
                "a published register names its controller",
            );
        }
        if self.controller.business_id.is_none() {
            v.add(
                p("controller.business_id"),
                "a published register gives the controller's business ID",
            );
        }
        if self.purposes.is_empty() {
            v.add(
                p("purposes"),
                "a published register states at least one purpose",
            );
        }
        if self.legal_bases.is_empty() {
            v.add(
                p("legal_bases"),
                "a published register states its legal basis",
            );
        }
        if self.data_categories.is_empty() {
            v.add(
                p("data_categories"),
                "a published register declares at least one data category",
            );
        }
        if self.retention.is_none() {
            v.add(
                p("retention"),
                "a published register states how long data is kept",
            );
        }
        v
    }

    pub fn includes_national_identity_code(&self) -> bool {
        self.data_categories
            .iter()
            .any(|c| c.national_identity_code)
    }

    pub fn includes_special_categories(&self) -> bool {
        self.data_categories.iter().any(|c| c.special_category)
    }
}

fn retention(ck: &mut Checker<'_>, path: &str, r: &pb::RetentionRule) -> Option<RetentionRule> {
    use pb::RetentionTrigger as T;
    let trigger = match T::try_from(r.trigger) {
        Ok(T::Collection) => RetentionTrigger::Collection,
        Ok(T::RelationshipEnd) => RetentionTrigger::RelationshipEnd,
        Ok(T::RelationshipDuration) => RetentionTrigger::RelationshipDuration,
        Ok(T::Law) => RetentionTrigger::Law,
        Ok(T::ConsentWithdrawal) => RetentionTrigger::ConsentWithdrawal,
        _ => {
            ck.violations.add(
                format!("{path}.trigger"),
                "say what starts the retention period",
            );
            return None;
        }
    };
    let unit = match pb::PeriodUnit::try_from(r.unit) {
        Ok(pb::PeriodUnit::Days) => Some(PeriodUnit::Days),
        Ok(pb::PeriodUnit::Months) => Some(PeriodUnit::Months),
        Ok(pb::PeriodUnit::Years) => Some(PeriodUnit::Years),
        Ok(pb::PeriodUnit::Unspecified) => None,
        Err(_) => {
            ck.violations
                .add(format!("{path}.unit"), "DAYS, MONTHS or YEARS");
            None
        }
    };
    let law = ck.text(&format!("{path}.law"), &r.law, MAX_SHORT);
    let description = ck.text(&format!("{path}.description"), &r.description, MAX_LONG);
    let needs_period = matches!(
        trigger,
        RetentionTrigger::Collection
            | RetentionTrigger::RelationshipEnd
            | RetentionTrigger::ConsentWithdrawal
    );
    if needs_period && (r.period == 0 || unit.is_none()) {
        ck.violations.add(
            format!("{path}.period"),
            "this trigger needs a period and a unit, e.g. 3 YEARS",
        );
    }
    if r.period > 0 && unit.is_none() {
        ck.violations
            .add(format!("{path}.unit"), "a period needs a unit");
    }
    if trigger == RetentionTrigger::RelationshipDuration && r.period > 0 {
        ck.violations.add(
            format!("{path}.period"),
            "data kept for the relationship's duration has no period",
        );
    }
    if trigger == RetentionTrigger::Law && law.is_empty() {
        ck.violations
            .add(format!("{path}.law"), "name the law that sets the period");
    }
    Some(RetentionRule {
        trigger,
        period: r.period,
        unit,
        law,
        description,
    })
}

// ---------------------------------------------------------------------------------------------
// Domain -> proto.

impl From<LegalBasis> for pb::LegalBasis {
    fn from(b: LegalBasis) -> Self {
        match b {
            LegalBasis::Consent => pb::LegalBasis::Consent,
            LegalBasis::Contract => pb::LegalBasis::Contract,
            LegalBasis::LegalObligation => pb::LegalBasis::LegalObligation,
            LegalBasis::VitalInterests => pb::LegalBasis::VitalInterests,
            LegalBasis::PublicTask => pb::LegalBasis::PublicTask,
            LegalBasis::LegitimateInterests => pb::LegalBasis::LegitimateInterests,
        }
    }
}

fn business_id_pb(id: &Option<BusinessId>) -> Option<common::BusinessId> {
    id.as_ref().map(|b| common::BusinessId {
        value: b.to_string(),
    })
}

fn address_pb(a: &PostalAddress) -> Option<common::PostalAddress> {
    (a != &PostalAddress::default()).then(|| common::PostalAddress {
        lines: a.lines.clone(),
        postal_code: a.postal_code.clone(),
        post_office: a.post_office.clone(),
        country_code: a.country_code.clone(),
    })
}

fn contact_pb(phone: &str, email: &str) -> Option<common::ContactDetails> {
    (!phone.is_empty() || !email.is_empty()).then(|| common::ContactDetails {
        phone: phone.to_owned(),
        email: email.to_owned(),
    })
}

impl From<&RegisterContent> for pb::RegisterContent {
    fn from(c: &RegisterContent) -> Self {
        let ctl = &c.controller;
        let cp = &c.contact_person;
        pb::RegisterContent {
            name: c.name.clone(),
            controller: (ctl != &Controller::default()).then(|| pb::Controller {
                name: ctl.name.clone(),
                business_id: business_id_pb(&ctl.business_id),
                address: address_pb(&ctl.address),
                contact: contact_pb(&ctl.phone, &ctl.email),
            }),
            contact_person: (cp != &ContactPerson::default()).then(|| pb::ContactPerson {
                name: cp.name.clone(),
                role: cp.role.clone(),
                address: address_pb(&cp.address),
                contact: contact_pb(&cp.phone, &cp.email),
            }),
            legal_bases: c
                .legal_bases
                .iter()
                .map(|b| pb::LegalBasis::from(*b) as i32)
                .collect(),
            legal_basis_description: c.legal_basis_description.clone(),
            purposes: c.purposes.clone(),
            data_subject_groups: c.data_subject_groups.clone(),
            data_categories: c
                .data_categories
                .iter()
                .map(|d| pb::DataCategory {
                    key: d.key.clone(),
                    description: d.description.clone(),
                    national_identity_code: d.national_identity_code,
                    special_category: d.special_category,
                    company_data: d.company_data,
                })
                .collect(),
            sources: c
                .sources
                .iter()
                .map(|s| pb::DataSource {
                    kind: match s.kind {
                        DataSourceKind::DataSubject => pb::DataSourceKind::DataSubject,
                        DataSourceKind::External => pb::DataSourceKind::External,
                    } as i32,
                    organisation_name: s.organisation_name.clone(),
                    organisation_business_id: business_id_pb(&s.organisation_business_id),
                    supplies: s.supplies.clone(),
                })
                .collect(),
            disclosures: c
                .disclosures
                .iter()
                .map(|d| pb::Disclosure {
                    recipient: d.recipient.clone(),
                    purpose: d.purpose.clone(),
                    legal_basis: d.legal_basis.map_or(0, |b| pb::LegalBasis::from(b) as i32),
                })
                .collect(),
            transfers_outside_eea: match c.transfers_outside_eea {
                None => pb::TransfersOutsideEea::Unspecified,
                Some(TransfersOutsideEea::None) => pb::TransfersOutsideEea::None,
                Some(TransfersOutsideEea::Some) => pb::TransfersOutsideEea::Some,
            } as i32,
            transfers: c
                .transfers
                .iter()
                .map(|t| pb::ThirdCountryTransfer {
                    country_code: t.country_code.clone(),
                    safeguard: match t.safeguard {
                        TransferSafeguard::AdequacyDecision => {
                            pb::TransferSafeguard::AdequacyDecision
                        }
                        TransferSafeguard::StandardContractualClauses => {
                            pb::TransferSafeguard::StandardContractualClauses
                        }
                        TransferSafeguard::ExplicitConsent => {
                            pb::TransferSafeguard::ExplicitConsent
                        }
                        TransferSafeguard::None => pb::TransferSafeguard::None,
                    } as i32,
                    description: t.description.clone(),
                })
                .collect(),
            retention: c.retention.as_ref().map(|r| pb::RetentionRule {
                trigger: match r.trigger {
                    RetentionTrigger::Collection => pb::RetentionTrigger::Collection,
                    RetentionTrigger::RelationshipEnd => pb::RetentionTrigger::RelationshipEnd,
                    RetentionTrigger::RelationshipDuration => {
                        pb::RetentionTrigger::RelationshipDuration
                    }
                    RetentionTrigger::Law => pb::RetentionTrigger::Law,
                    RetentionTrigger::ConsentWithdrawal => pb::RetentionTrigger::ConsentWithdrawal,
                } as i32,
                period: r.period,
                unit: match r.unit {
                    None => pb::PeriodUnit::Unspecified,
                    Some(PeriodUnit::Days) => pb::PeriodUnit::Days,
                    Some(PeriodUnit::Months) => pb::PeriodUnit::Months,
                    Some(PeriodUnit::Years) => pb::PeriodUnit::Years,
                } as i32,
                law: r.law.clone(),
                description: r.description.clone(),
            }),
            security: (c.security != SecurityPrinciples::default()).then(|| {
                pb::SecurityPrinciples {
                    manual_material: c.security.manual_material.clone(),
                    electronic_systems: c.security.electronic_systems.clone(),
                }
            }),
            rights: (c.rights != DataSubjectRights::default()).then(|| pb::DataSubjectRights {
                access: c.rights.access.clone(),
                rectification: c.rights.rectification.clone(),
                marketing_prohibition: c.rights.marketing_prohibition.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> RegisterContent {
        serde_yaml_like()
    }

    fn serde_yaml_like() -> RegisterContent {
        serde_json::from_value(serde_json::json!({
            "name": "Asiakasrekisteri",
            "controller": {"name": "Verkko24 Oy", "business_id": "0112038-9", "email": "tuki@example.fi",
                "phone": "+358 9 123 4567", "address": {"lines": ["Esimerkkikatu 1"], "postal_code": "00100", "post_office": "HELSINKI"}},
            "legal_bases": ["contract", "legitimate_interests"],
            "purposes": ["Asiakassuhteen hoitaminen"],
            "data_categories": [{"key": "name", "description": "Nimi"}, {"key": "hetu", "description": "Henkilötunnus", "national_identity_code": true}],
            "sources": [{"kind": "data_subject"}, {"kind": "external", "organisation_name": "PRH/YTJ", "supplies": "yritystiedot"}],
            "transfers_outside_eea": "none",
            "retention": {"trigger": "relationship_end", "period": 3, "unit": "years"}
        }))
        .unwrap()
    }

    #[test]
    fn proto_round_trip_keeps_everything() {
        let content = complete();
        let pb = pb::RegisterContent::from(&content);
        assert_eq!(
            RegisterContent::from_proto("content", Some(&pb)).unwrap(),
            content
        );
        assert!(content.completeness("content").is_empty());
        assert!(content.includes_national_identity_code());
    }

    #[test]
    fn every_format_problem_is_reported_at_once() {
        let mut pb = pb::RegisterContent::from(&complete());
        let ctl = pb.controller.as_mut().unwrap();
        ctl.business_id = Some(common::BusinessId {
            value: "0112038-1".into(),
        });
        ctl.contact.as_mut().unwrap().email = "not-an-email".into();
        pb.data_categories[1].key = "Bad Key".into();
        pb.retention.as_mut().unwrap().period = 0;
        pb.legal_bases.push(99);
        let v = RegisterContent::from_proto("content", Some(&pb)).unwrap_err();
        let fields: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "content.controller.business_id",
                "content.controller.contact.email",
                "content.legal_bases[2]",
                "content.data_categories[1].key",
                "content.retention.period"
            ]
        );
    }

    #[test]
    fn completeness_lists_every_gap() {
        let v = RegisterContent::default().completeness("content");
        assert_eq!(v.iter().count(), 7);
    }
}
