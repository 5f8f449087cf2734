//! `registers`: one row per register, with where its versions stand. Denormalises the latest
//! name and controller so that listing and filtering need no JSON.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registers")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `draft`, `published` or `retired`.
    pub status: String,
    pub name: String,
    pub controller_name: String,
    pub controller_business_id: Option<String>,
    pub latest_version: i32,
    pub published_version: Option<i32>,
    /// Bumped by every change; updates compare-and-swap on it.
    pub revision: i64,
    pub created_by: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub retired_by: Option<String>,
    pub retired_at: Option<ChronoDateTimeUtc>,
    pub retire_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::register_versions::Entity")]
    Versions,
}

impl Related<super::register_versions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Versions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
