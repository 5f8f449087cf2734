//! The catalogue's database operations. Each write is one transaction that checks the lifecycle,
//! compares-and-swaps the register's revision and queues its event in the outbox; reads return
//! the domain's registers and versions, never rows.

use chrono::{DateTime, Utc};
use rekisteri_platform::auth::Principal;
use rekisteri_platform::db::{Db, is_unique_violation};
use rekisteri_platform::outbox::{self, OutboxSignal};
use rekisteri_register::RegisterContent;
use rekisteri_register::import::ImportReport;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::{register_versions, registers};
use crate::error::CatalogueError;
use crate::events;
use crate::lifecycle::{RegisterStatus, VersionState};

type Result<T, E = CatalogueError> = std::result::Result<T, E>;

/// A register: where its versions stand, and the name and controller lists show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub id: String,
    pub status: RegisterStatus,
    pub name: String,
    pub controller_name: String,
    pub controller_business_id: Option<String>,
    pub latest_version: i32,
    pub published_version: Option<i32>,
    /// Bumped by every change; the etag is made from it.
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_by: Option<String>,
    pub retired_at: Option<DateTime<Utc>>,
    pub retire_reason: Option<String>,
}

/// One version of a register, with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub register_id: String,
    pub number: i32,
    pub state: VersionState,
    pub content: RegisterContent,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    pub published_by: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// For a version created by an import: what the import found.
    pub import_report: Option<ImportReport>,
}

pub type Versioned = (Register, Version);

/// Which version a read asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    LatestPublished,
    /// The latest version, draft or not.
    Latest,
    Draft,
    Number(u32),
}

/// One page of a list: at most `size` rows after the token `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub size: u64,
    pub after: Option<String>,
}

/// A page of rows, the token of the next page (empty at the end) and the total count.
#[derive(Debug)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub next_page_token: String,
    pub total: i64,
}

impl Register {
    /// The register's etag: it changes with every saved change (each bumps the revision).
    pub fn etag(&self) -> String {
        format!(
            "{}-{}",
            &self.id[self.id.len().saturating_sub(8)..],
            self.revision
        )
    }

    /// ABORTED when the caller's etag is set and no longer current.
    fn check_etag(&self, etag_read: &str) -> Result<()> {
        // Quotes, as HTTP writes etags, are tolerated.
        let etag_read = etag_read.trim_matches('"');
        if etag_read.is_empty() || etag_read == self.etag() {
            return Ok(());
        }
        Err(CatalogueError::StaleEtag {
            id: self.id.clone(),
            read: etag_read.to_owned(),
            current: self.etag(),
        })
    }

    /// Lists show the name and controller of the published version, or of the draft while
    /// nothing is published.
    fn show(&mut self, content: &RegisterContent) {
        self.name = content.name.clone();
        self.controller_name = content.controller.name.clone();
        self.controller_business_id = content
            .controller
            .business_id
            .as_ref()
            .map(|b| b.to_string());
    }
}

/// The catalogue's database: cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    outbox: OutboxSignal,
}

impl Store {
    pub fn new(db: Db, outbox: OutboxSignal) -> Self {
        Self { db, outbox }
    }

    /// Creates a register with its first version as a draft; `report` when the content came
    /// from an imported document.
    pub async fn create(
        &self,
        actor: &Principal,
        content: RegisterContent,
        report: Option<&ImportReport>,
    ) -> Result<Versioned> {
        let now = Utc::now();
        let id = Uuid::now_v7().to_string();
        let txn = self.db.begin().await?;
        let mut register = Register {
            id: id.clone(),
            status: RegisterStatus::Draft,
            name: String::new(),
            controller_name: String::new(),
            controller_business_id: None,
            latest_version: 1,
            published_version: None,
            revision: 1,
            created_at: now,
            updated_at: now,
            retired_by: None,
            retired_at: None,
            retire_reason: None,
        };
        register.show(&content);
        register_row(&register, &actor.subject)
            .into_active_model()
            .insert(&txn)
            .await?;
        let version = Version {
            register_id: id.clone(),
            number: 1,
            state: VersionState::Draft,
            content,
            created_by: actor.subject.clone(),
            created_at: now,
            updated_by: actor.subject.clone(),
            updated_at: now,
            published_by: None,
            published_at: None,
            import_report: report.cloned(),
        };
        version_row(&version)?
            .into_active_model()
            .insert(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(register_id = %id, actor = %actor.subject, imported = report.is_some(), "register created");
        Ok((register, version))
    }

    /// Replaces the draft's content, or starts the next version when the latest is published.
    pub async fn update_draft(
        &self,
        actor: &Principal,
        id: &str,
        mut content: RegisterContent,
        expected_latest_version: u32,
        etag: &str,
        clear_translations: bool,
    ) -> Result<Versioned> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let (mut register, created_by) = open_for_change(&txn, id, etag, "edited").await?;
        if expected_latest_version != 0 && expected_latest_version as i32 != register.latest_version
        {
            return Err(CatalogueError::StaleVersion {
                id: id.to_owned(),
                current: register.latest_version,
                expected: expected_latest_version,
            });
        }
        let mut version = find_version(&txn, id, register.latest_version).await?;
        // Translations follow the texts they translate (and survive a client that knows none).
        content.carry_translations(&version.content, clear_translations);
        let languages = content.translations.keys().cloned().collect();
        let content = content
            .check()
            .map_err(|v| CatalogueError::Refused(v, languages))?;
        if version.state == VersionState::Draft {
            version.content = content;
            version.updated_by = actor.subject.clone();
            version.updated_at = now;
            let mut row = version_row(&version)?.into_active_model();
            row.reset(register_versions::Column::Content);
            row.reset(register_versions::Column::UpdatedBy);
            row.reset(register_versions::Column::UpdatedAt);
            row.update(&txn).await?;
        } else {
            // The latest version is published and immutable: start the next one. Two editors
            // doing this at once both try to insert the same version: the second loses.
            register.latest_version += 1;
            version = Version {
                register_id: id.to_owned(),
                number: register.latest_version,
                state: VersionState::Draft,
                content,
                created_by: actor.subject.clone(),
                created_at: now,
                updated_by: actor.subject.clone(),
                updated_at: now,
                published_by: None,
                published_at: None,
                import_report: None,
            };
            version_row(&version)?
                .into_active_model()
                .insert(&txn)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        CatalogueError::ChangedMeanwhile(id.to_owned())
                    } else {
                        e.into()
                    }
                })?;
        }
        if register.published_version.is_none() {
            register.show(&version.content);
        }
        register.updated_at = now;
        let register = save_register(&txn, register, &created_by).await?;
        txn.commit().await?;
        tracing::info!(register_id = %id, version = version.number, actor = %actor.subject, "register draft updated");
        Ok((register, version))
    }

    /// Publishes the draft (superseding the published version) and queues `RegisterPublished`.
    pub async fn publish(
        &self,
        actor: &Principal,
        id: &str,
        expected_version: u32,
        etag: &str,
    ) -> Result<Versioned> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let (mut register, created_by) = open_for_change(&txn, id, etag, "published").await?;
        let mut draft = find_version(&txn, id, register.latest_version).await?;
        if draft.state != VersionState::Draft {
            return Err(CatalogueError::NothingToPublish {
                id: id.to_owned(),
                version: draft.number,
                state: draft.state.as_str(),
            });
        }
        if expected_version != 0 && expected_version as i32 != draft.number {
            return Err(CatalogueError::StaleDraft {
                id: id.to_owned(),
                current: draft.number,
                expected: expected_version,
            });
        }
        let gaps = draft.content.completeness();
        if !gaps.is_empty() {
            let languages = draft.content.translations.keys().cloned().collect();
            return Err(CatalogueError::Incomplete(gaps, languages));
        }
        let superseded = register.published_version;
        if let Some(previous) = superseded {
            set_state(&txn, id, previous, VersionState::Superseded).await?;
        }
        draft.state = VersionState::Published;
        draft.published_by = Some(actor.subject.clone());
        draft.published_at = Some(now);
        let mut row = version_row(&draft)?.into_active_model();
        row.reset(register_versions::Column::State);
        row.reset(register_versions::Column::PublishedBy);
        row.reset(register_versions::Column::PublishedAt);
        row.update(&txn).await?;
        register.status = RegisterStatus::Published;
        register.published_version = Some(draft.number);
        register.show(&draft.content);
        register.updated_at = now;
        let register = save_register(&txn, register, &created_by).await?;
        let envelope = events::register_published(&actor.subject, &draft, superseded);
        outbox::enqueue(&txn, events::REGISTER_PUBLISHED_SUBJECT, &envelope).await?;
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(register_id = %id, version = draft.number, actor = %actor.subject, "register published");
        Ok((register, draft))
    }

    /// Retires the register for good and queues `RegisterRetired`.
    pub async fn retire(
        &self,
        actor: &Principal,
        id: &str,
        reason: String,
        etag: &str,
    ) -> Result<Register> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let (mut register, created_by) = open_for_change(&txn, id, etag, "retired again").await?;
        let mut touched = vec![register.latest_version];
        touched.extend(register.published_version);
        touched.dedup();
        for number in touched {
            let state = find_version(&txn, id, number).await?.state;
            if let Some(next) = state.on_retire() {
                set_state(&txn, id, number, next).await?;
            }
        }
        register.status = RegisterStatus::Retired;
        register.retired_by = Some(actor.subject.clone());
        register.retired_at = Some(now);
        register.retire_reason = Some(reason.clone());
        register.updated_at = now;
        let register = save_register(&txn, register, &created_by).await?;
        let envelope = events::register_retired(&actor.subject, &register, reason);
        outbox::enqueue(&txn, events::REGISTER_RETIRED_SUBJECT, &envelope).await?;
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(register_id = %id, actor = %actor.subject, "register retired");
        Ok(register)
    }

    pub async fn get(&self, id: &str, selector: Selector) -> Result<Versioned> {
        // The common reads in one round trip: the version the selector names, joined with its
        // register. Anything else (a draft, or an error to explain) takes the longer way.
        let version_column = match selector {
            Selector::LatestPublished => Some(registers::Column::PublishedVersion),
            Selector::Latest => Some(registers::Column::LatestVersion),
            _ => None,
        };
        let reader = self.db.reader();
        if let Some(column) = version_column {
            use sea_orm::sea_query::{Expr, ExprTrait};
            let found = register_versions::Entity::find()
                .find_also_related(registers::Entity)
                .filter(register_versions::Column::RegisterId.eq(id))
                .filter(
                    Expr::col((
                        register_versions::Entity,
                        register_versions::Column::Version,
                    ))
                    .equals((registers::Entity, column)),
                )
                .one(reader)
                .await?;
            if let Some((version, Some(register))) = found {
                return Ok((register_of(register)?.0, version_of(version)?));
            }
        }
        let (register, _) = find_register(reader, id).await?;
        let wanted = match selector {
            Selector::LatestPublished => register
                .published_version
                .ok_or_else(|| CatalogueError::NothingPublished(id.to_owned()))?,
            Selector::Latest => register.latest_version,
            Selector::Draft => {
                let latest = find_version(reader, id, register.latest_version).await?;
                if latest.state != VersionState::Draft {
                    return Err(CatalogueError::NoDraft(id.to_owned()));
                }
                return Ok((register, latest));
            }
            Selector::Number(n) => n as i32,
        };
        let version = find_version(reader, id, wanted).await?;
        Ok((register, version))
    }

    /// Registers, newest first, optionally of one status and one controller.
    pub async fn list(
        &self,
        page: &Page,
        status: Option<RegisterStatus>,
        controller_business_id: Option<String>,
    ) -> Result<Listed<Register>> {
        use registers::Column;
        let mut filter = Condition::all();
        if let Some(s) = status {
            filter = filter.add(Column::Status.eq(s.as_str()));
        }
        if let Some(c) = controller_business_id {
            filter = filter.add(Column::ControllerBusinessId.eq(c));
        }
        let reader = self.db.reader();
        let total = registers::Entity::find()
            .filter(filter.clone())
            .count(reader)
            .await?;
        let mut query = registers::Entity::find()
            .filter(filter)
            .order_by_desc(Column::Id);
        if let Some(after) = &page.after {
            query = query.filter(Column::Id.lt(after.clone()));
        }
        let mut rows = query.limit(page.size + 1).all(reader).await?;
        let next_page_token = if rows.len() as u64 > page.size {
            rows.truncate(page.size as usize);
            rows.last().map(|r| r.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Listed {
            rows: rows
                .into_iter()
                .map(|r| register_of(r).map(|(r, _)| r))
                .collect::<Result<_>>()?,
            next_page_token,
            total: total as i64,
        })
    }

    /// A register's versions, oldest first. `page.after` is a version number.
    pub async fn versions(&self, id: &str, page: &Page) -> Result<Listed<Version>> {
        use register_versions::Column;
        let reader = self.db.reader();
        let (register, _) = find_register(reader, id).await?;
        let after: i32 = match &page.after {
            None => 0,
            Some(token) => token.parse().map_err(|_| {
                CatalogueError::invalid("page.page_token", "not a token this list returned")
            })?,
        };
        let mut rows = register_versions::Entity::find()
            .filter(Column::RegisterId.eq(id))
            .filter(Column::Version.gt(after))
            .order_by_asc(Column::Version)
            .limit(page.size + 1)
            .all(reader)
            .await?;
        let next_page_token = if rows.len() as u64 > page.size {
            rows.truncate(page.size as usize);
            rows.last()
                .map(|r| r.version.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Listed {
            rows: rows.into_iter().map(version_of).collect::<Result<_>>()?,
            next_page_token,
            total: i64::from(register.latest_version),
        })
    }

    /// The version to render: the published one, or a given number that was published.
    pub async fn published_version(&self, id: &str, number: u32) -> Result<Version> {
        let reader = self.db.reader();
        let (register, _) = find_register(reader, id).await?;
        let wanted = match number {
            0 => register
                .published_version
                .ok_or_else(|| CatalogueError::NothingToRender(id.to_owned()))?,
            n => n as i32,
        };
        let version = find_version(reader, id, wanted).await?;
        if version.published_at.is_none() {
            return Err(CatalogueError::NeverPublished {
                id: id.to_owned(),
                version: wanted,
            });
        }
        Ok(version)
    }
}

/// The register a change is about, as the caller read it (`etag`) and still open to `doing`.
async fn open_for_change(
    txn: &DatabaseTransaction,
    id: &str,
    etag: &str,
    doing: &str,
) -> Result<(Register, String)> {
    let (register, created_by) = find_register(txn, id).await?;
    register.check_etag(etag)?;
    register.status.ensure_open(id, doing)?;
    Ok((register, created_by))
}

/// The register and who created it (kept in the row, not part of the domain's register).
async fn find_register<C: ConnectionTrait>(db: &C, id: &str) -> Result<(Register, String)> {
    let row = registers::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| CatalogueError::NoRegister(id.to_owned()))?;
    register_of(row)
}

async fn find_version<C: ConnectionTrait>(db: &C, id: &str, number: i32) -> Result<Version> {
    let row = register_versions::Entity::find_by_id((id.to_owned(), number))
        .one(db)
        .await?
        .ok_or_else(|| CatalogueError::NoVersion {
            id: id.to_owned(),
            version: number,
        })?;
    version_of(row)
}

async fn set_state(
    txn: &DatabaseTransaction,
    id: &str,
    number: i32,
    state: VersionState,
) -> Result<()> {
    register_versions::Entity::update_many()
        .col_expr(
            register_versions::Column::State,
            sea_orm::sea_query::Expr::value(state.as_str()),
        )
        .filter(register_versions::Column::RegisterId.eq(id))
        .filter(register_versions::Column::Version.eq(number))
        .exec(txn)
        .await?;
    Ok(())
}

/// Writes `register` if nobody else changed it since it was read (compare-and-swap on `revision`).
async fn save_register(
    txn: &DatabaseTransaction,
    mut register: Register,
    created_by: &str,
) -> Result<Register> {
    let read_revision = register.revision;
    register.revision += 1;
    let model = register_row(&register, created_by)
        .into_active_model()
        .reset_all();
    let result = registers::Entity::update_many()
        .set(model)
        .filter(registers::Column::Id.eq(register.id.clone()))
        .filter(registers::Column::Revision.eq(read_revision))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(CatalogueError::ChangedMeanwhile(register.id));
    }
    Ok(register)
}

fn register_of(row: registers::Model) -> Result<(Register, String)> {
    let status = RegisterStatus::parse(&row.status).ok_or_else(|| {
        anyhow::anyhow!("register {} has an unknown status `{}`", row.id, row.status)
    })?;
    Ok((
        Register {
            id: row.id,
            status,
            name: row.name,
            controller_name: row.controller_name,
            controller_business_id: row.controller_business_id,
            latest_version: row.latest_version,
            published_version: row.published_version,
            revision: row.revision,
            created_at: row.created_at,
            updated_at: row.updated_at,
            retired_by: row.retired_by,
            retired_at: row.retired_at,
            retire_reason: row.retire_reason,
        },
        row.created_by,
    ))
}

fn register_row(r: &Register, created_by: &str) -> registers::Model {
    registers::Model {
        id: r.id.clone(),
        status: r.status.as_str().to_owned(),
        name: r.name.clone(),
        controller_name: r.controller_name.clone(),
        controller_business_id: r.controller_business_id.clone(),
        latest_version: r.latest_version,
        published_version: r.published_version,
        revision: r.revision,
        created_by: created_by.to_owned(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        retired_by: r.retired_by.clone(),
        retired_at: r.retired_at,
        retire_reason: r.retire_reason.clone(),
    }
}

fn version_of(row: register_versions::Model) -> Result<Version> {
    let state = VersionState::parse(&row.state).ok_or_else(|| {
        anyhow::anyhow!(
            "version {} of register {} has an unknown state `{}`",
            row.version,
            row.register_id,
            row.state
        )
    })?;
    let content = serde_json::from_str(&row.content).map_err(|source| CatalogueError::Corrupt {
        id: row.register_id.clone(),
        version: row.version,
        source,
    })?;
    // A report that no longer parses is left out rather than failing the read: it is a record
    // of how the version was made, not part of the register.
    let import_report = row
        .import_report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    Ok(Version {
        register_id: row.register_id,
        number: row.version,
        state,
        content,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_by: row.updated_by,
        updated_at: row.updated_at,
        published_by: row.published_by,
        published_at: row.published_at,
        import_report,
    })
}

fn version_row(v: &Version) -> Result<register_versions::Model> {
    Ok(register_versions::Model {
        register_id: v.register_id.clone(),
        version: v.number,
        state: v.state.as_str().to_owned(),
        content: serde_json::to_string(&v.content).map_err(anyhow::Error::from)?,
        created_by: v.created_by.clone(),
        created_at: v.created_at,
        updated_by: v.updated_by.clone(),
        updated_at: v.updated_at,
        published_by: v.published_by.clone(),
        published_at: v.published_at,
        import_report: v
            .import_report
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(anyhow::Error::from)?,
    })
}
