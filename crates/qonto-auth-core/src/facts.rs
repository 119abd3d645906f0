//! Facts about Qonto's API that the core relies on, in one place.
//!
//! Each constant names its source in Qonto's documentation. Facts marked **UNCONFIRMED** are
//! hypotheses (seen in third-party code or inferred); they live here so that changing one is a
//! one-line edit.

use std::time::Duration;

/// Production Business API base URL.
pub const PRODUCTION_API_BASE: &str = "https://thirdparty.qonto.com";
/// Production OAuth host (authorize and token endpoints).
pub const PRODUCTION_OAUTH_BASE: &str = "https://oauth.qonto.com";
/// Sandbox Business API base URL.
pub const SANDBOX_API_BASE: &str = "https://thirdparty-sandbox.staging.qonto.co";
/// Sandbox OAuth host.
pub const SANDBOX_OAUTH_BASE: &str = "https://oauth-sandbox.staging.qonto.co";

/// Path of the browser authorization endpoint on the OAuth host.
pub const AUTHORIZE_PATH: &str = "/oauth2/auth";
/// Path of the token endpoint on the OAuth host.
pub const TOKEN_PATH: &str = "/oauth2/token";
/// Path (on the API host) that revokes the OAuth consents of the authenticated membership.
pub const CONSENTS_PATH: &str = "/v2/oauth2/consents";
/// Lists the organizations a User OAuth flow token was consented for.
pub const USER_ORGANIZATIONS_PATH: &str = "/v2/user_organizations";
/// The scope that lists them (User OAuth flow only).
pub const USER_ORGANIZATION_SCOPE: &str = "user_organization.read";
/// A word a 403 about the organization header carries in its `errors[]`.
/// **UNCONFIRMED**: Qonto documents the 403 for a missing or unconsented organization, not
/// its body; the classifier looks for this word in the error's code or detail.
pub const ORGANIZATION_403_HINT: &str = "organization";
/// Polls an SCA session: `GET /v2/sca_sessions/{token}` answers `waiting`, `allow` or `deny`.
pub const SCA_SESSION_PATH: &str = "/v2/sca_sessions/";
/// Polls a sandbox mock SCA session (`X-Qonto-2fa-Preference: mock`).
/// **UNCONFIRMED** whether the live path also answers for mock sessions; a peer polls this one.
pub const SCA_MOCKED_SESSION_PATH: &str = "/v2/mocked_sca_sessions/";
/// How long an SCA session token is usable (15 minutes).
pub const SCA_SESSION_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Polls of an SCA session at most this often (once a second).
pub const SCA_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The replay of an approved sensitive request carries the session token in this header.
pub const SCA_SESSION_HEADER: &str = "x-qonto-sca-session-token";
/// The SCA method chosen per request (`paired-device` by default).
pub const SCA_PREFERENCE_HEADER: &str = "x-qonto-2fa-preference";
/// The one-time code of the `sms-otp` method (Embed partners). **UNCONFIRMED** value format:
/// the bare code.
pub const SCA_OTP_HEADER: &str = "x-qonto-mfa";
/// The idempotency key of a write, kept by Qonto for 30 minutes.
pub const IDEMPOTENCY_HEADER: &str = "x-qonto-idempotency-key";
/// The probe the troubleshooting guide calls to check authentication.
pub const PROBE_PATH: &str = "/v2/bank_accounts";

/// The staging-token header, with the exact casing the documentation calls case-sensitive.
pub const STAGING_TOKEN_HEADER: &str = "X-Qonto-Staging-Token";
/// The gateway's trace id header; equal to the body's `trace_id` on errors.
pub const TRACE_ID_HEADER: &str = "x-tyk-trace-id";

/// Host of the OneLogin page the sandbox gate redirects to.
pub const ONELOGIN_HOST: &str = "qonto.onelogin.com";
/// Hosts of the developer portal the sandbox token endpoint may redirect to.
/// **UNCONFIRMED**: the documentation says "the developer portal" without a URL.
pub const DEVELOPER_PORTAL_HOSTS: &[&str] = &["developers.qonto.com", "sandbox.staging.qonto.co"];

/// Lifetime of an access token (1 hour).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Lifetime of a refresh token (90 days). **UNCONFIRMED** whether rotation restarts it; the
/// lifecycle assumes it does (each rotated token gets its own 90 days) and makes it configurable.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);
/// How long the previous refresh token keeps working after its first use (60 s).
pub const ROTATION_GRACE: Duration = Duration::from_secs(60);
/// Lifetime of an authorization code (10 minutes).
pub const AUTHORIZATION_CODE_LIFETIME: Duration = Duration::from_secs(600);
/// More than this many 401 responses within an hour trigger extra throttling.
pub const UNAUTHORIZED_THROTTLE_PER_HOUR: u32 = 200;

/// Prefix of Qonto access tokens (Ory Hydra).
pub const ACCESS_TOKEN_PREFIX: &str = "ory_at_";
/// Prefix of Qonto refresh tokens.
pub const REFRESH_TOKEN_PREFIX: &str = "ory_rt_";
/// Prefix of Qonto authorization codes.
pub const AUTHORIZATION_CODE_PREFIX: &str = "ory_ac_";

/// The header that signs a webhook delivery: `t=<unix seconds>,v1=<lowercase hex HMAC-SHA256
/// of "{t}.{raw body}" keyed with the subscription's secret>` (Qonto's webhook setup page).
pub const WEBHOOK_SIGNATURE_HEADER: &str = "X-Qonto-Signature";
/// How far a webhook's signature time may be from now (5 minutes, stated on the event pages).
pub const WEBHOOK_TOLERANCE: Duration = Duration::from_secs(5 * 60);
