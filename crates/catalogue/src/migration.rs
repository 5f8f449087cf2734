//! The catalogue's schema, applied at start. Runs unchanged on SQLite and PostgreSQL.
use sea_orm_migration::prelude::*;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        use rekisteri_platform::{inbox, outbox};
        // In the order they first ran where the catalogue is deployed: never reorder.
        vec![
            Box::new(CreateRegisters),
            Box::new(outbox::migration::Migration),
            Box::new(AddImportReports),
            Box::new(inbox::migration::Migration),
            Box::new(outbox::migration::Parking),
            Box::new(inbox::migration::DeadLettersMigration),
            Box::new(outbox::migration::ParkedIndex),
        ]
    }
}

#[derive(Debug)]
struct CreateRegisters;

impl MigrationName for CreateRegisters {
    // Explicit and dated: the name is what the migrations table records, so it must never change.
    fn name(&self) -> &str {
        "m20261122_000001_create_registers"
    }
}

#[derive(DeriveIden)]
enum Registers {
    Table,
    Id,
    Status,
    Name,
    ControllerName,
    ControllerBusinessId,
    LatestVersion,
    PublishedVersion,
    Revision,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    RetiredBy,
    RetiredAt,
    RetireReason,
}

#[derive(DeriveIden)]
enum RegisterVersions {
    Table,
    RegisterId,
    Version,
    State,
    Content,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
    PublishedBy,
    PublishedAt,
    ImportReport,
}

/// Versions created by an import keep the import's report.
#[derive(Debug)]
struct AddImportReports;

impl MigrationName for AddImportReports {
    fn name(&self) -> &str {
        "m20261122_000002_add_import_reports"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddImportReports {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RegisterVersions::Table)
                    .add_column(ColumnDef::new(RegisterVersions::ImportReport).text())
                    .to_owned(),
            )
            .await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRegisters {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Registers::Table)
                    .col(
                        ColumnDef::new(Registers::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Registers::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Registers::Name).string().not_null())
                    .col(
                        ColumnDef::new(Registers::ControllerName)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Registers::ControllerBusinessId).string_len(9))
                    .col(
                        ColumnDef::new(Registers::LatestVersion)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Registers::PublishedVersion).integer())
                    .col(ColumnDef::new(Registers::Revision).big_integer().not_null())
                    .col(ColumnDef::new(Registers::CreatedBy).string().not_null())
                    .col(
                        ColumnDef::new(Registers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Registers::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Registers::RetiredBy).string())
                    .col(ColumnDef::new(Registers::RetiredAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(Registers::RetireReason).text())
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("registers_status", Registers::Status),
            (
                "registers_controller_business_id",
                Registers::ControllerBusinessId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Registers::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RegisterVersions::Table)
                    .col(
                        ColumnDef::new(RegisterVersions::RegisterId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RegisterVersions::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RegisterVersions::State)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(RegisterVersions::Content).text().not_null())
                    .col(
                        ColumnDef::new(RegisterVersions::CreatedBy)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RegisterVersions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RegisterVersions::UpdatedBy)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RegisterVersions::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RegisterVersions::PublishedBy).string())
                    .col(ColumnDef::new(RegisterVersions::PublishedAt).timestamp_with_time_zone())
                    .primary_key(
                        Index::create()
                            .col(RegisterVersions::RegisterId)
                            .col(RegisterVersions::Version),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RegisterVersions::Table, RegisterVersions::RegisterId)
                            .to(Registers::Table, Registers::Id),
                    )
                    .to_owned(),
            )
            .await
    }
}
