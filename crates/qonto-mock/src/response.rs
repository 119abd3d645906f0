//! Responses and their serialization (always with `Content-Length` and `X-Tyk-Trace-Id`).

use serde_json::{Value, json};

use crate::random;

/// A response about to be written.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) trace_id: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// An empty response.
    pub(crate) fn empty(status: u16, trace_id: &str) -> Self {
        Self {
            status,
            trace_id: trace_id.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON response.
    pub(crate) fn json(status: u16, trace_id: &str, body: &Value) -> Self {
        let mut r = Self::empty(status, trace_id);
        r.body = body.to_string().into_bytes();
        r.with_header("Content-Type", "application/json; charset=utf-8")
    }

    /// An HTML response.
    pub(crate) fn html(status: u16, trace_id: &str, body: String) -> Self {
        let mut r = Self::empty(status, trace_id);
        r.body = body.into_bytes();
        r.with_header("Content-Type", "text/html; charset=utf-8")
    }

    /// A `302 Found` to `location`.
    pub(crate) fn redirect(trace_id: &str, location: &str) -> Self {
        Self::empty(302, trace_id).with_header("Location", location)
    }

    /// A Business API error: `{"errors":[{"code","detail"}],"trace_id"}`.
    pub(crate) fn api_error(status: u16, trace_id: &str, code: &str, detail: &str) -> Self {
        Self::json(
            status,
            trace_id,
            &json!({"errors": [{"code": code, "detail": detail}], "trace_id": trace_id}),
        )
    }

    /// A Business API error pointing at a query parameter.
    pub(crate) fn param_error(trace_id: &str, parameter: &str, detail: &str) -> Self {
        Self::json(
            400,
            trace_id,
            &json!({
                "errors": [{"code": "invalid_parameter", "detail": detail,
                            "source": {"parameter": parameter}}],
                "trace_id": trace_id,
            }),
        )
    }

    /// An OAuth error: `{"error","error_description"}`.
    pub(crate) fn oauth_error(status: u16, trace_id: &str, error: &str, description: &str) -> Self {
        Self::json(
            status,
            trace_id,
            &json!({"error": error, "error_description": description}),
        )
    }

    /// An error for HTTP-level problems found before routing, with a fresh trace id.
    pub(crate) fn plain_error(status: u16, detail: &str) -> Self {
        let trace_id = random::trace_id();
        let code = match status {
            411 => "length_required",
            413 => "payload_too_large",
            431 => "request_header_fields_too_large",
            _ => "bad_request",
        };
        Self::api_error(status, &trace_id, code, detail)
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The bytes on the wire.
    pub(crate) fn to_bytes(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(
            format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)).as_bytes(),
        );
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("X-Tyk-Trace-Id: {}\r\n", self.trace_id).as_bytes());
        out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        if !keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
