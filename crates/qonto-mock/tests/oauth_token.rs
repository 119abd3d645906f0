//! `POST /oauth2/token`: code exchange, refresh rotation with grace window, error codes.

mod common;

use std::time::Duration;

use common::{call, get_bearer, login, obtain_code, token, token_with};
use qonto_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, MockConfig, MockServer};

fn server() -> MockServer {
    MockServer::start(MockConfig::default()).expect("start")
}

fn exchange(server: &MockServer, code: &str) -> common::Resp {
    token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", DEMO_REDIRECT_URI),
        ],
    )
}

fn refresh(server: &MockServer, refresh_token: &str) -> common::Resp {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

fn str_field(v: &serde_json::Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {v}"))
        .to_owned()
}

#[test]
fn code_exchange_returns_qonto_shaped_tokens_once() {
    let server = server();
    let code = obtain_code(&server, &[], &[]);
    let resp = exchange(&server, &code);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(
        resp.header("Content-Type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(resp.trace_id().len(), 32);
    let body = resp.json();
    assert!(str_field(&body, "access_token").starts_with("ory_at_"));
    assert!(str_field(&body, "refresh_token").starts_with("ory_rt_"));
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "offline_access organization.read");
    assert_eq!(
        get_bearer(
            &server,
            "/v2/organization",
            &str_field(&body, "access_token")
        )
        .status,
        200
    );

    let again = exchange(&server, &code);
    assert_eq!(again.status, 400);
    assert_eq!(again.oauth_error(), "invalid_grant");
    assert!(again.json()["error_description"].is_string());
}

#[test]
fn code_expires_after_ten_minutes() {
    let server = server();
    let code = obtain_code(&server, &[], &[]);
    server.clock().advance(Duration::from_secs(599));
    assert_eq!(exchange(&server, &code).status, 200);
    let code = obtain_code(&server, &[], &[]);
    server.clock().advance(Duration::from_secs(600));
    let resp = exchange(&server, &code);
    assert_eq!(resp.status, 400);
    assert_eq!(resp.oauth_error(), "invalid_grant");
}

#[test]
fn redirect_uri_must_match_the_authorize_request() {
    let server = server();
    let code = obtain_code(
        &server,
        &[("redirect_uri", "http://127.0.0.1:18920/callback")],
        &[],
    );
    let resp = exchange(&server, &code);
    assert_eq!(resp.oauth_error(), "invalid_grant");
}

#[test]
fn refresh_token_only_with_offline_access() {
    let server = server();
    let body = login(&server, "organization.read");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["scope"], "organization.read");
    let body = login(&server, "organization.read offline_access");
    assert!(body["refresh_token"].is_string());
}

#[test]
fn refresh_rotates_and_the_old_token_works_within_the_grace_window() {
    let server = server();
    let first = login(&server, "offline_access organization.read");
    let rt0 = str_field(&first, "refresh_token");

    let r1 = refresh(&server, &rt0);
    assert_eq!(r1.status, 200, "{}", r1.text());
    let b1 = r1.json();
    assert_ne!(str_field(&b1, "refresh_token"), rt0);
    assert_ne!(
        str_field(&b1, "access_token"),
        str_field(&first, "access_token")
    );

    // Reuse of the old refresh token within 60 s of its first use: a fresh pair each time.
    server.clock().advance(Duration::from_secs(30));
    let b2 = refresh(&server, &rt0).json();
    server.clock().advance(Duration::from_secs(29));
    let b3 = refresh(&server, &rt0).json();
    let access: Vec<String> = [&b1, &b2, &b3]
        .iter()
        .map(|b| str_field(b, "access_token"))
        .collect();
    assert_ne!(access[0], access[1]);
    assert_ne!(access[1], access[2]);
    assert_ne!(
        str_field(&b2, "refresh_token"),
        str_field(&b3, "refresh_token")
    );
    for a in &access {
        assert_eq!(get_bearer(&server, "/v2/organization", a).status, 200);
    }

    // The new refresh token works normally.
    let b4 = refresh(&server, &str_field(&b3, "refresh_token"));
    assert_eq!(b4.status, 200);
    let latest_access = str_field(&b4.json(), "access_token");

    // After the window: invalid_grant, and the whole grant is revoked.
    server.clock().advance(Duration::from_secs(2));
    let late = refresh(&server, &rt0);
    assert_eq!(late.status, 400);
    assert_eq!(late.oauth_error(), "invalid_grant");
    assert_eq!(
        get_bearer(&server, "/v2/organization", &latest_access).status,
        401
    );
    assert_eq!(
        get_bearer(&server, "/v2/organization", &access[0]).status,
        401
    );
    let b4_rt = str_field(&b4.json(), "refresh_token");
    assert_eq!(refresh(&server, &b4_rt).oauth_error(), "invalid_grant");
    assert_eq!(server.stats().token_calls("refresh_token"), 6);
    assert_eq!(server.stats().token_calls("authorization_code"), 1);
}

#[test]
fn refresh_token_lifetime_is_enforced() {
    let server = MockServer::start(
        MockConfig::default().with_refresh_token_lifetime(Duration::from_secs(90 * 24 * 3600)),
    )
    .expect("start");
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    server.clock().advance(Duration::from_secs(90 * 24 * 3600));
    let resp = refresh(&server, tokens.refresh_token.as_deref().unwrap());
    assert_eq!(resp.oauth_error(), "invalid_grant");
}

#[test]
fn token_endpoint_error_codes() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let rt = tokens.refresh_token.unwrap();

    // Wrong content type.
    let body = common::form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
    ]);
    let resp = call(
        &server,
        "POST",
        "/oauth2/token",
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(
        (resp.status, resp.oauth_error().as_str()),
        (400, "invalid_request")
    );
    let resp = call(&server, "POST", "/oauth2/token", &[], &body);
    assert_eq!(
        (resp.status, resp.oauth_error().as_str()),
        (400, "invalid_request")
    );
    // Charset parameter is fine.
    let resp = call(
        &server,
        "POST",
        "/oauth2/token",
        &[(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )],
        &body,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());

    // Missing client credentials / grant type / parameters.
    let resp = token_with(&server, &[("grant_type", "refresh_token")], &[]);
    assert_eq!(
        (resp.status, resp.oauth_error().as_str()),
        (400, "invalid_request")
    );
    let resp = token(&server, &[]);
    assert_eq!(
        (resp.status, resp.oauth_error().as_str()),
        (400, "invalid_request")
    );
    let resp = token(&server, &[("grant_type", "refresh_token")]);
    assert_eq!(
        (resp.status, resp.oauth_error().as_str()),
        (400, "invalid_request")
    );
    let resp = token(
        &server,
        &[("grant_type", "authorization_code"), ("code", "x")],
    );
    assert_eq!(
        (resp.status, resp.oauth_error().as_str()),
        (400, "invalid_request")
    );

    // Wrong client.
    for (id, secret) in [
        (DEMO_CLIENT_ID, "wrong"),
        ("other-client", DEMO_CLIENT_SECRET),
    ] {
        let resp = token_with(
            &server,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", id),
                ("client_secret", secret),
            ],
            &[],
        );
        assert_eq!(
            (resp.status, resp.oauth_error().as_str()),
            (400, "invalid_client")
        );
        assert_eq!(resp.trace_id().len(), 32);
    }

    // Unknown grant types.
    for grant in ["client_credentials", "password", "implicit"] {
        let resp = token(&server, &[("grant_type", grant)]);
        assert_eq!(
            (resp.status, resp.oauth_error().as_str()),
            (400, "unsupported_grant_type")
        );
    }

    // Unknown codes and refresh tokens; an access token used as refresh token.
    let resp = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", "ory_ac_x"),
            ("redirect_uri", DEMO_REDIRECT_URI),
        ],
    );
    assert_eq!(resp.oauth_error(), "invalid_grant");
    let resp = refresh(&server, &tokens.access_token);
    assert_eq!(resp.oauth_error(), "invalid_grant");

    // Asking for a scope that was not granted.
    let fresh = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let resp = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", fresh.refresh_token.as_deref().unwrap()),
            ("scope", "payment.write"),
        ],
    );
    assert_eq!(
        (resp.status, resp.oauth_error().as_str()),
        (400, "invalid_scope")
    );
}

#[test]
fn revoke_endpoint_revokes_the_grant() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let resp = call(
        &server,
        "POST",
        "/oauth2/revoke",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &common::form(&[
            ("token", tokens.refresh_token.as_deref().unwrap()),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
        ]),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(
        get_bearer(&server, "/v2/organization", &tokens.access_token).status,
        401
    );
}
