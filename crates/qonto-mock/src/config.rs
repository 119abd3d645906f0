//! Server configuration: environment mode, gates, credentials, lifetimes, limits.

use std::net::SocketAddr;
use std::time::Duration;

use crate::org::Organization;
use crate::rate::{RateLimit, RetryAfter, UnauthorizedThrottle};
use crate::writes::ScaSetup;

/// Login of the demo API key in [`MockConfig::default`].
pub const DEMO_LOGIN: &str = "demo-org-1234";
/// Secret of the demo API key in [`MockConfig::default`].
pub const DEMO_SECRET: &str = "0123456789abcdef0123456789abcdef";
/// Client id of the demo OAuth client in [`MockConfig::default`].
pub const DEMO_CLIENT_ID: &str = "8f14e45f-ceea-4e7a-9c1b-3d2a6b5c4e01";
/// Client secret of the demo OAuth client in [`MockConfig::default`].
pub const DEMO_CLIENT_SECRET: &str = "demo-client-secret-do-not-use";
/// First registered redirect URI of the demo OAuth client.
pub const DEMO_REDIRECT_URI: &str = "http://localhost:18920/callback";
/// Scopes the demo OAuth client may request.
pub const DEMO_SCOPES: &[&str] = &[
    "offline_access",
    "openid",
    "organization.read",
    "membership.read",
    "payment.write",
    "user_organization.read",
];
/// Exact on-the-wire name of the sandbox header.
pub const STAGING_HEADER: &str = "X-Qonto-Staging-Token";

/// Which Qonto environment the mock imitates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Production: no staging token expected (see [`StagingInProduction`]).
    Production,
    /// Sandbox: every request needs `X-Qonto-Staging-Token` with this value, else the gate.
    Sandbox {
        /// The staging token the mock accepts.
        staging_token: String,
    },
}

/// What a sandbox request without a valid staging token gets (Qonto documents both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gate {
    /// `200` with the OneLogin HTML login page.
    #[default]
    HtmlPage,
    /// `302` to `https://qonto.onelogin.com/login`.
    RedirectToOneLogin,
}

/// What a sandbox token-endpoint request without a valid staging token gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenGate {
    /// `302` to `https://developers.qonto.com/` (documented for the token endpoint).
    #[default]
    RedirectToDeveloperPortal,
    /// The same answer as the API gate ([`Gate`]).
    SameAsApi,
}

/// What production does with a request that carries a staging token (UNCONFIRMED upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StagingInProduction {
    /// `401` JSON error with code `staging_token_not_accepted`.
    #[default]
    Reject,
    /// The header is ignored.
    Ignore,
}

/// A registered OAuth client (a Developer Portal application).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// Client id.
    pub client_id: String,
    /// Client secret, sent in the token request body.
    pub client_secret: String,
    /// Registered redirect URIs; `redirect_uri` must match one exactly.
    pub redirect_uris: Vec<String>,
    /// Scopes this client may request.
    pub allowed_scopes: Vec<String>,
}

impl OAuthClient {
    /// The demo client of [`MockConfig::default`].
    pub fn demo() -> Self {
        Self {
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: DEMO_CLIENT_SECRET.to_owned(),
            redirect_uris: vec![
                DEMO_REDIRECT_URI.to_owned(),
                "http://127.0.0.1:18920/callback".to_owned(),
            ],
            allowed_scopes: DEMO_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// Everything that shapes the mock's behaviour. Fields are public; the `with_*` methods are
/// shortcuts for chaining.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Production or sandbox.
    pub mode: Mode,
    /// Sandbox gate for every path except the token endpoint.
    pub api_gate: Gate,
    /// Sandbox gate for `/oauth2/token`.
    pub token_gate: TokenGate,
    /// When true, a staging header whose name is not exactly `X-Qonto-Staging-Token` on the
    /// wire counts as missing.
    pub strict_header_case: bool,
    /// Production's answer to a request carrying a staging token.
    pub staging_in_production: StagingInProduction,
    /// In sandbox, whether the browser pages (`/oauth2/auth` and its approve/deny links) need
    /// a Sandbox web-app session opened through the Developer Portal, as Qonto documents: a
    /// browser cannot send the staging header, so it visits
    /// [`PORTAL_LOGIN_PATH`](crate::PORTAL_LOGIN_PATH) first, which sets the session cookie. A
    /// request carrying the right staging header passes too. Without either, the page asks the
    /// user to log in through the Developer Portal. Default true; false opens the pages to
    /// anyone.
    pub authorize_requires_portal_session: bool,
    /// Accepted API keys as `(login, secret)`.
    pub api_keys: Vec<(String, String)>,
    /// Registered OAuth clients.
    pub clients: Vec<OAuthClient>,
    /// Access-token lifetime (`expires_in`). Default 3600 s.
    pub access_token_lifetime: Duration,
    /// How long a refresh token keeps working after its first use. Default 60 s.
    pub refresh_grace: Duration,
    /// Refresh-token lifetime from issue. Default 90 days.
    pub refresh_token_lifetime: Duration,
    /// Authorization-code lifetime. Default 10 minutes.
    pub authorization_code_lifetime: Duration,
    /// When true, `/oauth2/auth` redirects straight to the callback with a code.
    pub auto_approve: bool,
    /// Request windows per client IP address; each applies. Empty (default) means unlimited;
    /// [`with_qonto_rate_limits`](Self::with_qonto_rate_limits) sets Qonto's two.
    pub rate_limits: Vec<RateLimit>,
    /// Throttling after too many 401 answers to one address; `None` (default) means none.
    pub unauthorized_throttle: Option<UnauthorizedThrottle>,
    /// Whether a 429 carries `Retry-After`; default [`RetryAfter::Omit`], as Qonto documents
    /// no such header.
    pub retry_after: RetryAfter,
    /// Address to bind; `None` means `127.0.0.1:0`.
    pub bind: Option<SocketAddr>,
    /// Data served by the business endpoints.
    pub organization: Organization,
    /// How `POST /v2/sepa/transfers` plays strong customer authentication.
    pub sca: ScaSetup,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Production,
            api_gate: Gate::default(),
            token_gate: TokenGate::default(),
            strict_header_case: false,
            staging_in_production: StagingInProduction::default(),
            authorize_requires_portal_session: true,
            api_keys: vec![(DEMO_LOGIN.to_owned(), DEMO_SECRET.to_owned())],
            clients: vec![OAuthClient::demo()],
            access_token_lifetime: Duration::from_secs(3600),
            refresh_grace: Duration::from_secs(60),
            refresh_token_lifetime: Duration::from_secs(90 * 24 * 3600),
            authorization_code_lifetime: Duration::from_secs(600),
            auto_approve: false,
            rate_limits: Vec::new(),
            unauthorized_throttle: None,
            retry_after: RetryAfter::Omit,
            bind: None,
            organization: Organization::demo(),
            sca: ScaSetup::default(),
        }
    }
}

impl MockConfig {
    /// The default configuration in sandbox mode with the given staging token.
    pub fn sandbox(staging_token: impl Into<String>) -> Self {
        Self::default().with_mode(Mode::Sandbox {
            staging_token: staging_token.into(),
        })
    }

    /// Sets [`mode`](Self::mode).
    #[must_use]
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets [`api_gate`](Self::api_gate).
    #[must_use]
    pub fn with_api_gate(mut self, gate: Gate) -> Self {
        self.api_gate = gate;
        self
    }

    /// Sets [`token_gate`](Self::token_gate).
    #[must_use]
    pub fn with_token_gate(mut self, gate: TokenGate) -> Self {
        self.token_gate = gate;
        self
    }

    /// Sets [`strict_header_case`](Self::strict_header_case).
    #[must_use]
    pub fn with_strict_header_case(mut self, strict: bool) -> Self {
        self.strict_header_case = strict;
        self
    }

    /// Sets [`staging_in_production`](Self::staging_in_production).
    #[must_use]
    pub fn with_staging_in_production(mut self, policy: StagingInProduction) -> Self {
        self.staging_in_production = policy;
        self
    }

    /// Sets [`authorize_requires_portal_session`](Self::authorize_requires_portal_session).
    #[must_use]
    pub fn with_authorize_requires_portal_session(mut self, required: bool) -> Self {
        self.authorize_requires_portal_session = required;
        self
    }

    /// Adds an accepted API key.
    #[must_use]
    pub fn with_api_key(mut self, login: impl Into<String>, secret: impl Into<String>) -> Self {
        self.api_keys.push((login.into(), secret.into()));
        self
    }

    /// Adds an OAuth client.
    #[must_use]
    pub fn with_client(mut self, client: OAuthClient) -> Self {
        self.clients.push(client);
        self
    }

    /// Sets [`access_token_lifetime`](Self::access_token_lifetime).
    #[must_use]
    pub fn with_access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Sets [`refresh_grace`](Self::refresh_grace).
    #[must_use]
    pub fn with_refresh_grace(mut self, grace: Duration) -> Self {
        self.refresh_grace = grace;
        self
    }

    /// Sets [`refresh_token_lifetime`](Self::refresh_token_lifetime).
    #[must_use]
    pub fn with_refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// Sets [`auto_approve`](Self::auto_approve).
    #[must_use]
    pub fn with_auto_approve(mut self, auto: bool) -> Self {
        self.auto_approve = auto;
        self
    }

    /// Adds a request window to [`rate_limits`](Self::rate_limits).
    #[must_use]
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limits.push(limit);
        self
    }

    /// Qonto's documented limits per IP address: 1,000 requests per 10 s, 10,000 per 10 min,
    /// and throttling after more than 200 401s within an hour.
    #[must_use]
    pub fn with_qonto_rate_limits(mut self) -> Self {
        self.rate_limits = vec![RateLimit::qonto(), RateLimit::qonto_long()];
        self.unauthorized_throttle = Some(UnauthorizedThrottle::qonto());
        self
    }

    /// Sets [`unauthorized_throttle`](Self::unauthorized_throttle).
    #[must_use]
    pub fn with_unauthorized_throttle(mut self, throttle: UnauthorizedThrottle) -> Self {
        self.unauthorized_throttle = Some(throttle);
        self
    }

    /// Sets [`retry_after`](Self::retry_after).
    #[must_use]
    pub fn with_retry_after(mut self, retry_after: RetryAfter) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Sets [`bind`](Self::bind).
    #[must_use]
    pub fn with_bind(mut self, addr: SocketAddr) -> Self {
        self.bind = Some(addr);
        self
    }

    /// Sets [`organization`](Self::organization).
    #[must_use]
    pub fn with_organization(mut self, organization: Organization) -> Self {
        self.organization = organization;
        self
    }

    /// Sets [`sca`](Self::sca).
    #[must_use]
    pub fn with_sca(mut self, sca: ScaSetup) -> Self {
        self.sca = sca;
        self
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<&OAuthClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }
}
