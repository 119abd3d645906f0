//! Errors of both transports.

use qonto_auth_core::lifecycle::{NetworkFailure, RefreshError};
use qonto_auth_core::request::RequestError;
use qonto_auth_core::{ApiError, EnvironmentKind};
use qonto_store::StoreError;

/// Why a call failed. Carries no secret and never a successful response body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Qonto (or the sandbox gate) answered with a failure; see its code, fix and trace id.
    #[error(transparent)]
    Api(ApiError),
    /// The request did not complete (DNS, connect, TLS, timeout, reset).
    #[error("network error: {}", .0.description)]
    Network(NetworkFailure),
    /// No usable OAuth token: re-authorization required, misconfiguration, or a refresh that
    /// keeps failing.
    #[error(transparent)]
    Auth(RefreshError),
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request could not be built (a path leaving the API host, an unencodable credential).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A successful answer could not be decoded into the expected type.
    #[error("could not decode the {what} response: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's message (no body content).
        reason: String,
    },
    /// The response body exceeded the configured cap.
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The cap.
        limit: u64,
    },
    /// This operation needs OAuth.
    #[error("this operation needs OAuth credentials")]
    NotOAuth,
    /// The environment settings were refused.
    #[error("invalid {kind} environment: {reason}")]
    Environment {
        /// The environment.
        kind: EnvironmentKind,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// A stable snake_case code for the failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Api(e) => e.code(),
            Self::Network(_) => "network_error",
            Self::Auth(e) => e.code(),
            Self::Store(_) => "token_store_error",
            Self::Request(_) => "invalid_request",
            Self::Decode { .. } => "decode_error",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::NotOAuth => "not_oauth",
            Self::Environment { .. } => "invalid_environment",
        }
    }

    /// The trace id to give Qonto support, when the failure came from a response.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.trace_id.as_deref(),
            _ => None,
        }
    }
}
