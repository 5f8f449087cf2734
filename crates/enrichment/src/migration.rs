//! The enrichment service's schema.

use sea_orm_migration::prelude::*;

#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        // In the order they first ran where the service is deployed: never reorder.
        let mut all: Vec<Box<dyn MigrationTrait>> = vec![Box::new(Create)];
        all.extend(rekisteri_platform::migrations());
        all.push(Box::new(SubjectEtags));
        all
    }
}

#[derive(Debug)]
struct Create;

impl MigrationName for Create {
    fn name(&self) -> &str {
        "m20261206_000001_create_enrichment"
    }
}

fn id(name: &str) -> Alias {
    Alias::new(name)
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(id(name)).text().not_null().to_owned()
}

fn key(name: &str) -> ColumnDef {
    ColumnDef::new(id(name))
        .string_len(64)
        .not_null()
        .to_owned()
}

fn time(name: &str) -> ColumnDef {
    ColumnDef::new(id(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Create {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(id("provenance"))
                    .col(key("provenance_id").primary_key())
                    .col(key("source"))
                    .col(time("fetched_at"))
                    .col(time("recorded_at"))
                    .col(ColumnDef::new(id("cached")).boolean().not_null())
                    .col(key("register_id"))
                    .col(key("subject_id"))
                    .col(text("reference"))
                    .col(text("requested_by"))
                    .col(text("fields"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("provenance_by_subject")
                    .table(id("provenance"))
                    .col(id("subject_id"))
                    .col(id("recorded_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("enrichment_requests"))
                    .col(key("request_id").primary_key())
                    .col(key("event_id"))
                    .col(key("subject_id"))
                    .col(key("kind"))
                    .col(key("business_id"))
                    .col(text("register_ids"))
                    .col(key("state"))
                    .col(ColumnDef::new(id("attempts")).integer().not_null())
                    .col(text("last_error"))
                    .col(time("created_at"))
                    .col(time("next_attempt_at"))
                    .col(ColumnDef::new(id("done_at")).timestamp_with_time_zone())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("enrichment_requests_due")
                    .table(id("enrichment_requests"))
                    .col(id("state"))
                    .col(id("next_attempt_at"))
                    .to_owned(),
            )
            .await
    }
}

/// The subject's etag with each request, so that values replace a person's only while the
/// subject is as the request left it.
#[derive(Debug)]
struct SubjectEtags;

impl MigrationName for SubjectEtags {
    fn name(&self) -> &str {
        "m20261206_000002_request_subject_etags"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SubjectEtags {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(id("enrichment_requests"))
                    .add_column(
                        ColumnDef::new(id("subject_etag"))
                            .string_len(64)
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }
}
