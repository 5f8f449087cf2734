//! The gRPC handlers: parse into typed arguments (every invalid field at once), call the
//! enricher, map back. Roles are checked by the platform's gate before a handler runs.

use rekisteri_identifiers::{BusinessId, HetuPolicy, PersonalIdentityCode};
use rekisteri_platform::auth::Principal;
use rekisteri_platform::error::{FieldViolations, ServiceError};
use rekisteri_proto::common::v1::{PageRequest, PageResponse};
use rekisteri_proto::enrichment::v1 as pb;
use rekisteri_proto::enrichment::v1::enrichment_service_server::EnrichmentService;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use tonic::{Request, Response, Status};

use crate::adapters::credit::{CreditQuery, CreditTarget, Purpose};
use crate::adapters::opt_out::OptOutQuery;
use crate::adapters::{Answer, Query};
use crate::convert;
use crate::enricher::{Context, Enricher, business_fields};
use crate::entity::provenance;

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 500;

#[derive(Debug, Clone)]
pub struct Enrichment {
    enricher: Enricher,
}

impl Enrichment {
    pub fn new(enricher: Enricher) -> Self {
        Self { enricher }
    }
}

/// The lookup's context, checked: a register is required; a subject, when given, is a UUID.
fn context(
    context: Option<&pb::LookupContext>,
    principal: &str,
    v: &mut FieldViolations,
) -> Context {
    let c = context.cloned().unwrap_or_default();
    if c.register_id.trim().is_empty() {
        v.add(
            "context.register_id",
            "required: the register the data is fetched for (it must declare the source)",
        );
    }
    let subject_id = c.subject_id.trim();
    let subject_id = if subject_id.is_empty() {
        String::new()
    } else {
        match uuid::Uuid::parse_str(subject_id) {
            Ok(id) => id.to_string(),
            Err(_) => {
                v.add("context.subject_id", "not a subject id");
                String::new()
            }
        }
    };
    if c.reference.len() > 500 {
        v.add("context.reference", "at most 500 characters");
    }
    Context {
        register_id: c.register_id.trim().to_owned(),
        subject_id,
        reference: c.reference.trim().to_owned(),
        requested_by: principal.to_owned(),
    }
}

fn business_id(
    value: Option<&rekisteri_proto::common::v1::BusinessId>,
    path: &str,
    v: &mut FieldViolations,
) -> Option<BusinessId> {
    let value = value.map(|b| b.value.as_str()).unwrap_or_default();
    if value.trim().is_empty() {
        v.add(path, "required");
        return None;
    }
    match BusinessId::parse(value) {
        Ok(id) => Some(id),
        Err(e) => {
            v.add(path, e.to_string());
            None
        }
    }
}

fn purpose(p: pb::CreditPurpose) -> Option<Purpose> {
    use pb::CreditPurpose as P;
    match p {
        P::Unspecified => None,
        P::CreditGranting => Some(Purpose::CreditGranting),
        P::CreditMonitoring => Some(Purpose::CreditMonitoring),
        P::DebtCollection => Some(Purpose::DebtCollection),
        P::CustomerDueDiligence => Some(Purpose::CustomerDueDiligence),
        P::Tenancy => Some(Purpose::Tenancy),
        P::EmploymentSecurityClearance => Some(Purpose::EmploymentSecurityClearance),
    }
}

fn principal<T>(request: &Request<T>) -> Result<String, Status> {
    Ok(Principal::of(request)?.subject)
}

#[tonic::async_trait]
impl EnrichmentService for Enrichment {
    async fn lookup_business(
        &self,
        request: Request<pb::LookupBusinessRequest>,
    ) -> Result<Response<pb::LookupBusinessResponse>, Status> {
        let principal = principal(&request)?;
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        let id = business_id(r.business_id.as_ref(), "business_id", &mut v);
        let context = context(r.context.as_ref(), &principal, &mut v);
        let id = v.into_result(id)?.expect("checked");
        let source = self.enricher.source("prh")?;
        let (fetched, record) = self
            .enricher
            .lookup(source, &Query::Business(id), &context, |a| match a {
                Answer::Business(Some(b)) => business_fields(b),
                _ => vec![],
            })
            .await?;
        let business = match fetched.answer.as_ref() {
            Answer::Business(b) => b.as_ref().map(convert::business),
            _ => None,
        };
        Ok(Response::new(pb::LookupBusinessResponse {
            found: business.is_some(),
            business,
            provenance: Some(convert::provenance(&record)),
        }))
    }

    async fn check_credit(
        &self,
        request: Request<pb::CheckCreditRequest>,
    ) -> Result<Response<pb::CheckCreditResponse>, Status> {
        let principal = principal(&request)?;
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        let target = match &r.target {
            Some(pb::check_credit_request::Target::PersonalIdentityCode(code)) => {
                match PersonalIdentityCode::parse(code, HetuPolicy::default()) {
                    Ok(code) => Some(CreditTarget::Person(code.expose().to_owned())),
                    Err(e) => {
                        v.add("personal_identity_code", e.to_string());
                        None
                    }
                }
            }
            Some(pb::check_credit_request::Target::BusinessId(id)) => {
                business_id(Some(id), "business_id", &mut v)
                    .map(|id| CreditTarget::Business(id.as_str().to_owned()))
            }
            None => {
                v.add("target", "a personal_identity_code or a business_id");
                None
            }
        };
        let purpose = purpose(r.purpose());
        if purpose.is_none() {
            v.add(
                "purpose",
                "required: a purpose the Credit Information Act permits (credit granting, credit monitoring, debt collection, customer due diligence, tenancy, employment security clearance)",
            );
        }
        let context = context(r.context.as_ref(), &principal, &mut v);
        // A person's check is kept under the person, so that their access request finds it.
        if matches!(target, Some(CreditTarget::Person(_))) && context.subject_id.is_empty() {
            v.add(
                "context.subject_id",
                "required for a person: the customer subject the check is made for",
            );
        }
        let target = v.into_result(target)?.expect("checked");
        let source = self.enricher.source("credit")?;
        // A person's check is filed under a person, a company's under an organisation.
        if !context.subject_id.is_empty() {
            let subject = self.enricher.subjects().get(&context.subject_id).await?;
            let expected = match target {
                CreditTarget::Person(_) => "person",
                CreditTarget::Business(_) => "organisation",
            };
            if subject.kind != expected {
                return Err(ServiceError::FailedPrecondition(format!(
                    "subject {} is a {}: this check is of a {expected}",
                    context.subject_id, subject.kind
                ))
                .into());
            }
        }
        let query = Query::Credit(CreditQuery { target, purpose });
        let (fetched, record) = self
            .enricher
            .lookup(source, &query, &context, |a| match a {
                Answer::Credit(r) if r.found => vec![
                    "credit_class".into(),
                    "score".into(),
                    "payment_defaults".into(),
                ],
                _ => vec![],
            })
            .await?;
        let Answer::Credit(report) = fetched.answer.as_ref() else {
            return Err(Status::internal(
                "the credit source answered something else",
            ));
        };
        Ok(Response::new(pb::CheckCreditResponse {
            found: report.found,
            credit_class: report.credit_class,
            score: report.score,
            has_payment_defaults: !report.payment_defaults.is_empty(),
            payment_defaults: report.payment_defaults.clone(),
            provenance: Some(convert::provenance(&record)),
        }))
    }

    async fn lookup_company_contacts(
        &self,
        request: Request<pb::LookupCompanyContactsRequest>,
    ) -> Result<Response<pb::LookupCompanyContactsResponse>, Status> {
        let principal = principal(&request)?;
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        let id = business_id(r.business_id.as_ref(), "business_id", &mut v);
        let context = context(r.context.as_ref(), &principal, &mut v);
        let id = v.into_result(id)?.expect("checked");
        let source = self.enricher.source("contacts")?;
        let (fetched, record) = self
            .enricher
            .lookup(source, &Query::Contacts(id), &context, |a| match a {
                Answer::Contacts(Some(c)) => {
                    let mut fields = Vec::new();
                    if !c.decision_makers.is_empty() {
                        fields.push("decision_makers".into());
                    }
                    if !c.industry.is_empty() {
                        fields.push("industry".into());
                    }
                    if c.revenue_eur != 0 {
                        fields.push("revenue".into());
                    }
                    if !c.offices.is_empty() {
                        fields.push("offices".into());
                    }
                    fields
                }
                _ => vec![],
            })
            .await?;
        let contacts = match fetched.answer.as_ref() {
            Answer::Contacts(c) => c.as_ref().map(convert::contacts),
            _ => None,
        };
        Ok(Response::new(pb::LookupCompanyContactsResponse {
            found: contacts.is_some(),
            contacts,
            provenance: Some(convert::provenance(&record)),
        }))
    }

    async fn check_opt_out(
        &self,
        request: Request<pb::CheckOptOutRequest>,
    ) -> Result<Response<pb::CheckOptOutResponse>, Status> {
        let principal = principal(&request)?;
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        let query = match &r.target {
            Some(pb::check_opt_out_request::Target::Phone(phone)) => {
                match crate::adapters::phone_key(phone) {
                    Some(p) => Some(OptOutQuery::Phone(p)),
                    None => {
                        v.add("phone", "not a phone number");
                        None
                    }
                }
            }
            Some(pb::check_opt_out_request::Target::Address(a)) => {
                if a.lines.iter().all(|l| l.trim().is_empty()) {
                    v.add("address.lines", "required");
                }
                if a.postal_code.trim().is_empty() {
                    v.add("address.postal_code", "required");
                }
                Some(OptOutQuery::Address(OptOutQuery::address_key(
                    &a.lines,
                    &a.postal_code,
                )))
            }
            None => {
                v.add("target", "a phone or an address");
                None
            }
        };
        let context = context(r.context.as_ref(), &principal, &mut v);
        let query = v.into_result(query)?.expect("checked");
        let source = self.enricher.source("opt_out")?;
        let (fetched, record) = self
            .enricher
            .lookup(source, &Query::OptOut(query), &context, |_| {
                vec!["opt_out".into()]
            })
            .await?;
        let Answer::OptOut { listed, loaded_at } = fetched.answer.as_ref() else {
            return Err(Status::internal("the opt-out list answered something else"));
        };
        Ok(Response::new(pb::CheckOptOutResponse {
            listed: *listed,
            list_loaded_time: Some(convert::timestamp(*loaded_at)),
            provenance: Some(convert::provenance(&record)),
        }))
    }

    async fn lookup_external(
        &self,
        request: Request<pb::LookupExternalRequest>,
    ) -> Result<Response<pb::LookupExternalResponse>, Status> {
        let principal = principal(&request)?;
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        if r.source.trim().is_empty() {
            v.add("source", "required: the adapter's configured name");
        }
        if r.query.is_empty() {
            v.add("query", "required: what to look up, in the adapter's terms");
        }
        if r.query.len() > 20 {
            v.add("query", "at most 20 keys");
        }
        for (key, value) in &r.query {
            if key.is_empty() || key.len() > 100 || value.len() > 1000 {
                v.add(
                    format!("query[{key}]"),
                    "keys of 1 to 100 characters, values of at most 1000",
                );
            }
        }
        let context = context(r.context.as_ref(), &principal, &mut v);
        v.into_result(())?;
        let source = self.enricher.source(r.source.trim())?;
        if source.kind() != "external" {
            return Err(ServiceError::FailedPrecondition(format!(
                "`{}` is a built-in source: use its own call",
                source.name
            ))
            .into());
        }
        let query = Query::External(r.query.into_iter().collect());
        let (fetched, record) = self
            .enricher
            .lookup(source, &query, &context, |a| match a {
                Answer::External(Some(fields)) => fields.keys().cloned().collect(),
                _ => vec![],
            })
            .await?;
        let fields = match fetched.answer.as_ref() {
            Answer::External(f) => f.clone(),
            _ => None,
        };
        Ok(Response::new(pb::LookupExternalResponse {
            found: fields.is_some(),
            fields: fields.unwrap_or_default().into_iter().collect(),
            provenance: Some(convert::provenance(&record)),
        }))
    }

    async fn enrich_subject(
        &self,
        request: Request<pb::EnrichSubjectRequest>,
    ) -> Result<Response<pb::EnrichSubjectResponse>, Status> {
        let principal = principal(&request)?;
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        let subject_id = uuid::Uuid::parse_str(r.subject_id.trim()).ok();
        if subject_id.is_none() {
            v.add("subject_id", "not a subject id");
        }
        if r.reference.len() > 500 {
            v.add("reference", "at most 500 characters");
        }
        let subject_id = v.into_result(subject_id)?.expect("checked").to_string();
        let subject = self.enricher.subjects().get(&subject_id).await?;
        let enriched = self
            .enricher
            .enrich(&subject, &principal, r.reference.trim())
            .await?;
        let request_id = uuid::Uuid::now_v7().to_string();
        self.enricher
            .publish(&request_id, &subject, &principal, &enriched, None)
            .await?;
        Ok(Response::new(pb::EnrichSubjectResponse {
            proposed: enriched
                .fields
                .iter()
                .map(|f| pb::ProposedValue {
                    field: f.field.clone(),
                    text: f.text.clone(),
                    addresses: f.addresses.clone(),
                    source: f.source.clone(),
                    provenance_id: f.provenance_id.clone(),
                    fetched_time: f.fetched_time,
                })
                .collect(),
            notes: enriched.notes,
        }))
    }

    async fn list_sources(
        &self,
        _request: Request<pb::ListSourcesRequest>,
    ) -> Result<Response<pb::ListSourcesResponse>, Status> {
        let sources = self
            .enricher
            .sources()
            .all()
            .iter()
            .map(|s| {
                let (circuit, last_error) = s.guarded.circuit();
                let policy = s.guarded.policy();
                pb::Source {
                    name: s.name.clone(),
                    kind: s.kind().into(),
                    supplies: s.supplies.clone(),
                    declared_as: s.declared_as.clone(),
                    circuit: convert::circuit(circuit) as i32,
                    last_error: last_error.unwrap_or_default(),
                    rate_per_minute: policy.rate_per_minute,
                    cache_seconds: policy.cache_lifetime.as_secs() as u32,
                }
            })
            .collect();
        Ok(Response::new(pb::ListSourcesResponse { sources }))
    }

    async fn list_provenance(
        &self,
        request: Request<pb::ListProvenanceRequest>,
    ) -> Result<Response<pb::ListProvenanceResponse>, Status> {
        let r = request.into_inner();
        let mut v = FieldViolations::new();
        let subject_id = uuid::Uuid::parse_str(r.subject_id.trim()).ok();
        if subject_id.is_none() {
            v.add("subject_id", "not a subject id");
        }
        let (size, offset) = page(r.page.as_ref(), &mut v);
        let subject_id = v.into_result(subject_id)?.expect("checked").to_string();
        let db = self.enricher.db().reader();
        let query =
            provenance::Entity::find().filter(provenance::Column::SubjectId.eq(&subject_id));
        let total = query.clone().count(db).await.map_err(ServiceError::from)?;
        let records = query
            .order_by_desc(provenance::Column::RecordedAt)
            .order_by_desc(provenance::Column::ProvenanceId)
            .offset(offset)
            .limit(size)
            .all(db)
            .await
            .map_err(ServiceError::from)?;
        let next = offset + records.len() as u64;
        Ok(Response::new(pb::ListProvenanceResponse {
            records: records.iter().map(convert::provenance).collect(),
            page: Some(PageResponse {
                next_page_token: if next < total {
                    next.to_string()
                } else {
                    String::new()
                },
                total_size: total as i64,
            }),
        }))
    }
}

fn page(page: Option<&PageRequest>, v: &mut FieldViolations) -> (u64, u64) {
    let (size, token) = page.map_or((0, ""), |p| (p.page_size, p.page_token.as_str()));
    if !(0..=MAX_PAGE_SIZE as i32).contains(&size) {
        v.add("page.page_size", format!("between 0 and {MAX_PAGE_SIZE}"));
    }
    let offset = if token.is_empty() {
        0
    } else {
        token.parse::<u64>().unwrap_or_else(|_| {
            v.add("page.page_token", "not a token this list returned");
            0
        })
    };
    let size = if size <= 0 {
        DEFAULT_PAGE_SIZE
    } else {
        size as u64
    };
    (size, offset)
}
