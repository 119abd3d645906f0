//! Business API: API-key and bearer authentication, scopes, routes, pagination, trace ids.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{api_key, call, get_auth, get_bearer};
use qonto_mock::{DEMO_CLIENT_ID, DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};

fn server() -> MockServer {
    MockServer::start(MockConfig::default()).expect("start")
}

#[test]
fn api_key_exact_format_is_accepted() {
    let server = server();
    let resp = get_auth(&server, "/v2/organization", &api_key());
    assert_eq!(resp.status, 200);
    let org = &resp.json()["organization"];
    assert_eq!(org["slug"], "demo-org-1234");
    assert_eq!(org["bank_accounts"].as_array().unwrap().len(), 3);
    assert!(
        resp.header("Content-Type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(resp.trace_id().len(), 32);
    assert!(resp.trace_id().bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn api_key_mistakes_are_401() {
    let server = server();
    let b64 = base64::engine::general_purpose::STANDARD.encode(api_key());
    let wrong = [
        format!("Basic {b64}"),
        format!("Basic {}", api_key()),
        format!("Bearer {}", api_key()),
        b64,
        format!("{DEMO_SECRET}:{DEMO_LOGIN}"),
        format!(" {}", api_key()),
        format!("{} ", api_key()),
        format!("{DEMO_LOGIN}: {DEMO_SECRET}"),
        format!("{DEMO_LOGIN} :{DEMO_SECRET}"),
        format!("{DEMO_LOGIN}{DEMO_SECRET}"),
        format!("{DEMO_LOGIN}:wrong-secret"),
    ];
    for value in &wrong {
        let resp = get_auth(&server, "/v2/organization", value);
        assert_eq!(resp.status, 401, "{value:?}");
        assert_eq!(resp.api_error_code(), "unauthorized", "{value:?}");
    }
    let resp = call(&server, "GET", "/v2/organization", &[], b"");
    assert_eq!(resp.status, 401);
    assert_eq!(resp.api_error_code(), "unauthorized");
}

#[test]
fn trace_id_is_fresh_and_matches_body() {
    let server = server();
    let a = get_auth(&server, "/v2/organization", "nope");
    let b = get_auth(&server, "/v2/organization", "nope");
    assert_eq!(a.json()["trace_id"], a.trace_id());
    assert_eq!(b.json()["trace_id"], b.trace_id());
    assert_ne!(a.trace_id(), b.trace_id());
}

#[test]
fn bearer_tokens_valid_expired_and_refresh_as_bearer() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    assert!(tokens.access_token.starts_with("ory_at_"));
    assert_eq!(tokens.expires_in, 3600);
    let refresh = tokens.refresh_token.clone().expect("refresh token");
    assert!(refresh.starts_with("ory_rt_"));

    assert_eq!(
        get_bearer(&server, "/v2/organization", &tokens.access_token).status,
        200
    );
    // Lowercase scheme is tolerated.
    let lower = format!("bearer {}", tokens.access_token);
    assert_eq!(get_auth(&server, "/v2/organization", &lower).status, 200);
    // Token without the scheme is neither an API key nor a bearer token.
    assert_eq!(
        get_auth(&server, "/v2/organization", &tokens.access_token).status,
        401
    );
    // A refresh token is not an access token.
    let resp = get_bearer(&server, "/v2/organization", &refresh);
    assert_eq!(resp.status, 401);
    assert_eq!(resp.api_error_code(), "unauthorized");
    // Unknown token.
    assert_eq!(
        get_bearer(&server, "/v2/organization", "ory_at_unknown").status,
        401
    );

    server.clock().advance(Duration::from_secs(3599));
    assert_eq!(
        get_bearer(&server, "/v2/organization", &tokens.access_token).status,
        200
    );
    server.clock().advance(Duration::from_secs(1));
    let resp = get_bearer(&server, "/v2/organization", &tokens.access_token);
    assert_eq!(resp.status, 401);
    assert!(
        resp.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[test]
fn missing_scope_is_403_naming_it() {
    let server = server();
    let membership = server.issue_tokens(DEMO_CLIENT_ID, "membership.read");
    let organization = server.issue_tokens(DEMO_CLIENT_ID, "organization.read");
    for (path, token, scope) in [
        ("/v2/organization", &membership, "organization.read"),
        ("/v2/bank_accounts", &membership, "organization.read"),
        ("/v2/membership", &organization, "membership.read"),
    ] {
        let resp = get_bearer(&server, path, &token.access_token);
        assert_eq!(resp.status, 403, "{path}");
        assert_eq!(resp.api_error_code(), "forbidden");
        let detail = resp.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains(scope), "{detail}");
    }
}

/// Qonto's scopes page: `GET /v2/membership` needs `membership.read`, and
/// `organization.read` alone does not give it.
#[test]
fn membership_needs_membership_read() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "membership.read");
    let resp = get_bearer(&server, "/v2/membership", &tokens.access_token);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["membership"]["role"], "owner");
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let resp = get_bearer(&server, "/v2/membership", &tokens.access_token);
    assert_eq!(resp.status, 403);
    // An API key has no scopes and keeps its access.
    assert_eq!(get_auth(&server, "/v2/membership", &api_key()).status, 200);
}

#[test]
fn not_found_and_method_not_allowed() {
    let server = server();
    let key = api_key();
    let resp = get_auth(&server, "/v2/organizations", &key);
    assert_eq!(resp.status, 404);
    assert_eq!(resp.api_error_code(), "not_found");
    let resp = get_auth(&server, "/organization", &key);
    assert_eq!(resp.status, 404);
    let resp = call(
        &server,
        "POST",
        "/v2/organization",
        &[("Authorization", &key)],
        b"{}",
    );
    assert_eq!(resp.status, 405);
    assert_eq!(resp.api_error_code(), "method_not_allowed");
    assert_eq!(resp.header("Allow"), Some("GET"));
    let resp = call(&server, "GET", "/oauth2/token", &[], b"");
    assert_eq!(resp.status, 405);
    let resp = get_auth(&server, "/v2/bank_accounts/does-not-exist", &key);
    assert_eq!(resp.status, 404);
    assert_eq!(resp.api_error_code(), "not_found");
}

#[test]
fn bank_account_pagination_and_lookup() {
    let server = server();
    let key = api_key();
    let resp = get_auth(&server, "/v2/bank_accounts", &key);
    assert_eq!(resp.status, 200);
    let body = resp.json();
    assert_eq!(body["bank_accounts"].as_array().unwrap().len(), 3);
    let meta = &body["meta"];
    assert_eq!(meta["current_page"], 1);
    assert_eq!(meta["next_page"], serde_json::Value::Null);
    assert_eq!(meta["prev_page"], serde_json::Value::Null);
    assert_eq!(meta["total_pages"], 1);
    assert_eq!(meta["total_count"], 3);
    assert_eq!(meta["per_page"], 100);

    let resp = get_auth(&server, "/v2/bank_accounts?per_page=1&page=2", &key);
    let body = resp.json();
    let accounts = body["bank_accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(body["meta"]["current_page"], 2);
    assert_eq!(body["meta"]["next_page"], 3);
    assert_eq!(body["meta"]["prev_page"], 1);
    assert_eq!(body["meta"]["total_pages"], 3);
    assert_eq!(body["meta"]["per_page"], 1);
    let account = &accounts[0];
    for field in [
        "id",
        "organization_id",
        "slug",
        "name",
        "iban",
        "bic",
        "currency",
        "balance",
        "balance_cents",
        "authorized_balance",
        "authorized_balance_cents",
        "status",
        "main",
        "updated_at",
    ] {
        assert!(account.get(field).is_some(), "missing {field}");
    }
    let id = account["id"].as_str().unwrap();
    let resp = get_auth(&server, &format!("/v2/bank_accounts/{id}"), &key);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["bank_account"]["id"], id);

    let resp = get_auth(&server, "/v2/bank_accounts?per_page=2&page=2", &key);
    let body = resp.json();
    assert_eq!(body["bank_accounts"].as_array().unwrap().len(), 1);
    assert_eq!(body["meta"]["next_page"], serde_json::Value::Null);

    for bad in [
        "per_page=0",
        "per_page=101",
        "per_page=abc",
        "page=0",
        "page=-1",
    ] {
        let resp = get_auth(&server, &format!("/v2/bank_accounts?{bad}"), &key);
        assert_eq!(resp.status, 400, "{bad}");
        assert_eq!(resp.api_error_code(), "invalid_parameter");
    }
}

#[test]
fn membership_endpoint() {
    let server = server();
    let resp = get_auth(&server, "/v2/membership", &api_key());
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["membership"]["role"], "owner");
}

#[test]
fn consents_delete_revokes_the_grant() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let bearer = format!("Bearer {}", tokens.access_token);
    let resp = call(
        &server,
        "DELETE",
        "/v2/oauth2/consents",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(resp.status, 204);
    assert!(resp.body.is_empty());
    assert_eq!(resp.trace_id().len(), 32);
    let resp = get_bearer(&server, "/v2/organization", &tokens.access_token);
    assert_eq!(resp.status, 401);
    let resp = common::token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh_token.as_deref().unwrap()),
        ],
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.oauth_error(), "invalid_grant");
    // An API key cannot revoke consents.
    let resp = call(
        &server,
        "DELETE",
        "/v2/oauth2/consents",
        &[("Authorization", &api_key())],
        b"",
    );
    assert_eq!(resp.status, 401);
}

/// The User OAuth flow: a user token names its organization on every call (403 when it
/// does not, or names one the user did not consent for) and lists its organizations.
#[test]
fn user_tokens_name_a_consented_organization_on_every_call() {
    let server = server();
    let user = server.issue_tokens(DEMO_CLIENT_ID, "organization.read user_organization.read");
    let bearer = format!("Bearer {}", user.access_token);
    let list = get_bearer(&server, "/v2/user_organizations", &user.access_token);
    assert_eq!(list.status, 200);
    let id = list.json()["organizations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(list.json()["organizations"][0]["membership_role"], "owner");
    let missing = get_bearer(&server, "/v2/organization", &user.access_token);
    assert_eq!(missing.status, 403);
    let other = call(
        &server,
        "GET",
        "/v2/organization",
        &[
            ("Authorization", &bearer),
            ("X-Qonto-Organization-Id", "0000-other"),
        ],
        b"",
    );
    assert_eq!(other.status, 403);
    for resp in [&missing, &other] {
        let detail = resp.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains("organization"), "{detail}");
    }
    let named = call(
        &server,
        "GET",
        "/v2/organization",
        &[("Authorization", &bearer), ("X-Qonto-Organization-Id", &id)],
        b"",
    );
    assert_eq!(named.status, 200);
    // A membership token needs no header, and cannot list user organizations.
    let member = server.issue_tokens(DEMO_CLIENT_ID, "organization.read");
    assert_eq!(
        get_bearer(&server, "/v2/organization", &member.access_token).status,
        200
    );
    assert_eq!(
        get_bearer(&server, "/v2/user_organizations", &member.access_token).status,
        403
    );
}
