//! The server handle: binding, the background runtime, the accept loop, connections.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::clock::MockClock;
use crate::config::MockConfig;
use crate::faults::Faults;
use crate::request::{ReadOutcome, read_request};
use crate::router::{Outcome, handle};
use crate::state::Shared;
use crate::stats::Stats;
use crate::util::lock;
use crate::writes::ScaDecision;

/// A running mock of Qonto's API and OAuth server on one loopback port.
///
/// The server runs on its own thread with its own Tokio runtime, so it can be started from a
/// plain `#[test]` or from inside an async runtime. Dropping the handle stops it.
#[derive(Debug)]
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Tokens created by [`MockServer::issue_tokens`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    /// The access token (`ory_at_…`).
    pub access_token: String,
    /// The refresh token (`ory_rt_…`), present when the scopes include `offline_access`.
    pub refresh_token: Option<String>,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
    /// Granted scopes, space-separated.
    pub scope: String,
}

impl MockServer {
    /// Binds (to `config.bind`, or `127.0.0.1:0`) and starts serving; returns once listening.
    pub fn start(config: MockConfig) -> io::Result<Self> {
        let bind = config
            .bind
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        let listener = std::net::TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let (stop_tx, stop_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = mpsc::channel::<io::Result<()>>();
        let task_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("qonto-mock".to_owned())
            .spawn(move || run(listener, task_shared, stop_rx, &ready_tx))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                shared,
                addr,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(io::Error::other(
                    "the mock server thread exited during start",
                ))
            }
        }
    }

    /// Base URL, `http://127.0.0.1:PORT`; it serves both the API and the OAuth paths.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The clock all expiry decisions use; advance it to jump time.
    pub fn clock(&self) -> &MockClock {
        &self.shared.clock
    }

    /// Fault-injection knobs.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.recorder.snapshot()
    }

    /// Raw bytes of the last request head (request line and headers, through the blank line)
    /// received for `path` (without query string).
    pub fn last_request_head(&self, path: &str) -> Option<Vec<u8>> {
        self.shared.recorder.last_head(path)
    }

    /// Creates a grant as if a user had consented, and returns its first tokens. The client id
    /// is not checked against the configuration; `scopes` is space-separated.
    pub fn issue_tokens(&self, client_id: &str, scopes: &str) -> IssuedTokens {
        let scopes: Vec<String> = scopes.split_whitespace().map(str::to_owned).collect();
        let now = self.shared.clock.now();
        let issued =
            lock(&self.shared.oauth).grant(client_id, scopes, now, self.shared.lifetimes());
        IssuedTokens {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            expires_in: issued.expires_in,
            scope: issued.scope,
        }
    }

    /// Decides every waiting SCA session, as the user's phone would; returns how many.
    pub fn decide_sca(&self, decision: ScaDecision) -> usize {
        let now = self.shared.clock.now();
        let lifetime = self.shared.config.sca.session_lifetime;
        lock(&self.shared.writes).decide_waiting(decision, now, lifetime)
    }

    /// Transfers created so far (answers replayed under an idempotency key not counted).
    pub fn transfers_created(&self) -> u64 {
        lock(&self.shared.writes).transfers()
    }

    /// Stops the server and waits for its thread (same as dropping the handle).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Body of the server thread.
fn run(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: oneshot::Receiver<()>,
    ready: &mpsc::Sender<io::Result<()>>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("qonto-mock-worker")
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let listener = {
        let _guard = runtime.enter();
        match TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        }
    };
    let _ = ready.send(Ok(()));
    runtime.block_on(accept_loop(listener, shared, stop));
    runtime.shutdown_timeout(Duration::from_millis(200));
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tokio::spawn(serve_connection(Arc::clone(&shared), stream, peer));
                }
                // Out of file descriptors or similar: back off briefly instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

async fn serve_connection(shared: Arc<Shared>, mut stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        match read_request(&mut stream, &mut buf).await {
            Ok(ReadOutcome::Request(req)) => match handle(&shared, &req, peer.ip()).await {
                Outcome::Respond(resp) => {
                    if stream
                        .write_all(&resp.to_bytes(req.keep_alive))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    if !req.keep_alive {
                        let _ = stream.shutdown().await;
                        return;
                    }
                }
                Outcome::Drop => return,
            },
            Ok(ReadOutcome::Reject(resp)) => {
                let _ = stream.write_all(&resp.to_bytes(false)).await;
                let _ = stream.shutdown().await;
                linger(&mut stream).await;
                return;
            }
            Ok(ReadOutcome::Closed) | Err(_) => return,
        }
    }
}

/// Reads and discards what the peer still sends (briefly), so that closing a connection with
/// unread input does not reset it before the peer has read our answer.
async fn linger(stream: &mut TcpStream) {
    let mut sink = [0u8; 8192];
    let mut budget: usize = 1024 * 1024;
    while budget > 0 {
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => budget = budget.saturating_sub(n),
            _ => return,
        }
    }
}
