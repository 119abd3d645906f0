//! How sending a request failed, before any classification.

use qonto_auth_core::lifecycle::{NetworkFailure, SendStage};

use crate::error::Error;

/// A transport failure, sorted by whether the request may have reached the server.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError {
    /// The request did not complete.
    Failed(NetworkFailure),
    /// The response body was larger than the cap (in bytes).
    TooLarge(u64),
}

impl SendError {
    /// The error an API call reports.
    pub fn into_error(self) -> Error {
        match self {
            Self::Failed(failure) => Error::Network(failure),
            Self::TooLarge(limit) => Error::BodyTooLarge { limit },
        }
    }

    /// The failure a token attempt is told about (an oversized answer may have rotated the
    /// token, so it counts as possibly sent).
    pub fn into_failure(self) -> NetworkFailure {
        match self {
            Self::Failed(failure) => failure,
            Self::TooLarge(limit) => NetworkFailure {
                stage: SendStage::MaybeSent,
                description: format!("response body larger than {limit} bytes"),
            },
        }
    }
}
