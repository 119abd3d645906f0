//! Shared helpers: a mock server and clients pointed at it, with a clock that follows the
//! mock's clock.

#![allow(dead_code, unreachable_pub, reason = "each test file uses a subset")]

use std::sync::Arc;

use qonto_auth_core::TokenSet;
use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::environment::Environment;
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};
use qonto_store::{MemoryStore, TokenStore};
use qonto_ureq::{Client, Clock, TransportConfig};

pub fn environment(mock: &MockServer, staging: Option<&str>) -> Environment {
    qonto_e2e::environment(mock, staging)
}

/// The client's clock follows the mock's, so jumping the mock's time moves both.
pub fn clock(mock: &MockServer) -> Clock {
    Clock::custom(qonto_e2e::mock_time(mock))
}

pub fn api_key_client(mock: &MockServer, staging: Option<&str>) -> Client {
    let key = ApiKey::parse(&format!("{DEMO_LOGIN}:{DEMO_SECRET}")).unwrap();
    Client::builder(environment(mock, staging))
        .clock(clock(mock))
        .api_key(key)
}

pub fn oauth_client() -> OAuthClient {
    qonto_e2e::demo_client()
}

/// Tokens issued by the mock, stored as if they had been obtained at the mock's `now`.
pub fn issued_tokens(mock: &MockServer) -> TokenSet {
    qonto_e2e::issued_tokens(mock)
}

pub fn oauth_with_store(
    mock: &MockServer,
    store: Arc<dyn TokenStore>,
    transport: TransportConfig,
) -> Client {
    Client::builder(environment(mock, None))
        .clock(clock(mock))
        .transport(transport)
        .oauth(oauth_client(), store)
        .unwrap()
}

pub fn oauth(mock: &MockServer) -> (Client, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::with_tokens(issued_tokens(mock)));
    (
        oauth_with_store(mock, store.clone(), TransportConfig::default()),
        store,
    )
}

pub fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).unwrap()
}
