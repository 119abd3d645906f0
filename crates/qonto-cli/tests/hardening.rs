//! The built binary against hostile servers, local attackers and odd files: every server
//! string that repeats a secret is shown without it, escape sequences never reach the
//! terminal, pagination and slow clients are bounded, odd files and names are refused.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::hostile::{Hostile, Seen, json};
use common::*;
use qonto_auth_core::secret::{AccessToken, RefreshToken};
use qonto_auth_core::{Timestamp, TokenSet};

const SENTINEL: &str = "SENTINELx7q";

fn api_key() -> String {
    format!("demo-org-1234:0123456789abcdef{SENTINEL}")
}

fn staging() -> String {
    format!("stg-{SENTINEL}")
}

/// `qonto` aimed at `url` for both hosts, with a clean environment.
fn qonto_at(url: &str, dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qonto"));
    for (key, _) in std::env::vars() {
        if key.starts_with("QONTO_") {
            command.env_remove(key);
        }
    }
    command
        .env("QONTO_API_BASE_URL", url)
        .env("QONTO_OAUTH_BASE_URL", url)
        .env("QONTO_CONFIG_DIR", dir)
        .env("QONTO_INSECURE_STORAGE", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// Runs and returns the exit code and everything printed, asserting no sentinel in it.
fn clean_run(command: &mut Command) -> (i32, String) {
    let (code, _, all) = run(command);
    assert!(
        !all.to_ascii_lowercase()
            .contains(&SENTINEL.to_ascii_lowercase()),
        "a secret was printed:\n{all}"
    );
    (code, all)
}

/// An API that answers 401, repeating every header it was sent, with the key as trace id.
fn echoing_api() -> Hostile {
    Hostile::start(|seen: &Seen| {
        let echo = format!(
            "you sent Authorization={} and staging={}",
            seen.header("authorization").unwrap_or(""),
            seen.header("x-qonto-staging-token").unwrap_or("")
        );
        let body = serde_json::json!({"errors":[{"code":"unauthorized","detail":echo}]});
        let mut answer = json(401, body.to_string());
        answer.1.push((
            "x-tyk-trace-id".into(),
            format!("0123456789abcdef{SENTINEL}"),
        ));
        answer
    })
}

fn sandbox_key(command: &mut Command) -> &mut Command {
    command
        .env("QONTO_ENV", "sandbox")
        .env("QONTO_STAGING_TOKEN", staging())
        .env("QONTO_API_KEY", api_key())
}

#[test]
fn a_401_repeating_the_key_and_staging_token_never_shows_them() {
    let server = echoing_api();
    let dir = config_dir("echo-401");
    for args in [
        &["doctor"][..],
        &["doctor", "--output", "json"],
        &["request", "GET", "/v2/organization"],
        &["accounts", "list"],
    ] {
        let mut command = qonto_at(&server.url, &dir);
        let (code, all) = clean_run(sandbox_key(&mut command).args(args));
        assert_eq!(code, 5, "{args:?}: {all}");
        assert!(all.contains("[redacted]"), "{args:?}: {all}");
    }
}

#[test]
fn a_redirect_to_a_host_carrying_a_secret_is_shown_without_it() {
    let server = Hostile::start(|_: &Seen| {
        let host = format!("0123456789abcdef{SENTINEL}.evil.example").to_ascii_lowercase();
        (
            302,
            vec![("location".into(), format!("https://{host}/x"))],
            Vec::new(),
        )
    });
    let dir = config_dir("echo-redirect");
    let mut command = qonto_at(&server.url, &dir);
    let (code, all) = clean_run(sandbox_key(&mut command).args(["request", "GET", "/v2/x"]));
    assert_eq!(code, 4, "{all}");
    assert!(all.contains("unexpected_redirect"), "{all}");
}

/// Stored OAuth tokens carrying the sentinel, due for a refresh.
fn store_due_tokens(dir: &Path, scope: &str) {
    let now = Timestamp::from_system_time(SystemTime::now());
    let tokens = TokenSet {
        access_token: AccessToken::new(format!("ory_at_{SENTINEL}")),
        expires_at: now + Duration::from_secs(120),
        refresh_token: Some(RefreshToken::new(format!("ory_rt_{SENTINEL}+/="))),
        refresh_issued_at: Some(now),
        scope: Some(scope.to_owned()),
        refresh_pending_since: None,
    };
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(dir.join("tokens/default.json"), tokens.to_persisted_json()).unwrap();
}

fn oauth_env(command: &mut Command) -> &mut Command {
    command
        .env("QONTO_CLIENT_ID", "client-1")
        .env("QONTO_CLIENT_SECRET", format!("cs-{SENTINEL}"))
}

/// A token endpoint that refuses every grant, repeating the whole form in its description,
/// and an API that repeats the `Authorization` header (also on consent revocation).
fn echoing_oauth() -> Hostile {
    Hostile::start(|seen: &Seen| {
        if seen.path() == "/oauth2/token" {
            let form = String::from_utf8_lossy(&seen.body).into_owned();
            let body = serde_json::json!({"error":"invalid_grant","error_description":format!("form: {form}")});
            return json(400, body.to_string());
        }
        let echo = format!("token {}", seen.header("authorization").unwrap_or(""));
        let status = if seen.method == "DELETE" { 500 } else { 401 };
        json(
            status,
            serde_json::json!({"errors":[{"detail":echo}]}).to_string(),
        )
    })
}

#[test]
fn a_token_endpoint_repeating_the_form_never_shows_the_secrets() {
    let server = echoing_oauth();
    for args in [
        &["auth", "refresh"][..],
        &["request", "GET", "/v2/organization"],
        &["doctor"],
        &["doctor", "--output", "json"],
    ] {
        let dir = config_dir("echo-token");
        store_due_tokens(&dir, "offline_access organization.read");
        let mut command = qonto_at(&server.url, &dir);
        let (code, all) = clean_run(oauth_env(&mut command).args(args));
        assert_eq!(code, 5, "{args:?}: {all}");
        assert!(all.contains("[redacted]"), "{args:?}: {all}");
    }
}

#[test]
fn a_pasted_login_whose_exchange_is_echoed_never_shows_the_code() {
    let server = echoing_oauth();
    let (code, stdout, stderr) =
        paste_login(&server.url, "echo-paste", &format!("ory_ac_{SENTINEL}"));
    let all = format!("{stdout}{stderr}");
    assert!(!all.contains(SENTINEL), "{all}");
    assert_eq!(code, Some(5), "{all}");
}

#[test]
fn a_failed_revocation_on_logout_never_shows_the_access_token() {
    let server = echoing_oauth();
    let dir = config_dir("echo-logout");
    store_due_tokens(&dir, "offline_access");
    let mut command = qonto_at(&server.url, &dir);
    let (code, all) = clean_run(oauth_env(&mut command).args(["auth", "logout"]));
    assert_eq!(code, 0, "{all}");
    assert!(all.contains("could not revoke"), "{all}");
    assert!(!dir.join("tokens/default.json").exists());
}

#[test]
fn escape_sequences_from_a_server_never_reach_the_terminal() {
    let nasty = "\u{1b}]0;pwned\u{7}Main\u{1b}[2J";
    let server = Hostile::start(move |_: &Seen| {
        let account = serde_json::json!({"name": nasty, "iban": format!("FR76{nasty}"), "status": nasty, "main": true});
        let meta = serde_json::json!({"current_page":1,"next_page":null,"prev_page":null,"total_pages":1,"total_count":1,"per_page":100});
        json(
            200,
            serde_json::json!({"bank_accounts":[account],"meta":meta}).to_string(),
        )
    });
    let dir = config_dir("escapes");
    let mut command = qonto_at(&server.url, &dir);
    let (code, all) = clean_run(
        command
            .env("QONTO_API_KEY", GOOD_KEY)
            .args(["accounts", "list"]),
    );
    assert_eq!(code, 0, "{all}");
    assert!(
        all.contains("Main") && !all.contains('\u{1b}') && !all.contains('\u{7}'),
        "{all:?}"
    );
    store_due_tokens(&dir, &format!("offline_access {nasty}"));
    let mut command = qonto_at(&server.url, &dir);
    let (code, all) = clean_run(oauth_env(&mut command).args(["auth", "status"]));
    assert_eq!(code, 0, "{all}");
    assert!(
        all.contains("scopes:") && !all.contains('\u{1b}'),
        "{all:?}"
    );
}

#[test]
fn a_server_paginating_forever_is_stopped() {
    let server = Hostile::start(|seen: &Seen| {
        let page: u64 = seen
            .target
            .split("page=")
            .nth(1)
            .and_then(|p| p.split('&').next()?.parse().ok())
            .unwrap_or(1);
        let meta = serde_json::json!({"current_page":page,"next_page":page + 1,"prev_page":null,"total_pages":u32::MAX,"total_count":1,"per_page":100});
        json(
            200,
            serde_json::json!({"bank_accounts":[{"name":"x","main":false}],"meta":meta})
                .to_string(),
        )
    });
    let dir = config_dir("paginate");
    let mut command = qonto_at(&server.url, &dir);
    let (code, all) = clean_run(
        command
            .env("QONTO_API_KEY", GOOD_KEY)
            .args(["accounts", "list"]),
    );
    assert_eq!(code, 8, "{all}");
    assert!(all.contains("pagination_stopped"), "{all}");
    assert!(server.requests() <= 1_000, "{}", server.requests());
}

#[test]
fn profile_names_that_are_paths_are_refused() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("profile-names");
    for (flag, env) in [
        (Some("../../x"), None),
        (None, Some("/abs/path")),
        (Some("a\u{1b}b"), None),
    ] {
        let mut command = qonto(&mock, &dir);
        command
            .env("QONTO_CLIENT_ID", "c")
            .env("QONTO_CLIENT_SECRET", "s");
        if let Some(name) = flag {
            command.args(["--profile", name]);
        }
        if let Some(name) = env {
            command.env("QONTO_PROFILE", name);
        }
        let (code, json, all) =
            run(command.args(["auth", "logout", "--local-only", "--output", "json"]));
        assert_eq!(code, 4, "{all}");
        assert_eq!(json["error"]["code"], "profile_name_invalid", "{all}");
        assert!(!all.contains('\u{1b}'));
    }
    assert!(!dir.parent().unwrap().join("x.json").exists());
}

#[test]
fn a_fifo_config_file_is_refused_without_blocking() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(dir.join("config.toml"))
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let (code, json, all) = run(qonto(&mock, &dir).args(["doctor", "--output", "json"]));
    assert!(started.elapsed() < Duration::from_secs(10), "blocked");
    assert_eq!(code, 4, "{all}");
    assert_eq!(json["error"]["code"], "config_unreadable", "{all}");
}

#[cfg(unix)]
#[test]
fn a_config_file_with_secrets_readable_by_others_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("readable");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.default]\napi_key = \"{GOOD_KEY}\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, _, all) = run(qonto(&mock, &dir).arg("doctor"));
    assert!(all.contains("can be read by other users"), "{all}");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, _, all) = run(qonto(&mock, &dir).arg("doctor"));
    assert!(!all.contains("can be read by other users"), "{all}");
}

#[test]
fn a_secret_flag_given_with_a_space_is_not_echoed() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("clap-echo");
    let (code, _, all) = run(qonto(&mock, &dir).args(["doctor", "--api-key", "login", SENTINEL]));
    assert_eq!(code, 2, "{all}");
    assert!(!all.contains(SENTINEL), "{all}");
    assert!(all.contains("[redacted]"), "{all}");
    let (code, _, all) =
        run(qonto(&mock, &dir).args(["auth", "login", "--timeout", "18446744073709551615"]));
    assert_eq!(code, 2, "refused, not a panic: {all}");
}

fn login_setup(name: &str) -> (MockServer, PathBuf, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let client = OAuthClient {
        client_id: "slow-client".into(),
        client_secret: "slow-secret".into(),
        redirect_uris: vec![redirect.clone()],
        allowed_scopes: vec!["offline_access".into(), "organization.read".into()],
    };
    let mock = MockServer::start(
        MockConfig::default()
            .with_client(client)
            .with_auto_approve(true),
    )
    .unwrap();
    (mock, config_dir(name), redirect)
}

fn start_login(
    mock: &MockServer,
    dir: &Path,
    redirect: &str,
    timeout: &str,
) -> (std::process::Child, String) {
    let mut command = qonto(mock, dir);
    command
        .env("QONTO_CLIENT_ID", "slow-client")
        .env("QONTO_CLIENT_SECRET", "slow-secret")
        .env("QONTO_REDIRECT_URI", redirect)
        .args([
            "auth",
            "login",
            "--no-browser",
            "--output",
            "json",
            "--timeout",
            timeout,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let url = std::io::BufRead::lines(stderr)
        .map(Result::unwrap)
        .find(|l| l.starts_with("http://"))
        .unwrap();
    (child, url)
}

/// A local client that opens the callback port and sends one byte at a time.
fn trickle(redirect: &str) -> TcpStream {
    let authority = redirect
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.write_all(b"G").unwrap();
    stream
}

#[test]
fn a_trickling_local_client_holds_the_login_neither_past_its_timeout_nor_off_the_callback() {
    let (mock, dir, redirect) = login_setup("trickle-timeout");
    let (mut child, _) = start_login(&mock, &dir, &redirect, "3");
    let started = Instant::now();
    let mut slow = trickle(&redirect);
    // Keep trickling until the login gives up; it must do so at its own deadline.
    let finished = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        let _ = slow.write_all(b"E");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the login outlived its timeout"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(finished, Some(4));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    drop(child);

    // With a slow connection open, the real callback still gets through.
    let (mock, dir, redirect) = login_setup("trickle-callback");
    let (child, url) = start_login(&mock, &dir, &redirect, "30");
    let _slow = trickle(&redirect);
    let (status, location) = http_get(&url);
    assert_eq!(status, 302);
    assert_eq!(http_get(&location.unwrap()).0, 200);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_login_granted_no_refresh_token_despite_offline_access_says_so() {
    let server = Hostile::start(|seen: &Seen| {
        assert_eq!(seen.path(), "/oauth2/token");
        json(
            200,
            r#"{"access_token":"ory_at_short","expires_in":3600,"token_type":"bearer"}"#,
        )
    });
    let (code, _, rest) = paste_login(&server.url, "no-refresh-token", "ory_ac_1");
    assert_eq!(code, Some(0), "{rest}");
    assert!(rest.contains("no refresh token was granted"), "{rest}");
}

/// Runs `qonto auth login --paste` against `server_url`, reads the printed authorize URL for
/// its state, and pastes a callback carrying `code`; returns the exit code, stdout and stderr.
fn paste_login(server_url: &str, name: &str, code: &str) -> (Option<i32>, String, String) {
    let dir = config_dir(name);
    let mut command = qonto_at(server_url, &dir);
    oauth_env(&mut command)
        .args(["auth", "login", "--paste"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    // The state is in the printed URL; read it, then paste a redirect with that state.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let url = std::io::BufRead::lines(&mut stderr)
        .map(Result::unwrap)
        .find(|l| l.starts_with("http"))
        .unwrap();
    let state = url
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let pasted = format!("http://localhost:18920/callback?code={code}&state={state}");
    writeln!(child.stdin.take().unwrap(), "{pasted}").unwrap();
    let output = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code(), stdout, rest)
}
