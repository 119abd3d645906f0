//! `qonto webhook verify`: checks the `X-Qonto-Signature` of a delivery against its raw body,
//! read from standard input, with the subscription's secret read from a file.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use qonto_auth_core::facts::WEBHOOK_SIGNATURE_HEADER;
use qonto_auth_core::secret::WebhookSecret;
use qonto_auth_core::webhook::{WebhookError, verify_signature};
use qonto_auth_core::{Code, Timestamp};
use serde_json::json;

use crate::cli::Output;
use crate::failure::Failure;
use crate::output::print_json;

/// The largest body read from standard input (1 MiB).
const MAX_BODY: u64 = 1024 * 1024;
/// The largest secret file read (Qonto's secrets are at most 128 characters).
const MAX_SECRET_FILE: u64 = 64 * 1024;

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Check a delivery's X-Qonto-Signature: the raw body on stdin, e.g.
    /// `qonto webhook verify --secret-file secret.txt --signature "$SIG" < body.json`.
    /// Prints `valid` and exits 0, or exits 4 with the reason.
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// File holding the subscription's webhook secret (a trailing line break is ignored).
    /// Repeat it while rotating secrets: any of them may match.
    #[arg(long, required = true, value_name = "FILE")]
    pub(crate) secret_file: Vec<PathBuf>,
    /// The X-Qonto-Signature header's value as received, `t=…,v1=…` (a leading
    /// `X-Qonto-Signature:` is accepted).
    #[arg(long, value_name = "HEADER VALUE")]
    pub(crate) signature: String,
    /// Seconds the signature time may be away from now, either way.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub(crate) tolerance: u64,
}

/// Runs a `webhook` subcommand.
pub(crate) fn run(command: &WebhookCommand, output: Output) -> Result<(), Failure> {
    match command {
        WebhookCommand::Verify(args) => verify(args, output),
    }
}

fn verify(args: &VerifyArgs, output: Output) -> Result<(), Failure> {
    let secrets = args
        .secret_file
        .iter()
        .map(|path| read_secret(path))
        .collect::<Result<Vec<_>, _>>()?;
    let body = read_body()?;
    let now = Timestamp::from_system_time(SystemTime::now());
    let tolerance = Duration::from_secs(args.tolerance);
    let secret_refs: Vec<&WebhookSecret> = secrets.iter().collect();
    let header = header_value(&args.signature);
    let signed = verify_signature(header, &body, &secret_refs, now, tolerance)
        .map_err(|error| refused(&error))?;
    match output {
        Output::Json => print_json(&json!({
            "ok": true,
            "valid": true,
            "signed_at": signed.timestamp.unix_secs(),
            "secret_file": args.secret_file.get(signed.secret_index).map(|p| p.display().to_string()),
        })),
        Output::Text => {
            let mut out = anstream::stdout();
            let _ = writeln!(out, "valid");
        }
    }
    Ok(())
}

/// The header value, without a `X-Qonto-Signature:` name pasted in front of it.
fn header_value(raw: &str) -> &str {
    let raw = raw.trim();
    match raw.split_once(':') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case(WEBHOOK_SIGNATURE_HEADER) => {
            value.trim()
        }
        _ => raw,
    }
}

/// Reads a secret file; its content is never part of a message.
fn read_secret(path: &Path) -> Result<WebhookSecret, Failure> {
    let unreadable = |why: String| {
        Failure::configuration(
            Code::WebhookSecretUnreadable,
            format!(
                "cannot read the webhook secret file {}: {why}",
                path.display()
            ),
            "give --secret-file a readable text file holding only the subscription's secret",
        )
    };
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|file| file.take(MAX_SECRET_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(unreadable(format!(
            "it is larger than {} KiB",
            MAX_SECRET_FILE / 1024
        )));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8".into()))?;
    let len = text.trim_end_matches(['\r', '\n']).len();
    text.truncate(len);
    Ok(WebhookSecret::new(text))
}

/// Reads the raw body from standard input, up to [`MAX_BODY`].
fn read_body() -> Result<Vec<u8>, Failure> {
    let unreadable = |message: String| {
        Failure::configuration(
            Code::WebhookBodyUnreadable,
            message,
            "pipe the delivery's raw body, exactly as received, into standard input",
        )
    };
    let mut body = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| unreadable(format!("cannot read the body from standard input: {e}")))?;
    if body.len() as u64 > MAX_BODY {
        return Err(unreadable(format!(
            "the body on standard input is larger than {} MiB",
            MAX_BODY / (1024 * 1024)
        )));
    }
    Ok(body)
}

/// The failure for a refused delivery, with what to do about it.
fn refused(error: &WebhookError) -> Failure {
    let fix = match error {
        WebhookError::NoSecret => {
            "put the subscription's secret (returned when it was created) in the --secret-file"
        }
        WebhookError::Malformed(_) => {
            "pass the X-Qonto-Signature header's value as received, such as t=1704110400,v1=<64 hex digits>"
        }
        WebhookError::Mismatch => {
            "use this subscription's secret (not the API key or the OAuth client secret), and pipe the body byte for byte as received"
        }
        WebhookError::TooOld { .. } => {
            "a replayed or delayed delivery; to check an old capture, raise --tolerance"
        }
        WebhookError::FromFuture { .. } => "check this machine's clock (NTP)",
        _ => "see the message above",
    };
    Failure::configuration(error.code(), error.to_string(), fix)
}
