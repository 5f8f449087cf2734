//! A register's texts in Finnish, Swedish and English.
//!
//! A register is written in one language (its `language`, Finnish when unset) and may carry the
//! same texts in the others as translations. Names of people and organisations, addresses and
//! codes are the same in every language; the texts that say what the register is for and how it
//! is kept are translated. A translation follows the register's texts: an item of a list
//! translates the register's item at the same place, a text the register does not have cannot be
//! translated, and when the register's own text changes its translation is dropped (the notice
//! then shows the new text marked as untranslated) rather than left saying something else.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::content::{DataSourceKind, RegisterContent};
use crate::notice::Lang;

/// The languages a register's texts can be written in.
pub const LANGUAGES: [&str; 3] = ["fi", "sv", "en"];

/// The register's texts in one more language. Lists follow the register's lists item by item (an
/// empty string where an item is not translated yet); categories by their key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Translation {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The controller's name in this language ("Björkby stad" for "Koivukylän kaupunki"). A
    /// proper name: used where given, never required or marked.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub controller_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub contact_person_role: String,
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
    /// The description of each transfer outside the EU/EEA, by the register's transfers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_descriptions: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub retention_law: String,
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

/// One translatable place of the register: its field in the translation
/// (`purposes[2]`, `data_categories.nimi`), the register's own text there and its translation
/// (either empty where there is none).
#[derive(Debug)]
pub struct Text<'a> {
    pub field: String,
    pub original: &'a str,
    pub translated: &'a str,
}

fn at(list: &[String], i: usize) -> &str {
    list.get(i).map_or("", String::as_str)
}

/// The register's scalar texts and their slots in a translation, by field name.
fn scalars<'a>(
    c: &'a RegisterContent,
    t: &'a Translation,
) -> [(&'static str, &'a str, &'a str); 10] {
    let retention = c.retention.as_ref();
    [
        ("name", &c.name, &t.name),
        (
            "contact_person_role",
            &c.contact_person.role,
            &t.contact_person_role,
        ),
        (
            "legal_basis_description",
            &c.legal_basis_description,
            &t.legal_basis_description,
        ),
        (
            "retention_law",
            retention.map_or("", |r| r.law.as_str()),
            &t.retention_law,
        ),
        (
            "retention_description",
            retention.map_or("", |r| r.description.as_str()),
            &t.retention_description,
        ),
        (
            "security_manual_material",
            &c.security.manual_material,
            &t.security_manual_material,
        ),
        (
            "security_electronic_systems",
            &c.security.electronic_systems,
            &t.security_electronic_systems,
        ),
        ("rights_access", &c.rights.access, &t.rights_access),
        (
            "rights_rectification",
            &c.rights.rectification,
            &t.rights_rectification,
        ),
        (
            "rights_marketing_prohibition",
            &c.rights.marketing_prohibition,
            &t.rights_marketing_prohibition,
        ),
    ]
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

    /// Every translatable place of the register and of the translation `t`: each of the
    /// register's texts (written or not) and each translated item past the end of a register
    /// list, so that a translation of nothing shows as one.
    pub fn translatable<'a>(&'a self, t: &'a Translation) -> Vec<Text<'a>> {
        let mut out: Vec<Text<'a>> = scalars(self, t)
            .into_iter()
            .map(|(field, original, translated)| Text {
                field: field.to_owned(),
                original,
                translated,
            })
            .collect();
        let lists: [(&str, Vec<&str>, &[String]); 5] = [
            (
                "purposes",
                self.purposes.iter().map(String::as_str).collect(),
                &t.purposes,
            ),
            (
                "data_subject_groups",
                self.data_subject_groups
                    .iter()
                    .map(String::as_str)
                    .collect(),
                &t.data_subject_groups,
            ),
            (
                "source_supplies",
                self.sources.iter().map(|s| s.supplies.as_str()).collect(),
                &t.source_supplies,
            ),
            (
                "disclosure_purposes",
                self.disclosures
                    .iter()
                    .map(|d| d.purpose.as_str())
                    .collect(),
                &t.disclosure_purposes,
            ),
            (
                "transfer_descriptions",
                self.transfers
                    .iter()
                    .map(|d| d.description.as_str())
                    .collect(),
                &t.transfer_descriptions,
            ),
        ];
        for (field, ours, theirs) in lists {
            for i in 0..ours.len().max(theirs.len()) {
                out.push(Text {
                    field: format!("{field}[{i}]"),
                    original: ours.get(i).copied().unwrap_or(""),
                    translated: at(theirs, i),
                });
            }
        }
        let descriptions: HashMap<&str, &str> = self
            .data_categories
            .iter()
            .map(|c| (c.key.as_str(), c.description.as_str()))
            .collect();
        for c in &self.data_categories {
            out.push(Text {
                field: format!("data_categories.{}", c.key),
                original: &c.description,
                translated: t.data_categories.get(&c.key).map_or("", String::as_str),
            });
        }
        for (key, translated) in &t.data_categories {
            if !descriptions.contains_key(key.as_str()) {
                out.push(Text {
                    field: format!("data_categories.{key}"),
                    original: "",
                    translated,
                });
            }
        }
        out
    }

    /// The register's written texts and their translations into `lang` (empty where there is
    /// none), under the paths of the translation (`translations.sv.purposes[2]`).
    pub fn texts<'a>(&'a self, lang: &str, t: &'a Translation) -> Vec<Text<'a>> {
        self.translatable(t)
            .into_iter()
            .filter(|x| !x.original.is_empty())
            .map(|x| Text {
                field: format!("translations.{lang}.{}", x.field),
                ..x
            })
            .collect()
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
        // A translation is used only where the register has a text: it never adds one.
        let mut pick = |original: &str, translated: &str| -> String {
            if original.is_empty() {
                String::new()
            } else if !translated.is_empty() {
                translated.to_owned()
            } else {
                marked += 1;
                format!("{original} {marker}")
            }
        };
        let mut c = self.clone();
        if !t.controller_name.is_empty() && !self.controller.name.is_empty() {
            c.controller.name = t.controller_name.clone();
        }
        c.name = pick(&self.name, &t.name);
        c.contact_person.role = pick(&self.contact_person.role, &t.contact_person_role);
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
        for (i, x) in c.transfers.iter_mut().enumerate() {
            x.description = pick(
                &self.transfers[i].description,
                at(&t.transfer_descriptions, i),
            );
        }
        if let Some(r) = &mut c.retention {
            r.law = pick(&r.law, &t.retention_law);
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
    /// `lang` translation, only where the register has a text. Lists are taken item by item only
    /// when the document lists as many items as the register (a list of another length cannot
    /// be matched without guessing); categories only when their kinds agree too; sources,
    /// disclosures and transfers by the organisation or country, or by position when both list
    /// as many and nothing else matched. Texts already translated are replaced. Returns what was
    /// taken and what was not, each with its reason.
    pub fn add_translation(&mut self, lang: &str, document: &RegisterContent) -> Vec<Note> {
        let mut notes = Vec::new();
        let mut t = self.translations.remove(lang).unwrap_or_default();
        let take =
            |notes: &mut Vec<Note>, field: &str, ours: &str, slot: &mut String, value: &str| {
                if !value.is_empty() && !ours.is_empty() {
                    notes.push(Note::taken(lang, field, value).replacing(slot));
                    *slot = value.to_owned();
                }
            };
        take(&mut notes, "name", &self.name, &mut t.name, &document.name);
        if normalise(&document.controller.name) != normalise(&self.controller.name) {
            take(
                &mut notes,
                "controller_name",
                &self.controller.name,
                &mut t.controller_name,
                &document.controller.name,
            );
        }
        take(
            &mut notes,
            "contact_person_role",
            &self.contact_person.role,
            &mut t.contact_person_role,
            &document.contact_person.role,
        );
        take(
            &mut notes,
            "legal_basis_description",
            &self.legal_basis_description,
            &mut t.legal_basis_description,
            &document.legal_basis_description,
        );
        let list = |notes: &mut Vec<Note>,
                    field: &str,
                    ours: &[String],
                    theirs: &[String],
                    before: &[String]| {
            if theirs.is_empty() || ours.is_empty() {
                return None;
            }
            if ours.len() != theirs.len() {
                notes.push(Note::not_aligned(
                    lang,
                    field,
                    format!(
                        "the document lists {} items and the register {}: which translates which cannot be known; add them by hand",
                        theirs.len(),
                        ours.len()
                    ),
                ));
                return None;
            }
            for (i, v) in theirs.iter().enumerate() {
                notes.push(Note::taken(lang, &format!("{field}[{i}]"), v).replacing(at(before, i)));
            }
            Some(theirs.to_vec())
        };
        if let Some(v) = list(
            &mut notes,
            "purposes",
            &self.purposes,
            &document.purposes,
            &t.purposes,
        ) {
            t.purposes = v;
        }
        if let Some(v) = list(
            &mut notes,
            "data_subject_groups",
            &self.data_subject_groups,
            &document.data_subject_groups,
            &t.data_subject_groups,
        ) {
            t.data_subject_groups = v;
        }
        // Categories by position, and only when each pair is of the same kind.
        let kinds_agree = self.data_categories.len() == document.data_categories.len()
            && self
                .data_categories
                .iter()
                .zip(&document.data_categories)
                .all(|(a, b)| {
                    a.national_identity_code == b.national_identity_code
                        && a.special_category == b.special_category
                        && a.company_data == b.company_data
                });
        if !document.data_categories.is_empty() && !self.data_categories.is_empty() {
            if kinds_agree {
                for (ours, theirs) in self.data_categories.iter().zip(&document.data_categories) {
                    let old = t
                        .data_categories
                        .insert(ours.key.clone(), theirs.description.clone())
                        .unwrap_or_default();
                    notes.push(
                        Note::taken(
                            lang,
                            &format!("data_categories.{}", ours.key),
                            &theirs.description,
                        )
                        .replacing(&old),
                    );
                }
            } else {
                notes.push(Note::not_aligned(
                    lang,
                    "data_categories",
                    format!(
                        "the document lists {} categories and the register {}, or of other kinds (identity code, special, company data): add them by hand",
                        document.data_categories.len(),
                        self.data_categories.len()
                    ),
                ));
            }
        }
        // Sources, disclosures and transfers name organisations and countries, which read the
        // same in every language; each of the document's items is used once.
        let same = |a: &str, b: &str| !a.is_empty() && normalise(a) == normalise(b);
        let pairs = pair_up(
            self.sources.len(),
            document.sources.len(),
            |i, j| {
                let (ours, theirs) = (&self.sources[i], &document.sources[j]);
                ours.kind == theirs.kind
                    && (ours.kind == DataSourceKind::DataSubject
                        || same(&ours.organisation_name, &theirs.organisation_name))
            },
            |i, j| self.sources[i].kind == document.sources[j].kind,
        );
        t.source_supplies.resize(self.sources.len(), String::new());
        for (i, j) in pairs {
            let value = &document.sources[j].supplies;
            if !value.is_empty() && !self.sources[i].supplies.is_empty() {
                let old = std::mem::replace(&mut t.source_supplies[i], value.clone());
                notes.push(
                    Note::taken(lang, &format!("source_supplies[{i}]"), value).replacing(&old),
                );
            }
        }
        let pairs = pair_up(
            self.disclosures.len(),
            document.disclosures.len(),
            |i, j| {
                same(
                    &self.disclosures[i].recipient,
                    &document.disclosures[j].recipient,
                )
            },
            |_, _| true,
        );
        t.disclosure_purposes
            .resize(self.disclosures.len(), String::new());
        for (i, j) in pairs {
            let value = &document.disclosures[j].purpose;
            if !value.is_empty() && !self.disclosures[i].purpose.is_empty() {
                let old = std::mem::replace(&mut t.disclosure_purposes[i], value.clone());
                notes.push(
                    Note::taken(lang, &format!("disclosure_purposes[{i}]"), value).replacing(&old),
                );
            }
        }
        let pairs = pair_up(
            self.transfers.len(),
            document.transfers.len(),
            |i, j| self.transfers[i].country_code == document.transfers[j].country_code,
            |_, _| false,
        );
        t.transfer_descriptions
            .resize(self.transfers.len(), String::new());
        for (i, j) in pairs {
            let value = &document.transfers[j].description;
            if !value.is_empty() && !self.transfers[i].description.is_empty() {
                let old = std::mem::replace(&mut t.transfer_descriptions[i], value.clone());
                notes.push(
                    Note::taken(lang, &format!("transfer_descriptions[{i}]"), value)
                        .replacing(&old),
                );
            }
        }
        if let (Some(ours), Some(theirs)) = (&self.retention, &document.retention) {
            take(
                &mut notes,
                "retention_law",
                &ours.law,
                &mut t.retention_law,
                &theirs.law,
            );
            take(
                &mut notes,
                "retention_description",
                &ours.description,
                &mut t.retention_description,
                &theirs.description,
            );
        }
        for (field, ours, slot, value) in [
            (
                "security_manual_material",
                &self.security.manual_material,
                &mut t.security_manual_material,
                &document.security.manual_material,
            ),
            (
                "security_electronic_systems",
                &self.security.electronic_systems,
                &mut t.security_electronic_systems,
                &document.security.electronic_systems,
            ),
            (
                "rights_access",
                &self.rights.access,
                &mut t.rights_access,
                &document.rights.access,
            ),
            (
                "rights_rectification",
                &self.rights.rectification,
                &mut t.rights_rectification,
                &document.rights.rectification,
            ),
            (
                "rights_marketing_prohibition",
                &self.rights.marketing_prohibition,
                &mut t.rights_marketing_prohibition,
                &document.rights.marketing_prohibition,
            ),
        ] {
            take(&mut notes, field, ours, slot, value);
        }
        t.trim();
        if t != Translation::default() {
            self.translations.insert(lang.to_owned(), t);
        }
        notes
    }

    /// After an edit: the translations follow this content's texts. A translated text the edit
    /// sent back unchanged (or left empty, as a client that knows no languages or no such field
    /// sends) moves with its original (a purpose moved to another place keeps its translation)
    /// and is dropped when its original changed, so that no translation goes on saying what the
    /// register no longer says; a translated text the edit changed is taken as sent. Languages
    /// and required languages the edit does not name are kept. With `clear`, the content is
    /// taken exactly as sent.
    pub fn carry_translations(&mut self, previous: &RegisterContent, clear: bool) {
        if clear {
            return;
        }
        if self.language.is_empty() {
            self.language = previous.language.clone();
        }
        if self.required_languages.is_empty() {
            self.required_languages = previous.required_languages.clone();
        }
        let mut codes: Vec<String> = previous.translations.keys().cloned().collect();
        codes.extend(self.translations.keys().cloned());
        codes.sort();
        codes.dedup();
        let empty = Translation::default();
        let mut out = BTreeMap::new();
        for code in codes {
            let before = previous.translations.get(&code).unwrap_or(&empty);
            let sent = self.translations.get(&code).unwrap_or(&empty);
            let followed = slots(&self.realign(previous, before));
            let (before, sent) = (slots(before), slots(sent));
            let mut merged = BTreeMap::new();
            for field in followed.keys().chain(sent.keys()) {
                let value = match sent.get(field) {
                    Some(v) if !v.is_empty() && before.get(field) != Some(v) => v.clone(),
                    _ => followed.get(field).cloned().unwrap_or_default(),
                };
                if !value.is_empty() {
                    merged.insert(field.clone(), value);
                }
            }
            let t = from_slots(&merged);
            if t != Translation::default() {
                out.insert(code, t);
            }
        }
        self.translations = out;
    }

    /// `t` (a translation of `previous`) moved onto this content's texts.
    fn realign(&self, previous: &RegisterContent, t: &Translation) -> Translation {
        fn by_text<'a>(
            originals: impl Iterator<Item = &'a str>,
            translated: &'a [String],
        ) -> HashMap<&'a str, &'a str> {
            let mut map = HashMap::new();
            for (i, original) in originals.enumerate() {
                let v = at(translated, i);
                if !original.is_empty() && !v.is_empty() {
                    map.entry(original).or_insert(v);
                }
            }
            map
        }
        fn follow<'a>(
            ours: impl Iterator<Item = &'a str>,
            map: &HashMap<&str, &str>,
        ) -> Vec<String> {
            let mut out: Vec<String> = ours
                .map(|o| map.get(o).map_or_else(String::new, |v| (*v).to_owned()))
                .collect();
            while out.last().is_some_and(String::is_empty) {
                out.pop();
            }
            out
        }
        let mut out = Translation::default();
        if self.controller.name == previous.controller.name && !self.controller.name.is_empty() {
            out.controller_name = t.controller_name.clone();
        }
        let before = scalars(previous, t);
        let empty = Translation::default();
        for ((field, now, _), (_, then, translated)) in
            scalars(self, &empty).into_iter().zip(before)
        {
            if now == then && !now.is_empty() {
                out.set_scalar(field, translated);
            }
        }
        let purposes = by_text(previous.purposes.iter().map(String::as_str), &t.purposes);
        out.purposes = follow(self.purposes.iter().map(String::as_str), &purposes);
        let groups = by_text(
            previous.data_subject_groups.iter().map(String::as_str),
            &t.data_subject_groups,
        );
        out.data_subject_groups =
            follow(self.data_subject_groups.iter().map(String::as_str), &groups);
        for c in &self.data_categories {
            let unchanged = previous
                .data_categories
                .iter()
                .any(|p| p.key == c.key && p.description == c.description);
            if let Some(v) = t.data_categories.get(&c.key).filter(|_| unchanged) {
                out.data_categories.insert(c.key.clone(), v.clone());
            }
        }
        // Sources, disclosures and transfers by who or where and what: the translation of what
        // a source supplies stays with that source.
        let source_key = |s: &crate::content::DataSource| {
            format!(
                "{:?}\u{1}{}\u{1}{}",
                s.kind, s.organisation_name, s.supplies
            )
        };
        let keys: Vec<String> = previous.sources.iter().map(source_key).collect();
        let map = by_text(keys.iter().map(String::as_str), &t.source_supplies);
        let ours: Vec<String> = self.sources.iter().map(source_key).collect();
        out.source_supplies = follow(ours.iter().map(String::as_str), &map);
        let disclosure_key =
            |d: &crate::content::Disclosure| format!("{}\u{1}{}", d.recipient, d.purpose);
        let keys: Vec<String> = previous.disclosures.iter().map(disclosure_key).collect();
        let map = by_text(keys.iter().map(String::as_str), &t.disclosure_purposes);
        let ours: Vec<String> = self.disclosures.iter().map(disclosure_key).collect();
        out.disclosure_purposes = follow(ours.iter().map(String::as_str), &map);
        let transfer_key = |x: &crate::content::ThirdCountryTransfer| {
            format!("{}\u{1}{}", x.country_code, x.description)
        };
        let keys: Vec<String> = previous.transfers.iter().map(transfer_key).collect();
        let map = by_text(keys.iter().map(String::as_str), &t.transfer_descriptions);
        let ours: Vec<String> = self.transfers.iter().map(transfer_key).collect();
        out.transfer_descriptions = follow(ours.iter().map(String::as_str), &map);
        out
    }
}

/// A translation as its places and texts: `name`, `purposes[2]`, `data_categories.nimi`, ...
fn slots(t: &Translation) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |field: String, value: &String| {
        if !value.is_empty() {
            out.insert(field, value.clone());
        }
    };
    for (field, value) in [
        ("name", &t.name),
        ("controller_name", &t.controller_name),
        ("contact_person_role", &t.contact_person_role),
        ("legal_basis_description", &t.legal_basis_description),
        ("retention_law", &t.retention_law),
        ("retention_description", &t.retention_description),
        ("security_manual_material", &t.security_manual_material),
        (
            "security_electronic_systems",
            &t.security_electronic_systems,
        ),
        ("rights_access", &t.rights_access),
        ("rights_rectification", &t.rights_rectification),
        (
            "rights_marketing_prohibition",
            &t.rights_marketing_prohibition,
        ),
    ] {
        put(field.to_owned(), value);
    }
    for (field, list) in [
        ("purposes", &t.purposes),
        ("data_subject_groups", &t.data_subject_groups),
        ("source_supplies", &t.source_supplies),
        ("disclosure_purposes", &t.disclosure_purposes),
        ("transfer_descriptions", &t.transfer_descriptions),
    ] {
        for (i, value) in list.iter().enumerate() {
            // Zero-padded so that the places sort in list order.
            put(format!("{field}[{i:04}]"), value);
        }
    }
    for (key, value) in &t.data_categories {
        put(format!("data_categories.{key}"), value);
    }
    out
}

/// The translation [`slots`] describes.
fn from_slots(slots: &BTreeMap<String, String>) -> Translation {
    let mut t = Translation::default();
    for (field, value) in slots {
        if let Some(key) = field.strip_prefix("data_categories.") {
            t.data_categories.insert(key.to_owned(), value.clone());
        } else if let Some((list, index)) = field.split_once('[') {
            let i: usize = index.trim_end_matches(']').parse().unwrap_or(0);
            let list = match list {
                "purposes" => &mut t.purposes,
                "data_subject_groups" => &mut t.data_subject_groups,
                "source_supplies" => &mut t.source_supplies,
                "disclosure_purposes" => &mut t.disclosure_purposes,
                "transfer_descriptions" => &mut t.transfer_descriptions,
                _ => continue,
            };
            if list.len() <= i {
                list.resize(i + 1, String::new());
            }
            list[i] = value.clone();
        } else if field == "controller_name" {
            t.controller_name = value.clone();
        } else {
            t.set_scalar(field, value);
        }
    }
    t
}

impl Translation {
    fn set_scalar(&mut self, field: &str, value: &str) {
        let slot = match field {
            "name" => &mut self.name,
            "contact_person_role" => &mut self.contact_person_role,
            "legal_basis_description" => &mut self.legal_basis_description,
            "retention_law" => &mut self.retention_law,
            "retention_description" => &mut self.retention_description,
            "security_manual_material" => &mut self.security_manual_material,
            "security_electronic_systems" => &mut self.security_electronic_systems,
            "rights_access" => &mut self.rights_access,
            "rights_rectification" => &mut self.rights_rectification,
            "rights_marketing_prohibition" => &mut self.rights_marketing_prohibition,
            _ => return,
        };
        *slot = value.to_owned();
    }

    /// Untranslated items at the end of a list are not kept.
    fn trim(&mut self) {
        for list in [
            &mut self.source_supplies,
            &mut self.disclosure_purposes,
            &mut self.transfer_descriptions,
        ] {
            while list.last().is_some_and(String::is_empty) {
                list.pop();
            }
        }
    }
}

/// Pairs the register's items (0..ours) with the document's (0..theirs): first those `matches`
/// says are the same, each of the document's items once; then, when both lists are as long, the
/// items still unpaired on both sides by position where `fits`.
fn pair_up(
    ours: usize,
    theirs: usize,
    matches: impl Fn(usize, usize) -> bool,
    fits: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let mut used = vec![false; theirs];
    let mut pairs = Vec::new();
    for i in 0..ours {
        if let Some(j) = (0..theirs).find(|&j| !used[j] && matches(i, j)) {
            used[j] = true;
            pairs.push((i, j));
        }
    }
    // Lists as long as each other: what the names did not pair, by position.
    if ours == theirs {
        let paired: Vec<usize> = pairs.iter().map(|(i, _)| *i).collect();
        for (i, taken) in used.iter_mut().enumerate() {
            if !paired.contains(&i) && !*taken && fits(i, i) {
                *taken = true;
                pairs.push((i, i));
            }
        }
    }
    pairs
}

/// Lower case, punctuation as spaces, whitespace collapsed: how names are compared.
pub fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
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
    /// The translation it replaced, when there was another one.
    pub replaced: Option<String>,
}

impl Note {
    fn taken(lang: &str, field: &str, value: &str) -> Self {
        Note {
            field: format!("translations.{lang}.{field}"),
            value: Some(value.to_owned()),
            reason: None,
            replaced: None,
        }
    }

    fn replacing(mut self, old: &str) -> Self {
        if !old.is_empty() && Some(old) != self.value.as_deref() {
            self.replaced = Some(old.to_owned());
        }
        self
    }

    fn not_aligned(lang: &str, field: &str, reason: String) -> Self {
        Note {
            field: format!("translations.{lang}.{field}"),
            value: None,
            reason: Some(reason),
            replaced: None,
        }
    }
}
