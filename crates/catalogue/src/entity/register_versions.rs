//! `register_versions`: every version of every register. A published version's content never
//! changes; only its state moves on (superseded, retired).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "register_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub register_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    /// `draft`, `published`, `superseded`, `retired` or `abandoned`.
    pub state: String,
    /// The version's `RegisterContent` as JSON.
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub created_by: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_by: String,
    pub updated_at: ChronoDateTimeUtc,
    pub published_by: Option<String>,
    pub published_at: Option<ChronoDateTimeUtc>,
    /// For a version created by an import: the `ImportReport` as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub import_report: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::registers::Entity",
        from = "Column::RegisterId",
        to = "super::registers::Column::Id"
    )]
    Register,
}

impl Related<super::registers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Register.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
