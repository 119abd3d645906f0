//! Turns fuzz input bytes into an HTTP response (status, headers, body).
//!
//! Layout: `[status_hi, status_lo, flags, header…, body…]`. Flag bit 4 picks the status from
//! [`STATUSES`] (the ones the parsers treat specially) instead of `100 + n % 900`. Bits 0–3
//! say which of [`HEADERS`] follow, in order; each is a length byte then the value: with the
//! length's high bit set the value is taken from that header's dictionary (valid and hostile
//! values seen in practice), otherwise it is the next `len & 0x3f` raw bytes (kept only when
//! `http` accepts them as a header value, like any real client would). The rest is the body.

use qonto_auth_core::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

const STATUSES: &[u16] = &[
    200, 201, 204, 301, 302, 303, 307, 400, 401, 403, 404, 405, 409, 412, 422, 428, 429, 500, 502,
    503,
];

type Dictionary = &'static [&'static str];

const HEADERS: [(&str, Dictionary); 4] = [
    (
        "content-type",
        &[
            "application/json",
            "application/json; charset=utf-8",
            "text/html",
            "text/html; charset=utf-8",
            "text/plain",
            "application/problem+json",
            "TEXT/HTML",
            "",
        ],
    ),
    (
        "location",
        &[
            "https://qonto.onelogin.com/login?x=1",
            "https://developers.qonto.com/",
            "https://sandbox.staging.qonto.co/",
            "https://evil.example/steal?token=x",
            "/relative",
            "javascript:alert(1)",
            "//evil.example/",
            "HTTPS://QONTO.ONELOGIN.COM",
        ],
    ),
    (
        "retry-after",
        &["7", "0", "-1", "18446744073709551616", "1.5"],
    ),
    ("x-tyk-trace-id", &["abc-123_X", "a b", ""]),
];

/// A response decoded from fuzz input.
pub struct Response<'a> {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

/// Decodes `data`; `None` when it is too short to hold a status and flags.
pub fn response(data: &[u8]) -> Option<Response<'_>> {
    let (&[hi, lo, flags], mut rest) = data.split_first_chunk::<3>()?;
    let raw = u16::from_be_bytes([hi, lo]);
    let code = if flags & 0x10 != 0 {
        STATUSES[usize::from(raw) % STATUSES.len()]
    } else {
        100 + raw % 900
    };
    let status = StatusCode::from_u16(code).expect("100..=999 is a valid status");
    let mut headers = HeaderMap::new();
    for (bit, (name, dictionary)) in HEADERS.iter().enumerate() {
        if flags & (1 << bit) == 0 {
            continue;
        }
        let Some((&len, tail)) = rest.split_first() else {
            break;
        };
        let value = if len & 0x80 != 0 {
            rest = tail;
            Some(HeaderValue::from_static(
                dictionary[usize::from(len & 0x7f) % dictionary.len()],
            ))
        } else {
            let len = usize::from(len & 0x3f).min(tail.len());
            let (value, tail) = tail.split_at(len);
            rest = tail;
            HeaderValue::from_bytes(value).ok()
        };
        if let Some(value) = value {
            headers.append(HeaderName::from_static(name), value);
        }
    }
    Some(Response {
        status,
        headers,
        body: rest,
    })
}
