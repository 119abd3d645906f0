//! Async transport for the Qonto Business API (reqwest + Tokio): a loop performing the I/O
//! that `qonto-auth-core`'s state machines ask for (see its crate docs), with a static API key,
//! a fixed access token, or OAuth tokens in a store (a shared blocking store on the blocking
//! pool through [`BlockingStore`], a memory store inline, or an [`AsyncTokenStore`]). One
//! token request however many tasks wait, in its own task (cancelling a caller never leaves a
//! refresh half done). `wire.rs` alone touches reqwest (HTTP/1.1 title-case names, no
//! redirects, timeouts, a body cap; rustls by default). Call it inside a Tokio runtime.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = qonto_auth_core::credentials::ApiKey::parse("pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr")?;
//! let client = qonto_reqwest::Client::api_key(qonto_auth_core::Environment::production(), key)?;
//! println!("{} accounts", client.bank_accounts().await?.len());
//! # Ok(())
//! # }
//! ```

pub mod adapter;
mod client;
mod oauth;
mod store;
mod wire;

pub use client::{Client, ClientBuilder};
pub use qonto_auth_core::call::{CallSpec, RetryPolicy, ScaChallenge, ScaPreference};
pub use qonto_auth_core::lifecycle::Event;
pub use qonto_store::{AsyncStoreGuard, AsyncTokenStore};
pub use qonto_transport::{ApiResponse, Clock, Error, ScaPending, TransportConfig, tls, trace};
pub use store::BlockingStore;
pub use {qonto_auth_core, qonto_store, reqwest};
