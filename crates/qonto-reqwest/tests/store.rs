//! The blocking-store adapter: the lock lives on a blocking thread for as long as the guard.

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::secret::{AccessToken, RefreshToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_reqwest::{AsyncTokenStore, BlockingStore};
use qonto_store::{FileStore, MemoryStore, TokenStore};

fn tokens(access: &str) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new(access),
        expires_at: Timestamp::from_unix_secs(2_000_000_000),
        refresh_token: Some(RefreshToken::new("ory_rt_1")),
        refresh_issued_at: Some(Timestamp::from_unix_secs(1_900_000_000)),
        scope: None,
        refresh_pending_since: None,
    }
}

async fn exclusive(store: Arc<dyn TokenStore>) {
    let store = BlockingStore::new(store);
    let mut first = store.lock().await.unwrap();
    first.save(&tokens("ory_at_first")).await.unwrap();
    let second = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut guard = store.lock().await.unwrap();
            let seen = guard.load().await.unwrap().unwrap();
            guard.save(&tokens("ory_at_second")).await.unwrap();
            seen
        })
    };
    // The second lock cannot be had while the first guard lives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!second.is_finished(), "the lock was not exclusive");
    first.save(&tokens("ory_at_last_of_first")).await.unwrap();
    drop(first);
    let seen = second.await.unwrap();
    assert!(seen.same_tokens(&tokens("ory_at_last_of_first")));
    let stored = store.load().await.unwrap().unwrap();
    assert!(stored.same_tokens(&tokens("ory_at_second")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_store_lock_is_held_until_the_guard_is_dropped() {
    exclusive(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_store_lock_is_held_until_the_guard_is_dropped() {
    let dir = std::env::temp_dir().join(format!("qonto-reqwest-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.join("tokens.json")));
    assert!(BlockingStore::new(store.clone()).is_shared());
    exclusive(store).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn clear_empties_the_store() {
    let store = BlockingStore::new(Arc::new(MemoryStore::with_tokens(tokens("ory_at_x"))));
    assert!(store.load().await.unwrap().is_some());
    store.lock().await.unwrap().clear().await.unwrap();
    assert!(store.load().await.unwrap().is_none());
}
