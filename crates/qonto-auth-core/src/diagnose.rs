//! Diagnosis: from settings and a probe response to an ordered list of findings.
//!
//! This is what `qonto doctor` prints. [`check_settings`] runs the local checks (credential
//! format, environment and hosts) before any request; [`diagnose_response`] reads the answer
//! to the probe (`GET /v2/bank_accounts`). Both are pure.

use crate::codes::Code;
use http::{HeaderMap, StatusCode};

use crate::call::ScaError;
use crate::classify::{ApiError, ErrorKind, classify};
use crate::credentials::{check_access_token, check_api_key};
use crate::environment::{BaseUrl, Endpoints, EnvironmentError, EnvironmentKind};
use crate::header::AuthMethod;
use crate::lifecycle::RefreshError;
use crate::oauth::TokenResponseError;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
#[non_exhaustive]
pub enum Severity {
    /// The check passed.
    Pass,
    /// Worth knowing, not a problem.
    Info,
    /// Likely to cause trouble.
    Warn,
    /// Authentication cannot work until this is fixed.
    Fail,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// The family of a failing finding; the CLI maps each to its own exit code.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Family {
    /// Not a failure.
    None,
    /// The credential strings are malformed (caught before any request).
    CredentialFormat,
    /// Environment, hosts or other settings are inconsistent.
    Configuration,
    /// The server rejected the credentials (401/403).
    Rejected,
    /// The sandbox gate answered: staging token missing or wrong.
    SandboxGate,
    /// The request did not complete.
    Network,
    /// The server failed or throttled.
    Server,
}

/// One line of a diagnosis.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Finding {
    /// Stable snake_case code.
    pub code: Code,
    /// How bad it is.
    pub severity: Severity,
    /// The failure family (for exit codes).
    pub family: Family,
    /// What was found.
    pub message: String,
    /// What to do (empty for passes).
    pub fix: String,
    /// The trace id to give Qonto support, for findings about a response.
    pub trace_id: Option<String>,
}

impl Finding {
    fn new(
        code: Code,
        severity: Severity,
        family: Family,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity,
            family,
            message: message.into(),
            fix: fix.into(),
            trace_id: None,
        }
    }

    /// A failing finding with the trace id of the answer that showed it.
    fn failed(
        code: Code,
        family: Family,
        message: String,
        fix: &str,
        trace_id: Option<&str>,
    ) -> Self {
        Self {
            trace_id: trace_id.map(str::to_owned),
            ..Self::new(code, Severity::Fail, family, message, fix)
        }
    }

    fn pass(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Pass, Family::None, message, "")
    }

    /// A finding for a request that did not complete (connection refused, timeout, TLS).
    pub fn network(description: &str) -> Self {
        Self::new(
            Code::NetworkError,
            Severity::Fail,
            Family::Network,
            format!("the request did not complete: {description}"),
            "check the base URL, your network and proxy, then retry",
        )
    }
}

/// The credential as the user gave it, unparsed, so each mistake can be reported.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum CredentialInput<'a> {
    /// A `login:secret` API key string.
    ApiKey(&'a str),
    /// An OAuth access token string.
    AccessToken(&'a str),
    /// Stored OAuth tokens (already checked when stored).
    StoredOAuth,
    /// Nothing was configured.
    Missing,
}

impl CredentialInput<'_> {
    /// The authentication method, if any.
    pub fn method(&self) -> Option<AuthMethod> {
        match self {
            Self::ApiKey(_) => Some(AuthMethod::ApiKey),
            Self::AccessToken(_) | Self::StoredOAuth => Some(AuthMethod::OAuth),
            Self::Missing => None,
        }
    }
}

/// The settings to check, as given (flags, environment, profile).
#[derive(Clone, Copy)]
pub struct Settings<'a> {
    /// The selected environment.
    pub kind: EnvironmentKind,
    /// The staging token, if one was given (its value is only checked for shape).
    pub staging_token_given: Option<&'a str>,
    /// An API base URL override.
    pub api_base: Option<&'a str>,
    /// An OAuth base URL override.
    pub oauth_base: Option<&'a str>,
    /// The credential.
    pub credential: CredentialInput<'a>,
}

impl std::fmt::Debug for Settings<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("kind", &self.kind)
            .field(
                "staging_token_given",
                &self.staging_token_given.map(|_| "[redacted]"),
            )
            .field("api_base", &self.api_base)
            .field("oauth_base", &self.oauth_base)
            .field("credential", &self.credential)
            .finish()
    }
}

impl std::fmt::Debug for CredentialInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ApiKey(_) => "ApiKey([redacted])",
            Self::AccessToken(_) => "AccessToken([redacted])",
            Self::StoredOAuth => "StoredOAuth",
            Self::Missing => "Missing",
        })
    }
}

/// Runs the local checks, in order: credential format, then environment and hosts.
pub fn check_settings(settings: &Settings<'_>) -> Vec<Finding> {
    let mut findings = credential_findings(settings.credential);
    findings.extend(environment_findings(settings));
    findings
}

fn credential_findings(credential: CredentialInput<'_>) -> Vec<Finding> {
    let fail = |code, message: String, fix: &str| {
        Finding::new(code, Severity::Fail, Family::CredentialFormat, message, fix)
    };
    match credential {
        CredentialInput::Missing => vec![fail(
            Code::NoCredentials,
            "no credentials configured".into(),
            "give an API key (`--api-key` or QONTO_API_KEY) or log in with `qonto auth login`",
        )],
        CredentialInput::StoredOAuth => vec![Finding::pass(
            Code::OauthTokensStored,
            "OAuth tokens are stored",
        )],
        CredentialInput::ApiKey(raw) => {
            let problems = check_api_key(raw);
            if problems.is_empty() {
                return vec![Finding::pass(
                    Code::ApiKeyFormatOk,
                    "the API key has the form `login:secret-key`",
                )];
            }
            problems
                .into_iter()
                .map(|p| fail(p.code(), p.to_string(), "copy `login:secret-key` from the web app: Integrations and Partnerships > API key"))
                .collect()
        }
        CredentialInput::AccessToken(raw) => {
            let problems = check_access_token(raw);
            if problems.is_empty() {
                return vec![Finding::pass(
                    Code::AccessTokenFormatOk,
                    "the access token has a plausible form",
                )];
            }
            problems
                .into_iter()
                .map(|p| {
                    fail(
                        p.code(),
                        p.to_string(),
                        "give the `access_token` value of the token response, alone",
                    )
                })
                .collect()
        }
    }
}

fn environment_findings(settings: &Settings<'_>) -> Vec<Finding> {
    let config = |code, message: String, fix: &str| {
        Finding::new(code, Severity::Fail, Family::Configuration, message, fix)
    };
    let mut findings = Vec::new();
    match (settings.kind, settings.staging_token_given) {
        (EnvironmentKind::Production, Some(_)) => findings.push(config(
            Code::StagingTokenInProduction,
            EnvironmentError::StagingTokenInProduction.to_string(),
            "remove the staging token, or select `--env sandbox`",
        )),
        (EnvironmentKind::Sandbox, None) => findings.push(Finding::new(
            Code::StagingTokenMissing,
            Severity::Fail,
            Family::SandboxGate,
            EnvironmentError::MissingStagingToken.to_string(),
            "set `--staging-token` or QONTO_STAGING_TOKEN",
        )),
        (EnvironmentKind::Sandbox, Some(token))
            if !token.is_empty()
                && token.trim() == token
                && !token.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            findings.push(Finding::new(
                Code::StagingTokenInvalidCharacter,
                Severity::Fail,
                Family::SandboxGate,
                EnvironmentError::StagingTokenCharacters.to_string(),
                "copy the staging token again from the Developer Portal, as plain text",
            ));
        }
        (EnvironmentKind::Sandbox, Some(token))
            if token.trim().is_empty() || token.trim() != token =>
        {
            findings.push(Finding::new(
                Code::StagingTokenWhitespace,
                Severity::Fail,
                Family::SandboxGate,
                EnvironmentError::EmptyStagingToken.to_string(),
                "copy the staging token again, without spaces or line breaks",
            ));
        }
        _ => {}
    }
    let documented = Endpoints::documented(settings.kind);
    let api = settings
        .api_base
        .map_or_else(|| Ok(documented.api().clone()), BaseUrl::parse);
    let oauth = settings
        .oauth_base
        .map_or_else(|| Ok(documented.oauth().clone()), BaseUrl::parse);
    match (api, oauth) {
        (Ok(api), Ok(oauth)) => {
            let endpoints = Endpoints::new(api.as_str(), oauth.as_str());
            let other = endpoints
                .ok()
                .and_then(|e| e.documented_kind())
                .filter(|k| *k != settings.kind);
            if let Some(other) = other {
                findings.push(config(
                    Code::EnvironmentHostMismatch,
                    format!(
                        "the {} environment is configured with the {other} hosts",
                        settings.kind
                    ),
                    "select the environment the hosts belong to, or remove the base URL override",
                ));
            } else if settings.api_base.is_some() || settings.oauth_base.is_some() {
                findings.push(Finding::new(
                    Code::CustomBaseUrl,
                    Severity::Info,
                    Family::None,
                    format!("using custom base URLs: API {api}, OAuth {oauth}"),
                    "",
                ));
            }
        }
        (Err(error), _) | (_, Err(error)) => {
            findings.push(config(
                Code::BaseUrlInvalid,
                error.to_string(),
                "give an absolute https URL",
            ));
        }
    }
    if findings.iter().all(|f| f.severity < Severity::Warn) {
        findings.push(Finding::pass(
            Code::EnvironmentOk,
            format!("environment {} with consistent hosts", settings.kind),
        ));
    }
    findings
}

/// Reads the probe's answer: one finding, with the fix and the trace id.
pub fn diagnose_response(
    method: Option<AuthMethod>,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Finding {
    match classify(status, headers, body).into_result() {
        Ok(()) => Finding::pass(
            Code::ProbeOk,
            format!("GET /v2/bank_accounts answered {status} with JSON"),
        ),
        Err(error) => finding_for_api_error(method, &error),
    }
}

/// The finding for a classified API failure (what [`diagnose_response`] reports).
pub fn finding_for_api_error(method: Option<AuthMethod>, error: &ApiError) -> Finding {
    let family = match &error.kind {
        ErrorKind::SandboxGate(_) => Family::SandboxGate,
        ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::MissingScope => {
            Family::Rejected
        }
        ErrorKind::OrganizationNotConsented | ErrorKind::OrganizationMissing => {
            Family::Configuration
        }
        ErrorKind::RateLimited { .. } | ErrorKind::Server => Family::Server,
        _ => Family::Configuration,
    };
    let mut message = error.kind.message();
    if let Some(detail) = error.details.iter().find_map(|d| d.detail.as_deref()) {
        message = format!("{message}: {detail}");
    }
    Finding {
        code: error.kind.code(),
        severity: Severity::Fail,
        family,
        message,
        fix: error.kind.fix(method).to_owned(),
        trace_id: error.trace_id.clone(),
    }
}

/// The finding for an OAuth token failure (no usable token could be had).
pub fn finding_for_refresh_error(error: &RefreshError) -> Finding {
    let (family, fix) = match error {
        RefreshError::ReauthRequired(_) => (Family::Rejected, "log in again: `qonto auth login`"),
        RefreshError::Misconfigured(TokenResponseError::SandboxGate { .. }) => (
            Family::SandboxGate,
            ErrorKind::SandboxGate(crate::classify::GateSignal::HtmlPage).fix(None),
        ),
        RefreshError::Misconfigured(_) | RefreshError::InvalidRequest(_) => (
            Family::Configuration,
            "check the OAuth client id and secret (Developer Portal) and the OAuth base URL",
        ),
        RefreshError::NotSaved(_) => (
            Family::Server,
            "make the token store writable again (disk space, permissions of its directory), \
             then run any command within about a minute: it retries the refresh once and saves \
             the tokens; after that, run `qonto auth login`",
        ),
        _ => (
            Family::Server,
            "retry later; if it persists, check the network and Qonto's status",
        ),
    };
    Finding::failed(
        error.code(),
        family,
        error.to_string(),
        fix,
        error.trace_id(),
    )
}

/// The passing finding for a write that was approved and replayed, answered `status`.
pub fn finding_for_sca_approval(status: u16) -> Finding {
    Finding::pass(
        Code::ScaApproved,
        format!("approved in the Qonto app and replayed with the session token: {status}"),
    )
}

/// The finding for a call that needed strong customer authentication and did not get it.
///
/// A refusal or an expiry is the user's answer ([`Family::Rejected`]); no paired device and a
/// missing one-time code are set-up problems ([`Family::Configuration`]); a challenge or a
/// session answer that cannot be read is the server's ([`Family::Server`]).
pub fn finding_for_sca_error(error: &ScaError) -> Finding {
    let (family, fix) = match error {
        ScaError::Denied { .. } => (
            Family::Rejected,
            "the action was refused in the Qonto app; run it again if it is wanted, and approve \
             the notification",
        ),
        ScaError::Expired { .. } => (
            Family::Rejected,
            "run the action again and approve it in the Qonto app within 15 minutes (or the \
             wait you set); nothing was executed",
        ),
        ScaError::NotEnrolled { .. } => (
            Family::Configuration,
            "pair a phone with the user's Qonto app, or choose another method \
             (`X-Qonto-2fa-Preference: passkey`; in the sandbox, `mock`)",
        ),
        ScaError::OtpRequired => (
            Family::Configuration,
            "give the one-time code the user received by SMS to the call's resume step",
        ),
        _ => (
            Family::Server,
            "Qonto's answer could not be used; run the action again, and report the trace id to \
             Qonto if it persists",
        ),
    };
    Finding::failed(
        error.code(),
        family,
        error.to_string(),
        fix,
        error.trace_id(),
    )
}

/// The family of the first failing finding (checks run in order, so the first failure is the
/// one to fix first), or [`Family::None`].
pub fn worst_family(findings: &[Finding]) -> Family {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .map(|f| f.family)
        .next()
        .unwrap_or(Family::None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn settings(kind: EnvironmentKind, credential: CredentialInput<'static>) -> Settings<'static> {
        Settings {
            kind,
            staging_token_given: None,
            api_base: None,
            oauth_base: None,
            credential,
        }
    }

    fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn a_good_production_setup_passes() {
        let s = settings(
            EnvironmentKind::Production,
            CredentialInput::ApiKey("org-1:abc"),
        );
        let findings = check_settings(&s);
        assert_eq!(codes(&findings), ["api_key_format_ok", "environment_ok"]);
        assert_eq!(worst_family(&findings), Family::None);
    }

    #[test]
    fn each_credential_mistake_is_its_own_finding() {
        let s = settings(
            EnvironmentKind::Production,
            CredentialInput::ApiKey(" Bearer org-1:abc"),
        );
        let findings = check_settings(&s);
        assert_eq!(
            codes(&findings)[..2],
            ["api_key_whitespace", "api_key_scheme_prefix"]
        );
        assert_eq!(worst_family(&findings), Family::CredentialFormat);
        let s = settings(
            EnvironmentKind::Production,
            CredentialInput::AccessToken("ory_rt_x"),
        );
        assert_eq!(
            codes(&check_settings(&s))[0],
            "access_token_is_refresh_token"
        );
        let s = settings(EnvironmentKind::Production, CredentialInput::Missing);
        assert_eq!(codes(&check_settings(&s))[0], "no_credentials");
    }

    #[test]
    fn environment_and_host_consistency() {
        let mut s = settings(
            EnvironmentKind::Sandbox,
            CredentialInput::ApiKey("org-1:abc"),
        );
        assert!(codes(&check_settings(&s)).contains(&"staging_token_missing"));
        s.staging_token_given = Some("to\u{200b}k");
        assert!(codes(&check_settings(&s)).contains(&"staging_token_invalid_character"));
        s.staging_token_given = Some("tok");
        s.api_base = Some("https://thirdparty.qonto.com");
        assert!(codes(&check_settings(&s)).contains(&"environment_host_mismatch"));
        s.api_base = Some("http://127.0.0.1:8080");
        s.oauth_base = Some("http://127.0.0.1:8080");
        assert_eq!(
            codes(&check_settings(&s))[1..],
            ["custom_base_url", "environment_ok"]
        );
        let mut p = settings(
            EnvironmentKind::Production,
            CredentialInput::ApiKey("org-1:abc"),
        );
        p.staging_token_given = Some("tok");
        assert!(codes(&check_settings(&p)).contains(&"staging_token_in_production"));
        p.staging_token_given = None;
        p.api_base = Some("http://example.com");
        assert!(codes(&check_settings(&p)).contains(&"base_url_invalid"));
    }

    #[test]
    fn probe_answers_become_findings_with_trace_ids() {
        let mut headers = HeaderMap::new();
        headers.insert("x-tyk-trace-id", HeaderValue::from_static("t-1"));
        let f = diagnose_response(
            Some(AuthMethod::ApiKey),
            StatusCode::UNAUTHORIZED,
            &headers,
            b"{}",
        );
        assert_eq!(
            (f.code.as_str(), f.family),
            ("unauthorized", Family::Rejected)
        );
        assert_eq!(f.trace_id.as_deref(), Some("t-1"));
        assert!(f.fix.contains("colon"));
        let f = diagnose_response(None, StatusCode::OK, &headers, b"<!doctype html>");
        assert_eq!(
            (f.code.as_str(), f.family),
            ("sandbox_gate", Family::SandboxGate)
        );
        let f = diagnose_response(None, StatusCode::OK, &HeaderMap::new(), b"{}");
        assert_eq!((f.code.as_str(), f.severity), ("probe_ok", Severity::Pass));
        assert_eq!(Finding::network("refused").family, Family::Network);
    }

    #[test]
    fn token_failures_map_to_families_and_fixes() {
        use crate::lifecycle::ReauthReason;
        let f = finding_for_refresh_error(&RefreshError::ReauthRequired(ReauthReason::NotLoggedIn));
        assert_eq!(
            (f.code.as_str(), f.family),
            ("reauthorization_required", Family::Rejected)
        );
        assert!(f.fix.contains("qonto auth login"));
        let gate = TokenResponseError::SandboxGate {
            signal: crate::classify::GateSignal::RedirectToDeveloperPortal,
            trace_id: None,
        };
        let f = finding_for_refresh_error(&RefreshError::Misconfigured(gate));
        assert_eq!(
            (f.code.as_str(), f.family),
            ("sandbox_gate", Family::SandboxGate)
        );
    }
}
