//! The database operations of the customer service, each one transaction, returning domain
//! records. Every change bumps the subject's revision (its etag) with a compare-and-swap, checks
//! what may be stored against the subject's registers, and enqueues its event in the same
//! transaction.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rekisteri_identifiers::{BusinessId, Email, PersonalIdentityCode, PhoneNumber};
use rekisteri_platform::db::Db;
use rekisteri_platform::error::ServiceError;
use rekisteri_platform::outbox::{self, OutboxSignal};
use rekisteri_proto::common::v1::BusinessId as BusinessIdPb;
use rekisteri_proto::events::v1::{
    EnrichmentRequested, MarketingPreferencesChanged, RelationshipEnded, SubjectCreated,
    SubjectErased, SubjectUpdated, event_envelope::Payload,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access_log::{Access, AccessLogWriter};
use crate::crypto::{IdentityCodeVault, Sealed};
use crate::domain::{
    Address, BillingDetails, Channel, ContactRole, FieldKind, IdentityCodeChange, Membership,
    OrganisationDetails, PersonDetails,
};
use crate::entity::{
    access_log, addresses, contact_links, enrichment_requests, field_sources, known_registers,
    marketing_preferences, memberships, notes, services, subject_values, subjects,
};
use crate::events;
use crate::registers::{Registers, check_fields};

pub const PERSON: &str = "person";
pub const ORGANISATION: &str = "organisation";

/// Everything held about one subject.
#[derive(Debug, Clone)]
pub struct SubjectRecord {
    pub row: subjects::Model,
    pub values: Vec<subject_values::Model>,
    pub addresses: Vec<addresses::Model>,
    pub memberships: Vec<memberships::Model>,
    /// Each link with the display name of the subject at its other end.
    pub contacts: Vec<(contact_links::Model, String)>,
    pub services: Vec<services::Model>,
    pub marketing: Vec<marketing_preferences::Model>,
    pub notes: Vec<notes::Model>,
    /// How many notes and contact links there are in all (the lists may hold fewer).
    pub notes_total: u64,
    pub contacts_total: u64,
    /// Fields whose value an external source supplied.
    pub field_sources: Vec<field_sources::Model>,
}

/// How much of a subject's history a read carries. A long-lived customer collects notes and an
/// organisation contacts without end; an answer must stay well below the message size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub notes: u64,
    pub contacts: u64,
}

impl Limits {
    /// GetSubject, finds and every write's answer: the latest notes, the first contacts.
    pub const VIEW: Limits = Limits {
        notes: 100,
        contacts: 500,
    };
    /// ExportSubject: everything held.
    pub const ALL: Limits = Limits {
        // The databases take a signed 64-bit LIMIT.
        notes: i64::MAX as u64,
        contacts: i64::MAX as u64,
    };
}

impl SubjectRecord {
    pub fn etag(&self) -> String {
        etag(&self.row)
    }
}

pub fn etag(row: &subjects::Model) -> String {
    etag_of(&row.id, row.revision)
}

/// The etag of subject `id` at `revision`.
pub fn etag_of(id: &str, revision: i64) -> String {
    format!("{}-{revision}", &id[id.len().saturating_sub(8)..])
}

/// How a find narrows the subjects.
#[derive(Debug, Clone)]
pub enum Find {
    IdentityCode(PersonalIdentityCode),
    BusinessId(BusinessId),
    Email(Email),
    Phone(PhoneNumber),
    NamePrefix(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    RevealIdentityCode,
    Export,
    Erase,
    FindByIdentityCode,
}

impl AccessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKind::RevealIdentityCode => "reveal_identity_code",
            AccessKind::Export => "export",
            AccessKind::Erase => "erase",
            AccessKind::FindByIdentityCode => "find_by_identity_code",
        }
    }
}

/// Consented (true) or prohibited (false), when and how it was given.
pub type PreferenceGiven = (bool, DateTime<Utc>, String);

/// The marketing changes of one request.
#[derive(Debug, Clone, Default)]
pub struct MarketingChange {
    /// Per channel: `None` clears, `Some(..)` sets.
    pub channels: Vec<(Channel, Option<PreferenceGiven>)>,
    pub interests: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    outbox: OutboxSignal,
    vault: Arc<IdentityCodeVault>,
    registers: Registers,
    /// Reveals and finds by identity code log through it (group commit).
    access: AccessLogWriter,
}

impl Store {
    pub fn new(
        db: Db,
        outbox: OutboxSignal,
        vault: Arc<IdentityCodeVault>,
        registers: Registers,
    ) -> Self {
        Self {
            access: AccessLogWriter::start(db.clone()),
            db,
            outbox,
            vault,
            registers,
        }
    }

    pub fn vault(&self) -> &IdentityCodeVault {
        &self.vault
    }

    // ----- creating and changing -----

    pub async fn create(
        &self,
        actor: &str,
        details: Details,
        member_of: Vec<Membership>,
        billing: Option<BillingDetails>,
    ) -> Result<SubjectRecord, ServiceError> {
        if member_of.is_empty() {
            let mut v = rekisteri_platform::error::FieldViolations::new();
            v.add(
                "memberships",
                "at least one published register holds the subject",
            );
            return Err(ServiceError::InvalidArgument(v));
        }
        let mut fields = details.stored_fields();
        billing_fields(&billing, &mut fields);
        let ids: Vec<String> = member_of.iter().map(|m| m.register_id.clone()).collect();
        let registers = in_force(self.registers.published(&ids).await?, &member_of);
        check_fields(&registers, &fields)?;
        let now = Utc::now();
        let id = Uuid::now_v7().to_string();
        // A new subject is written as it will be read: its row with every detail in one insert,
        // then one insert per child table. Nothing is deleted or updated, as nothing was there.
        let row = new_subject_row(&id, actor, now, &details, billing.as_ref(), &self.vault);
        let (values, mut addresses) = match &details {
            Details::Person(p) => (
                person_value_rows(&id, p),
                address_rows(&id, "postal", &p.addresses),
            ),
            Details::Organisation(o) => (Vec::new(), address_rows(&id, "postal", &o.addresses)),
        };
        if let Some(b) = &billing {
            addresses.extend(address_rows(&id, "billing", b.address.as_slice()));
        }
        let txn = self.db.begin().await?;
        row.insert(&txn).await.map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => identity_code_taken(),
            _ => e.into(),
        })?;
        if !values.is_empty() {
            subject_values::Entity::insert_many(values)
                .exec(&txn)
                .await?;
        }
        if !addresses.is_empty() {
            addresses::Entity::insert_many(addresses).exec(&txn).await?;
        }
        write_memberships(&txn, &id, &member_of).await?;
        let event = SubjectCreated {
            subject_id: id.clone(),
            kind: details.kind().into(),
            business_id: details.business_id(),
            register_ids: ids.clone(),
        };
        self.enqueue(
            &txn,
            actor,
            events::SUBJECT_CREATED_TYPE,
            events::SUBJECT_CREATED,
            Payload::SubjectCreated(event),
        )
        .await?;
        if let Details::Organisation(o) = &details
            && o.business_id.is_some()
        {
            let etag = etag_of(&id, 1);
            self.request_enrichment(&txn, actor, &id, &etag, o, ids.clone())
                .await?;
        }
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(subject_id = %id, kind = details.kind(), actor, "subject created");
        self.get(&id).await
    }

    /// Replaces a subject's details (and, when given, its memberships and billing details).
    pub async fn update(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
        details: Details,
        member_of: Option<Vec<Membership>>,
        billing: Option<BillingDetails>,
    ) -> Result<SubjectRecord, ServiceError> {
        let current = self.live(self.db.reader(), id).await?;
        if current.kind != details.kind() {
            return Err(ServiceError::FailedPrecondition(format!(
                "subject {id} is a {}, not a {}",
                current.kind,
                details.kind()
            )));
        }
        if member_of.as_ref().is_some_and(|m| m.is_empty()) {
            let mut v = rekisteri_platform::error::FieldViolations::new();
            v.add(
                "memberships",
                "at least one published register holds the subject",
            );
            return Err(ServiceError::InvalidArgument(v));
        }
        let mut fields = details.stored_fields();
        billing_fields(&billing, &mut fields);
        let new_registers = match &member_of {
            Some(m) => {
                let ids: Vec<String> = m.iter().map(|m| m.register_id.clone()).collect();
                Some(in_force(self.registers.published(&ids).await?, m))
            }
            None => None,
        };
        let txn = self.db.begin().await?;
        // The subject is locked from here on: no other write can change its registers or what it
        // holds until this one commits, so the check below stays true.
        let before = self.bump(&txn, id, etag).await?;
        let registers = match new_registers {
            Some(registers) => {
                // New registers must also declare what the subject already holds and this
                // request leaves in place.
                fields.extend(held_fields(&txn, &before, &details, billing.is_some()).await?);
                registers
            }
            None => registers_of(&txn, id).await?,
        };
        check_fields(&registers, &fields)?;
        // Addresses are named changed only when they differ: an unchanged list keeps its source.
        let addresses_before = match &details {
            Details::Organisation(_) => Some(postal_addresses(&txn, id).await?),
            Details::Person(_) => None,
        };
        self.write_details(&txn, id, &details).await?;
        let mut changed = details.changed_fields(&before, &self.vault);
        if let (Some(before), Details::Organisation(o)) = (&addresses_before, &details)
            && *before == o.addresses
        {
            changed.retain(|c| c != "organisation.addresses");
        }
        if let Some(billing) = &billing {
            write_billing(&txn, id, Some(billing)).await?;
            changed.push("billing".into());
        }
        if let Some(m) = &member_of {
            memberships::Entity::delete_many()
                .filter(memberships::Column::SubjectId.eq(id))
                .exec(&txn)
                .await?;
            write_memberships(&txn, id, m).await?;
            changed.push("memberships".into());
        }
        if current.kind == ORGANISATION {
            // A value written by a person is no longer the source's, even when it is the same.
            field_sources::Entity::delete_many()
                .filter(field_sources::Column::SubjectId.eq(id))
                .filter(field_sources::Column::Field.is_in(changed.iter().cloned()))
                .exec(&txn)
                .await?;
        }
        // A business ID given or changed: fetch what the registers declare for the new one.
        if changed.iter().any(|c| c == "organisation.business_id")
            && let Details::Organisation(o) = &details
            && o.business_id.is_some()
        {
            let ids = registers.iter().map(|r| r.register_id.clone()).collect();
            let etag = etag_of(id, before.revision + 1);
            self.request_enrichment(&txn, actor, id, &etag, o, ids)
                .await?;
        }
        let event = SubjectUpdated {
            subject_id: id.to_owned(),
            changed_fields: changed,
            business_id: details.business_id(),
        };
        self.enqueue(
            &txn,
            actor,
            events::SUBJECT_UPDATED_TYPE,
            events::SUBJECT_UPDATED,
            Payload::SubjectUpdated(event),
        )
        .await?;
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(subject_id = %id, actor, "subject updated");
        self.get(id).await
    }

    pub async fn link_contact(
        &self,
        actor: &str,
        organisation_id: &str,
        person_id: &str,
        role: ContactRole,
    ) -> Result<SubjectRecord, ServiceError> {
        // Kinds never change: checked before any lock, so swapped ids fail plainly instead of
        // locking two rows in the opposite order.
        let organisation = self.live(self.db.reader(), organisation_id).await?;
        let person = self.live(self.db.reader(), person_id).await?;
        if organisation.kind != ORGANISATION {
            return Err(ServiceError::FailedPrecondition(format!(
                "subject {organisation_id} is not an organisation"
            )));
        }
        if person.kind != PERSON {
            return Err(ServiceError::FailedPrecondition(format!(
                "subject {person_id} is not a person"
            )));
        }
        let txn = self.db.begin().await?;
        let organisation = self.bump(&txn, organisation_id, "").await?;
        // The person is only read, under a shared lock: an erasure (which locks it for update)
        // cannot slip in between this check and the link, and the person's etag stays.
        subjects::Entity::find_by_id(person_id.to_owned())
            .lock_shared()
            .one(&txn)
            .await?
            .filter(|s| s.erased_at.is_none())
            .ok_or_else(|| ServiceError::NotFound(format!("no subject {person_id}")))?;
        let registers = registers_of(&txn, organisation_id).await?;
        check_fields(
            &registers,
            &[("contacts".into(), FieldKind::ContactPersons)],
        )?;
        contact_links::Entity::insert(contact_links::ActiveModel {
            organisation_id: Set(organisation_id.into()),
            person_id: Set(person_id.into()),
            role: Set(role.as_str().into()),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::columns([
                contact_links::Column::OrganisationId,
                contact_links::Column::PersonId,
            ])
            .update_column(contact_links::Column::Role)
            .to_owned(),
        )
        .exec(&txn)
        .await?;
        self.updated(&txn, actor, &organisation, &["contacts"])
            .await?;
        txn.commit().await?;
        self.outbox.notify();
        self.get(organisation_id).await
    }

    pub async fn unlink_contact(
        &self,
        actor: &str,
        organisation_id: &str,
        person_id: &str,
    ) -> Result<SubjectRecord, ServiceError> {
        let txn = self.db.begin().await?;
        let organisation = self.bump(&txn, organisation_id, "").await?;
        let removed = contact_links::Entity::delete_many()
            .filter(contact_links::Column::OrganisationId.eq(organisation_id))
            .filter(contact_links::Column::PersonId.eq(person_id))
            .exec(&txn)
            .await?;
        if removed.rows_affected == 0 {
            return Err(ServiceError::NotFound(format!(
                "{person_id} is not a contact person of {organisation_id}"
            )));
        }
        self.updated(&txn, actor, &organisation, &["contacts"])
            .await?;
        txn.commit().await?;
        self.outbox.notify();
        self.get(organisation_id).await
    }

    pub async fn record_service(
        &self,
        actor: &str,
        id: &str,
        service: services::Model,
    ) -> Result<SubjectRecord, ServiceError> {
        let txn = self.db.begin().await?;
        let subject = self.bump(&txn, id, "").await?;
        let registers = registers_of(&txn, id).await?;
        check_fields(&registers, &[("service".into(), FieldKind::Services)])?;
        services::Entity::insert(services::ActiveModel {
            subject_id: Set(id.into()),
            service_key: Set(service.service_key),
            description: Set(service.description),
            ordered_date: Set(service.ordered_date),
            start_date: Set(service.start_date),
            end_date: Set(service.end_date),
        })
        .on_conflict(
            OnConflict::columns([services::Column::SubjectId, services::Column::ServiceKey])
                .update_columns([
                    services::Column::Description,
                    services::Column::OrderedDate,
                    services::Column::StartDate,
                    services::Column::EndDate,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
        self.updated(&txn, actor, &subject, &["services"]).await?;
        txn.commit().await?;
        self.outbox.notify();
        self.get(id).await
    }

    pub async fn set_relationship(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<SubjectRecord, ServiceError> {
        let txn = self.db.begin().await?;
        let before = self.bump(&txn, id, etag).await?;
        let registers = registers_of(&txn, id).await?;
        check_fields(&registers, &[("relationship".into(), FieldKind::Services)])?;
        let start = start.or_else(|| before.relationship_start.as_deref().and_then(parse_date));
        subjects::Entity::update_many()
            .col_expr(
                subjects::Column::RelationshipStart,
                Expr::value(start.map(|d| d.to_string())),
            )
            .col_expr(
                subjects::Column::RelationshipEnd,
                Expr::value(end.map(|d| d.to_string())),
            )
            .filter(subjects::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let ended_now = end.is_some() && before.relationship_end.is_none();
        if ended_now {
            let event = RelationshipEnded {
                subject_id: id.to_owned(),
                end_date: end.map(|d| d.to_string()).unwrap_or_default(),
                business_id: business_id_pb(&before),
            };
            self.enqueue(
                &txn,
                actor,
                events::RELATIONSHIP_ENDED_TYPE,
                events::RELATIONSHIP_ENDED,
                Payload::RelationshipEnded(event),
            )
            .await?;
        } else {
            self.updated(&txn, actor, &before, &["relationship"])
                .await?;
        }
        txn.commit().await?;
        self.outbox.notify();
        self.get(id).await
    }

    pub async fn set_marketing(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
        change: MarketingChange,
    ) -> Result<SubjectRecord, ServiceError> {
        let txn = self.db.begin().await?;
        self.bump(&txn, id, etag).await?;
        let registers = registers_of(&txn, id).await?;
        // A prohibition is always kept: honouring it is the law (GDPR Art. 21(3)). Consents and
        // interests need a register that declares them.
        let mut fields = Vec::new();
        for (i, (_, setting)) in change.channels.iter().enumerate() {
            if matches!(setting, Some((true, _, _))) {
                fields.push((format!("preferences[{i}]"), FieldKind::MarketingConsent));
            }
        }
        if change.interests.as_ref().is_some_and(|i| !i.is_empty()) {
            fields.push(("interests".into(), FieldKind::Interests));
        }
        check_fields(&registers, &fields)?;
        for (channel, setting) in &change.channels {
            marketing_preferences::Entity::delete_many()
                .filter(marketing_preferences::Column::SubjectId.eq(id))
                .filter(marketing_preferences::Column::Channel.eq(channel.as_str()))
                .exec(&txn)
                .await?;
            if let Some((consented, at, how)) = setting {
                marketing_preferences::ActiveModel {
                    subject_id: Set(id.into()),
                    channel: Set(channel.as_str().into()),
                    preference: Set(if *consented {
                        "consented"
                    } else {
                        "prohibited"
                    }
                    .into()),
                    given_at: Set(*at),
                    given_how: Set(how.clone()),
                }
                .insert(&txn)
                .await?;
            }
        }
        if let Some(interests) = &change.interests {
            let rows = value_rows(
                id,
                "interest",
                interests.iter().map(|i| (i.clone(), i.to_lowercase())),
            );
            replace_values(&txn, id, &["interest"], rows).await?;
        }
        let now: Vec<marketing_preferences::Model> = marketing_preferences::Entity::find()
            .filter(marketing_preferences::Column::SubjectId.eq(id))
            .order_by_asc(marketing_preferences::Column::Channel)
            .all(&txn)
            .await?;
        let channels = |p: &str| {
            now.iter()
                .filter(|m| m.preference == p)
                .map(|m| m.channel.clone())
                .collect()
        };
        let event = MarketingPreferencesChanged {
            subject_id: id.to_owned(),
            prohibited_channels: channels("prohibited"),
            consented_channels: channels("consented"),
        };
        self.enqueue(
            &txn,
            actor,
            events::MARKETING_CHANGED_TYPE,
            events::MARKETING_CHANGED,
            Payload::MarketingPreferencesChanged(event),
        )
        .await?;
        txn.commit().await?;
        self.outbox.notify();
        self.get(id).await
    }

    pub async fn add_note(
        &self,
        actor: &str,
        id: &str,
        text: String,
    ) -> Result<SubjectRecord, ServiceError> {
        let txn = self.db.begin().await?;
        let subject = self.bump(&txn, id, "").await?;
        let registers = registers_of(&txn, id).await?;
        check_fields(&registers, &[("text".into(), FieldKind::CustomerHistory)])?;
        notes::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            subject_id: Set(id.into()),
            text: Set(text),
            author: Set(actor.into()),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        self.updated(&txn, actor, &subject, &["notes"]).await?;
        txn.commit().await?;
        self.outbox.notify();
        self.get(id).await
    }

    /// Removes the subject's personal data for good; the row stays as a tombstone.
    pub async fn erase(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
        reason: &str,
    ) -> Result<DateTime<Utc>, ServiceError> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        self.bump(&txn, id, etag).await?;
        macro_rules! delete_by_subject {
            ($($entity:ident),*) => {$(
                $entity::Entity::delete_many()
                    .filter($entity::Column::SubjectId.eq(id))
                    .exec(&txn)
                    .await?;
            )*};
        }
        delete_by_subject!(
            subject_values,
            addresses,
            memberships,
            services,
            marketing_preferences,
            notes,
            field_sources,
            enrichment_requests
        );
        contact_links::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(contact_links::Column::OrganisationId.eq(id))
                    .add(contact_links::Column::PersonId.eq(id)),
            )
            .exec(&txn)
            .await?;
        let null = || Expr::value(Option::<String>::None);
        subjects::Entity::update_many()
            .col_expr(subjects::Column::GivenNames, null())
            .col_expr(subjects::Column::Name, null())
            .col_expr(subjects::Column::NameKey, null())
            .col_expr(
                subjects::Column::HetuSealed,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(subjects::Column::HetuKeyId, null())
            .col_expr(subjects::Column::HetuIndex, null())
            .col_expr(subjects::Column::DateOfBirth, null())
            .col_expr(subjects::Column::Language, null())
            .col_expr(subjects::Column::BusinessId, null())
            .col_expr(subjects::Column::AssociationNumber, null())
            .col_expr(subjects::Column::RelationshipStart, null())
            .col_expr(subjects::Column::RelationshipEnd, null())
            .col_expr(subjects::Column::EInvoiceAddress, null())
            .col_expr(subjects::Column::EInvoiceOperator, null())
            .col_expr(subjects::Column::InvoiceLanguage, null())
            .col_expr(subjects::Column::ErasedAt, Expr::value(Some(now)))
            .col_expr(
                subjects::Column::ErasedBy,
                Expr::value(Some(actor.to_owned())),
            )
            .filter(subjects::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        log_access(&txn, id, AccessKind::Erase, actor, reason).await?;
        let event = SubjectErased {
            subject_id: id.to_owned(),
        };
        self.enqueue(
            &txn,
            actor,
            events::SUBJECT_ERASED_TYPE,
            events::SUBJECT_ERASED,
            Payload::SubjectErased(event),
        )
        .await?;
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(subject_id = %id, actor, "subject erased");
        Ok(now)
    }

    // ----- reading -----

    pub async fn get(&self, id: &str) -> Result<SubjectRecord, ServiceError> {
        self.get_with(id, Limits::VIEW).await
    }

    pub async fn get_with(&self, id: &str, limits: Limits) -> Result<SubjectRecord, ServiceError> {
        crate::read::subject(self.db.reader(), id, limits)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no subject {id}")))
    }

    /// A person's identity code, recorded in the access log with who asked and why.
    pub async fn reveal(
        &self,
        actor: &str,
        id: &str,
        kind: AccessKind,
        reason: &str,
    ) -> Result<Option<PersonalIdentityCode>, ServiceError> {
        let row = self.live(self.db.reader(), id).await?;
        self.access
            .record(vec![Access {
                subject_id: id.to_owned(),
                kind: kind.as_str(),
                actor: actor.to_owned(),
                reason: reason.to_owned(),
            }])
            .await?;
        self.identity_code(&row)
    }

    pub fn identity_code(
        &self,
        row: &subjects::Model,
    ) -> Result<Option<PersonalIdentityCode>, ServiceError> {
        match (&row.hetu_sealed, &row.hetu_key_id) {
            (Some(bytes), Some(key_id)) => Ok(Some(self.vault.open(
                &row.id,
                &Sealed {
                    key_id: key_id.clone(),
                    bytes: bytes.clone(),
                },
            )?)),
            _ => Ok(None),
        }
    }

    /// The subjects a find matches, by id, after `after`; with the count of all matches and the
    /// token of the next page, empty when no match is left after this page. The token is the
    /// last id the page's search found, also when that subject was erased before it could be
    /// read: a page that comes back short for that reason still leads on to the rest.
    pub async fn find(
        &self,
        actor: &str,
        by: Find,
        after: Option<String>,
        limit: u64,
    ) -> Result<(Vec<SubjectRecord>, u64, String), ServiceError> {
        use subjects::Column;
        let mut query = subjects::Entity::find().filter(Column::ErasedAt.is_null());
        match &by {
            Find::IdentityCode(code) => {
                query = query.filter(Column::HetuIndex.eq(self.vault.blind_index(code)));
            }
            Find::BusinessId(b) => query = query.filter(Column::BusinessId.eq(b.to_string())),
            Find::Email(e) => {
                query = query.filter(Column::Id.in_subquery(values_query("email", &e.lookup_key())))
            }
            Find::Phone(p) => {
                query = query.filter(Column::Id.in_subquery(values_query("phone", p.as_str())))
            }
            Find::NamePrefix(prefix) => {
                let escaped: String = prefix
                    .to_lowercase()
                    .chars()
                    .flat_map(|c| match c {
                        '%' | '_' | '\\' => vec!['\\', c],
                        c => vec![c],
                    })
                    .collect();
                // The range lets the (name_key, id) index find the candidates (a LIKE alone
                // scans the table on both databases); the LIKE keeps the answer exact under any
                // collation. U+10FFFF sorts after every character in a byte-wise comparison.
                // PostgreSQL compares byte-wise only under the "C" collation (its index
                // `subjects_name_key_c` is built so), whatever the database's own collation.
                let low = prefix.to_lowercase();
                let high = format!("{low}\u{10FFFF}");
                query = if self.db.is_sqlite() {
                    query
                        .filter(Column::NameKey.gte(low))
                        .filter(Column::NameKey.lt(high))
                } else {
                    query.filter(Expr::cust_with_values(
                        r#"name_key COLLATE "C" >= $1 AND name_key COLLATE "C" < $2"#,
                        [low, high],
                    ))
                };
                query =
                    query.filter(Expr::col(Column::NameKey).like(
                        sea_orm::sea_query::LikeExpr::new(format!("{escaped}%")).escape('\\'),
                    ));
            }
        }
        let counted = query.clone();
        let first_page = after.is_none();
        if let Some(after) = after {
            query = query.filter(Column::Id.gt(after));
        }
        let ids_query = query
            .select_only()
            .column(Column::Id)
            .order_by_asc(Column::Id)
            // One more than the page: whether a next page exists is known without asking.
            .limit(limit + 1);
        let name_prefix = matches!(by, Find::NamePrefix(_));
        let (mut ids, total) = if name_prefix && !self.db.is_sqlite() {
            // The service keeps one plan per statement (`plan_cache_mode`, app.rs), right for
            // every lookup by key; a name prefix is the exception: a short one matches so many
            // that walking the ids beats the name index, a long one the other way round. Here
            // PostgreSQL plans for the prefix given.
            let txn = self.db.reader().begin().await?;
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
            let found = page_of_ids(&txn, ids_query, counted, first_page, limit).await?;
            txn.commit().await?;
            found
        } else {
            page_of_ids(self.db.reader(), ids_query, counted, first_page, limit).await?
        };
        let next_page_token = if ids.len() as u64 > limit {
            ids.truncate(limit as usize);
            ids.last().cloned().unwrap_or_default()
        } else {
            String::new()
        };
        if let Find::IdentityCode(_) = by {
            // Every search by identity code is logged before it is answered, a search that
            // found no one too.
            let access = |subject_id: &str, reason: &str| Access {
                subject_id: subject_id.to_owned(),
                kind: AccessKind::FindByIdentityCode.as_str(),
                actor: actor.to_owned(),
                reason: reason.to_owned(),
            };
            let rows = if ids.is_empty() {
                vec![access("", "search (no match)")]
            } else {
                ids.iter().map(|id| access(id, "search")).collect()
            };
            self.access.record(rows).await?;
        }
        let mut found = Vec::with_capacity(ids.len());
        for id in &ids {
            // A subject erased since the search found it is left out.
            if let Some(record) = crate::read::subject(self.db.reader(), id, Limits::VIEW).await? {
                found.push(record);
            }
        }
        Ok((found, total, next_page_token))
    }

    pub async fn access_log(
        &self,
        subject_id: Option<&str>,
        before: Option<String>,
        limit: u64,
    ) -> Result<(Vec<access_log::Model>, u64), ServiceError> {
        let mut query = access_log::Entity::find();
        if let Some(id) = subject_id {
            query = query.filter(access_log::Column::SubjectId.eq(id));
        }
        let total = query.clone().count(self.db.reader()).await?;
        if let Some(before) = before {
            query = query.filter(access_log::Column::Id.lt(before));
        }
        let rows = query
            .order_by_desc(access_log::Column::Id)
            .limit(limit)
            .all(self.db.reader())
            .await?;
        Ok((rows, total))
    }

    // ----- helpers -----

    /// The subject, unless it does not exist or was erased.
    async fn live<C: ConnectionTrait>(
        &self,
        db: &C,
        id: &str,
    ) -> Result<subjects::Model, ServiceError> {
        subjects::Entity::find_by_id(id.to_owned())
            .one(db)
            .await?
            .filter(|s| s.erased_at.is_none())
            .ok_or_else(|| ServiceError::NotFound(format!("no subject {id}")))
    }

    /// Locks the subject for this transaction and moves it one revision on; returns it as it
    /// was. A given etag must match the stored one; an empty etag takes whatever is stored.
    /// PostgreSQL: the row lock (FOR UPDATE) makes concurrent writes to one subject wait, not
    /// fail. SQLite: write transactions are already serial.
    async fn bump(
        &self,
        txn: &DatabaseTransaction,
        id: &str,
        etag_read: &str,
    ) -> Result<subjects::Model, ServiceError> {
        let before = subjects::Entity::find_by_id(id.to_owned())
            .lock_exclusive()
            .one(txn)
            .await?
            .filter(|s| s.erased_at.is_none())
            .ok_or_else(|| ServiceError::NotFound(format!("no subject {id}")))?;
        let etag_read = etag_read.trim_matches('"');
        if !etag_read.is_empty() && etag_read != etag(&before) {
            return Err(ServiceError::Aborted(format!(
                "subject {id} changed since it was read (etag {etag_read}, now {}); read it again and retry",
                etag(&before)
            )));
        }
        let swapped = subjects::Entity::update_many()
            .col_expr(subjects::Column::Revision, Expr::value(before.revision + 1))
            .col_expr(subjects::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(subjects::Column::Id.eq(id))
            .filter(subjects::Column::Revision.eq(before.revision))
            .exec(txn)
            .await?;
        if swapped.rows_affected != 1 {
            return Err(ServiceError::Aborted(format!(
                "subject {id} was changed by another request meanwhile; read it again and retry"
            )));
        }
        Ok(before)
    }

    async fn write_details(
        &self,
        txn: &DatabaseTransaction,
        id: &str,
        details: &Details,
    ) -> Result<(), ServiceError> {
        match details {
            Details::Person(p) => write_person(txn, id, p, &self.vault).await,
            Details::Organisation(o) => write_organisation(txn, id, o).await,
        }
    }

    async fn updated(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        subject: &subjects::Model,
        changed: &[&str],
    ) -> Result<(), ServiceError> {
        let event = SubjectUpdated {
            subject_id: subject.id.clone(),
            changed_fields: changed.iter().map(|c| c.to_string()).collect(),
            business_id: business_id_pb(subject),
        };
        self.enqueue(
            txn,
            actor,
            events::SUBJECT_UPDATED_TYPE,
            events::SUBJECT_UPDATED,
            Payload::SubjectUpdated(event),
        )
        .await
    }

    /// Asks the enrichment service to fetch what the organisation's registers declare as
    /// sources (an `EnrichmentRequested` event in the same transaction).
    /// `etag` is the subject's as this write leaves it: values are applied over a person's only
    /// while it is unchanged. `o` is what this write stored.
    async fn request_enrichment(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        id: &str,
        etag: &str,
        o: &OrganisationDetails,
        register_ids: Vec<String>,
    ) -> Result<(), ServiceError> {
        let request_id = Uuid::now_v7().to_string();
        // What the fields hold as the request leaves them, kept here (not in the event): a
        // result replaces a value a person wrote only while it is still this one. This write
        // has just stored them, so they are taken from it rather than read back.
        enrichment_requests::ActiveModel {
            request_id: Set(request_id.clone()),
            subject_id: Set(id.to_owned()),
            name_fingerprint: Set(crate::enrichment::fingerprint_name(Some(&o.name))),
            addresses_fingerprint: Set(crate::enrichment::fingerprint_addresses(&o.addresses)),
            created_at: Set(Utc::now()),
        }
        .insert(txn)
        .await?;
        let request = EnrichmentRequested {
            request_id,
            subject_id: id.to_owned(),
            kind: ORGANISATION.into(),
            business_id: o.business_id.as_ref().map(|b| BusinessIdPb {
                value: b.to_string(),
            }),
            register_ids,
            subject_etag: etag.to_owned(),
        };
        self.enqueue(
            txn,
            actor,
            events::ENRICHMENT_REQUESTED_TYPE,
            events::ENRICHMENT_REQUESTED,
            Payload::EnrichmentRequested(request),
        )
        .await
    }

    async fn enqueue(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        event_type: &str,
        subject: &str,
        payload: Payload,
    ) -> Result<(), ServiceError> {
        let envelope = outbox::envelope(events::SOURCE, event_type, actor, payload);
        outbox::enqueue(txn, subject, &envelope).await?;
        Ok(())
    }
}

/// A person's or an organisation's details.
#[derive(Debug, Clone)]
pub enum Details {
    Person(PersonDetails),
    Organisation(OrganisationDetails),
}

impl Details {
    fn kind(&self) -> &'static str {
        match self {
            Details::Person(_) => PERSON,
            Details::Organisation(_) => ORGANISATION,
        }
    }

    fn stored_fields(&self) -> Vec<(String, FieldKind)> {
        match self {
            Details::Person(p) => p.stored_fields("person"),
            Details::Organisation(o) => o.stored_fields("organisation"),
        }
    }

    fn business_id(&self) -> Option<BusinessIdPb> {
        match self {
            Details::Organisation(o) => o.business_id.as_ref().map(|b| BusinessIdPb {
                value: b.to_string(),
            }),
            Details::Person(_) => None,
        }
    }

    /// Field names for the update event: which of the details differ from `before`. Lists are
    /// not compared (they live in other tables); they are named when given.
    fn changed_fields(&self, before: &subjects::Model, vault: &IdentityCodeVault) -> Vec<String> {
        let mut changed = Vec::new();
        let mut check = |differs: bool, name: &str| {
            if differs {
                changed.push(name.to_owned());
            }
        };
        match self {
            Details::Person(p) => {
                check(
                    before.given_names.as_deref() != Some(p.given_names.as_str()),
                    "person.given_names",
                );
                check(
                    before.name.as_deref() != Some(p.family_name.as_str()),
                    "person.family_name",
                );
                check(
                    match &p.identity_code {
                        IdentityCodeChange::Keep => false,
                        IdentityCodeChange::Remove => before.hetu_index.is_some(),
                        IdentityCodeChange::Set(code) => {
                            before.hetu_index.as_deref() != Some(vault.blind_index(code).as_str())
                        }
                    },
                    "person.personal_identity_code",
                );
                check(
                    before.date_of_birth != p.date_of_birth.map(|d| d.to_string()),
                    "person.date_of_birth",
                );
                check(
                    before.language.as_deref() != p.language.map(|l| l.code()),
                    "person.language",
                );
                changed.extend(
                    [
                        "person.emails",
                        "person.phones",
                        "person.addresses",
                        "person.user_accounts",
                    ]
                    .map(String::from),
                );
            }
            Details::Organisation(o) => {
                check(
                    before.name.as_deref() != Some(o.name.as_str()),
                    "organisation.name",
                );
                check(
                    before.business_id != o.business_id.as_ref().map(|b| b.to_string()),
                    "organisation.business_id",
                );
                check(
                    before.association_number
                        != o.association_number.as_ref().map(|a| a.to_string()),
                    "organisation.association_number",
                );
                changed.push("organisation.addresses".into());
            }
        }
        changed
    }
}

/// Of `registers`, those a membership in force today names: only they allow data (a membership
/// that has ended, or not yet begun, allows nothing).
fn in_force(
    registers: Vec<known_registers::Model>,
    member_of: &[Membership],
) -> Vec<known_registers::Model> {
    let today = Utc::now().date_naive();
    registers
        .into_iter()
        .filter(|r| {
            member_of.iter().any(|m| {
                m.register_id == r.register_id
                    && m.start <= today
                    && m.end.is_none_or(|end| end >= today)
            })
        })
        .collect()
}

/// The registers that hold the subject today (for the enrichment results' consumer).
pub(crate) async fn registers_holding(
    txn: &DatabaseTransaction,
    id: &str,
) -> Result<Vec<known_registers::Model>, ServiceError> {
    registers_of(txn, id).await
}

/// An organisation's name from an external source.
pub(crate) async fn write_organisation_name(
    txn: &DatabaseTransaction,
    id: &str,
    name: &str,
) -> Result<(), ServiceError> {
    subjects::Entity::update_many()
        .col_expr(subjects::Column::Name, Expr::value(Some(name.to_owned())))
        .col_expr(
            subjects::Column::NameKey,
            Expr::value(Some(name.to_lowercase())),
        )
        .filter(subjects::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The subject's postal addresses, in order.
pub(crate) async fn postal_addresses(
    txn: &DatabaseTransaction,
    id: &str,
) -> Result<Vec<Address>, ServiceError> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::SubjectId.eq(id))
        .filter(addresses::Column::Purpose.eq("postal"))
        .order_by_asc(addresses::Column::Position)
        .all(txn)
        .await?
        .into_iter()
        .map(|a| Address {
            lines: a.lines.split('\n').map(str::to_owned).collect(),
            postal_code: a.postal_code,
            post_office: a.post_office,
            country_code: a.country_code,
        })
        .collect())
}

/// Whether the subject has a postal address.
pub(crate) async fn has_postal_addresses(
    txn: &DatabaseTransaction,
    id: &str,
) -> Result<bool, ServiceError> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::SubjectId.eq(id))
        .filter(addresses::Column::Purpose.eq("postal"))
        .count(txn)
        .await?
        > 0)
}

/// An organisation's addresses from an external source; whether they differ from the stored.
pub(crate) async fn write_organisation_addresses(
    txn: &DatabaseTransaction,
    id: &str,
    list: &[Address],
) -> Result<bool, ServiceError> {
    let stored = postal_addresses(txn, id).await?;
    if stored == list {
        return Ok(false);
    }
    replace_addresses(txn, id, "postal", list).await?;
    Ok(true)
}

/// The registers that hold the subject today (memberships that have started and not ended),
/// among those known as published.
async fn registers_of(
    txn: &DatabaseTransaction,
    id: &str,
) -> Result<Vec<known_registers::Model>, ServiceError> {
    let today = Utc::now().date_naive().to_string();
    let ids: Vec<String> = memberships::Entity::find()
        .filter(memberships::Column::SubjectId.eq(id))
        .filter(memberships::Column::StartDate.lte(today.as_str()))
        .filter(
            memberships::Column::EndDate
                .is_null()
                .or(memberships::Column::EndDate.gte(today.as_str())),
        )
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.register_id)
        .collect();
    Ok(known_registers::Entity::find()
        .filter(known_registers::Column::RegisterId.is_in(ids))
        .filter(known_registers::Column::Status.eq(crate::registers::PUBLISHED))
        .all(txn)
        .await?)
}

/// What the subject holds now and an update leaves in place (the details it replaces are
/// checked from the request): the fields new registers must also declare.
async fn held_fields(
    txn: &DatabaseTransaction,
    before: &subjects::Model,
    details: &Details,
    billing_replaced: bool,
) -> Result<Vec<(String, FieldKind)>, ServiceError> {
    let id = before.id.as_str();
    let mut held = Vec::new();
    if let Details::Person(p) = details
        && matches!(p.identity_code, IdentityCodeChange::Keep)
        && before.hetu_index.is_some()
    {
        held.push((
            "person.personal_identity_code (held)".to_owned(),
            FieldKind::IdentityCode,
        ));
    }
    let billing_held = before.e_invoice_address.is_some()
        || before.e_invoice_operator.is_some()
        || before.invoice_language.is_some()
        || addresses::Entity::find()
            .filter(addresses::Column::SubjectId.eq(id))
            .filter(addresses::Column::Purpose.eq("billing"))
            .count(txn)
            .await?
            > 0;
    if !billing_replaced && billing_held {
        held.push(("billing (held)".to_owned(), FieldKind::Billing));
    }
    if notes::Entity::find()
        .filter(notes::Column::SubjectId.eq(id))
        .count(txn)
        .await?
        > 0
    {
        held.push(("notes (held)".to_owned(), FieldKind::CustomerHistory));
    }
    if before.relationship_start.is_some()
        || before.relationship_end.is_some()
        || services::Entity::find()
            .filter(services::Column::SubjectId.eq(id))
            .count(txn)
            .await?
            > 0
    {
        held.push(("services (held)".to_owned(), FieldKind::Services));
    }
    if marketing_preferences::Entity::find()
        .filter(marketing_preferences::Column::SubjectId.eq(id))
        .filter(marketing_preferences::Column::Preference.eq("consented"))
        .count(txn)
        .await?
        > 0
    {
        held.push((
            "marketing consents (held)".to_owned(),
            FieldKind::MarketingConsent,
        ));
    }
    if subject_values::Entity::find()
        .filter(subject_values::Column::SubjectId.eq(id))
        .filter(subject_values::Column::Kind.eq("interest"))
        .count(txn)
        .await?
        > 0
    {
        held.push(("interests (held)".to_owned(), FieldKind::Interests));
    }
    if contact_links::Entity::find()
        .filter(contact_links::Column::OrganisationId.eq(id))
        .count(txn)
        .await?
        > 0
    {
        held.push(("contacts (held)".to_owned(), FieldKind::ContactPersons));
    }
    Ok(held)
}

/// The ids a find's page holds (up to `limit + 1`: one more tells that a next page exists), and
/// how many match in all; a first page with no next page holds every match, so it is not
/// counted again.
async fn page_of_ids<C: ConnectionTrait>(
    db: &C,
    ids_query: sea_orm::Select<subjects::Entity>,
    counted: sea_orm::Select<subjects::Entity>,
    first_page: bool,
    limit: u64,
) -> Result<(Vec<String>, u64), ServiceError> {
    let ids: Vec<String> = ids_query.into_tuple().all(db).await?;
    let total = if first_page && (ids.len() as u64) <= limit {
        ids.len() as u64
    } else {
        counted.count(db).await?
    };
    Ok((ids, total))
}

/// The refusal of a second subject with one identity code. It names neither the code nor the
/// subject holding it: a writer could otherwise learn who holds a code without the logged search.
fn identity_code_taken() -> ServiceError {
    ServiceError::AlreadyExists(
        "person.personal_identity_code: another subject already holds this identity code; \
         find it by the code (a search the access log records) and update that subject instead"
            .to_owned(),
    )
}

fn billing_fields(billing: &Option<BillingDetails>, fields: &mut Vec<(String, FieldKind)>) {
    if billing.as_ref().is_some_and(|b| !b.is_empty()) {
        fields.push(("billing".into(), FieldKind::Billing));
    }
}

fn business_id_pb(row: &subjects::Model) -> Option<BusinessIdPb> {
    row.business_id.clone().map(|value| BusinessIdPb { value })
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn values_query(kind: &str, lookup: &str) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(subject_values::Column::SubjectId)
        .from(subject_values::Entity)
        .and_where(Expr::col(subject_values::Column::Kind).eq(kind))
        .and_where(Expr::col(subject_values::Column::Lookup).eq(lookup))
        .to_owned()
}

async fn write_person(
    txn: &DatabaseTransaction,
    id: &str,
    p: &PersonDetails,
    vault: &IdentityCodeVault,
) -> Result<(), ServiceError> {
    let mut update = subjects::Entity::update_many()
        .col_expr(
            subjects::Column::GivenNames,
            Expr::value(Some(p.given_names.clone()).filter(|g| !g.is_empty())),
        )
        .col_expr(
            subjects::Column::Name,
            Expr::value(Some(p.family_name.clone())),
        )
        .col_expr(
            subjects::Column::NameKey,
            Expr::value(Some(p.family_name.to_lowercase())),
        )
        .col_expr(
            subjects::Column::DateOfBirth,
            Expr::value(p.date_of_birth.map(|d| d.to_string())),
        )
        .col_expr(
            subjects::Column::Language,
            Expr::value(p.language.map(|l| l.code().to_owned())),
        );
    match &p.identity_code {
        IdentityCodeChange::Keep => {}
        IdentityCodeChange::Remove => {
            update = update
                .col_expr(
                    subjects::Column::HetuSealed,
                    Expr::value(Option::<Vec<u8>>::None),
                )
                .col_expr(
                    subjects::Column::HetuKeyId,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    subjects::Column::HetuIndex,
                    Expr::value(Option::<String>::None),
                );
        }
        IdentityCodeChange::Set(code) => {
            // One person, one subject: a second subject with the same code would split their
            // data (and their erasure). The unique index on the blind index refuses it, below.
            let index = vault.blind_index(code);
            let sealed = vault.seal(id, code);
            update = update
                .col_expr(
                    subjects::Column::HetuSealed,
                    Expr::value(Some(sealed.bytes)),
                )
                .col_expr(
                    subjects::Column::HetuKeyId,
                    Expr::value(Some(sealed.key_id)),
                )
                .col_expr(subjects::Column::HetuIndex, Expr::value(Some(index)));
        }
    }
    update
        .filter(subjects::Column::Id.eq(id))
        .exec(txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => identity_code_taken(),
            _ => e.into(),
        })?;
    replace_values(txn, id, &PERSON_VALUE_KINDS, person_value_rows(id, p)).await?;
    replace_addresses(txn, id, "postal", &p.addresses).await
}

async fn write_organisation(
    txn: &DatabaseTransaction,
    id: &str,
    o: &OrganisationDetails,
) -> Result<(), ServiceError> {
    subjects::Entity::update_many()
        .col_expr(subjects::Column::Name, Expr::value(Some(o.name.clone())))
        .col_expr(
            subjects::Column::NameKey,
            Expr::value(Some(o.name.to_lowercase())),
        )
        .col_expr(
            subjects::Column::BusinessId,
            Expr::value(o.business_id.as_ref().map(|b| b.to_string())),
        )
        .col_expr(
            subjects::Column::AssociationNumber,
            Expr::value(o.association_number.as_ref().map(|a| a.to_string())),
        )
        .filter(subjects::Column::Id.eq(id))
        .exec(txn)
        .await?;
    replace_addresses(txn, id, "postal", &o.addresses).await
}

async fn write_billing(
    txn: &DatabaseTransaction,
    id: &str,
    billing: Option<&BillingDetails>,
) -> Result<(), ServiceError> {
    let Some(b) = billing else { return Ok(()) };
    subjects::Entity::update_many()
        .col_expr(
            subjects::Column::EInvoiceAddress,
            Expr::value(b.e_invoice_address.clone()),
        )
        .col_expr(
            subjects::Column::EInvoiceOperator,
            Expr::value(b.e_invoice_operator.clone()),
        )
        .col_expr(
            subjects::Column::InvoiceLanguage,
            Expr::value(b.invoice_language.map(|l| l.code().to_owned())),
        )
        .filter(subjects::Column::Id.eq(id))
        .exec(txn)
        .await?;
    replace_addresses(txn, id, "billing", b.address.as_slice()).await
}

async fn write_memberships(
    txn: &DatabaseTransaction,
    id: &str,
    member_of: &[Membership],
) -> Result<(), ServiceError> {
    let rows: Vec<memberships::ActiveModel> = member_of
        .iter()
        .map(|m| memberships::ActiveModel {
            subject_id: Set(id.into()),
            register_id: Set(m.register_id.clone()),
            basis: Set(m.basis.clone()),
            start_date: Set(m.start.to_string()),
            end_date: Set(m.end.map(|d| d.to_string())),
        })
        .collect();
    if !rows.is_empty() {
        memberships::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(())
}

/// The kinds of a person's many-valued details (`subject_values.kind`) that their details hold.
const PERSON_VALUE_KINDS: [&str; 3] = ["email", "phone", "user_account"];

/// Values of one kind as `subject_values` rows, in the order given: (value, lookup key).
fn value_rows(
    id: &str,
    kind: &str,
    values: impl Iterator<Item = (String, String)>,
) -> Vec<subject_values::ActiveModel> {
    values
        .enumerate()
        .map(|(i, (value, lookup))| subject_values::ActiveModel {
            subject_id: Set(id.into()),
            kind: Set(kind.into()),
            position: Set(i as i32),
            value: Set(value),
            lookup: Set(lookup),
        })
        .collect()
}

/// A person's emails, phones and user accounts as `subject_values` rows.
fn person_value_rows(id: &str, p: &PersonDetails) -> Vec<subject_values::ActiveModel> {
    let [email, phone, account] = PERSON_VALUE_KINDS;
    let mut rows = value_rows(
        id,
        email,
        p.emails.iter().map(|e| (e.to_string(), e.lookup_key())),
    );
    rows.extend(value_rows(
        id,
        phone,
        p.phones.iter().map(|n| (n.to_string(), n.to_string())),
    ));
    rows.extend(value_rows(
        id,
        account,
        p.user_accounts.iter().map(|a| (a.clone(), a.clone())),
    ));
    rows
}

/// Replaces the subject's values of `kinds` with `rows`: one delete, one insert.
async fn replace_values(
    txn: &DatabaseTransaction,
    id: &str,
    kinds: &[&str],
    rows: Vec<subject_values::ActiveModel>,
) -> Result<(), ServiceError> {
    subject_values::Entity::delete_many()
        .filter(subject_values::Column::SubjectId.eq(id))
        .filter(subject_values::Column::Kind.is_in(kinds.iter().copied()))
        .exec(txn)
        .await?;
    if !rows.is_empty() {
        subject_values::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(())
}

fn address_rows(id: &str, purpose: &str, list: &[Address]) -> Vec<addresses::ActiveModel> {
    list.iter()
        .enumerate()
        .map(|(i, a)| addresses::ActiveModel {
            subject_id: Set(id.into()),
            purpose: Set(purpose.into()),
            position: Set(i as i32),
            lines: Set(a.lines.join("\n")),
            postal_code: Set(a.postal_code.clone()),
            post_office: Set(a.post_office.clone()),
            country_code: Set(a.country_code.clone()),
        })
        .collect()
}

async fn replace_addresses(
    txn: &DatabaseTransaction,
    id: &str,
    purpose: &str,
    list: &[Address],
) -> Result<(), ServiceError> {
    addresses::Entity::delete_many()
        .filter(addresses::Column::SubjectId.eq(id))
        .filter(addresses::Column::Purpose.eq(purpose))
        .exec(txn)
        .await?;
    let rows = address_rows(id, purpose, list);
    if !rows.is_empty() {
        addresses::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(())
}

/// A new subject's row with every detail the request gives (the details a later write changes
/// are written by `write_person`, `write_organisation` and `write_billing`, column for column
/// the same).
fn new_subject_row(
    id: &str,
    actor: &str,
    now: DateTime<Utc>,
    details: &Details,
    billing: Option<&BillingDetails>,
    vault: &IdentityCodeVault,
) -> subjects::ActiveModel {
    let mut row = subjects::ActiveModel {
        id: Set(id.to_owned()),
        kind: Set(details.kind().into()),
        revision: Set(1),
        given_names: Set(None),
        name: Set(None),
        name_key: Set(None),
        hetu_sealed: Set(None),
        hetu_key_id: Set(None),
        hetu_index: Set(None),
        date_of_birth: Set(None),
        language: Set(None),
        business_id: Set(None),
        association_number: Set(None),
        relationship_start: Set(None),
        relationship_end: Set(None),
        e_invoice_address: Set(None),
        e_invoice_operator: Set(None),
        invoice_language: Set(None),
        created_by: Set(actor.into()),
        created_at: Set(now),
        updated_at: Set(now),
        erased_at: Set(None),
        erased_by: Set(None),
    };
    match details {
        Details::Person(p) => {
            row.given_names = Set(Some(p.given_names.clone()).filter(|g| !g.is_empty()));
            row.name = Set(Some(p.family_name.clone()));
            row.name_key = Set(Some(p.family_name.to_lowercase()));
            row.date_of_birth = Set(p.date_of_birth.map(|d| d.to_string()));
            row.language = Set(p.language.map(|l| l.code().to_owned()));
            if let IdentityCodeChange::Set(code) = &p.identity_code {
                let sealed = vault.seal(id, code);
                row.hetu_sealed = Set(Some(sealed.bytes));
                row.hetu_key_id = Set(Some(sealed.key_id));
                row.hetu_index = Set(Some(vault.blind_index(code)));
            }
        }
        Details::Organisation(o) => {
            row.name = Set(Some(o.name.clone()));
            row.name_key = Set(Some(o.name.to_lowercase()));
            row.business_id = Set(o.business_id.as_ref().map(|b| b.to_string()));
            row.association_number = Set(o.association_number.as_ref().map(|a| a.to_string()));
        }
    }
    if let Some(b) = billing {
        row.e_invoice_address = Set(b.e_invoice_address.clone());
        row.e_invoice_operator = Set(b.e_invoice_operator.clone());
        row.invoice_language = Set(b.invoice_language.map(|l| l.code().to_owned()));
    }
    row
}

async fn log_access(
    txn: &DatabaseTransaction,
    subject_id: &str,
    kind: AccessKind,
    actor: &str,
    reason: &str,
) -> Result<(), ServiceError> {
    access_log::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        subject_id: Set(subject_id.into()),
        kind: Set(kind.as_str().into()),
        actor: Set(actor.into()),
        reason: Set(reason.into()),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await?;
    Ok(())
}
