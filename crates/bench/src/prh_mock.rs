//! A stand-in for PRH's open data API (v3), a process of the harness's own so that its CPU time
//! is its own: every business ID gets Nokia's real record (captured from the live API) with the
//! ID written in, so that each lookup of a new ID is a cache miss with a real-sized answer.

use std::net::SocketAddr;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Nokia Oyj's record as PRH answered `?businessId=0112038-9`.
const NOKIA: &str = include_str!("../../enrichment/tests/fixtures/prh/company-0112038-9.json");

struct AnyCompany;

impl Respond for AnyCompany {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "businessId")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_raw(NOKIA.replace("0112038-9", &id), "application/json")
    }
}

/// Serves until killed.
pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(listen)?;
    // No request journal: a benchmark sends millions, and the journal would keep them all.
    let server = MockServer::builder()
        .listener(listener)
        .disable_request_recording()
        .start()
        .await;
    Mock::given(method("GET"))
        .and(path("/opendata-ytj-api/v3/companies"))
        .respond_with(AnyCompany)
        .mount(&server)
        .await;
    std::future::pending::<()>().await;
    Ok(())
}

/// The `n`th valid business ID from 1000000 on: the Y-tunnus check digit (weights 7, 9, 10, 5,
/// 8, 4, 2, mod 11; a remainder of 1 gives no valid ID, so that number is skipped).
pub fn business_id(n: u64) -> String {
    let mut number = 1_000_000 + n * 2;
    loop {
        let digits: Vec<u64> = format!("{number:07}")
            .bytes()
            .map(|b| u64::from(b - b'0'))
            .collect();
        let sum: u64 = digits
            .iter()
            .zip([7, 9, 10, 5, 8, 4, 2])
            .map(|(d, w)| d * w)
            .sum();
        match sum % 11 {
            0 => return format!("{number:07}-0"),
            1 => number += 1,
            r => return format!("{number:07}-{}", 11 - r),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_business_ids_are_valid_and_distinct() {
        let ids: Vec<String> = (0..1000).map(super::business_id).collect();
        for id in &ids {
            rekisteri_identifiers::BusinessId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
