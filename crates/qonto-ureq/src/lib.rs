//! Blocking transport for the Qonto Business API, built on ureq 3.
//!
//! # What this crate does
//!
//! [`Client`] sends authenticated requests with a static API key, a fixed access token, or
//! OAuth tokens kept in a [`qonto_store::TokenStore`]. Every decision (which credential, when
//! to refresh, the single 401 retry, what an answer means, the next page) is made by
//! `qonto-auth-core`'s state machines; this crate is the loop that performs the I/O they ask
//! for. `wire.rs` is the only file that touches ureq: `X-Qonto-Staging-Token` keeps its
//! documented casing, redirects are never followed, timeouts and a body cap are always set,
//! TLS is rustls by default (`native-tls` is opt-in).
//!
//! # What it does not do
//!
//! No async runtime (use `qonto-reqwest`), no retries beyond the single 401 recovery.
//!
//! ```no_run
//! use qonto_auth_core::{Environment, credentials::ApiKey};
//! use qonto_ureq::Client;
//!
//! let key = ApiKey::parse("pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr")?;
//! for account in Client::api_key(Environment::production(), key)?.bank_accounts()? {
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
