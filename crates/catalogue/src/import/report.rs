//! What an import says about itself: sections found, what produced each field, what was left.

use rekisteri_proto::catalogue::v1 as pb;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub source_name: String,
    pub language: String,
    pub sections: Vec<SectionReport>,
    pub mapped: Vec<MappedField>,
    pub unmapped: Vec<UnmappedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionReport {
    pub heading: String,
    pub kind: String,
    pub line: u32,
    pub original_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedField {
    pub field: String,
    pub value: String,
    pub evidence: String,
    pub lines: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmappedLine {
    pub line: u32,
    pub text: String,
    pub section: String,
    pub reason: String,
}

impl From<&ImportReport> for pb::ImportReport {
    fn from(r: &ImportReport) -> Self {
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

impl From<&pb::ImportReport> for ImportReport {
    fn from(r: &pb::ImportReport) -> Self {
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
