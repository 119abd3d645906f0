//! Async transport for the Qonto Business API, built on reqwest and Tokio.
//!
//! # What this crate does
//!
//! [`Client`] sends authenticated requests to the Qonto API with a static API key, a fixed
//! access token, or OAuth tokens whose whole lifecycle (proactive refresh, single flight,
//! persist-before-use, 401 recovery, rotation grace) is decided by `qonto-auth-core` and kept
//! in a token store: any blocking [`qonto_store::TokenStore`] (run on Tokio's blocking pool by
//! [`BlockingStore`]) or a natively async [`AsyncTokenStore`]. Failures come back classified
//! ([`Error::Api`] carries the stable code, the fix and the trace id).
//!
//! Single flight: however many tasks need a token at once, one token request is made; the
//! others wait for its outcome without holding any lock. The store's exclusive lock is held
//! from re-reading the tokens to persisting the new ones, so processes sharing a
//! [`qonto_store::FileStore`] refresh once between them too. Each token request runs in its
//! own spawned task: cancelling a caller never leaves a refresh half done.
//!
//! ```text
//!   task 1..N                    lifecycle (std mutex, never held across .await)
//!   ─────────                    ─────────
//!   poll_access ───────────────► Ready ──► send the API request
//!                                Wait ───► poll_refresh ─► Some(attempt): spawn it ─┐
//!                                                       └► None: await Notify ◄──────┤
//!   spawned attempt: store.lock ─► handle_stored ─► send ─► persist ─► unlock ──────┘
//!                                  handle_refresh_outcome, notify_waiters
//!   API answers 401 ─► handle_unauthorized ─► retry once (newer token, or after refresh)
//! ```
//!
//! On the wire: HTTP/1.1 only, with title-case header names so `X-Qonto-Staging-Token` keeps
//! its documented casing; redirects are never followed (a 3xx is classified, so no secret
//! reaches another host); connect and total timeouts and a response-size cap (enforced while
//! reading) are always set. TLS is rustls with the ring provider and the webpki roots by
//! default; `native-tls` is opt-in and, with `rustls` also enabled, changes nothing.
//!
//! # What it does not do
//!
//! It does not start a runtime (call it from inside Tokio; it needs the `rt` to spawn), does
//! not retry API calls beyond the single 401 recovery, and makes no decisions of its own: it
//! only performs the I/O the core asks for. Use `qonto-ureq` for blocking code.
//!
//! ```no_run
//! use qonto_auth_core::Environment;
//! use qonto_auth_core::credentials::ApiKey;
//! use qonto_reqwest::Client;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = ApiKey::parse("pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr")?;
//! let client = Client::api_key(Environment::production(), key)?;
//! for account in client.bank_accounts().await? {
//!     println!("{} {:?}", account.name, account.iban);
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod oauth;
mod store;
mod wire;

pub use client::{Client, ClientBuilder};
pub use qonto_auth_core;
pub use qonto_store;
pub use qonto_transport::{ApiResponse, Clock, Error, TransportConfig};
pub use store::{AsyncStoreGuard, AsyncTokenStore, BlockingStore};
