//! A real browser: `qonto auth login` opens the authorize URL through `BROWSER`, a small
//! driver that hands it to headless Chromium (through chromedriver's WebDriver API); the
//! browser goes through the sandbox mock's portal login and consent page, as a person would,
//! and lands on the CLI's loopback callback, whose page says the login succeeded.
//!
//! Needs Debian's `chromium` and `chromium-driver` (and `curl`), which `.ci/run` installs: the
//! test fails, never skips, without them. Chromium runs with no network but loopback, and
//! screenshots of the consent and success pages are kept in
//! `target/tmp/browser-login/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};

const CLIENT_ID: &str = "browser-test-client";
const CLIENT_SECRET: &str = "browser-client-secret-SENTINEL";
const STAGING: &str = "browser-staging-token";

/// Chromium's flags: headless, and nothing that reaches beyond loopback.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1000,640",
];

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The first of `names` found on PATH (or as an absolute path).
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        let name = Path::new(name);
        if name.is_absolute() {
            return name.is_file().then(|| name.to_owned());
        }
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// A chromedriver process and one headless Chromium session.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Browser {
    fn start(profile_dir: &Path) -> Self {
        let chromedriver = find_program(&["chromedriver", "/usr/lib/chromium/chromedriver"])
            .expect("chromedriver is missing: install Debian's chromium-driver (.ci/run does)");
        let chromium = find_program(&["/usr/lib/chromium/chromium", "chromium"])
            .expect("Chromium is missing: install Debian's chromium (.ci/run does)");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut browser = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
        };
        let started = Instant::now();
        while browser.call("GET", "/status", None).get("ready") != Some(&json!(true)) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver never got ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile_dir.display()));
        let created = browser.call(
            "POST",
            "/session",
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args},
            }}})),
        );
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_owned();
        browser
    }

    /// One WebDriver command; returns its `value` (the whole answer when it has none).
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let Ok(mut response) = response else {
            return Value::Null;
        };
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        answer.get("value").cloned().unwrap_or(answer)
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// The URL that navigates this session, for the BROWSER driver.
    fn navigate_endpoint(&self) -> String {
        format!("{}{}", self.base, self.session_path("/url"))
    }

    /// Waits for an element matching `css` and returns its WebDriver id.
    fn wait_for(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let found = self.call(
                "POST",
                &self.session_path("/element"),
                Some(json!({"using": "css selector", "value": css})),
            );
            if let Some(id) = found[ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no `{css}` on {} ({found})",
                self.call("GET", &self.session_path("/url"), None)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn click(&self, css: &str) {
        let id = self.wait_for(css);
        self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/click")),
            Some(json!({})),
        );
    }

    fn text(&self, css: &str) -> String {
        let id = self.wait_for(css);
        let value = self.call(
            "GET",
            &self.session_path(&format!("/element/{id}/text")),
            None,
        );
        value.as_str().unwrap_or_default().to_owned()
    }

    fn title(&self) -> String {
        let value = self.call("GET", &self.session_path("/title"), None);
        value.as_str().unwrap_or_default().to_owned()
    }

    fn current_url(&self) -> String {
        let value = self.call("GET", &self.session_path("/url"), None);
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a PNG of the viewport.
    fn screenshot(&self, path: &Path) {
        let value = self.call("GET", &self.session_path("/screenshot"), None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().expect("a screenshot"))
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            self.call("DELETE", &self.session_path(""), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The `BROWSER` program: opens the URL it is given in the WebDriver session.
fn write_browser_driver(dir: &Path, navigate: &str) -> PathBuf {
    let curl = find_program(&["curl"]).expect("curl is missing (.ci/run installs it)");
    let script = dir.join("browser-driver.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             # BROWSER for `qonto auth login`: open \"$1\" in the test's headless Chromium.\n\
             exec {} -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
             --data \"{{\\\"url\\\": \\\"$1\\\"}}\" '{navigate}'\n",
            curl.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

#[test]
fn auth_login_in_headless_chromium_through_portal_login_and_consent() {
    let (mock, redirect) = mock_with_client(
        MockConfig::sandbox(STAGING).with_authorize_requires_portal_session(true),
        CLIENT_ID,
        CLIENT_SECRET,
        &["offline_access", "organization.read"],
    );
    let dir = config_dir("browser");
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-login");
    std::fs::create_dir_all(&artifacts).unwrap();
    let browser = Browser::start(&dir.join("chromium-profile"));
    let driver = write_browser_driver(&dir, &browser.navigate_endpoint());

    let log = dir.join("login.log");
    let child = qonto(&mock, &dir)
        .env("BROWSER", &driver)
        .env("QONTO_ENV", "sandbox")
        .env("QONTO_STAGING_TOKEN", STAGING)
        .env("QONTO_CLIENT_ID", CLIENT_ID)
        .env("QONTO_CLIENT_SECRET", CLIENT_SECRET)
        .env("QONTO_REDIRECT_URI", &redirect)
        .args(["auth", "login", "--timeout", "90", "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();

    // The sandbox asks for a Developer Portal session first, in this same browser.
    browser.click("#portal-login");
    browser.click("#continue");
    // The consent page.
    let heading = browser.text("h1");
    assert!(heading.contains("asks for access"), "{heading}");
    assert!(heading.contains(CLIENT_ID), "{heading}");
    browser.screenshot(&artifacts.join("consent.png"));
    browser.click("#allow");

    // The CLI's own page, after the callback.
    let outcome = browser.text("#outcome");
    let message = browser.text("#message");
    let landed = browser.current_url();
    browser.screenshot(&artifacts.join("success.png"));
    assert!(landed.starts_with(&redirect), "{landed}");
    assert_eq!(outcome, "Logged in", "{message}");
    assert!(message.contains("return to the terminal"), "{message}");
    assert_eq!(browser.title(), "qonto: Logged in");

    let output = child.wait_with_output().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("SENTINEL"), "{stderr}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["event"], "logged_in", "{json}");
    assert_eq!(json["has_refresh_token"], true);
    assert!(stderr.contains("Opening the browser"), "{stderr}");
    assert_eq!(mock.stats().token_calls("authorization_code"), 1);

    // The tokens are stored: the next command uses them.
    let (code, status, _) = run(qonto(&mock, &dir)
        .env("QONTO_ENV", "sandbox")
        .env("QONTO_STAGING_TOKEN", STAGING)
        .env("QONTO_CLIENT_ID", CLIENT_ID)
        .env("QONTO_CLIENT_SECRET", CLIENT_SECRET)
        .args(["auth", "status", "--output", "json"]));
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["event"], "status");
    assert!(dir.join("tokens/default.json").exists());
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("browser login: screenshots in {}\n", artifacts.display()).as_bytes(),
    );
}
