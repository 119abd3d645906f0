//! What a token attempt can end in, and why refreshing may fail.

use crate::codes::Code;
use crate::oauth::TokenResponseError;
use crate::time::Timestamp;
use crate::tokens::TokenSet;

/// Identifies one token attempt, so a late outcome cannot be mistaken for another's.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct AttemptId(pub(crate) u64);

/// How a send to the token endpoint failed at the transport level.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct NetworkFailure {
    /// Whether the request may have reached the server.
    pub stage: SendStage,
    /// The transport's description (must not contain secrets).
    pub description: String,
}

/// Whether a failed request may have reached the server.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum SendStage {
    /// It certainly did not (connection refused, DNS failure): nothing was consumed.
    NotSent,
    /// It may have (timeout or reset after sending): the server may have rotated the token.
    MaybeSent,
}

/// The end of a token attempt, to feed back with
/// [`TokenLifecycle::handle_refresh_outcome`](crate::lifecycle::TokenLifecycle::handle_refresh_outcome).
#[derive(Clone, Debug)]
#[must_use]
pub enum RefreshOutcome {
    /// New tokens, already persisted.
    Refreshed(TokenSet),
    /// The store already held newer tokens (another process refreshed): adopt them.
    Adopted(TokenSet),
    /// New tokens that could not be persisted: usable in memory, with the store error.
    Unpersisted(TokenSet, String),
    /// A malformed success whose rotated refresh token was rescued (and persisted): keep the
    /// current access token, take the new refresh token, and retry later.
    Rescued(TokenSet, RefreshError),
    /// No new tokens.
    Failed(RefreshError),
    /// No new tokens, and the refresh token may have been consumed since `since` (an answer
    /// was lost or unreadable): it is presented again only inside the grace window.
    InDoubt {
        /// The earliest send whose answer is unknown.
        since: Timestamp,
        /// What went wrong.
        error: RefreshError,
    },
}

/// What the caller that drove an attempt gets, from
/// [`TokenLifecycle::handle_refresh_outcome`](crate::lifecycle::TokenLifecycle::handle_refresh_outcome).
#[derive(Clone, Debug)]
#[must_use]
pub enum AttemptResult {
    /// New (or adopted) tokens are in place and saved.
    Done,
    /// The attempt failed. Calls go on with the current token while
    /// [`poll_access`](crate::lifecycle::TokenLifecycle::poll_access) says `Ready`.
    Failed(RefreshError),
    /// New tokens are in use but could not be saved: the caller that drove the attempt must
    /// report this error, even though other calls may use the tokens.
    NotSaved(RefreshError),
}

impl AttemptResult {
    /// `Ok` only when the tokens are in place and saved.
    ///
    /// # Errors
    ///
    /// The failure, or [`RefreshError::NotSaved`].
    pub fn into_result(self) -> Result<(), RefreshError> {
        match self {
            Self::Done => Ok(()),
            Self::Failed(error) | Self::NotSaved(error) => Err(error),
        }
    }

    /// The error the access path must report although a token is ready: only "not saved".
    pub fn blocking_error(self) -> Option<RefreshError> {
        match self {
            Self::NotSaved(error) => Some(error),
            Self::Done | Self::Failed(_) => None,
        }
    }
}

/// Why the token endpoint gave no usable tokens.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// Worth retrying later (at most once per retry interval): 5xx, 429, network, bad body.
    #[error("token refresh failed, will retry: {0}")]
    Transient(TransientCause),
    /// The grant is gone: the user must authorize again.
    #[error("re-authorization required: {0}")]
    ReauthRequired(ReauthReason),
    /// The configuration is wrong (client credentials, staging token, URL).
    #[error("OAuth configuration problem: {0}")]
    Misconfigured(TokenResponseError),
    /// The token request cannot be built (a credential cannot be sent in a header).
    #[error("OAuth configuration problem: {0}")]
    InvalidRequest(crate::header::HeaderError),
    /// New tokens were received but could not be saved (the store error, with its path): they
    /// work in this process and are lost when it ends; the store still holds the previous
    /// tokens, marked as being refreshed.
    #[error(
        "the refreshed tokens could not be saved: {0}; fix the token store, then run the \
         command again within about a minute, or log in again after that"
    )]
    NotSaved(String),
    /// The driver fed an attempt out of order (a bug in the driver, not a network failure).
    #[error("token attempt driven out of order: {0}")]
    DriverMisuse(&'static str),
}

impl RefreshError {
    /// A stable snake_case code.
    pub fn code(&self) -> Code {
        match self {
            Self::Transient(_) => Code::RefreshFailedTransient,
            Self::ReauthRequired(_) => Code::ReauthorizationRequired,
            Self::Misconfigured(TokenResponseError::SandboxGate { .. }) => Code::SandboxGate,
            Self::Misconfigured(_) | Self::InvalidRequest(_) => Code::OauthMisconfigured,
            Self::NotSaved(_) => Code::TokensNotSaved,
            Self::DriverMisuse(_) => Code::DriverMisuse,
        }
    }

    /// Whether a later attempt may succeed (5xx, 429, network, store, unreadable answer).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_) | Self::NotSaved(_))
    }

    /// The trace id of the token endpoint's answer, when the failure came from one.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Transient(TransientCause::Endpoint(e))
            | Self::ReauthRequired(ReauthReason::InvalidGrant(e))
            | Self::Misconfigured(e) => e.trace_id(),
            _ => None,
        }
    }
}

/// The cause of a transient refresh failure.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransientCause {
    /// The token endpoint answered with a retryable failure.
    #[error(transparent)]
    Endpoint(TokenResponseError),
    /// The request did not complete.
    #[error("network: {}", .0.description)]
    Network(NetworkFailure),
    /// The token store could not be locked or read; nothing was sent.
    #[error("token store: {0}")]
    Store(String),
    /// The driver of the attempt ended (a panic, a cancelled task) before its outcome was
    /// known; the refresh token may have been presented.
    #[error("the refresh was interrupted before its outcome was known")]
    Interrupted,
    /// No usable token, and no refresh may start before `until` (a back-off after a failure,
    /// or the minimum interval after the last refresh).
    #[error("no usable token; the next refresh may start at unix time {}", until.unix_secs())]
    Throttled {
        /// When a refresh may start.
        until: Timestamp,
    },
}

/// Why re-authorization is required.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReauthReason {
    /// The server refused the refresh token or code (`invalid_grant`).
    #[error(transparent)]
    InvalidGrant(TokenResponseError),
    /// The refresh token is past its 90-day life.
    #[error("the refresh token is past its lifetime; log in again")]
    RefreshTokenExpired,
    /// The access token expired and no refresh token was granted (no `offline_access`).
    #[error("the access token expired and there is no refresh token (request `offline_access`)")]
    NoRefreshToken,
    /// A refresh response was lost and the rotation grace window has passed: presenting the
    /// old refresh token again could revoke the whole grant.
    #[error(
        "a refresh response was lost outside the rotation grace window; \
         the old refresh token must not be reused"
    )]
    ResponseLost,
    /// The token store was emptied (logged out elsewhere).
    #[error("the stored tokens were removed (logged out)")]
    LoggedOut,
    /// No tokens at all.
    #[error("not logged in")]
    NotLoggedIn,
    /// The access token holds bytes that cannot be sent in a header.
    #[error("the access token cannot be sent in an HTTP header; log in again")]
    UnusableToken,
}
