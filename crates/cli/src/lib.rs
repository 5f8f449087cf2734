//! The parts of the `rekisteri` binary that tests reuse: the table of services.

pub mod services;
