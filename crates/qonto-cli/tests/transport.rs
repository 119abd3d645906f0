//! `-v` and `--ca-cert` end to end: the call's span with its trace id on stderr, and the CA
//! bundle that HTTPS trusts.

mod common;

use common::*;

#[test]
fn verbose_shows_the_calls_span_and_trace_id_on_stderr_and_no_secret() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("verbose");
    let output = qonto(&mock, &dir)
        .env("QONTO_API_KEY", GOOD_KEY)
        .args(["-v", "request", "GET", "/v2/organization"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("qonto_call{method=GET path=/v2/organization status=200 trace_id="),
        "{stderr}"
    );
    assert!(!stderr.contains(DEMO_SECRET), "{stderr}");
    // Without -v, nothing of it.
    let quiet = qonto(&mock, &dir)
        .env("QONTO_API_KEY", GOOD_KEY)
        .args(["request", "GET", "/v2/organization"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("qonto_call"));
}

#[test]
fn an_unreadable_ca_bundle_is_a_configuration_error() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("ca-cert");
    let missing = dir.join("missing.pem");
    let request = ["request", "GET", "/v2/organization", "--output", "json"];
    let (code, json, _) = run(qonto(&mock, &dir)
        .env("QONTO_API_KEY", GOOD_KEY)
        .env("QONTO_CA_CERT", &missing)
        .args(request));
    assert_eq!(code, 4, "{json}");
    assert_eq!(json["error"]["code"], "config_unreadable", "{json}");
}

/// `qonto request` against a local HTTPS server whose authority the test generated.
fn https_request(server: &qonto_tls_testkit::TlsServer, ca_cert: Option<&std::path::Path>) -> i32 {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("https");
    let mut command = qonto(&mock, &dir);
    command
        .env("QONTO_API_BASE_URL", server.url())
        .env("QONTO_OAUTH_BASE_URL", server.url())
        .env("QONTO_API_KEY", GOOD_KEY)
        .args(["request", "GET", "/v2/organization", "--output", "json"]);
    if let Some(path) = ca_cert {
        command.arg("--ca-cert").arg(path);
    }
    run(&mut command).0
}

#[test]
fn https_to_an_unknown_authority_is_refused_with_the_default_roots() {
    let server = qonto_tls_testkit::TlsServer::start().unwrap();
    assert_eq!(https_request(&server, None), 7, "a network error");
    assert_eq!(server.wait_until(|s| s.failed_handshakes > 0).answered, 0);
}

#[test]
fn ca_cert_trusts_a_private_authority() {
    let server = qonto_tls_testkit::TlsServer::start().unwrap();
    let dir = config_dir("ca-bundle");
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("ca.pem");
    std::fs::write(&bundle, server.ca_pem()).unwrap();
    assert_eq!(https_request(&server, Some(&bundle)), 0);
    assert_eq!(server.seen().answered, 1);
}
