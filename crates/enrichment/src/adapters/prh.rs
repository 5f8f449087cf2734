//! The Finnish business information system (PRH/YTJ), open data API v3:
//! `GET {base}/opendata-ytj-api/v3/companies?businessId=…`. Public, no credentials; its rate
//! limit (about 300 requests a minute) is shared by all its users, so the adapter keeps under a
//! configured rate and honours `429` with `Retry-After` (through [`crate::resilience`]).
//!
//! Mapping follows the real responses (`../shared/fixtures/prh/`): the current main name is
//! the type "1" name without an `endDate`; addresses of type 1 are visiting and 2 postal
//! addresses, with the Finnish post office name where there is one; a status is named only when
//! the register says it (a code we do not know leaves the status unspecified, never guessed).

use chrono::{DateTime, NaiveDateTime, Utc};
use futures::future::BoxFuture;
use rekisteri_identifiers::BusinessId;
use serde::Deserialize;

use super::{Adapter, AdapterError, Answer, Query};

#[derive(Debug, Clone)]
pub struct Prh {
    client: reqwest::Client,
    companies: url::Url,
}

impl Prh {
    pub fn new(client: reqwest::Client, base: &url::Url) -> Self {
        Self {
            client,
            companies: super::join(base, "opendata-ytj-api/v3/companies"),
        }
    }

    async fn company(&self, id: &BusinessId) -> Result<Answer, AdapterError> {
        let request = self
            .client
            .get(self.companies.clone())
            .query(&[("businessId", id.as_str())])
            .header(reqwest::header::ACCEPT, "application/json");
        let (status, body) = super::send(request, "request").await?;
        // The API answers an unknown ID with 200 and no companies. A 404 is a wrong address
        // (base URL, proxy), not an unknown company: reading it as "not found" would be a
        // wrong answer.
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(AdapterError::Misconfigured(
                "answered 404 for the companies endpoint: check enrichment.prh.base_url".into(),
            ));
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(AdapterError::Misconfigured(format!(
                "refused access ({status}); its open data needs no credentials: check enrichment.prh.base_url"
            )));
        }
        if !status.is_success() {
            return Err(AdapterError::Refused(format!(
                "refused the request ({status})"
            )));
        }
        let page: CompaniesPage = body.json("answer")?;
        if page.companies.is_empty() {
            return Ok(Answer::Business(None));
        }
        // Asked by business ID, PRH answers with that company: another one is not an answer.
        match page
            .companies
            .into_iter()
            .find(|c| c.business_id.value == id.as_str())
        {
            Some(company) => Ok(Answer::Business(Some(Business::from(company)))),
            None => Err(AdapterError::Malformed(format!(
                "answered with companies other than {}",
                id.as_str()
            ))),
        }
    }
}

impl Adapter for Prh {
    fn kind(&self) -> &'static str {
        "prh"
    }

    fn supports(&self, query: &Query) -> bool {
        matches!(query, Query::Business(_))
    }

    fn lookup<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, AdapterError>> {
        Box::pin(async move {
            match query {
                Query::Business(id) => self.company(id).await,
                _ => Err(AdapterError::Unsupported(
                    "PRH answers business lookups only".into(),
                )),
            }
        })
    }
}

/// What the business register says about a company, mapped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Business {
    pub business_id: String,
    /// The current main name; empty when the register gives none in force.
    pub name: String,
    pub other_names: Vec<String>,
    pub addresses: Vec<Address>,
    pub business_line_code: String,
    /// (language, text), language fi/sv/en.
    pub business_line: Vec<(String, String)>,
    pub company_form: Vec<(String, String)>,
    pub status: Status,
    /// The situations as the register names them, e.g. "SELTILA since 2025-03-01".
    pub situations: Vec<String>,
    pub registration_date: String,
    pub end_date: String,
    pub last_modified: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// The register's codes say nothing we can name.
    #[default]
    Unspecified,
    Active,
    Liquidation,
    Bankruptcy,
    Restructuring,
    Ceased,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Visiting,
    Postal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub kind: AddressKind,
    pub lines: Vec<String>,
    pub postal_code: String,
    pub post_office: String,
    /// ISO 3166-1 alpha-2 of a foreign address; empty for Finland.
    pub country_code: String,
}

#[derive(Debug, Deserialize)]
struct CompaniesPage {
    #[serde(default)]
    companies: Vec<Company>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Company {
    business_id: Registered,
    #[serde(default)]
    names: Vec<Name>,
    #[serde(default)]
    main_business_line: Option<BusinessLine>,
    #[serde(default)]
    company_forms: Vec<Coded>,
    #[serde(default)]
    company_situations: Vec<Situation>,
    #[serde(default)]
    addresses: Vec<RawAddress>,
    #[serde(default)]
    trade_register_status: Option<String>,
    #[serde(default)]
    registration_date: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Registered {
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Name {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    end_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Description {
    language_code: String,
    description: String,
}

#[derive(Debug, Deserialize)]
struct BusinessLine {
    #[serde(rename = "type")]
    code: String,
    #[serde(default)]
    descriptions: Vec<Description>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Coded {
    #[serde(default)]
    descriptions: Vec<Description>,
    #[serde(default)]
    end_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Situation {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    registration_date: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostOffice {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    language_code: Option<String>,
}

/// An address as PRH gives it. Text fields may be missing or `null`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAddress {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    street: Option<String>,
    #[serde(default)]
    building_number: Option<String>,
    #[serde(default)]
    entrance: Option<String>,
    #[serde(default)]
    apartment_number: Option<String>,
    #[serde(default)]
    apartment_id_suffix: Option<String>,
    #[serde(default)]
    co: Option<String>,
    #[serde(default)]
    post_office_box: Option<String>,
    #[serde(default)]
    post_code: Option<String>,
    #[serde(default)]
    post_offices: Vec<PostOffice>,
    /// A foreign address: the country, and the address as free text.
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    free_address_line: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().map(str::trim).unwrap_or_default()
}

/// PRH's language codes: 1 Finnish, 2 Swedish, 3 English.
fn language(code: &str) -> Option<&'static str> {
    match code {
        "1" => Some("fi"),
        "2" => Some("sv"),
        "3" => Some("en"),
        _ => None,
    }
}

fn texts(descriptions: &[Description]) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = descriptions
        .iter()
        .filter_map(|d| language(&d.language_code).map(|l| (l.to_owned(), d.description.clone())))
        .collect();
    texts.sort();
    texts
}

fn in_force(end_date: &Option<String>) -> bool {
    end_date.as_deref().is_none_or(|d| d.trim().is_empty())
}

impl RawAddress {
    /// The address as a Finnish letter writes it; `None` for one we cannot map faithfully (an
    /// unknown type, a foreign address without a two-letter country, or no lines at all).
    fn map(&self) -> Option<Address> {
        let kind = match self.kind {
            1 => AddressKind::Visiting,
            2 => AddressKind::Postal,
            _ => return None,
        };
        let country = text(&self.country).to_ascii_uppercase();
        let foreign = !country.is_empty() && country != "FI";
        let mut lines = Vec::new();
        if !text(&self.co).is_empty() {
            lines.push(format!("c/o {}", text(&self.co)));
        }
        let mut street = text(&self.street).to_owned();
        for part in [text(&self.building_number), text(&self.entrance)] {
            if !part.is_empty() {
                street = format!("{street} {part}");
            }
        }
        if !text(&self.apartment_number).is_empty() {
            street = format!(
                "{street} {}{}",
                text(&self.apartment_number),
                text(&self.apartment_id_suffix)
            );
        }
        if !street.trim().is_empty() {
            lines.push(street.trim().to_owned());
        }
        if !text(&self.post_office_box).is_empty() {
            // "PL" (postilokero) as a Finnish letter writes a PO box.
            lines.push(format!("PL {}", text(&self.post_office_box)));
        }
        if lines.is_empty() || foreign {
            lines.extend(
                text(&self.free_address_line)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        }
        if lines.is_empty()
            || (foreign && (country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase())))
        {
            return None;
        }
        let post_office = self
            .post_offices
            .iter()
            .find(|p| text(&p.language_code) == "1")
            .or(self.post_offices.first())
            .map(|p| text(&p.city).to_owned())
            .unwrap_or_default();
        Some(Address {
            kind,
            lines,
            postal_code: text(&self.post_code).to_owned(),
            post_office,
            country_code: if foreign { country } else { String::new() },
        })
    }
}

impl From<Company> for Business {
    fn from(c: Company) -> Self {
        let current = |n: &&Name| in_force(&n.end_date);
        let name = c
            .names
            .iter()
            .filter(current)
            .find(|n| n.kind == "1")
            .map(|n| n.name.clone())
            .unwrap_or_default();
        let other_names = c
            .names
            .iter()
            .filter(current)
            .filter(|n| n.kind == "2" || n.kind == "3")
            .map(|n| n.name.clone())
            .collect();
        let situations: Vec<&Situation> = c
            .company_situations
            .iter()
            .filter(|s| in_force(&s.end_date))
            .collect();
        let has = |kind: &str| situations.iter().any(|s| s.kind.eq_ignore_ascii_case(kind));
        let ended = !in_force(&c.end_date);
        let status = if ended || c.trade_register_status.as_deref() == Some("4") {
            Status::Ceased
        } else if has("KONK") {
            Status::Bankruptcy
        } else if has("SELTILA") {
            Status::Liquidation
        } else if has("SANE") {
            Status::Restructuring
        } else if c.trade_register_status.as_deref() == Some("1") {
            Status::Active
        } else {
            Status::Unspecified
        };
        let mut addresses: Vec<RawAddress> = c
            .addresses
            .into_iter()
            .filter(|a| in_force(&a.end_date))
            .collect();
        addresses.sort_by_key(|a| a.kind);
        let addresses: Vec<Address> = addresses.iter().filter_map(RawAddress::map).collect();
        Business {
            business_id: c.business_id.value,
            name,
            other_names,
            addresses,
            business_line_code: c
                .main_business_line
                .as_ref()
                .map(|l| l.code.clone())
                .unwrap_or_default(),
            business_line: c
                .main_business_line
                .as_ref()
                .map(|l| texts(&l.descriptions))
                .unwrap_or_default(),
            company_form: c
                .company_forms
                .iter()
                .find(|f| in_force(&f.end_date))
                .map(|f| texts(&f.descriptions))
                .unwrap_or_default(),
            status,
            situations: situations
                .iter()
                .map(|s| match &s.registration_date {
                    Some(date) => format!("{} since {date}", s.kind),
                    None => s.kind.clone(),
                })
                .collect(),
            registration_date: c.registration_date.unwrap_or_default(),
            end_date: c.end_date.unwrap_or_default(),
            // PRH gives local time without a zone; read as UTC would shift it, so it is read
            // as Finnish time only when it parses, and otherwise left out.
            last_modified: c.last_modified.as_deref().and_then(finnish_time),
        }
    }
}

/// "2026-05-04T07:31:50" in Finnish local time (UTC+2; UTC+3 in summer time, which runs from
/// 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October), as UTC.
fn finnish_time(text: &str) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok()?;
    let switch = |month: u32| {
        let mut day = chrono::NaiveDate::from_ymd_opt(local.year(), month, 31)?;
        while day.weekday() != chrono::Weekday::Sun {
            day = day.pred_opt()?;
        }
        day.and_hms_opt(1, 0, 0)
    };
    let (summer_from, summer_to) = (switch(3)?, switch(10)?);
    let as_summer = local - chrono::Duration::hours(3);
    let utc = if (summer_from..summer_to).contains(&as_summer) {
        as_summer
    } else {
        local - chrono::Duration::hours(2)
    };
    Some(utc.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real PRH responses (tests/fixtures/prh/README.md says where they come from).
    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/prh")
                .join(name),
        )
        .unwrap()
    }

    fn parse(name: &str) -> Vec<Business> {
        let page: CompaniesPage = serde_json::from_slice(&fixture(name)).unwrap();
        page.companies.into_iter().map(Business::from).collect()
    }

    #[test]
    fn nokia_maps_to_its_current_name_addresses_line_and_status() {
        let nokia = &parse("company-0112038-9.json")[0];
        assert_eq!(nokia.business_id, "0112038-9");
        assert_eq!(
            nokia.name, "Nokia Oyj",
            "the ended main name is not current"
        );
        assert!(!nokia.other_names.contains(&"Oy Nokia Ab".to_owned()));
        assert!(nokia.other_names.contains(&"Nokia Abp".to_owned()));
        assert!(nokia.other_names.contains(&"Vertu".to_owned()));
        assert_eq!(nokia.status, Status::Active);
        assert_eq!(nokia.business_line_code, "70100");
        assert!(
            nokia
                .business_line
                .contains(&("fi".into(), "Pääkonttorien toiminta".into()))
        );
        assert!(
            nokia
                .company_form
                .contains(&("fi".into(), "Julkinen osakeyhtiö".into()))
        );
        assert_eq!(
            nokia.addresses[0],
            Address {
                kind: AddressKind::Visiting,
                lines: vec!["Karakaari 7".into()],
                postal_code: "02610".into(),
                post_office: "ESPOO".into(),
                country_code: String::new(),
            }
        );
        assert_eq!(nokia.addresses[1].kind, AddressKind::Postal);
        assert_eq!(nokia.addresses[1].lines, ["PL 226"]);
        assert_eq!(nokia.addresses[1].post_office, "NOKIA GROUP");
        // 07:31:50 on 4 May in Finland (summer time) is 04:31:50 UTC.
        assert_eq!(
            nokia.last_modified.unwrap().to_rfc3339(),
            "2026-05-04T04:31:50+00:00"
        );
        // Around the switches (29 March and 25 October 2026, at 01:00 UTC).
        for (local, utc) in [
            ("2026-03-29T02:59:59", "2026-03-29T00:59:59+00:00"),
            ("2026-03-29T04:00:00", "2026-03-29T01:00:00+00:00"),
            ("2026-10-25T03:59:59", "2026-10-25T00:59:59+00:00"),
            ("2026-10-25T05:00:00", "2026-10-25T03:00:00+00:00"),
            ("2026-12-06T10:00:00", "2026-12-06T08:00:00+00:00"),
        ] {
            assert_eq!(finnish_time(local).unwrap().to_rfc3339(), utc, "{local}");
        }
    }

    #[test]
    fn liquidation_bankruptcy_and_ceased_are_named_as_such() {
        let mut company: serde_json::Value =
            serde_json::from_slice(&fixture("company-0112038-9.json")).unwrap();
        let one = &mut company["companies"][0];
        one["companySituations"] =
            serde_json::json!([{"type": "SELTILA", "registrationDate": "2025-03-01"}]);
        let page: CompaniesPage = serde_json::from_value(company.clone()).unwrap();
        let b = Business::from(page.companies.into_iter().next().unwrap());
        assert_eq!(b.status, Status::Liquidation);
        assert_eq!(b.situations, ["SELTILA since 2025-03-01"]);

        company["companies"][0]["companySituations"] = serde_json::json!([
            {"type": "SELTILA", "registrationDate": "2025-03-01"},
            {"type": "KONK", "registrationDate": "2025-06-01"}
        ]);
        let page: CompaniesPage = serde_json::from_value(company.clone()).unwrap();
        assert_eq!(
            Business::from(page.companies.into_iter().next().unwrap()).status,
            Status::Bankruptcy
        );

        company["companies"][0]["companySituations"] = serde_json::json!([]);
        company["companies"][0]["tradeRegisterStatus"] = "4".into();
        let page: CompaniesPage = serde_json::from_value(company.clone()).unwrap();
        assert_eq!(
            Business::from(page.companies.into_iter().next().unwrap()).status,
            Status::Ceased
        );

        // A code we do not know is not read as "active".
        company["companies"][0]["tradeRegisterStatus"] = "9".into();
        let page: CompaniesPage = serde_json::from_value(company).unwrap();
        assert_eq!(
            Business::from(page.companies.into_iter().next().unwrap()).status,
            Status::Unspecified
        );
    }

    #[test]
    fn foreign_null_and_unknown_addresses_are_mapped_faithfully_or_left_out() {
        let mut company: serde_json::Value =
            serde_json::from_slice(&fixture("company-0112038-9.json")).unwrap();
        company["companies"][0]["addresses"] = serde_json::json!([
            {"type": 2, "street": null, "postCode": "", "country": "SE",
             "freeAddressLine": "Box 123\nSE-111 22 Stockholm", "postOffices": []},
            {"type": 1, "street": "Karakaari", "buildingNumber": "7", "postCode": "02610",
             "postOffices": [{"city": null, "languageCode": "2"}, {"city": "ESPOO", "languageCode": "1"}]},
            {"type": 3, "street": "Tuntematon tyyppi 1", "postCode": "00100", "postOffices": []},
            {"type": 2, "country": "Sweden", "freeAddressLine": "Somewhere", "postOffices": []}
        ]);
        let page: CompaniesPage = serde_json::from_value(company).unwrap();
        let b = Business::from(page.companies.into_iter().next().unwrap());
        assert_eq!(b.addresses.len(), 2, "{:?}", b.addresses);
        assert_eq!(b.addresses[0].kind, AddressKind::Visiting);
        assert_eq!(b.addresses[0].post_office, "ESPOO");
        assert_eq!(b.addresses[1].lines, ["Box 123", "SE-111 22 Stockholm"]);
        assert_eq!(b.addresses[1].country_code, "SE");
    }

    #[test]
    fn a_search_page_maps_every_company() {
        let found = parse("search-supercell.json");
        assert_eq!(found.len(), 3);
        assert!(
            found
                .iter()
                .all(|b| !b.name.is_empty() && b.status == Status::Active)
        );
        assert_eq!(found[0].addresses[0].post_office, "HELSINKI");
    }
}
