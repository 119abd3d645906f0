//! `qonto mock serve --access-token-ttl SECS` and its read-only `GET /_mock/stats`, as a test
//! written in another language would use them: over HTTP only.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use qonto_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI};

/// A raw `POST` of a form body; returns the response body.
fn post_form(url: &str, path: &str, body: &str) -> String {
    let authority = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_once("\r\n\r\n").unwrap().1.to_owned()
}

fn json_body(response: &str) -> serde_json::Value {
    serde_json::from_str(response.split_once("\r\n\r\n").unwrap().1).unwrap()
}

#[test]
fn short_lived_tokens_and_the_counters_over_http() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qonto"))
        .args(["mock", "serve", "--auto-approve", "--access-token-ttl", "7"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();

    let (status, location) = common::http_get(&format!(
        "{url}/oauth2/auth?response_type=code&client_id={DEMO_CLIENT_ID}&redirect_uri={DEMO_REDIRECT_URI}\
         &scope=offline_access%20organization.read&state=s1"
    ));
    assert_eq!(status, 302);
    let location = location.unwrap();
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let tokens: serde_json::Value = serde_json::from_str(&post_form(
        &url,
        "/oauth2/token",
        &format!(
            "grant_type=authorization_code&code={code}&redirect_uri={DEMO_REDIRECT_URI}\
             &client_id={DEMO_CLIENT_ID}&client_secret={DEMO_CLIENT_SECRET}"
        ),
    ))
    .unwrap();
    assert_eq!(tokens["expires_in"], 7, "{tokens}");
    common::http_get(&format!("{url}/v2/organization"));

    let stats = json_body(&common::http_get_text(&format!("{url}/_mock/stats")));
    assert_eq!(stats["token_calls"]["authorization_code"], 1, "{stats}");
    assert_eq!(stats["api_calls"]["401"], 1, "{stats}");
    child.kill().unwrap();
    child.wait().unwrap();
}
