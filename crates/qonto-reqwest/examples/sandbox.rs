//! Call the sandbox with an API key and the staging token, from async code.
//!
//! With `QONTO_API_KEY` and `QONTO_STAGING_TOKEN` set, talks to Qonto's sandbox; without them,
//! starts the built-in mock in sandbox mode and shows both a wrong staging token (the sandbox
//! gate, diagnosed) and the right one: `cargo run -p qonto-reqwest --example sandbox`.
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::secret::StagingToken;
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};
use qonto_reqwest::{Client, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let (Ok(key), Ok(staging)) = (
        std::env::var("QONTO_API_KEY"),
        std::env::var("QONTO_STAGING_TOKEN"),
    ) {
        let client = Client::api_key(
            Environment::sandbox(StagingToken::new(staging))?,
            ApiKey::parse(&key)?,
        )?;
        println!("organization: {}", client.organization().await?.slug);
        return Ok(());
    }
    let mock = MockServer::start(MockConfig::sandbox("the-right-staging-token"))?;
    let endpoints = Endpoints::new(&mock.url(), &mock.url())?;
    let key = ApiKey::parse(&format!("{DEMO_LOGIN}:{DEMO_SECRET}"))?;
    for staging in ["a-wrong-staging-token", "the-right-staging-token"] {
        let env = Environment::new(
            EnvironmentKind::Sandbox,
            Some(StagingToken::new(staging)),
            endpoints.clone(),
        )?;
        match Client::api_key(env, key.clone())?.organization().await {
            Ok(org) => println!("{staging}: organization {}", org.slug),
            Err(Error::Api(error)) => {
                println!("{staging}: {error}\n  fix: {}", error.kind.fix(None));
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}
