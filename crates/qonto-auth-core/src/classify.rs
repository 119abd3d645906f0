//! Response classification: the troubleshooting guide as code.
//!
//! [`classify`] looks at a status, the headers and the body of any Qonto response and says
//! whether it is a success or which failure it is, with a stable code, a message with the fix,
//! and the trace id to give support. On success it reads at most the first bytes of the body,
//! so its cost does not depend on the body's size.

use crate::codes::Code;
use std::time::Duration;

use http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{HeaderMap, StatusCode};

use crate::facts;
use crate::header::AuthMethod;
use crate::redact::Redactor;

/// Error bodies larger than this are not parsed (the classification still stands).
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// How many leading bytes of a body are inspected to tell HTML from JSON.
const SNIFF_LEN: usize = 256;

/// The result of [`classify`].
#[derive(Clone, Debug, Eq, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum Classification {
    /// A 2xx answer with a JSON body, or with no body.
    Success,
    /// Anything else.
    Failure(ApiError),
}

impl Classification {
    /// `Ok(())` for a success, the classified error otherwise.
    ///
    /// # Errors
    ///
    /// The [`ApiError`] of a failure.
    pub fn into_result(self) -> Result<(), ApiError> {
        match self {
            Self::Success => Ok(()),
            Self::Failure(error) => Err(error),
        }
    }
}

/// Which sign showed that the sandbox gate answered instead of the API.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum GateSignal {
    /// A 2xx HTML page (the OneLogin login page).
    HtmlPage,
    /// A redirect to `qonto.onelogin.com`.
    RedirectToOneLogin,
    /// A redirect to the developer portal.
    RedirectToDeveloperPortal,
}

/// What kind of failure a response is. Each kind has a stable snake_case [`code`](Self::code).
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The sandbox gate answered: the staging token is missing or wrong.
    SandboxGate(GateSignal),
    /// 401: the credentials were rejected.
    Unauthorized,
    /// 403 with a missing OAuth scope.
    MissingScope,
    /// 403: authenticated, but the role or plan does not allow this.
    Forbidden,
    /// 403 about the organization, on a call that named one (User OAuth flow): the user did
    /// not consent for it.
    OrganizationNotConsented,
    /// 403 about the organization, on a call that named none: a user token needs
    /// `X-Qonto-Organization-Id` on every call.
    OrganizationMissing,
    /// 404: wrong path or unknown resource.
    NotFound,
    /// 400, 405, 409 or 422: the request itself was refused.
    InvalidRequest,
    /// 428: strong customer authentication is required.
    ScaRequired,
    /// 412: the SCA session cannot be used.
    ScaSessionUnusable,
    /// 429: rate limited.
    RateLimited {
        /// The server's `Retry-After`, when given in seconds.
        retry_after: Option<Duration>,
    },
    /// 5xx: a server-side failure.
    Server,
    /// A 3xx to anywhere other than the sandbox gate.
    UnexpectedRedirect {
        /// The host of the `Location` header, when it has one.
        host: Option<String>,
    },
    /// A 2xx whose body is neither JSON nor the sandbox gate page.
    UnexpectedContent,
    /// Any other status.
    UnexpectedStatus,
}

impl ErrorKind {
    /// The stable machine code (snake_case).
    pub fn code(&self) -> Code {
        match self {
            Self::SandboxGate(_) => Code::SandboxGate,
            Self::Unauthorized => Code::Unauthorized,
            Self::MissingScope => Code::MissingScope,
            Self::Forbidden => Code::Forbidden,
            Self::OrganizationNotConsented => Code::OrganizationNotConsented,
            Self::OrganizationMissing => Code::OrganizationHeaderMissing,
            Self::NotFound => Code::NotFound,
            Self::InvalidRequest => Code::InvalidRequest,
            Self::ScaRequired => Code::ScaRequired,
            Self::ScaSessionUnusable => Code::ScaSessionUnusable,
            Self::RateLimited { .. } => Code::RateLimited,
            Self::Server => Code::ServerError,
            Self::UnexpectedRedirect { .. } => Code::UnexpectedRedirect,
            Self::UnexpectedContent => Code::UnexpectedContent,
            Self::UnexpectedStatus => Code::UnexpectedStatus,
        }
    }

    /// A one-line description of what happened.
    pub fn message(&self) -> String {
        match self {
            Self::SandboxGate(GateSignal::HtmlPage) => {
                "the sandbox answered with its HTML login page (OneLogin) instead of JSON".into()
            }
            Self::SandboxGate(GateSignal::RedirectToOneLogin) => {
                "the sandbox redirected to its OneLogin login page instead of answering".into()
            }
            Self::SandboxGate(GateSignal::RedirectToDeveloperPortal) => {
                "the sandbox redirected to the developer portal instead of answering".into()
            }
            Self::Unauthorized => "the credentials were rejected (401)".into(),
            Self::MissingScope => "the OAuth token lacks a scope this endpoint needs (403)".into(),
            Self::Forbidden => "access denied for this membership or plan (403)".into(),
            Self::OrganizationNotConsented => {
                "the organization named in X-Qonto-Organization-Id was not consented (403)".into()
            }
            Self::OrganizationMissing => {
                "a user token needs X-Qonto-Organization-Id on every call (403)".into()
            }
            Self::NotFound => "no such endpoint or resource (404)".into(),
            Self::InvalidRequest => "the request was refused as invalid".into(),
            Self::ScaRequired => "strong customer authentication is required (428)".into(),
            Self::ScaSessionUnusable => "the SCA session cannot be used (412)".into(),
            Self::RateLimited {
                retry_after: Some(after),
            } => {
                format!("rate limited (429); retry after {} s", after.as_secs())
            }
            Self::RateLimited { retry_after: None } => "rate limited (429)".into(),
            Self::Server => "Qonto had a server-side failure (5xx)".into(),
            Self::UnexpectedRedirect { host } => format!(
                "unexpected redirect to {}",
                host.as_deref().unwrap_or("an unreadable location")
            ),
            Self::UnexpectedContent => "a success status with a body that is not JSON".into(),
            Self::UnexpectedStatus => "an unexpected status".into(),
        }
    }

    /// What to do about it, for the authentication method in use when known.
    pub fn fix(&self, method: Option<AuthMethod>) -> &'static str {
        match self {
            Self::SandboxGate(_) => {
                "send the `X-Qonto-Staging-Token` header (exact casing) with your personal \
                 staging token from the Developer Portal on every sandbox request, including \
                 token requests"
            }
            Self::Unauthorized => match method {
                Some(AuthMethod::ApiKey) => {
                    "check the API key: `Authorization: login:secret-key` with a colon, login \
                     first, no `Basic`/`Bearer` prefix, no Base64, no spaces or line breaks, \
                     and keys of the same environment (regenerating a key revokes the old one)"
                }
                Some(AuthMethod::OAuth) => {
                    "check the token: `Authorization: Bearer <access token>`; the access token \
                     may have expired (1 hour) or been revoked, or a refresh token was sent \
                     instead of an access token; refresh it or log in again"
                }
                None => "check the `Authorization` header for the method you use",
            },
            Self::MissingScope => {
                "request the missing scope when authorizing (for example `organization.read`) \
                 and log in again"
            }
            Self::Forbidden => {
                "use a membership whose role (or an organization whose plan) allows it"
            }
            Self::OrganizationNotConsented => {
                "pick an organization the user consented for (`qonto organizations list`), or \
                 log in again with `qonto auth login --user` to change the consented set"
            }
            Self::OrganizationMissing => {
                "name the organization: `--organization-id` or QONTO_ORGANIZATION_ID (the \
                 ids come from `qonto organizations list`)"
            }
            Self::NotFound => {
                "check the path, for example `/v2/organization` (singular) with `/v2`"
            }
            Self::InvalidRequest => "read the error details and fix the request parameters",
            Self::ScaRequired => {
                "complete strong customer authentication and replay the request with the \
                 SCA session token; this needs OAuth, not an API key"
            }
            Self::ScaSessionUnusable => "start a new SCA session and replay the original request",
            Self::RateLimited { .. } => {
                "slow down: at most 1,000 requests per 10 s and 10,000 per 10 minutes per IP, and \
                 more than 200 401s an hour are throttled; Qonto sends no Retry-After, so back \
                 off exponentially"
            }
            Self::Server => "retry later; if it persists, contact support with the trace id",
            Self::UnexpectedRedirect { .. } => {
                "check the base URL; redirects are never followed, so no secret leaves the host"
            }
            Self::UnexpectedContent => {
                "check the base URL points at the Qonto API, not a web page or proxy"
            }
            Self::UnexpectedStatus => "contact support with the trace id",
        }
    }
}

/// One entry of a JSON:API `errors` array.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// The machine-readable code, such as `not_in_list`.
    pub code: Option<String>,
    /// The human-readable detail.
    pub detail: Option<String>,
    /// `source.pointer` or `source.parameter`, when present.
    pub source: Option<String>,
}

/// A failed response, classified. Never holds a successful body.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("{} [{}]{}", kind.message(), kind.code(), trace_suffix(trace_id.as_deref()))]
#[non_exhaustive]
pub struct ApiError {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// The HTTP status.
    pub status: StatusCode,
    /// The trace id (`X-Tyk-Trace-Id`, or the body's `trace_id`).
    pub trace_id: Option<String>,
    /// The parsed `errors` entries, if the body had any.
    pub details: Vec<ErrorDetail>,
}

fn trace_suffix(trace_id: Option<&str>) -> String {
    trace_id
        .map(|id| format!(" (trace id {id})"))
        .unwrap_or_default()
}

impl ApiError {
    /// Cuts every secret `redactor` knows out of what the server supplied: the error details,
    /// a redirect's host, the trace id.
    #[must_use]
    pub fn redacted(mut self, redactor: &Redactor) -> Self {
        for detail in &mut self.details {
            detail.code = redactor.redact_opt(detail.code.take());
            detail.detail = redactor.redact_opt(detail.detail.take());
            detail.source = redactor.redact_opt(detail.source.take());
        }
        if let ErrorKind::UnexpectedRedirect { host } = &mut self.kind {
            *host = redactor.redact_opt(host.take());
        }
        if self.trace_id.as_deref().is_some_and(|t| redactor.leaks(t)) {
            self.trace_id = Some(crate::redact::REDACTED.to_owned());
        }
        self
    }

    /// The stable code of the kind.
    pub fn code(&self) -> Code {
        self.kind.code()
    }
}

/// Classifies any response from Qonto.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Classification {
    let failure = |kind: ErrorKind| failure(kind, status, headers, body);
    if status.is_success() {
        return match sniff_body(headers, body) {
            BodyShape::Html => failure(ErrorKind::SandboxGate(GateSignal::HtmlPage)),
            BodyShape::Json | BodyShape::Empty => Classification::Success,
            BodyShape::Other => failure(ErrorKind::UnexpectedContent),
        };
    }
    if status.is_redirection() {
        return failure(redirect_kind(headers));
    }
    let kind = match status.as_u16() {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        400 | 405 | 409 | 422 => ErrorKind::InvalidRequest,
        412 => ErrorKind::ScaSessionUnusable,
        428 => ErrorKind::ScaRequired,
        429 => ErrorKind::RateLimited {
            retry_after: retry_after(headers),
        },
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::UnexpectedStatus,
    };
    failure(kind)
}

fn failure(
    kind: ErrorKind,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Classification {
    // Only error bodies are parsed: a 2xx body may hold secrets and is never kept.
    let parsed = if status.is_client_error() || status.is_server_error() {
        parse_error_body(body)
    } else {
        ParsedErrorBody::default()
    };
    let kind = match kind {
        ErrorKind::Forbidden if parsed.mentions_scope => ErrorKind::MissingScope,
        ErrorKind::Forbidden if parsed.mentions_organization => ErrorKind::OrganizationNotConsented,
        kind => kind,
    };
    let trace_id = header_trace_id(headers).or(parsed.trace_id);
    Classification::Failure(ApiError {
        kind,
        status,
        trace_id,
        details: parsed.details,
    })
}

/// Tells the sandbox gate from any other redirect, using only the `Location` host.
pub(crate) fn redirect_kind(headers: &HeaderMap) -> ErrorKind {
    let host = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|loc| loc.trim().parse::<http::Uri>().ok())
        .and_then(|uri| uri.host().map(str::to_ascii_lowercase));
    match host.as_deref() {
        Some(facts::ONELOGIN_HOST) => ErrorKind::SandboxGate(GateSignal::RedirectToOneLogin),
        Some(h) if facts::DEVELOPER_PORTAL_HOSTS.contains(&h) => {
            ErrorKind::SandboxGate(GateSignal::RedirectToDeveloperPortal)
        }
        _ => ErrorKind::UnexpectedRedirect { host },
    }
}

/// The shape of a body, judged from the content type and the first bytes only.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum BodyShape {
    Empty,
    Html,
    Json,
    Other,
}

pub(crate) fn sniff_body(headers: &HeaderMap, body: &[u8]) -> BodyShape {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let head = &body[..body.len().min(SNIFF_LEN)];
    let first = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &head[i..]);
    let Some(start) = first else {
        return BodyShape::Empty;
    };
    let starts_html = start.first() == Some(&b'<');
    if content_type.starts_with("text/html") || (starts_html && !content_type.contains("json")) {
        BodyShape::Html
    } else if content_type.contains("json")
        || (content_type.is_empty() && matches!(start.first(), Some(b'{' | b'[')))
    {
        BodyShape::Json
    } else {
        BodyShape::Other
    }
}

/// The trace id from `X-Tyk-Trace-Id`, if it is a short printable value.
pub(crate) fn header_trace_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(facts::TRACE_ID_HEADER)?.to_str().ok()?.trim();
    clean_trace_id(value)
}

fn clean_trace_id(value: &str) -> Option<String> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| value.to_owned())
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(24 * 3600)))
}

#[derive(Default)]
struct ParsedErrorBody {
    trace_id: Option<String>,
    details: Vec<ErrorDetail>,
    mentions_scope: bool,
    mentions_organization: bool,
}

/// Parses a JSON:API error body, bounded in size and in the number of entries kept.
fn parse_error_body(body: &[u8]) -> ParsedErrorBody {
    if body.len() > MAX_ERROR_BODY {
        return ParsedErrorBody::default();
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
        return ParsedErrorBody::default();
    };
    let text = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_str).map(|s| {
            s.chars()
                .filter(|c| !c.is_control())
                .take(500)
                .collect::<String>()
        })
    };
    let details: Vec<ErrorDetail> = map
        .get("errors")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .take(20)
        .map(|entry| {
            let source = entry.get("source");
            ErrorDetail {
                code: text(entry.get("code")),
                detail: text(entry.get("detail")).or_else(|| text(entry.get("message"))),
                source: text(source.and_then(|s| s.get("pointer")))
                    .or_else(|| text(source.and_then(|s| s.get("parameter")))),
            }
        })
        .collect();
    let mentions = |word: &str| {
        details.iter().any(|d| {
            [&d.code, &d.detail]
                .into_iter()
                .flatten()
                .any(|t| t.to_ascii_lowercase().contains(word))
        })
    };
    let mentions_scope = mentions("scope");
    let mentions_organization = mentions(facts::ORGANIZATION_403_HINT);
    ParsedErrorBody {
        trace_id: text(map.get("trace_id")).and_then(|t| clean_trace_id(&t)),
        details,
        mentions_scope,
        mentions_organization,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    fn kind(status: u16, h: &[(&'static str, &str)], body: &[u8]) -> ErrorKind {
        match classify(StatusCode::from_u16(status).unwrap(), &headers(h), body) {
            Classification::Failure(e) => e.kind,
            Classification::Success => panic!("expected a failure"),
        }
    }

    const JSON: (&str, &str) = ("content-type", "application/json; charset=utf-8");

    #[test]
    fn json_and_empty_successes() {
        let ok = |h: &[(&'static str, &str)], b: &[u8]| {
            classify(StatusCode::OK, &headers(h), b) == Classification::Success
        };
        assert!(ok(&[JSON], b"{\"organization\":{}}"));
        assert!(ok(&[], b"  [1]"));
        assert!(ok(&[], b""));
        assert_eq!(
            classify(StatusCode::NO_CONTENT, &HeaderMap::new(), b""),
            Classification::Success
        );
    }

    #[test]
    fn the_three_sandbox_gate_signals() {
        let page = b"<!doctype html>\n<html lang=\"en\" style=\"height: 100%\">";
        assert_eq!(
            kind(200, &[], page),
            ErrorKind::SandboxGate(GateSignal::HtmlPage)
        );
        assert_eq!(
            kind(200, &[("content-type", "text/html")], b"hello"),
            ErrorKind::SandboxGate(GateSignal::HtmlPage)
        );
        assert_eq!(
            kind(
                302,
                &[("location", "https://qonto.onelogin.com/login?x=1")],
                b""
            ),
            ErrorKind::SandboxGate(GateSignal::RedirectToOneLogin)
        );
        assert_eq!(
            kind(302, &[("location", "https://developers.qonto.com/")], b""),
            ErrorKind::SandboxGate(GateSignal::RedirectToDeveloperPortal)
        );
    }

    #[test]
    fn other_redirects_keep_only_the_host() {
        assert_eq!(
            kind(
                301,
                &[("location", "https://evil.example/steal?token=x")],
                b""
            ),
            ErrorKind::UnexpectedRedirect {
                host: Some("evil.example".into())
            }
        );
        assert_eq!(
            kind(302, &[], b""),
            ErrorKind::UnexpectedRedirect { host: None }
        );
        assert_eq!(
            kind(302, &[("location", "/relative")], b""),
            ErrorKind::UnexpectedRedirect { host: None }
        );
    }

    #[test]
    fn statuses_map_to_kinds_with_stable_codes() {
        let cases = [
            (401, "unauthorized"),
            (403, "forbidden"),
            (404, "not_found"),
            (422, "invalid_request"),
            (428, "sca_required"),
            (412, "sca_session_unusable"),
            (429, "rate_limited"),
            (500, "server_error"),
            (503, "server_error"),
            (418, "unexpected_status"),
        ];
        for (status, code) in cases {
            assert_eq!(kind(status, &[JSON], b"{}").code(), code, "status {status}");
        }
        assert_eq!(
            kind(200, &[("content-type", "text/plain")], b"ok").code(),
            "unexpected_content"
        );
    }

    #[test]
    fn error_bodies_give_details_trace_id_and_scope() {
        let body = br#"{"errors":[{"code":"forbidden","detail":"missing required oauth scope organization.read"}],"trace_id":"abc123"}"#;
        let Classification::Failure(err) = classify(StatusCode::FORBIDDEN, &headers(&[JSON]), body)
        else {
            panic!()
        };
        assert_eq!(err.kind, ErrorKind::MissingScope);
        assert_eq!(err.trace_id.as_deref(), Some("abc123"));
        assert_eq!(err.details[0].code.as_deref(), Some("forbidden"));
        assert!(err.to_string().contains("trace id abc123"));
    }

    #[test]
    fn header_trace_id_wins_and_junk_is_ignored() {
        let h = headers(&[JSON, ("x-tyk-trace-id", "fromheader")]);
        let Classification::Failure(err) =
            classify(StatusCode::UNAUTHORIZED, &h, br#"{"trace_id":"frombody"}"#)
        else {
            panic!()
        };
        assert_eq!(err.trace_id.as_deref(), Some("fromheader"));
        let Classification::Failure(err) = classify(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            br#"{"trace_id":"a b\n"}"#,
        ) else {
            panic!()
        };
        assert_eq!(err.trace_id, None);
    }

    #[test]
    fn retry_after_seconds_are_read() {
        assert_eq!(
            kind(429, &[("retry-after", "7")], b""),
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            kind(
                429,
                &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")],
                b""
            ),
            ErrorKind::RateLimited { retry_after: None }
        );
    }

    #[test]
    fn oversized_error_bodies_are_not_parsed() {
        let mut body = br#"{"trace_id":"t","errors":[]"#.to_vec();
        body.resize(MAX_ERROR_BODY + 10, b' ');
        body.push(b'}');
        let Classification::Failure(err) =
            classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), &body)
        else {
            panic!()
        };
        assert_eq!(err.trace_id, None);
    }

    #[test]
    fn fixes_name_the_method_specific_causes() {
        assert!(
            ErrorKind::Unauthorized
                .fix(Some(AuthMethod::ApiKey))
                .contains("Base64")
        );
        assert!(
            ErrorKind::Unauthorized
                .fix(Some(AuthMethod::OAuth))
                .contains("refresh token")
        );
        assert!(
            ErrorKind::SandboxGate(GateSignal::HtmlPage)
                .fix(None)
                .contains("X-Qonto-Staging-Token")
        );
    }
}
