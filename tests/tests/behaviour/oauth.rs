//! The OAuth lifecycle against qonto-mock: one refresh however many callers, refresh failures
//! that never fail calls while the token is valid, 401 recovery, lost answers.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::secret::{AccessToken, AuthorizationCode, RefreshToken};
use qonto_e2e::driver::{Client, Kind};
use qonto_e2e::{demo_client, issued_tokens, mock_time};
use qonto_mock::MockServer;
use qonto_store::{MemoryStore, TokenStore};
use qonto_ureq::{Clock, Error, TransportConfig};

use crate::support::{REFRESH_DUE, STALE, mock, oauth, oauth_with, refreshes, stored};

scenarios!(
    a_thousand_callers_cause_exactly_one_refresh_for_a_stale_token,
    a_thousand_callers_cause_exactly_one_refresh_at_cold_start_with_an_expired_token,
    a_thousand_callers_cause_exactly_one_proactive_refresh_while_the_token_is_valid,
    proactive_refresh_persists_the_rotated_tokens_before_use,
    token_endpoint_failures_never_fail_calls_while_the_token_is_valid,
    token_endpoint_timeouts_never_fail_calls_while_the_token_is_valid,
    invalid_grant_requires_reauthorization_after_exactly_one_token_call,
    a_revoked_access_token_is_refreshed_once_and_retried_once,
    a_401_whose_refresh_fails_is_reported_without_looping,
    a_lost_refresh_response_is_recovered_inside_the_grace_window,
    a_lost_refresh_response_past_the_grace_window_asks_for_login_and_never_loops,
    a_refused_token_connection_is_not_sent_so_nothing_is_lost,
    logout_clears_the_store,
    api_key_clients_refuse_oauth_operations,
);

fn a_thousand_callers_cause_exactly_one_refresh_for_a_stale_token(kind: Kind) {
    let mock = mock();
    let (client, _store) = oauth(kind, &mock);
    mock.clock().advance(STALE);
    client.stampede(1_000);
    assert_eq!(refreshes(&mock), 1);
}

fn a_thousand_callers_cause_exactly_one_refresh_at_cold_start_with_an_expired_token(kind: Kind) {
    let mock = mock();
    let tokens = issued_tokens(&mock);
    mock.clock().advance(Duration::from_secs(7_200));
    let client = oauth_with(kind, &mock, tokens);
    assert!(!client.oauth_status().unwrap().access_usable);
    client.stampede(1_000);
    assert_eq!(refreshes(&mock), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 1_000);
}

fn a_thousand_callers_cause_exactly_one_proactive_refresh_while_the_token_is_valid(kind: Kind) {
    let mock = mock();
    let (client, _store) = oauth(kind, &mock);
    mock.clock().advance(REFRESH_DUE);
    assert!(client.oauth_status().unwrap().access_usable);
    client.stampede(1_000);
    assert_eq!(refreshes(&mock), 1);
}

fn proactive_refresh_persists_the_rotated_tokens_before_use(kind: Kind) {
    let mock = mock();
    let (client, store) = oauth(kind, &mock);
    let before = stored(&*store);
    mock.clock().advance(REFRESH_DUE);
    client.organization().unwrap();
    assert_eq!(refreshes(&mock), 1);
    let after = stored(&*store);
    assert!(
        !after.same_tokens(&before),
        "rotated tokens are in the store"
    );
    let status = client.oauth_status().unwrap();
    assert_eq!(status.access_expires_at, Some(after.expires_at));
}

fn token_endpoint_failures_never_fail_calls_while_the_token_is_valid(kind: Kind) {
    let mock = mock();
    let (client, _) = oauth(kind, &mock);
    mock.clock().advance(REFRESH_DUE);
    mock.faults().fail_next_token_requests(5, 503);
    client.organization().unwrap();
    assert_eq!(refreshes(&mock), 1, "one attempt, then back-off");
    for _ in 0..20 {
        client.organization().unwrap();
    }
    assert_eq!(refreshes(&mock), 1, "no retry inside 10 s");
    mock.clock().advance(Duration::from_secs(10));
    client.organization().unwrap();
    assert_eq!(refreshes(&mock), 2);
}

fn token_endpoint_timeouts_never_fail_calls_while_the_token_is_valid(kind: Kind) {
    let mock = mock();
    let store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
    let transport = TransportConfig::default().with_timeout(Duration::from_millis(300));
    let client = kind.oauth_client(&mock, store, transport);
    mock.clock().advance(REFRESH_DUE);
    mock.faults().token_delay(Duration::from_secs(2));
    client.organization().unwrap();
    let status = client.oauth_status().unwrap();
    assert!(status.last_error.is_some(), "the refresh did fail");
    mock.faults().clear();
    client.organization().unwrap();
}

fn invalid_grant_requires_reauthorization_after_exactly_one_token_call(kind: Kind) {
    let mock = mock();
    let mut tokens = issued_tokens(&mock);
    tokens.refresh_token = Some(RefreshToken::new("ory_rt_unknown"));
    let client = oauth_with(kind, &mock, tokens);
    mock.clock().advance(STALE);
    for _ in 0..2 {
        let err = client.organization().unwrap_err();
        assert!(matches!(err, Error::Auth(_)), "{err:?}");
        assert_eq!(err.code(), "reauthorization_required", "{err}");
    }
    assert_eq!(refreshes(&mock), 1);
}

/// A client whose access token the server does not know; its refresh token is good.
fn with_unknown_access_token(kind: Kind, mock: &MockServer) -> Client {
    let mut tokens = issued_tokens(mock);
    tokens.access_token = AccessToken::new("ory_at_unknown");
    oauth_with(kind, mock, tokens)
}

fn a_revoked_access_token_is_refreshed_once_and_retried_once(kind: Kind) {
    let mock = mock();
    let client = with_unknown_access_token(kind, &mock);
    client.organization().unwrap();
    assert_eq!(refreshes(&mock), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 1);
}

fn a_401_whose_refresh_fails_is_reported_without_looping(kind: Kind) {
    let mock = mock();
    let client = with_unknown_access_token(kind, &mock);
    mock.faults().fail_next_token_requests(1, 503);
    let err = client.organization().unwrap_err();
    assert_eq!(err.code(), "refresh_failed_transient", "{err}");
    assert_eq!(refreshes(&mock), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    // Inside the back-off nothing is sent at all, neither to the API nor to the token endpoint.
    let err = client.organization().unwrap_err();
    assert_eq!(err.code(), "refresh_failed_transient", "{err}");
    assert_eq!(refreshes(&mock), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    // After it, one refresh recovers.
    mock.clock().advance(Duration::from_secs(10));
    client.organization().unwrap();
    assert_eq!(refreshes(&mock), 2);
}

/// A client whose token is due for a refresh, making one call while the next `lost` token
/// answers are lost: the call succeeds after exactly two token calls (one loss, one retry).
fn refresh_with_lost_answers(kind: Kind, lost: u64) -> (MockServer, Client) {
    let mock = mock();
    let (client, _) = oauth(kind, &mock);
    mock.clock().advance(REFRESH_DUE);
    mock.faults().lose_next_token_responses(lost);
    client.organization().unwrap();
    assert_eq!(refreshes(&mock), 2, "one loss, one retry");
    (mock, client)
}

fn a_lost_refresh_response_is_recovered_inside_the_grace_window(kind: Kind) {
    let (mock, client) = refresh_with_lost_answers(kind, 1);
    // Past the recovered access token's end: only a refresh with the recovered refresh token
    // can serve this call, so it proves that token is live.
    mock.clock().advance(Duration::from_secs(3_700));
    client.organization().unwrap();
    assert_eq!(refreshes(&mock), 3);
    let status = client.oauth_status().unwrap();
    assert!(status.last_error.is_none(), "{:?}", status.last_error);
}

fn a_lost_refresh_response_past_the_grace_window_asks_for_login_and_never_loops(kind: Kind) {
    // One loss, one retry inside the window, both lost: the still-valid token serves.
    let (mock, client) = refresh_with_lost_answers(kind, 2);
    // Past the access token's end and the grace window: only the possibly consumed refresh
    // token could help, and presenting it could revoke the grant. Ask for a login instead.
    mock.clock().advance(Duration::from_secs(300));
    for _ in 0..3 {
        let error = client.organization().unwrap_err();
        assert_eq!(error.code(), "reauthorization_required", "{error}");
    }
    assert_eq!(refreshes(&mock), 2, "never presented again");
}

fn a_refused_token_connection_is_not_sent_so_nothing_is_lost(kind: Kind) {
    let mock = mock();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let endpoints = Endpoints::new(&mock.url(), &format!("http://{closed}")).unwrap();
    let env = Environment::new(EnvironmentKind::Production, None, endpoints).unwrap();
    let store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
    let client = kind
        .builder(env)
        .clock(Clock::custom(mock_time(&mock)))
        .oauth(demo_client(), store)
        .unwrap();
    // Twice, 10 s apart: a refused connection is transient, never "answer lost".
    for _ in 0..2 {
        let err = client.refresh_now().unwrap_err();
        assert_eq!(err.code(), "refresh_failed_transient", "{err}");
        mock.clock().advance(Duration::from_secs(10));
    }
    client.organization().unwrap();
}

fn logout_clears_the_store(kind: Kind) {
    let mock = mock();
    let (client, store) = oauth(kind, &mock);
    client.organization().unwrap();
    client.logout().unwrap();
    assert!(store.load().unwrap().is_none());
    let err = client.organization().unwrap_err();
    assert_eq!(err.code(), "reauthorization_required", "{err}");
}

fn api_key_clients_refuse_oauth_operations(kind: Kind) {
    let mock = mock();
    let client = kind.api_key_client(&mock, None);
    let code = AuthorizationCode::new("ory_ac_1");
    for err in [
        client.refresh_now().unwrap_err(),
        client.logout().unwrap_err(),
        client.exchange_code(&code, None).unwrap_err(),
    ] {
        assert_eq!(err.code(), "not_oauth", "{err}");
    }
    assert!(client.oauth_status().is_none());
    assert!(client.take_events().is_empty());
    assert_eq!(mock.stats().total_requests(), 0, "nothing was sent");
}
