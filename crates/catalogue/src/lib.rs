//! The register catalogue: which personal data registers an organisation keeps, as versioned,
//! published declarations (rekisteriseloste / GDPR Art. 30 records).

pub mod app;
pub mod domain;
pub mod entity;
pub mod import;
pub mod migration;
pub mod notice;
pub mod service;

pub use app::Application;

/// The roles the catalogue checks (`admin` holds all of them).
pub mod roles {
    pub const READER: &str = "catalogue.reader";
    pub const EDITOR: &str = "catalogue.editor";
    pub const PUBLISHER: &str = "catalogue.publisher";
}

/// What the catalogue publishes on JetStream.
pub mod events {
    use rekisteri_platform::outbox::StreamSpec;

    pub const SOURCE: &str = "catalogue";
    pub const STREAM: StreamSpec = StreamSpec {
        name: "REKISTERI_CATALOGUE",
        subjects: &["rekisteri.catalogue.>"],
    };
    pub const REGISTER_PUBLISHED_SUBJECT: &str = "rekisteri.catalogue.register.published";
    pub const REGISTER_PUBLISHED_TYPE: &str = "rekisteri.catalogue.register_published.v1";
    pub const REGISTER_RETIRED_SUBJECT: &str = "rekisteri.catalogue.register.retired";
    pub const REGISTER_RETIRED_TYPE: &str = "rekisteri.catalogue.register_retired.v1";
}
