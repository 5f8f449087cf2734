//! The disclosure service's tables.

/// `log_head`: one row, the log's size and the right edge of its tree. Every append locks it,
/// so sequence numbers are consecutive however many replicas record at once.
pub mod log_head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "log_head")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub size: i64,
        /// The frontier's peaks, 32 bytes each, largest first.
        pub frontier: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `entries`: the log. Every column but `leaf_hash` is part of the leaf.
pub mod entries {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "entries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub sequence: i64,
        pub disclosure_id: String,
        /// Microseconds since the epoch (exact, so the leaf recomputes on every database).
        pub recorded_at_us: i64,
        pub disclosed_at_us: i64,
        pub recipient_name: String,
        pub recipient_business_id: String,
        pub recipient_country: String,
        /// Hex pseudonyms, space-separated, in the order given.
        pub subject_pseudonyms: String,
        pub register_id: String,
        pub register_version: i32,
        /// Category keys, space-separated.
        pub data_categories: String,
        pub purpose: String,
        pub legal_basis: i32,
        pub channel: i32,
        pub principal: String,
        pub regular: bool,
        pub transfer: i32,
        /// Flag numbers, space-separated.
        pub flags: String,
        pub safeguard: i32,
        pub leaf_hash: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `entry_subjects`: which entries name a pseudonym (the lookup for access requests).
pub mod entry_subjects {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "entry_subjects")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub pseudonym: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub sequence: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `tree_nodes`: every perfect subtree's hash; level 0 are the leaves.
pub mod tree_nodes {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tree_nodes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub level: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub idx: i64,
        pub hash: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `checkpoints`: every signed checkpoint.
pub mod checkpoints {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "checkpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tree_size: i64,
        pub root_hash: Vec<u8>,
        pub signed_at_s: i64,
        pub signature: Vec<u8>,
        pub public_key: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `erased_subjects`: customer subjects erased in the customer service. No disclosure of them is
/// recorded afterwards (that would make a new link to a person who asked to be forgotten).
pub mod erased_subjects {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "erased_subjects")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `pseudonyms`: the only link between a customer subject id and its pseudonym in the log.
/// Erasure deletes the row: the log keeps the pseudonym, nothing says whose it was.
pub mod pseudonyms {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pseudonyms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: String,
        pub pseudonym: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
