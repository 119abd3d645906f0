//! OAuth with tokens kept in a file: refreshed once for many tasks, persisted before use.
//!
//! With `QONTO_CLIENT_ID`, `QONTO_CLIENT_SECRET` and `QONTO_TOKEN_FILE` (a token file written
//! by `qonto auth login`) set, talks to production. Without them, runs against the built-in
//! mock: the mock issues tokens, they go to a temporary file, and the clock is moved past
//! expiry so that ten concurrent tasks cause one refresh whose rotated tokens land in the
//! file first: `cargo run -p qonto-reqwest --example oauth_file_store`.
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::credentials::OAuthClient;
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, MockConfig, MockServer};
use qonto_reqwest::{Client, Clock};
use qonto_store::{FileStore, TokenStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let (Ok(id), Ok(secret), Ok(file)) = (
        std::env::var("QONTO_CLIENT_ID"),
        std::env::var("QONTO_CLIENT_SECRET"),
        std::env::var("QONTO_TOKEN_FILE"),
    ) {
        let redirect = std::env::var("QONTO_REDIRECT_URI").unwrap_or(DEMO_REDIRECT_URI.into());
        let oauth = OAuthClient::new(&id, ClientSecret::new(secret), &redirect)?;
        let store = Arc::new(FileStore::new(file));
        let client = Client::oauth(Environment::production(), oauth, store).await?;
        println!("organization: {}", client.organization().await?.slug);
        return Ok(());
    }

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
        .oauth(oauth, store.clone())
        .await?;

    println!("organization: {}", client.organization().await?.slug);
    mock.clock().advance(Duration::from_secs(3590));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.organization().await })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    println!(
        "an hour later, 10 concurrent calls, refresh calls: {}",
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
