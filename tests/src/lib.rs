//! Test support shared by the end-to-end suites of the qonto-auth workspace: an environment
//! aimed at a [`MockServer`], a clock that follows the mock's clock (tests jump time instead of
//! sleeping), and tokens issued by the mock.
//!
//! The suites of this package (in `tests/`) drive both transports against `qonto-mock`
//! through [`driver`]: one behaviour suite run against each transport, and reliability under
//! load and faults.

pub mod bench;
pub mod driver;

use std::time::Duration;

use qonto_auth_core::credentials::OAuthClient;
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken, StagingToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, MockServer};

/// An environment whose API and OAuth hosts are the mock; sandbox when `staging` is given.
pub fn environment(mock: &MockServer, staging: Option<&str>) -> Environment {
    let endpoints = Endpoints::new(&mock.url(), &mock.url()).expect("the mock URL is valid");
    let kind = if staging.is_some() {
        EnvironmentKind::Sandbox
    } else {
        EnvironmentKind::Production
    };
    Environment::new(kind, staging.map(StagingToken::new), endpoints)
        .expect("a consistent environment")
}

/// A time source following the mock's clock, for the transports' `Clock::custom`.
pub fn mock_time(mock: &MockServer) -> impl Fn() -> Timestamp + Send + Sync + 'static {
    let clock = mock.clock().clone();
    move || Timestamp::from_system_time(clock.now())
}

/// The mock's demo OAuth client.
pub fn demo_client() -> OAuthClient {
    OAuthClient::new(
        DEMO_CLIENT_ID,
        ClientSecret::new(DEMO_CLIENT_SECRET),
        DEMO_REDIRECT_URI,
    )
    .expect("the demo client is valid")
}

/// Tokens issued by the mock, as a store would hold them after a login at the mock's `now`.
pub fn issued_tokens(mock: &MockServer) -> TokenSet {
    issued_tokens_for(mock, "offline_access organization.read")
}

/// As [`issued_tokens`], for a grant of these space-separated scopes.
pub fn issued_tokens_for(mock: &MockServer, scopes: &str) -> TokenSet {
    let issued = mock.issue_tokens(DEMO_CLIENT_ID, scopes);
    let now = Timestamp::from_system_time(mock.clock().now());
    TokenSet {
        access_token: AccessToken::new(issued.access_token),
        expires_at: now + Duration::from_secs(issued.expires_in),
        refresh_token: issued.refresh_token.map(RefreshToken::new),
        refresh_issued_at: Some(now),
        scope: Some(issued.scope),
        refresh_pending_since: None,
    }
}
