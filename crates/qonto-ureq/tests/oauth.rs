//! OAuth lifecycle over real sockets against qonto-mock.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use qonto_mock::MockConfig;
use qonto_store::{MemoryStore, TokenStore};
use qonto_ureq::{Error, TransportConfig};

fn get_org(client: &qonto_ureq::Client) -> Result<(), Error> {
    client.organization().map(|_| ())
}

/// Runs `threads` concurrent organization calls that all start at once; all must succeed.
fn stampede(client: &qonto_ureq::Client, threads: usize) {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (client, barrier) = (client.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                get_org(&client)
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap().unwrap();
    }
}

#[test]
fn a_thousand_threads_cause_exactly_one_refresh_for_a_stale_token() {
    let mock = common::start(MockConfig::default());
    let (client, _store) = common::oauth(&mock);
    mock.clock().advance(Duration::from_secs(3590));
    stampede(&client, 1000);
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[test]
fn a_thousand_threads_cause_exactly_one_refresh_at_cold_start_with_an_expired_token() {
    let mock = common::start(MockConfig::default());
    let store: Arc<dyn TokenStore> =
        Arc::new(MemoryStore::with_tokens(common::issued_tokens(&mock)));
    mock.clock().advance(Duration::from_secs(7200));
    let client = common::oauth_with_store(&mock, store, TransportConfig::default());
    stampede(&client, 1000);
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[test]
fn proactive_refresh_persists_the_rotated_tokens_before_use() {
    let mock = common::start(MockConfig::default());
    let (client, store) = common::oauth(&mock);
    let before = store.load().unwrap().unwrap();
    mock.clock().advance(Duration::from_secs(3400));
    get_org(&client).unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    let after = store.load().unwrap().unwrap();
    assert!(
        !after.same_tokens(&before),
        "rotated tokens are in the store"
    );
    let status = client.oauth_status().unwrap();
    assert_eq!(status.access_expires_at, Some(after.expires_at));
}

#[test]
fn token_endpoint_failures_never_fail_calls_while_the_token_is_valid() {
    let mock = common::start(MockConfig::default());
    let (client, _) = common::oauth(&mock);
    mock.clock().advance(Duration::from_secs(3400));
    mock.faults().fail_next_token_requests(5, 503);
    get_org(&client).unwrap();
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        1,
        "one attempt, then back-off"
    );
    for _ in 0..20 {
        get_org(&client).unwrap();
    }
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        1,
        "no retry inside 10 s"
    );
    mock.clock().advance(Duration::from_secs(10));
    get_org(&client).unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 2);
}

#[test]
fn token_endpoint_timeouts_never_fail_calls_while_the_token_is_valid() {
    let mock = common::start(MockConfig::default());
    let store: Arc<dyn TokenStore> =
        Arc::new(MemoryStore::with_tokens(common::issued_tokens(&mock)));
    let transport = TransportConfig::default().with_timeout(Duration::from_millis(300));
    let client = common::oauth_with_store(&mock, store, transport);
    mock.clock().advance(Duration::from_secs(3400));
    mock.faults().token_delay(Duration::from_secs(2));
    get_org(&client).unwrap();
    mock.faults().clear();
    get_org(&client).unwrap();
}

#[test]
fn invalid_grant_requires_reauthorization_after_exactly_one_token_call() {
    let mock = common::start(MockConfig::default());
    let (client, store) = common::oauth(&mock);
    // Revoke the grant on the server.
    let mut tokens = store.load().unwrap().unwrap();
    tokens.refresh_token = Some(qonto_auth_core::secret::RefreshToken::new("ory_rt_unknown"));
    store.lock().unwrap().save(&tokens).unwrap();
    let client2 = common::oauth_with_store(&mock, store, TransportConfig::default());
    drop(client);
    mock.clock().advance(Duration::from_secs(3590));
    let err = get_org(&client2).unwrap_err();
    assert_eq!(err.code(), "reauthorization_required", "{err}");
    let err = get_org(&client2).unwrap_err();
    assert_eq!(err.code(), "reauthorization_required");
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[test]
fn a_revoked_access_token_is_refreshed_once_and_retried_once() {
    let mock = common::start(MockConfig::default());
    let (client, store) = common::oauth(&mock);
    // The access token is replaced by one the server does not know; the refresh token is good.
    let mut tokens = store.load().unwrap().unwrap();
    tokens.access_token = qonto_auth_core::secret::AccessToken::new("ory_at_revoked");
    let client = {
        drop(client);
        store.lock().unwrap().save(&tokens).unwrap();
        common::oauth_with_store(&mock, store, TransportConfig::default())
    };
    get_org(&client).unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 1);
}

/// A client whose token is due for a refresh, making one call while the next `lost` token
/// answers are lost: the call succeeds after exactly two token calls (one loss, one retry).
fn refresh_with_lost_answers(lost: u64) -> (qonto_mock::MockServer, qonto_ureq::Client) {
    let mock = common::start(MockConfig::default());
    let (client, _) = common::oauth(&mock);
    mock.clock().advance(Duration::from_secs(3400));
    mock.faults().lose_next_token_responses(lost);
    get_org(&client).unwrap();
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        2,
        "one loss, one retry"
    );
    (mock, client)
}

#[test]
fn a_lost_refresh_response_is_recovered_inside_the_grace_window() {
    let (mock, client) = refresh_with_lost_answers(1);
    mock.clock().advance(Duration::from_secs(3400));
    get_org(&client).unwrap();
}

#[test]
fn a_lost_refresh_response_past_the_grace_window_asks_for_login_and_never_loops() {
    // One loss, one retry inside the window, both lost: the still-valid token serves.
    let (mock, client) = refresh_with_lost_answers(2);
    // Past the access token's end and the grace window: only the possibly consumed refresh
    // token could help, and presenting it could revoke the grant. Ask for a login instead.
    mock.clock().advance(Duration::from_secs(300));
    for _ in 0..3 {
        let error = get_org(&client).unwrap_err();
        assert_eq!(error.code(), "reauthorization_required", "{error}");
    }
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        2,
        "never presented again"
    );
}

#[test]
fn convenience_calls_follow_pagination() {
    let mock = common::start(MockConfig::default());
    let client = common::api_key_client(&mock, None);
    let all = client.bank_accounts().unwrap();
    assert_eq!(all.len(), 3);
    let page = client.bank_accounts_page(2, 2).unwrap();
    assert_eq!(page.bank_accounts.len(), 1);
    assert_eq!(page.meta.total_pages, 2);
    assert!(!client.organization().unwrap().slug.is_empty());
}

#[test]
fn a_refused_token_connection_is_not_sent_so_nothing_is_lost() {
    let mock = common::start(MockConfig::default());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let endpoints =
        qonto_auth_core::environment::Endpoints::new(&mock.url(), &format!("http://{closed}"))
            .unwrap();
    let env = qonto_auth_core::Environment::new(
        qonto_auth_core::EnvironmentKind::Production,
        None,
        endpoints,
    )
    .unwrap();
    let store: Arc<dyn TokenStore> =
        Arc::new(MemoryStore::with_tokens(common::issued_tokens(&mock)));
    let client = qonto_ureq::Client::builder(env)
        .clock(common::clock(&mock))
        .oauth(common::oauth_client(), store)
        .unwrap();
    // Twice, 10 s apart: a refused connection is transient, never "answer lost".
    for _ in 0..2 {
        let err = client.refresh_now().unwrap_err();
        assert_eq!(err.code(), "refresh_failed_transient", "{err}");
        mock.clock().advance(Duration::from_secs(10));
    }
    get_org(&client).unwrap();
}
