//! API keys and fixed access tokens, encoded as an `Authorization` value once per client.

use qonto_auth_core::call::{CallError, Credential};
use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::header::{Authorization, HeaderError};
use qonto_auth_core::http::HeaderValue;
use qonto_auth_core::request::RequestError;
use qonto_auth_core::secret::AccessToken;

use crate::Error;

/// A credential that never changes: its header value is built when the client is, not on
/// every request. The value is marked sensitive and never shown by `Debug`.
#[derive(Clone, Debug)]
pub struct StaticCredential {
    kind: &'static str,
    header: Result<HeaderValue, HeaderError>,
}

impl StaticCredential {
    /// A static API key (`login:secret`).
    pub fn api_key(key: ApiKey) -> Self {
        Self {
            kind: "api_key",
            header: Authorization::ApiKey(key).header_value(),
        }
    }

    /// A fixed OAuth access token, sent as `Bearer`.
    pub fn access_token(token: AccessToken) -> Self {
        Self {
            kind: "access_token",
            header: Authorization::Bearer(token).header_value(),
        }
    }

    /// `api_key` or `access_token`, for `Debug` output and diagnostics.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The `Authorization` value every request carries.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] when the credential cannot be encoded as a header; the same error
    /// on every request, as the credential never changes.
    pub fn header(&self) -> Result<HeaderValue, Error> {
        self.header
            .clone()
            .map_err(|e| Error::Request(RequestError::from(e)))
    }

    /// The credential a call's `Authorize` step is answered with.
    ///
    /// # Errors
    ///
    /// [`CallError::Request`] when the credential cannot be encoded as a header.
    pub fn credential(&self) -> Result<Credential, CallError> {
        match &self.header {
            Ok(header) => Ok(Credential {
                header: header.clone(),
                fingerprint: None,
            }),
            Err(e) => Err(CallError::Request(RequestError::from(*e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_built_once_marked_sensitive_and_never_shown() {
        let key = StaticCredential::api_key(ApiKey::parse("org-1:s3cr3t-value").unwrap());
        let value = key.header().unwrap();
        assert_eq!(value, "org-1:s3cr3t-value");
        assert!(value.is_sensitive());
        assert!(!format!("{key:?}").contains("s3cr3t"));
        assert_eq!(key.kind(), "api_key");

        let token = StaticCredential::access_token(AccessToken::new("ory_at_tok3n"));
        assert_eq!(token.header().unwrap(), "Bearer ory_at_tok3n");
        assert!(!format!("{token:?}").contains("tok3n"));
        assert_eq!(token.kind(), "access_token");
    }

    #[test]
    fn a_token_a_header_cannot_carry_fails_every_request_the_same_way() {
        let token = StaticCredential::access_token(AccessToken::new("bad\ntoken"));
        for _ in 0..2 {
            let error = token.header().unwrap_err();
            assert!(matches!(error, Error::Request(RequestError::Header(_))));
            assert!(!error.to_string().contains("token"), "{error}");
        }
    }
}
