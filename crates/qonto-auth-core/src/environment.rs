//! Production and sandbox environments, their hosts, and the staging token.

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};

use crate::facts;
use crate::secret::StagingToken;

/// Which of Qonto's two environments a configuration talks to.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum EnvironmentKind {
    /// The live environment (`thirdparty.qonto.com`, `oauth.qonto.com`).
    Production,
    /// The sandbox (`*.staging.qonto.co`); every request carries `X-Qonto-Staging-Token`.
    Sandbox,
}

impl EnvironmentKind {
    /// Returns the stable lowercase name (`production` or `sandbox`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Sandbox => "sandbox",
        }
    }
}

impl std::fmt::Display for EnvironmentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EnvironmentKind {
    type Err = EnvironmentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Ok(Self::Production),
            "sandbox" | "staging" => Ok(Self::Sandbox),
            _ => Err(EnvironmentError::UnknownKind),
        }
    }
}

/// A validated base URL: `http` only on loopback, `https` elsewhere, no query, no trailing slash.
///
/// The scheme, authority and path prefix are kept parsed, so [`BaseUrl::join`] parses only
/// the path it is given (it runs once per request).
#[derive(Clone, Debug)]
pub struct BaseUrl {
    url: String,
    host: String,
    scheme: Scheme,
    authority: Authority,
    /// The path without its trailing slash; empty for a bare host.
    prefix: String,
}

impl PartialEq for BaseUrl {
    fn eq(&self, other: &Self) -> bool {
        // Everything else is derived from the text.
        self.url == other.url
    }
}

impl Eq for BaseUrl {}

impl BaseUrl {
    /// Parses and validates a base URL.
    ///
    /// # Errors
    ///
    /// [`EnvironmentError::InvalidBaseUrl`] when the text is not an absolute URL without query,
    /// and [`EnvironmentError::InsecureBaseUrl`] for plain `http` to a non-loopback host (the API
    /// must never receive credentials in clear text).
    pub fn parse(text: &str) -> Result<Self, EnvironmentError> {
        let invalid = |reason: &'static str| EnvironmentError::InvalidBaseUrl {
            url: text.to_owned(),
            reason,
        };
        let uri: Uri = text.trim().parse().map_err(|_| invalid("not a URL"))?;
        let scheme = uri
            .scheme()
            .ok_or_else(|| invalid("missing scheme"))?
            .clone();
        // Lowercase, without the root label's dot, so `QONTO.com.` compares as `qonto.com`.
        let host = uri
            .host()
            .ok_or_else(|| invalid("missing host"))?
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if uri.query().is_some() {
            return Err(invalid("a base URL takes no query"));
        }
        if scheme == Scheme::HTTP {
            if !is_loopback(&host) {
                return Err(EnvironmentError::InsecureBaseUrl {
                    url: text.to_owned(),
                });
            }
        } else if scheme != Scheme::HTTPS {
            return Err(invalid("scheme must be https (or http on loopback)"));
        }
        let prefix = uri.path().trim_end_matches('/').to_owned();
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("missing host"))?
            .clone();
        Ok(Self {
            url: format!("{scheme}://{authority}{prefix}"),
            host,
            scheme,
            authority,
            prefix,
        })
    }

    /// Returns the URL text without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Returns the lowercase host name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Joins a path (which must start with `/`) onto this base.
    ///
    /// # Errors
    ///
    /// [`EnvironmentError::InvalidPath`] when the path is not a plain absolute path: this
    /// keeps every request on the configured host.
    pub fn join(&self, path_and_query: &str) -> Result<Uri, EnvironmentError> {
        let invalid = || EnvironmentError::InvalidPath {
            path: path_and_query.to_owned(),
        };
        if !path_and_query.starts_with('/') || path_and_query.starts_with("//") {
            return Err(invalid());
        }
        let path = if self.prefix.is_empty() {
            path_and_query.parse::<PathAndQuery>()
        } else {
            format!("{}{path_and_query}", self.prefix).parse::<PathAndQuery>()
        }
        .map_err(|_| invalid())?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path);
        Uri::from_parts(parts).map_err(|_| invalid())
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// Returns true for `localhost`, `127.0.0.0/8` and `[::1]`.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The API and OAuth base URLs of an environment.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Endpoints {
    api: BaseUrl,
    oauth: BaseUrl,
}

impl Endpoints {
    /// Qonto's documented hosts for an environment.
    pub fn documented(kind: EnvironmentKind) -> Self {
        let (api, oauth) = match kind {
            EnvironmentKind::Production => {
                (facts::PRODUCTION_API_BASE, facts::PRODUCTION_OAUTH_BASE)
            }
            EnvironmentKind::Sandbox => (facts::SANDBOX_API_BASE, facts::SANDBOX_OAUTH_BASE),
        };
        Self::new(api, oauth).unwrap_or_else(|_| unreachable!("documented hosts are valid"))
    }

    /// Overridden base URLs, for a local mock or a proxy.
    ///
    /// # Errors
    ///
    /// Any error of [`BaseUrl::parse`].
    pub fn new(api_base: &str, oauth_base: &str) -> Result<Self, EnvironmentError> {
        Ok(Self {
            api: BaseUrl::parse(api_base)?,
            oauth: BaseUrl::parse(oauth_base)?,
        })
    }

    /// The Business API base URL.
    pub fn api(&self) -> &BaseUrl {
        &self.api
    }

    /// The OAuth base URL (authorize and token endpoints).
    pub fn oauth(&self) -> &BaseUrl {
        &self.oauth
    }

    /// The environment whose hosts these are, when they are Qonto's: any `qonto.com` host is
    /// production, any `staging.qonto.co` host the sandbox. Custom hosts (a mock, a proxy) have
    /// none.
    pub fn documented_kind(&self) -> Option<EnvironmentKind> {
        let kind_of = |host: &str| {
            let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
            if under("qonto.com") {
                Some(EnvironmentKind::Production)
            } else if under("staging.qonto.co") {
                Some(EnvironmentKind::Sandbox)
            } else {
                None
            }
        };
        kind_of(self.api.host()).or_else(|| kind_of(self.oauth.host()))
    }
}

/// A validated environment: its kind, its endpoints and, for the sandbox, the staging token.
///
/// Construction refuses the combinations that cannot work: a staging token in production, a
/// sandbox without one, or documented hosts of the other environment.
#[derive(Clone, Debug)]
pub struct Environment {
    kind: EnvironmentKind,
    endpoints: Endpoints,
    staging_token: Option<StagingToken>,
    organization_id: Option<OrganizationId>,
}

impl Environment {
    /// Production with its documented hosts.
    pub fn production() -> Self {
        let kind = EnvironmentKind::Production;
        Self {
            kind,
            endpoints: Endpoints::documented(kind),
            staging_token: None,
            organization_id: None,
        }
    }

    /// The sandbox with its documented hosts and the given staging token.
    ///
    /// # Errors
    ///
    /// [`EnvironmentError::EmptyStagingToken`] for an empty or blank token.
    pub fn sandbox(staging_token: StagingToken) -> Result<Self, EnvironmentError> {
        let kind = EnvironmentKind::Sandbox;
        Self::new(kind, Some(staging_token), Endpoints::documented(kind))
    }

    /// An environment with explicit endpoints (for example a local mock).
    ///
    /// # Errors
    ///
    /// [`EnvironmentError::StagingTokenInProduction`], [`EnvironmentError::MissingStagingToken`],
    /// [`EnvironmentError::EmptyStagingToken`], or [`EnvironmentError::HostMismatch`] when the
    /// endpoints are the documented hosts of the other environment.
    pub fn new(
        kind: EnvironmentKind,
        staging_token: Option<StagingToken>,
        endpoints: Endpoints,
    ) -> Result<Self, EnvironmentError> {
        match (kind, &staging_token) {
            (EnvironmentKind::Production, Some(_)) => {
                return Err(EnvironmentError::StagingTokenInProduction);
            }
            (EnvironmentKind::Sandbox, None) => return Err(EnvironmentError::MissingStagingToken),
            (EnvironmentKind::Sandbox, Some(token)) => {
                let value = token.expose_secret();
                if value.trim().is_empty() || value.trim() != value {
                    return Err(EnvironmentError::EmptyStagingToken);
                }
                if !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(EnvironmentError::StagingTokenCharacters);
                }
            }
            _ => {}
        }
        if let Some(documented) = endpoints.documented_kind() {
            if documented != kind {
                return Err(EnvironmentError::HostMismatch {
                    kind,
                    hosts_of: documented,
                });
            }
        }
        Ok(Self {
            kind,
            endpoints,
            staging_token,
            organization_id: None,
        })
    }

    /// Acts for one organization (the User OAuth flow): every API call then carries
    /// `X-Qonto-Organization-Id`, without which a user token gets 403.
    #[must_use]
    pub fn with_organization_id(mut self, id: OrganizationId) -> Self {
        self.organization_id = Some(id);
        self
    }

    /// Which environment this is.
    pub fn kind(&self) -> EnvironmentKind {
        self.kind
    }

    /// The base URLs requests go to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The staging token (sandbox only).
    pub fn staging_token(&self) -> Option<&StagingToken> {
        self.staging_token.as_ref()
    }

    /// The organization API calls act for (User OAuth flow), if set.
    pub fn organization_id(&self) -> Option<&OrganizationId> {
        self.organization_id.as_ref()
    }
}

/// An organization id for the User OAuth flow's `X-Qonto-Organization-Id` (a UUID in Qonto's
/// examples): 1 to 64 letters, digits and hyphens.
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
pub struct OrganizationId(String);

impl OrganizationId {
    /// Checks and wraps an organization id.
    ///
    /// # Errors
    ///
    /// [`EnvironmentError::InvalidOrganizationId`] for anything else.
    pub fn parse(id: &str) -> Result<Self, EnvironmentError> {
        let id = id.trim();
        let ok = (1..=64).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(EnvironmentError::InvalidOrganizationId)
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an environment or base URL was refused.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvironmentError {
    /// A staging token was given for production, which does not accept it.
    #[error(
        "a staging token was given for production: production does not accept it; \
         remove it or select the sandbox environment"
    )]
    StagingTokenInProduction,
    /// The sandbox needs a staging token on every request.
    #[error(
        "the sandbox needs a staging token: copy it from the Developer Portal \
         (your application's sandbox credentials)"
    )]
    MissingStagingToken,
    /// The staging token is empty or has surrounding whitespace.
    #[error("the staging token is empty or has surrounding whitespace")]
    EmptyStagingToken,
    /// The staging token holds characters a header cannot carry as typed (a control or
    /// non-ASCII character such as a zero-width space).
    #[error("the staging token contains a control or non-ASCII character: copy it again")]
    StagingTokenCharacters,
    /// The environment name is neither `production` nor `sandbox`.
    #[error("unknown environment: expected `production` or `sandbox`")]
    UnknownKind,
    /// An organization id that is not 1 to 64 letters, digits and hyphens.
    #[error("invalid organization id: expected 1 to 64 letters, digits and hyphens (a UUID)")]
    InvalidOrganizationId,
    /// The hosts are the documented hosts of the other environment.
    #[error("the {kind} environment is configured with the {hosts_of} hosts")]
    HostMismatch {
        /// The selected environment.
        kind: EnvironmentKind,
        /// The environment whose hosts were given.
        hosts_of: EnvironmentKind,
    },
    /// A base URL could not be used.
    #[error("invalid base URL `{url}`: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Plain `http` to a host other than loopback.
    #[error("refusing plain http to `{url}`: credentials would travel in clear text; use https")]
    InsecureBaseUrl {
        /// The URL as given.
        url: String,
    },
    /// A request path that is not a plain absolute path.
    #[error("invalid request path `{path}`: it must start with a single `/`")]
    InvalidPath {
        /// The path as given.
        path: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_hosts_match_the_reference() {
        let prod = Environment::production();
        assert_eq!(
            prod.endpoints().api().as_str(),
            "https://thirdparty.qonto.com"
        );
        assert_eq!(prod.endpoints().oauth().as_str(), "https://oauth.qonto.com");
        let sbx = Environment::sandbox(StagingToken::new("stg")).unwrap();
        assert_eq!(
            sbx.endpoints().api().host(),
            "thirdparty-sandbox.staging.qonto.co"
        );
        assert_eq!(
            sbx.endpoints().oauth().host(),
            "oauth-sandbox.staging.qonto.co"
        );
        assert!(sbx.staging_token().is_some());
    }

    #[test]
    fn production_refuses_a_staging_token_and_sandbox_requires_one() {
        let ep = Endpoints::documented(EnvironmentKind::Production);
        let err = Environment::new(
            EnvironmentKind::Production,
            Some(StagingToken::new("x")),
            ep,
        );
        assert_eq!(err.unwrap_err(), EnvironmentError::StagingTokenInProduction);
        let ep = Endpoints::documented(EnvironmentKind::Sandbox);
        let err = Environment::new(EnvironmentKind::Sandbox, None, ep.clone());
        assert_eq!(err.unwrap_err(), EnvironmentError::MissingStagingToken);
        let err = Environment::new(EnvironmentKind::Sandbox, Some(StagingToken::new(" x")), ep);
        assert_eq!(err.unwrap_err(), EnvironmentError::EmptyStagingToken);
    }

    #[test]
    fn hosts_of_the_other_environment_are_refused() {
        let err = Environment::new(
            EnvironmentKind::Sandbox,
            Some(StagingToken::new("x")),
            Endpoints::documented(EnvironmentKind::Production),
        );
        assert!(matches!(err, Err(EnvironmentError::HostMismatch { .. })));
    }

    #[test]
    fn overrides_allow_http_only_on_loopback() {
        let ep = Endpoints::new("http://127.0.0.1:8080/", "http://localhost:9000").unwrap();
        assert_eq!(ep.api().as_str(), "http://127.0.0.1:8080");
        assert!(Environment::new(EnvironmentKind::Production, None, ep).is_ok());
        assert!(matches!(
            BaseUrl::parse("http://proxy.example.com"),
            Err(EnvironmentError::InsecureBaseUrl { .. })
        ));
        assert!(BaseUrl::parse("https://proxy.example.com/prefix/").is_ok());
        assert!(BaseUrl::parse("ftp://x").is_err());
        assert!(BaseUrl::parse("https://x/?a=b").is_err());
        assert!(BaseUrl::parse("not a url").is_err());
        assert!(BaseUrl::parse("http://[::1]:1").is_ok());
    }

    #[test]
    fn join_keeps_requests_on_the_configured_host() {
        let base = BaseUrl::parse("https://proxy.example.com/prefix").unwrap();
        let uri = base.join("/v2/bank_accounts?page=2").unwrap();
        assert_eq!(
            uri.to_string(),
            "https://proxy.example.com/prefix/v2/bank_accounts?page=2"
        );
        for bad in ["v2/x", "//evil.example/x", "https://evil.example/x", "/a b"] {
            assert!(base.join(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn join_on_a_bare_host_is_the_base_followed_by_the_path() {
        for base in ["http://127.0.0.1:8080", "https://thirdparty.qonto.com/"] {
            let base = BaseUrl::parse(base).unwrap();
            for path in ["/", "/v2/organization", "/v2/x?a=1&b=%20"] {
                let uri = base.join(path).unwrap();
                assert_eq!(uri.to_string(), format!("{}{path}", base.as_str()));
                assert_eq!(uri.host(), Some(base.host()));
            }
        }
    }

    #[test]
    fn any_qonto_production_host_is_production_even_spelled_oddly() {
        for api in [
            "https://thirdparty.qonto.com.",
            "https://THIRDPARTY.qonto.com",
            "https://other.qonto.com",
        ] {
            let ep = Endpoints::new(api, "http://127.0.0.1:1").unwrap();
            assert_eq!(
                ep.documented_kind(),
                Some(EnvironmentKind::Production),
                "{api}"
            );
            let err = Environment::new(EnvironmentKind::Sandbox, Some(StagingToken::new("x")), ep);
            assert!(
                matches!(err, Err(EnvironmentError::HostMismatch { .. })),
                "{api}"
            );
        }
        let ep = Endpoints::new("https://notqonto.com", "https://proxy.example").unwrap();
        assert_eq!(ep.documented_kind(), None);
    }

    #[test]
    fn staging_tokens_must_be_sendable() {
        let ep = Endpoints::documented(EnvironmentKind::Sandbox);
        let err = Environment::new(
            EnvironmentKind::Sandbox,
            Some(StagingToken::new("ab\u{200b}c")),
            ep,
        );
        assert_eq!(err.unwrap_err(), EnvironmentError::StagingTokenCharacters);
    }

    #[test]
    fn kind_parses_names() {
        assert_eq!(
            "Sandbox".parse::<EnvironmentKind>().unwrap(),
            EnvironmentKind::Sandbox
        );
        assert_eq!(
            "prod".parse::<EnvironmentKind>().unwrap(),
            EnvironmentKind::Production
        );
        assert!("dev".parse::<EnvironmentKind>().is_err());
    }
}
