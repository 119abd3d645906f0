//! `qonto accounts list` and `qonto request`.

use qonto_auth_core::Code;
use std::io::Write;

use qonto_auth_core::facts::USER_ORGANIZATIONS_PATH;
use qonto_auth_core::header::AuthMethod;
use qonto_auth_core::http::Method;
use serde_json::json;

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use qonto_ureq::{ApiResponse, CallSpec, Client, ScaPending, ScaPreference};
use zeroize::Zeroizing;

use crate::cli::{Output, RequestArgs, ScaPreferenceArg};
use crate::failure::Failure;
use crate::output::{one_line, print_json, terminal_text};
use crate::settings::{Credential, Resolved};

fn method_of(resolved: &Resolved) -> Option<AuthMethod> {
    match resolved.credential {
        Credential::ApiKey(_) => Some(AuthMethod::ApiKey),
        Credential::Missing => None,
        _ => Some(AuthMethod::OAuth),
    }
}

/// Lists every bank account (all pages).
pub(crate) fn accounts_list(resolved: &Resolved, output: Output) -> Result<(), Failure> {
    let client = resolved.client()?;
    let accounts = client
        .bank_accounts()
        .map_err(|e| Failure::from_client(e, method_of(resolved)))?;
    match output {
        Output::Json => {
            let rows: Vec<_> = accounts
                .iter()
                .map(|a| {
                    json!({
                        "id": a.id, "name": a.name, "iban": a.iban, "currency": a.currency,
                        "balance_cents": a.balance_cents, "status": a.status, "main": a.main,
                    })
                })
                .collect();
            print_json(&json!(rows));
        }
        Output::Text => {
            let mut out = anstream::stdout();
            let _ = writeln!(
                out,
                "{:<24} {:<34} {:>16} {:<8} MAIN",
                "NAME", "IBAN", "BALANCE", "STATUS"
            );
            for a in &accounts {
                let balance = match (a.balance_cents, &a.currency) {
                    (Some(cents), Some(cur)) => {
                        let sign = if cents < 0 { "-" } else { "" };
                        let abs = cents.unsigned_abs();
                        format!("{sign}{}.{:02} {cur}", abs / 100, abs % 100)
                    }
                    _ => "-".into(),
                };
                // Server strings: no control characters (escape sequences) on the terminal.
                let field = |v: Option<&str>| one_line(v.unwrap_or("-"));
                let _ = writeln!(
                    out,
                    "{:<24} {:<34} {:>16} {:<8} {}",
                    one_line(&a.name),
                    field(a.iban.as_deref()),
                    one_line(&balance),
                    field(a.status.as_deref()),
                    if a.main { "yes" } else { "" }
                );
            }
        }
    }
    Ok(())
}

/// Lists the organizations of a User OAuth flow consent.
pub(crate) fn organizations_list(resolved: &Resolved, output: Output) -> Result<(), Failure> {
    let client = resolved.client()?;
    let listed: serde_json::Value = client
        .get_json(USER_ORGANIZATIONS_PATH, "user organizations")
        .map_err(|e| Failure::from_client(e, method_of(resolved)))?;
    let organizations = listed["organizations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let text = |v: &serde_json::Value, key: &str| one_line(v[key].as_str().unwrap_or("-"));
    match output {
        Output::Json => {
            let rows: Vec<_> = organizations
                .iter()
                .map(|o| {
                    json!({
                        "id": o["id"], "name": o["name"], "legal_name": o["legal_name"],
                        "membership_role": o["membership_role"],
                    })
                })
                .collect();
            print_json(&json!(rows));
        }
        Output::Text => {
            let mut out = anstream::stdout();
            let _ = writeln!(out, "{:<38} {:<30} ROLE", "ID", "NAME");
            for o in &organizations {
                let (id, name, role) = (text(o, "id"), text(o, "name"), text(o, "membership_role"));
                let _ = writeln!(out, "{id:<38} {name:<30} {role}");
            }
        }
    }
    Ok(())
}

/// Sends one authenticated request and prints the answer's body.
pub(crate) fn request(resolved: &Resolved, args: &RequestArgs) -> Result<(), Failure> {
    let upper = args.method.to_ascii_uppercase();
    if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(&upper.as_str()) {
        return Err(Failure::configuration(
            Code::InvalidMethod,
            format!("`{}` is not a method the API uses", args.method),
            "use GET, POST, PUT, PATCH, DELETE or HEAD",
        ));
    }
    let method = Method::from_bytes(upper.as_bytes()).map_err(|_| {
        Failure::configuration(
            Code::InvalidMethod,
            format!("`{}` is not an HTTP method", args.method),
            "use GET, POST, PUT, PATCH or DELETE",
        )
    })?;
    let spec = call_spec(method, args)?;
    let client = resolved.client()?;
    let response = match client.call(spec) {
        Err(qonto_ureq::Error::ScaRequired(pending)) => approve(&client, *pending),
        other => other,
    }
    .map_err(|e| Failure::from_client(e, method_of(resolved)))?;
    let mut out = anstream::stdout();
    match serde_json::from_slice::<serde_json::Value>(&response.body) {
        Ok(value) => {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
        Err(_) => {
            let text = terminal_text(&String::from_utf8_lossy(&response.body));
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(())
}

/// The call `qonto request` describes: body, headers, query pairs, idempotency and SCA options.
fn call_spec(method: Method, args: &RequestArgs) -> Result<CallSpec, Failure> {
    let body = args
        .data
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
        .transpose()
        .map_err(|e| {
            Failure::configuration(
                Code::InvalidJson,
                format!("--data is not JSON: {e}"),
                "pass a JSON document",
            )
        })?;
    let mut spec = CallSpec::new(method, &args.path).json(body.as_ref());
    for header in &args.headers {
        let invalid = || {
            Failure::configuration(
                Code::RequestHeaderInvalid,
                format!("--header {:?} is not a usable header", one_line(header)),
                "write it as 'Name: value'; Authorization, the staging token, the organization \
                 and the SCA headers are set by qonto itself",
            )
        };
        let (name, value) = header.split_once(':').ok_or_else(invalid)?;
        spec = spec.header_text(name, value).map_err(|_| invalid())?;
    }
    for pair in &args.query {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Failure::configuration(
                Code::InvalidRequest,
                format!("--query {:?} is not key=value", one_line(pair)),
                "write each query pair as key=value",
            ));
        };
        spec = spec.query(key, value);
    }
    if let Some(key) = &args.idempotency_key {
        spec = spec.idempotency_key(key.clone());
    }
    if args.no_idempotency_key {
        spec = spec.without_idempotency_key();
    }
    if let Some(preference) = args.sca_preference {
        spec = spec.sca_preference(match preference {
            ScaPreferenceArg::PairedDevice => ScaPreference::PairedDevice,
            ScaPreferenceArg::Passkey => ScaPreference::Passkey,
            ScaPreferenceArg::SmsOtp => ScaPreference::SmsOtp,
            ScaPreferenceArg::Mock => ScaPreference::Mock,
        });
    }
    if let Some(secs) = args.sca_timeout {
        spec = spec.sca_timeout(Duration::from_secs(secs));
    }
    Ok(spec)
}

/// Tells the user what to approve (stderr), then waits for the decision and replays; a
/// progress line shows the wait on terminals only. The sms-otp method reads the code instead.
fn approve(client: &Client, pending: ScaPending) -> Result<ApiResponse, qonto_ureq::Error> {
    let challenge = pending.challenge().clone();
    let mut err = anstream::stderr();
    let how = match challenge.preference {
        ScaPreference::PairedDevice => "approve it in the Qonto app on the paired phone",
        ScaPreference::Passkey => "open the link Qonto sent by SMS and confirm with the passkey",
        ScaPreference::SmsOtp => "enter the one-time code Qonto sent by SMS",
        _ => {
            "decide it with the sandbox's mocked SCA session (`qonto mock serve`: POST /_mock/sca/allow)"
        }
    };
    let _ = writeln!(
        err,
        "Strong customer authentication: {}. To continue, {how}.",
        one_line(&challenge.message)
    );
    let terminal = std::io::stderr().is_terminal();
    if challenge.needs_otp {
        if terminal {
            let _ = write!(err, "One-time code: ");
            let _ = err.flush();
        }
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let otp = Zeroizing::new(line);
        return client.resume(pending, Some(otp.trim()));
    }
    if !terminal {
        return client.resume(pending, None);
    }
    let waiting = std::thread::current();
    std::thread::scope(|scope| {
        let call = scope.spawn(move || {
            let result = client.resume(pending, None);
            waiting.unpark();
            result
        });
        let started = Instant::now();
        while !call.is_finished() {
            let _ = write!(
                err,
                "\r\x1b[2KWaiting for the approval… {} s",
                started.elapsed().as_secs()
            );
            let _ = err.flush();
            std::thread::park_timeout(Duration::from_secs(1));
        }
        let _ = write!(err, "\r\x1b[2K");
        call.join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
