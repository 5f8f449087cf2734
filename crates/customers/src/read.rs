//! Reading a subject: its row and everything held about it in one statement.
//!
//! A subject's details live in eight tables. Read table by table, a GetSubject was eight
//! statements one after another: on PostgreSQL eight round trips, each costing the server as
//! much as the service; on SQLite some thirty hand-offs between the tokio workers and sqlx's
//! connection thread for a few microseconds of SQLite's own work (docs/performance.md, "Where
//! the time goes"). Here the subject's row is selected with each child table aggregated into a
//! JSON array beside it (`json_agg` on PostgreSQL, `json_group_array` on SQLite), so a read is
//! one statement, and one snapshot: no write can land between the row and its children.
//!
//! The arrays carry each table's columns under their own names and deserialise into the tables'
//! models; the order of the lists is set here, after decoding, the same on both databases.

use std::sync::OnceLock;

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use serde::Deserialize;

use rekisteri_platform::error::ServiceError;

use crate::entity::{
    addresses, contact_links, field_sources, marketing_preferences, memberships, notes, services,
    subject_values, subjects,
};
use crate::store::{Limits, SubjectRecord};

/// The subject `id` with everything held about it; `None` when there is no such subject or it
/// was erased. Lists that grow without end (notes, contact links) hold at most `limits`; their
/// totals are counted only when a list is full, in a statement of their own (so a total may
/// count a note added since).
pub(crate) async fn subject<C: ConnectionTrait>(
    db: &C,
    id: &str,
    limits: Limits,
) -> Result<Option<SubjectRecord>, ServiceError> {
    let backend = db.get_database_backend();
    let statement =
        Statement::from_sql_and_values(backend, sql_for(backend, limits), [id.to_owned().into()]);
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let subject = subjects::Model::from_query_result(&row, "")?;
    if subject.erased_at.is_some() {
        return Ok(None);
    }
    let list = |column: &str| -> Result<String, ServiceError> {
        Ok(row
            .try_get::<Option<String>>("", column)?
            .unwrap_or_default())
    };
    let mut values: Vec<subject_values::Model> = decode(&list("read_values")?)?;
    values.sort_by(|a, b| (&a.kind, a.position).cmp(&(&b.kind, b.position)));
    let mut addresses: Vec<addresses::Model> = decode(&list("read_addresses")?)?;
    addresses.sort_by(|a, b| (&a.purpose, a.position).cmp(&(&b.purpose, b.position)));
    let mut memberships: Vec<memberships::Model> = decode(&list("read_memberships")?)?;
    memberships.sort_by(|a, b| a.register_id.cmp(&b.register_id));
    let mut links: Vec<ContactRow> = decode(&list("read_contacts")?)?;
    links.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    let mut services: Vec<services::Model> = decode(&list("read_services")?)?;
    services.sort_by(|a, b| a.service_key.cmp(&b.service_key));
    let mut marketing: Vec<marketing_preferences::Model> = decode(&list("read_marketing")?)?;
    marketing.sort_by(|a, b| a.channel.cmp(&b.channel));
    // The latest notes (ids are time-ordered UUIDs), shown oldest first.
    let mut notes: Vec<notes::Model> = decode(&list("read_notes")?)?;
    notes.sort_by(|a, b| a.id.cmp(&b.id));
    let mut field_sources: Vec<field_sources::Model> = decode(&list("read_field_sources")?)?;
    field_sources.sort_by(|a, b| a.field.cmp(&b.field));

    let contacts_total = if (links.len() as u64) < limits.contacts {
        links.len() as u64
    } else {
        count(
            db,
            "SELECT COUNT(*) AS n FROM contact_links WHERE organisation_id = $1 OR person_id = $1",
            id,
        )
        .await?
    };
    let notes_total = if (notes.len() as u64) < limits.notes {
        notes.len() as u64
    } else {
        count(
            db,
            "SELECT COUNT(*) AS n FROM notes WHERE subject_id = $1",
            id,
        )
        .await?
    };
    let contacts = links.into_iter().map(ContactRow::into_link).collect();
    Ok(Some(SubjectRecord {
        row: subject,
        values,
        addresses,
        memberships,
        contacts,
        services,
        marketing,
        notes,
        notes_total,
        contacts_total,
        field_sources,
    }))
}

/// A contact link as the read aggregates it: the link and the name of the subject at its other
/// end (joined in the same statement).
#[derive(Deserialize)]
struct ContactRow {
    #[serde(flatten)]
    link: contact_links::Model,
    other_given_names: Option<String>,
    other_name: Option<String>,
}

impl ContactRow {
    fn order_key(&self) -> (chrono::DateTime<chrono::Utc>, &str, &str) {
        (
            self.link.created_at,
            &self.link.organisation_id,
            &self.link.person_id,
        )
    }

    fn into_link(self) -> (contact_links::Model, String) {
        let name = [
            self.other_given_names.unwrap_or_default(),
            self.other_name.unwrap_or_default(),
        ]
        .join(" ")
        .trim()
        .to_owned();
        (self.link, name)
    }
}

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<Vec<T>, ServiceError> {
    if json.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(json).map_err(|e| {
        ServiceError::Internal(
            anyhow::Error::new(e).context("a subject's stored rows did not read"),
        )
    })
}

async fn count<C: ConnectionTrait>(db: &C, sql: &str, id: &str) -> Result<u64, ServiceError> {
    let backend = db.get_database_backend();
    // `$1` on PostgreSQL, `?1` on SQLite: the same numbered parameter, used twice.
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace("$1", "?1"),
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [id.to_owned().into()],
        ))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(n.max(0) as u64)
}

/// One child table in the read: the JSON column it becomes, the columns it carries and the
/// select (correlated with the subject row `s`) they come from.
struct List {
    column: &'static str,
    fields: &'static [&'static str],
    select: String,
}

/// The read's SQL, built once for each database and each of the limits the service reads with
/// (a GetSubject is the hot path; the text is some 2 KB of formatting).
fn sql_for(backend: DbBackend, limits: Limits) -> String {
    static BUILT: [[OnceLock<String>; 2]; 2] = [const { [const { OnceLock::new() }; 2] }; 2];
    let database = usize::from(backend != DbBackend::Postgres);
    let kept = if limits == Limits::VIEW {
        0
    } else if limits == Limits::ALL {
        1
    } else {
        return statement_sql(backend, limits);
    };
    BUILT[database][kept]
        .get_or_init(|| statement_sql(backend, limits))
        .clone()
}

fn statement_sql(backend: DbBackend, limits: Limits) -> String {
    let lists = [
        List {
            column: "read_values",
            fields: &["subject_id", "kind", "position", "value", "lookup"],
            select: "SELECT * FROM subject_values WHERE subject_id = s.id".into(),
        },
        List {
            column: "read_addresses",
            fields: &[
                "subject_id",
                "purpose",
                "position",
                "lines",
                "postal_code",
                "post_office",
                "country_code",
            ],
            select: "SELECT * FROM addresses WHERE subject_id = s.id".into(),
        },
        List {
            column: "read_memberships",
            fields: &[
                "subject_id",
                "register_id",
                "basis",
                "start_date",
                "end_date",
            ],
            select: "SELECT * FROM memberships WHERE subject_id = s.id".into(),
        },
        List {
            column: "read_contacts",
            fields: &[
                "organisation_id",
                "person_id",
                "role",
                "created_at",
                "other_given_names",
                "other_name",
            ],
            select: format!(
                "SELECT l.organisation_id, l.person_id, l.role, l.created_at, \
                 o.given_names AS other_given_names, o.name AS other_name \
                 FROM contact_links l LEFT JOIN subjects o ON o.id = \
                 CASE WHEN l.organisation_id = s.id THEN l.person_id ELSE l.organisation_id END \
                 WHERE l.organisation_id = s.id OR l.person_id = s.id \
                 ORDER BY l.created_at, l.organisation_id, l.person_id LIMIT {}",
                limits.contacts
            ),
        },
        List {
            column: "read_services",
            fields: &[
                "subject_id",
                "service_key",
                "description",
                "ordered_date",
                "start_date",
                "end_date",
            ],
            select: "SELECT * FROM services WHERE subject_id = s.id".into(),
        },
        List {
            column: "read_marketing",
            fields: &[
                "subject_id",
                "channel",
                "preference",
                "given_at",
                "given_how",
            ],
            select: "SELECT * FROM marketing_preferences WHERE subject_id = s.id".into(),
        },
        List {
            column: "read_notes",
            fields: &["id", "subject_id", "text", "author", "created_at"],
            select: format!(
                "SELECT * FROM notes WHERE subject_id = s.id ORDER BY id DESC LIMIT {}",
                limits.notes
            ),
        },
        List {
            column: "read_field_sources",
            fields: &[
                "subject_id",
                "field",
                "source",
                "provenance_id",
                "register_id",
                "request_id",
                "fetched_at",
                "applied_at",
            ],
            select: "SELECT * FROM field_sources WHERE subject_id = s.id".into(),
        },
    ];
    let mut sql = String::from("SELECT s.*");
    for list in &lists {
        let pairs: Vec<String> = list
            .fields
            .iter()
            .map(|f| format!("'{f}', t.{f}"))
            .collect();
        let pairs = pairs.join(", ");
        let aggregate = match backend {
            DbBackend::Postgres => {
                format!("CAST(COALESCE(json_agg(json_build_object({pairs})), '[]') AS TEXT)")
            }
            _ => format!("json_group_array(json_object({pairs}))"),
        };
        sql.push_str(&format!(
            ",\n (SELECT {aggregate} FROM ({}) t) AS {}",
            list.select, list.column
        ));
    }
    let id_parameter = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    sql.push_str(&format!("\nFROM subjects s WHERE s.id = {id_parameter}"));
    sql
}
