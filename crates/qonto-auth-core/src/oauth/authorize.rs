//! The browser authorization URL.

use crate::credentials::OAuthClient;
use crate::environment::Endpoints;
use crate::facts::AUTHORIZE_PATH;
use crate::oauth::state::{CsrfState, PkceVerifier};

/// Builds the URL the user's browser opens to grant access (`GET /oauth2/auth`).
///
/// ```
/// use qonto_auth_core::credentials::OAuthClient;
/// use qonto_auth_core::environment::{Endpoints, EnvironmentKind};
/// use qonto_auth_core::oauth::{AuthorizeUrl, CsrfState};
/// use qonto_auth_core::secret::ClientSecret;
///
/// let client = OAuthClient::new("my-id", ClientSecret::new("s"), "http://127.0.0.1:8910/cb")?;
/// let state = CsrfState::from_bytes([1; 32]);
/// let url = AuthorizeUrl::new(&client, &["offline_access", "organization.read"], &state)
///     .build(&Endpoints::documented(EnvironmentKind::Production));
/// assert!(url.starts_with("https://oauth.qonto.com/oauth2/auth?response_type=code&client_id=my-id"));
/// assert!(url.contains("scope=offline_access+organization.read"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AuthorizeUrl<'a> {
    client: &'a OAuthClient,
    scopes: &'a [&'a str],
    state: &'a CsrfState,
    organization_id: Option<&'a str>,
    registration_id: Option<&'a str>,
    user_flow: bool,
    pkce: Option<&'a PkceVerifier>,
}

impl<'a> AuthorizeUrl<'a> {
    /// Starts a URL for a client, its scopes (space-joined) and a fresh CSRF state.
    pub fn new(client: &'a OAuthClient, scopes: &'a [&'a str], state: &'a CsrfState) -> Self {
        Self {
            client,
            scopes,
            state,
            organization_id: None,
            registration_id: None,
            user_flow: false,
            pkce: None,
        }
    }

    /// Pre-selects an organization; the user is not asked to choose.
    pub fn organization_id(mut self, id: &'a str) -> Self {
        self.organization_id = Some(id);
        self
    }

    /// Pre-selects the organization created by an Onboarding API registration.
    pub fn registration_id(mut self, id: &'a str) -> Self {
        self.registration_id = Some(id);
        self
    }

    /// Asks for the User OAuth flow (`identity_type=user`): one consent for several of the
    /// user's organizations, for approved applications. Include `user_organization.read` in
    /// the scopes to list them; every API call then names its organization.
    pub fn user_flow(mut self) -> Self {
        self.user_flow = true;
        self
    }

    /// Adds a PKCE S256 challenge (off by default: Qonto does not document PKCE).
    pub fn pkce(mut self, verifier: &'a PkceVerifier) -> Self {
        self.pkce = Some(verifier);
        self
    }

    /// Renders the URL on the given endpoints' OAuth host.
    pub fn build(&self, endpoints: &Endpoints) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", self.client.client_id())
            .append_pair("redirect_uri", self.client.redirect_uri())
            .append_pair("scope", &self.scopes.join(" "))
            .append_pair("state", self.state.as_str());
        if let Some(id) = self.organization_id {
            query.append_pair("organization_id", id);
        }
        if let Some(id) = self.registration_id {
            query.append_pair("registration_id", id);
        }
        if self.user_flow {
            query.append_pair("identity_type", "user");
        }
        if let Some(verifier) = self.pkce {
            query
                .append_pair("code_challenge", &verifier.challenge())
                .append_pair("code_challenge_method", "S256");
        }
        format!("{}{AUTHORIZE_PATH}?{}", endpoints.oauth(), query.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::EnvironmentKind;
    use crate::secret::ClientSecret;

    #[test]
    fn carries_every_documented_parameter() {
        let client =
            OAuthClient::new("cid", ClientSecret::new("s"), "https://app.example/cb?x=1").unwrap();
        let state = CsrfState::from_bytes([0xab; 32]);
        let pkce = PkceVerifier::from_bytes([1; 32]);
        let url = AuthorizeUrl::new(&client, &["offline_access", "organization.read"], &state)
            .organization_id("org-uuid")
            .registration_id("reg-uuid")
            .user_flow()
            .pkce(&pkce)
            .build(&Endpoints::documented(EnvironmentKind::Sandbox));
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "https://oauth-sandbox.staging.qonto.co/oauth2/auth");
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("client_id"), Some("cid"));
        assert_eq!(get("redirect_uri"), Some("https://app.example/cb?x=1"));
        assert_eq!(get("scope"), Some("offline_access organization.read"));
        assert_eq!(get("state"), Some(state.as_str()));
        assert_eq!(get("organization_id"), Some("org-uuid"));
        assert_eq!(get("registration_id"), Some("reg-uuid"));
        assert_eq!(get("identity_type"), Some("user"));
        assert_eq!(get("code_challenge"), Some(pkce.challenge().as_str()));
        assert_eq!(get("code_challenge_method"), Some("S256"));
    }

    #[test]
    fn pkce_is_off_by_default() {
        let client = OAuthClient::new("cid", ClientSecret::new("s"), "https://a/cb").unwrap();
        let state = CsrfState::from_bytes([0; 32]);
        let url = AuthorizeUrl::new(&client, &["organization.read"], &state)
            .build(&Endpoints::documented(EnvironmentKind::Production));
        assert!(!url.contains("code_challenge"));
        assert!(!url.contains("organization_id"));
    }
}
