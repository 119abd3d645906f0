//! A successful answer of the API, and decoding it.

use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::facts;

/// A successful (2xx JSON or empty) answer.
#[derive(Clone, Debug)]
pub struct ApiResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// Decodes the JSON body into `T`; `what` names it in the error.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the body does not match `T`.
    pub fn json<T: DeserializeOwned>(&self, what: &'static str) -> Result<T, DecodeError> {
        decode(&self.body, what)
    }

    /// The trace id header, if present.
    pub fn trace_id(&self) -> Option<&str> {
        self.headers
            .get(facts::TRACE_ID_HEADER)
            .and_then(|v| v.to_str().ok())
    }
}

/// Decodes a JSON body, reporting only the kind and position of a problem (serde's own
/// messages can quote the body, which may hold secrets).
pub(crate) fn decode<T: DeserializeOwned>(
    body: &[u8],
    what: &'static str,
) -> Result<T, DecodeError> {
    serde_json::from_slice(body).map_err(|e| DecodeError {
        what,
        reason: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// A successful answer could not be decoded into the expected type.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("could not decode the {what} response: {reason}")]
pub struct DecodeError {
    /// What was being decoded.
    pub what: &'static str,
    /// The decoder's message (no body content).
    pub reason: String,
}
