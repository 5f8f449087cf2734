//! The catalogue's tables, one module each.
pub mod register_versions;
pub mod registers;
