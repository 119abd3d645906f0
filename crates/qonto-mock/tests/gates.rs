//! Sandbox gates, strict header casing, and production's handling of a staging token.

mod common;

use common::{api_key, call, token};
use qonto_mock::{Gate, MockConfig, MockServer, StagingInProduction, TokenGate};

const STAGING: &str = "staging-secret-42";

fn sandbox(api_gate: Gate, token_gate: TokenGate) -> MockServer {
    MockServer::start(
        MockConfig::sandbox(STAGING)
            .with_api_gate(api_gate)
            .with_token_gate(token_gate),
    )
    .expect("start")
}

#[test]
fn sandbox_html_gate_is_a_200_onelogin_page() {
    let server = sandbox(Gate::HtmlPage, TokenGate::SameAsApi);
    let key = api_key();
    for path in ["/v2/organization", "/v2/bank_accounts", "/nope"] {
        let resp = call(&server, "GET", path, &[("Authorization", &key)], b"");
        assert_eq!(resp.status, 200, "{path}");
        assert!(
            resp.header("Content-Type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            resp.text()
                .starts_with("<!doctype html>\n<html lang=\"en\" style=\"height: 100%\">")
        );
        assert_eq!(resp.trace_id().len(), 32);
    }
    // With TokenGate::SameAsApi the token endpoint shows the same page.
    let resp = token(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    );
    assert_eq!(resp.status, 200);
    assert!(resp.text().starts_with("<!doctype html>"));
}

#[test]
fn sandbox_redirect_gates() {
    let server = sandbox(
        Gate::RedirectToOneLogin,
        TokenGate::RedirectToDeveloperPortal,
    );
    let resp = call(
        &server,
        "GET",
        "/v2/organization",
        &[("Authorization", &api_key())],
        b"",
    );
    assert_eq!(resp.status, 302);
    assert_eq!(
        resp.header("Location"),
        Some("https://qonto.onelogin.com/login")
    );
    let resp = token(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    );
    assert_eq!(resp.status, 302);
    assert_eq!(
        resp.header("Location"),
        Some("https://developers.qonto.com/")
    );
    // A wrong staging token is the same as none.
    let resp = token(&server, &[("grant_type", "refresh_token")]);
    assert_eq!(resp.status, 302);
    let resp = call(
        &server,
        "GET",
        "/v2/organization",
        &[
            ("Authorization", &api_key()),
            ("X-Qonto-Staging-Token", "wrong"),
        ],
        b"",
    );
    assert_eq!(resp.status, 302);
}

#[test]
fn sandbox_with_token_passes_the_gate_everywhere() {
    let server = sandbox(Gate::HtmlPage, TokenGate::RedirectToDeveloperPortal);
    let key = api_key();
    let headers = [
        ("Authorization", key.as_str()),
        ("X-Qonto-Staging-Token", STAGING),
    ];
    let resp = call(&server, "GET", "/v2/organization", &headers, b"");
    assert_eq!(resp.status, 200);
    assert!(resp.json()["organization"]["bank_accounts"].is_array());
    // Token endpoint reached: a JSON OAuth error instead of the gate.
    let resp = common::token_with(
        &server,
        &[("grant_type", "refresh_token")],
        &[("X-Qonto-Staging-Token", STAGING)],
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.oauth_error(), "invalid_request");
    // Unknown path past the gate is a JSON 404.
    let resp = call(&server, "GET", "/v2/organizations", &headers, b"");
    assert_eq!(resp.status, 404);
    assert_eq!(resp.api_error_code(), "not_found");
}

#[test]
fn header_casing_lenient_and_strict() {
    let key = api_key();
    let lenient = MockServer::start(MockConfig::sandbox(STAGING)).expect("start");
    let strict = MockServer::start(MockConfig::sandbox(STAGING).with_strict_header_case(true))
        .expect("start");
    for (name, lenient_status, strict_status) in [
        ("X-Qonto-Staging-Token", 200, 200),
        ("x-qonto-staging-token", 200, 200),
        ("X-QONTO-STAGING-TOKEN", 200, 200),
    ] {
        let headers = [("Authorization", key.as_str()), (name, STAGING)];
        let l = call(&lenient, "GET", "/v2/organization", &headers, b"");
        let s = call(&strict, "GET", "/v2/organization", &headers, b"");
        assert_eq!(l.status, lenient_status, "lenient {name}");
        assert_eq!(s.status, strict_status, "strict {name}");
        // Status alone does not tell gate from success: check the body kind.
        assert!(
            l.header("Content-Type")
                .unwrap()
                .starts_with("application/json")
        );
        let strict_json = s
            .header("Content-Type")
            .unwrap()
            .starts_with("application/json");
        assert_eq!(
            strict_json,
            name == "X-Qonto-Staging-Token",
            "strict {name}"
        );
    }
}

#[test]
fn production_rejects_or_ignores_a_staging_token() {
    let key = api_key();
    let headers = [
        ("Authorization", key.as_str()),
        ("X-Qonto-Staging-Token", STAGING),
    ];
    let reject = MockServer::start(MockConfig::default()).expect("start");
    let resp = call(&reject, "GET", "/v2/organization", &headers, b"");
    assert_eq!(resp.status, 401);
    assert_eq!(resp.api_error_code(), "staging_token_not_accepted");

    let ignore = MockServer::start(
        MockConfig::default().with_staging_in_production(StagingInProduction::Ignore),
    )
    .expect("start");
    let resp = call(&ignore, "GET", "/v2/organization", &headers, b"");
    assert_eq!(resp.status, 200);
    // Without the header production simply works.
    let resp = call(
        &reject,
        "GET",
        "/v2/organization",
        &[("Authorization", &key)],
        b"",
    );
    assert_eq!(resp.status, 200);
}

#[test]
fn authorize_page_can_be_exempted_from_the_portal_session() {
    let server = MockServer::start(
        MockConfig::sandbox(STAGING).with_authorize_requires_portal_session(false),
    )
    .expect("start");
    let resp = call(&server, "GET", &common::authorize_target(&[]), &[], b"");
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("/oauth2/auth/approve?challenge="));
    // The API is still gated.
    let resp = call(
        &server,
        "GET",
        "/v2/organization",
        &[("Authorization", &api_key())],
        b"",
    );
    assert!(resp.text().starts_with("<!doctype html>"));
}
