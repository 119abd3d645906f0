//! `completions`, `mock serve`, `demo` and `--help`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

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

#[test]
fn mock_serve_answers_real_requests() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qonto"))
        .args(["mock", "serve", "--sandbox", "--output", "json"])
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
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    let url = info["url"].as_str().unwrap();
    let (status, _) = common::http_get(&format!("{url}/v2/organization"));
    assert_eq!(
        status, 200,
        "the sandbox gate answers a request without the staging token"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
