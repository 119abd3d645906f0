//! OAuth lifecycle over real sockets against qonto-mock, with many concurrent tasks.

mod common;

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::secret::{AccessToken, RefreshToken};
use qonto_mock::MockConfig;
use qonto_reqwest::{Client, Error, TransportConfig};
use qonto_store::{FileStore, MemoryStore, TokenStore};
use tokio::sync::Barrier;

async fn get_org(client: &Client) -> Result<(), Error> {
    client.organization().await.map(|_| ())
}

/// Runs `tasks` concurrent organization calls that all start at once; all must succeed.
async fn stampede(client: &Client, tasks: usize) {
    let barrier = Arc::new(Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, barrier) = (client.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                get_org(&client).await
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tasks_cause_exactly_one_refresh_at_cold_start_with_an_expired_token() {
    let mock = common::start(MockConfig::default());
    let store: Arc<dyn TokenStore> =
        Arc::new(MemoryStore::with_tokens(common::issued_tokens(&mock)));
    mock.clock().advance(Duration::from_secs(7200));
    let client = common::oauth_with_store(&mock, store, TransportConfig::default()).await;
    assert!(!client.oauth_status().unwrap().access_usable);
    stampede(&client, 1000).await;
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tasks_cause_exactly_one_refresh_for_a_stale_token() {
    let mock = common::start(MockConfig::default());
    let (client, _store) = common::oauth(&mock).await;
    // Inside the refresh margin and past the hard floor: refresh is due, the token unusable.
    mock.clock().advance(Duration::from_secs(3590));
    stampede(&client, 1000).await;
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tasks_cause_exactly_one_proactive_refresh_while_the_token_is_valid() {
    let mock = common::start(MockConfig::default());
    let (client, _store) = common::oauth(&mock).await;
    // Refresh due (5 min margin) but the token is still usable.
    mock.clock().advance(Duration::from_secs(3400));
    assert!(client.oauth_status().unwrap().access_usable);
    stampede(&client, 1000).await;
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_file_store_is_refreshed_once_and_persisted_before_use() {
    let dir = std::env::temp_dir().join(format!(
        "qonto-reqwest-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    let _ = std::fs::remove_file(&path);
    let mock = common::start(MockConfig::default());
    let file: Arc<dyn TokenStore> = Arc::new(FileStore::new(&path));
    file.lock()
        .unwrap()
        .save(&common::issued_tokens(&mock))
        .unwrap();
    let before = file.load().unwrap().unwrap();
    // Two clients (as two processes would) share the file.
    let a = common::oauth_with_store(&mock, file.clone(), TransportConfig::default()).await;
    let b = common::oauth_with_store(&mock, file.clone(), TransportConfig::default()).await;
    mock.clock().advance(Duration::from_secs(3590));
    let (ra, rb) = tokio::join!(stampede(&a, 100), stampede(&b, 100));
    let ((), ()) = (ra, rb);
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    let after = file.load().unwrap().unwrap();
    assert!(
        !after.same_tokens(&before),
        "rotated tokens are in the file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn proactive_refresh_persists_the_rotated_tokens_before_use() {
    let mock = common::start(MockConfig::default());
    let (client, store) = common::oauth(&mock).await;
    let before = store.load().unwrap().unwrap();
    mock.clock().advance(Duration::from_secs(3400));
    get_org(&client).await.unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    let after = store.load().unwrap().unwrap();
    assert!(
        !after.same_tokens(&before),
        "rotated tokens are in the store"
    );
    let status = client.oauth_status().unwrap();
    assert_eq!(status.access_expires_at, Some(after.expires_at));
}

#[tokio::test]
async fn token_endpoint_failures_never_fail_calls_while_the_token_is_valid() {
    let mock = common::start(MockConfig::default());
    let (client, _) = common::oauth(&mock).await;
    mock.clock().advance(Duration::from_secs(3400));
    mock.faults().fail_next_token_requests(5, 503);
    get_org(&client).await.unwrap();
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        1,
        "one attempt, then back-off"
    );
    for _ in 0..20 {
        get_org(&client).await.unwrap();
    }
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        1,
        "no retry inside 10 s"
    );
    mock.clock().advance(Duration::from_secs(10));
    get_org(&client).await.unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 2);
}

#[tokio::test]
async fn token_endpoint_timeouts_never_fail_calls_while_the_token_is_valid() {
    let mock = common::start(MockConfig::default());
    let store: Arc<dyn TokenStore> =
        Arc::new(MemoryStore::with_tokens(common::issued_tokens(&mock)));
    let transport = TransportConfig::default().with_timeout(Duration::from_millis(300));
    let client = common::oauth_with_store(&mock, store, transport).await;
    mock.clock().advance(Duration::from_secs(3400));
    mock.faults().token_delay(Duration::from_secs(2));
    get_org(&client).await.unwrap();
    let status = client.oauth_status().unwrap();
    assert!(status.last_error.is_some(), "the refresh did fail");
    mock.faults().clear();
    get_org(&client).await.unwrap();
}

#[tokio::test]
async fn invalid_grant_requires_reauthorization_after_exactly_one_token_call() {
    let mock = common::start(MockConfig::default());
    let mut tokens = common::issued_tokens(&mock);
    tokens.refresh_token = Some(RefreshToken::new("ory_rt_unknown"));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::with_tokens(tokens));
    let client = common::oauth_with_store(&mock, store, TransportConfig::default()).await;
    mock.clock().advance(Duration::from_secs(3590));
    let err = get_org(&client).await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert_eq!(err.code(), "reauthorization_required", "{err}");
    let err = get_org(&client).await.unwrap_err();
    assert_eq!(err.code(), "reauthorization_required");
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[tokio::test]
async fn a_revoked_access_token_is_refreshed_once_and_retried_once() {
    let mock = common::start(MockConfig::default());
    let mut tokens = common::issued_tokens(&mock);
    // The access token is one the server does not know; the refresh token is good.
    tokens.access_token = AccessToken::new("ory_at_revoked");
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::with_tokens(tokens));
    let client = common::oauth_with_store(&mock, store, TransportConfig::default()).await;
    get_org(&client).await.unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 1);
}

#[tokio::test]
async fn tokens_rotated_by_another_process_are_adopted_on_401_and_retried_once() {
    let mock = common::start(MockConfig::default());
    let dir = std::env::temp_dir().join(format!("qonto-reqwest-rot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    let _ = std::fs::remove_file(&path);
    let file: Arc<dyn TokenStore> = Arc::new(FileStore::new(&path));
    // This process starts with an access token the server no longer accepts...
    let mut stale = common::issued_tokens(&mock);
    stale.access_token = AccessToken::new("ory_at_rotated_away");
    file.lock().unwrap().save(&stale).unwrap();
    let client = common::oauth_with_store(&mock, file.clone(), TransportConfig::default()).await;
    // ...while another process has meanwhile written newer tokens to the shared file.
    let newer = common::issued_tokens(&mock);
    file.lock().unwrap().save(&newer).unwrap();
    get_org(&client).await.unwrap();
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        0,
        "adopted from the store, not refreshed"
    );
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_401_whose_refresh_fails_is_reported_without_looping() {
    let mock = common::start(MockConfig::default());
    let mut tokens = common::issued_tokens(&mock);
    tokens.access_token = AccessToken::new("ory_at_unknown");
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::with_tokens(tokens));
    let client = common::oauth_with_store(&mock, store, TransportConfig::default()).await;
    mock.faults().fail_next_token_requests(1, 503);
    let err = get_org(&client).await.unwrap_err();
    assert_eq!(err.code(), "refresh_failed_transient", "{err}");
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    // Inside the back-off nothing is sent at all, neither to the API nor to the token endpoint.
    let err = get_org(&client).await.unwrap_err();
    assert_eq!(err.code(), "refresh_failed_transient", "{err}");
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    // After it, one refresh recovers.
    mock.clock().advance(Duration::from_secs(10));
    get_org(&client).await.unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 2);
}

/// A client whose token is due for a refresh, making one call while the next `lost` token
/// answers are lost: the call succeeds after exactly two token calls (one loss, one retry).
async fn refresh_with_lost_answers(lost: u64) -> (qonto_mock::MockServer, Client) {
    let mock = common::start(MockConfig::default());
    let (client, _) = common::oauth(&mock).await;
    mock.clock().advance(Duration::from_secs(3400));
    mock.faults().lose_next_token_responses(lost);
    get_org(&client).await.unwrap();
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        2,
        "one loss, one retry"
    );
    (mock, client)
}

#[tokio::test]
async fn a_lost_refresh_response_is_recovered_inside_the_grace_window() {
    let (mock, client) = refresh_with_lost_answers(1).await;
    mock.clock().advance(Duration::from_secs(3400));
    get_org(&client).await.unwrap();
}

#[tokio::test]
async fn a_lost_refresh_response_past_the_grace_window_asks_for_login_and_never_loops() {
    // One loss, one retry inside the window, both lost: the still-valid token serves.
    let (mock, client) = refresh_with_lost_answers(2).await;
    // Past the access token's end and the grace window: only the possibly consumed refresh
    // token could help, and presenting it could revoke the grant. Ask for a login instead.
    mock.clock().advance(Duration::from_secs(300));
    for _ in 0..3 {
        let error = get_org(&client).await.unwrap_err();
        assert_eq!(error.code(), "reauthorization_required", "{error}");
    }
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        2,
        "never presented again"
    );
}

#[tokio::test]
async fn a_cancelled_caller_does_not_leave_the_refresh_stuck() {
    let mock = common::start(MockConfig::default());
    let (client, _) = common::oauth(&mock).await;
    mock.clock().advance(Duration::from_secs(3590));
    mock.faults().token_delay(Duration::from_millis(300));
    // Give up on the first call while its refresh is in flight.
    let first = tokio::time::timeout(Duration::from_millis(50), get_org(&client)).await;
    assert!(first.is_err(), "the first call was cancelled");
    mock.faults().clear();
    get_org(&client).await.unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[tokio::test]
async fn logout_clears_the_store() {
    let mock = common::start(MockConfig::default());
    let (client, store) = common::oauth(&mock).await;
    get_org(&client).await.unwrap();
    client.logout().await.unwrap();
    assert!(store.load().unwrap().is_none());
    let err = get_org(&client).await.unwrap_err();
    assert_eq!(err.code(), "reauthorization_required", "{err}");
}

#[tokio::test]
async fn convenience_calls_follow_pagination() {
    let mock = common::start(MockConfig::default());
    let client = common::api_key_client(&mock, None);
    let all = client.bank_accounts().await.unwrap();
    assert_eq!(all.len(), 3);
    let paged = client.bank_accounts_paged(1).await.unwrap();
    assert_eq!(paged.len(), 3);
    assert_eq!(mock.stats().requests("/v2/bank_accounts", 200), 4);
    let ids: Vec<_> = all.iter().map(|a| a.id.clone()).collect();
    let paged_ids: Vec<_> = paged.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, paged_ids);
    let page = client.bank_accounts_page(2, 2).await.unwrap();
    assert_eq!(page.bank_accounts.len(), 1);
    assert_eq!(page.meta.total_pages, 2);
    assert!(!client.organization().await.unwrap().slug.is_empty());
}

#[tokio::test]
async fn api_key_clients_refuse_oauth_operations() {
    let mock = common::start(MockConfig::default());
    let client = common::api_key_client(&mock, None);
    assert_eq!(client.refresh_now().await.unwrap_err().code(), "not_oauth");
    assert!(client.oauth_status().is_none());
}

#[tokio::test]
async fn the_credential_future_stays_small_whatever_the_refresh_path_holds() {
    let mock = common::start(MockConfig::default());
    let (client, _) = common::oauth(&mock).await;
    // Futures are moved by copying their whole size; the refresh path's state is boxed so
    // the hot path does not copy it on every call (it was 2 KB before).
    let future = client.authorization();
    assert!(
        size_of_val(&future) <= 128,
        "{} bytes",
        size_of_val(&future)
    );
    future.await.unwrap();
}
