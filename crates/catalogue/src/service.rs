//! The catalogue's gRPC service: roles, lifecycle rules and persistence.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use rekisteri_platform::auth::Principal;
use rekisteri_platform::cache::ReadCache;
use rekisteri_platform::config::ReadCacheConfig;
use rekisteri_platform::db::{Db, is_unique_violation};
use rekisteri_platform::error::{FieldViolations, ServiceError};
use rekisteri_platform::outbox::{self, OutboxSignal};
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::catalogue::v1::catalogue_service_server::CatalogueService as CatalogueRpc;
use rekisteri_proto::common::v1::{Actor, BusinessId as BusinessIdPb, PageRequest, PageResponse};
use rekisteri_proto::events::v1::{RegisterPublished, RegisterRetired, event_envelope::Payload};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::RegisterContent;
use crate::entity::{register_versions, registers};
use crate::events;
use crate::import::{self, ImportReport};
use crate::notice;

mod status {
    pub const DRAFT: &str = "draft";
    pub const PUBLISHED: &str = "published";
    pub const SUPERSEDED: &str = "superseded";
    pub const RETIRED: &str = "retired";
    pub const ABANDONED: &str = "abandoned";
}

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 500;

/// The catalogue service: cheap to clone, one per server.
#[derive(Debug, Clone)]
pub struct Catalogue {
    db: Db,
    outbox: OutboxSignal,
    reads: Arc<Reads>,
}

/// Answers to the hot reads, kept in memory: registers are read far more often than they change.
/// Every commit here forgets them all; another replica's change shows within the cache's ttl.
#[derive(Debug)]
struct Reads {
    /// GetRegister of a published or numbered version, by register id, selector and number.
    /// Drafts and the latest version are always read from the database, as editors need them
    /// current whichever replica they reach.
    registers: ReadCache<(String, i32, u32), pb::GetRegisterResponse>,
    /// ListRegisters by status filter, controller and page.
    lists: ReadCache<ListKey, pb::ListRegistersResponse>,
}

/// Status filter, controller business ID, page size, page token.
type ListKey = (Option<&'static str>, Option<String>, u64, Option<String>);

impl Reads {
    fn changed(&self) {
        self.registers.invalidate();
        self.lists.invalidate();
    }
}

type Versioned = (registers::Model, register_versions::Model);

impl Catalogue {
    pub fn new(db: Db, outbox: OutboxSignal, cache: &ReadCacheConfig) -> Self {
        Self {
            db,
            outbox,
            reads: Arc::new(Reads {
                registers: cache.cache(),
                lists: cache.cache(),
            }),
        }
    }

    pub async fn create(
        &self,
        actor: &Principal,
        content: RegisterContent,
    ) -> Result<Versioned, ServiceError> {
        self.create_with_report(actor, content, None).await
    }

    /// Creates a register whose first version came from an imported document.
    pub async fn create_with_report(
        &self,
        actor: &Principal,
        content: RegisterContent,
        report: Option<&ImportReport>,
    ) -> Result<Versioned, ServiceError> {
        let now = Utc::now();
        let id = Uuid::now_v7().to_string();
        let txn = self.db.begin().await?;
        let register = registers::ActiveModel {
            id: Set(id.clone()),
            status: Set(status::DRAFT.into()),
            name: Set(content.name.clone()),
            controller_name: Set(content.controller.name.clone()),
            controller_business_id: Set(content
                .controller
                .business_id
                .as_ref()
                .map(|b| b.to_string())),
            latest_version: Set(1),
            published_version: Set(None),
            revision: Set(1),
            created_by: Set(actor.subject.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            retired_by: Set(None),
            retired_at: Set(None),
            retire_reason: Set(None),
        }
        .insert(&txn)
        .await?;
        let mut version = new_version(&id, 1, &content, actor, now)?;
        if let Some(report) = report {
            let json = serde_json::to_string(report).map_err(anyhow::Error::from)?;
            version.import_report = Set(Some(json));
        }
        let version = version.insert(&txn).await?;
        txn.commit().await?;
        self.reads.changed();
        tracing::info!(register_id = %id, actor = %actor.subject, imported = report.is_some(), "register created");
        Ok((register, version))
    }

    pub async fn update_draft(
        &self,
        actor: &Principal,
        id: &str,
        content: RegisterContent,
        expected_latest_version: u32,
        etag: &str,
    ) -> Result<Versioned, ServiceError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let mut register = find_register(&txn, id).await?;
        check_etag(&register, etag)?;
        if register.status == status::RETIRED {
            return Err(ServiceError::FailedPrecondition(format!(
                "register {id} is retired and can no longer be edited"
            )));
        }
        if expected_latest_version != 0 && expected_latest_version as i32 != register.latest_version
        {
            return Err(ServiceError::Aborted(format!(
                "register {id} is at version {}, not {expected_latest_version}; read it again and retry",
                register.latest_version
            )));
        }
        let latest = find_version(&txn, id, register.latest_version).await?;
        let version = if latest.state == status::DRAFT {
            let mut draft = latest.into_active_model();
            draft.content = Set(serde_json::to_string(&content).map_err(anyhow::Error::from)?);
            draft.updated_by = Set(actor.subject.clone());
            draft.updated_at = Set(now);
            draft.update(&txn).await?
        } else {
            // The latest version is published and immutable: start the next one. Two editors
            // doing this at once both try to insert the same version: the second loses.
            register.latest_version += 1;
            new_version(id, register.latest_version, &content, actor, now)?
                .insert(&txn)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        changed_meanwhile(id)
                    } else {
                        e.into()
                    }
                })?
        };
        // Lists show the published name and controller; a draft's only while nothing is published.
        if register.published_version.is_none() {
            set_summary(&mut register, &content);
        }
        register.updated_at = now;
        let register = save_register(&txn, register).await?;
        txn.commit().await?;
        self.reads.changed();
        tracing::info!(register_id = %id, version = version.version, actor = %actor.subject, "register draft updated");
        Ok((register, version))
    }

    pub async fn publish(
        &self,
        actor: &Principal,
        id: &str,
        expected_version: u32,
        etag: &str,
    ) -> Result<Versioned, ServiceError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let mut register = find_register(&txn, id).await?;
        check_etag(&register, etag)?;
        if register.status == status::RETIRED {
            return Err(ServiceError::FailedPrecondition(format!(
                "register {id} is retired"
            )));
        }
        let draft = find_version(&txn, id, register.latest_version).await?;
        if draft.state != status::DRAFT {
            return Err(ServiceError::FailedPrecondition(format!(
                "register {id} has no draft to publish: version {} is already {}",
                draft.version, draft.state
            )));
        }
        if expected_version != 0 && expected_version as i32 != draft.version {
            return Err(ServiceError::Aborted(format!(
                "the draft of register {id} is version {}, not {expected_version}",
                draft.version
            )));
        }
        let content = parse_content(&draft)?;
        let gaps = content.completeness("content");
        if !gaps.is_empty() {
            return Err(ServiceError::InvalidArgument(gaps));
        }
        let superseded = register.published_version;
        if let Some(previous) = superseded {
            set_state(&txn, id, previous, status::SUPERSEDED).await?;
        }
        let mut version = draft.into_active_model();
        version.state = Set(status::PUBLISHED.into());
        version.published_by = Set(Some(actor.subject.clone()));
        version.published_at = Set(Some(now));
        let version = version.update(&txn).await?;
        register.status = status::PUBLISHED.into();
        register.published_version = Some(version.version);
        set_summary(&mut register, &content);
        register.updated_at = now;
        let register = save_register(&txn, register).await?;

        let event =
            RegisterPublished {
                register_id: id.to_owned(),
                version: version.version as u32,
                register_name: content.name.clone(),
                controller_name: content.controller.name.clone(),
                controller_business_id: content.controller.business_id.as_ref().map(|b| {
                    BusinessIdPb {
                        value: b.to_string(),
                    }
                }),
                data_category_keys: content
                    .data_categories
                    .iter()
                    .map(|c| c.key.clone())
                    .collect(),
                includes_national_identity_code: content.includes_national_identity_code(),
                includes_special_categories: content.includes_special_categories(),
                superseded_version: superseded.unwrap_or(0) as u32,
            };
        let envelope = outbox::envelope(
            events::SOURCE,
            events::REGISTER_PUBLISHED_TYPE,
            &actor.subject,
            Payload::RegisterPublished(event),
        );
        outbox::enqueue(&txn, events::REGISTER_PUBLISHED_SUBJECT, &envelope).await?;
        txn.commit().await?;
        self.reads.changed();
        self.outbox.notify();
        tracing::info!(register_id = %id, version = version.version, actor = %actor.subject, "register published");
        Ok((register, version))
    }

    pub async fn retire(
        &self,
        actor: &Principal,
        id: &str,
        reason: String,
        etag: &str,
    ) -> Result<registers::Model, ServiceError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let mut register = find_register(&txn, id).await?;
        check_etag(&register, etag)?;
        if register.status == status::RETIRED {
            return Err(ServiceError::FailedPrecondition(format!(
                "register {id} is already retired"
            )));
        }
        if let Some(published) = register.published_version {
            set_state(&txn, id, published, status::RETIRED).await?;
        }
        let latest = find_version(&txn, id, register.latest_version).await?;
        if latest.state == status::DRAFT {
            set_state(&txn, id, latest.version, status::ABANDONED).await?;
        }
        register.status = status::RETIRED.into();
        register.retired_by = Some(actor.subject.clone());
        register.retired_at = Some(now);
        register.retire_reason = Some(reason.clone());
        register.updated_at = now;
        let register = save_register(&txn, register).await?;
        let event = RegisterRetired {
            register_id: id.to_owned(),
            last_published_version: register.published_version.unwrap_or(0) as u32,
            reason,
        };
        let envelope = outbox::envelope(
            events::SOURCE,
            events::REGISTER_RETIRED_TYPE,
            &actor.subject,
            Payload::RegisterRetired(event),
        );
        outbox::enqueue(&txn, events::REGISTER_RETIRED_SUBJECT, &envelope).await?;
        txn.commit().await?;
        self.reads.changed();
        self.outbox.notify();
        tracing::info!(register_id = %id, actor = %actor.subject, "register retired");
        Ok(register)
    }

    pub async fn get(
        &self,
        id: &str,
        selector: pb::VersionSelector,
        number: u32,
    ) -> Result<Versioned, ServiceError> {
        // The common reads in one round trip: the version the selector names, joined with its
        // register. Anything else (a draft, or an error to explain) takes the longer way.
        let version_column = match selector {
            pb::VersionSelector::Unspecified | pb::VersionSelector::LatestPublished => {
                Some(registers::Column::PublishedVersion)
            }
            pb::VersionSelector::Latest => Some(registers::Column::LatestVersion),
            _ => None,
        };
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
                .one(self.db.reader())
                .await?;
            if let Some((version, Some(register))) = found {
                return Ok((register, version));
            }
        }
        let register = find_register(self.db.reader(), id).await?;
        let wanted = match selector {
            pb::VersionSelector::Unspecified | pb::VersionSelector::LatestPublished => {
                register.published_version.ok_or_else(|| {
                    ServiceError::NotFound(format!(
                        "register {id} has no published version yet; ask for its draft or latest version"
                    ))
                })?
            }
            pb::VersionSelector::Latest => register.latest_version,
            pb::VersionSelector::Draft => {
                let latest = find_version(self.db.reader(), id, register.latest_version).await?;
                if latest.state != status::DRAFT {
                    return Err(ServiceError::NotFound(format!(
                        "register {id} has no draft"
                    )));
                }
                return Ok((register, latest));
            }
            pb::VersionSelector::Number => number as i32,
        };
        let version = find_version(self.db.reader(), id, wanted).await?;
        Ok((register, version))
    }

    pub async fn list(
        &self,
        page: Page,
        status_filter: Option<&'static str>,
        controller: Option<String>,
    ) -> Result<(Vec<registers::Model>, PageResponse), ServiceError> {
        use registers::Column;
        let mut filter = Condition::all();
        if let Some(s) = status_filter {
            filter = filter.add(Column::Status.eq(s));
        }
        if let Some(c) = controller {
            filter = filter.add(Column::ControllerBusinessId.eq(c));
        }
        let total = registers::Entity::find()
            .filter(filter.clone())
            .count(self.db.reader())
            .await?;
        let mut query = registers::Entity::find()
            .filter(filter)
            .order_by_desc(Column::Id);
        if let Some(after) = &page.after {
            query = query.filter(Column::Id.lt(after.clone()));
        }
        let mut rows = query.limit(page.size + 1).all(self.db.reader()).await?;
        let next = if rows.len() as u64 > page.size {
            rows.truncate(page.size as usize);
            rows.last().map(|r| r.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok((
            rows,
            PageResponse {
                next_page_token: next,
                total_size: total as i64,
            },
        ))
    }

    pub async fn versions(
        &self,
        id: &str,
        page: Page,
    ) -> Result<(Vec<register_versions::Model>, PageResponse), ServiceError> {
        use register_versions::Column;
        let register = find_register(self.db.reader(), id).await?;
        let after: i32 = match &page.after {
            None => 0,
            Some(token) => token.parse().map_err(|_| bad_token())?,
        };
        let mut rows = register_versions::Entity::find()
            .filter(Column::RegisterId.eq(id))
            .filter(Column::Version.gt(after))
            .order_by_asc(Column::Version)
            .limit(page.size + 1)
            .all(self.db.reader())
            .await?;
        let next = if rows.len() as u64 > page.size {
            rows.truncate(page.size as usize);
            rows.last()
                .map(|r| r.version.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok((
            rows,
            PageResponse {
                next_page_token: next,
                total_size: i64::from(register.latest_version),
            },
        ))
    }
}

impl Catalogue {
    /// The version to render: the published one, or a given number that was published.
    pub async fn published_version(
        &self,
        id: &str,
        number: u32,
    ) -> Result<(RegisterContent, register_versions::Model), ServiceError> {
        let register = find_register(self.db.reader(), id).await?;
        let wanted = match number {
            0 => register.published_version.ok_or_else(|| {
                ServiceError::FailedPrecondition(format!(
                    "register {id} has no published version to render"
                ))
            })?,
            n => n as i32,
        };
        let version = find_version(self.db.reader(), id, wanted).await?;
        if version.published_at.is_none() {
            return Err(ServiceError::FailedPrecondition(format!(
                "version {wanted} of register {id} was never published; only published versions have a public notice"
            )));
        }
        Ok((parse_content(&version)?, version))
    }
}

fn new_version(
    id: &str,
    number: i32,
    content: &RegisterContent,
    actor: &Principal,
    now: DateTime<Utc>,
) -> Result<register_versions::ActiveModel, ServiceError> {
    Ok(register_versions::ActiveModel {
        register_id: Set(id.to_owned()),
        version: Set(number),
        state: Set(status::DRAFT.into()),
        content: Set(serde_json::to_string(content).map_err(anyhow::Error::from)?),
        created_by: Set(actor.subject.clone()),
        created_at: Set(now),
        updated_by: Set(actor.subject.clone()),
        updated_at: Set(now),
        published_by: Set(None),
        published_at: Set(None),
        import_report: Set(None),
    })
}

async fn find_register<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: &str,
) -> Result<registers::Model, ServiceError> {
    registers::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("register {id} does not exist")))
}

async fn find_version<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: &str,
    version: i32,
) -> Result<register_versions::Model, ServiceError> {
    register_versions::Entity::find_by_id((id.to_owned(), version))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("register {id} has no version {version}")))
}

async fn set_state(
    txn: &DatabaseTransaction,
    id: &str,
    version: i32,
    state: &str,
) -> Result<(), ServiceError> {
    let mut model = find_version(txn, id, version).await?.into_active_model();
    model.state = Set(state.to_owned());
    model.update(txn).await?;
    Ok(())
}

/// Writes `register` if nobody else changed it since it was read (compare-and-swap on `revision`).
async fn save_register(
    txn: &DatabaseTransaction,
    mut register: registers::Model,
) -> Result<registers::Model, ServiceError> {
    let read_revision = register.revision;
    register.revision += 1;
    let model = register.clone().into_active_model().reset_all();
    let result = registers::Entity::update_many()
        .set(model)
        .filter(registers::Column::Id.eq(register.id.clone()))
        .filter(registers::Column::Revision.eq(read_revision))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(changed_meanwhile(&register.id));
    }
    Ok(register)
}

fn changed_meanwhile(id: &str) -> ServiceError {
    ServiceError::Aborted(format!(
        "register {id} was changed by someone else meanwhile; read it again and retry"
    ))
}

/// The register's etag: it changes with every saved change (each bumps the revision).
pub fn etag(register: &registers::Model) -> String {
    format!(
        "{}-{}",
        &register.id[register.id.len().saturating_sub(8)..],
        register.revision
    )
}

/// ABORTED when the caller's etag is set and no longer current.
fn check_etag(register: &registers::Model, etag_read: &str) -> Result<(), ServiceError> {
    // Quotes, as HTTP writes etags, are tolerated.
    let etag_read = etag_read.trim_matches('"');
    if etag_read.is_empty() || etag_read == etag(register) {
        return Ok(());
    }
    Err(ServiceError::Aborted(format!(
        "register {} changed since it was read (etag {etag_read}, now {}); read it again and retry",
        register.id,
        etag(register)
    )))
}

/// The name and controller lists show.
fn set_summary(register: &mut registers::Model, content: &RegisterContent) {
    register.name = content.name.clone();
    register.controller_name = content.controller.name.clone();
    register.controller_business_id = content
        .controller
        .business_id
        .as_ref()
        .map(|b| b.to_string());
}

fn parse_content(version: &register_versions::Model) -> Result<RegisterContent, ServiceError> {
    serde_json::from_str(&version.content).map_err(|e| {
        ServiceError::Internal(anyhow::Error::new(e).context(format!(
            "stored content of register {} version {} does not parse",
            version.register_id, version.version
        )))
    })
}

fn bad_token() -> ServiceError {
    let mut v = FieldViolations::new();
    v.add("page.page_token", "not a token this list returned");
    ServiceError::InvalidArgument(v)
}

/// A validated page request.
#[derive(Debug)]
pub struct Page {
    size: u64,
    after: Option<String>,
}

impl Page {
    fn parse(page: Option<&PageRequest>, violations: &mut FieldViolations) -> Page {
        let (size, token) = page.map_or((0, ""), |p| (p.page_size, p.page_token.as_str()));
        if !(0..=MAX_PAGE_SIZE as i32).contains(&size) {
            violations.add(
                "page.page_size",
                format!("between 0 (the default, {DEFAULT_PAGE_SIZE}) and {MAX_PAGE_SIZE}"),
            );
        }
        let size = if size <= 0 {
            DEFAULT_PAGE_SIZE
        } else {
            (size as u64).min(MAX_PAGE_SIZE)
        };
        Page {
            size,
            after: (!token.is_empty()).then(|| token.to_owned()),
        }
    }
}

fn register_id(raw: &str, violations: &mut FieldViolations) -> String {
    match Uuid::parse_str(raw.trim()) {
        Ok(id) => id.to_string(),
        Err(_) => {
            violations.add(
                "register_id",
                if raw.is_empty() {
                    "required".into()
                } else {
                    format!("`{raw}` is not a register id")
                },
            );
            String::new()
        }
    }
}

fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

fn actor(subject: &str) -> Option<Actor> {
    Some(Actor {
        subject: subject.to_owned(),
    })
}

fn register_pb(r: &registers::Model) -> pb::Register {
    pb::Register {
        register_id: r.id.clone(),
        status: match r.status.as_str() {
            status::DRAFT => pb::RegisterStatus::Draft,
            status::PUBLISHED => pb::RegisterStatus::Published,
            _ => pb::RegisterStatus::Retired,
        } as i32,
        name: r.name.clone(),
        controller_name: r.controller_name.clone(),
        controller_business_id: r
            .controller_business_id
            .clone()
            .map(|value| BusinessIdPb { value }),
        latest_version: r.latest_version as u32,
        published_version: r.published_version.unwrap_or(0) as u32,
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        retire_reason: r.retire_reason.clone().unwrap_or_default(),
        retired_by: r.retired_by.as_deref().and_then(actor),
        retire_time: r.retired_at.map(timestamp),
        etag: etag(r),
    }
}

fn version_pb(v: &register_versions::Model) -> Result<pb::RegisterVersion, ServiceError> {
    let content = parse_content(v)?;
    Ok(pb::RegisterVersion {
        register_id: v.register_id.clone(),
        version: v.version as u32,
        state: match v.state.as_str() {
            status::DRAFT => pb::VersionState::Draft,
            status::PUBLISHED => pb::VersionState::Published,
            status::SUPERSEDED => pb::VersionState::Superseded,
            status::RETIRED => pb::VersionState::Retired,
            _ => pb::VersionState::Abandoned,
        } as i32,
        content: Some(pb::RegisterContent::from(&content)),
        created_by: actor(&v.created_by),
        create_time: Some(timestamp(v.created_at)),
        updated_by: actor(&v.updated_by),
        update_time: Some(timestamp(v.updated_at)),
        published_by: v.published_by.as_deref().and_then(actor),
        publish_time: v.published_at.map(timestamp),
        import_report: v
            .import_report
            .as_deref()
            .and_then(|r| serde_json::from_str::<ImportReport>(r).ok())
            .map(|r| pb::ImportReport::from(&r)),
    })
}

fn versioned_pb(
    (register, version): Versioned,
) -> Result<(Option<pb::Register>, Option<pb::RegisterVersion>), Status> {
    Ok((Some(register_pb(&register)), Some(version_pb(&version)?)))
}

#[tonic::async_trait]
impl CatalogueRpc for Catalogue {
    async fn create_register(
        &self,
        request: Request<pb::CreateRegisterRequest>,
    ) -> Result<Response<pb::CreateRegisterResponse>, Status> {
        let principal = Principal::of(&request)?;
        let content = RegisterContent::from_proto("content", request.get_ref().content.as_ref())
            .map_err(ServiceError::InvalidArgument)?;
        let (register, version) = versioned_pb(self.create(&principal, content).await?)?;
        Ok(Response::new(pb::CreateRegisterResponse {
            register,
            version,
        }))
    }

    async fn update_register_draft(
        &self,
        request: Request<pb::UpdateRegisterDraftRequest>,
    ) -> Result<Response<pb::UpdateRegisterDraftResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let mut violations = FieldViolations::new();
        let id = register_id(&req.register_id, &mut violations);
        let content = match RegisterContent::from_proto("content", req.content.as_ref()) {
            Ok(c) => Some(c),
            Err(v) => {
                v.iter().for_each(|(f, d)| violations.add(f, d));
                None
            }
        };
        let content = violations
            .into_result(content)?
            .expect("no violations means content parsed");
        let result = self
            .update_draft(
                &principal,
                &id,
                content,
                req.expected_latest_version,
                req.etag.trim(),
            )
            .await?;
        let (register, version) = versioned_pb(result)?;
        Ok(Response::new(pb::UpdateRegisterDraftResponse {
            register,
            version,
        }))
    }

    async fn publish_register(
        &self,
        request: Request<pb::PublishRegisterRequest>,
    ) -> Result<Response<pb::PublishRegisterResponse>, Status> {
        let principal = Principal::of(&request)?;
        let mut violations = FieldViolations::new();
        let id = register_id(&request.get_ref().register_id, &mut violations);
        violations.into_result(())?;
        let (register, version) = versioned_pb(
            self.publish(
                &principal,
                &id,
                request.get_ref().expected_version,
                request.get_ref().etag.trim(),
            )
            .await?,
        )?;
        Ok(Response::new(pb::PublishRegisterResponse {
            register,
            version,
        }))
    }

    async fn retire_register(
        &self,
        request: Request<pb::RetireRegisterRequest>,
    ) -> Result<Response<pb::RetireRegisterResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.get_ref();
        let mut violations = FieldViolations::new();
        let id = register_id(&req.register_id, &mut violations);
        let reason = req.reason.trim().to_owned();
        if reason.is_empty() {
            violations.add(
                "reason",
                "say why the register is retired; the reason is kept with it",
            );
        } else if reason.chars().count() > 2000 {
            violations.add("reason", "at most 2000 characters");
        }
        violations.into_result(())?;
        let register = self
            .retire(&principal, &id, reason, req.etag.trim())
            .await?;
        Ok(Response::new(pb::RetireRegisterResponse {
            register: Some(register_pb(&register)),
        }))
    }

    async fn get_register(
        &self,
        request: Request<pb::GetRegisterRequest>,
    ) -> Result<Response<pb::GetRegisterResponse>, Status> {
        Principal::of(&request)?;
        let req = request.get_ref();
        let mut violations = FieldViolations::new();
        let id = register_id(&req.register_id, &mut violations);
        let selector = pb::VersionSelector::try_from(req.selector).unwrap_or_else(|_| {
            violations.add(
                "selector",
                format!("{} is not a VersionSelector", req.selector),
            );
            pb::VersionSelector::Unspecified
        });
        if selector == pb::VersionSelector::Number && req.version == 0 {
            violations.add("version", "versions are numbered from 1");
        }
        violations.into_result(())?;
        let cache = &self.reads.registers;
        let cacheable = matches!(
            selector,
            pb::VersionSelector::Unspecified
                | pb::VersionSelector::LatestPublished
                | pb::VersionSelector::Number
        );
        let key = (id, selector as i32, req.version);
        if cacheable && let Some(hit) = cache.get(&key) {
            return Ok(Response::new(hit));
        }
        let generation = cache.generation();
        let (register, version) = versioned_pb(self.get(&key.0, selector, req.version).await?)?;
        let response = pb::GetRegisterResponse { register, version };
        if cacheable {
            cache.put(key, response.clone(), generation);
        }
        Ok(Response::new(response))
    }

    async fn list_registers(
        &self,
        request: Request<pb::ListRegistersRequest>,
    ) -> Result<Response<pb::ListRegistersResponse>, Status> {
        Principal::of(&request)?;
        let req = request.get_ref();
        let mut violations = FieldViolations::new();
        let page = Page::parse(req.page.as_ref(), &mut violations);
        if let Some(after) = &page.after
            && Uuid::parse_str(after).is_err()
        {
            violations.add("page.page_token", "not a token this list returned");
        }
        let status_filter = match pb::RegisterStatus::try_from(req.status) {
            Ok(pb::RegisterStatus::Unspecified) => None,
            Ok(pb::RegisterStatus::Draft) => Some(status::DRAFT),
            Ok(pb::RegisterStatus::Published) => Some(status::PUBLISHED),
            Ok(pb::RegisterStatus::Retired) => Some(status::RETIRED),
            Err(_) => {
                violations.add("status", format!("{} is not a RegisterStatus", req.status));
                None
            }
        };
        let controller = match req
            .controller_business_id
            .as_ref()
            .map(|b| b.value.trim())
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(raw) => match rekisteri_identifiers::BusinessId::parse(raw) {
                Ok(id) => Some(id.to_string()),
                Err(e) => {
                    violations.add("controller_business_id", e.to_string());
                    None
                }
            },
        };
        violations.into_result(())?;
        let cache = &self.reads.lists;
        let key = (status_filter, controller, page.size, page.after.clone());
        if let Some(hit) = cache.get(&key) {
            return Ok(Response::new(hit));
        }
        let generation = cache.generation();
        let (rows, page) = self.list(page, status_filter, key.1.clone()).await?;
        let response = pb::ListRegistersResponse {
            registers: rows.iter().map(register_pb).collect(),
            page: Some(page),
        };
        cache.put(key, response.clone(), generation);
        Ok(Response::new(response))
    }

    async fn list_register_versions(
        &self,
        request: Request<pb::ListRegisterVersionsRequest>,
    ) -> Result<Response<pb::ListRegisterVersionsResponse>, Status> {
        Principal::of(&request)?;
        let req = request.get_ref();
        let mut violations = FieldViolations::new();
        let id = register_id(&req.register_id, &mut violations);
        let page = Page::parse(req.page.as_ref(), &mut violations);
        violations.into_result(())?;
        let (rows, page) = self.versions(&id, page).await?;
        let versions = rows.iter().map(version_pb).collect::<Result<Vec<_>, _>>()?;
        Ok(Response::new(pb::ListRegisterVersionsResponse {
            versions,
            page: Some(page),
        }))
    }

    async fn import_register(
        &self,
        request: Request<pb::ImportRegisterRequest>,
    ) -> Result<Response<pb::ImportRegisterResponse>, Status> {
        let principal = Principal::of(&request)?;
        let req = request.into_inner();
        // Reading a document is CPU work (milliseconds to seconds): off the async workers, so
        // that other calls keep being answered meanwhile.
        let (document, source) = (req.document, req.source_name.trim().to_owned());
        let imported = tokio::task::spawn_blocking(move || import::import(&document, &source))
            .await
            .map_err(|e| ServiceError::Internal(anyhow::Error::new(e).context("the import task")))?
            .map_err(|e| {
                let mut v = FieldViolations::new();
                v.add("document", e.to_string());
                ServiceError::InvalidArgument(v)
            })?;
        // The importer already runs the catalogue's validation and leaves out what it refuses.
        let content_pb = pb::RegisterContent::from(&imported.content);
        let report = pb::ImportReport::from(&imported.report);
        if req.dry_run {
            return Ok(Response::new(pb::ImportRegisterResponse {
                register: None,
                version: None,
                content: Some(content_pb),
                report: Some(report),
            }));
        }
        let (register, version) = versioned_pb(
            self.create_with_report(&principal, imported.content, Some(&imported.report))
                .await?,
        )?;
        Ok(Response::new(pb::ImportRegisterResponse {
            register,
            version,
            content: Some(content_pb),
            report: Some(report),
        }))
    }

    async fn render_privacy_notice(
        &self,
        request: Request<pb::RenderPrivacyNoticeRequest>,
    ) -> Result<Response<pb::RenderPrivacyNoticeResponse>, Status> {
        Principal::of(&request)?;
        let req = request.get_ref();
        let mut violations = FieldViolations::new();
        let id = register_id(&req.register_id, &mut violations);
        let lang = match pb::NoticeLanguage::try_from(req.language) {
            Ok(pb::NoticeLanguage::Unspecified | pb::NoticeLanguage::Fi) => notice::Lang::Fi,
            Ok(pb::NoticeLanguage::Sv) => notice::Lang::Sv,
            Ok(pb::NoticeLanguage::En) => notice::Lang::En,
            Err(_) => {
                violations.add("language", "FI, SV or EN");
                notice::Lang::Fi
            }
        };
        let format = match pb::NoticeFormat::try_from(req.format) {
            Ok(pb::NoticeFormat::Unspecified | pb::NoticeFormat::Html) => notice::Format::Html,
            Ok(pb::NoticeFormat::Markdown) => notice::Format::Markdown,
            Ok(pb::NoticeFormat::Text) => notice::Format::Text,
            Err(_) => {
                violations.add("format", "HTML, MARKDOWN or TEXT");
                notice::Format::Html
            }
        };
        let layout = match pb::NoticeLayout::try_from(req.layout) {
            Ok(pb::NoticeLayout::Unspecified | pb::NoticeLayout::Gdpr) => notice::Layout::Gdpr,
            Ok(pb::NoticeLayout::Section10) => notice::Layout::Section10,
            Err(_) => {
                violations.add("layout", "GDPR or SECTION10");
                notice::Layout::Gdpr
            }
        };
        violations.into_result(())?;
        let (content, version) = self.published_version(&id, req.version).await?;
        let published = version.published_at.unwrap_or(version.created_at);
        let rendered = notice::render(
            &content,
            version.version as u32,
            published,
            lang,
            layout,
            format,
        );
        Ok(Response::new(pb::RenderPrivacyNoticeResponse {
            content: rendered,
            media_type: format.media_type().to_owned(),
            version: version.version as u32,
        }))
    }
}
