//! The enrichment service's tables.

/// `provenance`: where every result came from, for whom and why (GDPR Art. 15(1)(g)). Holds no
/// fetched values and no personal identity code: the subject by id, the source, the fields it
/// supplied.
pub mod provenance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "provenance")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub provenance_id: String,
        pub source: String,
        /// When the source gave the answer (earlier than `recorded_at` for a cached one).
        pub fetched_at: ChronoDateTimeUtc,
        pub recorded_at: ChronoDateTimeUtc,
        pub cached: bool,
        pub register_id: String,
        /// Empty for a lookup not tied to a subject.
        pub subject_id: String,
        pub reference: String,
        /// The principal of an RPC, or `event:<id>` for the event flow.
        pub requested_by: String,
        /// The fields supplied, space-separated.
        pub fields: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `enrichment_requests`: requests from the customer service's events, done once each by a
/// worker outside the consumer's transaction (an upstream call must not hold the database's
/// write lock), claimed with a lease so that replicas do not both call the source.
pub mod requests {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enrichment_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        pub event_id: String,
        pub subject_id: String,
        pub kind: String,
        pub business_id: String,
        /// Space-separated.
        pub register_ids: String,
        /// The subject's etag as the request left it.
        pub subject_etag: String,
        /// `pending` or `done`.
        pub state: String,
        pub attempts: i32,
        pub last_error: String,
        pub created_at: ChronoDateTimeUtc,
        /// Not tried again before this (backoff after a failure; a worker's lease).
        pub next_attempt_at: ChronoDateTimeUtc,
        pub done_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
