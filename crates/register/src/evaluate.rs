//! Measures the importer against documents whose fields were written down by hand.
//!
//! Each document `NAME.txt|md|html` in a directory has `NAME.expected.yaml` beside it: what a
//! careful reader fills in from the document, and nothing the document does not state. Every
//! value the importer maps is compared with those, per field kind: precision is the share of
//! mapped values that are right (a value where the document states none is wrong: it was
//! invented), recall the share of expected values the importer found.
//!
//! Texts compare case-insensitively, ignoring punctuation and extra whitespace; phone numbers by
//! their digits; retention by trigger, period and unit.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::content::{
    DataSourceKind, LegalBasis, PeriodUnit, RegisterContent, RetentionRule, RetentionTrigger,
    TransferSafeguard, TransfersOutsideEea,
};
use crate::import;

/// The hand-written fields of one document (`NAME.expected.yaml`). A key left out means the
/// document does not state it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Expected {
    pub language: Option<String>,
    pub controller: ExpectedController,
    pub contact_person: ExpectedContact,
    pub name: Option<String>,
    pub purposes: Vec<String>,
    pub data_subject_groups: Vec<String>,
    pub data_categories: Vec<String>,
    pub external_sources: Vec<ExpectedSource>,
    pub legal_bases: Vec<LegalBasis>,
    pub disclosures: Vec<String>,
    pub transfers_outside_eea: Option<TransfersOutsideEea>,
    pub transfers: Vec<ExpectedTransfer>,
    pub retention: Option<ExpectedRetention>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpectedController {
    pub name: Option<String>,
    pub business_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpectedContact {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedSource {
    pub organisation: String,
    #[serde(default)]
    pub supplies: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTransfer {
    pub country: String,
    pub safeguard: TransferSafeguard,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRetention {
    pub trigger: RetentionTrigger,
    #[serde(default)]
    pub period: u32,
    #[serde(default)]
    pub unit: Option<PeriodUnit>,
}

/// The field kinds measured, in the order they are reported.
pub const KINDS: &[&str] = &[
    "language",
    "controller.name",
    "controller.business_id",
    "controller.email",
    "controller.phone",
    "contact_person.name",
    "contact_person.email",
    "name",
    "purposes",
    "data_subject_groups",
    "data_categories",
    "external_sources",
    "external_sources.supplies",
    "legal_bases",
    "disclosures",
    "transfers_outside_eea",
    "transfers",
    "retention",
];

/// The counts of one field kind over the whole set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Values the documents state.
    pub expected: usize,
    /// Values the importer filled in.
    pub mapped: usize,
    /// Mapped values that match a stated one.
    pub right: usize,
}

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Counts", 5)?;
        st.serialize_field("expected", &self.expected)?;
        st.serialize_field("mapped", &self.mapped)?;
        st.serialize_field("right", &self.right)?;
        st.serialize_field("precision", &(self.mapped > 0).then(|| self.precision()))?;
        st.serialize_field("recall", &self.recall())?;
        st.end()
    }
}

impl Counts {
    /// Mapped values that are right; 1 when nothing was mapped (nothing wrong was filled in).
    pub fn precision(&self) -> f64 {
        if self.mapped == 0 {
            1.0
        } else {
            self.right as f64 / self.mapped as f64
        }
    }

    /// Stated values that were found; 1 when nothing was stated.
    pub fn recall(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.right as f64 / self.expected as f64
        }
    }
}

/// A value that was not right, or a stated value the importer did not find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Miss {
    pub document: String,
    pub kind: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Evaluation {
    pub documents: Vec<String>,
    pub kinds: BTreeMap<&'static str, Counts>,
    /// Mapped values that are wrong (invented, or not what the document says).
    pub wrong: Vec<Miss>,
    /// Stated values the importer left empty.
    pub missed: Vec<Miss>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error("{0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Expected(PathBuf, serde_yaml::Error),
    #[error("{0}: {1}")]
    Import(PathBuf, import::ImportError),
    #[error("{0}: no documents with a NAME.expected.yaml beside them")]
    Empty(PathBuf),
}

/// Evaluates every document of the directories together.
pub fn evaluate_dirs(dirs: &[PathBuf]) -> Result<Evaluation, EvaluationError> {
    let mut all = Evaluation::default();
    for dir in dirs {
        let one = evaluate_dir(dir)?;
        all.documents.extend(one.documents);
        for (kind, c) in one.kinds {
            let total = all.kinds.entry(kind).or_default();
            total.expected += c.expected;
            total.mapped += c.mapped;
            total.right += c.right;
        }
        all.wrong.extend(one.wrong);
        all.missed.extend(one.missed);
    }
    Ok(all)
}

/// Evaluates every document in `dir` that has its expected fields beside it.
pub fn evaluate_dir(dir: &Path) -> Result<Evaluation, EvaluationError> {
    let entries = std::fs::read_dir(dir).map_err(|e| EvaluationError::Read(dir.into(), e))?;
    let mut documents: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !name.ends_with(".expected.yaml") && expected_path(p).is_file()
        })
        .collect();
    documents.sort();
    if documents.is_empty() {
        return Err(EvaluationError::Empty(dir.into()));
    }
    let mut evaluation = Evaluation::default();
    for path in documents {
        let bytes = std::fs::read(&path).map_err(|e| EvaluationError::Read(path.clone(), e))?;
        let expected_file = expected_path(&path);
        let text = std::fs::read_to_string(&expected_file)
            .map_err(|e| EvaluationError::Read(expected_file.clone(), e))?;
        let expected: Expected = serde_yaml::from_str(&text)
            .map_err(|e| EvaluationError::Expected(expected_file.clone(), e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let imported =
            import::import(&bytes, &name).map_err(|e| EvaluationError::Import(path.clone(), e))?;
        evaluation.add(
            &name,
            &imported.report.language,
            &imported.content,
            &expected,
        );
    }
    Ok(evaluation)
}

fn expected_path(document: &Path) -> PathBuf {
    let stem = document
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    document.with_file_name(format!("{stem}.expected.yaml"))
}

pub use crate::translate::normalise;

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn snake<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn retention_text(trigger: RetentionTrigger, period: u32, unit: Option<PeriodUnit>) -> String {
    match (period, unit) {
        (0, _) | (_, None) => snake(&trigger),
        (n, Some(u)) => format!("{} {n} {}", snake(&trigger), snake(&u)),
    }
}

fn retention_of(r: &RetentionRule) -> String {
    retention_text(r.trigger, r.period, r.unit)
}

impl Evaluation {
    /// Compares one document's import with its expected fields.
    pub fn add(
        &mut self,
        document: &str,
        language: &str,
        content: &RegisterContent,
        expected: &Expected,
    ) {
        self.documents.push(document.to_owned());
        let one = |v: &str| (!v.is_empty()).then(|| v.to_owned()).into_iter().collect();
        let text = |v: &Option<String>| v.iter().map(|v| normalise(v)).collect::<Vec<_>>();
        let texts = |v: &[String]| v.iter().map(|v| normalise(v)).collect::<Vec<_>>();
        let ctl = &content.controller;
        let cp = &content.contact_person;
        let external: Vec<_> = content
            .sources
            .iter()
            .filter(|s| s.kind == DataSourceKind::External)
            .collect();
        let comparisons: Vec<(&'static str, Vec<String>, Vec<String>)> = vec![
            (
                "language",
                one(language),
                expected.language.iter().cloned().collect(),
            ),
            (
                "controller.name",
                texts(&one(&ctl.name)),
                text(&expected.controller.name),
            ),
            (
                "controller.business_id",
                ctl.business_id.iter().map(ToString::to_string).collect(),
                expected.controller.business_id.iter().cloned().collect(),
            ),
            (
                "controller.email",
                texts(&one(&ctl.email)),
                text(&expected.controller.email),
            ),
            (
                "controller.phone",
                one(&digits(&ctl.phone)),
                expected
                    .controller
                    .phone
                    .iter()
                    .map(|p| digits(p))
                    .collect(),
            ),
            (
                "contact_person.name",
                texts(&one(&cp.name)),
                text(&expected.contact_person.name),
            ),
            (
                "contact_person.email",
                texts(&one(&cp.email)),
                text(&expected.contact_person.email),
            ),
            ("name", texts(&one(&content.name)), text(&expected.name)),
            (
                "purposes",
                texts(&content.purposes),
                texts(&expected.purposes),
            ),
            (
                "data_subject_groups",
                texts(&content.data_subject_groups),
                texts(&expected.data_subject_groups),
            ),
            (
                "data_categories",
                content
                    .data_categories
                    .iter()
                    .map(|c| normalise(&c.description))
                    .collect(),
                texts(&expected.data_categories),
            ),
            (
                "external_sources",
                external
                    .iter()
                    .map(|s| normalise(&s.organisation_name))
                    .collect(),
                expected
                    .external_sources
                    .iter()
                    .map(|s| normalise(&s.organisation))
                    .collect(),
            ),
            (
                "external_sources.supplies",
                external
                    .iter()
                    .filter(|s| !s.supplies.is_empty())
                    .map(|s| {
                        format!(
                            "{}: {}",
                            normalise(&s.organisation_name),
                            normalise(&s.supplies)
                        )
                    })
                    .collect(),
                expected
                    .external_sources
                    .iter()
                    .filter(|s| !s.supplies.is_empty())
                    .map(|s| format!("{}: {}", normalise(&s.organisation), normalise(&s.supplies)))
                    .collect(),
            ),
            (
                "legal_bases",
                content.legal_bases.iter().map(snake).collect(),
                expected.legal_bases.iter().map(snake).collect(),
            ),
            (
                "disclosures",
                content
                    .disclosures
                    .iter()
                    .map(|d| normalise(&d.recipient))
                    .collect(),
                texts(&expected.disclosures),
            ),
            (
                "transfers_outside_eea",
                content.transfers_outside_eea.iter().map(snake).collect(),
                expected.transfers_outside_eea.iter().map(snake).collect(),
            ),
            (
                "transfers",
                content
                    .transfers
                    .iter()
                    .map(|t| format!("{} {}", t.country_code, snake(&t.safeguard)))
                    .collect(),
                expected
                    .transfers
                    .iter()
                    .map(|t| format!("{} {}", t.country.to_uppercase(), snake(&t.safeguard)))
                    .collect(),
            ),
            (
                "retention",
                content.retention.iter().map(retention_of).collect(),
                expected
                    .retention
                    .iter()
                    .map(|r| retention_text(r.trigger, r.period, r.unit))
                    .collect(),
            ),
        ];
        for (kind, mapped, mut stated) in comparisons {
            let counts = self.kinds.entry(kind).or_default();
            counts.expected += stated.len();
            counts.mapped += mapped.len();
            for value in mapped {
                if let Some(i) = stated.iter().position(|s| *s == value) {
                    stated.remove(i);
                    counts.right += 1;
                } else {
                    self.wrong.push(Miss {
                        document: document.to_owned(),
                        kind,
                        value,
                    });
                }
            }
            self.missed.extend(stated.into_iter().map(|value| Miss {
                document: document.to_owned(),
                kind,
                value,
            }));
        }
    }

    /// The field kinds whose precision is below `target`.
    pub fn below(&self, target: f64) -> Vec<&'static str> {
        KINDS
            .iter()
            .copied()
            .filter(|k| self.kinds.get(k).is_some_and(|c| c.precision() < target))
            .collect()
    }

    /// All field kinds together but the document's language, which the importer always
    /// names and would flatter the total.
    pub fn total(&self) -> Counts {
        self.kinds
            .iter()
            .filter(|(k, _)| **k != "language")
            .map(|(_, c)| c)
            .fold(Counts::default(), |a, c| Counts {
                expected: a.expected + c.expected,
                mapped: a.mapped + c.mapped,
                right: a.right + c.right,
            })
    }

    /// The table, the wrong values and (with `missed`) the values not found, as text.
    pub fn to_text(&self, missed: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} documents\n\n{:<27} {:>8} {:>6} {:>5} {:>9} {:>6}",
            self.documents.len(),
            "field",
            "expected",
            "mapped",
            "right",
            "precision",
            "recall"
        );
        let row = |out: &mut String, name: &str, c: &Counts| {
            // Nothing mapped: no precision to speak of (not a perfect one).
            let precision = if c.mapped == 0 {
                "n/a".to_owned()
            } else {
                format!("{:.3}", c.precision())
            };
            let _ = writeln!(
                out,
                "{name:<27} {:>8} {:>6} {:>5} {precision:>9} {:>6.3}",
                c.expected,
                c.mapped,
                c.right,
                c.recall()
            );
        };
        for kind in KINDS {
            if let Some(c) = self.kinds.get(kind) {
                row(&mut out, kind, c);
            }
        }
        row(&mut out, "all fields", &self.total());
        let _ = writeln!(out, "\nwrong values ({}):", self.wrong.len());
        for m in &self.wrong {
            let _ = writeln!(out, "  {}  {}: {}", m.document, m.kind, m.value);
        }
        if missed {
            let _ = writeln!(out, "\nnot found ({}):", self.missed.len());
            for m in &self.missed {
                let _ = writeln!(out, "  {}  {}: {}", m.document, m.kind, m.value);
            }
        }
        out
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(false))
    }
}
