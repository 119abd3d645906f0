//! List bank accounts with a static API key, from async code.
//!
//! With `QONTO_API_KEY=login:secret` set, talks to production; without it, starts the
//! built-in mock so the example runs with no account:
//! `cargo run -p qonto-reqwest --example api_key`.
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};
use qonto_reqwest::Client;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (environment, raw_key, _mock) = match std::env::var("QONTO_API_KEY") {
        Ok(key) => (Environment::production(), key, None),
        Err(_) => {
            let mock = MockServer::start(MockConfig::default())?;
            let endpoints = Endpoints::new(&mock.url(), &mock.url())?;
            let env = Environment::new(EnvironmentKind::Production, None, endpoints)?;
            println!(
                "QONTO_API_KEY is not set: using the built-in mock at {}",
                mock.url()
            );
            (env, format!("{DEMO_LOGIN}:{DEMO_SECRET}"), Some(mock))
        }
    };
    // Every mistake of the troubleshooting guide is caught here, before any request.
    let key = ApiKey::parse(&raw_key)?;
    let client = Client::api_key(environment, key)?;
    for account in client.bank_accounts().await? {
        println!(
            "{:<20} {:<34} {:>12} cents",
            account.name,
            account.iban.unwrap_or_default(),
            account.balance_cents.unwrap_or(0)
        );
    }
    Ok(())
}
