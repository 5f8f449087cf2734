//! Retries, `Retry-After`, the circuit breaker and the coalescing cache, the same for every
//! source (shown here with PRH's adapter).

use std::time::{Duration, Instant};

use rekisteri_enrichment::adapters::prh::Prh;
use rekisteri_enrichment::adapters::{Answer, Query};
use rekisteri_enrichment::resilience::{CallError, Circuit};
use rekisteri_identifiers::BusinessId;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{client, fixture, guarded, policy};

fn nokia() -> Query {
    Query::Business(BusinessId::parse("0112038-9").unwrap())
}

fn company() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_raw(fixture("prh/company-0112038-9.json"), "application/json")
}

async fn calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn a_5xx_is_retried_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(company())
        .mount(&server)
        .await;
    let source = guarded(Prh::new(client(), &server.uri().parse().unwrap()), policy());
    let fetched = source.call(&nokia()).await.unwrap();
    assert!(matches!(fetched.answer.as_ref(), Answer::Business(Some(_))));
    assert_eq!(calls(&server).await, 3, "two 500s, then the answer");
    assert_eq!(source.circuit().0, Circuit::Closed);
}

#[tokio::test]
async fn retry_after_is_waited_out_when_short_and_fails_fast_when_long() {
    let server = MockServer::start().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(company())
        .mount(&server)
        .await;
    let source = guarded(Prh::new(client(), &server.uri().parse().unwrap()), policy());
    let started = Instant::now();
    source.call(&nokia()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited the second it asked for"
    );
    assert_eq!(calls(&server).await, 2);

    // A minute is longer than a call may wait: the call fails at once, and so does the next
    // one, without asking the source, until the minute is over.
    let server = MockServer::start().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .mount(&server)
        .await;
    let source = guarded(Prh::new(client(), &server.uri().parse().unwrap()), policy());
    let started = Instant::now();
    assert!(source.call(&nokia()).await.is_err());
    assert!(source.call(&nokia()).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        calls(&server).await,
        1,
        "the pause kept the second call home"
    );
    assert_eq!(
        source.circuit().0,
        Circuit::Closed,
        "being asked to wait is not a failure"
    );
}

#[tokio::test]
async fn calls_during_a_short_pause_wait_it_out_without_asking_the_source() {
    let server = MockServer::start().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(company())
        .mount(&server)
        .await;
    let mut policy = policy();
    policy.retries = 0;
    let source = guarded(Prh::new(client(), &server.uri().parse().unwrap()), policy);
    // No retries: the first call fails on the 429 and leaves a second's pause behind.
    assert!(source.call(&nokia()).await.is_err());
    let paused_at = Instant::now();
    // Calls made during the pause wait until it ends before they ask.
    let query = nokia();
    let calls_now: Vec<_> = (0..3).map(|_| source.call(&query)).collect();
    for fetched in futures::future::join_all(calls_now).await {
        fetched.unwrap();
    }
    assert!(paused_at.elapsed() >= Duration::from_millis(900));
    let asked: Vec<_> = server.received_requests().await.unwrap();
    assert_eq!(asked.len(), 4, "the 429, then the three after the pause");
}

#[tokio::test]
async fn a_failing_probe_opens_the_breaker_again() {
    let server = MockServer::start().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let mut policy = policy();
    policy.retries = 0;
    let source = guarded(Prh::new(client(), &server.uri().parse().unwrap()), policy);
    for _ in 0..3 {
        assert!(source.call(&nokia()).await.is_err());
    }
    assert_eq!(source.circuit().0, Circuit::Open);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The probe fails: open again at once, for another cool-down.
    assert!(matches!(
        source.call(&nokia()).await,
        Err(CallError::Adapter(_))
    ));
    assert_eq!(source.circuit().0, Circuit::Open);
    assert!(matches!(
        source.call(&nokia()).await,
        Err(CallError::CircuitOpen(_))
    ));
    assert_eq!(calls(&server).await, 4);
}

#[tokio::test]
async fn timeouts_and_malformed_answers_open_the_breaker_and_a_probe_closes_it() {
    let server = MockServer::start().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(company().set_delay(Duration::from_secs(2)))
        .up_to_n_times(3)
        .mount(&server)
        .await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("<html>maintenance</html>", "text/html"),
        )
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(company())
        .mount(&server)
        .await;
    let source = guarded(Prh::new(client(), &server.uri().parse().unwrap()), policy());
    // One call: a timeout, retried twice, each timing out (500 ms each).
    let timed_out = source.call(&nokia()).await.unwrap_err();
    assert!(
        timed_out.to_string().contains("no answer within 500 ms"),
        "{timed_out}"
    );
    assert_eq!(calls(&server).await, 3);
    // Malformed answers are not retried: one call each.
    for _ in 0..2 {
        let malformed = source.call(&nokia()).await.unwrap_err();
        assert!(malformed.to_string().contains("unreadable"), "{malformed}");
    }
    assert_eq!(calls(&server).await, 5);
    // Three failures in a row: open; the source is not asked.
    assert_eq!(source.circuit().0, Circuit::Open);
    let open = source.call(&nokia()).await.unwrap_err();
    assert!(matches!(open, CallError::CircuitOpen(_)), "{open}");
    assert_eq!(calls(&server).await, 5);
    // After the cool-down one probe goes through, succeeds, and closes it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(source.circuit().0, Circuit::HalfOpen);
    source.call(&nokia()).await.unwrap();
    assert_eq!(source.circuit().0, Circuit::Closed);
    assert_eq!(calls(&server).await, 6);
}

#[tokio::test]
async fn concurrent_identical_lookups_make_one_call_and_the_cache_answers_later_ones() {
    let server = MockServer::start().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(company().set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    let mut policy = policy();
    policy.cache_lifetime = Duration::from_secs(60);
    let source = guarded(Prh::new(client(), &server.uri().parse().unwrap()), policy);
    let query = nokia();
    let lookups: Vec<_> = (0..20).map(|_| source.call(&query)).collect();
    let fetched = futures::future::join_all(lookups).await;
    assert!(fetched.iter().all(|f| f.is_ok()));
    assert_eq!(
        calls(&server).await,
        1,
        "20 concurrent lookups, one upstream call"
    );
    let fresh = fetched
        .iter()
        .filter(|f| !f.as_ref().unwrap().cached)
        .count();
    assert_eq!(
        fresh, 1,
        "one of them made the call; the others waited for it"
    );
    let later = source.call(&nokia()).await.unwrap();
    assert!(later.cached);
    assert_eq!(later.fetched_at, fetched[0].as_ref().unwrap().fetched_at);
    assert_eq!(calls(&server).await, 1);
    // Failures are not cached.
    let other = Query::Business(BusinessId::parse("2135102-9").unwrap());
    server.reset().await;
    Mock::given(path("/opendata-ytj-api/v3/companies"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&server)
        .await;
    assert!(source.call(&other).await.is_err());
    assert!(source.call(&other).await.is_err());
    assert_eq!(calls(&server).await, 2);
}
