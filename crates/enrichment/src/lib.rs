//! The enrichment service: data from external sources — the business information system
//! (PRH/YTJ), credit information, company contact data, a direct-marketing opt-out list, and
//! sources plugged in over the adapter protocol — fetched only for a register that declares the
//! source as a regular source, through adapters with the same resilience, and recorded with
//! where it came from. Organisations are enriched through events: the customer service asks,
//! this service proposes values with their provenance, the customer service applies them.

pub mod adapters;
pub mod app;
pub mod config;
pub mod convert;
pub mod enricher;
pub mod entity;
pub mod grpc;
pub mod migration;
pub mod registers;
pub mod requests;
pub mod resilience;
pub mod sources;

pub use app::build;

/// The roles the enrichment service checks (`admin` holds all of them).
pub mod roles {
    use rekisteri_platform::auth::RoleTable;

    /// Sources and provenance.
    pub const READER: &str = "enrichment.reader";
    /// Business, contact data, opt-out and external lookups.
    pub const LOOKUP: &str = "enrichment.lookup";
    /// Enriching a customer subject: the proposed values are applied to the customer data.
    pub const ENRICH: &str = "enrichment.enrich";
    /// Credit checks: a separate grant, as the Credit Information Act limits who may use them.
    pub const CREDIT: &str = "enrichment.credit";

    pub const TABLE: RoleTable = RoleTable {
        service: crate::app::SERVICE_NAME,
        methods: &[
            ("LookupBusiness", LOOKUP),
            ("CheckCredit", CREDIT),
            ("LookupCompanyContacts", LOOKUP),
            ("CheckOptOut", LOOKUP),
            ("LookupExternal", LOOKUP),
            ("EnrichSubject", ENRICH),
            ("ListSources", READER),
            ("ListProvenance", READER),
        ],
    };
}

/// What the enrichment service publishes on JetStream: proposed values for organisations'
/// fields (business data, which may travel), never a person's data.
pub mod events {
    pub const SOURCE: &str = "enrichment";
    /// A month, like the customer service's stream. Declared in the customer crate, which
    /// consumes it and which this crate depends on.
    pub use rekisteri_customers::events::enrichment::{COMPLETED, COMPLETED_TYPE, STREAM};
}
