//! What an import says about itself: sections found, what produced each field, what was left.

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
