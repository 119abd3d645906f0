//! What goes on the wire, read as raw bytes by a plain TCP server on loopback, and servers
//! that misbehave: redirects, oversized bodies, no answer, refused connections, endless pages.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::http::Method;
use qonto_auth_core::lifecycle::SendStage;
use qonto_auth_core::secret::{AccessToken, AuthorizationCode, RefreshToken, StagingToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_e2e::demo_client;
use qonto_e2e::driver::{Client, Kind};
use qonto_store::{MemoryStore, TokenStore};
use qonto_ureq::{Error, TransportConfig};

scenarios!(
    api_requests_carry_the_exact_staging_header_casing_and_raw_api_key,
    bearer_requests_carry_the_access_token_and_the_staging_header,
    code_exchanges_carry_the_exact_staging_header_casing,
    refresh_requests_carry_the_exact_staging_header_casing,
    redirects_are_never_followed,
    bodies_over_the_cap_are_refused_while_reading,
    connect_failures_are_typed_network_errors,
    a_server_that_never_answers_times_out_as_maybe_sent,
    a_server_announcing_pages_forever_is_stopped_after_a_thousand_pages,
);

/// Connections a [`RawServer`] accepts, and requests it reads, at most.
const MAX_CONNECTIONS: usize = 64;
const MAX_REQUESTS: usize = 2_000;
/// How long a connection may stay silent before the server drops it.
const IDLE: Duration = Duration::from_secs(10);

/// The answer to a request head: the whole response, or `None` to hold the connection
/// without answering until the client closes it.
type Answer = dyn Fn(&str) -> Option<String> + Send + Sync;

/// A plain HTTP/1.1 server: it records every request head as it came on the wire and sends
/// the bytes `answer` gives; a connection stays open for the next request unless the answer
/// says `connection: close`. Bounded in connections, requests and idle time.
struct RawServer {
    url: String,
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    acceptor: thread::JoinHandle<()>,
}

impl RawServer {
    fn start(answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let answer: Arc<Answer> = Arc::new(answer);
        let acceptor = {
            let (heads, stop) = (Arc::clone(&heads), Arc::clone(&stop));
            thread::spawn(move || {
                for socket in listener.incoming().take(MAX_CONNECTIONS) {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let (heads, answer) = (Arc::clone(&heads), Arc::clone(&answer));
                    if let Ok(socket) = socket {
                        thread::spawn(move || serve(socket, &heads, &*answer));
                    }
                }
            })
        };
        Self {
            url: format!("http://{addr}"),
            addr,
            heads,
            stop,
            acceptor,
        }
    }

    /// Stops accepting; the request heads received, in order.
    fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor (refused if it already took its last connection).
        let _ = TcpStream::connect(self.addr);
        self.acceptor.join().unwrap();
        std::mem::take(&mut *self.heads.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Stops accepting; the one request head received.
    fn only_head(self) -> String {
        let mut heads = self.finish();
        assert_eq!(heads.len(), 1, "{heads:?}");
        heads.remove(0)
    }
}

fn serve(mut socket: TcpStream, heads: &Mutex<Vec<String>>, answer: &Answer) {
    let _ = socket.set_read_timeout(Some(IDLE));
    while let Some(head) = read_request(&mut socket) {
        let received = {
            let mut heads = heads.lock().unwrap_or_else(PoisonError::into_inner);
            heads.push(head.clone());
            heads.len()
        };
        if received > MAX_REQUESTS {
            return;
        }
        let Some(response) = answer(&head) else {
            // Hold the connection, unanswered, until the client gives up on it.
            let _ = io::copy(&mut socket, &mut io::sink());
            return;
        };
        let close = response
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n");
        if socket.write_all(response.as_bytes()).is_err() || close {
            return;
        }
    }
}

/// Reads one request: its head, returned as text, and its body (by `content-length`), so
/// that closing the connection afterwards never resets it under the client.
fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).ok()?;
    let length = header(&head, "content-length")
        .map_or(Ok(0), str::parse)
        .ok()?;
    let mut body = vec![0u8; length];
    socket.read_exact(&mut body).ok()?;
    Some(head)
}

/// The value of header `name` (any case) in a request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// A 200 JSON answer; `close` ends the connection after it.
fn json(body: &str, close: bool) -> String {
    let connection = if close { "connection: close\r\n" } else { "" };
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         {connection}\r\n{body}",
        body.len()
    )
}

fn environment_at(url: &str, staging: Option<&str>) -> Environment {
    let endpoints = Endpoints::new(url, url).unwrap();
    let kind = match staging {
        Some(_) => EnvironmentKind::Sandbox,
        None => EnvironmentKind::Production,
    };
    Environment::new(kind, staging.map(StagingToken::new), endpoints).unwrap()
}

/// A sandbox environment at `server`, with staging token `stg-token`.
fn sandbox_at(server: &RawServer) -> Environment {
    environment_at(&server.url, Some("stg-token"))
}

fn key() -> ApiKey {
    ApiKey::parse("org-1:secret-1").unwrap()
}

/// An API-key client of `url` (production), with `transport` settings.
fn api_key_at(kind: Kind, url: &str, transport: TransportConfig) -> Client {
    let builder = kind.builder(environment_at(url, None));
    builder.transport(transport).api_key(key()).unwrap()
}

/// An OAuth client of `server` (sandbox) on `store`.
fn oauth_at(kind: Kind, server: &RawServer, store: Arc<dyn TokenStore>) -> Client {
    let builder = kind.builder(sandbox_at(server));
    builder.oauth(demo_client(), store).unwrap()
}

/// Checks the request line and the staging header, with its documented casing, byte for byte.
fn assert_sandbox_request(head: &str, request_line: &str) {
    assert!(head.starts_with(&format!("{request_line}\r\n")), "{head}");
    assert!(
        head.contains("\r\nX-Qonto-Staging-Token: stg-token\r\n"),
        "{head}"
    );
}

/// Checks a token request: a form POST to the token path, with the staging header.
fn assert_token_request(head: &str) {
    assert_sandbox_request(head, "POST /oauth2/token HTTP/1.1");
    assert_eq!(
        header(head, "content-type"),
        Some("application/x-www-form-urlencoded"),
        "{head}"
    );
}

fn api_requests_carry_the_exact_staging_header_casing_and_raw_api_key(kind: Kind) {
    let server = RawServer::start(|_| Some(json("{}", true)));
    let client = kind.builder(sandbox_at(&server)).api_key(key()).unwrap();
    client.send(Method::GET, "/v2/organization", None).unwrap();
    let head = server.only_head();
    assert_sandbox_request(&head, "GET /v2/organization HTTP/1.1");
    assert_eq!(header(&head, "authorization"), Some("org-1:secret-1"));
    // A GET carries no body, so no `content-length: 0` either.
    assert_eq!(header(&head, "content-length"), None, "{head}");
}

fn bearer_requests_carry_the_access_token_and_the_staging_header(kind: Kind) {
    let server = RawServer::start(|_| Some(json("{}", true)));
    let token = AccessToken::new("ory_at_abc");
    let client = kind
        .builder(sandbox_at(&server))
        .access_token(token)
        .unwrap();
    client.send(Method::GET, "/v2/organization", None).unwrap();
    let head = server.only_head();
    assert_sandbox_request(&head, "GET /v2/organization HTTP/1.1");
    assert_eq!(header(&head, "authorization"), Some("Bearer ory_at_abc"));
}

fn code_exchanges_carry_the_exact_staging_header_casing(kind: Kind) {
    let server = RawServer::start(|_| {
        let body = r#"{"access_token":"ory_at_x","expires_in":3600,"token_type":"bearer","scope":"a b c d"}"#;
        Some(json(body, true))
    });
    let client = oauth_at(kind, &server, Arc::new(MemoryStore::new()));
    let code = AuthorizationCode::new("ory_ac_1");
    client.exchange_code(&code, None).unwrap();
    assert_token_request(&server.only_head());
    assert!(client.oauth_status().unwrap().access_usable);
}

fn refresh_requests_carry_the_exact_staging_header_casing(kind: Kind) {
    let server = RawServer::start(|_| {
        let body = r#"{"access_token":"ory_at_new","expires_in":3600,"token_type":"bearer","refresh_token":"ory_rt_new"}"#;
        Some(json(body, true))
    });
    let expired = TokenSet {
        access_token: AccessToken::new("ory_at_old"),
        expires_at: Timestamp::from_unix_secs(1),
        refresh_token: Some(RefreshToken::new("ory_rt_old")),
        refresh_issued_at: None,
        scope: None,
        refresh_pending_since: None,
    };
    let client = oauth_at(kind, &server, Arc::new(MemoryStore::with_tokens(expired)));
    client.refresh_now().unwrap();
    assert_token_request(&server.only_head());
    assert!(client.oauth_status().unwrap().access_usable);
}

fn redirects_are_never_followed(kind: Kind) {
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!("http://{}/steal", elsewhere.local_addr().unwrap());
    let server = RawServer::start(move |_| {
        Some(format!(
            "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\n\
             connection: close\r\n\r\n"
        ))
    });
    let client = kind.builder(sandbox_at(&server)).api_key(key()).unwrap();
    let err = client
        .send(Method::GET, "/v2/organization", None)
        .unwrap_err();
    server.only_head();
    assert_eq!(err.code(), "unexpected_redirect", "{err}");
    assert!(matches!(err, Error::Api(_)), "classified, not followed");
    assert!(
        elsewhere.accept().is_err(),
        "the redirect target was contacted"
    );
}

fn bodies_over_the_cap_are_refused_while_reading(kind: Kind) {
    // No content-length: the cap is enforced on the body as it is read.
    let server = RawServer::start(|_| {
        let body = "x".repeat(64 * 1024);
        Some(format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{body}"
        ))
    });
    let transport = TransportConfig::default().with_max_body(1024);
    let client = api_key_at(kind, &server.url, transport);
    let err = client
        .send(Method::GET, "/v2/organization", None)
        .unwrap_err();
    server.only_head();
    assert_eq!(err.code(), "body_too_large", "{err}");
}

fn connect_failures_are_typed_network_errors(kind: Kind) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = api_key_at(kind, &url, TransportConfig::default());
    let err = client.organization().unwrap_err();
    assert_eq!(err.code(), "network_error", "{err}");
    let Error::Network(failure) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failure.stage, SendStage::NotSent);
}

fn a_server_that_never_answers_times_out_as_maybe_sent(kind: Kind) {
    let server = RawServer::start(|_| None);
    let transport = TransportConfig::default().with_timeout(Duration::from_millis(200));
    let client = api_key_at(kind, &server.url, transport);
    let err = client.organization().unwrap_err();
    drop(client);
    server.only_head();
    let Error::Network(failure) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failure.stage, SendStage::MaybeSent);
    // ureq says "timeout: …", reqwest "timed out: …".
    let description = failure.description.to_ascii_lowercase();
    assert!(
        description.contains("timeout") || description.contains("timed out"),
        "{err}"
    );
}

fn a_server_announcing_pages_forever_is_stopped_after_a_thousand_pages(kind: Kind) {
    // Every page points to the next, and the total is as large as it can be.
    let server = RawServer::start(|head| {
        let query = head.strip_prefix("GET /v2/bank_accounts?")?;
        let page = query
            .split([' ', '&'])
            .find_map(|p| p.strip_prefix("page="))?;
        let page: u32 = page.parse().ok()?;
        Some(json(
            &format!(
                r#"{{"bank_accounts":[{{"name":"x","main":false}}],"meta":{{"current_page":{page},"next_page":{},"prev_page":null,"total_pages":4294967295,"total_count":1,"per_page":1}}}}"#,
                page + 1
            ),
            false,
        ))
    });
    let client = api_key_at(kind, &server.url, TransportConfig::default());
    let err = client.bank_accounts_paged(1).unwrap_err();
    drop(client);
    let heads = server.finish();
    assert!(matches!(err, Error::Pagination(_)), "{err:?}");
    assert_eq!(err.code(), "pagination_stopped", "{err}");
    // The core's limit: 1,000 pages, each asked for once.
    assert_eq!(heads.len(), 1_000);
    assert!(
        heads
            .iter()
            .all(|h| h.starts_with("GET /v2/bank_accounts?page="))
    );
}
