//! Reading one HTTP/1.1 request from a connection (head parsed with `httparse`, body by
//! `Content-Length` only).

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::response::Response;

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;
const MAX_HEADERS: usize = 64;
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// One header as received: the name with its wire casing, the value with surrounding
/// whitespace trimmed, and the value as sent (only the conventional single space after the
/// colon removed).
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) name: String,
    pub(crate) value: Vec<u8>,
    pub(crate) raw_value: Vec<u8>,
}

/// A complete request.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<Header>,
    pub(crate) body: Vec<u8>,
    pub(crate) raw_head: Vec<u8>,
    pub(crate) keep_alive: bool,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&Header> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }

    /// The trimmed value of a header, if present and UTF-8.
    pub(crate) fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name)
            .and_then(|h| std::str::from_utf8(&h.value).ok())
    }

    /// Query parameter (first occurrence), percent-decoded.
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// What reading from the connection produced.
#[derive(Debug)]
pub(crate) enum ReadOutcome {
    /// A complete request.
    Request(Request),
    /// The peer closed (or went idle); nothing to answer.
    Closed,
    /// A request the mock refuses at the HTTP level; answer and close.
    Reject(Response),
}

/// Reads the next request; `buf` carries bytes already received beyond the previous request.
pub(crate) async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> io::Result<ReadOutcome> {
    let head_len = loop {
        if !buf.is_empty() {
            match parse_head_len(buf) {
                Ok(Some(n)) if n > MAX_HEAD => {
                    return Ok(reject(431, "request head too large").into());
                }
                Ok(Some(n)) => break n,
                Ok(None) if buf.len() > MAX_HEAD => {
                    return Ok(reject(431, "request head too large").into());
                }
                Ok(None) => {}
                Err(refusal) => return Ok(refusal.into()),
            }
        }
        if !fill(stream, buf).await? {
            return Ok(ReadOutcome::Closed);
        }
    };
    let raw_head = buf[..head_len].to_vec();
    let mut request = match build(raw_head) {
        Ok(r) => r,
        Err(refusal) => return Ok(refusal.into()),
    };
    let body_len = match body_length(&request) {
        Ok(n) => n,
        Err(refusal) => return Ok(refusal.into()),
    };
    let wants_continue = request
        .header("expect")
        .is_some_and(|h| h.value.eq_ignore_ascii_case(b"100-continue"));
    if wants_continue && body_len > 0 && buf.len() < head_len + body_len {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    while buf.len() < head_len + body_len {
        if !fill(stream, buf).await? {
            return Ok(ReadOutcome::Closed);
        }
    }
    request.body = buf[head_len..head_len + body_len].to_vec();
    buf.drain(..head_len + body_len);
    Ok(ReadOutcome::Request(request))
}

/// Reads more bytes; false on end of stream or idle timeout.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 8192];
    match tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk)).await {
        Ok(Ok(0)) | Err(_) => Ok(false),
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(true)
        }
        Ok(Err(e)) => Err(e),
    }
}

/// A request refused at the HTTP level: status and explanation.
#[derive(Debug, Clone, Copy)]
struct Refusal(u16, &'static str);

fn reject(status: u16, detail: &'static str) -> Refusal {
    Refusal(status, detail)
}

impl From<Refusal> for ReadOutcome {
    fn from(Refusal(status, detail): Refusal) -> Self {
        Self::Reject(Response::plain_error(status, detail))
    }
}

/// Length of a complete head, `None` if more bytes are needed.
fn parse_head_len(buf: &[u8]) -> Result<Option<usize>, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => Ok(Some(n)),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(reject(431, "too many headers")),
        Err(_) => Err(reject(400, "malformed request")),
    }
}

/// Builds the request from a complete head (already validated by `httparse`).
fn build(raw_head: Vec<u8>) -> Result<Request, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    if !matches!(req.parse(&raw_head), Ok(httparse::Status::Complete(_))) {
        return Err(reject(400, "malformed request"));
    }
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(reject(400, "malformed request line"));
    };
    let method = method.to_owned();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.to_owned(), String::new()),
    };
    let headers = header_lines(&raw_head);
    let connection = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("connection"))
        .map(|h| String::from_utf8_lossy(&h.value).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    let keep_alive = if version == 1 {
        !connection.contains("close")
    } else {
        connection.contains("keep-alive")
    };
    Ok(Request {
        method,
        path,
        query,
        headers,
        body: Vec::new(),
        raw_head,
        keep_alive,
    })
}

/// Splits header lines out of a validated head, keeping wire casing and raw values.
fn header_lines(raw_head: &[u8]) -> Vec<Header> {
    raw_head
        .split(|b| *b == b'\n')
        .skip(1)
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            let name = String::from_utf8_lossy(&line[..colon]).into_owned();
            let after = &line[colon + 1..];
            let raw_value = after.strip_prefix(b" ").unwrap_or(after).to_vec();
            let value = after.trim_ascii().to_vec();
            Some(Header {
                name,
                value,
                raw_value,
            })
        })
        .collect()
}

/// Body length from `Content-Length`; chunked or otherwise unusable framing is refused.
fn body_length(request: &Request) -> Result<usize, Refusal> {
    if request.header("transfer-encoding").is_some() {
        return Err(reject(
            411,
            "chunked bodies are not accepted; send Content-Length",
        ));
    }
    let mut length: Option<usize> = None;
    for h in request
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
    {
        let parsed = std::str::from_utf8(&h.value)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<usize>().ok());
        match (parsed, length) {
            (None, _) => return Err(reject(400, "invalid Content-Length")),
            (Some(n), Some(prev)) if n != prev => {
                return Err(reject(400, "conflicting Content-Length"));
            }
            (Some(n), _) => length = Some(n),
        }
    }
    let n = length.unwrap_or(0);
    if n > MAX_BODY {
        return Err(reject(413, "request body too large"));
    }
    Ok(n)
}
