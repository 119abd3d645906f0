//! Qonto's rate limits, on the mock clock: 1,000 requests per 10 s and 10,000 per 10 min per
//! address, 429s after more than 200 401s within an hour, and no `Retry-After` unless asked.

mod common;

use std::time::Duration;

use common::{Client, build_request, org_request};
use qonto_mock::{MockConfig, MockServer, RateLimit, RetryAfter, UnauthorizedThrottle};

fn bad_key_request() -> Vec<u8> {
    build_request("GET", "/v2/organization", &[("Authorization", "x:y")], b"")
}

fn qonto_limited() -> MockServer {
    MockServer::start(MockConfig::default().with_qonto_rate_limits()).expect("start")
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[test]
fn the_qonto_limits_are_the_documented_ones() {
    let config = MockConfig::default().with_qonto_rate_limits();
    assert_eq!(
        config.rate_limits,
        [
            RateLimit {
                max_requests: 1000,
                window: Duration::from_secs(10)
            },
            RateLimit {
                max_requests: 10_000,
                window: Duration::from_secs(600)
            },
        ]
    );
    assert_eq!(
        config.unauthorized_throttle,
        Some(UnauthorizedThrottle {
            max_unauthorized: 200,
            window: Duration::from_secs(3600)
        })
    );
    // Off by default, so load tests and benchmarks are not throttled.
    let default = MockConfig::default();
    assert!(default.rate_limits.is_empty() && default.unauthorized_throttle.is_none());
    assert_eq!(default.retry_after, RetryAfter::Omit);
}

#[test]
fn a_thousand_requests_per_ten_seconds() {
    let server = qonto_limited();
    let mut client = Client::connect(server.addr());
    let org = org_request();
    assert_eq!(count(&client.burst(&org, 1000), 200), 1000);
    let resp = client.send_raw(&org).unwrap();
    assert_eq!(resp.status, 429);
    assert_eq!(resp.api_error_code(), "too_many_requests");
    assert!(resp.header("Retry-After").is_none(), "Qonto documents none");
    server.clock().advance(Duration::from_secs(10));
    assert_eq!(client.send_raw(&org).unwrap().status, 200);
}

#[test]
fn ten_thousand_requests_per_ten_minutes() {
    let server = qonto_limited();
    let mut client = Client::connect(server.addr());
    let org = org_request();
    // Ten short windows of 1,000, all inside one long window (the clock moves 10 s per round).
    for round in 0..10 {
        if round > 0 {
            server.clock().advance(Duration::from_secs(10));
        }
        let statuses = client.burst(&org, 1000);
        assert_eq!(count(&statuses, 200), 1000, "round {round}");
    }
    server.clock().advance(Duration::from_secs(10));
    let resp = client.send_raw(&org).unwrap();
    assert_eq!(resp.status, 429, "the 10,001st request within 10 minutes");
    assert!(
        resp.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("600 s")
    );
    assert!(resp.header("Retry-After").is_none());
    // The long window started about 100 s ago on the mock clock.
    server.clock().advance(Duration::from_secs(500));
    assert_eq!(client.send_raw(&org).unwrap().status, 200);
}

#[test]
fn more_than_200_unauthorized_answers_an_hour_throttle_the_address() {
    let server = qonto_limited();
    let mut client = Client::connect(server.addr());
    let (org, bad) = (org_request(), bad_key_request());
    assert_eq!(count(&client.burst(&bad, 200), 401), 200);
    // 200 are tolerated; the 201st is still answered, and from then on the address waits.
    assert_eq!(client.send_raw(&org).unwrap().status, 200);
    assert_eq!(client.send_raw(&bad).unwrap().status, 401);
    let resp = client.send_raw(&org).unwrap();
    assert_eq!(resp.status, 429, "a good request is throttled too");
    assert_eq!(resp.api_error_code(), "too_many_requests");
    assert!(
        resp.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("401")
    );
    assert!(resp.header("Retry-After").is_none());
    // Throttled answers are 429s, not 401s, so they do not extend the throttle.
    assert_eq!(count(&client.burst(&bad, 10), 429), 10);
    server.clock().advance(Duration::from_secs(3599));
    assert_eq!(client.send_raw(&org).unwrap().status, 429);
    server.clock().advance(Duration::from_secs(1));
    assert_eq!(client.send_raw(&org).unwrap().status, 200);
}

#[test]
fn the_throttle_slides_over_the_hour() {
    let throttle = UnauthorizedThrottle {
        max_unauthorized: 2,
        window: Duration::from_secs(3600),
    };
    let server = MockServer::start(MockConfig::default().with_unauthorized_throttle(throttle))
        .expect("start");
    let mut client = Client::connect(server.addr());
    let (org, bad) = (org_request(), bad_key_request());
    assert_eq!(client.send_raw(&bad).unwrap().status, 401);
    server.clock().advance(Duration::from_secs(1800));
    assert_eq!(client.burst(&bad, 2), [401, 401]);
    assert_eq!(client.send_raw(&org).unwrap().status, 429);
    // The first 401 ages out after an hour; two within the hour are tolerated.
    server.clock().advance(Duration::from_secs(1800));
    assert_eq!(client.send_raw(&org).unwrap().status, 200);
}

#[test]
fn retry_after_only_when_configured() {
    let tiny = RateLimit {
        max_requests: 1,
        window: Duration::from_secs(10),
    };
    for (retry_after, expected) in [
        (RetryAfter::Omit, None),
        (RetryAfter::Seconds(7), Some("7")),
        (RetryAfter::UntilReset, Some("10")),
    ] {
        let server = MockServer::start(
            MockConfig::default()
                .with_rate_limit(tiny)
                .with_retry_after(retry_after),
        )
        .expect("start");
        let mut client = Client::connect(server.addr());
        assert_eq!(client.burst(&org_request(), 2), [200, 429]);
        server.clock().advance(Duration::from_millis(100));
        let resp = client.send_raw(&org_request()).unwrap();
        assert_eq!(resp.status, 429);
        assert_eq!(resp.header("Retry-After"), expected, "{retry_after:?}");
    }
}
