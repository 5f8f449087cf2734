//! A register's texts in Finnish, Swedish and English.
//!
//! A register is written in one language (its `language`, Finnish when unset) and may carry the
//! same texts in the others as translations. Names of people and organisations, addresses and
//! codes are the same in every language; the texts that say what the register is for and how it
//! is kept are translated. A list's translation follows the register's list item by item, so a
//! translation can never say something the register does not.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::content::{DataSourceKind, RegisterContent};
use crate::notice::Lang;

/// The languages a register's texts can be written in.
pub const LANGUAGES: [&str; 3] = ["fi", "sv", "en"];

/// The register's texts in one more language. Lists follow the register's lists item by item
/// (an empty string where an item is not translated yet); categories by their key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Translation {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub legal_basis_description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_subject_groups: Vec<String>,
    /// Category key to its description.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data_categories: BTreeMap<String, String>,
    /// What each source supplies, by the register's sources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_supplies: Vec<String>,
    /// The purpose of each disclosure, by the register's disclosures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disclosure_purposes: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub retention_description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub security_manual_material: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub security_electronic_systems: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rights_access: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rights_rectification: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rights_marketing_prohibition: String,
}

/// A translatable text of the register: where it is, its text in the register's own language
/// and in the translation (empty when missing).
#[derive(Debug)]
pub struct Text<'a> {
    pub path: String,
    pub original: &'a str,
    pub translated: &'a str,
}

fn at(list: &[String], i: usize) -> &str {
    list.get(i).map_or("", String::as_str)
}

impl RegisterContent {
    /// The language of the register's own texts.
    pub fn primary_language(&self) -> &str {
        if self.language.is_empty() {
            "fi"
        } else {
            &self.language
        }
    }

    /// Every translatable text of the register that is written, with its translation into
    /// `lang` (empty where there is none), under the paths of the translation
    /// (`translations.sv.purposes[2]`).
    pub fn texts<'a>(&'a self, lang: &str, t: &'a Translation) -> Vec<Text<'a>> {
        let p = |field: &str| format!("translations.{lang}.{field}");
        let mut out = vec![
            Text {
                path: p("name"),
                original: &self.name,
                translated: &t.name,
            },
            Text {
                path: p("legal_basis_description"),
                original: &self.legal_basis_description,
                translated: &t.legal_basis_description,
            },
        ];
        for (i, v) in self.purposes.iter().enumerate() {
            out.push(Text {
                path: p(&format!("purposes[{i}]")),
                original: v,
                translated: at(&t.purposes, i),
            });
        }
        for (i, v) in self.data_subject_groups.iter().enumerate() {
            out.push(Text {
                path: p(&format!("data_subject_groups[{i}]")),
                original: v,
                translated: at(&t.data_subject_groups, i),
            });
        }
        for c in &self.data_categories {
            out.push(Text {
                path: p(&format!("data_categories.{}", c.key)),
                original: &c.description,
                translated: t.data_categories.get(&c.key).map_or("", String::as_str),
            });
        }
        for (i, s) in self.sources.iter().enumerate() {
            out.push(Text {
                path: p(&format!("source_supplies[{i}]")),
                original: &s.supplies,
                translated: at(&t.source_supplies, i),
            });
        }
        for (i, d) in self.disclosures.iter().enumerate() {
            out.push(Text {
                path: p(&format!("disclosure_purposes[{i}]")),
                original: &d.purpose,
                translated: at(&t.disclosure_purposes, i),
            });
        }
        let retention = self
            .retention
            .as_ref()
            .map_or("", |r| r.description.as_str());
        for (field, original, translated) in [
            (
                "retention_description",
                retention,
                t.retention_description.as_str(),
            ),
            (
                "security_manual_material",
                self.security.manual_material.as_str(),
                t.security_manual_material.as_str(),
            ),
            (
                "security_electronic_systems",
                self.security.electronic_systems.as_str(),
                t.security_electronic_systems.as_str(),
            ),
            (
                "rights_access",
                self.rights.access.as_str(),
                t.rights_access.as_str(),
            ),
            (
                "rights_rectification",
                self.rights.rectification.as_str(),
                t.rights_rectification.as_str(),
            ),
            (
                "rights_marketing_prohibition",
                self.rights.marketing_prohibition.as_str(),
                t.rights_marketing_prohibition.as_str(),
            ),
        ] {
            out.push(Text {
                path: p(field),
                original,
                translated,
            });
        }
        out.retain(|t| !t.original.is_empty());
        out
    }

    /// The register as read in `lang`: each text in that language where the register has it;
    /// a text that exists only in the register's own language is kept, marked as such
    /// ("(vain suomeksi)"). The second value counts the texts so marked.
    pub fn in_language(&self, lang: Lang) -> (RegisterContent, usize) {
        let primary = self.primary_language();
        if lang.code() == primary {
            return (self.clone(), 0);
        }
        let original_lang = Lang::ALL
            .into_iter()
            .find(|l| l.code() == primary)
            .unwrap_or(Lang::Fi);
        let marker = lang.phrases().only_in(original_lang);
        let empty = Translation::default();
        let t = self.translations.get(lang.code()).unwrap_or(&empty);
        let mut marked = 0;
        let mut pick = |original: &str, translated: &str| -> String {
            if !translated.is_empty() {
                translated.to_owned()
            } else if original.is_empty() {
                String::new()
            } else {
                marked += 1;
                format!("{original} {marker}")
            }
        };
        let mut c = self.clone();
        c.name = pick(&self.name, &t.name);
        c.legal_basis_description = pick(&self.legal_basis_description, &t.legal_basis_description);
        for (i, v) in c.purposes.iter_mut().enumerate() {
            *v = pick(&self.purposes[i], at(&t.purposes, i));
        }
        for (i, v) in c.data_subject_groups.iter_mut().enumerate() {
            *v = pick(&self.data_subject_groups[i], at(&t.data_subject_groups, i));
        }
        for cat in &mut c.data_categories {
            let translated = t.data_categories.get(&cat.key).cloned().unwrap_or_default();
            cat.description = pick(&cat.description, &translated);
        }
        for (i, s) in c.sources.iter_mut().enumerate() {
            s.supplies = pick(&self.sources[i].supplies, at(&t.source_supplies, i));
        }
        for (i, d) in c.disclosures.iter_mut().enumerate() {
            d.purpose = pick(&self.disclosures[i].purpose, at(&t.disclosure_purposes, i));
        }
        if let Some(r) = &mut c.retention {
            r.description = pick(&r.description, &t.retention_description);
        }
        c.security.manual_material =
            pick(&self.security.manual_material, &t.security_manual_material);
        c.security.electronic_systems = pick(
            &self.security.electronic_systems,
            &t.security_electronic_systems,
        );
        c.rights.access = pick(&self.rights.access, &t.rights_access);
        c.rights.rectification = pick(&self.rights.rectification, &t.rights_rectification);
        c.rights.marketing_prohibition = pick(
            &self.rights.marketing_prohibition,
            &t.rights_marketing_prohibition,
        );
        c.language = lang.code().to_owned();
        c.translations.clear();
        (c, marked)
    }

    /// Adds the texts of `document` (the same register, written in `lang`) as the register's
    /// `lang` translation. Lists are taken item by item only when the document lists as many
    /// items as the register (a list of another length cannot be matched without guessing);
    /// sources and disclosures are matched by the organisation's name. Texts already translated
    /// are replaced. Returns what was taken and what was not, each with its reason.
    pub fn add_translation(&mut self, lang: &str, document: &RegisterContent) -> Vec<Note> {
        let mut notes = Vec::new();
        let mut t = self.translations.remove(lang).unwrap_or_default();
        let take = |notes: &mut Vec<Note>, field: &str, slot: &mut String, value: &str| {
            if !value.is_empty() {
                *slot = value.to_owned();
                notes.push(Note::taken(lang, field, value));
            }
        };
        take(&mut notes, "name", &mut t.name, &document.name);
        take(
            &mut notes,
            "legal_basis_description",
            &mut t.legal_basis_description,
            &document.legal_basis_description,
        );
        let list = |notes: &mut Vec<Note>, field: &str, ours: usize, theirs: &[String]| {
            if theirs.is_empty() {
                return None;
            }
            if ours != theirs.len() {
                notes.push(Note::not_aligned(
                    lang,
                    field,
                    format!(
                        "the document lists {} items and the register {ours}: which translates which cannot be known; add them by hand",
                        theirs.len()
                    ),
                ));
                return None;
            }
            for (i, v) in theirs.iter().enumerate() {
                notes.push(Note::taken(lang, &format!("{field}[{i}]"), v));
            }
            Some(theirs.to_vec())
        };
        if let Some(v) = list(
            &mut notes,
            "purposes",
            self.purposes.len(),
            &document.purposes,
        ) {
            t.purposes = v;
        }
        if let Some(v) = list(
            &mut notes,
            "data_subject_groups",
            self.data_subject_groups.len(),
            &document.data_subject_groups,
        ) {
            t.data_subject_groups = v;
        }
        let descriptions: Vec<String> = document
            .data_categories
            .iter()
            .map(|c| c.description.clone())
            .collect();
        if let Some(v) = list(
            &mut notes,
            "data_categories",
            self.data_categories.len(),
            &descriptions,
        ) {
            for (cat, description) in self.data_categories.iter().zip(v) {
                t.data_categories.insert(cat.key.clone(), description);
            }
        }
        // Sources and disclosures name organisations, which read the same in every language.
        let same = |a: &str, b: &str| {
            crate::evaluate::normalise(a) == crate::evaluate::normalise(b) && !a.is_empty()
        };
        t.source_supplies.resize(self.sources.len(), String::new());
        for (i, ours) in self.sources.iter().enumerate() {
            // By the organisation's name; by position when both list as many sources (the
            // name may be translated too: "Myndigheten för digitalisering och befolkningsdata").
            let theirs = document
                .sources
                .iter()
                .find(|s| {
                    s.kind == ours.kind
                        && (ours.kind == DataSourceKind::DataSubject
                            || same(&s.organisation_name, &ours.organisation_name))
                })
                .or_else(|| {
                    (document.sources.len() == self.sources.len())
                        .then(|| &document.sources[i])
                        .filter(|s| s.kind == ours.kind)
                });
            if let Some(s) = theirs.filter(|s| !s.supplies.is_empty()) {
                t.source_supplies[i] = s.supplies.clone();
                notes.push(Note::taken(
                    lang,
                    &format!("source_supplies[{i}]"),
                    &s.supplies,
                ));
            }
        }
        t.disclosure_purposes
            .resize(self.disclosures.len(), String::new());
        for (i, ours) in self.disclosures.iter().enumerate() {
            if let Some(d) = document
                .disclosures
                .iter()
                .find(|d| same(&d.recipient, &ours.recipient))
                .or_else(|| {
                    (document.disclosures.len() == self.disclosures.len())
                        .then(|| &document.disclosures[i])
                })
                .filter(|d| !d.purpose.is_empty())
            {
                t.disclosure_purposes[i] = d.purpose.clone();
                notes.push(Note::taken(
                    lang,
                    &format!("disclosure_purposes[{i}]"),
                    &d.purpose,
                ));
            }
        }
        while t.source_supplies.last().is_some_and(String::is_empty) {
            t.source_supplies.pop();
        }
        while t.disclosure_purposes.last().is_some_and(String::is_empty) {
            t.disclosure_purposes.pop();
        }
        if let Some(r) = &document.retention {
            take(
                &mut notes,
                "retention_description",
                &mut t.retention_description,
                &r.description,
            );
        }
        take(
            &mut notes,
            "security_manual_material",
            &mut t.security_manual_material,
            &document.security.manual_material,
        );
        take(
            &mut notes,
            "security_electronic_systems",
            &mut t.security_electronic_systems,
            &document.security.electronic_systems,
        );
        take(
            &mut notes,
            "rights_access",
            &mut t.rights_access,
            &document.rights.access,
        );
        take(
            &mut notes,
            "rights_rectification",
            &mut t.rights_rectification,
            &document.rights.rectification,
        );
        take(
            &mut notes,
            "rights_marketing_prohibition",
            &mut t.rights_marketing_prohibition,
            &document.rights.marketing_prohibition,
        );
        if t != Translation::default() {
            self.translations.insert(lang.to_owned(), t);
        }
        notes
    }
}

/// What adding a translation did with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// `translations.sv.purposes[0]`.
    pub field: String,
    /// The text taken, when it was.
    pub value: Option<String>,
    /// Why it was not taken, when it was not.
    pub reason: Option<String>,
}

impl Note {
    fn taken(lang: &str, field: &str, value: &str) -> Self {
        Note {
            field: format!("translations.{lang}.{field}"),
            value: Some(value.to_owned()),
            reason: None,
        }
    }

    fn not_aligned(lang: &str, field: &str, reason: String) -> Self {
        Note {
            field: format!("translations.{lang}.{field}"),
            value: None,
            reason: Some(reason),
        }
    }
}
