//! The OS keychain for real (on Linux the kernel's keyutils, no mock): a profile's secrets and
//! OAuth tokens kept there, a refresh shared by two processes through it, migration from
//! files, and the file storage a user asks for, announced once. These tests fail, never
//! skip, where the machine has no keychain.

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use qonto_mock::DEMO_CLIENT_SECRET;

const CLIENT_ID: &str = "keychain-test-client";
const CLIENT_SECRET: &str = "keychain-client-secret-SENTINEL";

/// `qonto` with the default storage: the OS keychain.
fn keychain_qonto(mock: &MockServer, dir: &std::path::Path) -> Command {
    let mut command = qonto(mock, dir);
    command.env_remove("QONTO_INSECURE_STORAGE");
    command
}

/// Runs, asserts that no secret was printed, and returns the code and stdout as JSON.
fn json(command: &mut Command) -> (i32, serde_json::Value) {
    let (code, json, all) = run(command.args(["--output", "json"]));
    assert!(!all.contains("SENTINEL"), "a secret was printed: {all}");
    (code, json)
}

/// Names the backend in the test output (written past the test harness's capture).
fn announce(status: &serde_json::Value) {
    let _ = writeln!(
        std::io::stderr(),
        "keychain backend: {} (token_storage: {})",
        status["keychain_backend"],
        status["token_storage"]
    );
}

#[cfg(target_os = "linux")]
const BACKEND: &str = "linux-keyutils";
#[cfg(target_os = "macos")]
const BACKEND: &str = "macos-keychain";
#[cfg(windows)]
const BACKEND: &str = "windows-credential-manager";

#[test]
fn profile_secrets_and_login_tokens_round_trip_through_the_keychain() {
    let (mock, redirect) = mock_with_client(
        MockConfig::default().with_auto_approve(true),
        CLIENT_ID,
        CLIENT_SECRET,
        &["offline_access", "organization.read"],
    );
    let dir = config_dir("keychain-round-trip");
    // The client secret comes from the environment once, and lives in the keychain after.
    let (code, added) = json(
        keychain_qonto(&mock, &dir)
            .env("QONTO_CLIENT_SECRET", CLIENT_SECRET)
            .args(["profile", "add", "kc", "--client-id", CLIENT_ID])
            .args(["--redirect-uri", &redirect]),
    );
    assert_eq!(code, 0, "{added}");
    assert_eq!(added["secrets"]["client_secret"], "keychain");
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(!config.contains("SENTINEL"), "{config}");
    assert!(config.contains("[profiles.kc]"), "{config}");

    let profile = || {
        let mut command = keychain_qonto(&mock, &dir);
        command.args(["--profile", "kc"]);
        command
    };
    let (code, shown) = json(profile().args(["profile", "show"]));
    assert_eq!(code, 0, "{shown}");
    assert_eq!(shown["secrets"]["client_secret"]["stored_in"], "keychain");
    assert_eq!(shown["secrets"]["api_key"]["set"], false);
    assert_eq!(shown["tokens"]["stored"], false);
    let (_, listed) = json(profile().args(["profile", "list"]));
    assert_eq!(listed[0]["name"], "kc");
    assert_eq!(listed[0]["method"], "oauth");
    assert_eq!(listed[0]["storage"], "keychain");

    let (child, url) =
        spawn_for_url(profile().args(["auth", "login", "--no-browser", "--output", "json"]));
    let (status, location) = http_get(&url);
    assert_eq!(status, 302);
    assert_eq!(http_get(&location.unwrap()).0, 200);
    let (code, login) = finish(child);
    assert_eq!(code, 0, "{login}");
    assert!(
        !dir.join("tokens/kc.json").exists(),
        "no token file in keychain storage"
    );

    let (code, status) = json(profile().args(["auth", "status"]));
    assert_eq!(code, 0, "{status}");
    announce(&status);
    assert_eq!(status["token_storage"], "keychain");
    assert_eq!(status["keychain_backend"], BACKEND);
    assert_eq!(status["token_file"], serde_json::Value::Null);
    assert_eq!(status["secrets"]["client_secret"], "keychain");
    let (_, _, text) = run(profile().args(["auth", "status"]));
    assert!(
        text.contains(&format!("tokens: OS keychain ({BACKEND})")),
        "{text}"
    );
    assert!(
        text.contains(&format!("client secret: OS keychain ({BACKEND})")),
        "{text}"
    );

    let (code, accounts) = json(profile().args(["accounts", "list"]));
    assert_eq!(code, 0, "{accounts}");
    let (code, refreshed) = json(profile().args(["auth", "refresh"]));
    assert_eq!(code, 0, "{refreshed}");
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    let (code, _) = json(profile().args(["accounts", "list"]));
    assert_eq!(code, 0, "the refreshed tokens were stored");

    let (code, out) = json(profile().args(["auth", "logout"]));
    assert_eq!(code, 0, "{out}");
    let (code, status) = json(profile().args(["auth", "status"]));
    assert_eq!(code, 5);
    assert_eq!(status["error"]["code"], "not_logged_in");

    let (code, removed) = json(keychain_qonto(&mock, &dir).args(["profile", "remove", "kc"]));
    assert_eq!(code, 0, "{removed}");
    assert_eq!(
        removed["keychain_entries_removed"],
        serde_json::json!(["client_secret"])
    );
    let (code, shown) = json(profile().args(["profile", "show"]));
    assert_eq!(code, 4);
    assert_eq!(shown["error"]["code"], "profile_not_found");
}

#[test]
fn a_migrated_profile_refreshes_once_for_two_processes_through_the_keychain() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("keychain-two-processes");
    let oauth = |command: &mut Command| {
        command
            .env("QONTO_CLIENT_ID", DEMO_CLIENT_ID)
            .env("QONTO_CLIENT_SECRET", DEMO_CLIENT_SECRET);
    };
    // A token file from before the keychain: it keeps working, and one command moves it.
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(
        dir.join("tokens/default.json"),
        due_tokens(&mock).to_persisted_json(),
    )
    .unwrap();
    let mut status = keychain_qonto(&mock, &dir);
    oauth(&mut status);
    let (code, before) = json(status.args(["auth", "status"]));
    assert_eq!(code, 0, "{before}");
    assert_eq!(before["token_storage"], "file");
    let (code, migrated) = json(keychain_qonto(&mock, &dir).args(["profile", "migrate"]));
    assert_eq!(code, 0, "{migrated}");
    assert_eq!(migrated["tokens_moved"], true);
    assert!(!dir.join("tokens/default.json").exists());

    // A slow token endpoint keeps the first refresher inside the lock while the second
    // process arrives: it then finds the rotated tokens in the keychain.
    mock.faults().token_delay(Duration::from_millis(400));
    let children: Vec<Child> = (0..2)
        .map(|_| {
            let mut command = keychain_qonto(&mock, &dir);
            oauth(&mut command);
            command
                .args(["request", "GET", "/v2/organization"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    assert_all_succeed(children);
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 2);

    let mut status = keychain_qonto(&mock, &dir);
    oauth(&mut status);
    let (code, after) = json(status.args(["auth", "status"]));
    assert_eq!(code, 0, "{after}");
    announce(&after);
    assert_eq!(after["token_storage"], "keychain");
    assert_eq!(after["keychain_backend"], BACKEND);
    assert!(after["access_token_expires_in_secs"].as_i64().unwrap() > 600);
    assert!(!dir.join("tokens/default.json").exists());

    let mut logout = keychain_qonto(&mock, &dir);
    oauth(&mut logout);
    assert_eq!(json(logout.args(["auth", "logout", "--local-only"])).0, 0);
}

#[test]
fn file_storage_is_asked_for_and_announced_once() {
    let (mock, redirect) = mock_with_client(
        MockConfig::default().with_auto_approve(true),
        CLIENT_ID,
        CLIENT_SECRET,
        &["offline_access"],
    );
    let dir = config_dir("keychain-insecure");
    let login = |n: u32| {
        let log = dir.join(format!("login-{n}.log"));
        let mut child = qonto(&mock, &dir)
            .env("QONTO_CLIENT_ID", CLIENT_ID)
            .env("QONTO_CLIENT_SECRET", CLIENT_SECRET)
            .env("QONTO_REDIRECT_URI", &redirect)
            .args([
                "auth",
                "login",
                "--no-browser",
                "--scopes",
                "offline_access",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let url = loop {
            let text = std::fs::read_to_string(&log).unwrap();
            if let Some(url) = text.lines().find(|l| l.starts_with("http://")) {
                break url.to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{text}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let (_, location) = http_get(&url);
        assert_eq!(http_get(&location.unwrap()).0, 200);
        assert!(child.wait().unwrap().success());
        std::fs::read_to_string(&log).unwrap()
    };
    let first = login(1);
    assert!(first.contains("rather than the OS keychain"), "{first}");
    assert!(dir.join("tokens/default.json").exists());
    let second = login(2);
    assert!(!second.contains("rather than the OS keychain"), "{second}");
}

#[test]
fn a_file_profile_moves_to_the_keychain_in_one_command() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("keychain-migrate-secrets");
    let key = format!("{DEMO_LOGIN}:{DEMO_SECRET}");
    // The sentinel check: the key is the mock's, so it cannot carry the marker; check it too.
    let clean = |text: &str| assert!(!text.contains(DEMO_SECRET), "the key was printed: {text}");
    let (code, added, all) = run(qonto(&mock, &dir)
        .env("QONTO_API_KEY", &key)
        .args(["profile", "add", "old", "--output", "json"]));
    clean(&all);
    assert_eq!(code, 0, "{added}");
    assert_eq!(added["storage"], "file");
    assert!(
        all.contains("rather than the OS keychain"),
        "announced: {all}"
    );
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains(DEMO_SECRET) && config.contains("storage = \"file\""));

    let profile = || {
        let mut command = keychain_qonto(&mock, &dir);
        command.args(["--profile", "old"]);
        command
    };
    let (_, shown, all) = run(profile().args(["profile", "show", "--output", "json"]));
    clean(&all);
    assert_eq!(shown["secrets"]["api_key"]["stored_in"], "config_file");
    assert_eq!(shown["storage"], "file");

    let (code, migrated, all) = run(profile().args(["profile", "migrate", "--output", "json"]));
    clean(&all);
    assert_eq!(code, 0, "{migrated}");
    assert_eq!(migrated["secrets_moved"], serde_json::json!(["api_key"]));
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(!config.contains(DEMO_SECRET), "{config}");
    assert!(!config.contains("storage"), "{config}");
    assert!(config.contains("[profiles.old]"), "{config}");

    let (_, shown, all) = run(profile().args(["profile", "show", "--output", "json"]));
    clean(&all);
    assert_eq!(shown["secrets"]["api_key"]["stored_in"], "keychain");
    let (code, status, all) = run(profile().args(["auth", "status", "--output", "json"]));
    clean(&all);
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["method"], "api_key");
    assert_eq!(status["secrets"]["api_key"], "keychain");
    let (code, report, all) = run(profile().args(["doctor", "--output", "json"]));
    clean(&all);
    assert_eq!(code, 0, "the key from the keychain works: {report}");
    let (code, _, _) = run(profile().args(["profile", "remove", "old"]));
    assert_eq!(code, 0);
}
