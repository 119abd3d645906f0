//! A tiny raw-TCP HTTP/1.1 client for the tests: it writes exactly the bytes it is given, so
//! header casing and spacing are under the test's control.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use qonto_mock::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_LOGIN, DEMO_REDIRECT_URI, DEMO_SECRET, MockServer,
};
use serde_json::Value;

/// A parsed response.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn trace_id(&self) -> &str {
        self.header("X-Tyk-Trace-Id")
            .expect("X-Tyk-Trace-Id header")
    }

    /// The first error code of a Business API error body, checking its trace id.
    pub(crate) fn api_error_code(&self) -> String {
        let body = self.json();
        assert_eq!(body["trace_id"], self.trace_id(), "trace_id body/header");
        body["errors"][0]["code"]
            .as_str()
            .expect("errors[0].code")
            .to_owned()
    }

    /// The `error` of an OAuth error body.
    pub(crate) fn oauth_error(&self) -> String {
        self.json()["error"].as_str().expect("error").to_owned()
    }
}

/// One keep-alive connection.
pub(crate) struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub(crate) fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes raw bytes and reads one response.
    pub(crate) fn send_raw(&mut self, bytes: &[u8]) -> io::Result<Resp> {
        self.stream.write_all(bytes)?;
        self.read_response()
    }

    pub(crate) fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        self.send_raw(&build_request(method, target, headers, body))
            .expect("response")
    }

    /// Sends the same request `n` times, pipelined in batches, and returns every status.
    pub(crate) fn burst(&mut self, request: &[u8], n: usize) -> Vec<u16> {
        const BATCH: usize = 100;
        let mut statuses = Vec::with_capacity(n);
        while statuses.len() < n {
            let batch = BATCH.min(n - statuses.len());
            self.stream
                .write_all(&request.repeat(batch))
                .expect("write batch");
            for _ in 0..batch {
                statuses.push(self.read_response().expect("response").status);
            }
        }
        statuses
    }

    fn read_response(&mut self) -> io::Result<Resp> {
        let head_end = loop {
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.to_owned(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| io::Error::other("response without Content-Length"))?;
        while self.buf.len() < head_end + len {
            self.fill()?;
        }
        let body = self.buf[head_end..head_end + len].to_vec();
        self.buf.drain(..head_end + len);
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// Request bytes: request line, `Host`, the given headers verbatim, `Content-Length` when a
/// body is given.
pub(crate) fn build_request(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// One request on a fresh connection.
pub(crate) fn call(
    server: &MockServer,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    Client::connect(server.addr()).request(method, target, headers, body)
}

/// The demo API key header value.
pub(crate) fn api_key() -> String {
    format!("{DEMO_LOGIN}:{DEMO_SECRET}")
}

/// `GET /v2/organization` with the demo API key, as raw bytes.
pub(crate) fn org_request() -> Vec<u8> {
    build_request(
        "GET",
        "/v2/organization",
        &[("Authorization", &api_key())],
        b"",
    )
}

/// `GET path` with this `Authorization` value.
pub(crate) fn get_auth(server: &MockServer, target: &str, authorization: &str) -> Resp {
    call(
        server,
        "GET",
        target,
        &[("Authorization", authorization)],
        b"",
    )
}

/// `GET path` with `Authorization: Bearer token`.
pub(crate) fn get_bearer(server: &MockServer, target: &str, token: &str) -> Resp {
    get_auth(server, target, &format!("Bearer {token}"))
}

/// URL-encoded form body.
pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

/// `POST /oauth2/token` with a form body and extra headers.
pub(crate) fn token_with(
    server: &MockServer,
    pairs: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> Resp {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    headers.extend_from_slice(extra);
    call(server, "POST", "/oauth2/token", &headers, &form(pairs))
}

/// `POST /oauth2/token` as the demo client.
pub(crate) fn token(server: &MockServer, pairs: &[(&str, &str)]) -> Resp {
    let mut all = vec![
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
    ];
    all.extend_from_slice(pairs);
    token_with(server, &all, &[])
}

/// `/oauth2/auth?…` target for the demo client.
pub(crate) fn authorize_target(extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", DEMO_REDIRECT_URI),
        ("response_type", "code"),
        ("scope", "offline_access organization.read"),
        ("state", "state-1234567890"),
    ];
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        pairs.push((k, v));
    }
    format!(
        "/oauth2/auth?{}",
        String::from_utf8(form(&pairs)).expect("utf8")
    )
}

/// Query parameters of a `Location` URL.
pub(crate) fn location_params(location: &str) -> Vec<(String, String)> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Runs authorize → consent page → approve, returns the code from the callback.
pub(crate) fn obtain_code(
    server: &MockServer,
    extra: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> String {
    let page = call(server, "GET", &authorize_target(extra), headers, b"");
    assert_eq!(page.status, 200, "consent page: {}", page.text());
    let html = page.text();
    let start = html.find("/oauth2/auth/approve?").expect("approve link");
    let end = start + html[start..].find('"').expect("link end");
    let approve = html[start..end].replace("&amp;", "&");
    let redirect = call(server, "GET", &approve, headers, b"");
    assert_eq!(redirect.status, 302);
    let params = location_params(redirect.header("Location").expect("Location"));
    param(&params, "code").expect("code")
}

/// Full flow for the demo client: returns the token response JSON.
pub(crate) fn login(server: &MockServer, scope: &str) -> Value {
    let code = obtain_code(server, &[("scope", scope)], &[]);
    let resp = token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", DEMO_REDIRECT_URI),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
}

/// `POST /oauth2/token` with `grant_type=refresh_token` as the demo client.
pub(crate) fn refresh_pair(server: &MockServer, refresh_token: &str) -> Resp {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}
