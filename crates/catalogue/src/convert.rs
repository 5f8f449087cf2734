//! Conversions between the API's protobuf messages and the catalogue's domain: the register
//! content (parsed with every problem reported under the request's field paths), import reports,
//! registers and versions.

use chrono::{DateTime, Utc};
use rekisteri_identifiers::BusinessId;
use rekisteri_platform::error::FieldViolations;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::common::v1 as common;
use rekisteri_register::content::*;
use rekisteri_register::import::{ImportReport, MappedField, SectionReport, UnmappedLine};
use rekisteri_register::{RegisterContent, Violations};

use crate::lifecycle::{RegisterStatus, VersionState};
use crate::store::{Register, Version};

/// Parses a request's content: the values protobuf cannot type (enums, business IDs) here, then
/// the register's own rules on the result, every problem reported at once under `prefix`
/// (e.g. `content`) and the request's field names.
pub fn content_of(
    prefix: &str,
    content: Option<&pb::RegisterContent>,
) -> Result<RegisterContent, FieldViolations> {
    parse_content(prefix, content, true)
}

/// As [`content_of`], for an edit of a draft: the translations are checked by the store once
/// they have followed the edit (a deleted purpose takes its translation with it), not here
/// against the edited texts they have not followed yet.
pub fn content_for_update(
    prefix: &str,
    content: Option<&pb::RegisterContent>,
) -> Result<RegisterContent, FieldViolations> {
    parse_content(prefix, content, false)
}

fn parse_content(
    prefix: &str,
    content: Option<&pb::RegisterContent>,
    check_translations: bool,
) -> Result<RegisterContent, FieldViolations> {
    let mut violations = FieldViolations::new();
    let Some(c) = content else {
        violations.add(prefix, "required");
        return Err(violations);
    };
    let p = |field: &str| format!("{prefix}.{field}");
    // Items a request had to leave out (an unknown enum value): the domain's list is shorter, so
    // its indexes are mapped back to the request's before its violations are reported.
    let mut kept = Kept::default();

    let mut legal_bases = Vec::new();
    for (i, basis) in c.legal_bases.iter().enumerate() {
        match legal_basis_of(*basis) {
            Ok(Some(b)) => {
                legal_bases.push(b);
                kept.legal_bases.push(i);
            }
            Ok(None) => violations.add(p(&format!("legal_bases[{i}]")), "choose a legal basis"),
            Err(()) => violations.add(
                p(&format!("legal_bases[{i}]")),
                format!("{basis} is not a LegalBasis"),
            ),
        }
    }
    let controller = c
        .controller
        .as_ref()
        .map_or_else(Controller::default, |ctl| Controller {
            name: ctl.name.clone(),
            business_id: business_id_of(
                &mut violations,
                p("controller.business_id"),
                ctl.business_id.as_ref(),
            ),
            address: address_of(ctl.address.as_ref()),
            phone: contact_of(ctl.contact.as_ref()).0,
            email: contact_of(ctl.contact.as_ref()).1,
        });
    let mut sources = Vec::new();
    for (i, src) in c.sources.iter().enumerate() {
        let organisation_business_id = business_id_of(
            &mut violations,
            p(&format!("sources[{i}].organisation_business_id")),
            src.organisation_business_id.as_ref(),
        );
        let kind = match pb::DataSourceKind::try_from(src.kind) {
            Ok(pb::DataSourceKind::DataSubject) => DataSourceKind::DataSubject,
            Ok(pb::DataSourceKind::External) => DataSourceKind::External,
            _ => {
                violations.add(p(&format!("sources[{i}].kind")), "DATA_SUBJECT or EXTERNAL");
                continue;
            }
        };
        kept.sources.push(i);
        sources.push(DataSource {
            kind,
            organisation_name: src.organisation_name.clone(),
            organisation_business_id,
            supplies: src.supplies.clone(),
        });
    }
    let contact_person = c
        .contact_person
        .as_ref()
        .map_or_else(ContactPerson::default, |cp| ContactPerson {
            name: cp.name.clone(),
            role: cp.role.clone(),
            address: address_of(cp.address.as_ref()),
            phone: contact_of(cp.contact.as_ref()).0,
            email: contact_of(cp.contact.as_ref()).1,
        });
    let mut disclosures = Vec::new();
    for (i, d) in c.disclosures.iter().enumerate() {
        let legal_basis = legal_basis_of(d.legal_basis).unwrap_or_else(|()| {
            violations.add(
                p(&format!("disclosures[{i}].legal_basis")),
                format!("{} is not a LegalBasis", d.legal_basis),
            );
            None
        });
        disclosures.push(Disclosure {
            recipient: d.recipient.clone(),
            purpose: d.purpose.clone(),
            legal_basis,
        });
    }
    let transfers_outside_eea = match pb::TransfersOutsideEea::try_from(c.transfers_outside_eea) {
        Ok(pb::TransfersOutsideEea::Unspecified) => None,
        Ok(pb::TransfersOutsideEea::None) => Some(TransfersOutsideEea::None),
        Ok(pb::TransfersOutsideEea::Some) => Some(TransfersOutsideEea::Some),
        Err(_) => {
            violations.add(p("transfers_outside_eea"), "NONE or SOME");
            None
        }
    };
    let mut transfers = Vec::new();
    for (i, t) in c.transfers.iter().enumerate() {
        let safeguard = match pb::TransferSafeguard::try_from(t.safeguard) {
            Ok(pb::TransferSafeguard::AdequacyDecision) => TransferSafeguard::AdequacyDecision,
            Ok(pb::TransferSafeguard::StandardContractualClauses) => {
                TransferSafeguard::StandardContractualClauses
            }
            Ok(pb::TransferSafeguard::ExplicitConsent) => TransferSafeguard::ExplicitConsent,
            Ok(pb::TransferSafeguard::None) => TransferSafeguard::None,
            _ => {
                violations.add(
                    p(&format!("transfers[{i}].safeguard")),
                    "choose the safeguard, or NONE",
                );
                continue;
            }
        };
        kept.transfers.push(i);
        transfers.push(ThirdCountryTransfer {
            country_code: t.country_code.clone(),
            safeguard,
            description: t.description.clone(),
        });
    }
    let retention = c.retention.as_ref().and_then(|r| {
        retention_of(r)
            .map_err(|(field, description)| {
                violations.add(p(&format!("retention.{field}")), description)
            })
            .ok()
    });
    let content = RegisterContent {
        name: c.name.clone(),
        controller,
        contact_person,
        legal_bases,
        legal_basis_description: c.legal_basis_description.clone(),
        purposes: c.purposes.clone(),
        data_subject_groups: c.data_subject_groups.clone(),
        data_categories: c
            .data_categories
            .iter()
            .map(|d| DataCategory {
                key: d.key.clone(),
                description: d.description.clone(),
                national_identity_code: d.national_identity_code,
                special_category: d.special_category,
                company_data: d.company_data,
            })
            .collect(),
        sources,
        disclosures,
        transfers_outside_eea,
        transfers,
        retention,
        security: c
            .security
            .as_ref()
            .map_or_else(SecurityPrinciples::default, |s| SecurityPrinciples {
                manual_material: s.manual_material.clone(),
                electronic_systems: s.electronic_systems.clone(),
            }),
        rights: c
            .rights
            .as_ref()
            .map_or_else(DataSubjectRights::default, |r| DataSubjectRights {
                access: r.access.clone(),
                rectification: r.rectification.clone(),
                marketing_prohibition: r.marketing_prohibition.clone(),
            }),
        language: c.language.clone(),
        translations: c
            .translations
            .iter()
            .map(|t| (t.language.trim().to_lowercase(), translation_of(t)))
            .collect(),
        required_languages: c.required_languages.clone(),
    };
    kept.translations = c
        .translations
        .iter()
        .map(|t| t.language.trim().to_lowercase())
        .collect();
    // Two translations into one language would silently lose one.
    for (i, t) in c.translations.iter().enumerate() {
        let code = t.language.trim().to_lowercase();
        if c.translations[..i]
            .iter()
            .any(|o| o.language.trim().to_lowercase() == code)
        {
            violations.add(
                p(&format!("translations[{i}].language")),
                format!("a second translation into `{code}`"),
            );
        }
    }
    let mut content = content;
    let translations = (!check_translations).then(|| std::mem::take(&mut content.translations));
    let checked = content.check().map(|mut c| {
        if let Some(t) = translations {
            c.translations = t;
        }
        c
    });
    match checked {
        Ok(content) if violations.is_empty() => Ok(content),
        Ok(_) => Err(violations),
        Err(found) => {
            let mut all: Vec<(String, String)> = violations
                .iter()
                .map(|(f, d)| (f.to_owned(), d.to_owned()))
                .chain(found.into_iter().map(|v| {
                    (
                        format!("{prefix}.{}", kept.request_path(&v.field)),
                        v.description,
                    )
                }))
                .collect();
            // In the message's field order, as a client reads its own request.
            all.sort_by_key(|(field, _)| field_rank(field.strip_prefix(prefix).unwrap_or(field)));
            let mut violations = FieldViolations::new();
            all.into_iter().for_each(|(f, d)| violations.add(f, d));
            Err(violations)
        }
    }
}

/// Where a field of `RegisterContent` stands in the message (the sort is stable, so the
/// problems of one field keep their order).
fn field_rank(path: &str) -> usize {
    const ORDER: &[&str] = &[
        "name",
        "controller",
        "contact_person",
        "legal_bases",
        "legal_basis_description",
        "purposes",
        "data_subject_groups",
        "data_categories",
        "sources",
        "disclosures",
        "transfers_outside_eea",
        "transfers",
        "retention",
        "security",
        "rights",
        "language",
        "translations",
        "required_languages",
    ];
    let top = path
        .trim_start_matches('.')
        .split(['.', '['])
        .next()
        .unwrap_or_default();
    ORDER.iter().position(|f| *f == top).unwrap_or(ORDER.len())
}

/// The indexes, in the request, of the list items the domain kept.
#[derive(Default)]
struct Kept {
    legal_bases: Vec<usize>,
    sources: Vec<usize>,
    transfers: Vec<usize>,
    /// The language of each translation, in the request's order.
    translations: Vec<String>,
}

impl Kept {
    /// A domain path (`controller.email`, `sources[1].supplies`) as the request names it
    /// (`controller.contact.email`, the request's index of that source).
    fn request_path(&self, path: &str) -> String {
        // "translations.sv.security_manual_material" is `translations[1].security.manual_material`.
        if let Some(rest) = path.strip_prefix("translations.") {
            let (code, field) = rest.split_once('.').unwrap_or((rest, ""));
            // A language the request has no translation for: the list itself.
            let Some(index) = self.translations.iter().position(|c| c == code) else {
                return "translations".into();
            };
            let field = if let Some(key) = field.strip_prefix("data_categories.") {
                format!("data_category_descriptions[\"{key}\"]")
            } else {
                match field {
                    "security_manual_material" => "security.manual_material".into(),
                    "security_electronic_systems" => "security.electronic_systems".into(),
                    "rights_access" => "rights.access".into(),
                    "rights_rectification" => "rights.rectification".into(),
                    "rights_marketing_prohibition" => "rights.marketing_prohibition".into(),
                    other => other.to_owned(),
                }
            };
            return if field.is_empty() {
                format!("translations[{index}]")
            } else {
                format!("translations[{index}].{field}")
            };
        }
        for (list, kept) in [
            ("legal_bases", &self.legal_bases),
            ("sources", &self.sources),
            ("transfers", &self.transfers),
        ] {
            if let Some(rest) = path.strip_prefix(list).and_then(|r| r.strip_prefix('['))
                && let Some((index, tail)) = rest.split_once(']')
                && let Ok(i) = index.parse::<usize>()
            {
                return format!("{list}[{}]{tail}", kept.get(i).copied().unwrap_or(i));
            }
        }
        for person in ["controller", "contact_person"] {
            for field in ["email", "phone"] {
                if path == format!("{person}.{field}") {
                    return format!("{person}.contact.{field}");
                }
            }
        }
        path.to_owned()
    }
}

/// The register's own violations (e.g. what publishing needs) under the API's field names;
/// `translations` are the register's translation languages in the order the API lists them.
pub fn violations_pb(
    prefix: &str,
    violations: Violations,
    translations: Vec<String>,
) -> FieldViolations {
    let kept = Kept {
        translations,
        ..Kept::default()
    };
    let mut out = FieldViolations::new();
    for v in violations {
        out.add(
            format!("{prefix}.{}", kept.request_path(&v.field)),
            v.description,
        );
    }
    out
}

fn business_id_of(
    violations: &mut FieldViolations,
    path: String,
    value: Option<&common::BusinessId>,
) -> Option<BusinessId> {
    let raw = value.map(|b| b.value.trim()).filter(|v| !v.is_empty())?;
    BusinessId::parse(raw)
        .map_err(|e| violations.add(path, e.to_string()))
        .ok()
}

/// Phone and email of a request's contact details (empty when not given).
fn contact_of(c: Option<&common::ContactDetails>) -> (String, String) {
    c.map_or_else(Default::default, |c| (c.phone.clone(), c.email.clone()))
}

fn address_of(a: Option<&common::PostalAddress>) -> PostalAddress {
    a.map_or_else(PostalAddress::default, |a| PostalAddress {
        lines: a.lines.clone(),
        postal_code: a.postal_code.clone(),
        post_office: a.post_office.clone(),
        country_code: a.country_code.clone(),
    })
}

/// `Ok(None)` for unspecified, `Err` for a number that is no LegalBasis.
fn legal_basis_of(value: i32) -> Result<Option<LegalBasis>, ()> {
    use pb::LegalBasis as P;
    Ok(match P::try_from(value).map_err(|_| ())? {
        P::Unspecified => None,
        P::Consent => Some(LegalBasis::Consent),
        P::Contract => Some(LegalBasis::Contract),
        P::LegalObligation => Some(LegalBasis::LegalObligation),
        P::VitalInterests => Some(LegalBasis::VitalInterests),
        P::PublicTask => Some(LegalBasis::PublicTask),
        P::LegitimateInterests => Some(LegalBasis::LegitimateInterests),
    })
}

fn retention_of(r: &pb::RetentionRule) -> Result<RetentionRule, (&'static str, &'static str)> {
    use pb::RetentionTrigger as T;
    let trigger = match T::try_from(r.trigger) {
        Ok(T::Collection) => RetentionTrigger::Collection,
        Ok(T::RelationshipEnd) => RetentionTrigger::RelationshipEnd,
        Ok(T::RelationshipDuration) => RetentionTrigger::RelationshipDuration,
        Ok(T::Law) => RetentionTrigger::Law,
        Ok(T::ConsentWithdrawal) => RetentionTrigger::ConsentWithdrawal,
        _ => return Err(("trigger", "say what starts the retention period")),
    };
    let unit = match pb::PeriodUnit::try_from(r.unit) {
        Ok(pb::PeriodUnit::Days) => Some(PeriodUnit::Days),
        Ok(pb::PeriodUnit::Months) => Some(PeriodUnit::Months),
        Ok(pb::PeriodUnit::Years) => Some(PeriodUnit::Years),
        Ok(pb::PeriodUnit::Unspecified) => None,
        Err(_) => return Err(("unit", "DAYS, MONTHS or YEARS")),
    };
    Ok(RetentionRule {
        trigger,
        period: r.period,
        unit,
        law: r.law.clone(),
        description: r.description.clone(),
    })
}

fn legal_basis_pb(b: LegalBasis) -> pb::LegalBasis {
    match b {
        LegalBasis::Consent => pb::LegalBasis::Consent,
        LegalBasis::Contract => pb::LegalBasis::Contract,
        LegalBasis::LegalObligation => pb::LegalBasis::LegalObligation,
        LegalBasis::VitalInterests => pb::LegalBasis::VitalInterests,
        LegalBasis::PublicTask => pb::LegalBasis::PublicTask,
        LegalBasis::LegitimateInterests => pb::LegalBasis::LegitimateInterests,
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

/// The content as the API carries it.
pub fn content_pb(c: &RegisterContent) -> pb::RegisterContent {
    {
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
                .map(|b| legal_basis_pb(*b) as i32)
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
                    legal_basis: d.legal_basis.map_or(0, |b| legal_basis_pb(b) as i32),
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
            language: c.language.clone(),
            translations: c
                .translations
                .iter()
                .map(|(code, t)| translation_pb(code, t))
                .collect(),
            required_languages: c.required_languages.clone(),
        }
    }
}

fn translation_of(t: &pb::RegisterTranslation) -> Translation {
    let security = t.security.clone().unwrap_or_default();
    let rights = t.rights.clone().unwrap_or_default();
    Translation {
        name: t.name.clone(),
        legal_basis_description: t.legal_basis_description.clone(),
        purposes: t.purposes.clone(),
        data_subject_groups: t.data_subject_groups.clone(),
        data_categories: t
            .data_category_descriptions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        source_supplies: t.source_supplies.clone(),
        disclosure_purposes: t.disclosure_purposes.clone(),
        transfer_descriptions: t.transfer_descriptions.clone(),
        contact_person_role: t.contact_person_role.clone(),
        controller_name: t.controller_name.clone(),
        retention_law: t.retention_law.clone(),
        retention_description: t.retention_description.clone(),
        security_manual_material: security.manual_material,
        security_electronic_systems: security.electronic_systems,
        rights_access: rights.access,
        rights_rectification: rights.rectification,
        rights_marketing_prohibition: rights.marketing_prohibition,
    }
}

fn translation_pb(code: &str, t: &Translation) -> pb::RegisterTranslation {
    let security = pb::SecurityPrinciples {
        manual_material: t.security_manual_material.clone(),
        electronic_systems: t.security_electronic_systems.clone(),
    };
    let rights = pb::DataSubjectRights {
        access: t.rights_access.clone(),
        rectification: t.rights_rectification.clone(),
        marketing_prohibition: t.rights_marketing_prohibition.clone(),
    };
    pb::RegisterTranslation {
        language: code.to_owned(),
        name: t.name.clone(),
        legal_basis_description: t.legal_basis_description.clone(),
        purposes: t.purposes.clone(),
        data_subject_groups: t.data_subject_groups.clone(),
        data_category_descriptions: t
            .data_categories
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        source_supplies: t.source_supplies.clone(),
        disclosure_purposes: t.disclosure_purposes.clone(),
        transfer_descriptions: t.transfer_descriptions.clone(),
        contact_person_role: t.contact_person_role.clone(),
        controller_name: t.controller_name.clone(),
        retention_law: t.retention_law.clone(),
        retention_description: t.retention_description.clone(),
        security: (security != pb::SecurityPrinciples::default()).then_some(security),
        rights: (rights != pb::DataSubjectRights::default()).then_some(rights),
    }
}

/// The import report as the API carries it.
pub fn report_pb(r: &ImportReport) -> pb::ImportReport {
    {
        pb::ImportReport {
            source_name: r.source_name.clone(),
            language: r.language.clone(),
            sections: r
                .sections
                .iter()
                .map(|s| pb::ImportedSection {
                    heading: s.heading.clone(),
                    kind: s.kind.clone(),
                    line: s.line,
                    original_text: s.original_text.clone(),
                })
                .collect(),
            mapped_fields: r
                .mapped
                .iter()
                .map(|m| pb::MappedField {
                    field: m.field.clone(),
                    value: m.value.clone(),
                    evidence: m.evidence.clone(),
                    lines: m.lines.clone(),
                })
                .collect(),
            unmapped_lines: r
                .unmapped
                .iter()
                .map(|u| pb::UnmappedLine {
                    line: u.line,
                    text: u.text.clone(),
                    section: u.section.clone(),
                    reason: u.reason.clone(),
                })
                .collect(),
        }
    }
}

/// An import report as the API carried it (for clients that print it).
pub fn report_of(r: &pb::ImportReport) -> ImportReport {
    {
        ImportReport {
            source_name: r.source_name.clone(),
            language: r.language.clone(),
            sections: r
                .sections
                .iter()
                .map(|s| SectionReport {
                    heading: s.heading.clone(),
                    kind: s.kind.clone(),
                    line: s.line,
                    original_text: s.original_text.clone(),
                })
                .collect(),
            mapped: r
                .mapped_fields
                .iter()
                .map(|m| MappedField {
                    field: m.field.clone(),
                    value: m.value.clone(),
                    evidence: m.evidence.clone(),
                    lines: m.lines.clone(),
                })
                .collect(),
            unmapped: r
                .unmapped_lines
                .iter()
                .map(|u| UnmappedLine {
                    line: u.line,
                    text: u.text.clone(),
                    section: u.section.clone(),
                    reason: u.reason.clone(),
                })
                .collect(),
        }
    }
}

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

fn actor(subject: &str) -> Option<common::Actor> {
    Some(common::Actor {
        subject: subject.to_owned(),
    })
}

pub fn register_pb(r: &Register) -> pb::Register {
    pb::Register {
        register_id: r.id.clone(),
        status: match r.status {
            RegisterStatus::Draft => pb::RegisterStatus::Draft,
            RegisterStatus::Published => pb::RegisterStatus::Published,
            RegisterStatus::Retired => pb::RegisterStatus::Retired,
        } as i32,
        name: r.name.clone(),
        controller_name: r.controller_name.clone(),
        controller_business_id: r
            .controller_business_id
            .clone()
            .map(|value| common::BusinessId { value }),
        latest_version: r.latest_version as u32,
        published_version: r.published_version.unwrap_or(0) as u32,
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        retire_reason: r.retire_reason.clone().unwrap_or_default(),
        retired_by: r.retired_by.as_deref().and_then(actor),
        retire_time: r.retired_at.map(timestamp),
        etag: r.etag(),
    }
}

pub fn version_pb(v: &Version) -> pb::RegisterVersion {
    pb::RegisterVersion {
        register_id: v.register_id.clone(),
        version: v.number as u32,
        state: match v.state {
            VersionState::Draft => pb::VersionState::Draft,
            VersionState::Published => pb::VersionState::Published,
            VersionState::Superseded => pb::VersionState::Superseded,
            VersionState::Retired => pb::VersionState::Retired,
            VersionState::Abandoned => pb::VersionState::Abandoned,
        } as i32,
        content: Some(content_pb(&v.content)),
        created_by: actor(&v.created_by),
        create_time: Some(timestamp(v.created_at)),
        updated_by: actor(&v.updated_by),
        update_time: Some(timestamp(v.updated_at)),
        published_by: v.published_by.as_deref().and_then(actor),
        publish_time: v.published_at.map(timestamp),
        import_report: v.import_report.as_ref().map(report_pb),
    }
}
