//! `completions`, `mock serve`, `demo` and `--help`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = Command::new(env!("CARGO_BIN_EXE_qonto"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("doctor"),
            "{shell}"
        );
    }
}

#[test]
fn help_documents_the_exit_codes() {
    let output = Command::new(env!("CARGO_BIN_EXE_qonto"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for line in [
        "3  malformed credentials",
        "6  sandbox gate",
        "7  network error",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn demo_diagnoses_every_scenario_as_expected() {
    let output = Command::new(env!("CARGO_BIN_EXE_qonto"))
        .args(["demo", "--output", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let scenarios = report["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 15);
    for s in scenarios {
        assert_eq!(s["exit_code"], s["expected_exit_code"], "{s}");
    }
}

/// Starts `qonto mock serve ARGS --output json`; returns the process and what it printed.
fn mock_serve(args: &[&str]) -> (Child, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qonto"))
        .args(["mock", "serve", "--output", "json"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut text = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        text.push_str(&line);
        if line == "}" {
            break;
        }
    }
    (child, serde_json::from_str(&text).unwrap())
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn mock_serve_answers_real_requests() {
    let (child, info) = mock_serve(&["--sandbox"]);
    let url = info["url"].as_str().unwrap();
    let (status, _) = common::http_get(&format!("{url}/v2/organization"));
    assert_eq!(
        status, 200,
        "the sandbox gate answers a request without the staging token"
    );
    stop(child);
}

#[test]
fn mock_serve_browser_login_limits_and_retry_after() {
    let (child, info) = mock_serve(&[
        "--sandbox",
        "--qonto-rate-limits",
        "--rate-limit",
        "2",
        "--retry-after",
        "3",
    ]);
    let url = info["url"].as_str().unwrap();
    let portal = info["portal_login_url"].as_str().unwrap();
    assert_eq!(portal, format!("{url}/_mock/portal-login"));
    // A browser without a Developer Portal session is asked to log in first.
    let page = common::http_get_text(&format!(
        "{url}/oauth2/auth?client_id={}&response_type=code",
        common::DEMO_CLIENT_ID
    ));
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("through the Developer Portal"), "{page}");
    let login = common::http_get_text(portal);
    assert!(
        login.contains("Set-Cookie: qonto_mock_portal_session="),
        "{login}"
    );
    // The third request in 10 s is over --rate-limit 2, and says when to retry.
    let limited = common::http_get_text(&format!("{url}/v2/organization"));
    assert!(limited.starts_with("HTTP/1.1 429"), "{limited}");
    assert!(limited.contains("Retry-After: 3\r\n"), "{limited}");
    stop(child);
}

#[test]
fn help_lists_the_manual_pages() {
    let output = Command::new(env!("CARGO_BIN_EXE_qonto"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("Manual pages (man PAGE):"), "{help}");
    for page in [
        "qonto-auth-login",
        "qonto-profile-show",
        "qonto-webhook-verify",
    ] {
        assert!(help.contains(page), "{help}");
    }
    let dir = common::config_dir("man-pages");
    let status = Command::new(env!("CARGO_BIN_EXE_qonto"))
        .arg("man-pages")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let page = std::fs::read_to_string(dir.join("qonto-profile-show.1")).unwrap();
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert!(page.contains("QONTO_INSECURE_STORAGE"), "{page}");
}

/// `doctor` without credentials: a checklist with a coloured FAIL where colours are on.
fn doctor_colors(args: &[&str], no_color: bool) -> bool {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qonto"));
    for (key, _) in std::env::vars() {
        if key.starts_with("QONTO_") || key == "NO_COLOR" || key.starts_with("CLICOLOR") {
            command.env_remove(key);
        }
    }
    if no_color {
        command.env("NO_COLOR", "1");
    }
    let dir = common::config_dir(&format!("color-{}-{no_color}", args.join("")));
    let output = command
        .env("QONTO_CONFIG_DIR", &dir)
        .arg("doctor")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("FAIL"), "{text}");
    text.contains('\u{1b}')
}

#[test]
fn color_follows_the_flag_and_no_color() {
    // Not a terminal: `auto` means no colour.
    assert!(!doctor_colors(&[], false));
    assert!(doctor_colors(&["--color", "always"], false));
    assert!(
        doctor_colors(&["--color=always"], true),
        "always beats NO_COLOR"
    );
    assert!(!doctor_colors(&["--color", "never"], false));
    assert!(!doctor_colors(&["--color", "auto"], true));
}
