//! Errors of both transports.

use qonto_auth_core::Code;
use qonto_auth_core::call::{CallError, DecodeError, PageError, ScaError};
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
    /// No usable OAuth token: re-authorization required, misconfiguration, a refresh that
    /// keeps failing, or refreshed tokens that could not be saved.
    #[error(transparent)]
    Auth(RefreshError),
    /// Strong customer authentication is needed: approve in the Qonto app, then resume the
    /// call with the pending handle (the transports' `resume`), or call with a wait.
    #[error("strong customer authentication is required: {}", .0.challenge().message)]
    ScaRequired(Box<crate::ScaPending>),
    /// Strong customer authentication did not let the call through.
    #[error(transparent)]
    Sca(ScaError),
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request could not be built (a path leaving the API host, an unencodable credential).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A successful answer could not be decoded into the expected type.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A paginated listing was stopped (a limit, or a server pointing backwards).
    #[error(transparent)]
    Pagination(PageError),
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

impl From<CallError> for Error {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Api(e) => Self::Api(e),
            CallError::Network(e) => Self::Network(e),
            CallError::BodyTooLarge { limit } => Self::BodyTooLarge { limit },
            CallError::Auth(e) => Self::Auth(e),
            CallError::Request(e) => Self::Request(e),
            CallError::Sca(e) => Self::Sca(e),
            _ => Self::Request(RequestError::DriverMisuse("an unknown call error")),
        }
    }
}

impl From<PageError> for Error {
    fn from(error: PageError) -> Self {
        match error {
            PageError::Decode(e) => Self::Decode(e),
            other => Self::Pagination(other),
        }
    }
}

impl Error {
    /// A stable snake_case code for the failure.
    pub fn code(&self) -> Code {
        match self {
            Self::Api(e) => e.code(),
            Self::Network(_) => Code::NetworkError,
            Self::Auth(e) => e.code(),
            Self::Store(_) => Code::TokenStoreError,
            Self::Request(e) => e.code(),
            Self::ScaRequired(_) => Code::ScaRequired,
            Self::Sca(e) => e.code(),
            Self::Decode(_) => Code::DecodeError,
            Self::Pagination(_) => Code::PaginationStopped,
            Self::BodyTooLarge { .. } => Code::BodyTooLarge,
            Self::NotOAuth => Code::NotOauth,
            Self::Environment { .. } => Code::InvalidEnvironment,
        }
    }

    /// The trace id to give Qonto support, when the failure came from a response.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.trace_id.as_deref(),
            Self::Auth(e) => e.trace_id(),
            Self::Sca(e) => e.trace_id(),
            Self::ScaRequired(pending) => pending.challenge().trace_id.as_deref(),
            _ => None,
        }
    }
}
