//! Async transport for the Qonto Business API, built on reqwest and Tokio.
//!
//! [`Client`] sends authenticated requests with a static API key, a fixed access token, or
//! OAuth tokens kept in a store: a blocking [`qonto_store::TokenStore`] (a shared one such as
//! a file on Tokio's blocking pool through [`BlockingStore`], a memory store inline) or a
//! natively async [`AsyncTokenStore`]. Every decision is made by `qonto-auth-core`'s state
//! machines; this crate is the loop that performs the I/O they ask for (see the core's crate
//! docs for the loop). However many tasks need a token at once, one token request is made,
//! in its own task, so cancelling a caller never leaves a refresh half done. `wire.rs` alone
//! touches reqwest: HTTP/1.1 with title-case names (the staging header keeps its casing), no
//! redirects, timeouts and a body cap always set, rustls by default (`native-tls` opt-in).
//!
//! It does not start a runtime (call it inside Tokio) and retries nothing beyond the single
//! 401 recovery; use `qonto-ureq` for blocking code.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = qonto_auth_core::credentials::ApiKey::parse("pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr")?;
//! let client = qonto_reqwest::Client::api_key(qonto_auth_core::Environment::production(), key)?;
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
pub use qonto_auth_core::call::CallSpec;
pub use qonto_auth_core::lifecycle::Event;
pub use qonto_store::{AsyncStoreGuard, AsyncTokenStore};
pub use qonto_transport::{ApiResponse, Clock, Error, TransportConfig};
pub use store::BlockingStore;
pub use {qonto_auth_core, qonto_store};
