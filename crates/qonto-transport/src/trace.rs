//! Tracing, in one place for both transports and the adapters: a span around each call and
//! each token attempt, and an event for each thing worth knowing (a refresh, a refresh in
//! doubt, a 401 and its retry, re-authorization required, a rate limit).
//!
//! Every span and event has the target [`TARGET`] (`qonto`), so `qonto=info` selects them
//! all. Their fields are the method, the path without its query, the status, Qonto's trace
//! id, the fingerprint of the OAuth token in use (six bytes of its SHA-256, never the
//! token), codes and error texts that hold no secret: never a credential, a token, a staging
//! token, a query string or a body.
//!
//! ```text
//!   qonto_call{method path token status trace_id}          around Client::call and adapters
//!     qonto_token_attempt{attempt status trace_id}         around a refresh or code exchange
//!   events: answered, rate limited, token refreshed, refresh in doubt, 401 retry,
//!           re-authorization required, …
//! ```

use qonto_auth_core::call::{CallSpec, Credential, SendFailure};
use qonto_auth_core::header::trace_id_header;
use qonto_auth_core::http::header::RETRY_AFTER;
use qonto_auth_core::http::{HeaderMap, Method, Response, StatusCode};
use qonto_auth_core::lifecycle::{
    BearerCredential, Event, RefreshError, TokenAttempt, UnauthorizedAdvice,
};
use qonto_auth_core::secret::Fingerprint;
use tracing::field::{Empty, display};
use tracing::{Level, Span};

/// The target of every span and event of this crate's tracing.
pub const TARGET: &str = "qonto";

/// The longest header value recorded (a trace id is 32 to 40 characters).
const MAX_VALUE: usize = 128;

/// The span of one API call: `method`, `path` (without the query) now; `token`, `status` and
/// `trace_id` as they become known.
pub fn call(spec: &CallSpec) -> Span {
    call_span(&spec.method, &spec.path_and_query)
}

/// [`call`] from a method and a path with its query (the query is left out).
pub fn call_span(method: &Method, path_and_query: &str) -> Span {
    let path = path_and_query.split('?').next().unwrap_or_default();
    tracing::info_span!(
        target: TARGET,
        "qonto_call",
        method = %method,
        %path,
        token = Empty,
        status = Empty,
        trace_id = Empty,
    )
}

/// The span of one token attempt (a refresh or a code exchange), inside the call that needed
/// it when there is one.
pub fn attempt(attempt: &TokenAttempt) -> Span {
    tracing::info_span!(
        target: TARGET,
        "qonto_token_attempt",
        attempt = ?attempt.id(),
        status = Empty,
        trace_id = Empty,
    )
}

/// The current span, if it is one of ours (so a caller's own span is never written to).
fn ours() -> Option<Span> {
    let span = Span::current();
    span.metadata()
        .is_some_and(|m| m.target() == TARGET)
        .then_some(span)
}

/// Notes the OAuth token a call authorizes with (its fingerprint) and hands the credential on.
pub fn used(credential: BearerCredential) -> Credential {
    if tracing::enabled!(target: TARGET, Level::INFO) {
        if let Some(span) = ours() {
            span.record("token", display(credential.fingerprint));
        }
    }
    Credential::from(credential)
}

/// Notes what a send got (status and trace id, or the failure) on the current call or attempt
/// span; a 429 is an event of its own.
pub fn answered(result: &Result<Response<Vec<u8>>, SendFailure>) {
    match result {
        Ok(response) => head(response.status(), response.headers()),
        Err(SendFailure::Failed(failure)) => tracing::info!(
            target: TARGET,
            stage = ?failure.stage,
            error = %failure.description,
            "request failed",
        ),
        Err(SendFailure::TooLarge(limit)) => {
            tracing::info!(target: TARGET, limit, "response body over the cap");
        }
    }
}

/// [`answered`] from a response's head (the adapters, which never read the body).
pub fn head(status: StatusCode, headers: &HeaderMap) {
    if !tracing::enabled!(target: TARGET, Level::INFO) {
        return;
    }
    let trace_id = header(headers, trace_id_header().as_str());
    if let Some(span) = ours() {
        span.record("status", status.as_u16());
        if let Some(id) = trace_id {
            span.record("trace_id", display(id));
        }
    }
    let trace_id = trace_id.map(display);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = header(headers, RETRY_AFTER.as_str()).map(display);
        tracing::warn!(target: TARGET, status = 429, trace_id, retry_after, "rate limited");
    } else {
        tracing::debug!(target: TARGET, status = status.as_u16(), trace_id, "answered");
    }
}

/// A header's value as text, if it is short printable ASCII.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?;
    (value.len() <= MAX_VALUE).then_some(value)
}

/// What the lifecycle advised after a 401 on a request sent with the token `used`.
pub fn advice(advice: &UnauthorizedAdvice, used: Fingerprint) {
    let token = display(used);
    match advice {
        UnauthorizedAdvice::RetryWithNewerToken => {
            tracing::info!(target: TARGET, %token, "401: retrying once with the newer token");
        }
        UnauthorizedAdvice::RefreshThenRetry => {
            tracing::info!(target: TARGET, %token, "401: refreshing, then retrying once");
        }
        UnauthorizedAdvice::GiveUp(Some(error)) => stopped(error, "401: not retried"),
        UnauthorizedAdvice::GiveUp(None) => {
            tracing::warn!(target: TARGET, %token, "401: not retried");
        }
    }
}

/// One lifecycle event.
pub fn event(event: &Event) {
    match event {
        Event::Refreshed { expires_at } => tracing::info!(
            target: TARGET,
            expires_at = expires_at.unix_secs(),
            "token refreshed",
        ),
        Event::Adopted { expires_at } => tracing::info!(
            target: TARGET,
            expires_at = expires_at.unix_secs(),
            "token adopted from the store (refreshed by another process)",
        ),
        Event::NotSaved(error) => failed(error, "refreshed tokens not saved"),
        Event::RefreshFailed(error) => failed(error, "refresh failed, will retry"),
        Event::RefreshInDoubt { since } => tracing::warn!(
            target: TARGET,
            since = since.unix_secs(),
            "refresh in doubt: its answer was lost; retried at most once, inside the grace window",
        ),
        Event::RefreshStopped(error) => stopped(error, "refreshing stopped"),
        Event::TokenRejected { fingerprint } => tracing::warn!(
            target: TARGET,
            token = %fingerprint,
            "access token rejected (401)",
        ),
        Event::RefreshTokenExpiring { expires_at } => tracing::warn!(
            target: TARGET,
            expires_at = expires_at.unix_secs(),
            "the refresh token lapses soon: log in again before then",
        ),
    }
}

/// A refresh error after which refreshing goes on.
fn failed(error: &RefreshError, message: &'static str) {
    let (code, trace_id) = (error.code(), error.trace_id().map(display));
    tracing::warn!(target: TARGET, %code, trace_id, %error, "{message}");
}

/// A refresh error that ends refreshing; re-authorization gets its own words.
fn stopped(error: &RefreshError, message: &'static str) {
    let (code, trace_id) = (error.code(), error.trace_id().map(display));
    if let RefreshError::ReauthRequired(_) = error {
        tracing::error!(target: TARGET, %code, trace_id, %error, "re-authorization required");
    } else {
        tracing::error!(target: TARGET, %code, trace_id, %error, "{message}");
    }
}
