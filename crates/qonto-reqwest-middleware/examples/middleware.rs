//! Your own reqwest client, with qonto-auth as middleware: every request to the API host gets
//! its credential, and the OAuth token is refreshed when it is due, before the request.
//!
//! Runs against the built-in mock, no account needed:
//! `cargo run -p qonto-reqwest-middleware --example middleware`.
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::sync::Arc;
use std::time::Duration;

use qonto_e2e::{demo_client, environment, issued_tokens, mock_time};
use qonto_mock::{MockConfig, MockServer};
use qonto_reqwest::Clock;
use qonto_reqwest_middleware::QontoMiddleware;
use qonto_store::MemoryStore;

#[tokio::main(flavor = "current_thread")]
pub(crate) async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The mock, and tokens it issued as a login would (kept in memory here; a file or a
    // database store in a real application). The client follows the mock's clock, so the
    // example can jump an hour ahead instead of waiting.
    let mock = MockServer::start(MockConfig::default())?;
    let store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
    let qonto = qonto_reqwest::Client::builder(environment(&mock, None))
        .clock(Clock::custom(mock_time(&mock)))
        .oauth(demo_client(), store)
        .await?;

    // Your own client and middleware chain. (This workspace builds reqwest without a default
    // TLS crypto provider; reqwest's usual features bring one, making this line unnecessary.)
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reqwest = reqwest::Client::builder()
        .http1_title_case_headers()
        .build()?;
    let http = reqwest_middleware::ClientBuilder::new(reqwest)
        .with(QontoMiddleware::new(qonto))
        .build();

    let url = format!("{}/v2/organization", mock.url());
    let answer = http.get(&url).send().await?;
    println!("GET /v2/organization: {}", answer.status());
    assert!(answer.status().is_success());
    println!("{}", answer.text().await?);

    // An hour later the access token has expired: the middleware refreshes it first.
    mock.clock().advance(Duration::from_secs(3_600));
    let answer = http.get(&url).send().await?;
    let refreshes = mock.stats().token_calls("refresh_token");
    println!(
        "an hour later: {} after {refreshes} token refresh",
        answer.status()
    );
    assert!(answer.status().is_success() && refreshes == 1);
    Ok(())
}
