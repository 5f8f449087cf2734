//! The customer service's schema, applied at start. Runs unchanged on SQLite and PostgreSQL.
use sea_orm_migration::prelude::*;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        // In the order they first ran where the service is deployed: never reorder.
        let mut all: Vec<Box<dyn MigrationTrait>> = vec![Box::new(CreateCustomers)];
        all.extend(rekisteri_platform::migrations());
        all.push(Box::new(UniqueIdentityCodes));
        all.push(Box::new(NamePrefixIndex));
        all.push(Box::new(FieldSources));
        all
    }
}

#[derive(Debug)]
struct CreateCustomers;

impl MigrationName for CreateCustomers {
    // Explicit and dated: the name is what the migrations table records, so it must never change.
    fn name(&self) -> &str {
        "m20261122_000001_create_customers"
    }
}

fn id(name: &str) -> Alias {
    Alias::new(name)
}

/// A required column of text (or a short string when `len` is given).
fn required(name: &str, len: Option<u32>) -> ColumnDef {
    let mut col = ColumnDef::new(id(name));
    match len {
        Some(len) => col.string_len(len),
        None => col.text(),
    };
    col.not_null().to_owned()
}

fn optional(name: &str, len: Option<u32>) -> ColumnDef {
    let mut col = ColumnDef::new(id(name));
    match len {
        Some(len) => col.string_len(len),
        None => col.text(),
    };
    col.null().to_owned()
}

fn time(name: &str, nullable: bool) -> ColumnDef {
    let mut col = ColumnDef::new(id(name));
    col.timestamp_with_time_zone();
    if nullable { col.null() } else { col.not_null() }.to_owned()
}

/// A table whose primary key is `key` and whose rows belong to a subject (removed with it).
async fn child_table(
    manager: &SchemaManager<'_>,
    name: &str,
    key: &[&str],
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    let mut table = Table::create();
    table.table(id(name));
    for mut col in columns {
        table.col(&mut col);
    }
    let mut pk = Index::create();
    for k in key {
        pk.col(id(k));
    }
    table.primary_key(&mut pk);
    manager.create_table(table.to_owned()).await
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &str,
    name: &str,
    columns: &[&str],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(id(table));
    for c in columns {
        index.col(id(c));
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for CreateCustomers {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let uuid = Some(36);
        let date = Some(10);
        manager
            .create_table(
                Table::create()
                    .table(id("subjects"))
                    .col(required("id", uuid).primary_key())
                    .col(required("kind", Some(16)))
                    .col(ColumnDef::new(id("revision")).big_integer().not_null())
                    .col(optional("given_names", None))
                    .col(optional("name", None))
                    .col(optional("name_key", None))
                    .col(ColumnDef::new(id("hetu_sealed")).binary().null())
                    .col(optional("hetu_key_id", Some(64)))
                    .col(optional("hetu_index", Some(64)))
                    .col(optional("date_of_birth", date))
                    .col(optional("language", Some(2)))
                    .col(optional("business_id", Some(9)))
                    .col(optional("association_number", Some(7)))
                    .col(optional("relationship_start", date))
                    .col(optional("relationship_end", date))
                    .col(optional("e_invoice_address", Some(64)))
                    .col(optional("e_invoice_operator", Some(64)))
                    .col(optional("invoice_language", Some(2)))
                    .col(required("created_by", None))
                    .col(time("created_at", false))
                    .col(time("updated_at", false))
                    .col(time("erased_at", true))
                    .col(optional("erased_by", None))
                    .to_owned(),
            )
            .await?;
        index(manager, "subjects", "subjects_hetu_index", &["hetu_index"]).await?;
        index(
            manager,
            "subjects",
            "subjects_business_id",
            &["business_id"],
        )
        .await?;
        index(
            manager,
            "subjects",
            "subjects_name_key",
            &["name_key", "id"],
        )
        .await?;

        child_table(
            manager,
            "subject_values",
            &["subject_id", "kind", "position"],
            vec![
                required("subject_id", uuid),
                required("kind", Some(16)),
                ColumnDef::new(id("position"))
                    .integer()
                    .not_null()
                    .to_owned(),
                required("value", None),
                required("lookup", Some(320)),
            ],
        )
        .await?;
        index(
            manager,
            "subject_values",
            "subject_values_lookup",
            &["kind", "lookup"],
        )
        .await?;

        child_table(
            manager,
            "addresses",
            &["subject_id", "purpose", "position"],
            vec![
                required("subject_id", uuid),
                required("purpose", Some(16)),
                ColumnDef::new(id("position"))
                    .integer()
                    .not_null()
                    .to_owned(),
                required("lines", None),
                required("postal_code", Some(16)),
                required("post_office", None),
                required("country_code", Some(2)),
            ],
        )
        .await?;

        child_table(
            manager,
            "memberships",
            &["subject_id", "register_id"],
            vec![
                required("subject_id", uuid),
                required("register_id", uuid),
                required("basis", None),
                required("start_date", date),
                optional("end_date", date),
            ],
        )
        .await?;
        index(
            manager,
            "memberships",
            "memberships_register",
            &["register_id"],
        )
        .await?;

        child_table(
            manager,
            "contact_links",
            &["organisation_id", "person_id"],
            vec![
                required("organisation_id", uuid),
                required("person_id", uuid),
                required("role", Some(32)),
                time("created_at", false),
            ],
        )
        .await?;
        index(
            manager,
            "contact_links",
            "contact_links_person",
            &["person_id"],
        )
        .await?;

        child_table(
            manager,
            "services",
            &["subject_id", "service_key"],
            vec![
                required("subject_id", uuid),
                required("service_key", Some(128)),
                required("description", None),
                optional("ordered_date", date),
                optional("start_date", date),
                optional("end_date", date),
            ],
        )
        .await?;

        child_table(
            manager,
            "marketing_preferences",
            &["subject_id", "channel"],
            vec![
                required("subject_id", uuid),
                required("channel", Some(16)),
                required("preference", Some(16)),
                time("given_at", false),
                required("given_how", None),
            ],
        )
        .await?;

        child_table(
            manager,
            "notes",
            &["id"],
            vec![
                required("id", uuid),
                required("subject_id", uuid),
                required("text", None),
                required("author", None),
                time("created_at", false),
            ],
        )
        .await?;
        index(manager, "notes", "notes_subject", &["subject_id", "id"]).await?;

        child_table(
            manager,
            "access_log",
            &["id"],
            vec![
                required("id", uuid),
                required("subject_id", Some(36)),
                required("kind", Some(32)),
                required("actor", None),
                required("reason", None),
                time("created_at", false),
            ],
        )
        .await?;
        index(
            manager,
            "access_log",
            "access_log_subject",
            &["subject_id", "id"],
        )
        .await?;

        child_table(
            manager,
            "known_registers",
            &["register_id"],
            vec![
                required("register_id", uuid),
                required("name", None),
                required("status", Some(16)),
                ColumnDef::new(id("version"))
                    .integer()
                    .not_null()
                    .to_owned(),
                required("category_keys", None),
                ColumnDef::new(id("includes_identity_code"))
                    .boolean()
                    .not_null()
                    .to_owned(),
                time("updated_at", false),
            ],
        )
        .await
    }
}

/// One subject per identity code: the blind index becomes unique (NULLs, the persons without a
/// code and the erased, stay many).
#[derive(Debug)]
struct UniqueIdentityCodes;

impl MigrationName for UniqueIdentityCodes {
    fn name(&self) -> &str {
        "m20261202_000001_unique_identity_codes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UniqueIdentityCodes {
    fn use_transaction(&self) -> Option<bool> {
        // On SQLite too: a failed step leaves nothing half done.
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Subjects entered twice before this rule must be merged by hand first: name them (by
        // subject id; the index value would say nothing and must not travel in logs anyway).
        let db = manager.get_connection();
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                manager.get_database_backend(),
                "SELECT id FROM subjects WHERE hetu_index IN \
                 (SELECT hetu_index FROM subjects WHERE hetu_index IS NOT NULL \
                  GROUP BY hetu_index HAVING COUNT(*) > 1) ORDER BY id"
                    .to_owned(),
            ))
            .await?;
        if !rows.is_empty() {
            let ids: Vec<String> = rows
                .iter()
                .filter_map(|r| r.try_get::<String>("", "id").ok())
                .collect();
            return Err(DbErr::Migration(format!(
                "identity codes must be unique per subject, but these subjects share one with another: {}; \
                 merge each group into one subject (UpdatePerson, then EraseSubject for the rest) and start again",
                ids.join(", ")
            )));
        }
        // The new index first, then the old one goes: never a moment without one.
        manager
            .create_index(
                Index::create()
                    .name("subjects_hetu_index_unique")
                    .table(id("subjects"))
                    .col(id("hetu_index"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("subjects_hetu_index")
                    .table(id("subjects"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// PostgreSQL: an index on the name key under the byte-wise "C" collation, for prefix finds by
/// range whatever collation the database was created with. (SQLite compares byte-wise already.)
#[derive(Debug)]
struct NamePrefixIndex;

impl MigrationName for NamePrefixIndex {
    fn name(&self) -> &str {
        "m20261202_000002_name_prefix_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NamePrefixIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                r#"CREATE INDEX IF NOT EXISTS subjects_name_key_c ON subjects (name_key COLLATE "C", id)"#,
            )
            .await
            .map(|_| ())
    }
}

/// Where enriched fields' values came from, and what they held when enrichment was asked for.
#[derive(Debug)]
struct FieldSources;

impl MigrationName for FieldSources {
    fn name(&self) -> &str {
        "m20261206_000003_field_sources"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FieldSources {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let time = |name: &str| {
            ColumnDef::new(id(name))
                .timestamp_with_time_zone()
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(id("field_sources"))
                    .col(required("subject_id", Some(36)))
                    .col(required("field", Some(64)))
                    .col(required("source", Some(64)))
                    .col(required("provenance_id", Some(64)))
                    .col(required("register_id", Some(64)))
                    .col(required("request_id", Some(64)))
                    .col(time("fetched_at"))
                    .col(time("applied_at"))
                    .primary_key(Index::create().col(id("subject_id")).col(id("field")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("enrichment_requests"))
                    .col(required("request_id", Some(36)).primary_key())
                    .col(required("subject_id", Some(36)))
                    .col(required("name_fingerprint", Some(64)))
                    .col(required("addresses_fingerprint", Some(64)))
                    .col(time("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("enrichment_requests_by_subject")
                    .table(id("enrichment_requests"))
                    .col(id("subject_id"))
                    .to_owned(),
            )
            .await
    }
}
