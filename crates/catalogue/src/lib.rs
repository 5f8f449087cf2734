//! The register catalogue: which personal data registers an organisation keeps, as versioned,
//! published declarations (rekisteriseloste / GDPR Art. 30 records).

pub mod app;
pub mod client;
pub mod domain;
pub mod entity;
pub mod import;
pub mod migration;
pub mod notice;
pub mod service;

pub use app::build;

/// The roles the catalogue checks (`admin` holds all of them).
pub mod roles {
    use rekisteri_platform::auth::RoleTable;

    pub const READER: &str = "catalogue.reader";
    pub const EDITOR: &str = "catalogue.editor";
    pub const PUBLISHER: &str = "catalogue.publisher";

    /// The role each RPC needs, checked by the platform before a handler runs. The server refuses
    /// to start if an RPC of the service is missing here.
    pub const TABLE: RoleTable = RoleTable {
        service: crate::app::SERVICE_NAME,
        methods: &[
            ("CreateRegister", EDITOR),
            ("UpdateRegisterDraft", EDITOR),
            ("ImportRegister", EDITOR),
            ("PublishRegister", PUBLISHER),
            ("RetireRegister", PUBLISHER),
            ("GetRegister", READER),
            ("ListRegisters", READER),
            ("ListRegisterVersions", READER),
            ("RenderPrivacyNotice", READER),
        ],
    };
}

/// What the catalogue publishes on JetStream.
pub mod events {
    use rekisteri_platform::outbox::StreamSpec;

    pub const SOURCE: &str = "catalogue";
    /// Register events name registers and organisations, never people; a year on the stream
    /// lets a new consumer rebuild its view of the catalogue from the stream alone.
    pub const STREAM: StreamSpec = StreamSpec {
        name: "REKISTERI_CATALOGUE",
        subjects: &["rekisteri.catalogue.>"],
        max_age: std::time::Duration::from_secs(365 * 24 * 3600),
        max_bytes: 1024 * 1024 * 1024,
    };
    pub const REGISTER_PUBLISHED_SUBJECT: &str = "rekisteri.catalogue.register.published";
    pub const REGISTER_PUBLISHED_TYPE: &str = "rekisteri.catalogue.register_published.v1";
    pub const REGISTER_RETIRED_SUBJECT: &str = "rekisteri.catalogue.register.retired";
    pub const REGISTER_RETIRED_TYPE: &str = "rekisteri.catalogue.register_retired.v1";
}
