//! For requests another HTTP client sends: the headers an API request needs.

use qonto_auth_core::http::HeaderMap;

use crate::{Client, Error};

impl Client {
    /// The headers an API request needs, for a request another HTTP client sends:
    /// `Authorization` (refreshing the OAuth token first when due), and as the environment
    /// asks, `X-Qonto-Staging-Token` and `X-Qonto-Organization-Id`. Secret values are marked
    /// sensitive.
    ///
    /// Casing: `http` header names are lowercase. Qonto documents the sandbox header as
    /// `X-Qonto-Staging-Token`, and this crate's own requests always send it so; a request
    /// sent by another client keeps that casing only on HTTP/1.1 when the client writes
    /// title-case names (HTTP/2 names are lowercase by definition).
    ///
    /// A 401 answered to such a request is not seen here: [`Client::call`] retries once after
    /// refreshing, a request sent elsewhere does not.
    pub fn headers(&self) -> Result<HeaderMap, Error> {
        qonto_transport::headers::request_headers(&self.0.environment, self.credential()?)
    }
}
