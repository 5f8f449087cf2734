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
        let (status, body) = super::send(request, "PRH").await?;
        // The API answers an unknown ID with 200 and no companies. A 404 is a wrong address
        // (base URL, proxy), not an unknown company: reading it as "not found" would be a
        // wrong answer.
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(AdapterError::Refused(
                "PRH answered 404 for the companies endpoint: check enrichment.prh.base_url".into(),
            ));
        }
        if !status.is_success() {
            return Err(AdapterError::Refused(format!(
                "PRH refused the request ({status})"
            )));
        }
        let page: CompaniesPage = body.json("PRH")?;
        let company = page
            .companies
            .into_iter()
            .find(|c| c.business_id.value == id.as_str());
        Ok(Answer::Business(company.map(Business::from)))
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
    city: String,
    language_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAddress {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    street: String,
    #[serde(default)]
    building_number: String,
    #[serde(default)]
    entrance: String,
    #[serde(default)]
    apartment_number: String,
    #[serde(default)]
    apartment_id_suffix: String,
    #[serde(default)]
    co: String,
    #[serde(default)]
    post_office_box: String,
    #[serde(default)]
    post_code: String,
    #[serde(default)]
    post_offices: Vec<PostOffice>,
    #[serde(default)]
    end_date: Option<String>,
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

impl From<RawAddress> for Address {
    fn from(a: RawAddress) -> Self {
        let mut lines = Vec::new();
        if !a.co.trim().is_empty() {
            lines.push(format!("c/o {}", a.co.trim()));
        }
        let mut street = a.street.trim().to_owned();
        for part in [&a.building_number, &a.entrance] {
            if !part.trim().is_empty() {
                street = format!("{street} {}", part.trim());
            }
        }
        if !a.apartment_number.trim().is_empty() {
            street = format!(
                "{street} {}{}",
                a.apartment_number.trim(),
                a.apartment_id_suffix.trim()
            );
        }
        if !street.trim().is_empty() {
            lines.push(street.trim().to_owned());
        }
        if !a.post_office_box.trim().is_empty() {
            // "PL" (postilokero) as a Finnish letter writes a PO box.
            lines.push(format!("PL {}", a.post_office_box.trim()));
        }
        let post_office = a
            .post_offices
            .iter()
            .find(|p| p.language_code == "1")
            .or(a.post_offices.first())
            .map(|p| p.city.trim().to_owned())
            .unwrap_or_default();
        Address {
            kind: if a.kind == 2 {
                AddressKind::Postal
            } else {
                AddressKind::Visiting
            },
            lines,
            postal_code: a.post_code.trim().to_owned(),
            post_office,
        }
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
        Business {
            business_id: c.business_id.value,
            name,
            other_names,
            addresses: addresses.into_iter().map(Address::from).collect(),
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

/// "2026-05-04T07:31:50" in Finnish local time (UTC+2, +3 in summer), as UTC.
fn finnish_time(text: &str) -> Option<DateTime<Utc>> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok()?;
    // Summer time from the last Sunday of March to the last Sunday of October.
    use chrono::Datelike;
    let last_sunday = |month: u32| {
        let mut day = chrono::NaiveDate::from_ymd_opt(local.year(), month, 31)?;
        while day.weekday() != chrono::Weekday::Sun {
            day = day.pred_opt()?;
        }
        Some(day)
    };
    let summer = (last_sunday(3)?..last_sunday(10)?).contains(&local.date());
    let offset = if summer { 3 } else { 2 };
    Some((local - chrono::Duration::hours(offset)).and_utc())
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
