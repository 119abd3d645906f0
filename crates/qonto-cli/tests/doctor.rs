//! `qonto doctor` end to end: each diagnosis, its JSON and its exit code.

mod common;

use common::*;
use qonto_mock::{Gate, RateLimit};
use std::time::Duration;

fn doctor(
    mock: &MockServer,
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (i32, serde_json::Value) {
    let mut command = qonto(mock, dir);
    command
        .args(["doctor", "--output", "json"])
        .envs(env.iter().copied());
    let (code, json, all) = run(&mut command);
    assert!(json.is_object(), "doctor printed no JSON: {all}");
    assert!(!all.contains(DEMO_SECRET), "a secret was printed: {all}");
    (code, json)
}

#[test]
fn a_good_api_key_passes() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-ok");
    let (code, report) = doctor(&mock, &dir, &[("QONTO_API_KEY", GOOD_KEY)]);
    assert_eq!(code, 0);
    assert_eq!(report["ok"], true);
    assert!(codes(&report).contains(&"probe_ok".to_owned()));
    assert_eq!(mock.stats().requests("/v2/bank_accounts", 200), 1);
}

#[test]
fn each_api_key_mistake_is_its_own_finding_and_exit_code_3() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-format");
    let cases = [
        (DEMO_LOGIN.to_owned(), "api_key_missing_colon"),
        (format!("Basic {GOOD_KEY}"), "api_key_scheme_prefix"),
        (format!("Bearer {GOOD_KEY}"), "api_key_scheme_prefix"),
        (
            "ZGVtby1vcmctMTIzNDowMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==".to_owned(),
            "api_key_base64",
        ),
        (format!("{GOOD_KEY} "), "api_key_whitespace"),
        (format!("{DEMO_SECRET}:{DEMO_LOGIN}"), "api_key_swapped"),
    ];
    for (key, expected) in cases {
        let (code, report) = doctor(&mock, &dir, &[("QONTO_API_KEY", &key)]);
        assert_eq!(code, 3, "{expected}");
        assert_eq!(report["ok"], false);
        assert!(
            codes(&report).contains(&expected.to_owned()),
            "{expected}: {report}"
        );
        assert!(codes(&report).contains(&"probe_skipped".to_owned()));
    }
    assert_eq!(
        mock.stats().total_requests(),
        0,
        "no request is sent with a malformed key"
    );
}

#[test]
fn rejected_credentials_exit_5_with_the_trace_id() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-401");
    let (code, report) = doctor(&mock, &dir, &[("QONTO_API_KEY", "demo-org-1234:wrong")]);
    assert_eq!(code, 5);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "unauthorized")
        .unwrap();
    assert_eq!(finding["trace_id"].as_str().unwrap().len(), 32);
    assert_eq!(report["trace_id"], finding["trace_id"]);
    assert!(finding["fix"].as_str().unwrap().contains("colon"));
}

#[test]
fn an_expired_or_misplaced_access_token() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-token");
    let issued = mock.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    mock.clock().advance(Duration::from_secs(7200));
    let (code, report) = doctor(&mock, &dir, &[("QONTO_ACCESS_TOKEN", &issued.access_token)]);
    assert_eq!(code, 5);
    assert!(codes(&report).contains(&"unauthorized".to_owned()));
    let refresh = issued.refresh_token.unwrap();
    let (code, report) = doctor(&mock, &dir, &[("QONTO_ACCESS_TOKEN", &refresh)]);
    assert_eq!(code, 3);
    assert!(codes(&report).contains(&"access_token_is_refresh_token".to_owned()));
}

#[test]
fn the_sandbox_gate_exits_6() {
    for gate in [Gate::HtmlPage, Gate::RedirectToOneLogin] {
        let mock = MockServer::start(MockConfig::sandbox("right").with_api_gate(gate)).unwrap();
        let dir = config_dir("doctor-gate");
        let env = [
            ("QONTO_ENV", "sandbox"),
            ("QONTO_API_KEY", GOOD_KEY),
            ("QONTO_STAGING_TOKEN", "wrong"),
        ];
        let (code, report) = doctor(&mock, &dir, &env);
        assert_eq!(code, 6, "{report}");
        assert!(codes(&report).contains(&"sandbox_gate".to_owned()));
        let env = [
            ("QONTO_ENV", "sandbox"),
            ("QONTO_API_KEY", GOOD_KEY),
            ("QONTO_STAGING_TOKEN", "right"),
        ];
        assert_eq!(doctor(&mock, &dir, &env).0, 0);
        let env = [("QONTO_ENV", "sandbox"), ("QONTO_API_KEY", GOOD_KEY)];
        let (code, report) = doctor(&mock, &dir, &env);
        assert_eq!(code, 6);
        assert!(codes(&report).contains(&"staging_token_missing".to_owned()));
    }
}

#[test]
fn configuration_network_and_server_families() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-families");
    let (code, report) = doctor(
        &mock,
        &dir,
        &[("QONTO_API_KEY", GOOD_KEY), ("QONTO_STAGING_TOKEN", "x")],
    );
    assert_eq!(code, 4);
    assert!(codes(&report).contains(&"staging_token_in_production".to_owned()));
    mock.faults().fail_next(1, 503);
    let (code, report) = doctor(&mock, &dir, &[("QONTO_API_KEY", GOOD_KEY)]);
    assert_eq!(code, 8);
    assert!(codes(&report).contains(&"server_error".to_owned()));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut command = qonto(&mock, &dir);
    command
        .args([
            "doctor",
            "--output",
            "json",
            "--base-url",
            &format!("http://{closed}"),
        ])
        .env("QONTO_API_KEY", GOOD_KEY);
    let (code, report, _) = run(&mut command);
    assert_eq!(code, 7, "{report}");
    assert!(codes(&report).contains(&"network_error".to_owned()));
    let limited = MockServer::start(MockConfig::default().with_rate_limit(RateLimit {
        max_requests: 0,
        window: Duration::from_secs(10),
    }))
    .unwrap();
    let (code, report) = doctor(&limited, &dir, &[("QONTO_API_KEY", GOOD_KEY)]);
    assert_eq!(code, 8);
    assert!(codes(&report).contains(&"rate_limited".to_owned()));
}

#[test]
fn text_output_reads_like_a_checklist() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-text");
    let mut command = qonto(&mock, &dir);
    command
        .arg("doctor")
        .env("QONTO_API_KEY", "demo-org-1234:wrong");
    let (code, _, text) = run(&mut command);
    assert_eq!(code, 5);
    assert!(text.contains("pass  the API key has the form"), "{text}");
    assert!(
        text.contains("FAIL  the credentials were rejected (401)"),
        "{text}"
    );
    assert!(
        text.contains("trace id (give it to Qonto support): "),
        "{text}"
    );
    assert!(text.contains("result: FAILED (exit code 5)"), "{text}");
}

#[test]
fn profiles_from_the_config_file() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-profile");
    std::fs::write(
        dir.join("config.toml"),
        format!("[profiles.work]\nenv = \"production\"\napi_key = \"{GOOD_KEY}\"\napi_base_url = \"{}\"\n", mock.url()),
    )
    .unwrap();
    let mut command = qonto(&mock, &dir);
    command.env_remove("QONTO_API_BASE_URL").args([
        "doctor",
        "--output",
        "json",
        "--profile",
        "work",
    ]);
    let (code, report, _) = run(&mut command);
    assert_eq!(code, 0, "{report}");
    let mut command = qonto(&mock, &dir);
    command.args(["doctor", "--output", "json", "--profile", "missing"]);
    let (code, json, _) = run(&mut command);
    assert_eq!(code, 4);
    assert_eq!(json["error"]["code"], "profile_not_found");
}

#[test]
fn secrets_typed_as_flags_are_warned_about_and_never_printed() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-flag");
    let mut command = qonto(&mock, &dir);
    command.args(["doctor", "--api-key", GOOD_KEY]);
    let (code, _, all) = run(&mut command);
    assert_eq!(code, 0);
    assert!(all.contains("warning: --api-key on the command line stays in your shell history"));
    assert!(!all.contains(DEMO_SECRET));
}

#[test]
fn a_missing_scope_and_a_wrong_path() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("doctor-scope");
    // A token granted without organization.read: 403 naming the scope.
    let issued = mock.issue_tokens(DEMO_CLIENT_ID, "offline_access");
    let (code, report) = doctor(&mock, &dir, &[("QONTO_ACCESS_TOKEN", &issued.access_token)]);
    assert_eq!(code, 5, "{report}");
    assert!(
        codes(&report).contains(&"missing_scope".to_owned()),
        "{report}"
    );
    // A base URL with a path the API does not have: 404.
    let mut command = qonto(&mock, &dir);
    command
        .args([
            "doctor",
            "--output",
            "json",
            "--base-url",
            &format!("{}/api", mock.url()),
        ])
        .env("QONTO_API_KEY", GOOD_KEY);
    let (code, report, _) = run(&mut command);
    assert_eq!(code, 4, "{report}");
    assert!(codes(&report).contains(&"not_found".to_owned()), "{report}");
}
