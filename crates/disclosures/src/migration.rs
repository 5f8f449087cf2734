//! The disclosure service's schema.

use sea_orm_migration::prelude::*;

#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        // In the order they first ran where the service is deployed: never reorder.
        let mut all: Vec<Box<dyn MigrationTrait>> = vec![Box::new(CreateLog)];
        all.extend(rekisteri_platform::migrations());
        all.push(Box::new(ErasedSubjects));
        all
    }
}

#[derive(Debug)]
struct CreateLog;

#[derive(Debug)]
struct ErasedSubjects;

impl MigrationName for ErasedSubjects {
    fn name(&self) -> &str {
        "m20261202_000002_erased_subjects"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ErasedSubjects {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(id("erased_subjects"))
                    .col(
                        ColumnDef::new(id("subject_id"))
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .to_owned(),
            )
            .await
    }
}

impl MigrationName for CreateLog {
    fn name(&self) -> &str {
        "m20261202_000001_create_disclosure_log"
    }
}

fn id(name: &str) -> Alias {
    Alias::new(name)
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(id(name)).text().not_null().to_owned()
}

fn big(name: &str) -> ColumnDef {
    ColumnDef::new(id(name)).big_integer().not_null().to_owned()
}

fn int(name: &str) -> ColumnDef {
    ColumnDef::new(id(name)).integer().not_null().to_owned()
}

fn bytes(name: &str) -> ColumnDef {
    ColumnDef::new(id(name)).binary().not_null().to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &str,
    name: &str,
    columns: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(id(table));
    for c in columns {
        index.col(id(c));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for CreateLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(id("log_head"))
                    .col(int("id").primary_key())
                    .col(big("size"))
                    .col(bytes("frontier"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(id("log_head"))
                    .columns([id("id"), id("size"), id("frontier")])
                    .values_panic([1.into(), 0i64.into(), Vec::<u8>::new().into()])
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("entries"))
                    .col(big("sequence").primary_key())
                    .col(
                        ColumnDef::new(id("disclosure_id"))
                            .string_len(36)
                            .not_null(),
                    )
                    .col(big("recorded_at_us"))
                    .col(big("disclosed_at_us"))
                    .col(text("recipient_name"))
                    .col(text("recipient_business_id"))
                    .col(
                        ColumnDef::new(id("recipient_country"))
                            .string_len(2)
                            .not_null(),
                    )
                    .col(text("subject_pseudonyms"))
                    .col(ColumnDef::new(id("register_id")).string_len(36).not_null())
                    .col(int("register_version"))
                    .col(text("data_categories"))
                    .col(text("purpose"))
                    .col(int("legal_basis"))
                    .col(int("channel"))
                    .col(text("principal"))
                    .col(ColumnDef::new(id("regular")).boolean().not_null())
                    .col(int("transfer"))
                    .col(text("flags"))
                    .col(int("safeguard"))
                    .col(bytes("leaf_hash"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "entries",
            "entries_disclosure_id",
            &["disclosure_id"],
            true,
        )
        .await?;
        index(
            manager,
            "entries",
            "entries_recipient",
            &["recipient_name", "sequence"],
            false,
        )
        .await?;
        index(
            manager,
            "entries",
            "entries_register",
            &["register_id", "sequence"],
            false,
        )
        .await?;
        index(
            manager,
            "entries",
            "entries_disclosed_at",
            &["disclosed_at_us"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("entry_subjects"))
                    .col(ColumnDef::new(id("pseudonym")).string_len(32).not_null())
                    .col(big("sequence"))
                    .primary_key(Index::create().col(id("pseudonym")).col(id("sequence")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("tree_nodes"))
                    .col(int("level"))
                    .col(big("idx"))
                    .col(bytes("hash"))
                    .primary_key(Index::create().col(id("level")).col(id("idx")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("checkpoints"))
                    .col(big("tree_size").primary_key())
                    .col(bytes("root_hash"))
                    .col(big("signed_at_s"))
                    .col(bytes("signature"))
                    .col(bytes("public_key"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("pseudonyms"))
                    .col(
                        ColumnDef::new(id("subject_id"))
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(id("pseudonym")).string_len(32).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "pseudonyms",
            "pseudonyms_pseudonym",
            &["pseudonym"],
            true,
        )
        .await
    }
}
