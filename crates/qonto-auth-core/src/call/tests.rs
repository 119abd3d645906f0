//! Transcript tests of the call machine: every step, with no I/O.

use http::{HeaderName, HeaderValue, Method, Response, StatusCode};

use super::*;
use crate::environment::{Endpoints, EnvironmentKind};
use crate::header::{ExactCase, staging_token_header};
use crate::lifecycle::{ReauthReason, SendStage};
use crate::secret::{AccessToken, StagingToken};

fn sandbox() -> Environment {
    Environment::new(
        EnvironmentKind::Sandbox,
        Some(StagingToken::new("stg-1")),
        Endpoints::new("http://127.0.0.1:9", "http://127.0.0.1:9").unwrap(),
    )
    .unwrap()
}

fn key() -> Credential {
    let mut header = HeaderValue::from_static("org-1:secret");
    header.set_sensitive(true);
    Credential {
        header,
        fingerprint: None,
    }
}

fn oauth(token: &str) -> Credential {
    Credential {
        header: HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        fingerprint: Some(AccessToken::new(token).fingerprint()),
    }
}

fn answer(status: u16, body: &str) -> Result<Response<Vec<u8>>, SendFailure> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-tyk-trace-id", "trace-1")
        .body(body.as_bytes().to_vec())
        .unwrap())
}

fn name(step: &CallStep) -> String {
    match step {
        CallStep::Authorize => "authorize".into(),
        CallStep::Send(r) => format!("send {} {}", r.method(), r.uri().path()),
        CallStep::Unauthorized(_) => "unauthorized".into(),
        CallStep::Done(Ok(r)) => format!("done {}", r.status.as_u16()),
        CallStep::Done(Err(e)) => format!("failed {e}"),
    }
}

#[test]
fn an_api_key_call_carries_every_header_and_succeeds() {
    let spec = CallSpec::new(Method::POST, "/v2/things?x=1")
        .json_body(b"{\"a\":1}".to_vec())
        .header(
            HeaderName::from_static("x-qonto-idempotency-key"),
            HeaderValue::from_static("k-1"),
        );
    let mut call = Call::new(&sandbox(), spec).unwrap();
    assert!(matches!(call.start(), CallStep::Authorize));
    let CallStep::Send(request) = call.handle_credential(Ok(key())) else {
        panic!()
    };
    assert_eq!(request.uri(), "http://127.0.0.1:9/v2/things?x=1");
    let headers = request.headers();
    assert_eq!(headers["authorization"], "org-1:secret");
    assert!(headers["authorization"].is_sensitive());
    assert_eq!(headers[staging_token_header()], "stg-1");
    assert!(headers[staging_token_header()].is_sensitive());
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["x-qonto-idempotency-key"], "k-1");
    assert_eq!(request.body(), b"{\"a\":1}");
    assert_eq!(
        request.extensions().get::<ExactCase>(),
        Some(&ExactCase::STAGING),
        "the staging header's casing travels with the request"
    );
    let CallStep::Done(Ok(response)) = call.handle_sent(answer(201, "{}")) else {
        panic!()
    };
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.trace_id(), Some("trace-1"));
}

#[test]
fn a_401_on_an_oauth_token_is_retried_once_with_the_same_request() {
    let mut call = Call::new(&sandbox(), CallSpec::get("/v2/organization")).unwrap();
    let mut log = Vec::new();
    let mut step = call.start();
    let mut sent = Vec::new();
    let mut tokens = ["ory_at_1", "ory_at_2"].into_iter();
    loop {
        log.push(name(&step));
        step = match step {
            CallStep::Authorize => call.handle_credential(Ok(oauth(tokens.next().unwrap()))),
            CallStep::Send(request) => {
                sent.push(request);
                call.handle_sent(answer(401, r#"{"errors":[{"code":"unauthorized"}]}"#))
            }
            CallStep::Unauthorized(used) => {
                assert_eq!(used, AccessToken::new("ory_at_1").fingerprint());
                call.handle_advice(UnauthorizedAdvice::RefreshThenRetry)
            }
            CallStep::Done(result) => {
                assert!(result.unwrap_err().to_string().contains("trace-1"));
                break;
            }
        };
    }
    assert_eq!(
        log,
        [
            "authorize",
            "send GET /v2/organization",
            "unauthorized",
            "authorize",
            "send GET /v2/organization",
            "failed the credentials were rejected (401) [unauthorized] (trace id trace-1)"
        ],
        "one retry, never two"
    );
    // The replay differs from the original only by its credential.
    let (first, second) = (&sent[0], &sent[1]);
    assert_eq!(first.uri(), second.uri());
    let strip = |r: &Request<Vec<u8>>| {
        let mut h = r.headers().clone();
        h.remove("authorization");
        h
    };
    assert_eq!(strip(first), strip(second));
    assert_eq!(second.headers()["authorization"], "Bearer ory_at_2");
}

#[test]
fn giving_up_reports_the_grant_or_the_401() {
    let reauth = RefreshError::ReauthRequired(ReauthReason::NoRefreshToken);
    for (advice, code) in [
        (
            UnauthorizedAdvice::GiveUp(Some(reauth)),
            "reauthorization_required",
        ),
        (UnauthorizedAdvice::GiveUp(None), "unauthorized"),
    ] {
        let mut call = Call::new(&sandbox(), CallSpec::get("/v2/x")).unwrap();
        let _ = call.start();
        let _ = call.handle_credential(Ok(oauth("ory_at_1")));
        assert!(matches!(
            call.handle_sent(answer(401, "{}")),
            CallStep::Unauthorized(_)
        ));
        let CallStep::Done(Err(error)) = call.handle_advice(advice) else {
            panic!()
        };
        let found = match &error {
            CallError::Auth(e) => e.code(),
            CallError::Api(e) => e.code(),
            other => panic!("{other:?}"),
        };
        assert_eq!(found, code);
    }
}

#[test]
fn a_static_key_401_and_other_failures_end_at_once() {
    let mut call = Call::new(&sandbox(), CallSpec::get("/v2/x")).unwrap();
    let _ = call.start();
    let _ = call.handle_credential(Ok(key()));
    assert!(matches!(
        call.handle_sent(answer(401, "{}")),
        CallStep::Done(Err(CallError::Api(_)))
    ));
    let failure = NetworkFailure {
        stage: SendStage::NotSent,
        description: "refused".into(),
    };
    for (sent, expected) in [
        (Err(SendFailure::Failed(failure)), "network error: refused"),
        (
            Err(SendFailure::TooLarge(10)),
            "response body larger than 10 bytes",
        ),
        (
            answer(429, "{}"),
            "rate limited (429) [rate_limited] (trace id trace-1)",
        ),
    ] {
        let mut call = Call::new(&sandbox(), CallSpec::get("/v2/x")).unwrap();
        let _ = call.start();
        let _ = call.handle_credential(Ok(oauth("ory_at_1")));
        let CallStep::Done(Err(error)) = call.handle_sent(sent) else {
            panic!()
        };
        assert_eq!(error.to_string(), expected);
    }
    let mut call = Call::new(&sandbox(), CallSpec::get("/v2/x")).unwrap();
    let _ = call.start();
    let unavailable = CallError::Auth(RefreshError::ReauthRequired(ReauthReason::NotLoggedIn));
    assert!(matches!(
        call.handle_credential(Err(unavailable)),
        CallStep::Done(Err(CallError::Auth(_)))
    ));
}

#[test]
fn driving_out_of_order_is_its_own_error_and_paths_stay_on_the_host() {
    let mut call = Call::new(&sandbox(), CallSpec::get("/v2/x")).unwrap();
    assert!(matches!(
        call.handle_sent(answer(200, "{}")),
        CallStep::Done(Err(CallError::Request(RequestError::DriverMisuse(_))))
    ));
    let mut call = Call::new(&sandbox(), CallSpec::get("/v2/x")).unwrap();
    let _ = call.start();
    assert!(matches!(
        call.handle_advice(UnauthorizedAdvice::RefreshThenRetry),
        CallStep::Done(Err(CallError::Request(RequestError::DriverMisuse(_))))
    ));
    for path in ["https://evil.example/x", "//evil.example/x", "x"] {
        assert!(
            matches!(
                Call::new(&sandbox(), CallSpec::get(path)),
                Err(RequestError::Path(_))
            ),
            "{path}"
        );
    }
}

#[test]
fn a_spec_never_shows_its_body_or_sensitive_headers() {
    let mut secret = HeaderValue::from_static("SENTINEL");
    secret.set_sensitive(true);
    let spec = CallSpec::new(Method::POST, "/v2/x")
        .json_body(b"SENTINEL".to_vec())
        .header(HeaderName::from_static("x-qonto-mfa"), secret);
    assert!(!format!("{spec:?}").contains("SENTINEL"));
}

#[test]
fn what_a_server_echoes_of_the_secrets_sent_is_cut_out() {
    let sentinel = "SENTINELx7q";
    let staging = Environment::new(
        EnvironmentKind::Sandbox,
        Some(StagingToken::new(format!("stg-{sentinel}"))),
        Endpoints::new("http://127.0.0.1:9", "http://127.0.0.1:9").unwrap(),
    )
    .unwrap();
    let mut header = HeaderValue::from_str(&format!("org-1:key-{sentinel}")).unwrap();
    header.set_sensitive(true);
    let echo = format!(
        r#"{{"errors":[{{"code":"org-1:key-{sentinel}","detail":"bad header org-1:key-{sentinel} with staging stg-{sentinel}","source":{{"parameter":"key-{sentinel}"}}}}],"trace_id":"key-{sentinel}"}}"#
    );
    let redirect = Response::builder()
        .status(302)
        .header("location", format!("https://key-{sentinel}.evil.example/x"))
        .body(Vec::new())
        .unwrap();
    for answer in [answer(401, &echo), answer(500, &echo), Ok(redirect)] {
        let mut call = Call::new(&staging, CallSpec::get("/v2/x")).unwrap();
        let _ = call.start();
        let credential = Credential {
            header: header.clone(),
            fingerprint: None,
        };
        let _ = call.handle_credential(Ok(credential));
        let CallStep::Done(Err(error)) = call.handle_sent(answer) else {
            panic!()
        };
        let text = format!("{error} {error:?}");
        assert!(!text.contains(sentinel), "{text}");
    }
}

#[test]
fn a_403_about_the_organization_says_whether_one_was_named() {
    use crate::environment::OrganizationId;
    let body =
        r#"{"errors":[{"code":"forbidden","detail":"organization not allowed for this token"}]}"#;
    let named = sandbox().with_organization_id(OrganizationId::parse("org-1").unwrap());
    for (environment, code) in [
        (named, "organization_not_consented"),
        (sandbox(), "organization_header_missing"),
    ] {
        let mut call = Call::new(&environment, CallSpec::get("/v2/x")).unwrap();
        let _ = call.start();
        let CallStep::Send(request) = call.handle_credential(Ok(key())) else {
            panic!()
        };
        let named = request.headers().get("x-qonto-organization-id");
        assert_eq!(named.is_some(), code == "organization_not_consented");
        let CallStep::Done(Err(CallError::Api(error))) = call.handle_sent(answer(403, body)) else {
            panic!()
        };
        assert_eq!(error.code(), code);
    }
    assert!(OrganizationId::parse("../x").is_err() && OrganizationId::parse("").is_err());
}
