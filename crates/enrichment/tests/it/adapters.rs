//! Each adapter against a local server speaking its source's format.

use rekisteri_enrichment::adapters::contacts::Contacts;
use rekisteri_enrichment::adapters::credit::{
    Credit, CreditQuery, CreditTarget, Purpose, checksum,
};
use rekisteri_enrichment::adapters::prh::{Prh, Status};
use rekisteri_enrichment::adapters::{Adapter, AdapterError, Answer, Query};
use rekisteri_enrichment::config::Secret;
use rekisteri_identifiers::BusinessId;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::{client, fixture};

fn nokia() -> BusinessId {
    BusinessId::parse("0112038-9").unwrap()
}

async fn prh_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/opendata-ytj-api/v3/companies"))
        .and(query_param("businessId", "0112038-9"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("prh/company-0112038-9.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/opendata-ytj-api/v3/companies"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("prh/not-found.json"), "application/json"),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn prh_returns_the_current_name_address_line_and_status() {
    let server = prh_server().await;
    let prh = Prh::new(client(), &server.uri().parse().unwrap());
    let Answer::Business(Some(b)) = prh.lookup(&Query::Business(nokia())).await.unwrap() else {
        panic!("Nokia is found");
    };
    assert_eq!(b.name, "Nokia Oyj");
    assert_eq!(b.status, Status::Active);
    assert_eq!(b.business_line_code, "70100");
    assert_eq!(b.addresses[0].lines, ["Karakaari 7"]);
    assert_eq!(b.addresses[0].post_office, "ESPOO");

    // An unknown business ID is "not found", not an error.
    let unknown = BusinessId::parse("2135102-9").unwrap();
    assert_eq!(
        prh.lookup(&Query::Business(unknown)).await.unwrap(),
        Answer::Business(None)
    );
    // A wrong base URL (the server answers 404) is an error naming the setting, never "not
    // found".
    let wrong: url::Url = format!("{}/proxy/", server.uri()).parse().unwrap();
    let prh = Prh::new(client(), &wrong);
    match prh.lookup(&Query::Business(nokia())).await {
        Err(AdapterError::Misconfigured(why)) => assert!(why.contains("base_url"), "{why}"),
        other => panic!("a 404 is not an answer: {other:?}"),
    }
}

#[tokio::test]
async fn prh_errors_are_sorted_by_whether_a_retry_can_help() {
    let server = MockServer::start().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .and(query_param("businessId", "0112038-9"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .mount(&server)
        .await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .and(query_param("businessId", "2135102-9"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("{\"companies\": [", "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let prh = Prh::new(client(), &server.uri().parse().unwrap());
    match prh.lookup(&Query::Business(nokia())).await {
        Err(AdapterError::Transient { retry_after, .. }) => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)))
        }
        other => panic!("429 is transient with its Retry-After: {other:?}"),
    }
    let malformed = prh
        .lookup(&Query::Business(BusinessId::parse("2135102-9").unwrap()))
        .await;
    assert!(
        matches!(malformed, Err(AdapterError::Malformed(_))),
        "{malformed:?}"
    );
    let failing = prh
        .lookup(&Query::Business(BusinessId::parse("0244683-1").unwrap()))
        .await;
    assert!(
        matches!(
            failing,
            Err(AdapterError::Transient {
                retry_after: None,
                ..
            })
        ),
        "{failing:?}"
    );
}

#[tokio::test]
async fn credit_requests_are_signed_and_need_a_purpose() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/credit-checks"))
        .and(|request: &Request| {
            // The server checks the checksum as the real source would.
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            let expected = checksum(
                body["userid"].as_str().unwrap(),
                body["enduser"].as_str().unwrap(),
                body["timestamp"].as_str().unwrap(),
                "shared-key",
            );
            body["checksum"] == expected.as_str()
                && body["purpose"] == "credit_granting"
                && body["businessId"] == "0112038-9"
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "found": true,
            "creditClass": 4,
            "score": 81,
            "paymentDefaults": [{"type": "maksuhäiriö", "date": "2025-02-01"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let credit = Credit::new(
        client(),
        &server.uri().parse().unwrap(),
        "rekisteri".into(),
        "tester".into(),
        Secret::new("shared-key"),
    );
    let query = |purpose| {
        Query::Credit(CreditQuery {
            target: CreditTarget::Business("0112038-9".into()),
            purpose,
        })
    };
    let refused = credit.lookup(&query(None)).await;
    assert!(
        matches!(&refused, Err(AdapterError::Unsupported(why)) if why.contains("purpose")),
        "{refused:?}"
    );
    let Answer::Credit(report) = credit
        .lookup(&query(Some(Purpose::CreditGranting)))
        .await
        .unwrap()
    else {
        panic!("a credit report");
    };
    assert_eq!((report.credit_class, report.score), (Some(4), Some(81)));
    assert_eq!(report.payment_defaults, ["maksuhäiriö 2025-02-01"]);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "the query without a purpose made no call"
    );
}

#[tokio::test]
async fn contact_data_caches_its_token_and_fetches_a_new_one_once_on_401() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", "Basic Y2xpZW50OnNlY3JldA=="))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"access_token": "revoked", "expires_in": 3600})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"access_token": "fresh", "expires_in": 3600})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v1/companies"))
        .and(header("authorization", "Bearer revoked"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/v1/companies"))
        .and(header("authorization", "Bearer fresh"))
        .and(query_param("businessId", "0112038-9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "companies": [{
                "businessId": "0112038-9",
                "decisionMakers": [{"name": "Justin Hotard", "title": "toimitusjohtaja"}],
                "industry": {"name": "Televiestintälaitteet"},
                "revenue": {"amount": 19220000000i64, "currency": "EUR"},
                "offices": [{"street": "Karakaari 7", "postalCode": "02610", "city": "ESPOO"}]
            }]
        })))
        .mount(&server)
        .await;
    Mock::given(path("/v1/companies"))
        .and(header("authorization", "Bearer fresh"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"companies": []})),
        )
        .mount(&server)
        .await;
    let contacts = Contacts::new(
        client(),
        &server.uri().parse().unwrap(),
        format!("{}/oauth/token", server.uri()).parse().unwrap(),
        "client".into(),
        Secret::new("secret"),
    );
    let Answer::Contacts(Some(c)) = contacts.lookup(&Query::Contacts(nokia())).await.unwrap()
    else {
        panic!("found with the fresh token");
    };
    assert_eq!(
        c.decision_makers,
        [("Justin Hotard".into(), "toimitusjohtaja".into())]
    );
    assert_eq!(c.revenue_eur, 19_220_000_000);
    let unknown = BusinessId::parse("2135102-9").unwrap();
    assert_eq!(
        contacts.lookup(&Query::Contacts(unknown)).await.unwrap(),
        Answer::Contacts(None)
    );
    let tokens = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .count();
    assert_eq!(
        tokens, 2,
        "one token, one refresh after the 401, then the cached one"
    );
}
