//! `qonto doctor`: the troubleshooting guide, end to end.

use qonto_auth_core::Code;
use std::io::Write;

use qonto_auth_core::diagnose::{Family, Finding, Severity, check_settings, worst_family};
use qonto_auth_core::facts::{PROBE_PATH, USER_ORGANIZATION_SCOPE};
use qonto_auth_core::header::AuthMethod;
use qonto_auth_core::http::Method;
use qonto_auth_core::lifecycle::Event;

use crate::cli::Output;
use crate::failure::{Failure, exit_code};
use crate::output::{print_json, report_json, write_checklist};
use crate::settings::{Credential, Resolved};

/// Runs the checks in order: credentials and settings locally, then the probe call, then the
/// diagnosis of its answer. The probe is skipped when a local check already failed.
pub(crate) fn findings(resolved: &Resolved) -> Vec<Finding> {
    let oauth = matches!(resolved.credential, Credential::OAuth { .. });
    let mut findings = Vec::new();
    let mut user_consent = false;
    let stored = if oauth {
        let loaded = resolved.store().map_err(|f| f.0).and_then(|store| {
            store.load().map_err(|error| {
                Failure::configuration(
                    Code::TokenStoreUnreadable,
                    error.to_string(),
                    "log in again: `qonto auth login`",
                )
                .0
            })
        });
        match loaded {
            Ok(tokens) => {
                // A User OAuth flow consent (its scope lists organizations) acts for one
                // organization per call: one must be named.
                user_consent = tokens
                    .as_ref()
                    .and_then(|t| t.scope.as_deref())
                    .is_some_and(|s| s.split(' ').any(|s| s == USER_ORGANIZATION_SCOPE));
                tokens.is_some()
            }
            Err(finding) => {
                findings.push(finding);
                false
            }
        }
    } else {
        false
    };
    // OAuth is checked as "tokens stored"; that finding is replaced below when they are not.
    findings.extend(check_settings(&resolved.settings(true)));
    if oauth && !stored {
        for finding in findings
            .iter_mut()
            .filter(|f| f.code == Code::OauthTokensStored)
        {
            *finding = Finding {
                code: Code::NotLoggedIn,
                severity: Severity::Fail,
                family: Family::Rejected,
                message: format!("no OAuth tokens stored for profile `{}`", resolved.profile),
                fix: "run `qonto auth login`".into(),
                trace_id: None,
            };
        }
    }
    if user_consent && resolved.organization_id.is_none() {
        findings.push(Finding {
            code: Code::OrganizationIdMissing,
            severity: Severity::Fail,
            family: Family::Configuration,
            message: "the stored consent is a User OAuth flow consent, and no organization is named: every call would get 403".into(),
            fix: "set --organization-id or QONTO_ORGANIZATION_ID (ids: `qonto organizations list`)".into(),
            trace_id: None,
        });
    }
    if findings.iter().any(|f| f.severity == Severity::Fail) {
        findings.push(skipped());
        return findings;
    }
    let method = match resolved.credential {
        Credential::ApiKey(_) => Some(AuthMethod::ApiKey),
        Credential::AccessToken(_) | Credential::OAuth { .. } => Some(AuthMethod::OAuth),
        Credential::Missing => None,
    };
    let client = match resolved.client() {
        Ok(client) => client,
        Err(failure) => {
            findings.push(failure.0);
            findings.push(skipped());
            return findings;
        }
    };
    match client.send(Method::GET, PROBE_PATH, None) {
        Ok(response) => findings.push(Finding {
            code: Code::ProbeOk,
            severity: Severity::Pass,
            family: Family::None,
            message: format!("GET {PROBE_PATH} answered {} with JSON", response.status),
            fix: String::new(),
            trace_id: None,
        }),
        Err(error) => findings.push(Failure::from_client(error, method).0),
    }
    for event in client.take_events() {
        if let Event::RefreshTokenExpiring { expires_at } = event {
            findings.push(Finding {
                code: Code::RefreshTokenExpiring,
                severity: Severity::Warn,
                family: Family::None,
                message: format!(
                    "the refresh token lapses at unix time {}",
                    expires_at.unix_secs()
                ),
                fix: "run `qonto auth login` before then".into(),
                trace_id: None,
            });
        }
    }
    findings
}

fn skipped() -> Finding {
    Finding {
        code: Code::ProbeSkipped,
        severity: Severity::Info,
        family: Family::None,
        message: format!("GET {PROBE_PATH} was not sent: fix the failures above first"),
        fix: String::new(),
        trace_id: None,
    }
}

/// Runs doctor and prints its report; returns the exit code.
pub(crate) fn run(resolved: &Resolved, output: Output) -> u8 {
    let findings = findings(resolved);
    let code = exit_code(worst_family(&findings));
    match output {
        Output::Json => print_json(&report_json(&findings)),
        Output::Text => {
            let mut out = anstream::stdout();
            let _ = print_text(&mut out, resolved, &findings, code);
        }
    }
    code
}

pub(crate) fn print_text(
    out: &mut dyn Write,
    resolved: &Resolved,
    findings: &[Finding],
    code: u8,
) -> std::io::Result<()> {
    let api = resolved
        .api_base
        .clone()
        .unwrap_or_else(|| "documented hosts".into());
    writeln!(
        out,
        "qonto doctor: profile {}, environment {}, API {api}",
        resolved.profile, resolved.kind
    )?;
    write_checklist(out, findings)?;
    if code == 0 {
        writeln!(out, "result: OK")
    } else {
        writeln!(out, "result: FAILED (exit code {code})")
    }
}
