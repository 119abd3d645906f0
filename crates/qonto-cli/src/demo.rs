//! `qonto demo`: doctor through every case of the troubleshooting guide, against built-in
//! mocks, with no account needed.

use qonto_auth_core::Code;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use qonto_auth_core::EnvironmentKind;
use qonto_auth_core::diagnose::worst_family;
use qonto_auth_core::diagnose::{Finding, finding_for_sca_approval};
use qonto_auth_core::http::Method;
use qonto_mock::{
    DEMO_CLIENT_ID, DEMO_LOGIN, DEMO_SECRET, Gate, MockConfig, MockServer, RateLimit, ScaDecision,
    ScaSetup,
};
use qonto_ureq::CallSpec;
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
    /// The user approves every SCA request.
    sca_allow: MockServer,
    /// The user refuses every SCA request.
    sca_deny: MockServer,
    /// The user has no paired device.
    sca_no_device: MockServer,
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
            sca_allow: start(sca_config(Some(ScaDecision::Allow), true))?,
            sca_deny: start(sca_config(Some(ScaDecision::Deny), true))?,
            sca_no_device: start(sca_config(None, false))?,
        })
    }
}

fn sca_config(decision: Option<ScaDecision>, device_paired: bool) -> MockConfig {
    MockConfig::default().with_sca(ScaSetup {
        device_paired,
        auto_decision: decision,
        ..ScaSetup::default()
    })
}

/// Writes needing strong customer authentication: a SEPA transfer, by an OAuth user holding
/// `payment.write`, its SCA decided by the mock's stand-in for the user's phone.
fn sca_cases(mocks: &Mocks) -> Vec<Scenario> {
    let writer = |mock: &MockServer| {
        let token = mock
            .issue_tokens(DEMO_CLIENT_ID, "offline_access payment.write")
            .access_token;
        resolved(
            mock,
            EnvironmentKind::Production,
            None,
            Credential::AccessToken(Secret::new(token)),
        )
    };
    vec![
        Scenario {
            title: "A transfer needing SCA, approved in the Qonto app: replayed with the session token",
            resolved: writer(&mocks.sca_allow),
            expected_exit: exit::OK,
        },
        Scenario {
            title: "A transfer needing SCA, denied in the Qonto app",
            resolved: writer(&mocks.sca_deny),
            expected_exit: exit::REJECTED,
        },
        Scenario {
            title: "A transfer needing SCA, the user has no paired device: 428 without a session token",
            resolved: writer(&mocks.sca_no_device),
            expected_exit: exit::CONFIGURATION,
        },
    ]
}

/// Runs one SCA case as `qonto request POST /v2/sepa/transfers` would.
fn run_sca_case(case: &Scenario) -> Finding {
    let spec = CallSpec::new(Method::POST, "/v2/sepa/transfers")
        .json(Some(&json!({"amount": "10.00", "reference": "qonto demo"})));
    let result = case
        .resolved
        .client()
        .and_then(|client| client.call_with_sca(spec, |_| {}).map_err(Failure::from));
    match result {
        Ok(answer) => finding_for_sca_approval(answer.status.as_u16()),
        Err(failure) => failure.0,
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
        insecure_storage: true,
        secret_sources: Vec::new(),
        shared_store: None,
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
    let sca = sca_cases(&mocks);
    let total = list.len() + sca.len();
    if output == Output::Text {
        let _ = writeln!(
            out,
            "qonto demo: `qonto doctor` through each case of the troubleshooting guide, then"
        );
        let _ = writeln!(
            out,
            "writes behind strong customer authentication, against built-in mocks of Qonto's"
        );
        let _ = writeln!(out, "production and sandbox (no account needed).");
    }
    let mut all_as_expected = true;
    let runs = list
        .iter()
        .map(|s| (s.title, s.expected_exit, doctor::findings(&s.resolved)))
        .chain(
            sca.iter()
                .map(|c| (c.title, c.expected_exit, vec![run_sca_case(c)])),
        );
    for (i, (title, expected_exit, findings)) in runs.enumerate() {
        let code = exit_code(worst_family(&findings));
        all_as_expected &= code == expected_exit;
        match output {
            Output::Json => results.push(json!({
                "scenario": title,
                "exit_code": code,
                "expected_exit_code": expected_exit,
                "report": report_json(&findings),
            })),
            Output::Text => {
                let _ = writeln!(out, "\n[{}/{total}] {}", i + 1, title);
                let _ = write_checklist(&mut out, &findings);
                let _ = writeln!(out, "  -> exits with {code}");
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
