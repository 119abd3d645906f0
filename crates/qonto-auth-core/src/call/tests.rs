//! Transcript tests of the call machine: every step, with no I/O.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};

use super::*;
use crate::environment::{Endpoints, EnvironmentKind};
use crate::header::{ExactCase, staging_token_header};
use crate::lifecycle::{ReauthReason, SendStage};
use crate::secret::{AccessToken, StagingToken};

const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

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
        CallStep::Sca(c) => format!("sca {}", c.message),
        CallStep::Sleep(until) => format!("sleep {}", until.saturating_since(T0).as_secs()),
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
    let CallStep::Done(Ok(response)) = call.handle_sent(T0, answer(201, "{}")) else {
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
                call.handle_sent(T0, answer(401, r#"{"errors":[{"code":"unauthorized"}]}"#))
            }
            CallStep::Unauthorized(used) => {
                assert_eq!(used, AccessToken::new("ory_at_1").fingerprint());
                call.handle_advice(UnauthorizedAdvice::RefreshThenRetry)
            }
            CallStep::Done(result) => {
                assert!(result.unwrap_err().to_string().contains("trace-1"));
                break;
            }
            other @ (CallStep::Sca(_) | CallStep::Sleep(_)) => panic!("{other:?}"),
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
            call.handle_sent(T0, answer(401, "{}")),
            CallStep::Unauthorized(_)
        ));
        let CallStep::Done(Err(error)) = call.handle_advice(advice) else {
            panic!()
        };
        assert_eq!(error.code(), code);
    }
}

#[test]
fn a_static_key_401_and_other_failures_end_at_once() {
    let mut call = Call::new(&sandbox(), CallSpec::get("/v2/x")).unwrap();
    let _ = call.start();
    let _ = call.handle_credential(Ok(key()));
    assert!(matches!(
        call.handle_sent(T0, answer(401, "{}")),
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
        let CallStep::Done(Err(error)) = call.handle_sent(T0, sent) else {
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
        call.handle_sent(T0, answer(200, "{}")),
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
        let CallStep::Done(Err(error)) = call.handle_sent(T0, answer) else {
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
        let CallStep::Done(Err(CallError::Api(error))) = call.handle_sent(T0, answer(403, body))
        else {
            panic!()
        };
        assert_eq!(error.code(), code);
    }
    assert!(OrganizationId::parse("../x").is_err() && OrganizationId::parse("").is_err());
}

// --- Strong customer authentication, idempotency and retries --------------------------------

const TOKEN: &str = "sca-TOKEN_0123456789";

fn challenge_body() -> String {
    format!(r#"{{"code":"sca_required","message":"SCA required","sca_session_token":"{TOKEN}"}}"#)
}

fn transfer(preference: Option<ScaPreference>) -> Call {
    let mut spec =
        CallSpec::new(Method::POST, "/v2/sepa/transfers").json_body(b"{\"amount\":1}".to_vec());
    if let Some(p) = preference {
        spec = spec.sca_preference(p);
    }
    Call::new(&sandbox(), spec).unwrap()
}

/// Drives a transfer through SCA, the session answering each poll from `decisions` (the last
/// repeats), and the replay answered `replay`; returns the log and the requests sent.
fn drive_sca(
    decisions: &[&str],
    replay: (u16, &str),
) -> (Vec<String>, Vec<Request<Vec<u8>>>, CallStep) {
    let mut call = transfer(None);
    let mut step = call.start();
    let (mut log, mut sent) = (Vec::new(), Vec::new());
    let mut now = T0;
    let mut polls = 0;
    loop {
        log.push(name(&step));
        step = match step {
            CallStep::Authorize => call.handle_credential(Ok(oauth("ory_at_1"))),
            CallStep::Send(request) => {
                let path = request.uri().path().to_owned();
                sent.push(request);
                if path.starts_with("/v2/sca_sessions/") {
                    let decision = decisions[polls.min(decisions.len() - 1)];
                    polls += 1;
                    call.handle_sent(
                        now,
                        answer(
                            200,
                            &format!(r#"{{"result":"{decision}","canceled_at":""}}"#),
                        ),
                    )
                } else if sent.len() == 1 {
                    call.handle_sent(now, answer(428, &challenge_body()))
                } else {
                    call.handle_sent(now, answer(replay.0, replay.1))
                }
            }
            CallStep::Sca(_) => call.handle_sca_wait(now),
            CallStep::Sleep(until) => {
                assert!(
                    until >= now + secs(1) || until == call.sca_challenge().unwrap().deadline,
                    "never faster than once a second"
                );
                now = until;
                call.handle_timeout(now)
            }
            done @ CallStep::Done(_) => return (log, sent, done),
            CallStep::Unauthorized(_) => panic!("no 401 here"),
        };
        assert!(log.len() < 3_000, "bounded");
    }
}

#[test]
fn an_approved_transfer_is_replayed_unchanged_but_for_the_session_token() {
    let (log, sent, done) = drive_sca(&["waiting", "waiting", "allow"], (201, "{}"));
    assert_eq!(
        log,
        [
            "authorize",
            "send POST /v2/sepa/transfers",
            "sca SCA required",
            "sleep 1",
            "authorize",
            &format!("send GET /v2/sca_sessions/{TOKEN}"),
            "sleep 2",
            "authorize",
            &format!("send GET /v2/sca_sessions/{TOKEN}"),
            "sleep 3",
            "authorize",
            &format!("send GET /v2/sca_sessions/{TOKEN}"),
            "authorize",
            "send POST /v2/sepa/transfers",
            "done 201",
        ]
    );
    assert!(matches!(done, CallStep::Done(Ok(_))));
    let (original, replay) = (&sent[0], &sent[4]);
    assert_eq!(
        (original.method(), original.uri(), original.body()),
        (replay.method(), replay.uri(), replay.body())
    );
    let mut headers = replay.headers().clone();
    let session = headers.remove(facts::SCA_SESSION_HEADER).unwrap();
    assert_eq!(session, TOKEN);
    assert!(session.is_sensitive());
    assert_eq!(
        &headers,
        original.headers(),
        "the replay differs only by the session token"
    );
    let key = original.headers()[facts::IDEMPOTENCY_HEADER]
        .to_str()
        .unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(key).unwrap().get_version_num(),
        4,
        "a UUID v4"
    );
    // The polls carry the credential and staging token, not the body or the idempotency key.
    let poll = &sent[1];
    assert!(poll.body().is_empty());
    assert!(poll.headers().get(facts::IDEMPOTENCY_HEADER).is_none());
    assert!(poll.headers().get("content-type").is_none());
    assert_eq!(poll.headers()["x-qonto-staging-token"], "stg-1");
}

#[test]
fn denial_expiry_and_an_unusable_session_end_with_their_own_errors() {
    let (_, _, done) = drive_sca(&["waiting", "deny"], (201, "{}"));
    assert!(matches!(
        done,
        CallStep::Done(Err(CallError::Sca(ScaError::Denied { .. })))
    ));
    let (log, sent, done) = drive_sca(&["waiting"], (201, "{}"));
    assert!(matches!(
        done,
        CallStep::Done(Err(CallError::Sca(ScaError::Expired { .. })))
    ));
    let polls = sent.iter().filter(|r| r.method() == Method::GET).count();
    assert!(
        (895..=900).contains(&polls),
        "{polls} polls in 15 minutes, at most one a second"
    );
    assert!(log.len() < 3_000);
    let (_, _, done) = drive_sca(
        &["allow"],
        (412, r#"{"message":"the session cannot be used"}"#),
    );
    let CallStep::Done(Err(CallError::Api(error))) = done else {
        panic!()
    };
    assert_eq!(error.code(), "sca_session_unusable");
}

#[test]
fn a_428_without_a_token_is_not_enrolled_and_bad_challenges_are_typed() {
    for (body, expected) in [
        (
            r#"{"code":"sca_not_enrolled","message":"enable a paired device"}"#.to_owned(),
            "sca_not_enrolled",
        ),
        (
            format!(r#"{{"sca_session_token":"{}"}}"#, "x".repeat(100_000)),
            "sca_challenge_invalid",
        ),
        (
            r#"{"sca_session_token":"../../v2/other"}"#.to_owned(),
            "sca_challenge_invalid",
        ),
        ("<html>".to_owned(), "sca_not_enrolled"),
    ] {
        let mut call = transfer(None);
        let _ = call.start();
        let _ = call.handle_credential(Ok(oauth("ory_at_1")));
        let short: String = body.chars().take(60).collect();
        let CallStep::Done(Err(CallError::Sca(error))) = call.handle_sent(T0, answer(428, &body))
        else {
            panic!("{short}")
        };
        assert_eq!(error.code(), expected, "{short}");
    }
}

/// A transfer challenged at `T0` whose first session poll is about to be answered.
fn at_first_poll() -> Call {
    let mut call = transfer(None);
    let _ = call.start();
    let _ = call.handle_credential(Ok(oauth("ory_at_1")));
    let _ = call.handle_sent(T0, answer(428, &challenge_body()));
    let _ = call.handle_sca_wait(T0);
    let _ = call.handle_timeout(T0 + secs(1));
    let _ = call.handle_credential(Ok(oauth("ory_at_1")));
    call
}

#[test]
fn a_session_endpoint_answering_garbage_or_html_ends_at_once() {
    for (status, body, expected) in [
        (200, "{}", "sca_session_unreadable"),
        (200, "not json", "sca_session_unreadable"),
        (
            404,
            r#"{"errors":[{"code":"not_found","detail":"unknown or expired SCA session"}]}"#,
            "sca_expired",
        ),
    ] {
        let mut call = at_first_poll();
        let CallStep::Done(Err(error)) = call.handle_sent(T0 + secs(1), answer(status, body))
        else {
            panic!()
        };
        assert_eq!(error.code(), expected);
    }
    let mut call = at_first_poll();
    let html = Ok(Response::builder()
        .status(200)
        .header("content-type", "text/html")
        .body(b"<!doctype html>".to_vec())
        .unwrap());
    let CallStep::Done(Err(CallError::Api(error))) = call.handle_sent(T0 + secs(1), html) else {
        panic!()
    };
    assert_eq!(error.code(), "sandbox_gate");
}

#[test]
fn sms_otp_replays_with_the_code_and_never_polls() {
    let mut call = transfer(Some(ScaPreference::SmsOtp));
    let _ = call.start();
    let CallStep::Send(original) = call.handle_credential(Ok(oauth("ory_at_1"))) else {
        panic!()
    };
    assert_eq!(original.headers()[facts::SCA_PREFERENCE_HEADER], "sms-otp");
    let CallStep::Sca(challenge) = call.handle_sent(T0, answer(428, &challenge_body())) else {
        panic!()
    };
    assert!(challenge.needs_otp);
    assert!(matches!(call.handle_otp(" 123456 "), CallStep::Authorize));
    let CallStep::Send(replay) = call.handle_credential(Ok(oauth("ory_at_1"))) else {
        panic!()
    };
    assert_eq!(replay.headers()[facts::SCA_OTP_HEADER], "123456");
    assert!(replay.headers()[facts::SCA_OTP_HEADER].is_sensitive());
    assert_eq!(
        replay.headers()[facts::SCA_PREFERENCE_HEADER],
        "sms-otp",
        "the same preference"
    );
    // Waiting without the code is an error, not a poll.
    let mut call = transfer(Some(ScaPreference::SmsOtp));
    let _ = call.start();
    let _ = call.handle_credential(Ok(oauth("ory_at_1")));
    let _ = call.handle_sent(T0, answer(428, &challenge_body()));
    assert!(matches!(
        call.handle_sca_wait(T0),
        CallStep::Done(Err(CallError::Sca(ScaError::OtpRequired)))
    ));
}

fn lost(stage: SendStage) -> Result<Response<Vec<u8>>, SendFailure> {
    Err(SendFailure::Failed(NetworkFailure {
        stage,
        description: "reset".into(),
    }))
}

#[test]
fn retries_keep_the_idempotency_key_and_a_keyless_write_is_never_resent() {
    let retrying =
        |spec: CallSpec| Call::new(&sandbox(), spec.retry(RetryPolicy::attempts(3))).unwrap();
    // A write with its key: a lost answer is retried, with the same key.
    let mut call = retrying(CallSpec::new(Method::POST, "/v2/x"));
    let _ = call.start();
    let CallStep::Send(first) = call.handle_credential(Ok(key())) else {
        panic!()
    };
    let CallStep::Sleep(until) = call.handle_sent(T0, lost(SendStage::MaybeSent)) else {
        panic!()
    };
    assert!(until > T0);
    assert!(matches!(call.handle_timeout(until), CallStep::Authorize));
    let CallStep::Send(second) = call.handle_credential(Ok(key())) else {
        panic!()
    };
    assert_eq!(
        first.headers()[facts::IDEMPOTENCY_HEADER],
        second.headers()[facts::IDEMPOTENCY_HEADER]
    );
    // Without a key: a lost answer is final; a connection refused is retried.
    let mut call = retrying(CallSpec::new(Method::POST, "/v2/x").without_idempotency_key());
    let _ = call.start();
    let CallStep::Send(request) = call.handle_credential(Ok(key())) else {
        panic!()
    };
    assert!(request.headers().get(facts::IDEMPOTENCY_HEADER).is_none());
    assert!(matches!(
        call.handle_sent(T0, lost(SendStage::MaybeSent)),
        CallStep::Done(Err(CallError::Network(_)))
    ));
    let mut call = retrying(CallSpec::new(Method::POST, "/v2/x").without_idempotency_key());
    let _ = call.start();
    let _ = call.handle_credential(Ok(key()));
    assert!(matches!(
        call.handle_sent(T0, lost(SendStage::NotSent)),
        CallStep::Sleep(_)
    ));
    // A given key is sent as is; retries stop at the policy's count.
    let mut call = retrying(CallSpec::new(Method::PUT, "/v2/x").idempotency_key("k-1"));
    let _ = call.start();
    for attempt in 1..=3 {
        let CallStep::Send(request) = call.handle_credential(Ok(key())) else {
            panic!()
        };
        assert_eq!(request.headers()[facts::IDEMPOTENCY_HEADER], "k-1");
        match call.handle_sent(T0, answer(503, "{}")) {
            CallStep::Sleep(until) => {
                assert!(attempt < 3);
                let _ = call.handle_timeout(until);
            }
            CallStep::Done(Err(CallError::Api(e))) => {
                assert_eq!((attempt, e.code().as_str()), (3, "server_error"));
            }
            other => panic!("{other:?}"),
        }
    }
    // No policy: nothing is retried; a GET gets no key.
    let mut call = Call::new(&sandbox(), CallSpec::get("/v2/x")).unwrap();
    let _ = call.start();
    let CallStep::Send(request) = call.handle_credential(Ok(key())) else {
        panic!()
    };
    assert!(request.headers().get(facts::IDEMPOTENCY_HEADER).is_none());
    assert!(matches!(
        call.handle_sent(T0, lost(SendStage::NotSent)),
        CallStep::Done(Err(_))
    ));
}

#[test]
fn a_429_waits_as_retry_after_says_in_seconds_or_as_a_date() {
    let mut call = Call::new(
        &sandbox(),
        CallSpec::get("/v2/x").retry(RetryPolicy::attempts(2)),
    )
    .unwrap();
    let _ = call.start();
    let _ = call.handle_credential(Ok(key()));
    let date = httpdate::fmt_http_date(std::time::UNIX_EPOCH + secs(T0.unix_secs() + 7));
    let limited = Response::builder()
        .status(429)
        .header("retry-after", date)
        .body(Vec::new())
        .unwrap();
    let CallStep::Sleep(until) = call.handle_sent(T0, Ok(limited)) else {
        panic!()
    };
    assert_eq!(until, T0 + secs(7));
}
