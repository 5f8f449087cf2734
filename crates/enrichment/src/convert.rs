//! Between the domain types and protobuf.

use chrono::{DateTime, Utc};
use rekisteri_proto::common::v1 as common;
use rekisteri_proto::enrichment::v1 as pb;

use crate::adapters::contacts::CompanyContacts;
use crate::adapters::prh::{Address, AddressKind, Business, Status};
use crate::entity::provenance;
use crate::resilience::Circuit;

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

pub fn postal_address(a: &Address) -> common::PostalAddress {
    common::PostalAddress {
        lines: a.lines.clone(),
        postal_code: a.postal_code.clone(),
        post_office: a.post_office.clone(),
        country_code: a.country_code.clone(),
    }
}

fn texts(texts: &[(String, String)]) -> Vec<pb::LocalisedText> {
    texts
        .iter()
        .map(|(language, text)| pb::LocalisedText {
            language: language.clone(),
            text: text.clone(),
        })
        .collect()
}

pub fn business(b: &Business) -> pb::Business {
    pb::Business {
        business_id: Some(common::BusinessId {
            value: b.business_id.clone(),
        }),
        name: b.name.clone(),
        other_names: b.other_names.clone(),
        addresses: b
            .addresses
            .iter()
            .map(|a| pb::BusinessAddress {
                kind: match a.kind {
                    AddressKind::Visiting => pb::business_address::Kind::Visiting,
                    AddressKind::Postal => pb::business_address::Kind::Postal,
                } as i32,
                address: Some(postal_address(a)),
            })
            .collect(),
        business_line_code: b.business_line_code.clone(),
        business_line: texts(&b.business_line),
        company_form: texts(&b.company_form),
        status: match b.status {
            Status::Unspecified => pb::BusinessStatus::Unspecified,
            Status::Active => pb::BusinessStatus::Active,
            Status::Liquidation => pb::BusinessStatus::Liquidation,
            Status::Bankruptcy => pb::BusinessStatus::Bankruptcy,
            Status::Restructuring => pb::BusinessStatus::Restructuring,
            Status::Ceased => pb::BusinessStatus::Ceased,
        } as i32,
        situations: b.situations.clone(),
        registration_date: b.registration_date.clone(),
        end_date: b.end_date.clone(),
        last_modified_time: b.last_modified.map(timestamp),
    }
}

pub fn contacts(c: &CompanyContacts) -> pb::CompanyContacts {
    pb::CompanyContacts {
        decision_makers: c
            .decision_makers
            .iter()
            .map(|(name, title)| pb::DecisionMaker {
                name: name.clone(),
                title: title.clone(),
            })
            .collect(),
        industry: c.industry.clone(),
        revenue_eur: c.revenue_eur,
        offices: c
            .offices
            .iter()
            .map(|(street, postal_code, city)| common::PostalAddress {
                lines: vec![street.clone()],
                postal_code: postal_code.clone(),
                post_office: city.clone(),
                country_code: String::new(),
            })
            .collect(),
    }
}

pub fn provenance(p: &provenance::Model) -> pb::Provenance {
    pb::Provenance {
        provenance_id: p.provenance_id.clone(),
        source: p.source.clone(),
        fetched_time: Some(timestamp(p.fetched_at)),
        cached: p.cached,
        register_id: p.register_id.clone(),
        subject_id: p.subject_id.clone(),
        reference: p.reference.clone(),
        requested_by: p.requested_by.clone(),
        fields: p.fields.split_whitespace().map(str::to_owned).collect(),
    }
}

pub fn circuit(c: Circuit) -> pb::CircuitState {
    match c {
        Circuit::Closed => pb::CircuitState::Closed,
        Circuit::Open => pb::CircuitState::Open,
        Circuit::HalfOpen => pb::CircuitState::HalfOpen,
    }
}
