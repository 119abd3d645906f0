//! Blocking transport for the Qonto Business API, built on ureq 3.
//!
//! [`Client`] sends authenticated requests with a static API key, a fixed access token, or
//! OAuth tokens kept in a [`qonto_store::TokenStore`]. Every decision is made by
//! `qonto-auth-core`'s state machines; this crate is the loop that performs the I/O they ask
//! for (see the core's crate docs for the loop). `wire.rs` alone touches ureq: the staging
//! header keeps its documented casing, redirects are never followed, timeouts and a body cap
//! are always set, TLS is rustls by default (`native-tls` opt-in).
//!
//! It has no async runtime (use `qonto-reqwest`) and retries nothing beyond the single 401
//! recovery.
//!
//! ```no_run
//! let key = qonto_auth_core::credentials::ApiKey::parse("pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr")?;
//! let client = qonto_ureq::Client::api_key(qonto_auth_core::Environment::production(), key)?;
//! for account in client.bank_accounts()? {
//!     println!("{} {:?}", account.name, account.iban);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod oauth;
mod wire;

pub use client::{Client, ClientBuilder};
pub use qonto_auth_core::call::CallSpec;
pub use qonto_auth_core::lifecycle::Event;
pub use qonto_transport::{ApiResponse, Clock, Error, TransportConfig};
pub use {qonto_auth_core, qonto_store};
