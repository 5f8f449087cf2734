//! The customer data service: persons and organisations held in published registers, with
//! their contact persons, services, relationship, billing details, customer history and
//! direct-marketing preferences. Identity codes are encrypted and found through a blind index;
//! every reveal, export and erasure is logged.

mod access_log;
pub mod app;
pub mod config;
pub mod convert;
pub mod crypto;
pub mod domain;
pub mod enrichment;
pub mod entity;
pub mod grpc;
pub mod migration;
mod read;
pub mod registers;
pub mod store;

pub use app::build;

/// The roles the customer service checks (`admin` holds all of them).
pub mod roles {
    use rekisteri_platform::auth::RoleTable;

    pub const READER: &str = "customers.reader";
    pub const WRITER: &str = "customers.writer";
    /// Data protection officer: identity codes, exports, erasure, the access log.
    pub const DPO: &str = "customers.dpo";

    pub const TABLE: RoleTable = RoleTable {
        service: crate::app::SERVICE_NAME,
        methods: &[
            ("CreatePerson", WRITER),
            ("UpdatePerson", WRITER),
            ("CreateOrganisation", WRITER),
            ("UpdateOrganisation", WRITER),
            ("LinkContactPerson", WRITER),
            ("UnlinkContactPerson", WRITER),
            ("RecordService", WRITER),
            ("SetRelationship", WRITER),
            ("SetMarketingPreferences", WRITER),
            ("AddNote", WRITER),
            ("GetSubject", READER),
            ("FindSubjects", READER),
            ("RevealPersonalIdentityCode", DPO),
            ("ExportSubject", DPO),
            ("EraseSubject", DPO),
            ("ListAccessLog", DPO),
        ],
    };
}

/// What the customer service publishes on JetStream: subject ids and which fields changed, never
/// the personal data itself.
pub mod events {
    use rekisteri_platform::outbox::StreamSpec;

    pub const SOURCE: &str = "customers";
    /// A month: long enough for consumers to catch up after an outage; the events carry no
    /// personal data, but a shorter life still limits what the stream says about who is a customer.
    pub const STREAM: StreamSpec = StreamSpec {
        name: "REKISTERI_CUSTOMERS",
        subjects: &["rekisteri.customers.>"],
        max_age: std::time::Duration::from_secs(30 * 24 * 3600),
        max_bytes: 1024 * 1024 * 1024,
    };
    pub const SUBJECT_CREATED: &str = "rekisteri.customers.subject.created";
    pub const SUBJECT_CREATED_TYPE: &str = "rekisteri.customers.subject_created.v1";
    pub const SUBJECT_UPDATED: &str = "rekisteri.customers.subject.updated";
    pub const SUBJECT_UPDATED_TYPE: &str = "rekisteri.customers.subject_updated.v1";
    pub const RELATIONSHIP_ENDED: &str = "rekisteri.customers.relationship.ended";
    pub const RELATIONSHIP_ENDED_TYPE: &str = "rekisteri.customers.relationship_ended.v1";
    pub const MARKETING_CHANGED: &str = "rekisteri.customers.marketing.changed";
    pub const MARKETING_CHANGED_TYPE: &str = "rekisteri.customers.marketing_preferences_changed.v1";
    pub const SUBJECT_ERASED: &str = "rekisteri.customers.subject.erased";
    pub const SUBJECT_ERASED_TYPE: &str = "rekisteri.customers.subject_erased.v1";
    pub const ENRICHMENT_REQUESTED: &str = "rekisteri.customers.enrichment.requested";
    pub const ENRICHMENT_REQUESTED_TYPE: &str = "rekisteri.customers.enrichment_requested.v1";

    /// The enrichment service's stream and its results, which this service consumes. Declared
    /// here, once, because the enrichment service depends on this crate (it consumes the
    /// requests above); `rekisteri_enrichment::events` re-exports them.
    pub mod enrichment {
        use rekisteri_platform::outbox::StreamSpec;

        pub const STREAM: StreamSpec = StreamSpec {
            name: "REKISTERI_ENRICHMENT",
            subjects: &["rekisteri.enrichment.>"],
            max_age: std::time::Duration::from_secs(30 * 24 * 3600),
            max_bytes: 1024 * 1024 * 1024,
        };
        pub const COMPLETED: &str = "rekisteri.enrichment.completed";
        pub const COMPLETED_TYPE: &str = "rekisteri.enrichment.enrichment_completed.v1";
    }
}
