//! The rules a register's content follows, checked on the content itself: once, for a client's
//! request (after the catalogue has parsed it from protobuf) and for an imported document alike.

use std::fmt;

use crate::content::*;

const MAX_SHORT: usize = 300;
const MAX_LONG: usize = 10_000;
const MAX_ITEMS: usize = crate::content::MAX_LIST_ITEMS;

/// One problem with one value: where (`controller.email`, `purposes[2]`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
}

/// Every problem found, in the order of the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(Violation {
            field: field.into(),
            description: description.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", v.field, v.description)?;
        }
        Ok(())
    }
}

impl RegisterContent {
    /// Trims every text, upper-cases country codes and checks every rule; the cleaned content, or
    /// every problem at once.
    pub fn check(mut self) -> Result<Self, Violations> {
        self.normalise();
        let violations = self.violations();
        if violations.is_empty() {
            Ok(self)
        } else {
            Err(violations)
        }
    }

    /// What a draft may not hold, every problem at once. Texts are expected trimmed (see
    /// [`RegisterContent::check`]).
    pub fn violations(&self) -> Violations {
        let mut v = Violations::default();
        text(&mut v, "name", &self.name, MAX_SHORT);

        let ctl = &self.controller;
        text(&mut v, "controller.name", &ctl.name, MAX_SHORT);
        address(&mut v, "controller.address", &ctl.address);
        phone(&mut v, "controller.phone", &ctl.phone);
        email(&mut v, "controller.email", &ctl.email);

        let cp = &self.contact_person;
        text(&mut v, "contact_person.name", &cp.name, MAX_SHORT);
        text(&mut v, "contact_person.role", &cp.role, MAX_SHORT);
        address(&mut v, "contact_person.address", &cp.address);
        phone(&mut v, "contact_person.phone", &cp.phone);
        email(&mut v, "contact_person.email", &cp.email);

        for (i, basis) in self.legal_bases.iter().enumerate() {
            if self.legal_bases[..i].contains(basis) {
                v.add(format!("legal_bases[{i}]"), "listed twice");
            }
        }
        text(
            &mut v,
            "legal_basis_description",
            &self.legal_basis_description,
            MAX_LONG,
        );
        list(&mut v, "purposes", &self.purposes, MAX_LONG);
        list(
            &mut v,
            "data_subject_groups",
            &self.data_subject_groups,
            MAX_SHORT,
        );

        count(&mut v, "data_categories", self.data_categories.len());
        // Keys seen so far: a set, as a request may carry many categories.
        let mut keys = std::collections::HashSet::new();
        for (i, cat) in self.data_categories.iter().enumerate() {
            let path = format!("data_categories[{i}]");
            if !is_key(&cat.key) {
                v.add(
                    format!("{path}.key"),
                    "a lower_snake_case key starting with a letter, at most 64 characters",
                );
            } else if !keys.insert(cat.key.as_str()) {
                v.add(
                    format!("{path}.key"),
                    format!("`{}` is used by another category", cat.key),
                );
            }
            text(
                &mut v,
                &format!("{path}.description"),
                &cat.description,
                MAX_LONG,
            );
            if cat.description.is_empty() {
                v.add(format!("{path}.description"), "say what the category holds");
            }
            if cat.national_identity_code && cat.company_data {
                v.add(
                    format!("{path}.company_data"),
                    "a national identity code is about a person, not a company",
                );
            }
        }

        count(&mut v, "sources", self.sources.len());
        for (i, src) in self.sources.iter().enumerate() {
            let path = format!("sources[{i}]");
            text(
                &mut v,
                &format!("{path}.organisation_name"),
                &src.organisation_name,
                MAX_SHORT,
            );
            if src.kind == DataSourceKind::External && src.organisation_name.is_empty() {
                v.add(
                    format!("{path}.organisation_name"),
                    "name the external source",
                );
            }
            text(&mut v, &format!("{path}.supplies"), &src.supplies, MAX_LONG);
        }

        count(&mut v, "disclosures", self.disclosures.len());
        for (i, d) in self.disclosures.iter().enumerate() {
            let path = format!("disclosures[{i}]");
            text(
                &mut v,
                &format!("{path}.recipient"),
                &d.recipient,
                MAX_SHORT,
            );
            if d.recipient.is_empty() {
                v.add(format!("{path}.recipient"), "name the recipient");
            }
            text(&mut v, &format!("{path}.purpose"), &d.purpose, MAX_LONG);
        }

        count(&mut v, "transfers", self.transfers.len());
        for (i, t) in self.transfers.iter().enumerate() {
            let path = format!("transfers[{i}]");
            country(&mut v, &format!("{path}.country_code"), &t.country_code);
            if t.country_code.is_empty() {
                v.add(format!("{path}.country_code"), "required");
            }
            text(
                &mut v,
                &format!("{path}.description"),
                &t.description,
                MAX_LONG,
            );
            if t.safeguard == TransferSafeguard::None && t.description.is_empty() {
                v.add(
                    format!("{path}.description"),
                    "without a safeguard the register must say so and why",
                );
            }
        }
        match self.transfers_outside_eea {
            Some(TransfersOutsideEea::None) if !self.transfers.is_empty() => v.add(
                "transfers",
                "transfers are listed but transfers_outside_eea is NONE",
            ),
            None if !self.transfers.is_empty() => {
                v.add("transfers_outside_eea", "transfers are listed: set SOME")
            }
            _ => {}
        }

        if let Some(r) = &self.retention {
            retention(&mut v, "retention", r);
        }
        self.language_violations(&mut v);
        let s = &self.security;
        text(
            &mut v,
            "security.manual_material",
            &s.manual_material,
            MAX_LONG,
        );
        text(
            &mut v,
            "security.electronic_systems",
            &s.electronic_systems,
            MAX_LONG,
        );
        let r = &self.rights;
        text(&mut v, "rights.access", &r.access, MAX_LONG);
        text(&mut v, "rights.rectification", &r.rectification, MAX_LONG);
        text(
            &mut v,
            "rights.marketing_prohibition",
            &r.marketing_prohibition,
            MAX_LONG,
        );
        v
    }

    /// The languages: known codes, translations of the register's own lists only.
    fn language_violations(&self, v: &mut Violations) {
        let known = |code: &str| LANGUAGES.contains(&code);
        if !self.language.is_empty() && !known(&self.language) {
            v.add(
                "language",
                format!(
                    "`{}` is not a language of registers: fi, sv or en",
                    self.language
                ),
            );
        }
        for (i, code) in self.required_languages.iter().enumerate() {
            if !known(code) {
                v.add(
                    format!("required_languages[{i}]"),
                    format!("`{code}` is not a language of registers: fi, sv or en"),
                );
            } else if self.required_languages[..i].contains(code) {
                v.add(format!("required_languages[{i}]"), "listed twice");
            }
        }
        for (code, t) in &self.translations {
            if !known(code) {
                v.add(
                    format!("translations.{code}"),
                    format!("`{code}` is not a language of registers: fi, sv or en"),
                );
                continue;
            }
            if code == self.primary_language() {
                v.add(
                    format!("translations.{code}"),
                    "the register's own language needs no translation",
                );
            }
            if !t.controller_name.is_empty() && self.controller.name.is_empty() {
                v.add(
                    format!("translations.{code}.controller_name"),
                    "the register names no controller to translate",
                );
            }
            text(
                v,
                &format!("translations.{code}.controller_name"),
                &t.controller_name,
                MAX_SHORT,
            );
            for x in self.translatable(t) {
                let path = format!("translations.{code}.{}", x.field);
                if x.original.is_empty() && !x.translated.is_empty() {
                    v.add(
                        path,
                        "the register has no text here to translate; a translation follows the register's texts",
                    );
                    continue;
                }
                let max = if x.field == "name" {
                    MAX_SHORT
                } else {
                    MAX_LONG
                };
                text(v, &path, x.translated, max);
            }
        }
    }

    /// Trims every text and upper-cases country codes: what a client or a document wrote with
    /// stray whitespace is stored without it.
    pub fn normalise(&mut self) {
        self.language = self.language.trim().to_lowercase();
        for code in &mut self.required_languages {
            *code = code.trim().to_lowercase();
        }
        for t in self.translations.values_mut() {
            for text in [
                &mut t.name,
                &mut t.controller_name,
                &mut t.contact_person_role,
                &mut t.retention_law,
                &mut t.legal_basis_description,
                &mut t.retention_description,
                &mut t.security_manual_material,
                &mut t.security_electronic_systems,
                &mut t.rights_access,
                &mut t.rights_rectification,
                &mut t.rights_marketing_prohibition,
            ] {
                trim(text);
            }
            t.purposes.iter_mut().for_each(trim);
            t.data_subject_groups.iter_mut().for_each(trim);
            t.source_supplies.iter_mut().for_each(trim);
            t.disclosure_purposes.iter_mut().for_each(trim);
            t.transfer_descriptions.iter_mut().for_each(trim);
            t.data_categories.values_mut().for_each(trim);
        }
        fn address(a: &mut PostalAddress) {
            a.lines.iter_mut().for_each(trim);
            trim(&mut a.postal_code);
            trim(&mut a.post_office);
            a.country_code = a.country_code.trim().to_ascii_uppercase();
        }
        trim(&mut self.name);
        let ctl = &mut self.controller;
        for t in [&mut ctl.name, &mut ctl.phone, &mut ctl.email] {
            trim(t);
        }
        address(&mut ctl.address);
        let cp = &mut self.contact_person;
        for t in [&mut cp.name, &mut cp.role, &mut cp.phone, &mut cp.email] {
            trim(t);
        }
        address(&mut cp.address);
        trim(&mut self.legal_basis_description);
        self.purposes.iter_mut().for_each(trim);
        self.data_subject_groups.iter_mut().for_each(trim);
        for c in &mut self.data_categories {
            trim(&mut c.key);
            trim(&mut c.description);
        }
        for s in &mut self.sources {
            trim(&mut s.organisation_name);
            trim(&mut s.supplies);
        }
        for d in &mut self.disclosures {
            trim(&mut d.recipient);
            trim(&mut d.purpose);
        }
        for t in &mut self.transfers {
            t.country_code = t.country_code.trim().to_ascii_uppercase();
            trim(&mut t.description);
        }
        if let Some(r) = &mut self.retention {
            trim(&mut r.law);
            trim(&mut r.description);
        }
        trim(&mut self.security.manual_material);
        trim(&mut self.security.electronic_systems);
        trim(&mut self.rights.access);
        trim(&mut self.rights.rectification);
        trim(&mut self.rights.marketing_prohibition);
    }

    /// What publishing requires and this version lacks, every gap at once.
    pub fn completeness(&self) -> Violations {
        let mut v = Violations::default();
        if self.name.is_empty() {
            v.add("name", "a published register needs a name");
        }
        if self.controller.name.is_empty() {
            v.add(
                "controller.name",
                "a published register names its controller",
            );
        }
        if self.controller.business_id.is_none() {
            v.add(
                "controller.business_id",
                "a published register gives the controller's business ID",
            );
        }
        if self.purposes.is_empty() {
            v.add(
                "purposes",
                "a published register states at least one purpose",
            );
        }
        if self.legal_bases.is_empty() {
            v.add("legal_bases", "a published register states its legal basis");
        }
        if self.data_categories.is_empty() {
            v.add(
                "data_categories",
                "a published register declares at least one data category",
            );
        }
        if self.retention.is_none() {
            v.add(
                "retention",
                "a published register states how long data is kept",
            );
        }
        // Every text in every language the register requires.
        for code in &self.required_languages {
            if code == self.primary_language() {
                continue;
            }
            let name = match code.as_str() {
                "sv" => "Swedish",
                "en" => "English",
                _ => "Finnish",
            };
            let Some(t) = self.translations.get(code) else {
                v.add(
                    format!("translations.{code}"),
                    format!("the register requires {name} and has no {name} texts yet"),
                );
                continue;
            };
            for missing in self
                .texts(code, t)
                .iter()
                .filter(|t| t.translated.is_empty())
            {
                v.add(
                    missing.field.clone(),
                    format!("the register requires {name} and this text has none yet"),
                );
            }
        }
        if self.transfers_outside_eea == Some(TransfersOutsideEea::Some)
            && self.transfers.is_empty()
        {
            v.add(
                "transfers",
                "data goes outside the EU/EEA: a published register lists each country and its safeguard",
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

fn trim(value: &mut String) {
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        *value = trimmed.to_owned();
    }
}

fn text(v: &mut Violations, path: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        v.add(path, format!("at most {max} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        v.add(path, "must not contain control characters");
    }
}

fn count(v: &mut Violations, path: &str, len: usize) {
    if len > MAX_ITEMS {
        v.add(path, format!("at most {MAX_ITEMS} entries"));
    }
}

fn list(v: &mut Violations, path: &str, values: &[String], max_len: usize) {
    count(v, path, values.len());
    for (i, value) in values.iter().enumerate() {
        text(v, &format!("{path}[{i}]"), value, max_len);
        if value.is_empty() {
            v.add(format!("{path}[{i}]"), "must not be empty");
        }
    }
}

fn email(v: &mut Violations, path: &str, value: &str) {
    text(v, path, value, MAX_SHORT);
    if !value.is_empty() && !looks_like_email(value) {
        v.add(path, format!("`{value}` is not an email address"));
    }
}

fn phone(v: &mut Violations, path: &str, value: &str) {
    text(v, path, value, 50);
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/".contains(c));
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if !value.is_empty() && (!allowed || !(5..=15).contains(&digits)) {
        v.add(path, format!("`{value}` is not a phone number"));
    }
}

fn country(v: &mut Violations, path: &str, value: &str) {
    let alpha2 = value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase());
    if !value.is_empty() && !alpha2 {
        v.add(path, "an ISO 3166-1 alpha-2 country code, e.g. FI");
    }
}

fn address(v: &mut Violations, path: &str, a: &PostalAddress) {
    list(v, &format!("{path}.lines"), &a.lines, MAX_SHORT);
    country(v, &format!("{path}.country_code"), &a.country_code);
    text(v, &format!("{path}.postal_code"), &a.postal_code, 20);
    let finnish = a.country_code.is_empty() || a.country_code == "FI";
    if finnish
        && !a.postal_code.is_empty()
        && !(a.postal_code.len() == 5 && a.postal_code.bytes().all(|b| b.is_ascii_digit()))
    {
        v.add(
            format!("{path}.postal_code"),
            "a Finnish postal code is five digits",
        );
    }
    text(v, &format!("{path}.post_office"), &a.post_office, MAX_SHORT);
}

fn retention(v: &mut Violations, path: &str, r: &RetentionRule) {
    text(v, &format!("{path}.law"), &r.law, MAX_SHORT);
    text(v, &format!("{path}.description"), &r.description, MAX_LONG);
    // Kept until consent is withdrawn needs no period; "for a year after" may add one.
    let needs_period = matches!(
        r.trigger,
        RetentionTrigger::Collection | RetentionTrigger::RelationshipEnd
    );
    if needs_period && (r.period == 0 || r.unit.is_none()) {
        v.add(
            format!("{path}.period"),
            "this trigger needs a period and a unit, e.g. 3 YEARS",
        );
    }
    if r.period > 0 && r.unit.is_none() {
        v.add(format!("{path}.unit"), "a period needs a unit");
    }
    if r.trigger == RetentionTrigger::RelationshipDuration && r.period > 0 {
        v.add(
            format!("{path}.period"),
            "data kept for the relationship's duration has no period",
        );
    }
    if r.trigger == RetentionTrigger::Law && r.law.is_empty() {
        v.add(format!("{path}.law"), "name the law that sets the period");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> RegisterContent {
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
    fn a_complete_register_passes_both_checks() {
        let content = complete();
        assert_eq!(content.clone().check().unwrap(), content);
        assert!(content.completeness().is_empty());
        assert!(content.includes_national_identity_code());
    }

    #[test]
    fn texts_are_trimmed_and_country_codes_upper_cased() {
        let mut content = complete();
        content.name = "  Asiakasrekisteri \n".into();
        content.controller.address.country_code = " fi".into();
        let checked = content.check().unwrap();
        assert_eq!(checked.name, "Asiakasrekisteri");
        assert_eq!(checked.controller.address.country_code, "FI");
    }

    #[test]
    fn every_format_problem_is_reported_at_once() {
        let mut content = complete();
        content.controller.email = "not-an-email".into();
        content.legal_bases.push(LegalBasis::Contract);
        content.data_categories[1].key = "Bad Key".into();
        content.retention.as_mut().unwrap().period = 0;
        content.purposes.push("   ".into());
        let v = content.check().unwrap_err();
        let fields: Vec<&str> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "controller.email",
                "legal_bases[2]",
                "purposes[1]",
                "data_categories[1].key",
                "retention.period"
            ]
        );
    }

    #[test]
    fn transfers_agree_with_the_outside_eea_answer() {
        let mut content = complete();
        content.transfers.push(ThirdCountryTransfer {
            country_code: "usa".into(),
            safeguard: TransferSafeguard::None,
            description: String::new(),
        });
        let v = content.check().unwrap_err();
        let fields: Vec<&str> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "transfers[0].country_code",
                "transfers[0].description",
                "transfers"
            ]
        );
    }

    #[test]
    fn completeness_lists_every_gap() {
        assert_eq!(RegisterContent::default().completeness().len(), 7);
    }
}
