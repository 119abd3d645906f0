//! Reliability under load and faults, against qonto-mock's fault injection.
//!
//! 10,000 API calls from 200 concurrent tasks while the access token reaches its refresh
//! window twice and the first refresh attempt of each window fails with a 503: no API call
//! fails, token calls stay bounded, and the refresh-token chain is never lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use qonto_e2e::{demo_client, environment, issued_tokens, mock_time};
use qonto_mock::{MockConfig, MockServer};
use qonto_reqwest::{Client, Clock};
use qonto_store::{MemoryStore, TokenStore};

const CALLERS: usize = 200;
const CALLS: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_through_two_refresh_windows_with_failing_refreshes() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
    let client = Client::builder(environment(&mock, None))
        .clock(Clock::custom(mock_time(&mock)))
        .oauth(demo_client(), store.clone())
        .await
        .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (client, done, failed, next) =
                (client.clone(), done.clone(), failed.clone(), next.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < CALLS {
                    if client.organization().await.is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // The controller moves time as calls complete: into the refresh window (200 s left, a
    // failing refresh, then the retry 15 s later), twice.
    let steps: [(usize, u64, bool); 4] = [
        (2_000, 3_400, true),
        (4_000, 15, false),
        (6_000, 3_400, true),
        (8_000, 15, false),
    ];
    for (at, advance, fail) in steps {
        while done.load(Ordering::Relaxed) < at {
            tokio::task::yield_now().await;
        }
        if fail {
            mock.faults().fail_next_token_requests(1, 503);
        }
        mock.clock().advance(Duration::from_secs(advance));
    }
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(failed.load(Ordering::Relaxed), 0, "no API call may fail");
    assert_eq!(mock.stats().requests("/v2/organization", 200), CALLS as u64);
    let token_calls = mock.stats().token_calls("refresh_token");
    assert_eq!(token_calls, 4, "two windows x (one failure + one success)");

    // The chain is intact: the stored refresh token is the live one.
    let stored = store.load().unwrap().unwrap();
    client.refresh_now().await.unwrap();
    assert!(!store.load().unwrap().unwrap().same_tokens(&stored));
    assert_eq!(mock.stats().token_calls("refresh_token"), 5);
}
