//! Blocking transport for the Qonto Business API (ureq 3): a loop performing the I/O that
//! `qonto-auth-core`'s state machines ask for (see its crate docs), with a static API key, a
//! fixed access token, or OAuth tokens in a [`qonto_store::TokenStore`]. `wire.rs` alone
//! touches ureq (exact staging-header casing, no redirects, timeouts, a body cap; rustls by
//! default). No async runtime: use `qonto-reqwest` for async code.
//!
//! ```no_run
//! let key = qonto_auth_core::credentials::ApiKey::parse("pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr")?;
//! let client = qonto_ureq::Client::api_key(qonto_auth_core::Environment::production(), key)?;
//! println!("{} accounts", client.bank_accounts()?.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod adapter;
mod client;
mod oauth;
mod wire;

pub use client::{Client, ClientBuilder};
pub use qonto_auth_core::call::{CallSpec, RetryPolicy, ScaChallenge, ScaPreference};
pub use qonto_auth_core::lifecycle::Event;
pub use qonto_transport::{ApiResponse, Clock, Error, ScaPending, TransportConfig, tls, trace};
pub use {qonto_auth_core, qonto_store, ureq};
