//! What the service holds, as types: requests are parsed into these at the edge, every invalid
//! field reported at once, and nothing else reaches the store.

use chrono::NaiveDate;
use rekisteri_identifiers::{
    AssociationNumber, BusinessId, Email, HetuPolicy, Language, PersonalIdentityCode, PhoneNumber,
    PostalCode,
};
use rekisteri_platform::error::FieldViolations;
use rekisteri_proto::common::v1 as common;
use rekisteri_proto::customers::v1 as pb;

/// Longest free text accepted in names, lines and notes.
pub(crate) const MAX_TEXT: usize = 1000;
const MAX_NOTE: usize = 10_000;
const MAX_VALUES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub lines: Vec<String>,
    pub postal_code: String,
    pub post_office: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country_code: String,
}

/// What an update does with the stored identity code.
#[derive(Debug, Clone)]
pub enum IdentityCodeChange {
    Keep,
    Set(PersonalIdentityCode),
    Remove,
}

#[derive(Debug, Clone)]
pub struct PersonDetails {
    pub given_names: String,
    pub family_name: String,
    pub identity_code: IdentityCodeChange,
    pub date_of_birth: Option<NaiveDate>,
    pub emails: Vec<Email>,
    pub phones: Vec<PhoneNumber>,
    pub addresses: Vec<Address>,
    pub language: Option<Language>,
    pub user_accounts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct OrganisationDetails {
    pub name: String,
    pub business_id: Option<BusinessId>,
    pub association_number: Option<AssociationNumber>,
    pub addresses: Vec<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub register_id: String,
    pub basis: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingDetails {
    pub address: Option<Address>,
    pub e_invoice_address: Option<String>,
    pub e_invoice_operator: Option<String>,
    pub invoice_language: Option<Language>,
}

impl BillingDetails {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Email,
    Phone,
    Sms,
    Post,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Sms => "sms",
            Channel::Post => "post",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "email" => Channel::Email,
            "phone" => Channel::Phone,
            "sms" => Channel::Sms,
            "post" => Channel::Post,
            _ => return None,
        })
    }
    pub fn to_pb(self) -> pb::Channel {
        match self {
            Channel::Email => pb::Channel::Email,
            Channel::Phone => pb::Channel::Phone,
            Channel::Sms => pb::Channel::Sms,
            Channel::Post => pb::Channel::Post,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactRole {
    DecisionMaker,
    Administration,
    Billing,
    Technical,
    ReportedUser,
}

impl ContactRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactRole::DecisionMaker => "decision_maker",
            ContactRole::Administration => "administration",
            ContactRole::Billing => "billing",
            ContactRole::Technical => "technical",
            ContactRole::ReportedUser => "reported_user",
        }
    }
    pub fn to_pb(s: &str) -> pb::ContactRole {
        match s {
            "decision_maker" => pb::ContactRole::DecisionMaker,
            "administration" => pb::ContactRole::Administration,
            "billing" => pb::ContactRole::Billing,
            "technical" => pb::ContactRole::Technical,
            "reported_user" => pb::ContactRole::ReportedUser,
            _ => pb::ContactRole::Unspecified,
        }
    }
    pub fn from_pb(value: i32) -> Option<Self> {
        Some(match pb::ContactRole::try_from(value).ok()? {
            pb::ContactRole::DecisionMaker => ContactRole::DecisionMaker,
            pb::ContactRole::Administration => ContactRole::Administration,
            pb::ContactRole::Billing => ContactRole::Billing,
            pb::ContactRole::Technical => ContactRole::Technical,
            pb::ContactRole::ReportedUser => ContactRole::ReportedUser,
            pb::ContactRole::Unspecified => return None,
        })
    }
}

/// What a caller may store about a subject depends on the data categories its registers declare.
/// Each kind of field names the category keys that allow it (any one suffices); see
/// `docs/customers.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Name,
    IdentityCode,
    DateOfBirth,
    ContactDetails,
    Language,
    UserAccounts,
    OrganisationDetails,
    BusinessId,
    ContactPersons,
    Services,
    Billing,
    CustomerHistory,
    MarketingConsent,
    Interests,
}

impl FieldKind {
    /// The category keys that allow this kind of field.
    pub fn category_keys(self) -> &'static [&'static str] {
        match self {
            FieldKind::Name => &["name", "contact_details"],
            FieldKind::IdentityCode => &["national_identity_code"],
            FieldKind::DateOfBirth => &["date_of_birth", "national_identity_code"],
            FieldKind::ContactDetails => &["contact_details"],
            FieldKind::Language => &["language", "contact_details"],
            FieldKind::UserAccounts => &["user_accounts"],
            FieldKind::OrganisationDetails => {
                &["organisation_details", "business_id", "contact_details"]
            }
            FieldKind::BusinessId => &["business_id", "organisation_details"],
            FieldKind::ContactPersons => &["contact_persons"],
            FieldKind::Services => &["services", "customer_history"],
            FieldKind::Billing => &["billing", "contact_details"],
            FieldKind::CustomerHistory => &["customer_history"],
            FieldKind::MarketingConsent => &["marketing"],
            FieldKind::Interests => &["interests", "marketing"],
        }
    }
}

impl PersonDetails {
    /// The fields this write stores, with their request paths.
    pub fn stored_fields(&self, prefix: &str) -> Vec<(String, FieldKind)> {
        let mut fields = vec![(format!("{prefix}.family_name"), FieldKind::Name)];
        let mut add = |present: bool, name: &str, kind| {
            if present {
                fields.push((format!("{prefix}.{name}"), kind));
            }
        };
        add(
            matches!(self.identity_code, IdentityCodeChange::Set(_)),
            "personal_identity_code",
            FieldKind::IdentityCode,
        );
        add(
            self.date_of_birth.is_some(),
            "date_of_birth",
            FieldKind::DateOfBirth,
        );
        add(!self.emails.is_empty(), "emails", FieldKind::ContactDetails);
        add(!self.phones.is_empty(), "phones", FieldKind::ContactDetails);
        add(
            !self.addresses.is_empty(),
            "addresses",
            FieldKind::ContactDetails,
        );
        add(self.language.is_some(), "language", FieldKind::Language);
        add(
            !self.user_accounts.is_empty(),
            "user_accounts",
            FieldKind::UserAccounts,
        );
        fields
    }
}

impl OrganisationDetails {
    pub fn stored_fields(&self, prefix: &str) -> Vec<(String, FieldKind)> {
        let mut fields = vec![(format!("{prefix}.name"), FieldKind::OrganisationDetails)];
        if self.business_id.is_some() {
            fields.push((format!("{prefix}.business_id"), FieldKind::BusinessId));
        }
        if self.association_number.is_some() {
            fields.push((
                format!("{prefix}.association_number"),
                FieldKind::BusinessId,
            ));
        }
        if !self.addresses.is_empty() {
            fields.push((
                format!("{prefix}.addresses"),
                FieldKind::OrganisationDetails,
            ));
        }
        fields
    }
}

pub(crate) fn text(
    value: &str,
    field: &str,
    required: bool,
    max: usize,
    violations: &mut FieldViolations,
) -> String {
    let value = value.trim();
    if required && value.is_empty() {
        violations.add(field, "required");
    } else if value.chars().count() > max {
        violations.add(field, format!("at most {max} characters"));
    } else if value.chars().any(|c| c.is_control() && c != '\n') {
        violations.add(field, "contains control characters");
    }
    value.to_owned()
}

pub fn date(value: &str, field: &str, violations: &mut FieldViolations) -> Option<NaiveDate> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            violations.add(field, "a date as YYYY-MM-DD");
            None
        }
    }
}

fn language(value: &str, field: &str, violations: &mut FieldViolations) -> Option<Language> {
    if value.trim().is_empty() {
        return None;
    }
    Language::parse(value)
        .map_err(|e| violations.add(field, e.to_string()))
        .ok()
}

fn limited<'a, T>(items: &'a [T], field: &str, violations: &mut FieldViolations) -> &'a [T] {
    if items.len() > MAX_VALUES {
        violations.add(field, format!("at most {MAX_VALUES} values"));
        &items[..MAX_VALUES]
    } else {
        items
    }
}

pub fn address(
    a: &common::PostalAddress,
    field: &str,
    violations: &mut FieldViolations,
) -> Address {
    let country_code = if a.country_code.trim().is_empty() {
        "FI".to_owned()
    } else {
        a.country_code.trim().to_ascii_uppercase()
    };
    if country_code.len() != 2 || !country_code.bytes().all(|b| b.is_ascii_uppercase()) {
        violations.add(
            format!("{field}.country_code"),
            "an ISO 3166-1 alpha-2 code, e.g. FI",
        );
    }
    let lines: Vec<String> = limited(&a.lines, &format!("{field}.lines"), violations)
        .iter()
        .enumerate()
        .map(|(i, l)| text(l, &format!("{field}.lines[{i}]"), false, 200, violations))
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        violations.add(format!("{field}.lines"), "at least one address line");
    }
    let postal_code = if country_code == "FI" {
        match PostalCode::parse(&a.postal_code) {
            Ok(code) => code.as_str().to_owned(),
            Err(e) => {
                violations.add(format!("{field}.postal_code"), e.to_string());
                String::new()
            }
        }
    } else {
        text(
            &a.postal_code,
            &format!("{field}.postal_code"),
            false,
            16,
            violations,
        )
    };
    let post_office = text(
        &a.post_office,
        &format!("{field}.post_office"),
        true,
        100,
        violations,
    );
    Address {
        lines,
        postal_code,
        post_office,
        country_code,
    }
}

fn addresses(
    items: &[common::PostalAddress],
    field: &str,
    violations: &mut FieldViolations,
) -> Vec<Address> {
    limited(items, field, violations)
        .iter()
        .enumerate()
        .map(|(i, a)| address(a, &format!("{field}[{i}]"), violations))
        .collect()
}

/// Parses a person. On create an empty code means none; on update, keep the stored one.
pub fn person(
    p: Option<&pb::Person>,
    field: &str,
    policy: HetuPolicy,
    remove_code: bool,
    violations: &mut FieldViolations,
) -> PersonDetails {
    let default = pb::Person::default();
    if p.is_none() {
        violations.add(field, "required");
    }
    let p = p.unwrap_or(&default);
    let identity_code = if !p.personal_identity_code.trim().is_empty() {
        if remove_code {
            violations.add(
                "remove_personal_identity_code",
                "cannot remove the code and give a new one at once",
            );
        }
        match PersonalIdentityCode::parse(&p.personal_identity_code, policy) {
            Ok(code) => IdentityCodeChange::Set(code),
            Err(e) => {
                violations.add(format!("{field}.personal_identity_code"), e.to_string());
                IdentityCodeChange::Keep
            }
        }
    } else if remove_code {
        IdentityCodeChange::Remove
    } else {
        IdentityCodeChange::Keep
    };
    let date_of_birth = date(
        &p.date_of_birth,
        &format!("{field}.date_of_birth"),
        violations,
    );
    if let (IdentityCodeChange::Set(code), Some(born)) = (&identity_code, date_of_birth)
        && code.birth_date() != born
    {
        violations.add(
            format!("{field}.date_of_birth"),
            "does not agree with the date in the personal identity code",
        );
    }
    let emails = limited(&p.emails, &format!("{field}.emails"), violations)
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            Email::parse(e)
                .map_err(|err| violations.add(format!("{field}.emails[{i}]"), err.to_string()))
                .ok()
        })
        .collect();
    let phones = limited(&p.phones, &format!("{field}.phones"), violations)
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            PhoneNumber::parse(n)
                .map_err(|err| violations.add(format!("{field}.phones[{i}]"), err.to_string()))
                .ok()
        })
        .collect();
    let user_accounts = limited(
        &p.user_accounts,
        &format!("{field}.user_accounts"),
        violations,
    )
    .iter()
    .enumerate()
    .map(|(i, a)| {
        text(
            a,
            &format!("{field}.user_accounts[{i}]"),
            true,
            200,
            violations,
        )
    })
    .collect();
    PersonDetails {
        given_names: text(
            &p.given_names,
            &format!("{field}.given_names"),
            false,
            MAX_TEXT,
            violations,
        ),
        family_name: text(
            &p.family_name,
            &format!("{field}.family_name"),
            true,
            MAX_TEXT,
            violations,
        ),
        identity_code,
        date_of_birth,
        emails,
        phones,
        addresses: addresses(&p.addresses, &format!("{field}.addresses"), violations),
        language: language(&p.language, &format!("{field}.language"), violations),
        user_accounts,
    }
}

pub fn organisation(
    o: Option<&pb::Organisation>,
    field: &str,
    violations: &mut FieldViolations,
) -> OrganisationDetails {
    let default = pb::Organisation::default();
    if o.is_none() {
        violations.add(field, "required");
    }
    let o = o.unwrap_or(&default);
    let business_id = o
        .business_id
        .as_ref()
        .map(|b| b.value.trim())
        .filter(|v| !v.is_empty())
        .and_then(|v| {
            BusinessId::parse(v)
                .map_err(|e| violations.add(format!("{field}.business_id"), e.to_string()))
                .ok()
        });
    let association_number = Some(o.association_number.trim())
        .filter(|v| !v.is_empty())
        .and_then(|v| {
            AssociationNumber::parse(v)
                .map_err(|e| violations.add(format!("{field}.association_number"), e.to_string()))
                .ok()
        });
    OrganisationDetails {
        name: text(
            &o.name,
            &format!("{field}.name"),
            true,
            MAX_TEXT,
            violations,
        ),
        business_id,
        association_number,
        addresses: addresses(&o.addresses, &format!("{field}.addresses"), violations),
    }
}

pub fn memberships(
    items: &[pb::RegisterMembership],
    field: &str,
    today: NaiveDate,
    violations: &mut FieldViolations,
) -> Vec<Membership> {
    let mut seen = std::collections::HashSet::new();
    limited(items, field, violations)
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let path = format!("{field}[{i}]");
            let register_id = match uuid::Uuid::parse_str(m.register_id.trim()) {
                Ok(id) => id.to_string(),
                Err(_) => {
                    violations.add(format!("{path}.register_id"), "a register id (UUID)");
                    return None;
                }
            };
            if !seen.insert(register_id.clone()) {
                violations.add(format!("{path}.register_id"), "named twice");
            }
            let start =
                date(&m.start_date, &format!("{path}.start_date"), violations).unwrap_or(today);
            let end = date(&m.end_date, &format!("{path}.end_date"), violations);
            if end.is_some_and(|end| end < start) {
                violations.add(format!("{path}.end_date"), "before the start date");
            }
            Some(Membership {
                register_id,
                basis: text(&m.basis, &format!("{path}.basis"), true, 200, violations),
                start,
                end,
            })
        })
        .collect()
}

pub fn billing(
    b: Option<&pb::Billing>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<BillingDetails> {
    let b = b?;
    let optional = |v: &str, name: &str, violations: &mut FieldViolations| {
        Some(text(v, &format!("{field}.{name}"), false, 64, violations)).filter(|v| !v.is_empty())
    };
    Some(BillingDetails {
        address: b
            .billing_address
            .as_ref()
            .map(|a| address(a, &format!("{field}.billing_address"), violations)),
        e_invoice_address: optional(&b.e_invoice_address, "e_invoice_address", violations),
        e_invoice_operator: optional(&b.e_invoice_operator, "e_invoice_operator", violations),
        invoice_language: language(
            &b.invoice_language,
            &format!("{field}.invoice_language"),
            violations,
        ),
    })
}

pub fn note_text(value: &str, field: &str, violations: &mut FieldViolations) -> String {
    text(value, field, true, MAX_NOTE, violations)
}

pub fn reason(value: &str, violations: &mut FieldViolations) -> String {
    text(value, "reason", true, 500, violations)
}

pub fn subject_id(raw: &str, field: &str, violations: &mut FieldViolations) -> String {
    match uuid::Uuid::parse_str(raw.trim()) {
        Ok(id) => id.to_string(),
        Err(_) => {
            violations.add(field, "a subject id (UUID)");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations_of(p: pb::Person) -> Vec<String> {
        let mut v = FieldViolations::new();
        person(Some(&p), "person", HetuPolicy::default(), false, &mut v);
        v.iter().map(|(f, _)| f.to_owned()).collect()
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let fields = violations_of(pb::Person {
            given_names: "Matti".into(),
            family_name: " ".into(),
            personal_identity_code: "131052-308U".into(),
            date_of_birth: "1952-13-01".into(),
            emails: vec!["matti@example.fi".into(), "not an email".into()],
            phones: vec!["044 596 2025".into(), "12".into()],
            addresses: vec![common::PostalAddress {
                lines: vec!["Peninkulma 15".into()],
                postal_code: "9081".into(),
                post_office: "Kiviniemi".into(),
                country_code: String::new(),
            }],
            language: "de".into(),
            ..Default::default()
        });
        let mut fields = fields;
        fields.sort();
        assert_eq!(
            fields,
            [
                "person.addresses[0].postal_code",
                "person.date_of_birth",
                "person.emails[1]",
                "person.family_name",
                "person.language",
                "person.personal_identity_code",
                "person.phones[1]",
            ]
        );
    }

    #[test]
    fn the_birth_date_must_agree_with_the_code() {
        let fields = violations_of(pb::Person {
            family_name: "Meikäläinen".into(),
            personal_identity_code: "131052-308T".into(),
            date_of_birth: "1952-10-14".into(),
            ..Default::default()
        });
        assert_eq!(fields, ["person.date_of_birth"]);
    }

    #[test]
    fn values_are_normalised() {
        let mut v = FieldViolations::new();
        let p = person(
            Some(&pb::Person {
                family_name: " Meikäläinen ".into(),
                phones: vec!["06 2477 100".into()],
                emails: vec!["Matti@Example.FI".into()],
                language: "SV".into(),
                ..Default::default()
            }),
            "person",
            HetuPolicy::default(),
            false,
            &mut v,
        );
        assert!(v.is_empty());
        assert_eq!(p.family_name, "Meikäläinen");
        assert_eq!(p.phones[0].as_str(), "+35862477100");
        assert_eq!(p.emails[0].as_str(), "Matti@example.fi");
        assert_eq!(p.language, Some(Language::Swedish));
    }
}
