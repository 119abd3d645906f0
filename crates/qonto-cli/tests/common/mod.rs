//! Running the real `qonto` binary against qonto-mock.

#![allow(dead_code, unreachable_pub, reason = "each test file uses a subset")]

pub mod hostile;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[allow(unused_imports, reason = "each test file uses a subset")]
pub use qonto_mock::{DEMO_CLIENT_ID, DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};

pub const GOOD_KEY: &str = "demo-org-1234:0123456789abcdef0123456789abcdef";

/// A fresh config directory for one test.
pub fn config_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qonto-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `qonto` with a clean environment (no QONTO_* from the caller) aimed at `mock`.
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
