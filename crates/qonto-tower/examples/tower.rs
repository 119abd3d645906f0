//! hyper-util's legacy client with qonto-auth as a tower layer: every request to the API host
//! gets its credential; a token the API rejects is refreshed and the request retried once.
//!
//! Runs against the built-in mock, no account needed:
//! `cargo run -p qonto-tower --example tower`.
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use qonto_e2e::{demo_client, environment, issued_tokens};
use qonto_mock::{MockConfig, MockServer};
use qonto_reqwest::qonto_auth_core::secret::AccessToken;
use qonto_store::MemoryStore;
use qonto_tower::{Layer, QontoLayer, Service, http};

#[tokio::main(flavor = "current_thread")]
pub(crate) async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The mock, and tokens it issued as a login would, except that the access token is one
    // the API no longer accepts (revoked, say): its refresh token is still good.
    let mock = MockServer::start(MockConfig::default())?;
    let mut tokens = issued_tokens(&mock);
    tokens.access_token = AccessToken::new("ory_at_revoked");
    let store = Arc::new(MemoryStore::with_tokens(tokens));
    let qonto =
        qonto_reqwest::Client::oauth(environment(&mock, None), demo_client(), store).await?;

    // A tower-based HTTP client (plain HTTP to the mock; an HTTPS connector for Qonto).
    let hyper = Client::builder(TokioExecutor::new())
        .http1_title_case_headers(true)
        .build_http::<Full<Bytes>>();
    let mut service = QontoLayer::new(qonto).layer(hyper);

    let request = http::Request::get(format!("{}/v2/organization", mock.url()))
        .body(Full::new(Bytes::new()))?;
    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
    let answer = service.call(request).await?;
    let status = answer.status();
    let body = answer.into_body().collect().await?.to_bytes();
    println!("GET /v2/organization: {status}");
    println!("{}", String::from_utf8_lossy(&body));

    let stats = mock.stats();
    println!(
        "answered 401 {} time, refreshed {} time, answered 200 {} time",
        stats.requests("/v2/organization", 401),
        stats.token_calls("refresh_token"),
        stats.requests("/v2/organization", 200)
    );
    assert!(status.is_success() && stats.token_calls("refresh_token") == 1);
    Ok(())
}
