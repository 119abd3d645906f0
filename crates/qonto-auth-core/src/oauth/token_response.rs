//! Token endpoint responses: lenient where servers differ, strict where it matters.

use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use crate::classify::{
    BodyShape, ErrorKind, GateSignal, header_trace_id, redirect_kind, sniff_body,
};
use crate::redact::Redactor;
use crate::secret::{AccessToken, RefreshToken};
use crate::time::Timestamp;
use crate::tokens::TokenSet;

/// `expires_in` values above this are clamped (ten years).
const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// An OAuth error code from the token endpoint (RFC 6749 §5.2).
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`.
    InvalidRequest,
    /// `invalid_client`: wrong client id or secret.
    InvalidClient,
    /// `invalid_grant`: the code or refresh token is expired, used or revoked.
    InvalidGrant,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
    /// `server_error`: a transient failure reported in the body.
    ServerError,
    /// `temporarily_unavailable`: a transient failure reported in the body.
    TemporarilyUnavailable,
    /// Any other code, kept short and printable.
    Other(String),
}

impl OAuthErrorCode {
    fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            other => Self::Other(printable(other, 64)),
        }
    }

    /// The code as the server spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other(code) => code,
        }
    }
}

/// Why a token response gave no tokens. Never holds the body of a successful response.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenResponseError {
    /// The server refused the grant with an OAuth error.
    #[error("the token endpoint refused the request: {}{}", code.as_str(), description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected {
        /// The OAuth error code.
        code: OAuthErrorCode,
        /// The server's description, kept short and printable.
        description: Option<String>,
        /// The HTTP status.
        status: StatusCode,
        /// The trace id, if any.
        trace_id: Option<String>,
    },
    /// The sandbox gate answered: staging token missing or wrong.
    #[error("the sandbox gate answered the token request: the staging token is missing or wrong")]
    SandboxGate {
        /// How the gate showed itself.
        signal: GateSignal,
        /// The trace id, if any.
        trace_id: Option<String>,
    },
    /// 429.
    #[error("the token endpoint is rate limiting")]
    RateLimited {
        /// `Retry-After`, in seconds, when given.
        retry_after: Option<Duration>,
        /// The trace id, if any.
        trace_id: Option<String>,
    },
    /// 5xx.
    #[error("the token endpoint failed with {status}")]
    Server {
        /// The HTTP status.
        status: StatusCode,
        /// The trace id, if any.
        trace_id: Option<String>,
    },
    /// A success status whose body could not be used. A refresh token found in it is kept, so
    /// the caller can still persist a rotation the server already made.
    #[error("the token response could not be used: {reason}")]
    Malformed {
        /// What was wrong, in our words (never the body).
        reason: &'static str,
        /// A refresh token found in the body despite the problem.
        rescued_refresh_token: Option<RefreshToken>,
        /// The trace id, if any.
        trace_id: Option<String>,
    },
    /// Any other status (including non-gate redirects).
    #[error("the token endpoint answered with an unexpected status {status}")]
    UnexpectedStatus {
        /// The HTTP status.
        status: StatusCode,
        /// The trace id, if any.
        trace_id: Option<String>,
    },
}

impl TokenResponseError {
    /// The trace id of the answer, if it carried one.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Rejected { trace_id, .. }
            | Self::SandboxGate { trace_id, .. }
            | Self::RateLimited { trace_id, .. }
            | Self::Server { trace_id, .. }
            | Self::Malformed { trace_id, .. }
            | Self::UnexpectedStatus { trace_id, .. } => trace_id.as_deref(),
        }
    }

    /// Cuts every secret `redactor` knows out of the server's description and trace id.
    #[must_use]
    pub fn redacted(mut self, redactor: &Redactor) -> Self {
        if let Self::Rejected {
            description,
            code: OAuthErrorCode::Other(other),
            ..
        } = &mut self
        {
            *other = redactor.redact(other);
            *description = redactor.redact_opt(description.take());
        } else if let Self::Rejected { description, .. } = &mut self {
            *description = redactor.redact_opt(description.take());
        }
        let trace = match &mut self {
            Self::Rejected { trace_id, .. }
            | Self::SandboxGate { trace_id, .. }
            | Self::RateLimited { trace_id, .. }
            | Self::Server { trace_id, .. }
            | Self::Malformed { trace_id, .. }
            | Self::UnexpectedStatus { trace_id, .. } => trace_id,
        };
        if trace.as_deref().is_some_and(|t| redactor.leaks(t)) {
            *trace = Some(crate::redact::REDACTED.to_owned());
        }
        self
    }

    /// True for failures worth retrying later (5xx, 429, unreadable success bodies).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Server { .. } | Self::RateLimited { .. } | Self::Malformed { .. }
        )
    }
}

/// Parses a token endpoint response.
///
/// `sent_at` is when the request was sent: the expiry is anchored there, so a slow answer
/// never makes a token look fresher than it is. Accepts any 2xx, `expires_in` as a number or
/// a numeric string, and `token_type` `bearer` in any case; an `error` field makes even a 2xx
/// an error.
///
/// # Errors
///
/// [`TokenResponseError`] for every other answer.
pub fn parse_token_response(
    sent_at: Timestamp,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenSet, TokenResponseError> {
    let trace_id = header_trace_id(headers);
    if status.is_redirection() {
        return Err(match redirect_kind(headers) {
            ErrorKind::SandboxGate(signal) => TokenResponseError::SandboxGate { signal, trace_id },
            _ => TokenResponseError::UnexpectedStatus { status, trace_id },
        });
    }
    // Only a success carrying the HTML login page is the gate: a 5xx (or 4xx) HTML page is a
    // gateway's or CDN's error page, not a missing staging token.
    if status.is_success() && sniff_body(headers, body) == BodyShape::Html {
        return Err(TokenResponseError::SandboxGate {
            signal: GateSignal::HtmlPage,
            trace_id,
        });
    }
    // Status first: a 5xx or 429 is transient even when its body is an OAuth error.
    if status.as_u16() == 429 {
        let retry_after = headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs);
        return Err(TokenResponseError::RateLimited {
            retry_after,
            trace_id,
        });
    }
    if status.is_server_error() {
        return Err(TokenResponseError::Server { status, trace_id });
    }
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    if let Some(code) = object
        .as_ref()
        .and_then(|m| m.get("error"))
        .and_then(Value::as_str)
    {
        return Err(TokenResponseError::Rejected {
            code: OAuthErrorCode::parse(code),
            description: object
                .as_ref()
                .and_then(|m| m.get("error_description"))
                .and_then(Value::as_str)
                .map(|d| printable(d, 300)),
            status,
            trace_id,
        });
    }
    if !status.is_success() {
        return Err(TokenResponseError::UnexpectedStatus { status, trace_id });
    }
    let Some(map) = object else {
        return Err(TokenResponseError::Malformed {
            reason: "the body is not a JSON object",
            rescued_refresh_token: None,
            trace_id,
        });
    };
    let refresh_token = non_empty(&map, "refresh_token").map(RefreshToken::new);
    read_tokens(&map, sent_at, refresh_token.clone()).map_err(|reason| {
        TokenResponseError::Malformed {
            reason,
            rescued_refresh_token: refresh_token,
            trace_id,
        }
    })
}

fn read_tokens(
    map: &Map<String, Value>,
    sent_at: Timestamp,
    refresh_token: Option<RefreshToken>,
) -> Result<TokenSet, &'static str> {
    let access = non_empty(map, "access_token").ok_or("`access_token` is missing or empty")?;
    if !header_safe(&access) {
        return Err("`access_token` has characters that cannot be sent in a header");
    }
    let token_type = map
        .get("token_type")
        .and_then(Value::as_str)
        .ok_or("`token_type` is missing")?;
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err("`token_type` is not `bearer`");
    }
    let expires_in = match map.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => return Err("`expires_in` is missing"),
    }
    .ok_or("`expires_in` is not a whole number of seconds")?;
    if expires_in == 0 {
        return Err("`expires_in` is zero");
    }
    let scope = match map.get("scope") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`scope` is not a string"),
    };
    Ok(TokenSet {
        access_token: AccessToken::new(access),
        expires_at: sent_at + Duration::from_secs(expires_in.min(MAX_EXPIRES_IN)),
        refresh_issued_at: refresh_token.as_ref().map(|_| sent_at),
        refresh_token,
        scope,
        refresh_pending_since: None,
    })
}

/// Visible ASCII only: what `Authorization: Bearer <token>` can carry.
fn header_safe(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_graphic())
}

fn non_empty(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn printable(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const SENT: Timestamp = Timestamp::from_unix_secs(1_000);

    fn parse(status: u16, body: &str) -> Result<TokenSet, TokenResponseError> {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        parse_token_response(
            SENT,
            StatusCode::from_u16(status).unwrap(),
            &headers,
            body.as_bytes(),
        )
    }

    #[test]
    fn expiry_is_anchored_at_send_time() {
        let set = parse(200, r#"{"access_token":"ory_at_a","expires_in":3600,"token_type":"bearer","refresh_token":"ory_rt_r","scope":"offline_access"}"#).unwrap();
        assert_eq!(set.expires_at, Timestamp::from_unix_secs(4_600));
        assert_eq!(set.refresh_issued_at, Some(SENT));
        assert_eq!(set.refresh_token.unwrap().expose_secret(), "ory_rt_r");
        assert_eq!(set.scope.as_deref(), Some("offline_access"));
    }

    #[test]
    fn lenient_where_servers_differ() {
        let set = parse(
            201,
            r#"{"access_token":"a","expires_in":"60","token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(set.expires_at, Timestamp::from_unix_secs(1_060));
        assert!(set.refresh_token.is_none());
        assert!(
            parse(
                200,
                r#"{"access_token":"a","expires_in":60,"token_type":"BEARER"}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn keeps_a_rotated_refresh_token_from_a_malformed_answer() {
        let err = parse(200, r#"{"access_token":"a","expires_in":"soon","token_type":"bearer","refresh_token":"ory_rt_new"}"#).unwrap_err();
        let TokenResponseError::Malformed {
            rescued_refresh_token: Some(rt),
            reason,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(rt.expose_secret(), "ory_rt_new");
        assert!(reason.contains("expires_in"));
        for body in [
            r#"{"access_token":"a","expires_in":1,"token_type":"mac"}"#,
            r#"{"expires_in":1,"token_type":"bearer"}"#,
            r#"{"access_token":"a","expires_in":0,"token_type":"bearer"}"#,
            r#"{"access_token":"a","expires_in":-5,"token_type":"bearer"}"#,
            r#"{"access_token":"a","expires_in":1}"#,
            r#"{"access_token":"a b","expires_in":1,"token_type":"bearer"}"#,
            "not json",
        ] {
            assert!(
                matches!(parse(200, body), Err(TokenResponseError::Malformed { .. })),
                "{body}"
            );
        }
    }

    #[test]
    fn oauth_errors_are_typed_even_in_a_200() {
        let err = parse(
            400,
            r#"{"error":"invalid_grant","error_description":"expired"}"#,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            TokenResponseError::Rejected {
                code: OAuthErrorCode::InvalidGrant,
                ..
            }
        ));
        let err = parse(200, r#"{"error":"invalid_client"}"#).unwrap_err();
        assert!(matches!(
            err,
            TokenResponseError::Rejected {
                code: OAuthErrorCode::InvalidClient,
                ..
            }
        ));
        let err = parse(400, r#"{"error":"weird\u0007code"}"#).unwrap_err();
        assert!(
            matches!(err, TokenResponseError::Rejected { code: OAuthErrorCode::Other(ref c), .. } if c == "weirdcode")
        );
    }

    #[test]
    fn gate_rate_limit_and_server_errors() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "location",
            HeaderValue::from_static("https://developers.qonto.com/"),
        );
        let err = parse_token_response(SENT, StatusCode::FOUND, &headers, b"").unwrap_err();
        assert!(matches!(
            err,
            TokenResponseError::SandboxGate {
                signal: GateSignal::RedirectToDeveloperPortal,
                ..
            }
        ));
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/html"));
        let err =
            parse_token_response(SENT, StatusCode::OK, &headers, b"<!doctype html>").unwrap_err();
        assert!(matches!(
            err,
            TokenResponseError::SandboxGate {
                signal: GateSignal::HtmlPage,
                ..
            }
        ));
        assert!(parse(429, "{}").unwrap_err().is_transient());
        assert!(matches!(
            parse(502, "oops").unwrap_err(),
            TokenResponseError::Server { .. }
        ));
        assert!(!parse(404, "{}").unwrap_err().is_transient());
    }

    #[test]
    fn an_html_error_page_with_a_5xx_is_a_server_error_not_the_gate() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/html"));
        let page = b"<!doctype html><html><body>502 Bad Gateway</body></html>";
        for status in [StatusCode::BAD_GATEWAY, StatusCode::SERVICE_UNAVAILABLE] {
            let err = parse_token_response(SENT, status, &headers, page).unwrap_err();
            assert!(matches!(err, TokenResponseError::Server { .. }), "{err:?}");
            assert!(err.is_transient());
        }
        let err = parse_token_response(SENT, StatusCode::NOT_FOUND, &headers, page).unwrap_err();
        assert!(
            matches!(err, TokenResponseError::UnexpectedStatus { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn errors_never_contain_the_tokens() {
        let err = parse(200, r#"{"access_token":"SENTINEL_AT","expires_in":"x","token_type":"bearer","refresh_token":"SENTINEL_RT"}"#).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SENTINEL"), "{text}");
    }
}
