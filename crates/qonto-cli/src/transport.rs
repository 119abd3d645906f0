//! What the command line adds to the transport: `-v` (qonto-auth's tracing on stderr) and
//! `--ca-cert FILE` (the only certificate authorities HTTPS trusts).

use std::path::Path;
use std::sync::OnceLock;

use qonto_auth_core::Code;
use qonto_ureq::ClientBuilder;
use qonto_ureq::tls::{CaBundle, TlsRoots};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;

use crate::failure::Failure;

/// The TLS roots of this run, set once by [`init`].
static ROOTS: OnceLock<TlsRoots> = OnceLock::new();

/// Reads the command line's transport settings: starts tracing for `verbosity` and reads the
/// CA bundle, if one was given.
///
/// # Errors
///
/// [`Code::ConfigUnreadable`] when the CA bundle cannot be read or holds no certificate.
pub(crate) fn init(verbosity: u8, ca_cert: Option<&Path>) -> Result<(), Failure> {
    init_tracing(verbosity);
    let roots = match ca_cert {
        None => TlsRoots::default(),
        Some(path) => TlsRoots::Custom(CaBundle::from_pem_file(path).map_err(|e| {
            Failure::configuration(
                Code::ConfigUnreadable,
                e.to_string(),
                "give --ca-cert (or QONTO_CA_CERT) a PEM file of CA certificates",
            )
        })?),
    };
    let _ = ROOTS.set(roots);
    Ok(())
}

/// Applies this run's transport settings to a client builder: every client of the command
/// is built through here.
pub(crate) fn configure(builder: ClientBuilder) -> ClientBuilder {
    let roots = ROOTS.get().cloned().unwrap_or_default();
    builder.tls_roots(roots)
}

/// Shows qonto-auth's spans and events on stderr: with `-v`, each call's span when it closes
/// (method, path, token fingerprint, status, trace id) and what the token lifecycle did
/// (refreshes, retries after a 401, rate limits, re-authorization required); `-vv` adds every
/// answer; `-vvv` adds the HTTP client's own events. Secrets are never among them.
fn init_tracing(verbosity: u8) {
    let filter = match verbosity {
        0 => return,
        1 => Targets::new().with_target(qonto_ureq::trace::TARGET, LevelFilter::INFO),
        2 => Targets::new().with_target(qonto_ureq::trace::TARGET, LevelFilter::DEBUG),
        _ => Targets::new().with_default(LevelFilter::TRACE),
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(LevelFilter::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .finish()
        .with(filter);
    let _ = tracing::subscriber::set_global_default(subscriber);
}
