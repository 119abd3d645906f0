//! `GET /oauth2/auth`: validation, consent page, approve and deny, auto-approve, PKCE.

mod common;

use common::{authorize_target, call, location_params, obtain_code, param, token};
use qonto_mock::{DEMO_REDIRECT_URI, MockConfig, MockServer};

fn server() -> MockServer {
    MockServer::start(MockConfig::default()).expect("start")
}

/// Qonto's OAuth-flow guide: an unknown `client_id` or an unregistered `redirect_uri` is a 404
/// error page, never a redirect to the untrusted URI.
#[test]
fn bad_client_or_redirect_uri_is_a_404_page_not_a_redirect() {
    let server = server();
    for (extra, error) in [
        (vec![("client_id", "unknown-client")], "invalid_client"),
        (vec![("client_id", "")], "invalid_client"),
        (
            vec![("redirect_uri", "http://localhost:18920/other")],
            "invalid_request",
        ),
        (
            vec![("redirect_uri", "http://localhost:18920/callback/")],
            "invalid_request",
        ),
        (vec![("redirect_uri", "")], "invalid_request"),
        (
            vec![("redirect_uri", "https://attacker.example/cb")],
            "invalid_request",
        ),
    ] {
        let resp = call(&server, "GET", &authorize_target(&extra), &[], b"");
        assert_eq!(resp.status, 404, "{extra:?}");
        assert!(resp.header("Location").is_none(), "{extra:?}");
        assert!(
            resp.header("Content-Type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            resp.text()
                .contains(&format!("<p id=\"error\">{error}</p>")),
            "{extra:?}: {}",
            resp.text()
        );
        assert_eq!(resp.trace_id().len(), 32);
    }
    assert_eq!(server.stats().requests("/oauth2/auth", 404), 6);
}

#[test]
fn bad_scope_state_or_response_type_redirect_with_an_error() {
    let server = server();
    let cases = [
        (
            vec![("scope", "organization.read admin.everything")],
            "invalid_scope",
            true,
        ),
        (vec![("scope", "")], "invalid_scope", true),
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
            true,
        ),
        (vec![("state", "")], "invalid_request", false),
        (
            vec![
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
            true,
        ),
    ];
    for (extra, expected, has_state) in cases {
        let resp = call(&server, "GET", &authorize_target(&extra), &[], b"");
        assert_eq!(resp.status, 302, "{extra:?}");
        let location = resp.header("Location").unwrap();
        assert!(location.starts_with(DEMO_REDIRECT_URI), "{location}");
        let params = location_params(location);
        assert_eq!(
            param(&params, "error").as_deref(),
            Some(expected),
            "{extra:?}"
        );
        assert!(param(&params, "error_description").is_some());
        assert_eq!(param(&params, "state").is_some(), has_state, "{extra:?}");
        assert!(param(&params, "code").is_none());
    }
}

#[test]
fn consent_page_then_allow_redirects_with_code_and_state() {
    let server = server();
    let resp = call(
        &server,
        "GET",
        &authorize_target(&[("organization_id", "org-77")]),
        &[],
        b"",
    );
    assert_eq!(resp.status, 200);
    assert!(
        resp.header("Content-Type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.text();
    assert!(html.contains("Allow") && html.contains("Deny"));
    assert!(html.contains("organization.read"));
    assert!(html.contains("org-77"));

    let start = html.find("/oauth2/auth/approve?").unwrap();
    let end = start + html[start..].find('"').unwrap();
    let approve = &html[start..end];
    let resp = call(&server, "GET", approve, &[], b"");
    assert_eq!(resp.status, 302);
    let location = resp.header("Location").unwrap();
    assert!(location.starts_with(&format!("{DEMO_REDIRECT_URI}?")));
    let params = location_params(location);
    assert!(param(&params, "code").unwrap().starts_with("ory_ac_"));
    assert_eq!(param(&params, "state").as_deref(), Some("state-1234567890"));
    assert_eq!(param(&params, "organization_id").as_deref(), Some("org-77"));
    // The consent decision is single use.
    let again = call(&server, "GET", approve, &[], b"");
    assert_eq!(again.status, 400);
}

#[test]
fn deny_redirects_with_access_denied() {
    let server = server();
    let html = call(&server, "GET", &authorize_target(&[]), &[], b"").text();
    let start = html.find("/oauth2/auth/deny?").unwrap();
    let end = start + html[start..].find('"').unwrap();
    let resp = call(&server, "GET", &html[start..end], &[], b"");
    assert_eq!(resp.status, 302);
    let params = location_params(resp.header("Location").unwrap());
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&params, "state").as_deref(), Some("state-1234567890"));
    assert!(param(&params, "code").is_none());
}

#[test]
fn auto_approve_redirects_straight_to_the_callback() {
    let server = MockServer::start(MockConfig::default().with_auto_approve(true)).expect("start");
    let resp = call(
        &server,
        "GET",
        &authorize_target(&[("registration_id", "reg-9")]),
        &[],
        b"",
    );
    assert_eq!(resp.status, 302);
    let params = location_params(resp.header("Location").unwrap());
    assert!(param(&params, "code").unwrap().starts_with("ory_ac_"));
    assert_eq!(param(&params, "state").as_deref(), Some("state-1234567890"));
    assert_eq!(param(&params, "registration_id").as_deref(), Some("reg-9"));
}

#[test]
fn pkce_verifier_is_checked_when_a_challenge_was_sent() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let server = server();
    let verifier = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let exchange = |code: &str, verifier: Option<&str>| {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", DEMO_REDIRECT_URI),
        ];
        if let Some(v) = verifier {
            pairs.push(("code_verifier", v));
        }
        token(&server, &pairs)
    };
    let code = obtain_code(&server, &pkce, &[]);
    let resp = exchange(&code, None);
    assert_eq!(resp.status, 400);
    assert_eq!(resp.oauth_error(), "invalid_grant");
    let code = obtain_code(&server, &pkce, &[]);
    let resp = exchange(&code, Some("wrong-verifier"));
    assert_eq!(resp.oauth_error(), "invalid_grant");
    let code = obtain_code(&server, &pkce, &[]);
    let resp = exchange(&code, Some(verifier));
    assert_eq!(resp.status, 200, "{}", resp.text());
}
