//! The register crate's tests over whole documents: no services, no database.

mod evaluation;
mod import;
mod languages;
