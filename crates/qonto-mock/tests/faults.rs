//! Fault injection, rate limiting, stats, raw head capture, HTTP-level handling, lifecycle.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Client, api_key, build_request, call, get_auth, org_request, refresh_pair, token};
use qonto_mock::{DEMO_CLIENT_ID, MockConfig, MockServer, RateLimit, RetryAfter};

fn server() -> MockServer {
    MockServer::start(MockConfig::default()).expect("start")
}

/// Sends one request on a fresh connection and expects the server to close without answering.
fn expect_dropped(server: &MockServer, bytes: &[u8]) {
    let mut client = Client::connect(server.addr());
    assert!(
        client.send_raw(bytes).is_err(),
        "expected the connection to be dropped"
    );
}

#[test]
fn latency_and_token_delay() {
    let server = server();
    server.faults().set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(
        get_auth(&server, "/v2/organization", &api_key()).status,
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    server.faults().set_latency(Duration::ZERO);

    // A long token delay does not slow the API down.
    server.faults().token_delay(Duration::from_secs(10));
    let started = Instant::now();
    assert_eq!(
        get_auth(&server, "/v2/organization", &api_key()).status,
        200
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "API not delayed"
    );
    server.faults().token_delay(Duration::from_millis(200));
    let started = Instant::now();
    let resp = token(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    );
    assert_eq!(resp.status, 400);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn drop_next_connections() {
    let server = server();
    server.faults().drop_next_connections(2);
    expect_dropped(&server, &org_request());
    expect_dropped(&server, &org_request());
    assert_eq!(
        get_auth(&server, "/v2/organization", &api_key()).status,
        200
    );
    let stats = server.stats();
    assert_eq!(stats.requests("/v2/organization", 0), 2);
    assert_eq!(stats.requests("/v2/organization", 200), 1);
}

#[test]
fn fail_next_answers_the_status_with_a_json_error() {
    let server = server();
    server.faults().fail_next(3, 503);
    for path in ["/v2/organization", "/v2/bank_accounts"] {
        let resp = get_auth(&server, path, &api_key());
        assert_eq!(resp.status, 503);
        assert_eq!(resp.api_error_code(), "service_unavailable");
    }
    let resp = token(&server, &[("grant_type", "refresh_token")]);
    assert_eq!(resp.status, 503);
    assert_eq!(resp.oauth_error(), "temporarily_unavailable");
    assert_eq!(
        get_auth(&server, "/v2/organization", &api_key()).status,
        200
    );

    server.faults().fail_next(1, 500);
    let resp = get_auth(&server, "/v2/organization", &api_key());
    assert_eq!(
        (resp.status, resp.api_error_code().as_str()),
        (500, "internal_server_error")
    );
    // clear() turns every knob off.
    server.faults().fail_next(5, 500);
    server.faults().drop_next_connections(5);
    server.faults().clear();
    assert_eq!(
        get_auth(&server, "/v2/organization", &api_key()).status,
        200
    );
    server.faults().fail_next(1, 502);
    assert_eq!(
        get_auth(&server, "/v2/organization", &api_key()).status,
        502
    );
}

#[test]
fn fail_next_token_requests_only_touches_the_token_endpoint() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let rt = tokens.refresh_token.unwrap();
    server.faults().fail_next_token_requests(2, 502);
    assert_eq!(
        get_auth(&server, "/v2/organization", &api_key()).status,
        200
    );
    for _ in 0..2 {
        let resp = refresh_pair(&server, &rt);
        assert_eq!(resp.status, 502);
        assert_eq!(resp.oauth_error(), "server_error");
    }
    // The failed calls did not consume the refresh token.
    assert_eq!(refresh_pair(&server, &rt).status, 200);
    assert_eq!(server.stats().token_calls("refresh_token"), 3);
}

#[test]
fn lost_token_response_still_rotates() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let rt = tokens.refresh_token.unwrap();
    server.faults().lose_next_token_responses(1);
    let body = common::form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", qonto_mock::DEMO_CLIENT_SECRET),
    ]);
    let request = build_request(
        "POST",
        "/oauth2/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    );
    expect_dropped(&server, &request);
    assert_eq!(server.stats().token_calls("refresh_token"), 1);
    // The old token was used once: the retry inside the grace window succeeds...
    server.clock().advance(Duration::from_secs(59));
    assert_eq!(refresh_pair(&server, &rt).status, 200);
    // ...and after the window it fails and revokes the grant.
    server.clock().advance(Duration::from_secs(2));
    assert_eq!(refresh_pair(&server, &rt).oauth_error(), "invalid_grant");
}

#[test]
fn rate_limit_answers_429_with_retry_after_until_reset_when_asked() {
    let limit = RateLimit {
        max_requests: 5,
        window: Duration::from_secs(10),
    };
    let server = MockServer::start(
        MockConfig::default()
            .with_rate_limit(limit)
            .with_retry_after(RetryAfter::UntilReset),
    )
    .expect("start");
    let mut client = Client::connect(server.addr());
    for _ in 0..5 {
        assert_eq!(client.send_raw(&org_request()).unwrap().status, 200);
    }
    let resp = client.send_raw(&org_request()).unwrap();
    assert_eq!(resp.status, 429);
    assert_eq!(resp.api_error_code(), "too_many_requests");
    assert_eq!(resp.header("Retry-After"), Some("10"));
    server.clock().advance(Duration::from_secs(4));
    let resp = client.send_raw(&org_request()).unwrap();
    assert_eq!(resp.header("Retry-After"), Some("6"));
    server.clock().advance(Duration::from_secs(6));
    assert_eq!(client.send_raw(&org_request()).unwrap().status, 200);
    assert_eq!(RateLimit::qonto().max_requests, 1000);
}

#[test]
fn stats_count_requests_and_token_calls() {
    let server = server();
    let key = api_key();
    get_auth(&server, "/v2/organization", &key);
    get_auth(&server, "/v2/organization", &key);
    get_auth(&server, "/v2/organization", "bad");
    get_auth(&server, "/v2/bank_accounts?page=1", &key);
    token(&server, &[("grant_type", "authorization_code")]);
    token(&server, &[("grant_type", "refresh_token")]);
    token(&server, &[]);
    let stats = server.stats();
    assert_eq!(stats.requests("/v2/organization", 200), 2);
    assert_eq!(stats.requests("/v2/organization", 401), 1);
    assert_eq!(stats.requests("/v2/bank_accounts", 200), 1);
    assert_eq!(stats.requests("/oauth2/token", 400), 3);
    assert_eq!(stats.token_calls("authorization_code"), 1);
    assert_eq!(stats.token_calls("refresh_token"), 1);
    assert_eq!(stats.token_calls(""), 1);
    assert_eq!(stats.total_requests(), 7);
}

#[test]
fn raw_request_head_is_kept_per_path_with_wire_casing() {
    let server = server();
    let raw = b"GET /v2/organization?x=1 HTTP/1.1\r\nHost: a\r\nX-Qonto-Staging-Token: t\r\nx-custom-LOWER: v\r\nAuthorization: nope\r\n\r\n";
    let resp = Client::connect(server.addr()).send_raw(raw).unwrap();
    assert_eq!(resp.status, 401);
    assert_eq!(
        server.last_request_head("/v2/organization").unwrap(),
        raw.to_vec()
    );
    assert!(server.last_request_head("/v2/bank_accounts").is_none());
    let raw2 = build_request(
        "GET",
        "/v2/organization",
        &[("authorization", "again")],
        b"",
    );
    Client::connect(server.addr()).send_raw(&raw2).unwrap();
    assert_eq!(server.last_request_head("/v2/organization").unwrap(), raw2);
}

#[test]
fn keep_alive_and_pipelining() {
    let server = server();
    let mut client = Client::connect(server.addr());
    for _ in 0..5 {
        assert_eq!(client.send_raw(&org_request()).unwrap().status, 200);
    }
    // Two requests in one write: both answered in order.
    let mut both = build_request(
        "GET",
        "/v2/membership",
        &[("Authorization", &api_key())],
        b"",
    );
    both.extend(build_request("GET", "/nope", &[], b""));
    let first = client.send_raw(&both).unwrap();
    assert_eq!(first.status, 200);
    let second = client.send_raw(b"").unwrap();
    assert_eq!(second.status, 404);
}

#[test]
fn connection_close_is_honoured() {
    let server = server();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let req = build_request("GET", "/nope", &[("Connection", "close")], b"");
    stream.write_all(&req).unwrap();
    let mut all = String::new();
    stream.read_to_string(&mut all).unwrap();
    assert!(all.starts_with("HTTP/1.1 404 Not Found\r\n"));
    assert!(all.contains("Connection: close\r\n"));
}

#[test]
fn malformed_and_chunked_requests_are_refused() {
    let server = server();
    let cases: [(&[u8], u16); 5] = [
        (
            b"GET /v2/organization HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            411,
        ),
        (
            b"POST /oauth2/token HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
            400,
        ),
        (
            b"POST /oauth2/token HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            400,
        ),
        (b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n", 400),
        (b"\x00\x01\x02 garbage\r\n\r\n", 400),
    ];
    for (raw, status) in cases {
        let mut client = Client::connect(server.addr());
        let resp = client.send_raw(raw).unwrap();
        assert_eq!(resp.status, status, "{}", String::from_utf8_lossy(raw));
        assert_eq!(resp.header("Connection"), Some("close"));
        assert_eq!(resp.json()["trace_id"], resp.trace_id());
    }
    let huge = format!("GET /x HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
    let resp = Client::connect(server.addr())
        .send_raw(huge.as_bytes())
        .unwrap();
    assert_eq!(resp.status, 431);
    // The server still works.
    assert_eq!(
        get_auth(&server, "/v2/organization", &api_key()).status,
        200
    );
}

#[test]
fn starts_inside_a_tokio_runtime_and_shuts_down() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(async {
        let server = MockServer::start(MockConfig::default()).expect("start");
        assert!(server.url().starts_with("http://127.0.0.1:"));
        let resp = call(&server, "GET", "/nope", &[], b"");
        assert_eq!(resp.status, 404);
        let addr = server.addr();
        server.shutdown();
        addr
    });
    assert!(
        TcpStream::connect(addr).is_err(),
        "listener closed after shutdown"
    );
}

#[test]
fn bind_address_is_configurable() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let server = MockServer::start(MockConfig::default().with_bind(addr)).expect("start");
    assert_eq!(server.addr(), addr);
    assert_eq!(server.url(), format!("http://{addr}"));
    // Binding the same address twice fails with an io::Error, not a panic.
    assert!(MockServer::start(MockConfig::default().with_bind(addr)).is_err());
}

#[test]
fn expect_100_continue_is_answered() {
    let server = server();
    let body = common::form(&[("grant_type", "refresh_token")]);
    let head = format!(
        "POST /oauth2/token HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut first = [0u8; 25];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(&body).unwrap();
    let mut rest = [0u8; 24];
    stream.read_exact(&mut rest).unwrap();
    assert_eq!(&rest, b"HTTP/1.1 400 Bad Request");
}

#[test]
fn server_handle_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MockServer>();
    assert_send_sync::<qonto_mock::MockClock>();
    assert_send_sync::<qonto_mock::Faults>();
}
