//! Requests parsed into typed disclosures: every invalid field reported at once.

use chrono::{DateTime, Duration, Utc};
use rekisteri_identifiers::BusinessId;
use rekisteri_platform::error::FieldViolations;
use rekisteri_proto::catalogue::v1::LegalBasis;
use rekisteri_proto::disclosures::v1 as pb;

/// Most disclosures one call may record (one transaction).
pub const MAX_BATCH: usize = 1000;
/// Most subjects one disclosure may name; a larger transfer is recorded in several entries.
pub const MAX_SUBJECTS: usize = 10_000;
/// How far ahead of the server's clock a disclosure time may be (clients' clocks drift).
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// A disclosure as recorded, before the log gives it a sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDisclosure {
    pub disclosure_id: Option<uuid::Uuid>,
    pub recipient_name: String,
    pub recipient_business_id: String,
    pub recipient_country: String,
    pub subject_ids: Vec<String>,
    pub register_id: String,
    pub register_version: u32,
    pub data_categories: Vec<String>,
    pub purpose: String,
    pub legal_basis: LegalBasis,
    pub channel: pb::Channel,
    pub disclosed_at: DateTime<Utc>,
    /// The disclosure time in microseconds when the caller gave one (a retry must give the same).
    pub disclosed_time_given: Option<i64>,
}

/// EU member states and the other EEA states (Iceland, Liechtenstein, Norway).
pub const EEA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// ISO 3166-1 alpha-2 codes in use.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI \
BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE \
DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS \
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW \
KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW \
MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO \
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM \
TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

pub fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split_whitespace().any(|c| c == code)
}

pub fn in_eea(code: &str) -> bool {
    EEA.contains(&code)
}

fn required_text(value: &str, path: &str, max: usize, v: &mut FieldViolations) -> String {
    let value = value.trim();
    if value.is_empty() {
        v.add(path, "required");
    } else if value.chars().count() > max {
        v.add(path, format!("at most {max} characters"));
    } else if value.chars().any(char::is_control) {
        v.add(path, "no control characters");
    }
    value.to_owned()
}

fn uuid_field(value: &str, path: &str, v: &mut FieldViolations) -> String {
    match uuid::Uuid::parse_str(value.trim()) {
        Ok(id) => id.to_string(),
        Err(_) => {
            v.add(
                path,
                "a UUID, as the customer service and the catalogue give them",
            );
            String::new()
        }
    }
}

/// Parses one disclosure of a request; `path` is its place, e.g. `disclosures[3]`.
pub fn disclosure(
    d: &pb::Disclosure,
    path: &str,
    now: DateTime<Utc>,
    v: &mut FieldViolations,
) -> NewDisclosure {
    let recipient = d.recipient.clone().unwrap_or_default();
    let recipient_name = required_text(&recipient.name, &format!("{path}.recipient.name"), 300, v);
    let country = recipient.country_code.trim().to_ascii_uppercase();
    if country.is_empty() {
        v.add(
            format!("{path}.recipient.country_code"),
            "required, e.g. FI or US",
        );
    } else if !is_country(&country) {
        v.add(
            format!("{path}.recipient.country_code"),
            format!(
                "`{}` is not an ISO 3166-1 alpha-2 country code",
                recipient.country_code
            ),
        );
    }
    let mut business_id = recipient.business_id.trim().to_owned();
    if !business_id.is_empty() {
        if country == "FI" {
            match BusinessId::parse(&business_id) {
                Ok(b) => business_id = b.to_string(),
                Err(e) => v.add(format!("{path}.recipient.business_id"), e.to_string()),
            }
        } else if business_id.chars().count() > 64 || business_id.chars().any(char::is_control) {
            v.add(
                format!("{path}.recipient.business_id"),
                "a registration number of at most 64 characters",
            );
        }
    }
    if d.subject_ids.is_empty() {
        v.add(format!("{path}.subject_ids"), "at least one data subject");
    } else if d.subject_ids.len() > MAX_SUBJECTS {
        v.add(
            format!("{path}.subject_ids"),
            format!("at most {MAX_SUBJECTS} subjects in one disclosure"),
        );
    }
    let mut subject_ids: Vec<String> = Vec::with_capacity(d.subject_ids.len());
    let mut seen = std::collections::HashSet::with_capacity(d.subject_ids.len());
    for (i, s) in d.subject_ids.iter().enumerate() {
        let id = uuid_field(s, &format!("{path}.subject_ids[{i}]"), v);
        if !id.is_empty() && !seen.insert(id.clone()) {
            v.add(format!("{path}.subject_ids[{i}]"), "named twice");
        }
        subject_ids.push(id);
    }
    let register_id = uuid_field(&d.register_id, &format!("{path}.register_id"), v);
    if d.register_version == 0 {
        v.add(
            format!("{path}.register_version"),
            "the published version the disclosure was made under (1 or more)",
        );
    }
    if d.data_categories.is_empty() {
        v.add(
            format!("{path}.data_categories"),
            "at least one category key",
        );
    }
    let data_categories: Vec<String> = d
        .data_categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let key = c.trim();
            if key.is_empty()
                || key.len() > 64
                || !key
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
            {
                v.add(
                    format!("{path}.data_categories[{i}]"),
                    "a category key of the register, e.g. contact_details",
                );
            }
            key.to_owned()
        })
        .collect();
    let purpose = required_text(&d.purpose, &format!("{path}.purpose"), 500, v);
    let legal_basis = match LegalBasis::try_from(d.legal_basis) {
        Ok(LegalBasis::Unspecified) | Err(_) => {
            v.add(
                format!("{path}.legal_basis"),
                "required, e.g. LEGAL_BASIS_CONTRACT",
            );
            LegalBasis::Unspecified
        }
        Ok(b) => b,
    };
    let channel = match pb::Channel::try_from(d.channel) {
        Ok(pb::Channel::Unspecified) | Err(_) => {
            v.add(format!("{path}.channel"), "required, e.g. CHANNEL_API");
            pb::Channel::Unspecified
        }
        Ok(c) => c,
    };
    let disclosed_at = match &d.disclosed_time {
        None => now,
        Some(t) => match u32::try_from(t.nanos)
            .ok()
            .filter(|n| *n < 1_000_000_000)
            .and_then(|n| DateTime::from_timestamp(t.seconds, n))
        {
            Some(at) if at <= now + CLOCK_SKEW => at,
            Some(_) => {
                v.add(format!("{path}.disclosed_time"), "in the future");
                now
            }
            None => {
                v.add(format!("{path}.disclosed_time"), "not a time");
                now
            }
        },
    };
    let disclosure_id = if d.disclosure_id.trim().is_empty() {
        None
    } else {
        match uuid::Uuid::parse_str(d.disclosure_id.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                v.add(format!("{path}.disclosure_id"), "a UUID, or empty");
                None
            }
        }
    };
    NewDisclosure {
        disclosure_id,
        recipient_name,
        recipient_business_id: business_id,
        recipient_country: country,
        subject_ids,
        register_id,
        register_version: d.register_version,
        data_categories,
        purpose,
        legal_basis,
        channel,
        // Microseconds: what the log stores, so that the leaf recomputes exactly.
        disclosed_at: DateTime::from_timestamp_micros(disclosed_at.timestamp_micros())
            .unwrap_or(disclosed_at),
        disclosed_time_given: d
            .disclosed_time
            .is_some()
            .then(|| disclosed_at.timestamp_micros()),
    }
}

pub fn batch(
    request: &pb::RecordDisclosuresRequest,
    now: DateTime<Utc>,
) -> Result<Vec<NewDisclosure>, rekisteri_platform::error::ServiceError> {
    let mut v = FieldViolations::new();
    if request.disclosures.is_empty() {
        v.add("disclosures", "at least one disclosure");
    } else if request.disclosures.len() > MAX_BATCH {
        v.add(
            "disclosures",
            format!("at most {MAX_BATCH} in one call (send the rest in another)"),
        );
        return v.into_result(Vec::new());
    }
    let parsed: Vec<NewDisclosure> = request
        .disclosures
        .iter()
        .enumerate()
        .map(|(i, d)| disclosure(d, &format!("disclosures[{i}]"), now, &mut v))
        .collect();
    let mut ids = std::collections::HashSet::new();
    for (i, d) in parsed.iter().enumerate() {
        if let Some(id) = d.disclosure_id
            && !ids.insert(id)
        {
            v.add(
                format!("disclosures[{i}].disclosure_id"),
                "named twice in this call",
            );
        }
    }
    v.into_result(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> pb::Disclosure {
        pb::Disclosure {
            recipient: Some(pb::Recipient {
                name: "Perintä Oy".into(),
                business_id: "2135102-9".into(),
                country_code: "fi".into(),
            }),
            subject_ids: vec![uuid::Uuid::now_v7().to_string()],
            register_id: uuid::Uuid::now_v7().to_string(),
            register_version: 1,
            data_categories: vec!["contact_details".into()],
            purpose: "Perintä".into(),
            legal_basis: LegalBasis::Contract as i32,
            channel: pb::Channel::Api as i32,
            disclosed_time: None,
            disclosure_id: String::new(),
        }
    }

    #[test]
    fn a_valid_disclosure_parses_and_normalises() {
        let mut v = FieldViolations::new();
        let d = disclosure(&valid(), "d", Utc::now(), &mut v);
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(d.recipient_country, "FI");
        assert_eq!(
            d.disclosed_at.timestamp_subsec_nanos() % 1000,
            0,
            "microseconds"
        );
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let mut bad = valid();
        bad.recipient = Some(pb::Recipient {
            name: " ".into(),
            business_id: "2135102-8".into(),
            country_code: "XX".into(),
        });
        bad.subject_ids = vec!["not-a-uuid".into()];
        bad.register_version = 0;
        bad.data_categories = vec!["Contact Details".into()];
        bad.legal_basis = 0;
        bad.channel = 99;
        bad.disclosed_time = Some(prost_types::Timestamp {
            seconds: Utc::now().timestamp() + 3600,
            nanos: 0,
        });
        let mut v = FieldViolations::new();
        disclosure(&bad, "disclosures[0]", Utc::now(), &mut v);
        let fields: Vec<String> = v.iter().map(|(f, _)| f.to_string()).collect();
        for field in [
            "disclosures[0].recipient.name",
            "disclosures[0].recipient.country_code",
            "disclosures[0].subject_ids[0]",
            "disclosures[0].register_version",
            "disclosures[0].data_categories[0]",
            "disclosures[0].legal_basis",
            "disclosures[0].channel",
            "disclosures[0].disclosed_time",
        ] {
            assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
        }
        // A Finnish business ID is checked (here the country was wrong, so it was not).
        let mut fi = valid();
        fi.recipient.as_mut().unwrap().business_id = "2135102-8".into();
        let mut v = FieldViolations::new();
        disclosure(&fi, "d", Utc::now(), &mut v);
        assert!(v.iter().any(|(f, _)| f == "d.recipient.business_id"));
    }

    #[test]
    fn the_eea_is_the_union_and_three_more() {
        assert_eq!(EEA.len(), 30);
        assert!(EEA.iter().all(|c| is_country(c)));
        assert!(in_eea("NO") && in_eea("FI") && !in_eea("GB") && !in_eea("US") && !in_eea("CH"));
    }
}
