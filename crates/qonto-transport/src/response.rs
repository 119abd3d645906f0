//! A successful answer of the API.

use qonto_auth_core::facts;
use qonto_auth_core::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::Error;

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
    /// Decodes the JSON body.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when the body does not match `T`.
    pub fn json<T: DeserializeOwned>(&self, what: &'static str) -> Result<T, Error> {
        // Only the kind and position of the problem: serde's messages can quote the body.
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode {
            what,
            reason: format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    }

    /// The trace id header, if present.
    pub fn trace_id(&self) -> Option<&str> {
        self.headers
            .get(facts::TRACE_ID_HEADER)
            .and_then(|v| v.to_str().ok())
    }
}
