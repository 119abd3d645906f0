//! Set-up shared by the scenarios: a mock, OAuth clients on stores, temporary directories.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use qonto_e2e::driver::{Client, Kind};
use qonto_e2e::issued_tokens;
use qonto_mock::{MockConfig, MockServer};
use qonto_store::{FileStore, MemoryStore, TokenSet, TokenStore};
use qonto_ureq::TransportConfig;

/// Into the refresh window (5 min margin, up to 1 min jitter) of a fresh token, still usable.
pub(crate) const REFRESH_DUE: Duration = Duration::from_secs(3_400);
/// Into the refresh window and past the hard floor: the token is no longer used.
pub(crate) const STALE: Duration = Duration::from_secs(3_590);

pub(crate) fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).expect("the mock starts")
}

/// A default mock.
pub(crate) fn mock() -> MockServer {
    start(MockConfig::default())
}

/// Refresh-token grants the mock has seen (failed, dropped and lost ones included).
pub(crate) fn refreshes(mock: &MockServer) -> u64 {
    mock.stats().token_calls("refresh_token")
}

/// An OAuth client of `mock` on `store`, with default transport settings.
pub(crate) fn oauth_on(kind: Kind, mock: &MockServer, store: Arc<dyn TokenStore>) -> Client {
    kind.oauth_client(mock, store, TransportConfig::default())
}

/// An OAuth client on a memory store holding `tokens`.
pub(crate) fn oauth_with(kind: Kind, mock: &MockServer, tokens: TokenSet) -> Client {
    oauth_on(kind, mock, Arc::new(MemoryStore::with_tokens(tokens)))
}

/// An OAuth client on a memory store holding freshly issued tokens, and the store.
pub(crate) fn oauth(kind: Kind, mock: &MockServer) -> (Client, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::with_tokens(issued_tokens(mock)));
    (oauth_on(kind, mock, store.clone()), store)
}

/// The tokens in `store`; panics when it is empty or unreadable.
pub(crate) fn stored(store: &dyn TokenStore) -> TokenSet {
    store
        .load()
        .expect("the store reads")
        .expect("tokens stored")
}

/// Saves `tokens` in `store` under its lock, as another process would.
pub(crate) fn save(store: &dyn TokenStore, tokens: &TokenSet) {
    let mut guard = store.lock().expect("the store locks");
    guard.save(tokens).expect("the store saves");
}

/// A file store at `path` holding `tokens`.
pub(crate) fn file_store(path: &Path, tokens: &TokenSet) -> Arc<dyn TokenStore> {
    let file: Arc<dyn TokenStore> = Arc::new(FileStore::new(path));
    save(&*file, tokens);
    file
}

/// Polls `done` every 10 ms, for at most 5 s, until it holds; panics if it never does.
pub(crate) fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "waited 5 s for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// A directory of its own under the system's temporary directory, removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("qonto-behaviour-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
