//! `qonto request` on writes behind strong customer authentication, against qonto-mock over
//! real sockets: approval, denial, no paired device, an unusable session, the sms-otp code,
//! request options, and what is printed on each outcome.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::{DEMO_CLIENT_ID, MockConfig, MockServer, config_dir, qonto, run};
use qonto_mock::{ScaDecision, ScaSetup};

const BODY: &str = r#"{"amount":"10.00","reference":"rent"}"#;

fn mock(decision: Option<ScaDecision>, device_paired: bool) -> MockServer {
    let setup = ScaSetup {
        device_paired,
        auto_decision: decision,
        ..ScaSetup::default()
    };
    MockServer::start(MockConfig::default().with_sca(setup)).unwrap()
}

/// `qonto request POST /v2/sepa/transfers ARGS --output json` as a user holding
/// `payment.write`; returns the exit code, the JSON printed and everything printed.
fn transfer(mock: &MockServer, name: &str, args: &[&str]) -> (i32, serde_json::Value, String) {
    let token = mock
        .issue_tokens(DEMO_CLIENT_ID, "offline_access payment.write")
        .access_token;
    let dir = config_dir(name);
    let (code, json, printed) = run(qonto(mock, &dir)
        .env("QONTO_ACCESS_TOKEN", &token)
        .args([
            "request",
            "POST",
            "/v2/sepa/transfers",
            "--data",
            BODY,
            "--output",
            "json",
        ])
        .args(args));
    assert!(
        !printed.contains(&token),
        "the access token is never printed"
    );
    (code, json, printed)
}

#[test]
fn an_approved_transfer_prints_the_final_answer() {
    let mock = mock(Some(ScaDecision::Allow), true);
    let (code, json, printed) = transfer(&mock, "sca-allow", &[]);
    assert_eq!(code, 0, "{printed}");
    assert_eq!(json["transfer"]["amount"], "10.00", "{printed}");
    assert!(printed.contains("approve it in the Qonto app"), "{printed}");
    assert!(
        !printed.contains("Waiting for the approval"),
        "no progress line off a terminal"
    );
    assert_eq!(mock.transfers_created(), 1);
}

#[test]
fn a_denied_transfer_exits_rejected_with_its_finding() {
    let mock = mock(Some(ScaDecision::Deny), true);
    let (code, json, printed) = transfer(&mock, "sca-deny", &[]);
    assert_eq!(code, 5, "{printed}");
    assert_eq!(json["ok"], false);
    assert_eq!(json["error"]["code"], "sca_denied");
    assert!(json["error"]["fix"].as_str().unwrap().contains("approve"));
    assert!(json["error"]["trace_id"].is_string(), "{json}");
    assert_eq!(mock.transfers_created(), 0);
}

#[test]
fn no_paired_device_is_a_configuration_failure() {
    let mock = mock(None, false);
    let (code, json, printed) = transfer(&mock, "sca-no-device", &[]);
    assert_eq!(code, 4, "{printed}");
    assert_eq!(json["error"]["code"], "sca_not_enrolled");
    assert!(
        json["error"]["fix"]
            .as_str()
            .unwrap()
            .contains("pair a phone")
    );
    assert!(json["error"]["trace_id"].is_string());
    // Text output names the code and the fix too.
    let token = mock
        .issue_tokens(DEMO_CLIENT_ID, "payment.write")
        .access_token;
    let (code, _, printed) = run(qonto(&mock, &config_dir("sca-no-device-text"))
        .env("QONTO_ACCESS_TOKEN", token)
        .args(["request", "POST", "/v2/sepa/transfers", "--data", BODY]));
    assert_eq!(code, 4);
    assert!(
        printed.contains("sca_not_enrolled") && printed.contains("pair a phone"),
        "{printed}"
    );
}

#[test]
fn the_sandbox_mock_method_and_a_timeout_are_honoured() {
    // Nobody decides: the wait stops at --sca-timeout, with sca_expired.
    let mock = mock(None, true);
    let started = std::time::Instant::now();
    let (code, json, printed) = transfer(&mock, "sca-timeout", &["--sca-timeout", "2"]);
    assert_eq!(code, 5, "{printed}");
    assert_eq!(json["error"]["code"], "sca_expired");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(mock.stats().requests_prefixed("/v2/sca_sessions/", 200) <= 3);
    // The mock method polls the sandbox's mocked session path.
    let mock = self::mock(Some(ScaDecision::Allow), false);
    let (code, _, printed) = transfer(&mock, "sca-mock", &["--sca-preference", "mock"]);
    assert_eq!(code, 0, "{printed}");
    assert_eq!(
        mock.stats()
            .requests_prefixed("/v2/mocked_sca_sessions/", 200),
        1
    );
}

#[test]
fn sms_otp_reads_the_code_from_standard_input() {
    let mock = mock(None, true);
    let token = mock
        .issue_tokens(DEMO_CLIENT_ID, "payment.write")
        .access_token;
    let attempt = |otp: &str| {
        let mut child = qonto(&mock, &config_dir("sca-otp"))
            .env("QONTO_ACCESS_TOKEN", &token)
            .args(["request", "POST", "/v2/sepa/transfers", "--data", BODY])
            .args(["--sca-preference", "sms-otp", "--output", "json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{otp}").unwrap();
        let output = child.wait_with_output().unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!printed.contains(otp), "the one-time code is never printed");
        (output.status.code(), printed)
    };
    let (code, printed) = attempt("999999");
    assert_eq!(code, Some(4), "{printed}");
    assert!(
        printed.contains("sca_session_unusable"),
        "a wrong code: {printed}"
    );
    let (code, printed) = attempt("123456");
    assert_eq!(code, Some(0), "{printed}");
    assert_eq!(mock.transfers_created(), 1);
}

#[test]
fn request_options_reach_the_wire() {
    let mock = mock(Some(ScaDecision::Allow), true);
    let args = [
        "--header",
        "X-Request-Label: quarterly",
        "--query",
        "note=a b&c",
        "--idempotency-key",
        "my-key-1",
    ];
    let (code, first, printed) = transfer(&mock, "sca-options", &args);
    assert_eq!(code, 0, "{printed}");
    let head = String::from_utf8(mock.last_request_head("/v2/sepa/transfers").unwrap()).unwrap();
    assert!(
        head.starts_with("POST /v2/sepa/transfers?note=a+b%26c "),
        "{head}"
    );
    assert!(head.contains("x-request-label: quarterly"), "{head}");
    assert!(head.contains("x-qonto-idempotency-key: my-key-1"), "{head}");
    // The same key again: Qonto's kept answer, no second transfer.
    let (code, again, _) = transfer(&mock, "sca-options-again", &args);
    assert_eq!(code, 0);
    assert_eq!(first, again);
    assert_eq!(mock.transfers_created(), 1);
    // Opting out sends no key.
    let (code, _, _) = transfer(&mock, "sca-no-key", &["--no-idempotency-key"]);
    assert_eq!(code, 0);
    let head = String::from_utf8(mock.last_request_head("/v2/sepa/transfers").unwrap()).unwrap();
    assert!(!head.to_ascii_lowercase().contains("idempotency"), "{head}");
    // Reserved and malformed headers are refused before anything is sent.
    for bad in [
        "Authorization: Bearer x",
        "no colon here",
        "X-Qonto-Sca-Session-Token: t",
    ] {
        let (code, json, _) = transfer(&mock, "sca-bad-header", &["--header", bad]);
        assert_eq!(code, 4, "{bad}");
        assert_eq!(json["error"]["code"], "request_header_invalid", "{bad}");
    }
    assert_eq!(mock.transfers_created(), 2);
}
