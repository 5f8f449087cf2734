//! A personal data register's declaration as a document: the content model (what a
//! rekisteriseloste / GDPR Art. 30 record declares) and its rules, the importer that reads existing
//! register documents into a draft, the privacy notice renderer, and the evaluation that measures
//! the importer against documents with hand-written expectations.
//!
//! Nothing here knows about gRPC, databases or protobuf: the catalogue service converts at its
//! edge, and everything here is tested without services.

pub mod content;
pub mod evaluate;
pub mod import;
pub mod notice;
pub mod translate;
mod validate;

pub use content::RegisterContent;
pub use validate::{Violation, Violations};
