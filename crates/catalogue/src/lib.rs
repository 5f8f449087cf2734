//! The register catalogue: which personal data registers an organisation keeps, as versioned,
//! published declarations (rekisteriseloste / GDPR Art. 30 records).

//!
//! Shaped as the other services copy it: `grpc` (handlers: parse, call the store, map back),
//! `store` (database operations returning domain types), `lifecycle` (register and version
//! states), `events`, `convert` (protobuf and domain), `error` (mapped to `tonic::Status` through
//! the platform). The register itself (content model, importer, notices) is `rekisteri-register`.

pub mod app;
pub mod client;
pub mod convert;
pub mod entity;
pub mod error;
pub mod events;
pub mod grpc;
pub mod lifecycle;
pub mod migration;
pub mod store;

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
