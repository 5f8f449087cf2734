//! The customer service's tables, one module each. Every lookup the API offers has an index
//! (see `migration.rs`); nothing is a JSON blob standing in for the model.
//! The child tables' rows also deserialise from the JSON a subject's one-statement read
//! aggregates them into (`read.rs`), under the same field names.

/// `subjects`: one row per person or organisation, with its single-valued details.
pub mod subjects {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subjects")]
    pub struct Model {
        /// UUIDv7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `person` or `organisation`.
        pub kind: String,
        /// Bumped by every change; the etag is derived from it.
        pub revision: i64,
        /// A person's given names; unused for organisations.
        pub given_names: Option<String>,
        /// A person's family name or an organisation's name.
        pub name: Option<String>,
        /// `name` in lower case, for prefix search.
        pub name_key: Option<String>,
        /// The identity code, sealed (nonce and ciphertext) under `hetu_key_id`.
        pub hetu_sealed: Option<Vec<u8>>,
        pub hetu_key_id: Option<String>,
        /// Keyed blind index of the identity code (hex HMAC-SHA-256).
        pub hetu_index: Option<String>,
        pub date_of_birth: Option<String>,
        pub language: Option<String>,
        pub business_id: Option<String>,
        pub association_number: Option<String>,
        pub relationship_start: Option<String>,
        pub relationship_end: Option<String>,
        pub e_invoice_address: Option<String>,
        pub e_invoice_operator: Option<String>,
        pub invoice_language: Option<String>,
        pub created_by: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        /// Set when the subject's personal data was erased; the row stays as a tombstone.
        pub erased_at: Option<ChronoDateTimeUtc>,
        pub erased_by: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `subject_values`: the many-valued plain details of a subject, by kind: `email`, `phone`,
/// `user_account`, `interest`. `lookup` is the form searches compare (lower-case email, E.164
/// phone).
pub mod subject_values {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "subject_values")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub value: String,
        pub lookup: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `addresses`: postal addresses, `purpose` = `postal` or `billing`.
pub mod addresses {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "addresses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub purpose: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        /// The address lines joined by newlines.
        pub lines: String,
        pub postal_code: String,
        pub post_office: String,
        pub country_code: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `memberships`: which published registers hold the subject, on what basis, from when to when.
pub mod memberships {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "memberships")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub register_id: String,
        pub basis: String,
        pub start_date: String,
        pub end_date: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `contact_links`: a person who is a contact of an organisation, with a role.
pub mod contact_links {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "contact_links")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub organisation_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: String,
        pub role: String,
        #[serde(deserialize_with = "crate::entity::stored_time")]
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `services`: what the customer ordered, with its dates.
pub mod services {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "services")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub service_key: String,
        pub description: String,
        pub ordered_date: Option<String>,
        pub start_date: Option<String>,
        pub end_date: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `marketing_preferences`: per channel, prohibited or consented, with when and how.
pub mod marketing_preferences {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "marketing_preferences")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub channel: String,
        pub preference: String,
        #[serde(deserialize_with = "crate::entity::stored_time")]
        pub given_at: ChronoDateTimeUtc,
        pub given_how: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `notes`: the customer history, notes of contacts with customer service.
pub mod notes {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "notes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub subject_id: String,
        pub text: String,
        pub author: String,
        #[serde(deserialize_with = "crate::entity::stored_time")]
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `access_log`: every reveal of an identity code, export, erasure and search by identity code.
pub mod access_log {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_log")]
    pub struct Model {
        /// UUIDv7, so the newest sort last.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Empty for a search that found no one.
        pub subject_id: String,
        pub kind: String,
        pub actor: String,
        pub reason: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `known_registers`: what this service knows of the catalogue's registers, from its events or
/// asked over gRPC: the published version and the data categories it declares.
pub mod known_registers {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "known_registers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub register_id: String,
        pub name: String,
        /// `published` or `retired`.
        pub status: String,
        pub version: i32,
        /// The declared data category keys, space-separated.
        pub category_keys: String,
        pub includes_identity_code: bool,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `field_sources`: which fields hold a value an external source supplied, and where from.
pub mod field_sources {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "field_sources")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub field: String,
        pub source: String,
        pub provenance_id: String,
        pub register_id: String,
        pub request_id: String,
        #[serde(deserialize_with = "crate::entity::stored_time")]
        pub fetched_at: ChronoDateTimeUtc,
        #[serde(deserialize_with = "crate::entity::stored_time")]
        pub applied_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `enrichment_requests`: what an organisation's name and addresses held when enrichment was
/// asked for (fingerprints, not the values), so that a result replaces a value a person wrote
/// only while it is still that one. Deleted when the result is applied.
pub mod enrichment_requests {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enrichment_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        pub subject_id: String,
        pub name_fingerprint: String,
        pub addresses_fingerprint: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A stored timestamp as the read's JSON carries it: RFC 3339 from PostgreSQL, the text SQLite
/// holds (RFC 3339 as sqlx writes it, or `YYYY-MM-DD HH:MM:SS[.f][ ][+HH:MM]`, read as UTC
/// without an offset).
pub fn stored_time<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<chrono::DateTime<chrono::Utc>, D::Error> {
    use chrono::{DateTime, NaiveDateTime, Utc};
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f %:z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|_| serde::de::Error::custom(format!("not a timestamp: {text}")))
}
