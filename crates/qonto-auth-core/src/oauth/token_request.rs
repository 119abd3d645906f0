//! Token endpoint requests: form-encoded, client credentials in the body.

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, Request};
use zeroize::Zeroize;

use crate::credentials::OAuthClient;
use crate::environment::Environment;
use crate::facts::TOKEN_PATH;
use crate::header::{ExactCase, HeaderError};
use crate::oauth::state::PkceVerifier;
use crate::request::add_staging_header;
use crate::secret::{AuthorizationCode, RefreshToken};

/// A request to the token endpoint. Its body holds secrets, so `Debug` shows only the method
/// and URI.
#[derive(Clone)]
pub struct TokenRequest(Request<Vec<u8>>);

impl TokenRequest {
    /// The request to send.
    pub fn http(&self) -> &Request<Vec<u8>> {
        &self.0
    }

    /// Takes the request out, to hand to an HTTP client (which keeps its own copy of the body
    /// while sending; that copy cannot be wiped from here).
    pub fn into_http(mut self) -> Request<Vec<u8>> {
        std::mem::replace(&mut self.0, Request::new(Vec::new()))
    }
}

impl Drop for TokenRequest {
    /// Wipes the form (client secret, refresh token or code) still held.
    fn drop(&mut self) {
        self.0.body_mut().zeroize();
    }
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("method", self.0.method())
            .field("uri", self.0.uri())
            .field("body", &"[redacted]")
            .finish()
    }
}

/// Builds the `authorization_code` grant request.
///
/// # Errors
///
/// [`HeaderError`] when the staging token cannot be encoded.
pub fn authorization_code_request(
    environment: &Environment,
    client: &OAuthClient,
    code: &AuthorizationCode,
    pkce: Option<&PkceVerifier>,
) -> Result<TokenRequest, HeaderError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("client_id", client.client_id())
        .append_pair("client_secret", client.client_secret().expose_secret())
        .append_pair("code", code.expose_secret())
        .append_pair("redirect_uri", client.redirect_uri());
    if let Some(verifier) = pkce {
        form.append_pair("code_verifier", verifier.expose_secret());
    }
    token_request(environment, form.finish())
}

/// Builds the `refresh_token` grant request.
///
/// # Errors
///
/// [`HeaderError`] when the staging token cannot be encoded.
pub fn refresh_request(
    environment: &Environment,
    client: &OAuthClient,
    refresh_token: &RefreshToken,
) -> Result<TokenRequest, HeaderError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "refresh_token")
        .append_pair("client_id", client.client_id())
        .append_pair("client_secret", client.client_secret().expose_secret())
        .append_pair("refresh_token", refresh_token.expose_secret());
    token_request(environment, form.finish())
}

fn token_request(environment: &Environment, body: String) -> Result<TokenRequest, HeaderError> {
    let uri = environment
        .endpoints()
        .oauth()
        .join(TOKEN_PATH)
        .unwrap_or_else(|_| unreachable!("the token path is a valid absolute path"));
    let mut request = Request::new(body.into_bytes());
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if add_staging_header(environment, headers)? {
        request.extensions_mut().insert(ExactCase::STAGING);
    }
    Ok(TokenRequest(request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::staging_token_header;
    use crate::secret::{ClientSecret, StagingToken};

    fn form(req: &TokenRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(req.http().body())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn client() -> OAuthClient {
        OAuthClient::new(
            "cid",
            ClientSecret::new("c&s=cr t"),
            "http://127.0.0.1:1/cb",
        )
        .unwrap()
    }

    #[test]
    fn code_exchange_is_a_form_with_credentials_in_the_body() {
        let env = Environment::sandbox(StagingToken::new("stg")).unwrap();
        let req =
            authorization_code_request(&env, &client(), &AuthorizationCode::new("ory_ac_1"), None)
                .unwrap();
        let http = req.http();
        assert_eq!(http.method(), Method::POST);
        assert_eq!(
            http.uri().to_string(),
            "https://oauth-sandbox.staging.qonto.co/oauth2/token"
        );
        assert_eq!(
            http.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        assert!(http.headers()[staging_token_header()].is_sensitive());
        assert_eq!(
            form(&req),
            [
                ("grant_type", "authorization_code"),
                ("client_id", "cid"),
                ("client_secret", "c&s=cr t"),
                ("code", "ory_ac_1"),
                ("redirect_uri", "http://127.0.0.1:1/cb"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert!(!format!("{req:?}").contains("c&s"));
    }

    #[test]
    fn refresh_carries_the_refresh_token_and_no_staging_header_in_production() {
        let env = Environment::production();
        let req = refresh_request(&env, &client(), &RefreshToken::new("ory_rt_1")).unwrap();
        let pairs = form(&req);
        assert!(pairs.contains(&("grant_type".into(), "refresh_token".into())));
        assert!(pairs.contains(&("refresh_token".into(), "ory_rt_1".into())));
        assert!(req.http().headers().get(staging_token_header()).is_none());
        assert_eq!(
            req.http().uri().to_string(),
            "https://oauth.qonto.com/oauth2/token"
        );
    }

    #[test]
    fn pkce_verifier_goes_with_the_secret_not_instead() {
        let env = Environment::production();
        let verifier = PkceVerifier::from_bytes([9; 32]);
        let req = authorization_code_request(
            &env,
            &client(),
            &AuthorizationCode::new("c"),
            Some(&verifier),
        )
        .unwrap();
        let pairs = form(&req);
        assert!(pairs.iter().any(|(k, _)| k == "client_secret"));
        assert!(pairs.contains(&("code_verifier".into(), verifier.expose_secret().into())));
    }
}
