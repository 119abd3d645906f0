//! `GET /_mock/stats`: the counters as JSON for tests written in any language.

mod common;

use common::{call, get_auth, get_bearer, refresh_pair, token};
use qonto_mock::{DEMO_CLIENT_ID, MockConfig, MockServer};
use serde_json::json;

#[test]
fn stats_count_token_calls_by_grant_type_and_api_calls_by_status() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let issued = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let refresh = issued.refresh_token.unwrap();
    assert_eq!(refresh_pair(&server, &refresh).status, 200);
    token(&server, &[("grant_type", "password")]);
    assert_eq!(
        get_bearer(&server, "/v2/organization", &issued.access_token).status,
        200
    );
    get_bearer(&server, "/v2/organization", "not-a-token");
    get_bearer(&server, "/v2/bank_accounts", "not-a-token");

    let stats = get_auth(&server, "/_mock/stats", "");
    assert_eq!(stats.status, 200);
    assert!(
        stats
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = stats.json();
    assert_eq!(
        body["token_calls"],
        json!({"refresh_token": 1, "password": 1})
    );
    assert_eq!(body["api_calls"], json!({"200": 1, "401": 2}));
    assert_eq!(
        body["api_calls_by_path"]["/v2/organization"],
        json!({"200": 1, "401": 1})
    );
    assert_eq!(body["total_requests"], 5);
    assert_eq!(server.stats().api_calls(401), 2);
    // Reading the stats is not counted and needs no credential.
    assert_eq!(get_auth(&server, "/_mock/stats", "").json(), body);
    // Read-only.
    let refused = call(&server, "POST", "/_mock/stats", &[], b"x");
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("GET"));
}
