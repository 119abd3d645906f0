//! Async transport for the Qonto Business API, built on reqwest and Tokio.
//!
//! # What this crate does
//!
//! [`Client`] sends authenticated requests with a static API key, a fixed access token, or
//! OAuth tokens kept in a store: a blocking [`qonto_store::TokenStore`] (a shared one such as
//! a file runs on Tokio's blocking pool through [`BlockingStore`]; a memory store is called
//! inline) or a natively async [`AsyncTokenStore`]. Every decision (which credential, when to
//! refresh, the single 401 retry, what an answer means, the next page) is made by
//! `qonto-auth-core`'s state machines; this crate is the loop that performs the I/O they ask
//! for. However many tasks need a token at once, one token request is made, in its own task,
//! so cancelling a caller never leaves a refresh half done.
//!
//! ```text
//!   task 1..N ── poll_access ─► Ready ─────► send the call
//!                               Refresh ───► spawn the attempt: lock, send, persist ─┐
//!                               Wait ──────► await Notify ◄── outcome handed over ◄───┘
//! ```
//!
//! `wire.rs` is the only file that touches reqwest: HTTP/1.1 with title-case names (so
//! `X-Qonto-Staging-Token` keeps its casing), no redirects, timeouts and a body cap always
//! set; rustls with the webpki roots by default, `native-tls` opt-in.
//!
//! # What it does not do
//!
//! It does not start a runtime (call it inside Tokio) and retries nothing beyond the single
//! 401 recovery. Use `qonto-ureq` for blocking code.
//!
//! ```no_run
//! use qonto_auth_core::{Environment, credentials::ApiKey};
//! use qonto_reqwest::Client;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = ApiKey::parse("pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr")?;
//! for account in Client::api_key(Environment::production(), key)?.bank_accounts().await? {
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
pub use qonto_auth_core::call::CallSpec;
pub use qonto_auth_core::lifecycle::Event;
pub use qonto_transport::{ApiResponse, Clock, Error, TransportConfig};
pub use store::{AsyncStoreGuard, AsyncTokenStore, BlockingStore};
pub use {qonto_auth_core, qonto_store};
