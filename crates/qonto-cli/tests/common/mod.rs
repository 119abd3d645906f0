//! Running the real `qonto` binary against qonto-mock.

#![allow(dead_code, unreachable_pub, reason = "each test file uses a subset")]

pub mod hostile;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[allow(unused_imports, reason = "each test file uses a subset")]
pub use qonto_mock::{
    DEMO_CLIENT_ID, DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer, OAuthClient,
};

pub const GOOD_KEY: &str = "demo-org-1234:0123456789abcdef0123456789abcdef";

/// A fresh config directory for one test.
pub fn config_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qonto-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `qonto` with a clean environment (no QONTO_* from the caller) aimed at `mock`, keeping
/// its tokens in files.
pub fn qonto(mock: &MockServer, config_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qonto"));
    for (key, _) in std::env::vars() {
        if key.starts_with("QONTO_") {
            command.env_remove(key);
        }
    }
    command
        .env("QONTO_API_BASE_URL", mock.url())
        .env("QONTO_OAUTH_BASE_URL", mock.url())
        .env("QONTO_CONFIG_DIR", config_dir)
        // Token files, as these tests inspect them; tests/keychain.rs covers the keychain.
        .env("QONTO_INSECURE_STORAGE", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

pub fn run(command: &mut Command) -> (i32, serde_json::Value, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    let stdout = String::from_utf8(stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    let stderr = String::from_utf8(stderr).unwrap();
    (
        status.code().unwrap_or(-1),
        json,
        format!("{stdout}{stderr}"),
    )
}

/// The codes of a doctor report's findings.
pub fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// A raw HTTP GET returning the whole response (head and body) as text.
pub fn http_get_text(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A raw HTTP GET returning the status line's code and the `Location` header.
pub fn http_get(url: &str) -> (u16, Option<String>) {
    let response = http_get_text(url);
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let location = response
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("location:"))
        .map(|l| l[9..].trim().to_owned());
    (status, location)
}

/// A free loopback port (for a redirect URI the CLI then listens on).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An OAuth client of the mock whose redirect URI is a free loopback port.
pub fn loopback_client(client_id: &str, client_secret: &str, scopes: &[&str]) -> OAuthClient {
    OAuthClient {
        client_id: client_id.into(),
        client_secret: client_secret.into(),
        redirect_uris: vec![format!("http://127.0.0.1:{}/callback", free_port())],
        allowed_scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Starts a command and returns it with the first line of its stderr that starts with
/// `http://` (the authorize URL `qonto auth login` prints).
pub fn spawn_for_url(command: &mut Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let url = stderr
        .lines()
        .map(Result::unwrap)
        .find(|line| line.starts_with("http://"))
        .expect("the authorize URL is printed");
    (child, url)
}

/// Waits for a child and returns its exit code and stdout as JSON.
pub fn finish(child: std::process::Child) -> (i32, serde_json::Value) {
    let output = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap(), json)
}

/// A mock holding one OAuth client (see [`loopback_client`]), and that client's redirect URI.
pub fn mock_with_client(
    config: MockConfig,
    client_id: &str,
    client_secret: &str,
    scopes: &[&str],
) -> (MockServer, String) {
    let client = loopback_client(client_id, client_secret, scopes);
    let redirect = client.redirect_uris[0].clone();
    (
        MockServer::start(config.with_client(client)).unwrap(),
        redirect,
    )
}

/// Tokens the mock issued to its demo client, due for a refresh by the wall clock the CLI
/// reads.
pub fn due_tokens(mock: &MockServer) -> qonto_auth_core::TokenSet {
    use qonto_auth_core::secret::{AccessToken, RefreshToken};
    let issued = mock.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
    let now = qonto_auth_core::Timestamp::from_system_time(std::time::SystemTime::now());
    qonto_auth_core::TokenSet {
        access_token: AccessToken::new(issued.access_token),
        expires_at: now + std::time::Duration::from_secs(120),
        refresh_token: issued.refresh_token.map(RefreshToken::new),
        refresh_issued_at: Some(now),
        scope: Some(issued.scope),
        refresh_pending_since: None,
    }
}

/// Waits for every child, asserting that each succeeded (showing its stderr when not).
pub fn assert_all_succeed(children: Vec<std::process::Child>) {
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
