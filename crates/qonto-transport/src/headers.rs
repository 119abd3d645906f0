//! The headers an API request needs, for requests that another HTTP client sends: the
//! transports' `Client::headers` and the adapters for reqwest-middleware and tower.

use qonto_auth_core::Environment;
use qonto_auth_core::call::Credential;
use qonto_auth_core::header::staging_token_header;
use qonto_auth_core::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use qonto_auth_core::http::{HeaderMap, Method};
use qonto_auth_core::request::prepare_request;

use crate::Error;

/// The headers every API request of `environment` needs with `credential`: `Authorization`,
/// and as the environment asks, `X-Qonto-Staging-Token` (sandbox) and
/// `X-Qonto-Organization-Id`. Secret values are marked sensitive.
///
/// # Errors
///
/// [`Error::Request`] when the staging token or organization id cannot be a header value.
pub fn request_headers(
    environment: &Environment,
    credential: Credential,
) -> Result<HeaderMap, Error> {
    let mut request = prepare_request(environment, Method::GET, "/", None)?;
    let headers = request.headers_mut();
    headers.remove(ACCEPT);
    headers.insert(AUTHORIZATION, credential.header);
    Ok(std::mem::take(headers))
}

/// Copies the headers the core prepared for a send (`prepared`) onto a request another
/// client sends: `Authorization` and the staging token always replace the request's own;
/// every other header (the organization, a write's idempotency key …) is added only where
/// the request has none. `Accept` and `Content-Type` stay the caller's business.
pub fn apply(prepared: &HeaderMap, request: &mut HeaderMap) {
    let staging = staging_token_header();
    for (name, value) in prepared {
        if name == ACCEPT || name == CONTENT_TYPE {
            continue;
        }
        if name == AUTHORIZATION || *name == staging || !request.contains_key(name) {
            request.insert(name, value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use qonto_auth_core::environment::{Endpoints, EnvironmentKind, OrganizationId};
    use qonto_auth_core::http::HeaderValue;
    use qonto_auth_core::secret::StagingToken;

    use super::*;

    fn credential() -> Credential {
        let token = qonto_auth_core::secret::AccessToken::new("tok");
        crate::StaticCredential::access_token(token)
            .credential()
            .unwrap()
    }

    #[test]
    fn sandbox_headers_carry_the_credential_staging_token_and_organization() {
        let endpoints = Endpoints::new("http://127.0.0.1:9", "http://127.0.0.1:9").unwrap();
        let environment = Environment::new(
            EnvironmentKind::Sandbox,
            Some(StagingToken::new("stg")),
            endpoints,
        )
        .unwrap()
        .with_organization_id(OrganizationId::parse("org-1").unwrap());
        let headers = request_headers(&environment, credential()).unwrap();
        assert_eq!(headers.len(), 3, "{headers:?}");
        assert_eq!(headers[AUTHORIZATION], "Bearer tok");
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert_eq!(headers[staging_token_header()], "stg");
        assert!(headers[staging_token_header()].is_sensitive());
        assert_eq!(headers["x-qonto-organization-id"], "org-1");
    }

    #[test]
    fn production_headers_are_the_credential_alone() {
        let headers = request_headers(&Environment::production(), credential()).unwrap();
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[AUTHORIZATION], "Bearer tok");
    }

    #[test]
    fn applying_replaces_the_credential_and_keeps_the_callers_other_headers() {
        let mut prepared = request_headers(&Environment::production(), credential()).unwrap();
        prepared.insert(ACCEPT, HeaderValue::from_static("application/json"));
        prepared.insert("x-qonto-idempotency-key", HeaderValue::from_static("core"));
        let mut request = HeaderMap::new();
        request.insert(AUTHORIZATION, HeaderValue::from_static("stale"));
        request.insert(ACCEPT, HeaderValue::from_static("text/csv"));
        request.insert("x-qonto-idempotency-key", HeaderValue::from_static("mine"));
        apply(&prepared, &mut request);
        assert_eq!(request[AUTHORIZATION], "Bearer tok");
        assert_eq!(request[ACCEPT], "text/csv");
        assert_eq!(request["x-qonto-idempotency-key"], "mine");
    }
}
