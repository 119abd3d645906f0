//! Token files shared by OS processes: one refresh for two processes, and crashes mid-refresh
//! that leave a store that still works.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::*;
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_mock::DEMO_CLIENT_SECRET;

/// Writes tokens issued by the mock whose expiry (by the wall clock the CLI reads) is due for
/// a refresh.
fn write_due_tokens(mock: &MockServer, dir: &std::path::Path) -> TokenSet {
    let tokens = due_tokens(mock);
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(dir.join("tokens/default.json"), tokens.to_persisted_json()).unwrap();
    tokens
}

fn stored(dir: &std::path::Path) -> TokenSet {
    TokenSet::from_persisted_json(&std::fs::read(dir.join("tokens/default.json")).unwrap()).unwrap()
}

fn request(mock: &MockServer, dir: &std::path::Path) -> std::process::Command {
    let mut command = qonto(mock, dir);
    command
        .env("QONTO_CLIENT_ID", DEMO_CLIENT_ID)
        .env("QONTO_CLIENT_SECRET", DEMO_CLIENT_SECRET)
        .args(["request", "GET", "/v2/organization"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn two_processes_sharing_a_token_file_refresh_once() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("two-processes");
    let before = write_due_tokens(&mock, &dir);
    // A slow token endpoint keeps the first refresher inside its lock while the second arrives.
    mock.faults().token_delay(Duration::from_millis(400));
    let children: Vec<Child> = (0..2)
        .map(|_| request(&mock, &dir).spawn().unwrap())
        .collect();
    assert_all_succeed(children);
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    let after = stored(&dir);
    assert!(!after.same_tokens(&before), "the rotated tokens are stored");
    assert_eq!(
        mock.stats().requests("/v2/organization", 200),
        2,
        "both used valid tokens"
    );
}

#[test]
fn killed_while_waiting_for_the_token_response_leaves_a_working_store() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("crash-in-flight");
    let before = write_due_tokens(&mock, &dir);
    mock.faults().token_delay(Duration::from_secs(30));
    let mut child = request(&mock, &dir).spawn().unwrap();
    // The server has rotated the tokens; the process dies before reading the answer.
    wait_for(
        "the refresh to reach the server",
        Duration::from_secs(20),
        || mock.stats().token_calls("refresh_token") == 1,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    mock.faults().clear();
    assert!(
        stored(&dir).same_tokens(&before),
        "the old tokens are intact"
    );
    assert!(
        stored(&dir).refresh_pending_since.is_some(),
        "and marked as pending"
    );
    let mut status = qonto(&mock, &dir);
    status
        .env("QONTO_CLIENT_ID", DEMO_CLIENT_ID)
        .env("QONTO_CLIENT_SECRET", DEMO_CLIENT_SECRET)
        .args(["auth", "status", "--output", "json"]);
    let (code, json, _) = run(&mut status);
    assert_eq!(code, 0);
    assert!(json["refresh_pending_since"].is_u64(), "{json}");
    // Inside the 60 s grace window the old refresh token still works.
    let output = request(&mock, &dir).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stored(&dir).same_tokens(&before));
}

#[test]
fn a_dead_refresh_token_after_the_grace_window_asks_for_login_and_keeps_the_file() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("crash-after-grace");
    let before = write_due_tokens(&mock, &dir);
    mock.faults().lose_next_token_responses(2);
    // Both answers lost: the process stops refreshing but still serves its valid token.
    let output = request(&mock, &dir).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        2,
        "one loss, one retry, then stop"
    );
    // The file says the refresh token may be consumed since before the grace window: a new
    // process asks for a login without presenting it (which would revoke the whole grant).
    let mut marked = stored(&dir);
    let since = marked
        .refresh_pending_since
        .expect("the refresh is marked as pending");
    // The CLI reads the system clock: move the mark 61 s into the past (and the mock's clock
    // 61 s ahead, so a presented token would be refused there too).
    marked.refresh_pending_since = Some(since - Duration::from_secs(61));
    // And let the access token expire, so only a refresh could serve the next call.
    marked.expires_at = Timestamp::from_system_time(SystemTime::now());
    std::fs::write(dir.join("tokens/default.json"), marked.to_persisted_json()).unwrap();
    mock.clock().advance(Duration::from_secs(61));
    let output = request(&mock, &dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("reauthorization_required"), "{stderr}");
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        2,
        "never presented after the window"
    );
    assert!(
        stored(&dir).same_tokens(&before),
        "the store is never truncated or lost"
    );
}

#[test]
fn a_leftover_temporary_file_from_a_crash_is_harmless() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("crash-temp");
    write_due_tokens(&mock, &dir);
    // A crash between writing the temporary file and renaming it leaves this behind.
    std::fs::write(
        dir.join("tokens/.default.json.tmp.999.0"),
        b"{\"format\":1,\"acc",
    )
    .unwrap();
    let output = request(&mock, &dir).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stored(&dir);
}

#[test]
fn a_corrupt_token_file_is_reported_and_left_untouched() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("corrupt");
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(dir.join("tokens/default.json"), b"{\"format\":1,\"acc").unwrap();
    let output = request(&mock, &dir).output().unwrap();
    assert_ne!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("left untouched"));
    assert_eq!(
        std::fs::read(dir.join("tokens/default.json")).unwrap(),
        b"{\"format\":1,\"acc"
    );
}

#[test]
fn logging_out_removes_a_corrupt_token_file() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("corrupt-logout");
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(dir.join("tokens/default.json"), b"garbage").unwrap();
    let mut command = qonto(&mock, &dir);
    command
        .env("QONTO_CLIENT_ID", DEMO_CLIENT_ID)
        .env("QONTO_CLIENT_SECRET", DEMO_CLIENT_SECRET)
        .args(["auth", "logout", "--local-only"]);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!dir.join("tokens/default.json").exists());
}

#[test]
fn a_refresh_whose_tokens_cannot_be_saved_exits_8_and_keeps_the_last_good_state() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let dir = config_dir("unsaved");
    let before = write_due_tokens(&mock, &dir);
    mock.faults().token_delay(Duration::from_secs(2));
    let child = request(&mock, &dir).spawn().unwrap();
    wait_for(
        "the refresh to reach the server",
        Duration::from_secs(20),
        || mock.stats().token_calls("refresh_token") == 1,
    );
    // The token directory is replaced while the answer is on its way: the rotated tokens
    // cannot be written (we may run as root, so permissions would not stop the write).
    let moved = dir.join("tokens.moved");
    std::fs::rename(dir.join("tokens"), &moved).unwrap();
    std::fs::write(dir.join("tokens"), b"not a directory").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(8), "{stderr}");
    assert!(stderr.contains("[tokens_not_saved]"), "{stderr}");
    let store_dir = dir.join("tokens").display().to_string();
    assert!(stderr.contains(&store_dir), "names the store: {stderr}");
    assert!(
        stderr.contains("within about a minute"),
        "says what to do: {stderr}"
    );
    // The last good state is kept: the previous tokens, marked as being refreshed.
    let kept =
        TokenSet::from_persisted_json(&std::fs::read(moved.join("default.json")).unwrap()).unwrap();
    assert!(kept.same_tokens(&before));
    assert!(kept.refresh_pending_since.is_some());
    // Once the store is fixed, the next command (inside the grace window) refreshes again
    // with the kept refresh token and saves the result.
    std::fs::remove_file(dir.join("tokens")).unwrap();
    std::fs::rename(&moved, dir.join("tokens")).unwrap();
    mock.faults().clear();
    let output = request(&mock, &dir).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(mock.stats().token_calls("refresh_token"), 2);
    let after = stored(&dir);
    assert!(!after.same_tokens(&before) && after.refresh_pending_since.is_none());
}

#[test]
fn five_processes_with_short_lived_tokens_refresh_once_between_them() {
    // Tokens living 120 s are due at once by the 5-minute margin; each process queued on the
    // lock adopts what the first stored, which counts as a fresh refresh.
    let mock = MockServer::start(
        MockConfig::default().with_access_token_lifetime(Duration::from_secs(120)),
    )
    .unwrap();
    let dir = config_dir("five-processes");
    write_due_tokens(&mock, &dir);
    mock.faults().token_delay(Duration::from_millis(300));
    let children: Vec<Child> = (0..5)
        .map(|_| request(&mock, &dir).spawn().unwrap())
        .collect();
    assert_all_succeed(children);
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 5);
}
