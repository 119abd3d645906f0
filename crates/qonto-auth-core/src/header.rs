//! Header encoding: `Authorization` for both methods and the sandbox staging header.

use http::{HeaderName, HeaderValue};
use zeroize::Zeroizing;

use crate::credentials::ApiKey;
use crate::facts;
use crate::secret::{AccessToken, StagingToken};

/// The staging-token header name as an `http` value (lowercase, as `http` stores all names).
///
/// Transports write it on the wire as [`facts::STAGING_TOKEN_HEADER`], the exact documented
/// casing; see the transport crates.
pub fn staging_token_header() -> HeaderName {
    HeaderName::from_static("x-qonto-staging-token")
}

/// Headers of a request whose exact casing matters on the wire, carried in the request's
/// `http::Extensions` (the `http` crate stores names in lowercase). An HTTP/1.1 driver writes
/// each name listed here with this casing; the staging token is the documented case.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ExactCase(pub &'static [&'static str]);

impl ExactCase {
    /// `X-Qonto-Staging-Token`.
    pub const STAGING: Self = Self(&[facts::STAGING_TOKEN_HEADER]);
}

/// `X-Qonto-Organization-Id`, the organization a User OAuth flow call acts for.
pub fn organization_header() -> HeaderName {
    HeaderName::from_static("x-qonto-organization-id")
}

/// The gateway trace id header name.
pub fn trace_id_header() -> HeaderName {
    HeaderName::from_static(facts::TRACE_ID_HEADER)
}

/// How an API request is authenticated.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Authorization {
    /// A static API key: `Authorization: login:secret`.
    ApiKey(ApiKey),
    /// An OAuth access token: `Authorization: Bearer <token>`.
    Bearer(AccessToken),
}

impl Authorization {
    /// Encodes the `Authorization` header value, marked sensitive.
    ///
    /// # Errors
    ///
    /// [`HeaderError`] when the value holds bytes a header cannot carry (the value itself is
    /// never included in the error).
    pub fn header_value(&self) -> Result<HeaderValue, HeaderError> {
        match self {
            Self::ApiKey(key) => {
                let text =
                    Zeroizing::new(format!("{}:{}", key.login(), key.secret().expose_secret()));
                sensitive(&text)
            }
            Self::Bearer(token) => bearer(token),
        }
    }

    /// The method's stable name: `api_key` or `oauth`.
    pub fn method(&self) -> AuthMethod {
        match self {
            Self::ApiKey(_) => AuthMethod::ApiKey,
            Self::Bearer(_) => AuthMethod::OAuth,
        }
    }
}

/// The two authentication methods, without their secrets.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// Static API key.
    ApiKey,
    /// OAuth 2.0 bearer token.
    OAuth,
}

impl AuthMethod {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::OAuth => "oauth",
        }
    }
}

/// Encodes `Bearer <token>`, marked sensitive.
///
/// # Errors
///
/// [`HeaderError`] when the token holds bytes a header cannot carry.
pub fn bearer(token: &AccessToken) -> Result<HeaderValue, HeaderError> {
    sensitive(&Zeroizing::new(format!("Bearer {}", token.expose_secret())))
}

/// Encodes the staging token header value, marked sensitive.
///
/// # Errors
///
/// [`HeaderError`] when the token holds bytes a header cannot carry.
pub fn staging_value(token: &StagingToken) -> Result<HeaderValue, HeaderError> {
    sensitive(token.expose_secret())
}

fn sensitive(text: &str) -> Result<HeaderValue, HeaderError> {
    let mut value = HeaderValue::from_str(text).map_err(|_| HeaderError)?;
    value.set_sensitive(true);
    Ok(value)
}

/// A secret held bytes that cannot appear in an HTTP header (control characters, non-ASCII).
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[error("a credential contains characters that cannot be sent in an HTTP header")]
pub struct HeaderError;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretKey;

    #[test]
    fn api_key_is_raw_login_colon_secret_and_sensitive() {
        let key = ApiKey::new("pied-piper-7132", SecretKey::new("abc")).unwrap();
        let value = Authorization::ApiKey(key).header_value().unwrap();
        assert_eq!(value.to_str().unwrap(), "pied-piper-7132:abc");
        assert!(value.is_sensitive());
        assert_eq!(format!("{value:?}"), "Sensitive");
    }

    #[test]
    fn bearer_and_staging_values_are_sensitive() {
        let value = Authorization::Bearer(AccessToken::new("ory_at_x"))
            .header_value()
            .unwrap();
        assert_eq!(value.to_str().unwrap(), "Bearer ory_at_x");
        assert!(value.is_sensitive());
        let staging = staging_value(&StagingToken::new("stg")).unwrap();
        assert!(staging.is_sensitive());
        assert_eq!(staging_token_header().as_str(), "x-qonto-staging-token");
        assert!(facts::STAGING_TOKEN_HEADER.eq_ignore_ascii_case(staging_token_header().as_str()));
    }

    #[test]
    fn unencodable_tokens_are_a_typed_error() {
        assert_eq!(bearer(&AccessToken::new("a\nb")).unwrap_err(), HeaderError);
    }
}
