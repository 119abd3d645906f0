//! Every finding and error code, in one enum: the stable snake_case names that programs match
//! on and docs/troubleshooting.md explains. One code, one meaning.

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// A stable machine code of a finding or an error (snake_case on the wire and in docs).
        #[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The snake_case name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    /// The sandbox gate answered (OneLogin page or redirect): the staging token is missing or wrong.
    SandboxGate = "sandbox_gate",
    /// 401: the credentials were rejected.
    Unauthorized = "unauthorized",
    /// 403 naming a scope: the OAuth token lacks a scope the endpoint needs.
    MissingScope = "missing_scope",
    /// 403: the membership's role or the organization's plan does not allow it.
    Forbidden = "forbidden",
    /// 403 for a User OAuth flow call naming an organization the user did not consent for.
    OrganizationNotConsented = "organization_not_consented",
    /// 403 for a User OAuth flow call naming no organization.
    OrganizationHeaderMissing = "organization_header_missing",
    /// The stored consent is a User OAuth flow consent and no organization is set.
    OrganizationIdMissing = "organization_id_missing",
    /// An organization id that is not 1 to 64 letters, digits and hyphens.
    OrganizationIdInvalid = "organization_id_invalid",
    /// 404: wrong path or unknown resource.
    NotFound = "not_found",
    /// 400, 405, 409 or 422: Qonto refused the request itself.
    InvalidRequest = "invalid_request",
    /// 428: strong customer authentication is required.
    ScaRequired = "sca_required",
    /// The action was approved and its replay answered (a passing finding).
    ScaApproved = "sca_approved",
    /// The user denied the action in the Qonto app.
    ScaDenied = "sca_denied",
    /// No SCA decision before the session's deadline.
    ScaExpired = "sca_expired",
    /// SCA is needed and the user has no paired device (a 428 without a session token).
    ScaNotEnrolled = "sca_not_enrolled",
    /// The 428's session token cannot be used.
    ScaChallengeInvalid = "sca_challenge_invalid",
    /// The SCA session endpoint answered something unreadable.
    ScaSessionUnreadable = "sca_session_unreadable",
    /// The sms-otp method needs the one-time code.
    ScaOtpRequired = "sca_otp_required",
    /// An extra header or idempotency key is invalid, or one the library sets itself.
    RequestHeaderInvalid = "request_header_invalid",
    /// A request body does not serialize to JSON.
    RequestBodyInvalid = "request_body_invalid",
    /// 412: the SCA session cannot be used.
    ScaSessionUnusable = "sca_session_unusable",
    /// 429: rate limited.
    RateLimited = "rate_limited",
    /// 5xx: a failure on Qonto's side.
    ServerError = "server_error",
    /// A 3xx to anywhere but the sandbox gate.
    UnexpectedRedirect = "unexpected_redirect",
    /// A 2xx whose body is neither JSON nor the sandbox gate page.
    UnexpectedContent = "unexpected_content",
    /// Any other status.
    UnexpectedStatus = "unexpected_status",
    /// A refresh failed transiently (5xx, 429, network, store); it is retried later.
    RefreshFailedTransient = "refresh_failed_transient",
    /// The grant is gone (`invalid_grant`, 90 days, a lost refresh answer outside the grace window, not logged in): log in again.
    ReauthorizationRequired = "reauthorization_required",
    /// The OAuth client id, secret or URL is wrong.
    OauthMisconfigured = "oauth_misconfigured",
    /// A refresh gave new tokens that could not be saved.
    TokensNotSaved = "tokens_not_saved",
    /// A state machine was driven out of order (a bug in the driver).
    DriverMisuse = "driver_misuse",
    /// The request did not complete.
    NetworkError = "network_error",
    /// The token store failed.
    TokenStoreError = "token_store_error",
    /// Another holder kept the token store's refresh lock longer than the lock timeout.
    TokenStoreLockTimeout = "token_store_lock_timeout",
    /// The stored tokens are encrypted with a key id this process was not given.
    TokenStoreKeyMissing = "token_store_key_missing",
    /// The key given under the stored key id does not open the stored tokens (wrong key, or an altered or copied row).
    TokenStoreKeyRejected = "token_store_key_rejected",
    /// The token store's database cannot be reached or refused a statement.
    TokenStoreUnavailable = "token_store_unavailable",
    /// The token store's settings were refused (URL, table name, pool size, encryption key).
    TokenStoreConfigInvalid = "token_store_config_invalid",
    /// A connection id that is empty, longer than 200 bytes, or holds control characters.
    ConnectionIdInvalid = "connection_id_invalid",
    /// The path would leave the API host.
    RequestPathInvalid = "request_path_invalid",
    /// A credential holds characters an HTTP header cannot carry.
    CredentialUnencodable = "credential_unencodable",
    /// A successful answer could not be decoded.
    DecodeError = "decode_error",
    /// A listing was stopped by the page or item limit, or a server pointing backwards.
    PaginationStopped = "pagination_stopped",
    /// The response body exceeded the cap.
    BodyTooLarge = "body_too_large",
    /// The operation needs OAuth credentials.
    NotOauth = "not_oauth",
    /// The environment settings were refused.
    InvalidEnvironment = "invalid_environment",
    /// The API key is empty.
    ApiKeyEmpty = "api_key_empty",
    /// The API key has spaces or line breaks.
    ApiKeyWhitespace = "api_key_whitespace",
    /// The API key has a `Basic` or `Bearer` prefix.
    ApiKeySchemePrefix = "api_key_scheme_prefix",
    /// The API key is Base64-encoded.
    ApiKeyBase64 = "api_key_base64",
    /// The API key has no colon.
    ApiKeyMissingColon = "api_key_missing_colon",
    /// The API key's login is empty.
    ApiKeyEmptyLogin = "api_key_empty_login",
    /// The API key's secret is empty.
    ApiKeyEmptySecret = "api_key_empty_secret",
    /// The API key has more than one colon before the secret.
    ApiKeyColonInLogin = "api_key_colon_in_login",
    /// The API key's parts look swapped.
    ApiKeySwapped = "api_key_swapped",
    /// The API key holds characters a header cannot carry.
    ApiKeyInvalidCharacter = "api_key_invalid_character",
    /// The access token is empty.
    AccessTokenEmpty = "access_token_empty",
    /// The access token was given with its `Bearer ` prefix.
    AccessTokenBearerPrefix = "access_token_bearer_prefix",
    /// The access token has `Bearer` twice.
    AccessTokenDoubledBearer = "access_token_doubled_bearer",
    /// The access token has spaces or line breaks.
    AccessTokenWhitespace = "access_token_whitespace",
    /// A refresh token was given as the access token.
    AccessTokenIsRefreshToken = "access_token_is_refresh_token",
    /// An authorization code was given as the access token.
    AccessTokenIsAuthorizationCode = "access_token_is_authorization_code",
    /// An API key was given as the access token.
    AccessTokenIsApiKey = "access_token_is_api_key",
    /// The access token holds characters a header cannot carry.
    AccessTokenInvalidCharacter = "access_token_invalid_character",
    /// No credentials are configured.
    NoCredentials = "no_credentials",
    /// Only one of the login and the secret key was given.
    ApiKeyIncomplete = "api_key_incomplete",
    /// Check passed: OAuth tokens are stored.
    OauthTokensStored = "oauth_tokens_stored",
    /// Check passed: the API key has the form `login:secret-key`.
    ApiKeyFormatOk = "api_key_format_ok",
    /// Check passed: the access token has a plausible form.
    AccessTokenFormatOk = "access_token_format_ok",
    /// A staging token was given for production.
    StagingTokenInProduction = "staging_token_in_production",
    /// The sandbox needs a staging token and none was given.
    StagingTokenMissing = "staging_token_missing",
    /// The staging token holds invisible or non-ASCII characters.
    StagingTokenInvalidCharacter = "staging_token_invalid_character",
    /// The staging token is empty or has spaces or line breaks.
    StagingTokenWhitespace = "staging_token_whitespace",
    /// The environment is configured with the other environment's hosts.
    EnvironmentHostMismatch = "environment_host_mismatch",
    /// Information: custom base URLs are in use.
    CustomBaseUrl = "custom_base_url",
    /// A base URL is not an absolute https URL (http on loopback only).
    BaseUrlInvalid = "base_url_invalid",
    /// Check passed: the environment and hosts are consistent.
    EnvironmentOk = "environment_ok",
    /// Check passed: the probe answered with JSON.
    ProbeOk = "probe_ok",
    /// The probe was not sent because a local check failed.
    ProbeSkipped = "probe_skipped",
    /// The refresh token lapses soon.
    RefreshTokenExpiring = "refresh_token_expiring",
    /// No OAuth tokens are stored for the profile.
    NotLoggedIn = "not_logged_in",
    /// The token file is corrupt or unreadable.
    TokenStoreUnreadable = "token_store_unreadable",
    /// The profile names an environment that does not exist.
    UnknownEnvironment = "unknown_environment",
    /// The config file cannot be read.
    ConfigUnreadable = "config_unreadable",
    /// The OS keychain is needed (the CLI's default storage of secrets) and the machine has none.
    KeychainUnavailable = "keychain_unavailable",
    /// A profile of that name already exists.
    ProfileExists = "profile_exists",
    /// A file the command was asked to write (manual pages) could not be written.
    OutputUnwritable = "output_unwritable",
    /// The config file is not valid.
    ConfigInvalid = "config_invalid",
    /// The profile is not in the config file.
    ProfileNotFound = "profile_not_found",
    /// A profile name that cannot be a file name (`../x`, `/abs`, control characters).
    ProfileNameInvalid = "profile_name_invalid",
    /// A secret could not be read from standard input.
    StdinUnreadable = "stdin_unreadable",
    /// `qonto request` was given a method the API does not use.
    InvalidMethod = "invalid_method",
    /// `--data` is not JSON.
    InvalidJson = "invalid_json",
    /// No OAuth client is configured.
    OauthNotConfigured = "oauth_not_configured",
    /// The OAuth client secret is missing.
    ClientSecretMissing = "client_secret_missing",
    /// The OAuth client settings are invalid.
    OauthClientInvalid = "oauth_client_invalid",
    /// The system gave no randomness for the OAuth state.
    NoRandomness = "no_randomness",
    /// The redirect URI cannot be parsed.
    RedirectUriInvalid = "redirect_uri_invalid",
    /// The redirect URI is not a loopback http URL, so the callback cannot be received here.
    RedirectNotLoopback = "redirect_not_loopback",
    /// The callback port is in use.
    CallbackPortBusy = "callback_port_busy",
    /// The callback listener failed.
    CallbackListener = "callback_listener",
    /// The callback's state does not match (or is missing).
    CallbackStateMismatch = "callback_state_mismatch",
    /// The callback URL is not a valid authorization answer.
    CallbackInvalid = "callback_invalid",
    /// The user (or Qonto) denied the authorization.
    AuthorizationDenied = "authorization_denied",
    /// No callback came within the timeout.
    LoginTimeout = "login_timeout",
    /// The mock could not listen on the port.
    MockBindFailed = "mock_bind_failed",
    /// The demo's mocks could not start.
    MockStartFailed = "mock_start_failed",
    /// The `X-Qonto-Signature` header of a webhook cannot be parsed (no `t`, no `v1`, a bad value, too long).
    WebhookSignatureMalformed = "webhook_signature_malformed",
    /// No `v1` signature of a webhook matches its body under any of the webhook secrets.
    WebhookSignatureMismatch = "webhook_signature_mismatch",
    /// A webhook's signature time is older than the tolerance (5 minutes by default): a replay or a late delivery.
    WebhookSignatureTooOld = "webhook_signature_too_old",
    /// A webhook's signature time is further in the future than the tolerance: a clock is wrong.
    WebhookSignatureFromFuture = "webhook_signature_from_future",
    /// No webhook secret was given, or it is empty (an empty key would let anyone sign).
    WebhookSecretMissing = "webhook_secret_missing",
    /// The webhook secret file cannot be read, or is not UTF-8 text.
    WebhookSecretUnreadable = "webhook_secret_unreadable",
    /// The webhook body could not be read from standard input, or exceeds the cap (1 MiB).
    WebhookBodyUnreadable = "webhook_body_unreadable",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::Code;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} is used twice");
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{text}"
            );
        }
    }

    #[test]
    fn every_code_is_explained_in_the_troubleshooting_guide() {
        let guide = include_str!("../../../docs/troubleshooting.md");
        let missing: Vec<_> = Code::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|text| !guide.contains(&format!("`{text}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/troubleshooting.md lacks {missing:?}"
        );
    }
}
