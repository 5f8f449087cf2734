//! Turning each recognised section into fields of the draft, recording the evidence for every
//! field and the reason for every line left unmapped.

use std::collections::BTreeSet;

use rekisteri_identifiers::BusinessId;

use super::parse::*;
use super::report::{ImportReport, MappedField, SectionReport, UnmappedLine};
use super::text::{self, Line};
use super::vocab::{self, Kind, Label};
use super::{Imported, Para, Section, is_standard, paragraphs};
use crate::content::{
    Controller, DataCategory, DataSource, DataSourceKind, Disclosure, LegalBasis, PostalAddress,
    RegisterContent, RetentionRule, RetentionTrigger, ThirdCountryTransfer, TransferSafeguard,
    TransfersOutsideEea,
};
use crate::notice::Lang;

mod data;
mod disclosures;
mod parties;
mod purposes;
mod retention;
mod sources;
mod texts;

use texts::Target;

pub(super) struct Builder {
    content: RegisterContent,
    report: ImportReport,
    used: BTreeSet<u32>,
    /// Category keys in use, and the last number given to each base key.
    category_keys: std::collections::HashSet<String>,
    key_suffixes: std::collections::HashMap<String, u32>,
}

impl Builder {
    pub(super) fn new(lang: Lang, source_name: &str) -> Self {
        Builder {
            content: RegisterContent::default(),
            report: ImportReport {
                source_name: source_name.to_owned(),
                language: lang.code().to_owned(),
                ..Default::default()
            },
            used: BTreeSet::new(),
            category_keys: Default::default(),
            key_suffixes: Default::default(),
        }
    }

    fn map(
        &mut self,
        field: impl Into<String>,
        value: impl Into<String>,
        evidence: impl Into<String>,
        lines: &[u32],
    ) {
        self.used.extend(lines.iter().copied());
        self.report.mapped.push(MappedField {
            field: field.into(),
            value: value.into(),
            evidence: evidence.into(),
            lines: lines.to_vec(),
        });
    }

    fn unmap(&mut self, lines: &[u32], text: &str, section: &str, reason: &str) {
        self.report.unmapped.push(UnmappedLine {
            line: lines.first().copied().unwrap_or(0),
            text: text.to_owned(),
            section: section.to_owned(),
            reason: reason.to_owned(),
        });
    }

    pub(super) fn section(&mut self, s: &Section<'_>) {
        // "Rekisteröidyt: varsinaiset jäsenet, ..." inside "Rekisterin perustiedot": a labelled
        // line whose label names another section is read as that section.
        let mut own: Vec<&Line> = Vec::new();
        let mut elsewhere: Vec<(Kind, Line)> = Vec::new();
        for line in &s.lines {
            let dispatch = line.text.split_once(": ").and_then(|(label, value)| {
                let kind = vocab::heading_kind(label)?;
                (kind != s.kind
                    && label.split_whitespace().count() <= 5
                    && !value.trim().is_empty()
                    && matches!(
                        kind,
                        Kind::Name
                            | Kind::Subjects
                            | Kind::Purposes
                            | Kind::Basis
                            | Kind::PurposesAndBasis
                            | Kind::Retention
                            | Kind::Content
                            | Kind::Sources
                            | Kind::Transfers
                    ))
                .then(|| (kind, value.trim().to_owned()))
            });
            match dispatch {
                Some((kind, value)) => elsewhere.push((
                    kind,
                    Line {
                        text: value,
                        ..(*line).clone()
                    },
                )),
                None => own.push(line),
            }
        }
        if !elsewhere.is_empty() {
            self.section_lines(&Section {
                heading: s.heading,
                kind: s.kind,
                lines: own,
            });
            for (kind, line) in &elsewhere {
                self.used.insert(line.no);
                self.section_lines(&Section {
                    heading: s.heading,
                    kind: *kind,
                    lines: vec![line],
                });
            }
            return;
        }
        self.section_lines(s);
    }

    fn section_lines(&mut self, s: &Section<'_>) {
        let original: Vec<&str> = s
            .heading
            .iter()
            .chain(s.lines.iter())
            .map(|l| l.raw.as_str())
            .collect();
        if s.heading.is_some() || !s.lines.is_empty() {
            self.report.sections.push(SectionReport {
                heading: s.heading.map(|h| h.raw.clone()).unwrap_or_default(),
                kind: s.kind.key().to_owned(),
                line: s.heading.or(s.lines.first().copied()).map_or(0, |l| l.no),
                original_text: original.join("\n"),
            });
        }
        if let Some(h) = s.heading {
            self.used.insert(h.no);
        }
        match s.kind {
            Kind::Preamble => self.preamble(s),
            Kind::Controller => self.party(s, false),
            Kind::Contact => self.party(s, true),
            Kind::Name => self.name(s),
            Kind::Basis => self.basis(s),
            Kind::PurposesAndBasis => {
                // "Käsittelyn tarkoitus ja oikeusperuste": what names a basis is the basis.
                let (basis, purposes): (Vec<&Line>, Vec<&Line>) = s.lines.iter().partition(|l| {
                    let lower = l.text.to_lowercase();
                    ["peruste", "basis", "grund"]
                        .iter()
                        .any(|w| lower.contains(w))
                        && !vocab::bases_in(&l.text).is_empty()
                });
                self.basis(&Section {
                    heading: s.heading,
                    kind: Kind::Basis,
                    lines: basis,
                });
                self.purposes(&Section {
                    heading: s.heading,
                    kind: Kind::Purposes,
                    lines: purposes,
                });
            }
            Kind::Purposes => self.purposes(s),
            Kind::Subjects => self.subjects(s),
            Kind::Content => self.data_content(s),
            Kind::Sources => self.sources(s),
            Kind::Disclosures | Kind::Transfers => self.disclosures(s),
            Kind::Retention => self.retention(s),
            Kind::Security => self.texts(s, Target::Electronic),
            Kind::Access | Kind::Rights => self.texts(s, Target::Access),
            Kind::Rectification => self.texts(s, Target::Rectification),
            Kind::Marketing => self.texts(s, Target::Marketing),
            Kind::Complaint => {
                for line in &s.lines {
                    if is_standard(&line.text) {
                        self.map(
                            "(standard text)",
                            &line.text,
                            "the right to complain, as a rendered notice states it",
                            &[line.no],
                        );
                    } else {
                        self.unmap(
                            &[line.no],
                            &line.text,
                            &s.name(),
                            "the notice states the right to complain itself",
                        );
                    }
                }
            }
            Kind::Unknown => {
                for line in &s.lines {
                    self.unmap(
                        &[line.no],
                        &line.text,
                        &s.name(),
                        "this section is not part of a register description",
                    );
                }
            }
        }
    }

    fn preamble(&mut self, s: &Section<'_>) {
        for line in &s.lines {
            if is_standard(&line.text) {
                self.map(
                    "(standard text)",
                    &line.text,
                    "fixed text of a rendered notice",
                    &[line.no],
                );
            } else if vocab::is_document_date(&line.text) {
                self.map(
                    "(document date)",
                    &line.text,
                    "when the document was written or updated",
                    &[line.no],
                );
            } else if vocab::is_title(&line.text) {
                self.map(
                    "(document title)",
                    &line.text,
                    "names the kind of document",
                    &[line.no],
                );
            } else {
                self.unmap(
                    &[line.no],
                    &line.text,
                    &s.name(),
                    "text before the first heading",
                );
            }
        }
    }

    pub(super) fn finish(mut self, lines: &[Line], sections: &[Section<'_>]) -> Imported {
        // The register name repeated in a rendered notice's title block.
        let name = self.content.name.clone();
        if !name.is_empty() {
            let repeats: Vec<u32> = self
                .report
                .unmapped
                .iter()
                .filter(|u| u.section == "(before the first heading)" && trim_item(&u.text) == name)
                .map(|u| u.line)
                .collect();
            self.report.unmapped.retain(|u| !repeats.contains(&u.line));
            for line in repeats {
                self.map(
                    "(register name repeated)",
                    &name,
                    "the register name in the title",
                    &[line],
                );
            }
        }
        // Nothing is silently dropped: a line neither used nor reported is reported now.
        let reported: BTreeSet<u32> = self.report.unmapped.iter().map(|u| u.line).collect();
        let section_of = |no: u32| {
            sections
                .iter()
                .rev()
                .find(|s| s.heading.is_none_or(|h| h.no <= no))
                .map(Section::name)
                .unwrap_or_default()
        };
        let missing: Vec<&Line> = lines
            .iter()
            .filter(|l| !self.used.contains(&l.no) && !reported.contains(&l.no))
            .collect();
        for line in missing {
            let section = section_of(line.no);
            self.unmap(&[line.no], &line.text, &section, "not recognised");
        }
        self.report.unmapped.sort_by_key(|u| u.line);
        self.sanitise();
        Imported {
            content: self.content,
            report: self.report,
        }
    }

    /// Keeps the draft within what the catalogue accepts: every value the catalogue's own
    /// validation refuses is taken out of the draft and reported with the reason, rather than
    /// failing the whole import.
    fn sanitise(&mut self) {
        // A register holds at most MAX_LIST_ITEMS of each list; what a document lists beyond
        // that is reported, not silently dropped, and the rest of the list is kept.
        let max = crate::content::MAX_LIST_ITEMS;
        let c = &mut self.content;
        let mut over: Vec<(&str, usize)> = Vec::new();
        for (field, len) in [
            ("purposes", c.purposes.len()),
            ("data_subject_groups", c.data_subject_groups.len()),
            ("data_categories", c.data_categories.len()),
            ("sources", c.sources.len()),
            ("disclosures", c.disclosures.len()),
            ("transfers", c.transfers.len()),
        ] {
            if len > max {
                over.push((field, len));
            }
        }
        c.purposes.truncate(max);
        c.data_subject_groups.truncate(max);
        c.data_categories.truncate(max);
        c.sources.truncate(max);
        c.disclosures.truncate(max);
        c.transfers.truncate(max);
        // The fields mapped to items that were cut are no longer in the draft.
        let cut: Vec<MappedField> = {
            let (keep, cut): (Vec<MappedField>, Vec<MappedField>) =
                std::mem::take(&mut self.report.mapped)
                    .into_iter()
                    .partition(|m| {
                        path_order(&m.field)
                            .first()
                            .is_none_or(|(_, index)| *index < max)
                    });
            self.report.mapped = keep;
            cut
        };
        for m in cut {
            self.unmap(
                &m.lines,
                &m.value,
                "(validation)",
                &format!("{}: past the {max} items a register holds", m.field),
            );
        }
        for (field, len) in over {
            self.unmap(
                &[],
                field,
                "(validation)",
                &format!("the document lists {len}; a register holds at most {max}, the first {max} were kept"),
            );
        }
        for _ in 0..8 {
            self.content.normalise();
            let violations = self.content.violations();
            if violations.is_empty() {
                return;
            }
            let mut value = serde_json::to_value(&self.content).expect("content serialises");
            // Later list items first, so that removing one does not shift the others.
            let mut paths: Vec<(String, String)> = violations
                .iter()
                .map(|v| (removal_path(&v.field), v.description.clone()))
                .collect();
            // Later list items first (by number: `purposes[10]` before `purposes[9]`), so that
            // removing one does not shift the others.
            paths.sort_by_key(|(path, _)| std::cmp::Reverse(path_order(path)));
            paths.dedup_by(|a, b| a.0 == b.0);
            for (path, reason) in paths {
                let lines: Vec<u32> = self
                    .report
                    .mapped
                    .iter()
                    .filter(|m| path.starts_with(m.field.split('[').next().unwrap_or(&m.field)))
                    .flat_map(|m| m.lines.iter().copied())
                    .collect();
                let removed = clear_path(&mut value, &path);
                let text = removed.map(|v| v.to_string()).unwrap_or_default();
                self.unmap(
                    &lines,
                    &text,
                    "(validation)",
                    &format!("{path}: {reason}; left out of the draft"),
                );
            }
            match serde_json::from_value(value) {
                Ok(content) => self.content = content,
                Err(_) => self.content = RegisterContent::default(),
            }
        }
        // Unreachable in practice: every round removes at least one refused value.
        self.content = RegisterContent::default();
        self.unmap(
            &[],
            "(everything)",
            "(validation)",
            "the draft could not be made valid; nothing was kept",
        );
    }
}

/// "Rekisterin nimi: X", "Register name: X", "Rekisterin nimi on X": the value after a label
/// that repeats the section's own heading.
fn strip_heading_label(text: &str, kind: Kind) -> String {
    if let Some((head, rest)) = text.split_once(": ")
        && head.split_whitespace().count() <= 5
        && vocab::heading_kind(head) == Some(kind)
    {
        return rest.trim().to_owned();
    }
    let lower = text.to_lowercase();
    // Offsets of the lower-cased copy are the original's only when lower-casing kept the length.
    if lower.len() != text.len() {
        return text.to_owned();
    }
    for verb in [" on ", " är ", " is ", " heter "] {
        if let Some(pos) = lower.find(verb)
            && pos > 0
            && lower[..pos].split_whitespace().count() <= 5
            && text.get(..pos).and_then(vocab::heading_kind) == Some(kind)
            && let Some(rest) = text.get(pos + verb.len()..)
        {
            return rest.trim().to_owned();
        }
    }
    text.to_owned()
}

/// A path's segments with list indexes as numbers, for ordering.
fn path_order(path: &str) -> Vec<(String, usize)> {
    path.split('.')
        .map(|part| match part.split_once('[') {
            Some((name, index)) => (
                name.to_owned(),
                index.trim_end_matches(']').parse().unwrap_or(0),
            ),
            None => (part.to_owned(), 0),
        })
        .collect()
}

/// What goes when the value at `path` is refused: a rule's parts only make sense together, and
/// transfers must agree with transfers_outside_eea.
fn removal_path(path: &str) -> String {
    // A fault inside a list item removes the item: two faults in one item are one removal.
    if let Some(end) = path.find(']')
        && path[end + 1..].starts_with('.')
        && !path.starts_with("retention")
        && !path.starts_with("transfers")
    {
        return path[..=end].to_owned();
    }
    if path.starts_with("retention") {
        "retention".into()
    } else if path.starts_with("transfers") {
        "transfers".into()
    } else {
        path.to_owned()
    }
}

/// Removes the value at `path` ("a.b[2].c"): list items are removed whole, other values reset.
fn clear_path(value: &mut serde_json::Value, path: &str) -> Option<serde_json::Value> {
    use serde_json::Value;
    if path == "transfers" {
        value["transfers_outside_eea"] = Value::Null;
    }
    let mut parts: Vec<(&str, Option<usize>)> = path
        .split('.')
        .map(|p| match p.split_once('[') {
            Some((name, index)) => (name, index.trim_end_matches(']').parse().ok()),
            None => (p, None),
        })
        .collect();
    let (last_name, last_index) = parts.pop()?;
    let mut node = value;
    for (name, index) in parts {
        node = node.get_mut(name)?;
        if let Some(i) = index {
            // A bad field inside a list item: the item goes.
            let list = node.as_array_mut()?;
            return (i < list.len()).then(|| list.remove(i));
        }
    }
    let target = node.get_mut(last_name)?;
    match (last_index, target) {
        (Some(i), Value::Array(list)) => (i < list.len()).then(|| list.remove(i)),
        (_, target) => {
            let empty = match target {
                Value::String(_) => Value::String(String::new()),
                Value::Array(_) => Value::Array(vec![]),
                _ => Value::Null,
            };
            Some(std::mem::replace(target, empty))
        }
    }
}
