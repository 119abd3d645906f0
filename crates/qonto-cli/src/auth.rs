//! `qonto auth login|status|refresh|logout`.

use qonto_auth_core::Code;
use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use qonto_auth_core::EnvironmentKind;
use qonto_auth_core::Timestamp;
use qonto_auth_core::environment::is_loopback;
use qonto_auth_core::facts::{CONSENTS_PATH, USER_ORGANIZATION_SCOPE};
use qonto_auth_core::http::{Method, Uri};
use qonto_auth_core::oauth::{
    AuthorizeUrl, CallbackError, CsrfState, PkceVerifier, parse_callback,
};
use qonto_auth_core::secret::AuthorizationCode;
use serde_json::json;

use crate::cli::{LoginArgs, Output};
use crate::failure::Failure;
use crate::output::{one_line, print_json};
use crate::settings::{Credential, Resolved, TokenLocation};

/// The authorization-code flow: browser (or printed URL) and loopback callback, or a pasted
/// redirect URL; then the code exchange, whose tokens go to the profile's file store.
pub(crate) fn login(resolved: &Resolved, args: &LoginArgs, output: Output) -> Result<(), Failure> {
    let oauth = resolved.oauth_client()?;
    let environment = resolved.environment()?;
    // Where the tokens will go is settled before the browser opens: no keychain and no
    // permission for a file fails now, not after the user approved.
    let location = resolved.token_location()?;
    let new_file = match &location {
        TokenLocation::File { path, .. } => std::fs::symlink_metadata(path).is_err(),
        TokenLocation::Keychain(_) => false,
    };
    let state = CsrfState::random().map_err(|e| {
        Failure::configuration(Code::NoRandomness, e.to_string(), "check the system")
    })?;
    let pkce = if args.pkce {
        Some(PkceVerifier::random().map_err(|e| {
            Failure::configuration(Code::NoRandomness, e.to_string(), "check the system")
        })?)
    } else {
        None
    };
    let mut scopes: Vec<&str> = args.scopes.iter().map(String::as_str).collect();
    if args.user && !scopes.contains(&USER_ORGANIZATION_SCOPE) {
        scopes.push(USER_ORGANIZATION_SCOPE);
    }
    let mut url = AuthorizeUrl::new(&oauth, &scopes, &state);
    // One setting, one meaning: the organization the commands act for is pre-selected here.
    if let Some(org) = environment.organization_id() {
        url = url.organization_id(org.as_str());
    }
    if args.user {
        url = url.user_flow();
    }
    if let Some(verifier) = &pkce {
        url = url.pkce(verifier);
    }
    let url = url.build(environment.endpoints());
    if environment.kind() == EnvironmentKind::Sandbox {
        let portal = if is_loopback_url(environment.endpoints().oauth().as_str()) {
            format!(
                " (with `qonto mock serve --sandbox`: open {}/_mock/portal-login)",
                environment.endpoints().oauth()
            )
        } else {
            String::new()
        };
        eprintln_flush(&format!(
            "Sandbox: first log in to the Sandbox web app through the Developer Portal (Toolkit > \
             Sandbox web app) in the browser you will use, or the authorize page will not \
             open{portal}; the sandbox's SMS code is 123456."
        ));
    }

    let code = if args.paste {
        eprintln_flush(&format!(
            "Open this URL in a browser, approve, then paste the URL you were redirected to:\n{url}"
        ));
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Failure::configuration(Code::StdinUnreadable, e.to_string(), "paste the URL")
        })?;
        parse_callback(&line, &state).map_err(callback_failure)?
    } else {
        let listener = bind_callback(oauth.redirect_uri())?;
        if args.no_browser {
            eprintln_flush(&format!("Open this URL in a browser to authorize:\n{url}"));
        } else {
            eprintln_flush(&format!(
                "Opening the browser to authorize (or open this URL yourself):\n{url}"
            ));
        }
        if !args.no_browser {
            open_browser(&url);
        }
        eprintln_flush("Waiting for the browser to come back (Ctrl-C to cancel)...");
        wait_for_callback(
            &listener,
            oauth.redirect_uri(),
            &state,
            Duration::from_secs(args.timeout),
        )?
    };
    exchange(resolved, &code, pkce.as_ref())?;
    if new_file {
        // Announced once: when the tokens first land in a file.
        eprintln_flush(&format!(
            "warning: the OAuth tokens of profile `{}` are stored in the file {} (readable only \
             by you) rather than the OS keychain, as --insecure-storage or the profile's \
             storage = \"file\" asked; `qonto profile migrate {}` moves them to the keychain",
            resolved.profile,
            resolved.token_path().display(),
            resolved.profile
        ));
    }
    let refresh_token = resolved
        .store()?
        .load()
        .ok()
        .flatten()
        .map(|t| t.refresh_token.is_some());
    if scopes.contains(&"offline_access") && refresh_token == Some(false) {
        eprintln_flush(
            "warning: offline_access was asked for but no refresh token was granted: this login \
             lasts until the access token expires (about an hour), then `qonto auth login` is \
             needed again; check that the client may request offline_access (Developer Portal)",
        );
    }
    report_tokens(resolved, output, "logged_in")
}

fn exchange(
    resolved: &Resolved,
    code: &AuthorizationCode,
    pkce: Option<&PkceVerifier>,
) -> Result<(), Failure> {
    let client = resolved.client_replacing_store()?;
    client.exchange_code(code, pkce).map_err(Failure::from)
}

fn callback_failure(error: CallbackError) -> Failure {
    let code = match error {
        CallbackError::StateMismatch | CallbackError::StateMissing => Code::CallbackStateMismatch,
        CallbackError::Denied { .. } => Code::AuthorizationDenied,
        _ => Code::CallbackInvalid,
    };
    Failure::configuration(
        code,
        error.to_string(),
        "run `qonto auth login` again (one login at a time)",
    )
}

/// Binds the loopback listener for a redirect URI such as `http://localhost:18920/callback`.
fn bind_callback(redirect_uri: &str) -> Result<TcpListener, Failure> {
    let uri: Uri = redirect_uri
        .parse()
        .map_err(|_| bad_redirect(redirect_uri))?;
    let host = uri.host().unwrap_or_default();
    if uri.scheme_str() != Some("http") || !is_loopback(host) {
        return Err(Failure::configuration(
            Code::RedirectNotLoopback,
            format!(
                "the redirect URI {redirect_uri} is not a loopback http URL, so this machine cannot receive the callback"
            ),
            "use --paste, or register http://localhost:PORT/callback for the client",
        ));
    }
    let port = uri.port_u16().unwrap_or(80);
    // An IP literal is bound as given (`[::1]` too); `localhost` listens on 127.0.0.1.
    let ip: std::net::IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    TcpListener::bind((ip, port)).map_err(|e| {
        Failure::configuration(
            Code::CallbackPortBusy,
            format!("cannot listen on 127.0.0.1:{port}: {e}"),
            "free the port, or use --paste",
        )
    })
}

fn bad_redirect(uri: &str) -> Failure {
    Failure::configuration(
        Code::RedirectUriInvalid,
        format!("invalid redirect URI {uri}"),
        "check --redirect-uri",
    )
}

/// How long one browser connection may take to send its request head.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; a flood beyond this drops the oldest.
const MAX_CONNECTIONS: usize = 16;
/// The longest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// A browser connection whose request head is still arriving.
struct Pending {
    stream: TcpStream,
    head: Vec<u8>,
    deadline: Instant,
}

/// Serves the loopback callback until the expected path arrives or the timeout passes.
///
/// Everything is non-blocking on one thread: the overall deadline holds whatever clients do,
/// each connection has its own deadline, and new connections are accepted while a slow one
/// is still open, so a local client trickling bytes can neither hold the login past its
/// timeout nor keep the real callback out.
fn wait_for_callback(
    listener: &TcpListener,
    redirect_uri: &str,
    state: &CsrfState,
    timeout: Duration,
) -> Result<AuthorizationCode, Failure> {
    let expected_path = redirect_uri
        .parse::<Uri>()
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| "/".into());
    let listener_error =
        |e: std::io::Error| Failure::configuration(Code::CallbackListener, e.to_string(), "retry");
    listener.set_nonblocking(true).map_err(listener_error)?;
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<Pending> = Vec::new();
    let mut spinner = Spinner::new();
    loop {
        let now = Instant::now();
        if now >= deadline {
            spinner.clear();
            return Err(Failure::configuration(
                Code::LoginTimeout,
                format!("no callback within {} s", timeout.as_secs()),
                "run `qonto auth login` again, or use --paste on a machine without a browser",
            ));
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) if stream.set_nonblocking(true).is_ok() => {
                    if pending.len() == MAX_CONNECTIONS {
                        pending.remove(0);
                    }
                    let deadline = now + CONNECTION_DEADLINE;
                    pending.push(Pending {
                        stream,
                        head: Vec::new(),
                        deadline,
                    });
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(listener_error(e)),
            }
        }
        let mut answer = None;
        pending.retain_mut(|connection| {
            if answer.is_some() {
                return true;
            }
            match read_head(connection, now) {
                HeadState::Waiting => true,
                HeadState::Gone => false,
                HeadState::Complete => {
                    answer = handle_callback(
                        &mut connection.stream,
                        &connection.head,
                        &expected_path,
                        state,
                    );
                    false
                }
            }
        });
        if let Some(result) = answer {
            spinner.clear();
            return result;
        }
        spinner.tick(deadline.saturating_duration_since(now));
        // Polling keeps every deadline exact without threads.
        std::thread::sleep(Duration::from_millis(10));
    }
}

enum HeadState {
    Waiting,
    Complete,
    Gone,
}

/// Reads what has arrived of a connection's request head, without blocking.
fn read_head(connection: &mut Pending, now: Instant) -> HeadState {
    let mut buf = [0u8; 1024];
    loop {
        if connection.head.windows(4).any(|w| w == b"\r\n\r\n") || connection.head.len() >= MAX_HEAD
        {
            return HeadState::Complete;
        }
        match connection.stream.read(&mut buf) {
            Ok(0) => return HeadState::Gone,
            Ok(n) => connection.head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return if now >= connection.deadline {
                    HeadState::Gone
                } else {
                    HeadState::Waiting
                };
            }
            Err(_) => return HeadState::Gone,
        }
    }
}

/// A one-line progress indicator on stderr, only when stderr is a terminal.
struct Spinner {
    enabled: bool,
    frame: usize,
    last: Instant,
}

impl Spinner {
    const FRAMES: [char; 4] = ['|', '/', '-', '\\'];

    fn new() -> Self {
        use std::io::IsTerminal as _;
        Self {
            enabled: std::io::stderr().is_terminal(),
            frame: 0,
            last: Instant::now(),
        }
    }

    fn tick(&mut self, left: Duration) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(120) {
            return;
        }
        self.last = Instant::now();
        self.frame = (self.frame + 1) % Self::FRAMES.len();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{} waiting for the browser ({} s left) ",
            Self::FRAMES[self.frame],
            left.as_secs()
        );
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{:60}\r", "");
            let _ = err.flush();
        }
    }
}

/// Answers one browser request; `None` when it was not the callback (for example a favicon).
fn handle_callback(
    stream: &mut TcpStream,
    head: &[u8],
    expected_path: &str,
    state: &CsrfState,
) -> Option<Result<AuthorizationCode, Failure>> {
    // The answer is small; a client that does not read it may take at most a second.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let text = String::from_utf8_lossy(head);
    let target = text
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("/");
    if target.split('?').next() != Some(expected_path) {
        respond(
            stream,
            "404 Not Found",
            "Not found",
            "This is not the login callback.",
        );
        return None;
    }
    let result = parse_callback(target, state);
    match &result {
        Ok(_) => respond(
            stream,
            "200 OK",
            "Logged in",
            "qonto received the authorization: you can close this tab and return to the terminal.",
        ),
        Err(error) => respond(
            stream,
            "400 Bad Request",
            "Login failed",
            &format!("{error}. Run `qonto auth login` again."),
        ),
    }
    Some(result.map_err(callback_failure))
}

/// The page the browser shows after the callback: a heading (the page's title too) and one
/// sentence, with no script and no outside resource.
fn respond(stream: &mut TcpStream, status: &str, heading: &str, message: &str) {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>qonto: {heading}</title>\n<style>body{{font-family:sans-serif;margin:4em auto;\
         max-width:36em;padding:0 1em;color:#222}}h1{{font-size:1.6em}}</style></head>\n\
         <body>\n<h1 id=\"outcome\">{heading}</h1>\n<p id=\"message\">{}</p>\n</body>\n</html>\n",
        html_escape(message)
    );
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         content-security-policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Opens the system browser; failures are fine, the URL is printed anyway.
fn open_browser(url: &str) {
    if let Err(error) = opener::open_browser(url) {
        eprintln_flush(&format!(
            "(could not open a browser: {error}; open the URL above)"
        ));
    }
}

fn eprintln_flush(text: &str) {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// Whether a base URL's host is loopback (a local mock).
fn is_loopback_url(url: &str) -> bool {
    url.parse::<Uri>()
        .ok()
        .and_then(|u| u.host().map(is_loopback))
        .unwrap_or(false)
}

fn now() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
}

/// `qonto auth status`.
pub(crate) fn status(resolved: &Resolved, output: Output) -> Result<(), Failure> {
    match &resolved.credential {
        Credential::OAuth { .. } => report_tokens(resolved, output, "status"),
        other => {
            let method = match other {
                Credential::ApiKey(_) => "api_key",
                Credential::AccessToken(_) => "access_token",
                _ => "none",
            };
            match output {
                Output::Json => print_json(&json!({
                    "method": method,
                    "environment": resolved.kind.as_str(),
                    "profile": resolved.profile,
                    "secrets": secrets_json(resolved),
                })),
                Output::Text => {
                    let mut out = anstream::stdout();
                    let _ = writeln!(
                        out,
                        "method: {method} (nothing to refresh)\nenvironment: {}\nprofile: {}",
                        resolved.kind, resolved.profile
                    );
                    write_secret_sources(&mut out, resolved);
                }
            }
            Ok(())
        }
    }
}

/// Prints what the profile's token file says, with no secret.
fn report_tokens(resolved: &Resolved, output: Output, event: &str) -> Result<(), Failure> {
    let location = resolved.token_location()?;
    // `--token-store postgres://…`: one connection id's row of a shared table.
    let shared = resolved
        .shared_store
        .as_ref()
        .and_then(|s| crate::pgstore::describe(&s.url, s.connection.as_deref()));
    let tokens = resolved.store()?.load().map_err(|e| match &shared {
        Some(_) => Failure::store(&e),
        None => Failure::configuration(Code::TokenStoreUnreadable, e.to_string(), "log in again"),
    })?;
    let now = now();
    let Some(tokens) = tokens else {
        return Err(Failure(qonto_auth_core::diagnose::Finding {
            code: Code::NotLoggedIn,
            severity: qonto_auth_core::diagnose::Severity::Fail,
            family: qonto_auth_core::diagnose::Family::Rejected,
            message: format!("no OAuth tokens stored for profile `{}`", resolved.profile),
            fix: "run `qonto auth login`".into(),
            trace_id: None,
        }));
    };
    let expires_in = tokens.expires_at.unix_secs() as i64 - now.unix_secs() as i64;
    let lifetime = qonto_auth_core::facts::REFRESH_TOKEN_LIFETIME.as_secs() as i64;
    let refresh_age = tokens
        .refresh_issued_at
        .map(|at| now.unix_secs() as i64 - at.unix_secs() as i64);
    let days_left = refresh_age.map(|age| (lifetime - age).max(0) / 86_400);
    match output {
        Output::Json => print_json(&json!({
            "event": event,
            "method": "oauth",
            "environment": resolved.kind.as_str(),
            "profile": resolved.profile,
            "token_storage": if shared.is_some() { "postgres" } else { storage_name(&location) },
            "token_store": shared,
            "keychain_backend": matches!(location, TokenLocation::Keychain(_)).then_some(crate::keychain::BACKEND),
            "token_file": match &location {
                TokenLocation::File { path, .. } => Some(path),
                TokenLocation::Keychain(_) => None,
            },
            "secrets": secrets_json(resolved),
            "access_token_expires_at": tokens.expires_at.unix_secs(),
            "access_token_expires_in_secs": expires_in,
            "has_refresh_token": tokens.refresh_token.is_some(),
            "refresh_token_age_secs": refresh_age,
            "refresh_token_days_left": days_left,
            "scope": tokens.scope,
            "refresh_pending_since": tokens.refresh_pending_since.map(Timestamp::unix_secs),
        })),
        Output::Text => {
            let mut out = anstream::stdout();
            let access = if expires_in > 0 {
                format!("expires in {} min", expires_in / 60)
            } else {
                "expired (refreshed on next use)".into()
            };
            let _ = writeln!(
                out,
                "method: oauth\nenvironment: {}\nprofile: {}\ntokens: {}",
                resolved.kind,
                resolved.profile,
                shared.as_ref().map_or_else(
                    || describe_location(&location),
                    |shared| format!("PostgreSQL {shared}")
                )
            );
            write_secret_sources(&mut out, resolved);
            let _ = writeln!(out, "access token: {access}");
            match (refresh_age, days_left) {
                (Some(age), Some(left)) => {
                    let _ = writeln!(
                        out,
                        "refresh token: issued {} days ago, {left} days left of 90",
                        age / 86_400
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "refresh token: none (request the offline_access scope)"
                    );
                }
            }
            if let Some(scope) = &tokens.scope {
                let _ = writeln!(out, "scopes: {}", one_line(scope));
            }
            if let Some(since) = tokens.refresh_pending_since {
                let ago = now.saturating_since(since).as_secs();
                let _ = writeln!(
                    out,
                    "interrupted refresh: {ago} s ago; within about 50 s the next call retries it once, after that `qonto auth login` is needed"
                );
            }
        }
    }
    Ok(())
}

/// `keychain` or `file`.
fn storage_name(location: &TokenLocation) -> &'static str {
    match location {
        TokenLocation::File { .. } => "file",
        TokenLocation::Keychain(_) => "keychain",
    }
}

/// Where the tokens are, in words.
pub(crate) fn describe_location(location: &TokenLocation) -> String {
    match location {
        TokenLocation::Keychain(_) => {
            format!("OS keychain ({})", crate::keychain::BACKEND)
        }
        TokenLocation::File {
            path,
            legacy: false,
        } => format!("file {} (insecure storage, as asked)", path.display()),
        TokenLocation::File { path, legacy: true } => format!(
            "file {} (from before the keychain: `qonto profile migrate` moves it there)",
            path.display()
        ),
    }
}

/// Where each secret in use came from, as JSON (`{"client_secret": "keychain"}`).
fn secrets_json(resolved: &Resolved) -> serde_json::Value {
    resolved
        .secret_sources
        .iter()
        .map(|(name, source)| ((*name).to_owned(), json!(source.as_str())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// One line per secret in use: `client secret: OS keychain (linux-keyutils)`.
fn write_secret_sources(out: &mut dyn Write, resolved: &Resolved) {
    for (name, source) in &resolved.secret_sources {
        let _ = writeln!(
            out,
            "{}: {}",
            name.replace('_', " "),
            crate::profile::describe_source(*source)
        );
    }
}

/// `qonto auth refresh`.
pub(crate) fn refresh(resolved: &Resolved, output: Output) -> Result<(), Failure> {
    resolved.client()?.refresh_now()?;
    report_tokens(resolved, output, "refreshed")
}

/// `qonto auth logout`: revoke the consent (unless `local_only`), then delete the tokens.
pub(crate) fn logout(resolved: &Resolved, local_only: bool, output: Output) -> Result<(), Failure> {
    if !matches!(resolved.credential, Credential::OAuth { .. }) {
        return Err(Failure::configuration(
            Code::NotOauth,
            "logout removes stored OAuth tokens, and this configuration uses none",
            "an API key is revoked by regenerating it in the web app (Integrations and Partnerships > API key)",
        ));
    }
    let client = resolved.client_replacing_store()?;
    let revoked = if local_only {
        false
    } else {
        match client.send(Method::DELETE, CONSENTS_PATH, None) {
            Ok(_) => true,
            Err(error) => {
                let failure = Failure::from(error);
                eprintln_flush(&format!(
                    "warning: could not revoke the consent ({}); deleting the local tokens anyway",
                    failure.0.message
                ));
                false
            }
        }
    };
    client.logout()?;
    match output {
        Output::Json => print_json(
            &json!({"event": "logged_out", "consent_revoked": revoked, "profile": resolved.profile}),
        ),
        Output::Text => {
            let mut out = anstream::stdout();
            let _ = writeln!(
                out,
                "logged out of profile {}{}",
                resolved.profile,
                if revoked { " (consent revoked)" } else { "" }
            );
        }
    }
    Ok(())
}
