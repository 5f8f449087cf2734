//! The gRPC handlers: parse the request into typed values (every invalid field reported at
//! once), call the store, map the record back. Roles are checked by the platform's gate before a
//! handler runs.

use chrono::{Datelike as _, Utc};
use rekisteri_identifiers::{BusinessId, Email, HetuPolicy, PersonalIdentityCode, PhoneNumber};
use rekisteri_platform::auth::Principal;
use rekisteri_platform::error::{FieldViolations, ServiceError};
use rekisteri_proto::common::v1::{PageRequest, PageResponse};
use rekisteri_proto::customers::v1 as pb;
use rekisteri_proto::customers::v1::customer_service_server::CustomerService;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::domain::{self, Channel, ContactRole};
use crate::entity::services;
use crate::store::{AccessKind, Details, Find, Limits, MarketingChange, Store, SubjectRecord};

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 500;

#[derive(Debug, Clone)]
pub struct Customers {
    store: Store,
    policy: HetuPolicy,
}

impl Customers {
    pub fn new(store: Store, policy: HetuPolicy) -> Self {
        Self { store, policy }
    }

    fn today() -> chrono::NaiveDate {
        Utc::now().date_naive()
    }

    fn subject(record: &SubjectRecord) -> Option<pb::Subject> {
        Some(convert::subject(record, Self::today()))
    }
}

fn page(page: Option<&PageRequest>, violations: &mut FieldViolations) -> (u64, Option<String>) {
    let (size, token) = page.map_or((0, ""), |p| (p.page_size, p.page_token.as_str()));
    if !(0..=MAX_PAGE_SIZE as i32).contains(&size) {
        violations.add("page.page_size", format!("between 0 and {MAX_PAGE_SIZE}"));
    }
    let token = (!token.is_empty()).then(|| token.to_owned());
    if let Some(t) = &token
        && uuid::Uuid::parse_str(t).is_err()
    {
        violations.add("page.page_token", "not a token this list returned");
    }
    let size = if size <= 0 {
        DEFAULT_PAGE_SIZE
    } else {
        size as u64
    };
    (size, token)
}

fn next_token<T>(items: &[T], limit: u64, id: impl Fn(&T) -> String) -> String {
    if items.len() as u64 == limit {
        items.last().map(id).unwrap_or_default()
    } else {
        String::new()
    }
}

#[tonic::async_trait]
impl CustomerService for Customers {
    async fn create_person(
        &self,
        request: Request<pb::CreatePersonRequest>,
    ) -> Result<Response<pb::CreatePersonResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let person = domain::person(req.person.as_ref(), "person", self.policy, false, &mut v);
        let memberships =
            domain::memberships(&req.memberships, "memberships", Self::today(), &mut v);
        let billing = domain::billing(req.billing.as_ref(), "billing", &mut v);
        v.into_result(())?;
        let record = self
            .store
            .create(&actor, Details::Person(person), memberships, billing)
            .await?;
        Ok(Response::new(pb::CreatePersonResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn update_person(
        &self,
        request: Request<pb::UpdatePersonRequest>,
    ) -> Result<Response<pb::UpdatePersonResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let person = domain::person(
            req.person.as_ref(),
            "person",
            self.policy,
            req.remove_personal_identity_code,
            &mut v,
        );
        let memberships = (!req.memberships.is_empty())
            .then(|| domain::memberships(&req.memberships, "memberships", Self::today(), &mut v));
        let billing = domain::billing(req.billing.as_ref(), "billing", &mut v);
        v.into_result(())?;
        let record = self
            .store
            .update(
                &actor,
                &id,
                &req.etag,
                Details::Person(person),
                memberships,
                billing,
            )
            .await?;
        Ok(Response::new(pb::UpdatePersonResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn create_organisation(
        &self,
        request: Request<pb::CreateOrganisationRequest>,
    ) -> Result<Response<pb::CreateOrganisationResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let organisation = domain::organisation(req.organisation.as_ref(), "organisation", &mut v);
        let memberships =
            domain::memberships(&req.memberships, "memberships", Self::today(), &mut v);
        let billing = domain::billing(req.billing.as_ref(), "billing", &mut v);
        v.into_result(())?;
        let record = self
            .store
            .create(
                &actor,
                Details::Organisation(organisation),
                memberships,
                billing,
            )
            .await?;
        Ok(Response::new(pb::CreateOrganisationResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn update_organisation(
        &self,
        request: Request<pb::UpdateOrganisationRequest>,
    ) -> Result<Response<pb::UpdateOrganisationResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let organisation = domain::organisation(req.organisation.as_ref(), "organisation", &mut v);
        let memberships = (!req.memberships.is_empty())
            .then(|| domain::memberships(&req.memberships, "memberships", Self::today(), &mut v));
        let billing = domain::billing(req.billing.as_ref(), "billing", &mut v);
        v.into_result(())?;
        let record = self
            .store
            .update(
                &actor,
                &id,
                &req.etag,
                Details::Organisation(organisation),
                memberships,
                billing,
            )
            .await?;
        Ok(Response::new(pb::UpdateOrganisationResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn link_contact_person(
        &self,
        request: Request<pb::LinkContactPersonRequest>,
    ) -> Result<Response<pb::LinkContactPersonResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let organisation = domain::subject_id(&req.organisation_id, "organisation_id", &mut v);
        let person = domain::subject_id(&req.person_id, "person_id", &mut v);
        let role = ContactRole::from_pb(req.role);
        if role.is_none() {
            v.add("role", "one of the contact roles (decision maker, administration, billing, technical, reported user)");
        }
        v.into_result(())?;
        let record = self
            .store
            .link_contact(&actor, &organisation, &person, role.expect("checked"))
            .await?;
        Ok(Response::new(pb::LinkContactPersonResponse {
            organisation: Self::subject(&record),
        }))
    }

    async fn unlink_contact_person(
        &self,
        request: Request<pb::UnlinkContactPersonRequest>,
    ) -> Result<Response<pb::UnlinkContactPersonResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let organisation = domain::subject_id(&req.organisation_id, "organisation_id", &mut v);
        let person = domain::subject_id(&req.person_id, "person_id", &mut v);
        v.into_result(())?;
        let record = self
            .store
            .unlink_contact(&actor, &organisation, &person)
            .await?;
        Ok(Response::new(pb::UnlinkContactPersonResponse {
            organisation: Self::subject(&record),
        }))
    }

    async fn record_service(
        &self,
        request: Request<pb::RecordServiceRequest>,
    ) -> Result<Response<pb::RecordServiceResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let s = req.service.clone().unwrap_or_default();
        if req.service.is_none() {
            v.add("service", "required");
        }
        let key = s.service_key.trim().to_owned();
        if key.is_empty() || key.len() > 128 {
            v.add("service.service_key", "required, at most 128 characters");
        }
        let ordered = domain::date(&s.ordered_date, "service.ordered_date", &mut v);
        let start = domain::date(&s.start_date, "service.start_date", &mut v);
        let end = domain::date(&s.end_date, "service.end_date", &mut v);
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            v.add("service.end_date", "before the start date");
        }
        if s.description.chars().count() > 1000 {
            v.add("service.description", "at most 1000 characters");
        }
        v.into_result(())?;
        let record = self
            .store
            .record_service(
                &actor,
                &id,
                services::Model {
                    subject_id: id.clone(),
                    service_key: key,
                    description: s.description.trim().to_owned(),
                    ordered_date: ordered.map(|d| d.to_string()),
                    start_date: start.map(|d| d.to_string()),
                    end_date: end.map(|d| d.to_string()),
                },
            )
            .await?;
        Ok(Response::new(pb::RecordServiceResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn set_relationship(
        &self,
        request: Request<pb::SetRelationshipRequest>,
    ) -> Result<Response<pb::SetRelationshipResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let r = req.relationship.clone().unwrap_or_default();
        if req.relationship.is_none() {
            v.add("relationship", "required");
        }
        let start = domain::date(&r.start_date, "relationship.start_date", &mut v);
        let end = domain::date(&r.end_date, "relationship.end_date", &mut v);
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            v.add("relationship.end_date", "before the start date");
        }
        if start.is_none() && end.is_none() && req.relationship.is_some() {
            v.add(
                "relationship.start_date",
                "a start date, an end date or both",
            );
        }
        v.into_result(())?;
        let record = self
            .store
            .set_relationship(&actor, &id, &req.etag, start, end)
            .await?;
        Ok(Response::new(pb::SetRelationshipResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn set_marketing_preferences(
        &self,
        request: Request<pb::SetMarketingPreferencesRequest>,
    ) -> Result<Response<pb::SetMarketingPreferencesResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let mut change = MarketingChange::default();
        let mut seen = std::collections::HashSet::new();
        for (i, p) in req.preferences.iter().enumerate() {
            let channel = match pb::Channel::try_from(p.channel) {
                Ok(pb::Channel::Email) => Some(Channel::Email),
                Ok(pb::Channel::Phone) => Some(Channel::Phone),
                Ok(pb::Channel::Sms) => Some(Channel::Sms),
                Ok(pb::Channel::Post) => Some(Channel::Post),
                _ => None,
            };
            let Some(channel) = channel else {
                v.add(
                    format!("preferences[{i}].channel"),
                    "email, phone, SMS or post",
                );
                continue;
            };
            if !seen.insert(channel) {
                v.add(format!("preferences[{i}].channel"), "named twice");
            }
            let given = p
                .given_time
                .as_ref()
                .map(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
                .unwrap_or_else(|| Some(Utc::now()));
            let Some(given) = given else {
                v.add(format!("preferences[{i}].given_time"), "not a time");
                continue;
            };
            if given > Utc::now() + chrono::Duration::minutes(5) {
                v.add(format!("preferences[{i}].given_time"), "in the future");
            } else if given.year() < 1900 {
                v.add(format!("preferences[{i}].given_time"), "before 1900");
            }
            let how = p.given_how.trim().to_owned();
            let setting = match pb::Preference::try_from(p.preference) {
                Ok(pb::Preference::Unspecified) => None,
                Ok(pb::Preference::Prohibited) => Some((false, given, how)),
                Ok(pb::Preference::Consented) => {
                    if p.given_how.trim().is_empty() {
                        v.add(
                            format!("preferences[{i}].given_how"),
                            "how the consent was given (GDPR Art. 7(1): it must be shown)",
                        );
                    }
                    Some((true, given, how))
                }
                Err(_) => {
                    v.add(
                        format!("preferences[{i}].preference"),
                        "prohibited, consented or unspecified (clears)",
                    );
                    None
                }
            };
            change.channels.push((channel, setting));
        }
        if req.replace_interests || !req.interests.is_empty() {
            let interests: Vec<String> = req
                .interests
                .iter()
                .map(|i| i.trim().to_owned())
                .filter(|i| !i.is_empty())
                .collect();
            if interests.len() > 50 || interests.iter().any(|i| i.chars().count() > 100) {
                v.add(
                    "interests",
                    "at most 50 interests of at most 100 characters",
                );
            }
            change.interests = Some(interests);
        }
        if change.channels.is_empty() && change.interests.is_none() {
            v.add("preferences", "nothing to change");
        }
        v.into_result(())?;
        let record = self
            .store
            .set_marketing(&actor, &id, &req.etag, change)
            .await?;
        Ok(Response::new(pb::SetMarketingPreferencesResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn add_note(
        &self,
        request: Request<pb::AddNoteRequest>,
    ) -> Result<Response<pb::AddNoteResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let text = domain::note_text(&req.text, "text", &mut v);
        v.into_result(())?;
        let record = self.store.add_note(&actor, &id, text).await?;
        Ok(Response::new(pb::AddNoteResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn get_subject(
        &self,
        request: Request<pb::GetSubjectRequest>,
    ) -> Result<Response<pb::GetSubjectResponse>, Status> {
        Principal::of(&request)?;
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&request.get_ref().subject_id, "subject_id", &mut v);
        v.into_result(())?;
        let record = self.store.get(&id).await?;
        Ok(Response::new(pb::GetSubjectResponse {
            subject: Self::subject(&record),
        }))
    }

    async fn find_subjects(
        &self,
        request: Request<pb::FindSubjectsRequest>,
    ) -> Result<Response<pb::FindSubjectsResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let (limit, after) = page(req.page.as_ref(), &mut v);
        use pb::find_subjects_request::By;
        let by = match &req.by {
            None => {
                v.add(
                    "by",
                    "one of personal_identity_code, business_id, email, phone, name_prefix",
                );
                None
            }
            Some(By::PersonalIdentityCode(code)) => {
                // Any valid code can be looked for, temporary ones included.
                PersonalIdentityCode::parse(
                    code,
                    HetuPolicy {
                        accept_temporary: true,
                    },
                )
                .map(Find::IdentityCode)
                .map_err(|e| v.add("personal_identity_code", e.to_string()))
                .ok()
            }
            Some(By::BusinessId(b)) => BusinessId::parse(&b.value)
                .map(Find::BusinessId)
                .map_err(|e| v.add("business_id", e.to_string()))
                .ok(),
            Some(By::Email(e)) => Email::parse(e)
                .map(Find::Email)
                .map_err(|err| v.add("email", err.to_string()))
                .ok(),
            Some(By::Phone(p)) => PhoneNumber::parse(p)
                .map(Find::Phone)
                .map_err(|err| v.add("phone", err.to_string()))
                .ok(),
            Some(By::NamePrefix(prefix)) => {
                let prefix = prefix.trim();
                if prefix.chars().count() < 2 || prefix.chars().count() > 100 {
                    v.add("name_prefix", "2 to 100 characters");
                    None
                } else {
                    Some(Find::NamePrefix(prefix.to_owned()))
                }
            }
        };
        v.into_result(())?;
        let (records, total, next_page_token) = self
            .store
            .find(&actor, by.expect("no violations"), after, limit)
            .await?;
        Ok(Response::new(pb::FindSubjectsResponse {
            subjects: records.iter().filter_map(Self::subject).collect(),
            page: Some(PageResponse {
                next_page_token,
                total_size: total as i64,
            }),
        }))
    }

    async fn reveal_personal_identity_code(
        &self,
        request: Request<pb::RevealPersonalIdentityCodeRequest>,
    ) -> Result<Response<pb::RevealPersonalIdentityCodeResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let reason = domain::reason(&req.reason, &mut v);
        v.into_result(())?;
        let code = self
            .store
            .reveal(&actor, &id, AccessKind::RevealIdentityCode, &reason)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("subject {id} has no personal identity code"))
            })?;
        Ok(Response::new(pb::RevealPersonalIdentityCodeResponse {
            personal_identity_code: code.expose().to_owned(),
        }))
    }

    async fn export_subject(
        &self,
        request: Request<pb::ExportSubjectRequest>,
    ) -> Result<Response<pb::ExportSubjectResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let reason = domain::reason(&req.reason, &mut v);
        v.into_result(())?;
        let code = self
            .store
            .reveal(&actor, &id, AccessKind::Export, &reason)
            .await?;
        let record = self.store.get_with(&id, Limits::ALL).await?;
        let mut subject = convert::subject(&record, Self::today());
        if let (Some(person), Some(code)) = (subject.person.as_mut(), code) {
            person.personal_identity_code = code.expose().to_owned();
        }
        Ok(Response::new(pb::ExportSubjectResponse {
            subject: Some(subject),
            export_time: Some(convert::timestamp(Utc::now())),
        }))
    }

    async fn erase_subject(
        &self,
        request: Request<pb::EraseSubjectRequest>,
    ) -> Result<Response<pb::EraseSubjectResponse>, Status> {
        let actor = Principal::of(&request)?.subject;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let id = domain::subject_id(&req.subject_id, "subject_id", &mut v);
        let reason = domain::reason(&req.reason, &mut v);
        v.into_result(())?;
        let at = self.store.erase(&actor, &id, &req.etag, &reason).await?;
        Ok(Response::new(pb::EraseSubjectResponse {
            erase_time: Some(convert::timestamp(at)),
        }))
    }

    async fn list_access_log(
        &self,
        request: Request<pb::ListAccessLogRequest>,
    ) -> Result<Response<pb::ListAccessLogResponse>, Status> {
        Principal::of(&request)?;
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let subject = (!req.subject_id.trim().is_empty())
            .then(|| domain::subject_id(&req.subject_id, "subject_id", &mut v));
        let (limit, before) = page(req.page.as_ref(), &mut v);
        v.into_result(())?;
        let (entries, total) = self
            .store
            .access_log(subject.as_deref(), before, limit)
            .await?;
        let next_page_token = next_token(&entries, limit, |e| e.id.clone());
        Ok(Response::new(pb::ListAccessLogResponse {
            entries: entries.iter().map(convert::access_entry).collect(),
            page: Some(PageResponse {
                next_page_token,
                total_size: total as i64,
            }),
        }))
    }
}
