//! The tower layer against `qonto-mock`: the example (a 401 refreshed and retried once), and a
//! body that cannot be copied, whose 401 comes back while the next request refreshes.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use qonto_e2e::{demo_client, environment, issued_tokens};
use qonto_mock::{MockConfig, MockServer};
use qonto_reqwest::qonto_auth_core::secret::AccessToken;
use qonto_store::MemoryStore;
use qonto_tower::{Layer, QontoLayer, Service, http};

#[path = "../examples/tower.rs"]
mod example;

#[test]
fn the_example_runs_against_the_mock() {
    example::main().unwrap();
}

#[tokio::test]
async fn a_body_that_cannot_be_copied_gets_its_401_and_the_next_request_refreshes() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let mut tokens = issued_tokens(&mock);
    tokens.access_token = AccessToken::new("ory_at_revoked");
    let store = Arc::new(MemoryStore::with_tokens(tokens));
    let client = qonto_reqwest::Client::oauth(environment(&mock, None), demo_client(), store);
    let hyper = Client::builder(TokioExecutor::new())
        .build_http::<BoxBody<Bytes, std::convert::Infallible>>();
    let mut service = QontoLayer::new(client.await.unwrap()).layer(hyper);
    let url = format!("{}/v2/organization", mock.url());
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let body = http_body_util::Empty::new().boxed();
        let request = http::Request::get(&url).body(body).unwrap();
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .unwrap();
        statuses.push(service.call(request).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [401, 200]);
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}
