//! The disclosure log service: every disclosure of personal data, classified against the
//! register's published declarations, appended to a tamper-evident Merkle log whose checkpoints
//! are signed, and streamed to analysts under per-subject pseudonyms.

pub mod app;
pub mod audit;
pub mod config;
pub mod declarations;
pub mod domain;
pub mod entity;
pub mod grpc;
pub mod log;
pub mod merkle;
pub mod migration;
pub mod pseudonyms;

pub use app::build;

/// The roles the disclosure service checks (`admin` holds all of them).
pub mod roles {
    use rekisteri_platform::auth::RoleTable;

    pub const RECORDER: &str = "disclosures.recorder";
    /// Lists and summaries, with pseudonyms only.
    pub const READER: &str = "disclosures.reader";
    /// One subject's disclosures, by customer id (access requests).
    pub const DPO: &str = "disclosures.dpo";
    /// Entries, checkpoints, proofs and verification.
    pub const AUDITOR: &str = "disclosures.auditor";

    pub const TABLE: RoleTable = RoleTable {
        service: crate::app::SERVICE_NAME,
        methods: &[
            ("RecordDisclosures", RECORDER),
            ("ListDisclosures", READER),
            ("SummarizeDisclosures", READER),
            ("GetSubjectDisclosures", DPO),
            ("GetEntries", AUDITOR),
            ("GetLatestCheckpoint", AUDITOR),
            ("CreateCheckpoint", AUDITOR),
            ("GetInclusionProof", AUDITOR),
            ("GetConsistencyProof", AUDITOR),
            ("VerifyLog", AUDITOR),
        ],
    };
}

/// What the disclosure service publishes: every recorded disclosure, and each flag raised on one.
pub mod events {
    use rekisteri_platform::outbox::StreamSpec;

    pub const SOURCE: &str = "disclosures";
    /// A year: analysts trend by month and replay; the events name people by pseudonym only.
    pub const STREAM: StreamSpec = StreamSpec {
        name: "REKISTERI_DISCLOSURES",
        subjects: &["rekisteri.disclosures.>"],
        max_age: std::time::Duration::from_secs(366 * 24 * 3600),
        max_bytes: 10 * 1024 * 1024 * 1024,
    };
    pub const RECORDED: &str = "rekisteri.disclosures.recorded";
    pub const RECORDED_TYPE: &str = "rekisteri.disclosures.disclosure_recorded.v1";
    pub const FLAGGED: &str = "rekisteri.disclosures.flagged";
    pub const FLAGGED_TYPE: &str = "rekisteri.disclosures.disclosure_flagged.v1";
}
