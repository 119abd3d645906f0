//! The OAuth client registered in the Developer Portal.

use crate::secret::ClientSecret;

/// An OAuth client: id, secret and the redirect URI registered for it.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    client_id: String,
    client_secret: ClientSecret,
    redirect_uri: String,
}

impl OAuthClient {
    /// Checks and builds a client.
    ///
    /// # Errors
    ///
    /// [`OAuthClientError`] for an empty or padded id or secret, or a redirect URI that is not
    /// an absolute `http(s)` URL.
    pub fn new(
        client_id: &str,
        client_secret: ClientSecret,
        redirect_uri: &str,
    ) -> Result<Self, OAuthClientError> {
        if client_id.is_empty() || client_id.trim() != client_id {
            return Err(OAuthClientError::ClientId);
        }
        let secret = client_secret.expose_secret();
        if secret.is_empty() || secret.trim() != secret {
            return Err(OAuthClientError::ClientSecret);
        }
        let uri: http::Uri = redirect_uri
            .parse()
            .map_err(|_| OAuthClientError::RedirectUri)?;
        let web = matches!(uri.scheme_str(), Some("http" | "https"));
        if !web || uri.host().is_none() {
            return Err(OAuthClientError::RedirectUri);
        }
        Ok(Self {
            client_id: client_id.to_owned(),
            client_secret,
            redirect_uri: redirect_uri.to_owned(),
        })
    }

    /// The client id (not secret).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret.
    pub fn client_secret(&self) -> &ClientSecret {
        &self.client_secret
    }

    /// The registered redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }
}

/// Why an OAuth client was refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthClientError {
    /// The client id is empty or has surrounding whitespace.
    #[error("the OAuth client id is empty or has surrounding whitespace")]
    ClientId,
    /// The client secret is empty or has surrounding whitespace.
    #[error("the OAuth client secret is empty or has surrounding whitespace")]
    ClientSecret,
    /// The redirect URI is not an absolute http(s) URL.
    #[error("the redirect URI must be an absolute http(s) URL registered in the Developer Portal")]
    RedirectUri,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_each_field() {
        let ok = OAuthClient::new("id", ClientSecret::new("s"), "http://127.0.0.1:1/cb").unwrap();
        assert_eq!(ok.client_id(), "id");
        assert_eq!(ok.redirect_uri(), "http://127.0.0.1:1/cb");
        let bad = |id: &str, secret: &str, uri: &str| {
            OAuthClient::new(id, ClientSecret::new(secret), uri).unwrap_err()
        };
        assert_eq!(bad("", "s", "https://a/cb"), OAuthClientError::ClientId);
        assert_eq!(bad("id ", "s", "https://a/cb"), OAuthClientError::ClientId);
        assert_eq!(
            bad("id", "", "https://a/cb"),
            OAuthClientError::ClientSecret
        );
        assert_eq!(bad("id", "s", "/cb"), OAuthClientError::RedirectUri);
        assert_eq!(bad("id", "s", "ftp://a/cb"), OAuthClientError::RedirectUri);
    }
}
