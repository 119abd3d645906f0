//! `qonto demo`: doctor through every case of the troubleshooting guide, against built-in
//! mocks, with no account needed.

use qonto_auth_core::Code;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use qonto_auth_core::EnvironmentKind;
use qonto_auth_core::diagnose::worst_family;
use qonto_mock::{
    DEMO_CLIENT_ID, DEMO_LOGIN, DEMO_SECRET, Gate, MockConfig, MockServer, RateLimit,
};
use serde_json::json;

use crate::cli::Output;
use crate::doctor;
use crate::failure::{Failure, exit, exit_code};
use crate::output::{print_json, report_json, write_checklist};
use crate::secret::Secret;
use crate::settings::{Credential, Resolved};

const STAGING: &str = "demo-staging-token";

struct Scenario {
    title: &'static str,
    resolved: Resolved,
    expected_exit: u8,
}

struct Mocks {
    production: MockServer,
    sandbox_html: MockServer,
    sandbox_redirect: MockServer,
    rate_limited: MockServer,
    /// Holds a User OAuth flow consent (its clock is not moved).
    user_flow: MockServer,
}

impl Mocks {
    fn start() -> Result<Self, Failure> {
        let start = |config| {
            MockServer::start(config).map_err(|e| {
                Failure::configuration(
                    Code::MockStartFailed,
                    e.to_string(),
                    "check that loopback networking works",
                )
            })
        };
        Ok(Self {
            production: start(MockConfig::default())?,
            sandbox_html: start(MockConfig::sandbox(STAGING).with_api_gate(Gate::HtmlPage))?,
            sandbox_redirect: start(
                MockConfig::sandbox(STAGING).with_api_gate(Gate::RedirectToOneLogin),
            )?,
            user_flow: start(MockConfig::default())?,
            rate_limited: start(MockConfig::default().with_rate_limit(RateLimit {
                max_requests: 1,
                window: Duration::from_secs(10),
            }))?,
        })
    }
}

fn resolved(
    mock: &MockServer,
    kind: EnvironmentKind,
    staging: Option<&str>,
    credential: Credential,
) -> Resolved {
    Resolved {
        kind,
        staging_token: staging.map(|s| Secret::new(s.to_owned())),
        api_base: Some(mock.url()),
        oauth_base: Some(mock.url()),
        credential,
        organization_id: None,
        profile: "demo".into(),
        config_dir: PathBuf::from("."),
    }
}

fn key(raw: impl Into<String>) -> Credential {
    Credential::ApiKey(Secret::new(raw.into()))
}

fn scenarios(mocks: &Mocks) -> Vec<Scenario> {
    use EnvironmentKind::{Production, Sandbox};
    let good = format!("{DEMO_LOGIN}:{DEMO_SECRET}");
    let prod = |credential| resolved(&mocks.production, Production, None, credential);
    let expired = {
        let issued = mocks
            .production
            .issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
        issued.access_token
    };
    let refresh = mocks
        .production
        .issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read")
        .refresh_token
        .unwrap_or_default();
    let user_token = mocks
        .user_flow
        .issue_tokens(
            DEMO_CLIENT_ID,
            "offline_access organization.read user_organization.read",
        )
        .access_token;
    let user = |organization_id: Option<&str>| Resolved {
        organization_id: organization_id.map(str::to_owned),
        ..resolved(
            &mocks.user_flow,
            Production,
            None,
            Credential::AccessToken(Secret::new(user_token.clone())),
        )
    };
    let scenario = |title, resolved, expected_exit| Scenario {
        title,
        resolved,
        expected_exit,
    };
    vec![
        scenario(
            "Everything right: API key in production",
            prod(key(good.clone())),
            exit::OK,
        ),
        scenario(
            "Sandbox, right staging token",
            resolved(
                &mocks.sandbox_html,
                Sandbox,
                Some(STAGING),
                key(good.clone()),
            ),
            exit::OK,
        ),
        scenario(
            "Sandbox, wrong staging token: HTML OneLogin page with status 200",
            resolved(
                &mocks.sandbox_html,
                Sandbox,
                Some("not-my-token"),
                key(good.clone()),
            ),
            exit::SANDBOX_GATE,
        ),
        scenario(
            "Sandbox, wrong staging token: 302 redirect to qonto.onelogin.com",
            resolved(
                &mocks.sandbox_redirect,
                Sandbox,
                Some("not-my-token"),
                key(good.clone()),
            ),
            exit::SANDBOX_GATE,
        ),
        scenario(
            "Sandbox selected, no staging token at all",
            resolved(&mocks.sandbox_html, Sandbox, None, key(good.clone())),
            exit::SANDBOX_GATE,
        ),
        scenario(
            "API key without the colon",
            prod(key(DEMO_LOGIN)),
            exit::CREDENTIAL_FORMAT,
        ),
        scenario(
            "API key with a `Basic ` prefix",
            prod(key(format!("Basic {good}"))),
            exit::CREDENTIAL_FORMAT,
        ),
        scenario(
            "API key with a `Bearer ` prefix",
            prod(key(format!("Bearer {good}"))),
            exit::CREDENTIAL_FORMAT,
        ),
        scenario(
            "API key Base64-encoded",
            prod(key(base64(&good))),
            exit::CREDENTIAL_FORMAT,
        ),
        scenario(
            "API key pasted with a trailing line break",
            prod(key(format!("{good}\n"))),
            exit::CREDENTIAL_FORMAT,
        ),
        scenario(
            "API key swapped (`secret:login`)",
            prod(key(format!("{DEMO_SECRET}:{DEMO_LOGIN}"))),
            exit::CREDENTIAL_FORMAT,
        ),
        scenario(
            "API key with a wrong secret: rejected with 401",
            prod(key(format!("{DEMO_LOGIN}:wrongsecret"))),
            exit::REJECTED,
        ),
        scenario(
            "Expired OAuth access token: rejected with 401",
            prod(Credential::AccessToken(Secret::new(expired))),
            exit::REJECTED,
        ),
        scenario(
            "A refresh token given as the access token",
            prod(Credential::AccessToken(Secret::new(refresh))),
            exit::CREDENTIAL_FORMAT,
        ),
        scenario(
            "User OAuth flow token, no organization named: 403",
            user(None),
            exit::CONFIGURATION,
        ),
        scenario(
            "User OAuth flow token, an organization the user did not consent for: 403",
            user(Some("00000000-0000-0000-0000-000000000000")),
            exit::CONFIGURATION,
        ),
        scenario(
            "A staging token sent to production",
            resolved(
                &mocks.production,
                Production,
                Some(STAGING),
                key(good.clone()),
            ),
            exit::CONFIGURATION,
        ),
        scenario(
            "Rate limited: 429",
            resolved(&mocks.rate_limited, Production, None, key(good)),
            exit::SERVER,
        ),
    ]
}

/// Standard Base64 of a text, for the Base64 mistake.
fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Runs every scenario; exits 0 when each gave the exit code it should.
pub(crate) fn run(output: Output) -> Result<u8, Failure> {
    let mocks = Mocks::start()?;
    let list = scenarios(&mocks);
    // The expired token expires on the mock's clock; the rate-limited mock takes one call first.
    mocks
        .production
        .clock()
        .advance(Duration::from_secs(2 * 3600));
    let _ = list
        .last()
        .and_then(|s| s.resolved.client().ok())
        .map(|c| c.bank_accounts());
    let mut results = Vec::new();
    let mut out = anstream::stdout();
    let total = list.len();
    if output == Output::Text {
        let _ = writeln!(
            out,
            "qonto demo: `qonto doctor` through each case of the troubleshooting guide,"
        );
        let _ = writeln!(
            out,
            "against built-in mocks of Qonto's production and sandbox (no account needed)."
        );
    }
    let mut all_as_expected = true;
    for (i, scenario) in list.iter().enumerate() {
        let findings = doctor::findings(&scenario.resolved);
        let code = exit_code(worst_family(&findings));
        all_as_expected &= code == scenario.expected_exit;
        match output {
            Output::Json => results.push(json!({
                "scenario": scenario.title,
                "exit_code": code,
                "expected_exit_code": scenario.expected_exit,
                "report": report_json(&findings),
            })),
            Output::Text => {
                let _ = writeln!(out, "\n[{}/{total}] {}", i + 1, scenario.title);
                let _ = write_checklist(&mut out, &findings);
                let _ = writeln!(out, "  -> qonto doctor exits with {code}");
            }
        }
    }
    match output {
        Output::Json => print_json(&json!({"ok": all_as_expected, "scenarios": results})),
        Output::Text => {
            let _ = writeln!(
                out,
                "\n{total} scenarios of the troubleshooting guide, each diagnosed as expected: {}",
                if all_as_expected { "yes" } else { "NO" }
            );
        }
    }
    Ok(if all_as_expected {
        exit::OK
    } else {
        exit::UNEXPECTED
    })
}
