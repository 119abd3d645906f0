//! What goes on the wire, read as raw bytes from a plain TCP socket.

mod common;

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::http::Method;
use qonto_auth_core::secret::{AccessToken, AuthorizationCode, RefreshToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_reqwest::{Client, TransportConfig};
use qonto_store::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Accepts one connection, returns its request head, answers with `response`.
async fn capture_one(response: String) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        socket.write_all(response.as_bytes()).await.unwrap();
        socket.shutdown().await.unwrap();
        String::from_utf8(head).unwrap()
    });
    (url, handle)
}

fn ok_json(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn sandbox_at(url: &str) -> qonto_auth_core::Environment {
    common::environment_at(url, Some("stg-token"))
}

#[tokio::test]
async fn api_requests_carry_the_exact_staging_header_casing_and_raw_api_key() {
    let (url, server) = capture_one(ok_json("{}")).await;
    let key = ApiKey::parse("org-1:secret-1").unwrap();
    let client = Client::api_key(sandbox_at(&url), key).unwrap();
    client
        .send(Method::GET, "/v2/organization", None)
        .await
        .unwrap();
    let head = server.await.unwrap();
    assert!(
        head.starts_with("GET /v2/organization HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nX-Qonto-Staging-Token: stg-token\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nAuthorization: org-1:secret-1\r\n"),
        "{head}"
    );
    // A GET carries no body, so no `content-length: 0` either.
    assert!(
        !head.to_ascii_lowercase().contains("content-length"),
        "{head}"
    );
}

#[tokio::test]
async fn oauth_api_requests_send_a_bearer_token() {
    let (url, server) = capture_one(ok_json("{}")).await;
    let token = AccessToken::new("ory_at_abc");
    let client = Client::builder(sandbox_at(&url))
        .access_token(token)
        .unwrap();
    client
        .send(Method::GET, "/v2/organization", None)
        .await
        .unwrap();
    let head = server.await.unwrap();
    assert!(
        head.contains("\r\nAuthorization: Bearer ory_at_abc\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nX-Qonto-Staging-Token: stg-token\r\n"),
        "{head}"
    );
}

#[tokio::test]
async fn code_exchanges_carry_the_exact_staging_header_casing() {
    let (url, server) = capture_one(ok_json(
        r#"{"access_token":"ory_at_x","expires_in":3600,"token_type":"bearer","scope":"a b c d"}"#,
    ))
    .await;
    let client = Client::oauth(
        sandbox_at(&url),
        common::oauth_client(),
        Arc::new(MemoryStore::new()),
    )
    .await
    .unwrap();
    let code = AuthorizationCode::new("ory_ac_1");
    client.exchange_code(&code, None).await.unwrap();
    let head = server.await.unwrap();
    assert!(
        head.starts_with("POST /oauth2/token HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nX-Qonto-Staging-Token: stg-token\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded"),
        "{head}"
    );
}

#[tokio::test]
async fn refresh_requests_carry_the_exact_staging_header_casing() {
    let (url, server) = capture_one(ok_json(
        r#"{"access_token":"ory_at_new","expires_in":3600,"token_type":"bearer","refresh_token":"ory_rt_new"}"#,
    ))
    .await;
    let expired = TokenSet {
        access_token: AccessToken::new("ory_at_old"),
        expires_at: Timestamp::from_unix_secs(1),
        refresh_token: Some(RefreshToken::new("ory_rt_old")),
        refresh_issued_at: None,
        scope: None,
        refresh_pending_since: None,
    };
    let store = Arc::new(MemoryStore::with_tokens(expired));
    let client = Client::oauth(sandbox_at(&url), common::oauth_client(), store)
        .await
        .unwrap();
    client.refresh_now().await.unwrap();
    let head = server.await.unwrap();
    assert!(
        head.starts_with("POST /oauth2/token HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nX-Qonto-Staging-Token: stg-token\r\n"),
        "{head}"
    );
    let status = client.oauth_status().unwrap();
    assert!(status.access_usable);
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!("http://{}/steal", elsewhere.local_addr().unwrap());
    let (url, server) = capture_one(format!(
        "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    ))
    .await;
    let client =
        Client::api_key(sandbox_at(&url), ApiKey::parse("org-1:secret-1").unwrap()).unwrap();
    let err = client
        .send(Method::GET, "/v2/organization", None)
        .await
        .unwrap_err();
    server.await.unwrap();
    assert_eq!(err.code(), "unexpected_redirect", "{err}");
    assert!(
        matches!(err, qonto_reqwest::Error::Api(_)),
        "classified, not followed"
    );
    assert!(
        elsewhere.accept().is_err(),
        "the redirect target was contacted"
    );
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused_while_reading() {
    // No content-length: the cap is enforced on the streamed chunks.
    let body = "x".repeat(64 * 1024);
    let (url, server) = capture_one(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{body}"
    ))
    .await;
    let client = Client::builder(sandbox_at(&url))
        .transport(TransportConfig::default().with_max_body(1024))
        .api_key(ApiKey::parse("org-1:secret-1").unwrap())
        .unwrap();
    let err = client
        .send(Method::GET, "/v2/organization", None)
        .await
        .unwrap_err();
    let _ = server.await;
    assert_eq!(err.code(), "body_too_large", "{err}");
}

#[tokio::test]
async fn connect_failures_are_typed_network_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::api_key(
        common::environment_at(&url, None),
        ApiKey::parse("a-1:b").unwrap(),
    )
    .unwrap();
    let err = client.organization().await.unwrap_err();
    assert_eq!(err.code(), "network_error", "{err}");
    let qonto_reqwest::Error::Network(failure) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        failure.stage,
        qonto_auth_core::lifecycle::SendStage::NotSent
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_maybe_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        // Keep the connection open without answering until the client gives up.
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(socket);
    });
    let client = Client::builder(common::environment_at(&url, None))
        .transport(TransportConfig::default().with_timeout(Duration::from_millis(200)))
        .api_key(ApiKey::parse("a-1:b").unwrap())
        .unwrap();
    let err = client.organization().await.unwrap_err();
    hold.abort();
    let qonto_reqwest::Error::Network(failure) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        failure.stage,
        qonto_auth_core::lifecycle::SendStage::MaybeSent
    );
    assert!(failure.description.contains("timed out"), "{err}");
}
