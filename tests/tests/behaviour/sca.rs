//! Writes behind strong customer authentication and idempotency keys, against qonto-mock's
//! `POST /v2/sepa/transfers`: approval, denial, expiry, no paired device, an unusable session,
//! the sms-otp method, replay of a kept answer, and opted-in retries. The transports' waits
//! move the mock's clock (see `Kind::for_mock`), so a 15-minute session takes no real time.

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::call::ScaError;
use qonto_auth_core::http::Method;
use qonto_e2e::driver::{Client, Kind};
use qonto_e2e::issued_tokens_for;
use qonto_mock::{MockConfig, MockServer, ScaDecision, ScaSetup};
use qonto_store::MemoryStore;
use qonto_ureq::{CallSpec, Error, RetryPolicy, ScaPending, ScaPreference};
use serde_json::{Value, json};

use crate::support::{mock, oauth_on, start};

scenarios!(
    an_approved_transfer_is_replayed_with_only_the_session_token_added,
    the_waiting_call_tells_the_user_then_finishes,
    a_denied_transfer_is_a_typed_error,
    a_session_never_decided_expires_at_fifteen_minutes,
    a_user_without_a_paired_device_is_not_enrolled,
    an_unusable_session_is_a_412,
    sms_otp_replays_with_the_code,
    an_idempotency_key_gets_the_first_answer_back,
    opted_in_retries_ride_out_server_errors,
    a_write_that_may_have_been_sent_is_retried_only_with_its_key,
);

const TRANSFERS: &str = "/v2/sepa/transfers";

fn writer(kind: Kind, mock: &MockServer) -> Client {
    let tokens = issued_tokens_for(mock, "offline_access payment.write");
    oauth_on(kind, mock, Arc::new(MemoryStore::with_tokens(tokens)))
}

fn transfer() -> CallSpec {
    let body = json!({"amount": "12.50", "reference": "invoice 7"});
    CallSpec::new(Method::POST, TRANSFERS).json(Some(&body))
}

/// The challenge a first call stops at.
fn challenged(client: &Client, spec: CallSpec) -> ScaPending {
    match client.call(spec) {
        Err(Error::ScaRequired(pending)) => *pending,
        other => panic!("expected an SCA challenge, got {other:?}"),
    }
}

/// The header lines of a request head, in order, without the request line.
fn header_lines(head: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn an_approved_transfer_is_replayed_with_only_the_session_token_added(kind: Kind) {
    let mock = mock();
    let client = writer(kind, &mock);
    let pending = challenged(&client, transfer());
    assert_eq!(pending.challenge().message, "SCA required");
    let shown = format!("{pending:?} {}", pending.challenge().message);
    let original = mock
        .last_request_head(TRANSFERS)
        .expect("the original was sent");
    assert_eq!(mock.decide_sca(ScaDecision::Allow), 1);
    let answer = client.resume(pending, None).expect("approved");
    assert_eq!(answer.status, 200);
    let body: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["transfer"]["amount"], "12.50");
    assert_eq!(mock.transfers_created(), 1);

    let replay = mock
        .last_request_head(TRANSFERS)
        .expect("the replay was sent");
    let (original, mut replay) = (header_lines(&original), header_lines(&replay));
    let at = replay
        .iter()
        .position(|l| {
            l.to_ascii_lowercase()
                .starts_with("x-qonto-sca-session-token:")
        })
        .expect("the replay carries the session token");
    let token = replay.remove(at).split_once(": ").unwrap().1.to_owned();
    assert_eq!(token.len(), 64);
    assert_eq!(replay, original, "nothing else differs");
    assert!(!shown.contains(&token), "the session token is never shown");
}

fn the_waiting_call_tells_the_user_then_finishes(kind: Kind) {
    let mock = mock();
    let client = writer(kind, &mock);
    let mut told = None;
    let answer = client
        .call_with_sca(
            transfer().sca_preference(ScaPreference::Mock),
            |challenge| {
                told = Some(challenge.clone());
                // The user approves on their phone while the call waits.
                assert_eq!(mock.decide_sca(ScaDecision::Allow), 1);
            },
        )
        .expect("approved");
    assert_eq!(answer.status, 200);
    let told = told.expect("the user was told");
    assert_eq!(told.preference, ScaPreference::Mock);
    assert!(told.trace_id.is_some());
    // Sandbox's mock method is polled on its own path, at most once a second.
    let polls = mock
        .stats()
        .requests_prefixed("/v2/mocked_sca_sessions/", 200);
    assert_eq!(polls, 1);
}

fn a_denied_transfer_is_a_typed_error(kind: Kind) {
    let mock = mock();
    let client = writer(kind, &mock);
    let err = client
        .call_with_sca(transfer(), |_| {
            mock.decide_sca(ScaDecision::Deny);
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::Sca(ScaError::Denied { .. })),
        "{err:?}"
    );
    assert_eq!(err.code(), "sca_denied");
    assert_eq!(mock.transfers_created(), 0);
}

fn a_session_never_decided_expires_at_fifteen_minutes(kind: Kind) {
    let mock = mock();
    let client = writer(kind, &mock);
    let started = mock.clock().now();
    let err = client.call_with_sca(transfer(), |_| {}).unwrap_err();
    assert!(
        matches!(err, Error::Sca(ScaError::Expired { .. })),
        "{err:?}"
    );
    assert_eq!(err.code(), "sca_expired");
    let waited = mock.clock().now().duration_since(started).unwrap();
    assert!(
        (Duration::from_secs(899)..=Duration::from_secs(901)).contains(&waited),
        "{waited:?}"
    );
    let polls = mock.stats().requests_prefixed("/v2/sca_sessions/", 200)
        + mock.stats().requests_prefixed("/v2/sca_sessions/", 404);
    assert!(
        (890..=900).contains(&polls),
        "{polls} polls, at most one a second"
    );
    assert_eq!(mock.transfers_created(), 0);
}

fn a_user_without_a_paired_device_is_not_enrolled(kind: Kind) {
    let setup = ScaSetup {
        device_paired: false,
        ..ScaSetup::default()
    };
    let mock = start(MockConfig::default().with_sca(setup));
    let client = writer(kind, &mock);
    let err = client.call(transfer()).unwrap_err();
    let Error::Sca(ScaError::NotEnrolled { message, trace_id }) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("pairing a device"), "{message}");
    assert!(trace_id.is_some());
    assert_eq!(err.code(), "sca_not_enrolled");
    // The sandbox's mock method needs no device.
    let answer = client.call_with_sca(transfer().sca_preference(ScaPreference::Mock), |_| {
        mock.decide_sca(ScaDecision::Allow);
    });
    assert_eq!(answer.expect("approved").status, 200);
}

fn an_unusable_session_is_a_412(kind: Kind) {
    let mock = mock();
    let client = writer(kind, &mock);
    // Replaying without waiting for a decision: the session is not approved.
    let pending = challenged(&client, transfer());
    let err = client.resume(pending, Some("000000")).unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert_eq!(err.code(), "sca_session_unusable");
    assert!(err.trace_id().is_some());
    assert!(err.to_string().contains("412"), "{err}");
    assert_eq!(mock.transfers_created(), 0);
}

fn sms_otp_replays_with_the_code(kind: Kind) {
    let mock = mock();
    let client = writer(kind, &mock);
    let spec = || transfer().sca_preference(ScaPreference::SmsOtp);
    let pending = challenged(&client, spec());
    assert!(pending.challenge().needs_otp);
    let err = client.resume(pending, Some("654321")).unwrap_err();
    assert_eq!(err.code(), "sca_session_unusable", "a wrong code");
    assert!(
        !format!("{err:?}{err}").contains("654321"),
        "the code is never shown"
    );
    let pending = challenged(&client, spec());
    let answer = client
        .resume(pending, Some("123456"))
        .expect("the right code");
    assert_eq!(answer.status, 200);
    let err = client.call_with_sca(spec(), |_| {}).unwrap_err();
    assert_eq!(err.code(), "sca_otp_required", "waiting cannot give a code");
    assert_eq!(mock.stats().requests_prefixed("/v2/sca_sessions/", 200), 0);
}

fn an_idempotency_key_gets_the_first_answer_back(kind: Kind) {
    let setup = ScaSetup {
        auto_decision: Some(ScaDecision::Allow),
        ..ScaSetup::default()
    };
    let mock = start(MockConfig::default().with_sca(setup));
    let client = writer(kind, &mock);
    let key = "5b0c7f1e-8d43-4c6a-9a57-2f9e3c1d0b84";
    let first = client
        .call_with_sca(transfer().idempotency_key(key), |_| {})
        .expect("created");
    let other_body = json!({"amount": "99.00"});
    let again = client
        .call_with_sca(
            CallSpec::new(Method::POST, TRANSFERS)
                .json(Some(&other_body))
                .idempotency_key(key),
            |_| panic!("a kept answer needs no SCA"),
        )
        .expect("the kept answer");
    assert_eq!(
        first.body, again.body,
        "the first answer again, as Qonto documents"
    );
    assert_eq!(mock.transfers_created(), 1);
    // Without a key given, each call gets a fresh one: two transfers.
    client.call_with_sca(transfer(), |_| {}).unwrap();
    client.call_with_sca(transfer(), |_| {}).unwrap();
    assert_eq!(mock.transfers_created(), 3);
}

fn opted_in_retries_ride_out_server_errors(kind: Kind) {
    let mock = mock();
    let client = kind.api_key_client(&mock, None);
    let organization = || CallSpec::new(Method::GET, "/v2/organization");
    // Off by default: the first 503 is the answer.
    mock.faults().fail_next(1, 503);
    assert_eq!(
        client.call(organization()).unwrap_err().code(),
        "server_error"
    );
    // Opted in: two 503s, then the answer; the waits move the
    // mock's clock (capped exponential backoff), not real time.
    mock.faults().fail_next(2, 503);
    let started = mock.clock().now();
    let answer = client
        .call(organization().retry(RetryPolicy::attempts(3)))
        .expect("the third attempt answers");
    assert_eq!(answer.status, 200);
    let waited = mock.clock().now().duration_since(started).unwrap();
    assert!(
        waited >= Duration::from_millis(500),
        "backed off: {waited:?}"
    );
    assert!(waited <= Duration::from_secs(3), "capped: {waited:?}");
    // Never more attempts than allowed.
    mock.faults().fail_next(5, 502);
    let err = client
        .call(organization().retry(RetryPolicy::attempts(3)))
        .unwrap_err();
    assert_eq!(err.code(), "server_error");
    mock.faults().clear();
}

fn a_write_that_may_have_been_sent_is_retried_only_with_its_key(kind: Kind) {
    let setup = ScaSetup {
        auto_decision: Some(ScaDecision::Allow),
        ..ScaSetup::default()
    };
    let mock = start(MockConfig::default().with_sca(setup));
    let client = writer(kind, &mock);
    // The connection drops after the request was read: it may have been executed.
    mock.faults().drop_next_connections(1);
    let err = client
        .call_with_sca(
            transfer()
                .without_idempotency_key()
                .retry(RetryPolicy::attempts(3)),
            |_| {},
        )
        .unwrap_err();
    assert_eq!(
        err.code(),
        "network_error",
        "a keyless write is not sent again"
    );
    // With its key (the default), the same drop is retried and the key makes it safe.
    mock.faults().drop_next_connections(1);
    let answer = client
        .call_with_sca(transfer().retry(RetryPolicy::attempts(3)), |_| {})
        .expect("retried with its key");
    assert_eq!(answer.status, 200);
    assert_eq!(mock.transfers_created(), 1);
}
