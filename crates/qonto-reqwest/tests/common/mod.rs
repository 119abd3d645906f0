//! Shared helpers: a mock server and clients pointed at it, with a clock that follows the
//! mock's clock (tests jump time instead of sleeping).

#![allow(dead_code, unreachable_pub, reason = "each test file uses a subset")]

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken, StagingToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_mock::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_LOGIN, DEMO_REDIRECT_URI, DEMO_SECRET, MockConfig,
    MockServer,
};
use qonto_reqwest::{Client, Clock, TransportConfig};
use qonto_store::{MemoryStore, TokenStore};

pub fn environment(mock: &MockServer, staging: Option<&str>) -> Environment {
    environment_at(&mock.url(), staging)
}

pub fn environment_at(url: &str, staging: Option<&str>) -> Environment {
    let endpoints = Endpoints::new(url, url).unwrap();
    match staging {
        Some(token) => Environment::new(
            EnvironmentKind::Sandbox,
            Some(StagingToken::new(token)),
            endpoints,
        )
        .unwrap(),
        None => Environment::new(EnvironmentKind::Production, None, endpoints).unwrap(),
    }
}

/// The client's clock follows the mock's, so jumping the mock's time moves both.
pub fn clock(mock: &MockServer) -> Clock {
    let mock_clock = mock.clock().clone();
    Clock::custom(move || Timestamp::from_system_time(mock_clock.now()))
}

pub fn api_key_client(mock: &MockServer, staging: Option<&str>) -> Client {
    let key = ApiKey::parse(&format!("{DEMO_LOGIN}:{DEMO_SECRET}")).unwrap();
    Client::builder(environment(mock, staging))
        .clock(clock(mock))
        .api_key(key)
        .unwrap()
}

pub fn oauth_client() -> OAuthClient {
    OAuthClient::new(
        DEMO_CLIENT_ID,
        ClientSecret::new(DEMO_CLIENT_SECRET),
        DEMO_REDIRECT_URI,
    )
    .unwrap()
}

/// Tokens issued by the mock, stored as if they had been obtained at the mock's `now`.
pub fn issued_tokens(mock: &MockServer) -> TokenSet {
    let issued = mock.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let now = Timestamp::from_system_time(mock.clock().now());
    TokenSet {
        access_token: AccessToken::new(issued.access_token),
        expires_at: now + Duration::from_secs(issued.expires_in),
        refresh_token: issued.refresh_token.map(RefreshToken::new),
        refresh_issued_at: Some(now),
        scope: Some(issued.scope),
    }
}

pub async fn oauth_with_store(
    mock: &MockServer,
    store: Arc<dyn TokenStore>,
    transport: TransportConfig,
) -> Client {
    Client::builder(environment(mock, None))
        .clock(clock(mock))
        .transport(transport)
        .oauth(oauth_client(), store)
        .await
        .unwrap()
}

pub async fn oauth(mock: &MockServer) -> (Client, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::with_tokens(issued_tokens(mock)));
    let client = oauth_with_store(mock, store.clone(), TransportConfig::default()).await;
    (client, store)
}

pub fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).unwrap()
}
