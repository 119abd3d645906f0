//! What goes on the wire, read as raw bytes from a plain TCP socket.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::secret::StagingToken;
use qonto_store::MemoryStore;
use qonto_ureq::Client;

/// Accepts one connection, returns its request head, answers with `response`.
fn capture_one(response: &'static str) -> (String, thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte).unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        socket.write_all(response.as_bytes()).unwrap();
        String::from_utf8(head).unwrap()
    });
    (url, handle)
}

fn sandbox_at(url: &str) -> Environment {
    let endpoints = Endpoints::new(url, url).unwrap();
    Environment::new(
        EnvironmentKind::Sandbox,
        Some(StagingToken::new("stg-token")),
        endpoints,
    )
    .unwrap()
}

const OK_JSON: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";

#[test]
fn api_requests_carry_the_exact_staging_header_casing_and_raw_api_key() {
    let (url, server) = capture_one(OK_JSON);
    let key = ApiKey::parse("org-1:secret-1").unwrap();
    let client = Client::api_key(sandbox_at(&url), key).unwrap();
    client
        .send(qonto_auth_core::http::Method::GET, "/v2/organization", None)
        .unwrap();
    let head = server.join().unwrap();
    assert!(
        head.starts_with("GET /v2/organization HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nX-Qonto-Staging-Token: stg-token\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\nauthorization: org-1:secret-1\r\n"),
        "{head}"
    );
    // A GET carries no body, so no `content-length: 0` either.
    assert!(
        !head.to_ascii_lowercase().contains("content-length"),
        "{head}"
    );
}

#[test]
fn token_requests_carry_the_exact_staging_header_casing() {
    let (url, server) = capture_one(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 85\r\nconnection: close\r\n\r\n{\"access_token\":\"ory_at_x\",\"expires_in\":3600,\"token_type\":\"bearer\",\"scope\":\"a b c d\"}",
    );
    let client = Client::oauth(
        sandbox_at(&url),
        common::oauth_client(),
        Arc::new(MemoryStore::new()),
    )
    .unwrap();
    let code = qonto_auth_core::secret::AuthorizationCode::new("ory_ac_1");
    client.exchange_code(&code, None).unwrap();
    let head = server.join().unwrap();
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
            .contains("content-type: application/x-www-form-urlencoded")
    );
}

#[test]
fn redirects_are_never_followed() {
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!("http://{}/steal", elsewhere.local_addr().unwrap());
    let response: &'static str = Box::leak(
        format!("HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").into_boxed_str(),
    );
    let (url, server) = capture_one(response);
    let client =
        Client::api_key(sandbox_at(&url), ApiKey::parse("org-1:secret-1").unwrap()).unwrap();
    let err = client
        .send(qonto_auth_core::http::Method::GET, "/v2/organization", None)
        .unwrap_err();
    server.join().unwrap();
    assert_eq!(err.code(), "unexpected_redirect", "{err}");
    assert!(
        elsewhere.accept().is_err(),
        "the redirect target was contacted"
    );
}
