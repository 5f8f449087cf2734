//! The catalogue's gRPC handlers: each checks its caller's role (done by the platform before it
//! runs), parses the request into typed arguments with every problem reported at once, calls the
//! store and maps the answer back. Hot reads are answered from memory.

use std::sync::Arc;

use rekisteri_platform::auth::Principal;
use rekisteri_platform::cache::ReadCache;
use rekisteri_platform::config::ReadCacheConfig;
use rekisteri_platform::db::Db;
use rekisteri_platform::error::{FieldViolations, ServiceError};
use rekisteri_platform::outbox::OutboxSignal;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::catalogue::v1::catalogue_service_server::CatalogueService as CatalogueRpc;
use rekisteri_proto::common::v1::{PageRequest, PageResponse};
use rekisteri_register::{import, notice};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::convert::{self, content_pb, register_pb, report_pb, version_pb};
use crate::error::CatalogueError;
use crate::lifecycle::RegisterStatus;
use crate::store::{Listed, Page, Selector, Store, Versioned};

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 500;

/// The catalogue service: cheap to clone, one per server.
#[derive(Debug, Clone)]
pub struct Catalogue {
    store: Store,
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
type ListKey = (Option<RegisterStatus>, Option<String>, u64, Option<String>);

impl Reads {
    fn changed(&self) {
        self.registers.invalidate();
        self.lists.invalidate();
    }
}

impl Catalogue {
    pub fn new(db: Db, outbox: OutboxSignal, cache: &ReadCacheConfig) -> Self {
        Self {
            store: Store::new(db, outbox),
            reads: Arc::new(Reads {
                registers: cache.cache(),
                lists: cache.cache(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A write's answer; the cached reads are forgotten whether or not it succeeded (a failed
    /// commit may still have changed something another replica sees).
    fn written<T>(&self, result: Result<T, CatalogueError>) -> Result<T, Status> {
        self.reads.changed();
        result.map_err(Status::from)
    }
}

impl Catalogue {
    /// ImportRegister into an existing register: the document's texts become the register's
    /// translation into the document's language, on its draft.
    async fn import_translation(
        &self,
        principal: &Principal,
        raw_id: &str,
        etag: &str,
        dry_run: bool,
        mut imported: import::Imported,
    ) -> Result<Response<pb::ImportRegisterResponse>, Status> {
        let mut violations = FieldViolations::new();
        let id = register_id(raw_id, &mut violations);
        violations.into_result(())?;
        let (register, latest) = self.store.get(&id, Selector::Latest).await?;
        let lang = imported.report.language.clone();
        let own = latest.content.primary_language().to_owned();
        if lang == own {
            return Err(CatalogueError::invalid(
                "document",
                format!(
                    "the document is in `{lang}`, the register's own language: update the draft, or import it as a register of its own"
                ),
            )
            .into());
        }
        register.status.ensure_open(&id, "edited")?;
        // The document must be this register's: another organisation's notice would put its
        // purposes and promises into this register's mouth.
        let ours = latest.content.controller.business_id.as_ref();
        let theirs = imported.content.controller.business_id.as_ref();
        if let (Some(ours), Some(theirs)) = (ours, theirs)
            && ours != theirs
        {
            return Err(ServiceError::FailedPrecondition(format!(
                "the document is the notice of {} (business ID {theirs}), not of this register's controller {} ({ours}); import it as a register of its own",
                imported.content.controller.name, latest.content.controller.name
            ))
            .into());
        }
        let mut content = latest.content.clone();
        // The report shows what went into the translation; the document's own fields (its
        // controller's address, its retention rule) are not applied and are listed as such.
        let read: Vec<String> = imported
            .report
            .mapped
            .iter()
            .filter(|m| !m.field.starts_with('('))
            .map(|m| m.field.clone())
            .collect();
        imported.report.mapped.clear();
        if theirs.is_none() {
            imported.report.unmapped.push(import::UnmappedLine {
                line: 0,
                text: "controller.business_id".into(),
                section: "(translation)".into(),
                reason: "the document gives no business ID: check that it is this register's"
                    .into(),
            });
        }
        if ours.is_none() {
            imported.report.unmapped.push(import::UnmappedLine {
                line: 0,
                text: "controller.business_id".into(),
                section: "(translation)".into(),
                reason: "the register gives no business ID to compare the document's with: check that it is this register's".into(),
            });
        }
        let notes = content.add_translation(&lang, &imported.content);
        let taken = notes.iter().any(|n| n.value.is_some());
        for note in notes {
            match (note.value, note.reason) {
                (Some(value), _) => imported.report.mapped.push(import::MappedField {
                    field: note.field,
                    value,
                    evidence: match note.replaced {
                        Some(old) => format!(
                            "the `{lang}` document's text beside the register's own; replaces \"{old}\""
                        ),
                        None => format!("the `{lang}` document's text beside the register's own"),
                    },
                    lines: Vec::new(),
                }),
                (None, Some(reason)) => imported.report.unmapped.push(import::UnmappedLine {
                    line: 0,
                    text: note.field,
                    section: "(translation)".into(),
                    reason,
                }),
                (None, None) => {}
            }
        }
        let unused: Vec<&str> = read
            .iter()
            .map(|f| f.split(['.', '[']).next().unwrap_or_default())
            .filter(|f| {
                matches!(
                    *f,
                    "controller"
                        | "contact_person"
                        | "legal_bases"
                        | "transfers_outside_eea"
                        | "transfers"
                        | "retention"
                )
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !unused.is_empty() {
            imported.report.unmapped.push(import::UnmappedLine {
                line: 0,
                text: unused.join(", "),
                section: "(translation)".into(),
                reason: "read from the document but not applied: a translation carries texts; the register's own facts (addresses, legal bases, transfers, the retention rule) stay as they are".into(),
            });
        }
        // Anything the merged draft breaks comes from the document's texts.
        let content = content.check().map_err(|v| {
            let mut violations = FieldViolations::new();
            for v in v {
                violations.add("document", format!("{}: {}", v.field, v.description));
            }
            CatalogueError::Invalid(violations)
        })?;
        let report = Some(report_pb(&imported.report));
        if dry_run {
            return Ok(Response::new(pb::ImportRegisterResponse {
                register: None,
                version: None,
                content: Some(content_pb(&content)),
                report,
            }));
        }
        if !taken {
            return Err(CatalogueError::invalid(
                "document",
                format!(
                    "nothing in the `{lang}` document translates this register's texts; --dry-run shows how it was read"
                ),
            )
            .into());
        }
        // Nobody's change in between is overwritten: the register's etag as read, unless the
        // caller gave the one it read.
        let etag = if etag.trim().is_empty() {
            register.etag()
        } else {
            etag.trim().to_owned()
        };
        let updated = self.written(
            self.store
                .update_draft(principal, &id, content, latest.number as u32, &etag, false)
                .await,
        )?;
        let content = Some(content_pb(&updated.1.content));
        let (register, version) = versioned(updated);
        Ok(Response::new(pb::ImportRegisterResponse {
            register,
            version,
            content,
            report,
        }))
    }
}

fn versioned(
    (register, version): Versioned,
) -> (Option<pb::Register>, Option<pb::RegisterVersion>) {
    (Some(register_pb(&register)), Some(version_pb(&version)))
}

fn parse_page(page: Option<&PageRequest>, violations: &mut FieldViolations) -> Page {
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

fn page_pb<T>(listed: &Listed<T>) -> Option<PageResponse> {
    Some(PageResponse {
        next_page_token: listed.next_page_token.clone(),
        total_size: listed.total,
    })
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

#[tonic::async_trait]
impl CatalogueRpc for Catalogue {
    async fn create_register(
        &self,
        request: Request<pb::CreateRegisterRequest>,
    ) -> Result<Response<pb::CreateRegisterResponse>, Status> {
        let principal = Principal::of(&request)?;
        let content = convert::content_of("content", request.get_ref().content.as_ref())
            .map_err(ServiceError::InvalidArgument)?;
        let created = self.written(self.store.create(&principal, content, None).await)?;
        let (register, version) = versioned(created);
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
        let content = match convert::content_for_update("content", req.content.as_ref()) {
            Ok(c) => Some(c),
            Err(v) => {
                v.iter().for_each(|(f, d)| violations.add(f, d));
                None
            }
        };
        let content = violations
            .into_result(content)?
            .expect("no violations means content parsed");
        let updated = self.written(
            self.store
                .update_draft(
                    &principal,
                    &id,
                    content,
                    req.expected_latest_version,
                    req.etag.trim(),
                    req.clear_translations,
                )
                .await,
        )?;
        let (register, version) = versioned(updated);
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
        let req = request.get_ref();
        let mut violations = FieldViolations::new();
        let id = register_id(&req.register_id, &mut violations);
        violations.into_result(())?;
        let published = self.written(
            self.store
                .publish(&principal, &id, req.expected_version, req.etag.trim())
                .await,
        )?;
        let (register, version) = versioned(published);
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
        let register = self.written(
            self.store
                .retire(&principal, &id, reason, req.etag.trim())
                .await,
        )?;
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
        let selector = match pb::VersionSelector::try_from(req.selector) {
            Ok(pb::VersionSelector::Unspecified | pb::VersionSelector::LatestPublished) => {
                Selector::LatestPublished
            }
            Ok(pb::VersionSelector::Latest) => Selector::Latest,
            Ok(pb::VersionSelector::Draft) => Selector::Draft,
            Ok(pb::VersionSelector::Number) => {
                if req.version == 0 {
                    violations.add("version", "versions are numbered from 1");
                }
                Selector::Number(req.version)
            }
            Err(_) => {
                violations.add(
                    "selector",
                    format!("{} is not a VersionSelector", req.selector),
                );
                Selector::LatestPublished
            }
        };
        violations.into_result(())?;
        let cache = &self.reads.registers;
        let cacheable = matches!(selector, Selector::LatestPublished | Selector::Number(_));
        let key = (id, req.selector, req.version);
        if cacheable && let Some(hit) = cache.get(&key) {
            return Ok(Response::new(hit));
        }
        let generation = cache.generation();
        let (register, version) = versioned(self.store.get(&key.0, selector).await?);
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
        let page = parse_page(req.page.as_ref(), &mut violations);
        if let Some(after) = &page.after
            && Uuid::parse_str(after).is_err()
        {
            violations.add("page.page_token", "not a token this list returned");
        }
        let status = match pb::RegisterStatus::try_from(req.status) {
            Ok(pb::RegisterStatus::Unspecified) => None,
            Ok(pb::RegisterStatus::Draft) => Some(RegisterStatus::Draft),
            Ok(pb::RegisterStatus::Published) => Some(RegisterStatus::Published),
            Ok(pb::RegisterStatus::Retired) => Some(RegisterStatus::Retired),
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
        let key = (status, controller, page.size, page.after.clone());
        if let Some(hit) = cache.get(&key) {
            return Ok(Response::new(hit));
        }
        let generation = cache.generation();
        let listed = self.store.list(&page, status, key.1.clone()).await?;
        let response = pb::ListRegistersResponse {
            registers: listed.rows.iter().map(register_pb).collect(),
            page: page_pb(&listed),
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
        let page = parse_page(req.page.as_ref(), &mut violations);
        violations.into_result(())?;
        let listed = self.store.versions(&id, &page).await?;
        Ok(Response::new(pb::ListRegisterVersionsResponse {
            versions: listed.rows.iter().map(version_pb).collect(),
            page: page_pb(&listed),
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
            .map_err(|e| CatalogueError::invalid("document", e.to_string()))?;
        if !req.register_id.trim().is_empty() {
            return self
                .import_translation(
                    &principal,
                    &req.register_id,
                    &req.etag,
                    req.dry_run,
                    imported,
                )
                .await;
        }
        // A document in which nothing reads as a register (a letter, a configuration file) does
        // not become an empty draft; a dry run still shows why.
        let c = &imported.content;
        let nothing = c.name.is_empty()
            && c.controller.name.is_empty()
            && c.purposes.is_empty()
            && c.data_categories.is_empty();
        if nothing && !req.dry_run {
            return Err(CatalogueError::invalid(
                "document",
                "nothing in it reads as a register description (no register name, controller, purposes or data categories); --dry-run shows how each line was read",
            )
            .into());
        }
        // The importer already applies the register's rules and leaves out what they refuse.
        let content = Some(content_pb(&imported.content));
        let report = Some(report_pb(&imported.report));
        if req.dry_run {
            return Ok(Response::new(pb::ImportRegisterResponse {
                register: None,
                version: None,
                content,
                report,
            }));
        }
        let created = self.written(
            self.store
                .create(&principal, imported.content, Some(&imported.report))
                .await,
        )?;
        let (register, version) = versioned(created);
        Ok(Response::new(pb::ImportRegisterResponse {
            register,
            version,
            content,
            report,
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
        let version = self.store.published_version(&id, req.version).await?;
        let published = version.published_at.unwrap_or(version.created_at);
        let rendered = notice::render(
            &version.content,
            version.number as u32,
            published,
            lang,
            layout,
            format,
        );
        Ok(Response::new(pb::RenderPrivacyNoticeResponse {
            content: rendered,
            media_type: format.media_type().to_owned(),
            version: version.number as u32,
        }))
    }
}
