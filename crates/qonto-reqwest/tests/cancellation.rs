//! What only an async client can get wrong: a caller dropped mid-refresh, and the size of the
//! future every call awaits. The behaviours both transports share are in the `qonto-e2e`
//! package's behaviour suite (`tests/tests/behaviour.rs`), run against each.

use std::sync::Arc;
use std::time::Duration;

use qonto_e2e::{demo_client, environment, issued_tokens, mock_time};
use qonto_mock::{MockConfig, MockServer};
use qonto_reqwest::{Client, Clock};
use qonto_store::MemoryStore;

/// A mock, and an OAuth client of it on a memory store holding freshly issued tokens.
async fn oauth_client() -> (MockServer, Client) {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
    let client = Client::builder(environment(&mock, None))
        .clock(Clock::custom(mock_time(&mock)))
        .oauth(demo_client(), store)
        .await
        .unwrap();
    (mock, client)
}

#[tokio::test]
async fn a_cancelled_caller_does_not_leave_the_refresh_stuck() {
    let (mock, client) = oauth_client().await;
    mock.clock().advance(Duration::from_secs(3590));
    mock.faults().token_delay(Duration::from_millis(300));
    // Give up on the first call while its refresh is in flight.
    let first = tokio::time::timeout(Duration::from_millis(50), client.organization()).await;
    assert!(first.is_err(), "the first call was cancelled");
    mock.faults().clear();
    client.organization().await.unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[tokio::test]
async fn the_credential_future_stays_small_whatever_the_refresh_path_holds() {
    let (_mock, client) = oauth_client().await;
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
