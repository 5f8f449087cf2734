//! Which registers may hold a subject, and which data categories each declares.
//!
//! The service learns published and retired registers from the catalogue's events (a durable
//! consumer on `REKISTERI_CATALOGUE`) and, when a request names a register it has not heard of
//! yet (events still on their way, or the service is new), asks the catalogue over gRPC and
//! remembers the answer. A newer version never yields to an older one arriving late.

use chrono::Utc;
use rekisteri_platform::db::Db;
use rekisteri_platform::error::ServiceError;
use rekisteri_platform::inbox::{ConsumerSpec, EventHandler, HandlerError};
use rekisteri_proto::catalogue::v1 as catalogue;
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use crate::domain::FieldKind;
use crate::entity::known_registers;

pub const PUBLISHED: &str = "published";
pub const RETIRED: &str = "retired";

pub use rekisteri_catalogue::client::Catalogue;

/// The registers this service knows, and the way to ask the catalogue about others.
#[derive(Debug, Clone)]
pub struct Registers {
    db: Db,
    catalogue: Option<Catalogue>,
}

/// A client of the catalogue, or none when no endpoint is configured (then only what the
/// events told is known).
pub fn catalogue_client(endpoint: &str, token: Option<&str>) -> anyhow::Result<Option<Catalogue>> {
    rekisteri_catalogue::client::connect("customers", endpoint, token)
}

impl Registers {
    pub fn new(db: Db, catalogue: Option<Catalogue>) -> Self {
        Self { db, catalogue }
    }

    /// The named registers, each of which must be published (not draft-only, not retired).
    pub async fn published(
        &self,
        ids: &[String],
    ) -> Result<Vec<known_registers::Model>, ServiceError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut known = known_registers::Entity::find()
            .filter(known_registers::Column::RegisterId.is_in(ids.iter().cloned()))
            .all(self.db.reader())
            .await?;
        for id in ids {
            if !known.iter().any(|k| &k.register_id == id) {
                known.push(self.ask_catalogue(id).await?);
            }
        }
        if let Some(retired) = known.iter().find(|k| k.status != PUBLISHED) {
            return Err(ServiceError::FailedPrecondition(format!(
                "register {} ({}) is retired: no new data may be stored in it",
                retired.register_id, retired.name
            )));
        }
        Ok(known)
    }

    async fn ask_catalogue(&self, id: &str) -> Result<known_registers::Model, ServiceError> {
        let Some(client) = &self.catalogue else {
            return Err(ServiceError::FailedPrecondition(format!(
                "register {id} is not known here as published (no catalogue endpoint is configured to ask)"
            )));
        };
        let answer = client
            .clone()
            .get_register(catalogue::GetRegisterRequest {
                register_id: id.to_owned(),
                selector: catalogue::VersionSelector::LatestPublished as i32,
                version: 0,
            })
            .await;
        let response = match answer {
            Ok(r) => r.into_inner(),
            Err(status) if status.code() == tonic::Code::NotFound => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "register {id} has no published version in the catalogue"
                )));
            }
            Err(status) => {
                tracing::warn!(register_id = %id, code = ?status.code(), message = status.message(), "cannot ask the catalogue about a register");
                return Err(ServiceError::Unavailable(format!(
                    "register {id} is not known here yet and the catalogue cannot be asked now; retry"
                )));
            }
        };
        let register = response.register.unwrap_or_default();
        let version = response.version.unwrap_or_default();
        let content = version.content.unwrap_or_default();
        let status = if register.status() == catalogue::RegisterStatus::Retired {
            RETIRED
        } else {
            PUBLISHED
        };
        let row = Learnt {
            register_id: id.to_owned(),
            name: content.name.clone(),
            status,
            version: version.version as i32,
            category_keys: content
                .data_categories
                .iter()
                .map(|c| c.key.clone())
                .collect(),
            includes_identity_code: content
                .data_categories
                .iter()
                .any(|c| c.national_identity_code),
        };
        row.clone().save(self.db.writer()).await?;
        Ok(row.into_model())
    }
}

/// What was learnt about one register.
#[derive(Clone)]
struct Learnt {
    register_id: String,
    name: String,
    status: &'static str,
    version: i32,
    category_keys: Vec<String>,
    includes_identity_code: bool,
}

impl Learnt {
    fn into_model(self) -> known_registers::Model {
        known_registers::Model {
            register_id: self.register_id,
            name: self.name,
            status: self.status.into(),
            version: self.version,
            category_keys: self.category_keys.join(" "),
            includes_identity_code: self.includes_identity_code,
            updated_at: Utc::now(),
        }
    }

    /// Stores, unless a newer version is already known; a retirement always sticks. One
    /// conditional upsert, so an event and a catalogue answer saving at once cannot let the
    /// older one win (a read-then-write would).
    async fn save<C: ConnectionTrait>(self, db: &C) -> Result<(), sea_orm::DbErr> {
        use sea_orm::sea_query::{Alias, Expr, ExprTrait};
        let table = Alias::new("known_registers");
        let newer_or_same = Expr::col((table.clone(), known_registers::Column::Version))
            .lte(Expr::cust("excluded.version"))
            .and(Expr::col((table, known_registers::Column::Status)).ne(RETIRED));
        let model = self.into_model();
        let active = known_registers::ActiveModel {
            register_id: Set(model.register_id),
            name: Set(model.name),
            status: Set(model.status),
            version: Set(model.version),
            category_keys: Set(model.category_keys),
            includes_identity_code: Set(model.includes_identity_code),
            updated_at: Set(model.updated_at),
        };
        known_registers::Entity::insert(active)
            .on_conflict(
                OnConflict::column(known_registers::Column::RegisterId)
                    .update_columns([
                        known_registers::Column::Name,
                        known_registers::Column::Status,
                        known_registers::Column::Version,
                        known_registers::Column::CategoryKeys,
                        known_registers::Column::IncludesIdentityCode,
                        known_registers::Column::UpdatedAt,
                    ])
                    .action_and_where(newer_or_same)
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(())
    }
}

/// Refuses the write unless, for every stored field, one of the subject's registers declares a
/// category that allows it. The error names each refused field and the registers checked.
pub fn check_fields(
    registers: &[known_registers::Model],
    fields: &[(String, FieldKind)],
) -> Result<(), ServiceError> {
    let allows = |r: &known_registers::Model, kind: FieldKind| {
        (kind == FieldKind::IdentityCode && r.includes_identity_code)
            || r.category_keys
                .split(' ')
                .any(|k| kind.category_keys().contains(&k))
    };
    let refused: Vec<(&String, FieldKind)> = fields
        .iter()
        .filter(|(_, kind)| !registers.iter().any(|r| allows(r, *kind)))
        .map(|(path, kind)| (path, *kind))
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    let needs = |kind: FieldKind| format!("a data category {}", kind.category_keys().join(" or "));
    let checked: Vec<String> = registers
        .iter()
        .map(|r| format!("{} ({})", r.register_id, r.name))
        .collect();
    let checked = if checked.is_empty() {
        "none".to_owned()
    } else {
        checked.join(", ")
    };
    Err(ServiceError::PreconditionsFailed {
        message: format!(
            "not declared by the subject's registers: {}; registers checked: {checked}",
            refused
                .iter()
                .map(|(path, kind)| format!("{path} (needs {})", needs(*kind)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        // Type "DATA_CATEGORY", the field as subject: what a client must drop, or which
        // register must declare what.
        violations: refused
            .iter()
            .map(|(path, kind)| {
                (
                    "DATA_CATEGORY".to_owned(),
                    (*path).clone(),
                    format!("needs {}; registers checked: {checked}", needs(*kind)),
                )
            })
            .collect(),
    })
}

/// The durable consumer of the catalogue's register events.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec {
        stream: rekisteri_catalogue::events::STREAM,
        durable: "customers-registers".into(),
        filter_subject: "rekisteri.catalogue.register.>".into(),
        max_deliver: 10,
        ack_wait: std::time::Duration::from_secs(30),
    }
}

/// Applies register published and retired events to `known_registers`.
#[derive(Debug, Clone, Copy)]
pub struct RegisterEvents;

impl EventHandler for RegisterEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        match &event.payload {
            Some(Payload::RegisterPublished(p)) => {
                Learnt {
                    register_id: p.register_id.clone(),
                    name: p.register_name.clone(),
                    status: PUBLISHED,
                    version: p.version as i32,
                    category_keys: p.data_category_keys.clone(),
                    includes_identity_code: p.includes_national_identity_code,
                }
                .save(txn)
                .await?;
            }
            Some(Payload::RegisterRetired(r)) => {
                let update = known_registers::Entity::update_many()
                    .col_expr(
                        known_registers::Column::Status,
                        sea_orm::sea_query::Expr::value(RETIRED),
                    )
                    .filter(known_registers::Column::RegisterId.eq(r.register_id.clone()))
                    .exec(txn)
                    .await?;
                if update.rows_affected == 0 {
                    // Retired before we heard of it: remember, so no one stores data in it.
                    Learnt {
                        register_id: r.register_id.clone(),
                        name: String::new(),
                        status: RETIRED,
                        version: r.last_published_version as i32,
                        category_keys: Vec::new(),
                        includes_identity_code: false,
                    }
                    .save(txn)
                    .await?;
                }
            }
            // Other catalogue events do not concern us.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rekisteri_platform::db;
    use rekisteri_test_support::{Backend, TestDb, db_tests};

    fn learnt(version: i32, status: &'static str, keys: &[&str]) -> Learnt {
        Learnt {
            register_id: "reg-1".into(),
            name: format!("v{version}"),
            status,
            version,
            category_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            includes_identity_code: false,
        }
    }

    async fn known(db: &Db) -> known_registers::Model {
        known_registers::Entity::find_by_id("reg-1".to_owned())
            .one(db.reader())
            .await
            .unwrap()
            .expect("the register is known")
    }

    /// An older answer (a late event, a slow catalogue reply) never replaces a newer version's
    /// categories, and nothing revives a retired register.
    async fn older_versions_and_republications_do_not_overwrite(backend: Backend) {
        let test_db = TestDb::fresh(backend).await;
        let config =
            rekisteri_test_support::service_config("customers", &test_db.url, "nats://127.0.0.1:1");
        let db = db::connect_and_migrate::<crate::migration::Migrator>(&config.database)
            .await
            .unwrap();

        learnt(2, PUBLISHED, &["name", "email"])
            .save(db.writer())
            .await
            .unwrap();
        learnt(1, PUBLISHED, &["name"])
            .save(db.writer())
            .await
            .unwrap();
        let now = known(&db).await;
        assert_eq!((now.version, now.category_keys.as_str()), (2, "name email"));

        learnt(3, PUBLISHED, &["name", "email", "phone"])
            .save(db.writer())
            .await
            .unwrap();
        assert_eq!(known(&db).await.version, 3, "a newer version replaces");

        learnt(3, RETIRED, &[]).save(db.writer()).await.unwrap();
        learnt(4, PUBLISHED, &["name"])
            .save(db.writer())
            .await
            .unwrap();
        assert_eq!(known(&db).await.status, RETIRED, "a retirement sticks");
    }

    db_tests!(older_versions_and_republications_do_not_overwrite);
}
