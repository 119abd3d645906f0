//! A local HTTPS server for the transports' TLS tests: a certificate authority generated at
//! start-up (rcgen), a server certificate it signs for `127.0.0.1` and `localhost`, and a
//! rustls server on a loopback port that answers every request with a small JSON document.
//!
//! Each test drives a real TLS handshake with the transport's own TLS stack, as its features
//! choose: trusted through [`TlsServer::ca_pem`], refused through any other roots (the
//! generated authority is in no trust store). The server counts completed and failed
//! handshakes ([`TlsServer::seen`], [`TlsServer::wait_until`]), so a test can tell a refused
//! certificate from a connection that never happened.
//!
//! It is test support only: no HTTP parsing beyond the request head, one answer per
//! connection (`Connection: close`), never published.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The body of every answer.
pub const BODY: &str = r#"{"organization":{"slug":"tls-test","bank_accounts":[]}}"#;

/// The trace id every answer carries in `X-Tyk-Trace-Id`.
pub const TRACE_ID: &str = "tls-test-trace";

/// A running HTTPS server on `127.0.0.1`; it stops accepting when dropped.
#[derive(Debug)]
pub struct TlsServer {
    addr: SocketAddr,
    ca_pem: String,
    counts: Arc<Counts>,
}

/// What the server saw, so far.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Seen {
    /// Handshakes completed.
    pub handshakes: usize,
    /// Handshakes the client broke off (a refused certificate) or that failed otherwise.
    pub failed_handshakes: usize,
    /// Requests answered.
    pub answered: usize,
}

#[derive(Debug, Default)]
struct Counts {
    seen: Mutex<Seen>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Counts {
    fn note(&self, change: impl FnOnce(&mut Seen)) {
        change(&mut self.seen.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_all();
    }
}

impl TlsServer {
    /// Generates the authority and the server certificate, binds a loopback port, and serves
    /// on a thread.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound or a certificate cannot be generated.
    pub fn start() -> io::Result<Self> {
        let (ca_pem, chain, key) = certificates().map_err(io::Error::other)?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(io::Error::other)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let shared = Arc::clone(&counts);
        let config = Arc::new(config);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stop.load(Ordering::Acquire) {
                    return;
                }
                let Ok(stream) = stream else {
                    continue;
                };
                let (config, counts) = (Arc::clone(&config), Arc::clone(&shared));
                thread::spawn(move || serve(stream, config, &counts));
            }
        });
        Ok(Self {
            addr,
            ca_pem,
            counts,
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The generated authority's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A production environment whose API and OAuth hosts are this server.
    ///
    /// # Panics
    ///
    /// Never for the server's own URL.
    pub fn environment(&self) -> Environment {
        let endpoints = Endpoints::new(&self.url(), &self.url()).expect("a valid https URL");
        Environment::new(EnvironmentKind::Production, None, endpoints).expect("production")
    }

    /// What the server saw so far.
    pub fn seen(&self) -> Seen {
        *self
            .counts
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `done` holds for what the server saw (it notes a refused handshake a moment
    /// after the client gave up), at most 10 s; returns what it saw last.
    pub fn wait_until(&self, done: impl Fn(&Seen) -> bool) -> Seen {
        let seen = self
            .counts
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (seen, _) = self
            .counts
            .changed
            .wait_timeout_while(seen, Duration::from_secs(10), |s| !done(s))
            .unwrap_or_else(PoisonError::into_inner);
        *seen
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.counts.stop.store(true, Ordering::Release);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// A test authority (PEM), and a server certificate chain and key it signed.
fn certificates()
-> Result<(String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), rcgen::Error> {
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "qonto-auth test authority");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca = ca.self_signed(&ca_key)?;

    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()])?;
    leaf.subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    leaf.distinguished_name
        .push(DnType::CommonName, "qonto-auth test server");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf.signed_by(&leaf_key, &ca, &ca_key)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    Ok((ca.pem(), vec![leaf.der().clone()], key))
}

/// One connection: the handshake, a request head, one answer.
fn serve(stream: TcpStream, config: Arc<rustls::ServerConfig>, counts: &Counts) {
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    while tls.conn.is_handshaking() {
        if tls.conn.complete_io(&mut tls.sock).is_err() {
            counts.note(|s| s.failed_handshakes += 1);
            return;
        }
    }
    counts.note(|s| s.handshakes += 1);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tls.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Tyk-Trace-Id: {TRACE_ID}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    if tls
        .write_all(answer.as_bytes())
        .and_then(|()| tls.flush())
        .is_ok()
    {
        counts.note(|s| s.answered += 1);
    }
    tls.conn.send_close_notify();
    let _ = tls.flush();
}
