//! Business API requests as `http::Request<Vec<u8>>`.

use crate::codes::Code;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request};

use crate::environment::{Environment, EnvironmentError};
use crate::header::{
    Authorization, ExactCase, HeaderError, organization_header, staging_token_header, staging_value,
};

/// Builds an authenticated Business API request.
///
/// Adds `Authorization`, `Accept: application/json`, `Content-Type: application/json` when a
/// body is given, and `X-Qonto-Staging-Token` in the sandbox. Secret header values are marked
/// sensitive. The path must be a plain absolute path, so the request always goes to the
/// configured API host.
///
/// # Errors
///
/// [`RequestError`] for a path that would leave the API host or a credential that cannot be
/// encoded.
pub fn api_request(
    environment: &Environment,
    authorization: &Authorization,
    method: Method,
    path_and_query: &str,
    json_body: Option<Vec<u8>>,
) -> Result<Request<Vec<u8>>, RequestError> {
    let value = authorization.header_value()?;
    api_request_with(environment, value, method, path_and_query, json_body)
}

/// Builds an API request with an already encoded `Authorization` value, such as the one a
/// [`BearerCredential`](crate::lifecycle::BearerCredential) carries (encoded once per token).
///
/// # Errors
///
/// As [`api_request`].
pub fn api_request_with(
    environment: &Environment,
    authorization: HeaderValue,
    method: Method,
    path_and_query: &str,
    json_body: Option<Vec<u8>>,
) -> Result<Request<Vec<u8>>, RequestError> {
    let mut request = prepare_request(environment, method, path_and_query, json_body)?;
    request.headers_mut().insert(AUTHORIZATION, authorization);
    Ok(request)
}

/// Builds an API request with every header but `Authorization`: `Accept`, `Content-Type` for
/// a body, and in the sandbox `X-Qonto-Staging-Token` (sensitive), whose exact casing is
/// noted as [`ExactCase`] in the request's extensions.
///
/// # Errors
///
/// As [`api_request`].
pub fn prepare_request(
    environment: &Environment,
    method: Method,
    path_and_query: &str,
    json_body: Option<Vec<u8>>,
) -> Result<Request<Vec<u8>>, RequestError> {
    let uri = environment.endpoints().api().join(path_and_query)?;
    let mut request = Request::new(Vec::new());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(id) = environment.organization_id() {
        let value = HeaderValue::from_str(id.as_str()).map_err(|_| HeaderError)?;
        headers.insert(organization_header(), value);
    }
    if add_staging_header(environment, headers)? {
        request.extensions_mut().insert(ExactCase::STAGING);
    }
    if let Some(body) = json_body {
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        *request.body_mut() = body;
    }
    Ok(request)
}

/// Adds `X-Qonto-Staging-Token` when the environment is the sandbox; never in production.
/// Returns whether it was added.
///
/// # Errors
///
/// [`HeaderError`] when the staging token cannot be encoded.
pub fn add_staging_header(
    environment: &Environment,
    headers: &mut http::HeaderMap,
) -> Result<bool, HeaderError> {
    match environment.staging_token() {
        Some(token) => {
            headers.insert(staging_token_header(), staging_value(token)?);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Why a request could not be built.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The path is not a plain absolute path on the API host.
    #[error(transparent)]
    Path(#[from] EnvironmentError),
    /// A credential could not be encoded as a header.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// A call was driven out of order (a bug in the driver).
    #[error("call driven out of order: {0}")]
    DriverMisuse(&'static str),
    /// An extra header (or the idempotency key) is not a valid header, or is one the library
    /// sets itself.
    #[error("invalid or reserved header")]
    InvalidHeader,
    /// The body does not serialize to JSON.
    #[error("the body does not serialize to JSON")]
    Body,
    /// The system gave no randomness for an idempotency key.
    #[error("the system's random source failed")]
    NoRandomness,
}

impl RequestError {
    /// The stable code.
    pub fn code(&self) -> Code {
        match self {
            Self::Path(_) => Code::RequestPathInvalid,
            Self::Header(_) => Code::CredentialUnencodable,
            Self::DriverMisuse(_) => Code::DriverMisuse,
            Self::InvalidHeader => Code::RequestHeaderInvalid,
            Self::Body => Code::RequestBodyInvalid,
            Self::NoRandomness => Code::NoRandomness,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::ApiKey;
    use crate::environment::{Endpoints, EnvironmentKind};
    use crate::secret::{AccessToken, StagingToken};

    fn key() -> Authorization {
        Authorization::ApiKey(ApiKey::parse("org-1:secret").unwrap())
    }

    #[test]
    fn sandbox_requests_carry_the_staging_token_production_never() {
        let sandbox = Environment::sandbox(StagingToken::new("stg")).unwrap();
        let req = api_request(&sandbox, &key(), Method::GET, "/v2/organization", None).unwrap();
        assert_eq!(
            req.uri().to_string(),
            "https://thirdparty-sandbox.staging.qonto.co/v2/organization"
        );
        let staging = &req.headers()[staging_token_header()];
        assert_eq!(staging.to_str().unwrap(), "stg");
        assert!(staging.is_sensitive());
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert_eq!(req.headers()[ACCEPT], "application/json");

        let prod = Environment::production();
        let req = api_request(&prod, &key(), Method::GET, "/v2/organization", None).unwrap();
        assert!(req.headers().get(staging_token_header()).is_none());
    }

    #[test]
    fn json_bodies_get_a_content_type() {
        let env = Environment::new(
            EnvironmentKind::Production,
            None,
            Endpoints::new("http://127.0.0.1:9", "http://127.0.0.1:9").unwrap(),
        )
        .unwrap();
        let auth = Authorization::Bearer(AccessToken::new("ory_at_x"));
        let req = api_request(&env, &auth, Method::POST, "/v2/x", Some(b"{}".to_vec())).unwrap();
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(req.body(), b"{}");
        assert_eq!(req.uri().to_string(), "http://127.0.0.1:9/v2/x");
    }

    #[test]
    fn absolute_urls_are_refused() {
        let env = Environment::production();
        let err = api_request(&env, &key(), Method::GET, "https://evil.example/x", None);
        assert!(matches!(err, Err(RequestError::Path(_))));
    }
}
