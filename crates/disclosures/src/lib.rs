//! The disclosure log service: every disclosure of personal data, classified against the
//! register's published declarations, appended to a tamper-evident Merkle log whose checkpoints
//! are signed, and streamed to analysts under per-subject pseudonyms.

pub mod merkle;
