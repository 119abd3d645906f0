//! The middleware against `qonto-mock`: the example, the headers, hosts that must get no
//! credential, the single 401 retry, and re-authorization reported as an error.

use std::sync::Arc;

use qonto_e2e::{demo_client, environment, issued_tokens};
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};
use qonto_reqwest::qonto_auth_core::credentials::ApiKey;
use qonto_reqwest::qonto_auth_core::secret::{AccessToken, RefreshToken};
use qonto_reqwest_middleware::QontoMiddleware;
use qonto_store::MemoryStore;
use reqwest_middleware::ClientWithMiddleware;

#[path = "../examples/middleware.rs"]
mod example;

#[test]
fn the_example_runs_against_the_mock() {
    example::main().unwrap();
}

fn http(qonto: qonto_reqwest::Client) -> ClientWithMiddleware {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reqwest = reqwest::Client::builder()
        .http1_title_case_headers()
        .build()
        .unwrap();
    reqwest_middleware::ClientBuilder::new(reqwest)
        .with(QontoMiddleware::new(qonto))
        .build()
}

/// `GET {base}/v2/organization{query}` through `http`.
async fn organization(
    http: &ClientWithMiddleware,
    base: &str,
    query: &str,
) -> reqwest_middleware::Result<reqwest::Response> {
    let url = format!("{base}/v2/organization{query}");
    http.get(url).send().await
}

fn api_key_client(mock: &MockServer, staging: Option<&str>) -> ClientWithMiddleware {
    let key = ApiKey::parse(&format!("{DEMO_LOGIN}:{DEMO_SECRET}")).unwrap();
    http(qonto_reqwest::Client::api_key(environment(mock, staging), key).unwrap())
}

#[tokio::test]
async fn sandbox_requests_get_the_credential_and_the_exactly_cased_staging_header() {
    let mock =
        MockServer::start(MockConfig::sandbox("stg-token").with_strict_header_case(true)).unwrap();
    let http = api_key_client(&mock, Some("stg-token"));
    let answer = organization(&http, &mock.url(), "?x=1").await.unwrap();
    assert_eq!(answer.status(), 200);
    let head = String::from_utf8(mock.last_request_head("/v2/organization").unwrap()).unwrap();
    assert!(
        head.contains("X-Qonto-Staging-Token: stg-token\r\n"),
        "{head}"
    );
    assert!(
        head.contains(&format!("Authorization: {DEMO_LOGIN}:")),
        "{head}"
    );
}

#[tokio::test]
async fn requests_to_another_host_pass_through_without_the_credential() {
    let (mock, other) = (
        MockServer::start(MockConfig::default()).unwrap(),
        MockServer::start(MockConfig::default()).unwrap(),
    );
    let http = api_key_client(&mock, None);
    let answer = organization(&http, &other.url(), "").await.unwrap();
    assert_eq!(answer.status(), 401, "the other host saw no credential");
    let head = other.last_request_head("/v2/organization").unwrap();
    assert!(
        !String::from_utf8_lossy(&head)
            .to_ascii_lowercase()
            .contains("authorization")
    );
    assert_eq!(mock.stats().requests("/v2/organization", 200), 0);
}

async fn oauth(mock: &MockServer, access: &str, refresh: Option<&str>) -> ClientWithMiddleware {
    let mut tokens = issued_tokens(mock);
    tokens.access_token = AccessToken::new(access);
    if let Some(refresh) = refresh {
        tokens.refresh_token = Some(RefreshToken::new(refresh));
    }
    let store = Arc::new(MemoryStore::with_tokens(tokens));
    let client = qonto_reqwest::Client::oauth(environment(mock, None), demo_client(), store);
    http(client.await.unwrap())
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_and_the_request_retried_once() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let http = oauth(&mock, "ory_at_unknown", None).await;
    let answer = organization(&http, &mock.url(), "").await.unwrap();
    assert_eq!(answer.status(), 200);
    let stats = mock.stats();
    assert_eq!(stats.token_calls("refresh_token"), 1);
    assert_eq!(stats.requests("/v2/organization", 401), 1);
    assert_eq!(stats.requests("/v2/organization", 200), 1);
}

#[tokio::test]
async fn a_grant_that_is_gone_is_an_error_of_the_middleware_and_never_loops() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let http = oauth(&mock, "ory_at_unknown", Some("ory_rt_unknown")).await;
    let error = organization(&http, &mock.url(), "").await.unwrap_err();
    assert!(matches!(error, reqwest_middleware::Error::Middleware(_)));
    assert!(error.to_string().contains("re-authorization"), "{error}");
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
}
