//! `qonto auth …`, `accounts list` and `request` end to end, with a headless login that
//! follows the mock's consent redirect to the CLI's loopback listener.

mod common;

use std::io::Write;
use std::process::{Child, Stdio};

use common::*;

const CLIENT_ID: &str = "cli-test-client";
const CLIENT_SECRET: &str = "cli-test-secret-SENTINEL";

struct Setup {
    mock: MockServer,
    dir: std::path::PathBuf,
    redirect: String,
}

fn setup(name: &str) -> Setup {
    let (mock, redirect) = mock_with_client(
        MockConfig::default().with_auto_approve(true),
        CLIENT_ID,
        CLIENT_SECRET,
        &["offline_access", "organization.read"],
    );
    Setup {
        mock,
        dir: config_dir(name),
        redirect,
    }
}

impl Setup {
    fn qonto(&self) -> std::process::Command {
        let mut command = qonto(&self.mock, &self.dir);
        command
            .env("QONTO_CLIENT_ID", CLIENT_ID)
            .env("QONTO_CLIENT_SECRET", CLIENT_SECRET)
            .env("QONTO_REDIRECT_URI", &self.redirect);
        command
    }

    fn json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let mut command = self.qonto();
        command.args(args).args(["--output", "json"]);
        let (code, json, all) = run(&mut command);
        assert!(
            !all.contains("SENTINEL"),
            "the client secret was printed: {all}"
        );
        (code, json)
    }

    /// Starts `qonto auth login` and returns it with the authorize URL it printed.
    fn start_login(&self, extra: &[&str]) -> (Child, String) {
        let mut command = self.qonto();
        command
            .args(["auth", "login", "--no-browser", "--output", "json"])
            .args(extra);
        if extra.contains(&"--paste") {
            command.stdin(Stdio::piped());
        }
        spawn_for_url(&mut command)
    }
}

#[test]
fn headless_login_then_every_command() {
    let s = setup("login");
    let (child, url) = s.start_login(&[]);
    assert!(url.contains("/oauth2/auth?response_type=code&client_id=cli-test-client"));
    // The "browser": the mock auto-approves and redirects to the CLI's loopback listener.
    let (status, location) = http_get(&url);
    assert_eq!(status, 302);
    let callback = location.unwrap();
    assert!(callback.starts_with(&s.redirect));
    assert_eq!(http_get(&callback).0, 200);
    let (code, json) = finish(child);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["event"], "logged_in");
    assert_eq!(s.mock.stats().token_calls("authorization_code"), 1);

    let (code, status) = s.json(&["auth", "status"]);
    assert_eq!(code, 0);
    assert_eq!(status["method"], "oauth");
    assert_eq!(status["has_refresh_token"], true);
    assert!(status["refresh_token_days_left"].as_i64().unwrap() >= 89);
    assert!(status["access_token_expires_in_secs"].as_i64().unwrap() > 3500);

    let (code, accounts) = s.json(&["accounts", "list"]);
    assert_eq!(code, 0);
    assert_eq!(accounts.as_array().unwrap().len(), 3);

    let mut command = s.qonto();
    command.args(["request", "GET", "/v2/organization"]);
    let (code, org, _) = run(&mut command);
    assert_eq!(code, 0);
    assert!(org["organization"]["slug"].is_string());

    let (code, refreshed) = s.json(&["auth", "refresh"]);
    assert_eq!(code, 0, "{refreshed}");
    assert_eq!(s.mock.stats().token_calls("refresh_token"), 1);

    let (code, doctor) = s.json(&["doctor"]);
    assert_eq!(code, 0, "{doctor}");

    let (code, out) = s.json(&["auth", "logout"]);
    assert_eq!(code, 0);
    assert_eq!(out["consent_revoked"], true);
    assert_eq!(s.mock.stats().requests("/v2/oauth2/consents", 204), 1);
    let (code, status) = s.json(&["auth", "status"]);
    assert_eq!(code, 5);
    assert_eq!(status["error"]["code"], "not_logged_in");
    let (code, doctor) = s.json(&["doctor"]);
    assert_eq!(code, 5);
    assert!(codes(&doctor).contains(&"not_logged_in".to_owned()));
}

#[test]
fn paste_the_redirect_url_on_a_headless_machine() {
    let s = setup("paste");
    let (mut child, url) = s.start_login(&["--paste"]);
    let (_, location) = http_get(&url);
    writeln!(child.stdin.take().unwrap(), "{}", location.unwrap()).unwrap();
    let (code, json) = finish(child);
    assert_eq!(code, 0, "{json}");
    assert_eq!(s.json(&["auth", "status"]).0, 0);
}

#[test]
fn a_callback_with_another_state_is_refused() {
    let s = setup("state");
    let (child, url) = s.start_login(&[]);
    let (_, location) = http_get(&url);
    let forged = location.unwrap().replace("state=", "state=0");
    assert_eq!(http_get(&forged).0, 400);
    let (code, json) = finish(child);
    assert_eq!(code, 4);
    assert_eq!(json["error"]["code"], "callback_state_mismatch");
    assert_eq!(s.mock.stats().token_calls("authorization_code"), 0);
}

#[test]
fn login_times_out_cleanly() {
    let s = setup("timeout");
    let (child, _) = s.start_login(&["--timeout", "1"]);
    let (code, json) = finish(child);
    assert_eq!(code, 4);
    assert_eq!(json["error"]["code"], "login_timeout");
}

#[test]
fn the_user_flow_names_its_organization_on_every_command() {
    let (mock, redirect) = mock_with_client(
        MockConfig::default().with_auto_approve(true),
        CLIENT_ID,
        CLIENT_SECRET,
        &[
            "offline_access",
            "organization.read",
            "user_organization.read",
        ],
    );
    let s = Setup {
        mock,
        dir: config_dir("user-flow"),
        redirect,
    };
    let (child, url) = s.start_login(&["--user"]);
    assert!(url.contains("identity_type=user"), "{url}");
    assert!(url.contains("user_organization.read"), "{url}");
    let (_, location) = http_get(&url);
    assert_eq!(http_get(&location.unwrap()).0, 200);
    assert_eq!(finish(child).0, 0);

    // Without an organization: doctor says so before any call; a call gets the 403.
    let (code, doctor) = s.json(&["doctor"]);
    assert_eq!(code, 4, "{doctor}");
    assert!(codes(&doctor).contains(&"organization_id_missing".to_owned()));
    let (code, error) = s.json(&["accounts", "list"]);
    assert_eq!(code, 4);
    assert_eq!(error["error"]["code"], "organization_header_missing");

    let (code, organizations) = s.json(&["organizations", "list"]);
    assert_eq!(code, 0, "{organizations}");
    let id = organizations[0]["id"].as_str().unwrap().to_owned();
    let (code, accounts) = s.json(&["--organization-id", &id, "accounts", "list"]);
    assert_eq!(code, 0, "{accounts}");
    assert_eq!(accounts.as_array().unwrap().len(), 3);
    let (code, doctor) = s.json(&["--organization-id", &id, "doctor"]);
    assert_eq!(code, 0, "{doctor}");
    let other = "00000000-0000-0000-0000-000000000000";
    let (code, error) = s.json(&["--organization-id", other, "accounts", "list"]);
    assert_eq!(code, 4);
    assert_eq!(error["error"]["code"], "organization_not_consented");
    let (code, error) = s.json(&["--organization-id", "../x", "accounts", "list"]);
    assert_eq!(code, 4);
    assert_eq!(error["error"]["code"], "organization_id_invalid");
}
