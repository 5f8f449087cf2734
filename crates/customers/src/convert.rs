//! From the store's records to the API's messages. The identity code is never put in a message
//! here; only an export or a reveal adds it, deliberately.

use chrono::{DateTime, NaiveDate, Utc};
use rekisteri_proto::common::v1::{Actor, BusinessId, PostalAddress};
use rekisteri_proto::customers::v1 as pb;

use crate::domain::{Channel, ContactRole};
use crate::entity::{access_log, addresses};
use crate::store::{ORGANISATION, SubjectRecord};

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
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

fn address(a: &addresses::Model) -> PostalAddress {
    PostalAddress {
        lines: a.lines.split('\n').map(String::from).collect(),
        postal_code: a.postal_code.clone(),
        post_office: a.post_office.clone(),
        country_code: a.country_code.clone(),
    }
}

pub fn subject(record: &SubjectRecord, today: NaiveDate) -> pb::Subject {
    let row = &record.row;
    let values = |kind: &str| -> Vec<String> {
        record
            .values
            .iter()
            .filter(|v| v.kind == kind)
            .map(|v| v.value.clone())
            .collect()
    };
    let postal: Vec<PostalAddress> = record
        .addresses
        .iter()
        .filter(|a| a.purpose == "postal")
        .map(address)
        .collect();
    let is_organisation = row.kind == ORGANISATION;
    let (person, organisation) = if is_organisation {
        (
            None,
            Some(pb::Organisation {
                name: row.name.clone().unwrap_or_default(),
                business_id: row.business_id.clone().map(|value| BusinessId { value }),
                association_number: row.association_number.clone().unwrap_or_default(),
                addresses: postal,
            }),
        )
    } else {
        (
            Some(pb::Person {
                given_names: row.given_names.clone().unwrap_or_default(),
                family_name: row.name.clone().unwrap_or_default(),
                personal_identity_code: String::new(),
                has_personal_identity_code: row.hetu_index.is_some(),
                date_of_birth: row.date_of_birth.clone().unwrap_or_default(),
                emails: values("email"),
                phones: values("phone"),
                addresses: postal,
                language: row.language.clone().unwrap_or_default(),
                user_accounts: values("user_account"),
            }),
            None,
        )
    };
    let billing_address = record
        .addresses
        .iter()
        .find(|a| a.purpose == "billing")
        .map(address);
    let billing = (billing_address.is_some()
        || row.e_invoice_address.is_some()
        || row.e_invoice_operator.is_some()
        || row.invoice_language.is_some())
    .then(|| pb::Billing {
        billing_address,
        e_invoice_address: row.e_invoice_address.clone().unwrap_or_default(),
        e_invoice_operator: row.e_invoice_operator.clone().unwrap_or_default(),
        invoice_language: row.invoice_language.clone().unwrap_or_default(),
    });
    let today = today.to_string();
    let own_name = [
        row.given_names.clone().unwrap_or_default(),
        row.name.clone().unwrap_or_default(),
    ]
    .join(" ")
    .trim()
    .to_owned();
    pb::Subject {
        field_sources: record
            .field_sources
            .iter()
            .map(|f| pb::FieldSource {
                field: f.field.clone(),
                source: f.source.clone(),
                provenance_id: f.provenance_id.clone(),
                register_id: f.register_id.clone(),
                fetched_time: Some(timestamp(f.fetched_at)),
                applied_time: Some(timestamp(f.applied_at)),
            })
            .collect(),
        subject_id: row.id.clone(),
        kind: if is_organisation {
            pb::SubjectKind::Organisation
        } else {
            pb::SubjectKind::Person
        } as i32,
        person,
        organisation,
        memberships: record
            .memberships
            .iter()
            .map(|m| pb::RegisterMembership {
                register_id: m.register_id.clone(),
                basis: m.basis.clone(),
                start_date: m.start_date.clone(),
                end_date: m.end_date.clone().unwrap_or_default(),
            })
            .collect(),
        relationship: (row.relationship_start.is_some() || row.relationship_end.is_some()).then(
            || pb::Relationship {
                start_date: row.relationship_start.clone().unwrap_or_default(),
                end_date: row.relationship_end.clone().unwrap_or_default(),
            },
        ),
        services: record
            .services
            .iter()
            .map(|s| pb::ServiceRecord {
                service_key: s.service_key.clone(),
                description: s.description.clone(),
                ordered_date: s.ordered_date.clone().unwrap_or_default(),
                start_date: s.start_date.clone().unwrap_or_default(),
                end_date: s.end_date.clone().unwrap_or_default(),
                // ISO dates compare as strings.
                active: s.start_date.as_ref().is_some_and(|d| *d <= today)
                    && s.end_date.as_ref().is_none_or(|d| *d > today),
            })
            .collect(),
        billing,
        marketing: record
            .marketing
            .iter()
            .map(|m| pb::MarketingPreference {
                channel: Channel::parse(&m.channel).map_or(pb::Channel::Unspecified, |c| c.to_pb())
                    as i32,
                preference: if m.preference == "consented" {
                    pb::Preference::Consented
                } else {
                    pb::Preference::Prohibited
                } as i32,
                given_time: Some(timestamp(m.given_at)),
                given_how: m.given_how.clone(),
            })
            .collect(),
        interests: values("interest"),
        notes: record
            .notes
            .iter()
            .map(|n| pb::Note {
                note_id: n.id.clone(),
                text: n.text.clone(),
                time: Some(timestamp(n.created_at)),
                author: actor(&n.author),
            })
            .collect(),
        contacts: record
            .contacts
            .iter()
            .map(|(link, other)| {
                let (organisation_name, person_name) = if link.organisation_id == row.id {
                    (row.name.clone().unwrap_or_default(), other.clone())
                } else {
                    (other.clone(), own_name.clone())
                };
                pb::ContactLink {
                    organisation_id: link.organisation_id.clone(),
                    person_id: link.person_id.clone(),
                    role: ContactRole::to_pb(&link.role) as i32,
                    organisation_name,
                    person_name,
                }
            })
            .collect(),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        etag: record.etag(),
        notes_total: u32::try_from(record.notes_total).unwrap_or(u32::MAX),
        contacts_total: u32::try_from(record.contacts_total).unwrap_or(u32::MAX),
    }
}

pub fn access_entry(e: &access_log::Model) -> pb::AccessLogEntry {
    pb::AccessLogEntry {
        subject_id: e.subject_id.clone(),
        kind: match e.kind.as_str() {
            "reveal_identity_code" => pb::AccessKind::RevealIdentityCode,
            "export" => pb::AccessKind::Export,
            "erase" => pb::AccessKind::Erase,
            "find_by_identity_code" => pb::AccessKind::FindByIdentityCode,
            _ => pb::AccessKind::Unspecified,
        } as i32,
        actor: actor(&e.actor),
        reason: e.reason.clone(),
        time: Some(timestamp(e.created_at)),
    }
}
