//! OAuth with tokens kept in a file: refreshed and persisted automatically.
//!
//! Runs against the built-in mock (no account needed): tokens are issued by the mock, stored
//! in a temporary file, and the clock is moved past expiry to show a refresh whose rotated
//! tokens land in the file before use: `cargo run -p qonto-ureq --example oauth_file_store`.
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::credentials::OAuthClient;
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, MockConfig, MockServer};
use qonto_store::{FileStore, TokenStore};
use qonto_ureq::{Client, Clock};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start(MockConfig::default())?;
    let mock_clock = mock.clock().clone();
    let clock = Clock::custom(move || Timestamp::from_system_time(mock_clock.now()));
    let path = std::env::temp_dir().join(format!("qonto-example-{}.json", std::process::id()));
    let store = Arc::new(FileStore::new(&path));

    // As if `qonto auth login` had run: the mock issues a first token pair.
    let issued = mock.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let now = clock.now();
    store.lock()?.save(&TokenSet {
        access_token: AccessToken::new(issued.access_token),
        expires_at: now + Duration::from_secs(issued.expires_in),
        refresh_token: issued.refresh_token.map(RefreshToken::new),
        refresh_issued_at: Some(now),
        scope: Some(issued.scope),
        refresh_pending_since: None,
    })?;

    let endpoints = Endpoints::new(&mock.url(), &mock.url())?;
    let env = Environment::new(EnvironmentKind::Production, None, endpoints)?;
    let oauth = OAuthClient::new(
        DEMO_CLIENT_ID,
        ClientSecret::new(DEMO_CLIENT_SECRET),
        DEMO_REDIRECT_URI,
    )?;
    let client = Client::builder(env)
        .clock(clock)
        .oauth(oauth, store.clone())?;

    println!("organization: {}", client.organization()?.slug);
    mock.clock().advance(Duration::from_secs(3500));
    println!("55+ minutes later: {}", client.organization()?.slug);
    println!(
        "refresh calls: {}",
        mock.stats().token_calls("refresh_token")
    );
    let status = client.oauth_status().ok_or("not OAuth")?;
    println!(
        "token file {} now expires at {:?}",
        path.display(),
        status.access_expires_at
    );
    store.lock()?.clear()?;
    Ok(())
}
