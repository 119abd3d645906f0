//! How sending a request failed, before any answer could be classified.

use crate::lifecycle::{NetworkFailure, SendStage};

/// A transport failure, sorted by whether the request may have reached the server. Both the
/// call and the token attempt machines take it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum SendFailure {
    /// The request did not complete.
    Failed(NetworkFailure),
    /// The response body was larger than the cap (in bytes).
    TooLarge(u64),
}

impl SendFailure {
    /// The failure as a token attempt sees it: an oversized answer may have rotated the token,
    /// so it counts as possibly sent.
    pub fn into_network_failure(self) -> NetworkFailure {
        match self {
            Self::Failed(failure) => failure,
            Self::TooLarge(limit) => NetworkFailure {
                stage: SendStage::MaybeSent,
                description: format!("response body larger than {limit} bytes"),
            },
        }
    }

    /// Whether the request certainly never reached the server.
    pub fn not_sent(&self) -> bool {
        matches!(self, Self::Failed(f) if f.stage == SendStage::NotSent)
    }
}
