//! Bad inputs and the typed outcome each gets: the executable form of the table in
//! `docs/reliability.md`. Each block below is one row group of that table, in the same order;
//! change both together.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use qonto_auth_core::classify::{ErrorKind, GateSignal};
use qonto_auth_core::credentials::{
    AccessTokenProblem, ApiKey, ApiKeyProblem, WhitespaceKind, check_access_token, check_api_key,
};
use qonto_auth_core::header::bearer;
use qonto_auth_core::oauth::{
    CallbackError, CsrfState, TokenResponseError, parse_callback, parse_token_response,
};
use qonto_auth_core::secret::AccessToken;
use qonto_auth_core::{PersistedTokensError, Timestamp, TokenSet, classify};

const SENT: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
const JSON: (&str, &[u8]) = ("content-type", b"application/json");
const TOKEN: &str = r#"{"access_token":"ory_at_a","expires_in":3600,"token_type":"bearer","refresh_token":"ory_rt_r"}"#;
const MIB: usize = 1024 * 1024;

fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let value = HeaderValue::from_bytes(value).expect("http accepts the value");
        map.append(HeaderName::from_static(name), value);
    }
    map
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}

/// The failure `classify` gives, or `None` for a success.
fn failure(
    code: u16,
    h: &[(&'static str, &[u8])],
    body: &[u8],
) -> Option<qonto_auth_core::ApiError> {
    classify(status(code), &headers(h), body)
        .into_result()
        .err()
}

fn tokens(
    code: u16,
    h: &[(&'static str, &[u8])],
    body: &[u8],
) -> Result<TokenSet, TokenResponseError> {
    parse_token_response(SENT, status(code), &headers(h), body)
}

/// The `reason` of a `Malformed` token response, and whether a refresh token was rescued.
fn malformed(result: Result<TokenSet, TokenResponseError>) -> (&'static str, bool) {
    match result {
        Err(TokenResponseError::Malformed {
            reason,
            rescued_refresh_token,
            ..
        }) => (reason, rescued_refresh_token.is_some()),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn with_expires_in(value: &str) -> Vec<u8> {
    format!(r#"{{"access_token":"ory_at_a","expires_in":{value},"token_type":"bearer"}}"#)
        .into_bytes()
}

#[test]
fn malformed_and_truncated_json() {
    // 4xx with malformed JSON: classified by status, no details.
    let error = failure(400, &[JSON], b"{\"errors\":[{\"code\":").unwrap();
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
    assert!(error.details.is_empty() && error.trace_id.is_none());
    // 2xx with malformed JSON: `classify` judges the shape only; it is a success.
    assert!(failure(200, &[JSON], b"{not json").is_none());
    // Token response cut in half.
    let half = &TOKEN.as_bytes()[..TOKEN.len() / 2];
    assert_eq!(
        malformed(tokens(200, &[JSON], half)),
        ("the body is not a JSON object", false)
    );
    // Persisted token file cut in half, or not JSON.
    let stored = tokens(200, &[JSON], TOKEN.as_bytes())
        .unwrap()
        .to_persisted_json();
    for bad in [&stored[..stored.len() / 2], b"", b"[]", b"null"] {
        assert_eq!(
            TokenSet::from_persisted_json(bad).unwrap_err(),
            PersistedTokensError::NotJson
        );
    }
}

#[test]
fn huge_bodies() {
    // 1 MiB JSON 200: only the first 256 bytes are looked at.
    let mut big = b"{\"items\":[".to_vec();
    big.resize(MIB, b' ');
    assert!(failure(200, &[JSON], &big).is_none());
    // 10 MiB JSON error body: classified, but bodies over 64 KiB are not parsed.
    let mut huge = br#"{"trace_id":"t1","errors":[{"code":"boom"}]"#.to_vec();
    huge.resize(10 * MIB, b' ');
    huge.push(b'}');
    let error = failure(500, &[JSON], &huge).unwrap();
    assert_eq!(error.kind, ErrorKind::Server);
    assert!(error.details.is_empty() && error.trace_id.is_none());
    // 10 MiB garbage from the token endpoint with a 400.
    let garbage = vec![b'x'; 10 * MIB];
    assert!(matches!(
        tokens(400, &[], &garbage),
        Err(TokenResponseError::UnexpectedStatus { .. })
    ));
    // A valid token response padded to 1 MiB still parses (the core sets no size limit here).
    let mut padded = TOKEN.as_bytes().to_vec();
    padded.resize(MIB, b' ');
    assert!(tokens(200, &[JSON], &padded).is_ok());
}

#[test]
fn non_utf8_headers_and_bodies() {
    let bad: &[u8] = b"\xff\xfe";
    // Content type that is not UTF-8: ignored, the body decides.
    assert!(failure(200, &[("content-type", bad)], b"{}").is_none());
    // Location that is not UTF-8: a redirect with no readable host.
    let error = failure(302, &[("location", bad)], b"").unwrap();
    assert_eq!(error.kind, ErrorKind::UnexpectedRedirect { host: None });
    // Trace id that is not UTF-8: dropped.
    let error = failure(500, &[("x-tyk-trace-id", bad)], b"").unwrap();
    assert_eq!(error.trace_id, None);
    // Retry-After that is not UTF-8: rate limited, no delay.
    let error = failure(429, &[("retry-after", bad)], b"").unwrap();
    assert_eq!(error.kind, ErrorKind::RateLimited { retry_after: None });
    // Body that is not UTF-8.
    let error = failure(200, &[], b"\xff\xfe{}").unwrap();
    assert_eq!(error.kind, ErrorKind::UnexpectedContent);
    let error = failure(401, &[JSON], b"\xff\xfe{}").unwrap();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert!(error.details.is_empty());
    assert_eq!(
        malformed(tokens(200, &[JSON], b"\xff\xfe{}")).0,
        "the body is not a JSON object"
    );
    assert_eq!(
        TokenSet::from_persisted_json(b"\xff\xfe{}").unwrap_err(),
        PersistedTokensError::NotJson
    );
}

#[test]
fn garbled_token_responses() {
    let cases: [(&[u8], &str, bool); 6] = [
        (b"", "the body is not a JSON object", false),
        (b"[]", "the body is not a JSON object", false),
        (
            br#"{"expires_in":3600,"token_type":"bearer","refresh_token":"ory_rt_n"}"#,
            "`access_token` is missing or empty",
            true,
        ),
        (
            br#"{"access_token":"a","expires_in":3600,"token_type":"mac","refresh_token":"ory_rt_n"}"#,
            "`token_type` is not `bearer`",
            true,
        ),
        (br#"{"access_token":"a","expires_in":3600}"#, "`token_type` is missing", false),
        (
            br#"{"access_token":"a","expires_in":3600,"token_type":"bearer","scope":7}"#,
            "`scope` is not a string",
            false,
        ),
    ];
    for (body, reason, rescued) in cases {
        assert_eq!(
            malformed(tokens(200, &[JSON], body)),
            (reason, rescued),
            "{body:?}"
        );
    }
    // An OAuth error in a 200 is still a rejection.
    assert!(matches!(
        tokens(200, &[JSON], br#"{"error":"invalid_grant"}"#),
        Err(TokenResponseError::Rejected { .. })
    ));
}

#[test]
fn expires_in_variants() {
    let expires = |v: &str| tokens(200, &[JSON], &with_expires_in(v)).map(|t| t.expires_at);
    let hour = Some(SENT + Duration::from_secs(3600));
    assert_eq!(expires("\"3600\"").ok(), hour, "numeric string");
    assert_eq!(expires("\" 3600 \"").ok(), hour, "padded numeric string");
    let ten_years = SENT + Duration::from_secs(10 * 365 * 24 * 3600);
    assert_eq!(
        expires("18446744073709551615").ok(),
        Some(ten_years),
        "u64::MAX is clamped"
    );
    let not_whole = "`expires_in` is not a whole number of seconds";
    for value in [
        "\"soon\"",
        "-5",
        "3600.5",
        "3600.0",
        "1e3",
        "18446744073709551616",
        "\"-1\"",
    ] {
        let result = tokens(200, &[JSON], &with_expires_in(value));
        assert_eq!(malformed(result).0, not_whole, "expires_in {value}");
    }
    assert_eq!(
        malformed(tokens(200, &[JSON], &with_expires_in("0"))).0,
        "`expires_in` is zero"
    );
    for value in ["null", "true", "[3600]"] {
        let result = tokens(200, &[JSON], &with_expires_in(value));
        assert_eq!(
            malformed(result).0,
            "`expires_in` is missing",
            "expires_in {value}"
        );
    }
    // A float too large for f64 is a JSON syntax error.
    let result = tokens(200, &[JSON], &with_expires_in("1e400"));
    assert_eq!(malformed(result).0, "the body is not a JSON object");
}

#[test]
fn wrong_content_types() {
    let html = GateSignal::HtmlPage;
    // text/html with 200, even around a JSON body: the sandbox gate.
    let error = failure(200, &[("content-type", b"text/html")], b"{}").unwrap();
    assert_eq!(error.kind, ErrorKind::SandboxGate(html));
    assert!(matches!(
        tokens(
            200,
            &[("content-type", b"text/html; charset=utf-8")],
            TOKEN.as_bytes()
        ),
        Err(TokenResponseError::SandboxGate {
            signal: GateSignal::HtmlPage,
            ..
        })
    ));
    // An HTML body with no content type: the gate too.
    let error = failure(200, &[], b"  <!doctype html><html>").unwrap();
    assert_eq!(error.kind, ErrorKind::SandboxGate(html));
    // JSON labelled text/plain: not JSON for `classify`, but the token parser reads it.
    let error = failure(200, &[("content-type", b"text/plain")], b"{}").unwrap();
    assert_eq!(error.kind, ErrorKind::UnexpectedContent);
    assert!(tokens(200, &[("content-type", b"text/plain")], TOKEN.as_bytes()).is_ok());
    // No content type: the first byte decides.
    assert!(failure(200, &[], b"{}").is_none());
    assert_eq!(
        failure(200, &[], b"ok").unwrap().kind,
        ErrorKind::UnexpectedContent
    );
    assert!(tokens(200, &[], TOKEN.as_bytes()).is_ok());
}

#[test]
fn hostile_redirects() {
    let redirect = |location: &[u8]| failure(302, &[("location", location)], b"").unwrap().kind;
    let host = |h: &str| ErrorKind::UnexpectedRedirect {
        host: Some(h.into()),
    };
    let none = ErrorKind::UnexpectedRedirect { host: None };
    assert_eq!(
        redirect(b"https://evil.example/steal?token=x"),
        host("evil.example")
    );
    assert_eq!(
        redirect(b"https://qonto.onelogin.com.evil.example/"),
        host("qonto.onelogin.com.evil.example")
    );
    assert_eq!(
        redirect(b"https://qonto.onelogin.com@evil.example/"),
        host("evil.example")
    );
    assert_eq!(redirect(b"//evil.example/x"), none);
    assert_eq!(redirect(b"/relative/path"), none);
    // `http` reads `javascript:alert(1)` as authority form: `javascript` is the "host".
    assert_eq!(redirect(b"javascript:alert(1)"), host("javascript"));
    assert_eq!(redirect(b"::::not a url"), none);
    assert_eq!(redirect(b""), none);
    // Case does not hide the gate.
    assert_eq!(
        redirect(b"HTTPS://QONTO.ONELOGIN.COM/login"),
        ErrorKind::SandboxGate(GateSignal::RedirectToOneLogin)
    );
    // The token endpoint never follows: any non-gate redirect is an unexpected status.
    let result = tokens(302, &[("location", b"https://evil.example/")], b"");
    assert!(matches!(
        result,
        Err(TokenResponseError::UnexpectedStatus { .. })
    ));
}

#[test]
fn forged_and_ambiguous_callbacks() {
    let ours = CsrfState::from_bytes([0xab; 32]);
    let forged = CsrfState::from_bytes([0xcd; 32]);
    let (s, f) = (ours.as_str(), forged.as_str());
    let upper = s.to_ascii_uppercase();
    let cases = [
        (
            format!("/cb?code=c&state={s}&state={s}"),
            CallbackError::DuplicateParameter,
        ),
        (
            format!("/cb?code=c&state={f}&state={s}"),
            CallbackError::DuplicateParameter,
        ),
        (
            format!("/cb?code=a&code=b&state={s}"),
            CallbackError::DuplicateParameter,
        ),
        ("/cb?code=c".to_owned(), CallbackError::StateMissing),
        ("/cb?code=c&state=".to_owned(), CallbackError::StateMismatch),
        (
            format!("/cb?code=c&state={f}"),
            CallbackError::StateMismatch,
        ),
        (
            format!("/cb?code=c&state={upper}"),
            CallbackError::StateMismatch,
        ),
        (
            format!("/cb?code=c&state={}", &s[..63]),
            CallbackError::StateMismatch,
        ),
        (
            format!("/cb?error=access_denied&state={f}"),
            CallbackError::StateMismatch,
        ),
        (format!("/cb#code=c&state={s}"), CallbackError::StateMissing),
        (format!("/cb?state={s}&code="), CallbackError::CodeMissing),
        ("https://app.example/cb".to_owned(), CallbackError::NoQuery),
    ];
    for (url, expected) in cases {
        assert_eq!(parse_callback(&url, &ours).err(), Some(expected), "{url}");
    }
    // Control characters in a reported error are stripped before display.
    let url = format!("/cb?error=access%07denied&error_description=a%0Ab%1B&state={s}");
    assert_eq!(
        parse_callback(&url, &ours).unwrap_err(),
        CallbackError::Denied {
            error: "accessdenied".into(),
            description: Some("ab".into())
        }
    );
    // A percent-encoded state is decoded before the comparison.
    let encoded: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
    assert!(parse_callback(&format!("/cb?code=c&state={encoded}"), &ours).is_ok());
}

#[test]
fn credentials_with_control_characters() {
    // Line breaks are caught by the checks.
    assert_eq!(
        check_api_key("org-1:secret\r\n"),
        vec![ApiKeyProblem::Whitespace(WhitespaceKind::LineBreak)]
    );
    assert_eq!(
        check_access_token("ory_at_a\nb"),
        vec![AccessTokenProblem::Whitespace(WhitespaceKind::LineBreak)]
    );
    // Tab and no-break space are whitespace.
    assert_eq!(
        check_api_key("org-1:sec\tret"),
        vec![ApiKeyProblem::Whitespace(WhitespaceKind::Embedded)]
    );
    assert_eq!(
        check_access_token("ory_at_a\u{a0}b"),
        vec![AccessTokenProblem::Whitespace(WhitespaceKind::Embedded)]
    );
    // Other control characters and non-ASCII characters (a zero-width space pasted from a web
    // page) are their own problem, found before any request.
    for raw in [
        "org-1:sec\0ret",
        "\u{1b}[31morg-1:secret",
        "org-1:secret\u{7f}",
        "org-1:sec\u{200b}ret",
    ] {
        assert!(
            check_api_key(raw).contains(&ApiKeyProblem::InvalidCharacter),
            "{raw:?}"
        );
        assert_eq!(
            ApiKey::parse(raw).unwrap_err(),
            ApiKeyProblem::InvalidCharacter
        );
    }
    for raw in ["ory_at_\0x", "ory_at_\u{7f}", "ory_at_\u{200b}x"] {
        assert_eq!(
            check_access_token(raw),
            vec![AccessTokenProblem::InvalidCharacter],
            "{raw:?}"
        );
        // Even when built by hand, such a token is never put in a header.
        assert_eq!(
            bearer(&AccessToken::new(raw)).is_err(),
            !raw.contains('\u{200b}')
        );
    }
}

#[test]
fn corrupt_persisted_tokens() {
    let doc = |extra: &str| {
        format!(r#"{{"format":1,"access_token":"ory_at_a","expires_at_ms":1{extra}}}"#).into_bytes()
    };
    assert!(TokenSet::from_persisted_json(&doc("")).is_ok());
    assert_eq!(
        TokenSet::from_persisted_json(br#"{"format":"1"}"#).unwrap_err(),
        PersistedTokensError::Missing("format")
    );
    assert_eq!(
        TokenSet::from_persisted_json(br#"{"format":99}"#).unwrap_err(),
        PersistedTokensError::UnsupportedFormat(99)
    );
    for (field, value) in [
        ("expires_at_ms", "-1"),
        ("expires_at_ms", "1.5"),
        ("expires_at_ms", "\"1\""),
        ("refresh_token", "5"),
        ("refresh_token", "\"\""),
        ("scope", "[]"),
    ] {
        let body = doc(&format!(r#","{field}":{value}"#));
        // A repeated key keeps the last value, so `expires_at_ms` is overridden here.
        assert_eq!(
            TokenSet::from_persisted_json(&body).unwrap_err(),
            PersistedTokensError::Invalid(field),
            "{field}: {value}"
        );
    }
}
