//! The sandbox's browser prerequisite: a browser cannot send `X-Qonto-Staging-Token`, so the
//! sandbox authorize page needs a Sandbox web-app session opened through the Developer Portal
//! (the mock's `/_mock/portal-login`) in the same browser.

mod common;

use common::{authorize_target, call, location_params, obtain_code, param, token_with};
use qonto_mock::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, MockConfig, MockServer,
    PORTAL_LOGIN_PATH, PORTAL_SESSION_COOKIE,
};

const STAGING: &str = "staging-secret-42";

fn sandbox(config: MockConfig) -> MockServer {
    MockServer::start(config).expect("start")
}

/// Opens a portal session the way a browser does; returns the `Cookie` header value.
fn portal_login(server: &MockServer) -> String {
    let resp = call(server, "GET", PORTAL_LOGIN_PATH, &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp.text().contains("Logged in to the Sandbox web app"));
    let set_cookie = resp.header("Set-Cookie").expect("Set-Cookie");
    assert!(set_cookie.contains("; Path=/"), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    assert!(
        pair.starts_with(&format!("{PORTAL_SESSION_COOKIE}=")),
        "{pair}"
    );
    pair
}

fn is_login_required_page(resp: &common::Resp) -> bool {
    let text = resp.text();
    resp.status == 200
        && resp
            .header("Content-Type")
            .is_some_and(|t| t.starts_with("text/html"))
        && text.contains("through the Developer Portal")
        && text.contains(PORTAL_LOGIN_PATH)
        && !text.contains("/oauth2/auth/approve")
}

#[test]
fn without_a_portal_session_the_sandbox_authorize_page_asks_to_log_in_first() {
    let server = sandbox(MockConfig::sandbox(STAGING));
    let target = authorize_target(&[]);
    let resp = call(&server, "GET", &target, &[], b"");
    assert!(is_login_required_page(&resp), "{}", resp.text());
    // Not the OneLogin gate of the API, which a browser could do nothing about.
    assert!(!resp.text().contains("OneLogin"), "{}", resp.text());
    // The page links to the portal login, coming back to this very authorization.
    let back = form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>();
    assert!(
        resp.text()
            .contains(&format!("{PORTAL_LOGIN_PATH}?return_to={back}")),
        "{}",
        resp.text()
    );
    // Approve and deny links are browser pages too.
    let resp = call(&server, "GET", "/oauth2/auth/approve?challenge=x", &[], b"");
    assert!(is_login_required_page(&resp), "{}", resp.text());
    // A cookie the portal never issued does not count.
    let forged = format!("{PORTAL_SESSION_COOKIE}=forged");
    let resp = call(&server, "GET", &target, &[("Cookie", &forged)], b"");
    assert!(is_login_required_page(&resp), "{}", resp.text());
}

#[test]
fn after_the_portal_login_the_browser_flow_completes() {
    let server = sandbox(MockConfig::sandbox(STAGING));
    let cookie = portal_login(&server);
    // Among other cookies, in a browser's `Cookie` header.
    let header = format!("theme=dark; {cookie}; lang=fr");
    let code = obtain_code(&server, &[], &[("Cookie", &header)]);
    assert!(code.starts_with("ory_ac_"));
    // The backend exchanges the code with the staging header, as every sandbox call needs.
    let resp = token_with(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", DEMO_REDIRECT_URI),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
        ],
        &[("X-Qonto-Staging-Token", STAGING)],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    // The session does not open the API: that still needs the staging header.
    let resp = call(
        &server,
        "GET",
        "/v2/organization",
        &[("Cookie", &cookie)],
        b"",
    );
    assert!(resp.text().starts_with("<!doctype html>"));
}

#[test]
fn a_client_sending_the_staging_header_passes_without_a_session() {
    let server = sandbox(MockConfig::sandbox(STAGING));
    let code = obtain_code(&server, &[], &[("X-Qonto-Staging-Token", STAGING)]);
    assert!(code.starts_with("ory_ac_"));
    let resp = call(
        &server,
        "GET",
        &authorize_target(&[]),
        &[("X-Qonto-Staging-Token", "wrong")],
        b"",
    );
    assert!(is_login_required_page(&resp), "{}", resp.text());
}

#[test]
fn auto_approve_still_redirects_once_the_browser_has_a_session() {
    let server = sandbox(MockConfig::sandbox(STAGING).with_auto_approve(true));
    let target = authorize_target(&[]);
    assert!(is_login_required_page(&call(
        &server,
        "GET",
        &target,
        &[],
        b""
    )));
    let cookie = portal_login(&server);
    let resp = call(&server, "GET", &target, &[("Cookie", &cookie)], b"");
    assert_eq!(resp.status, 302, "{}", resp.text());
    let params = location_params(resp.header("Location").unwrap());
    assert!(param(&params, "code").unwrap().starts_with("ory_ac_"));
}

#[test]
fn the_portal_login_page_links_back_to_local_paths_only() {
    let server = sandbox(MockConfig::sandbox(STAGING));
    let target = authorize_target(&[]);
    let back = form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>();
    let resp = call(
        &server,
        "GET",
        &format!("{PORTAL_LOGIN_PATH}?return_to={back}"),
        &[],
        b"",
    );
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("id=\"continue\""), "{}", resp.text());
    assert!(resp.text().contains("/oauth2/auth?client_id="));
    for elsewhere in ["https://attacker.example/", "//attacker.example/"] {
        let resp = call(
            &server,
            "GET",
            &format!("{PORTAL_LOGIN_PATH}?return_to={elsewhere}"),
            &[],
            b"",
        );
        assert_eq!(resp.status, 200);
        assert!(!resp.text().contains("attacker"), "{}", resp.text());
    }
}

#[test]
fn production_needs_no_portal_session() {
    let server = sandbox(MockConfig::default());
    let code = obtain_code(&server, &[], &[]);
    assert!(code.starts_with("ory_ac_"));
}
