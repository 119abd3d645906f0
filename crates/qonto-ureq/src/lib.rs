//! Blocking transport for the Qonto Business API, built on ureq 3.
//!
//! # What this crate does
//!
//! [`Client`] sends authenticated requests to the Qonto API with a static API key, a fixed
//! access token, or OAuth tokens whose whole lifecycle (proactive refresh, single flight,
//! persist-before-use, 401 recovery, rotation grace) is decided by `qonto-auth-core` and kept
//! in a [`qonto_store::TokenStore`]. Failures come back classified ([`Error::Api`] carries the
//! stable code, the fix and the trace id).
//!
//! On the wire: `X-Qonto-Staging-Token` keeps its documented casing (ureq's `header_raw`),
//! redirects are never followed (a 3xx is classified, so no secret reaches another host),
//! connect and total timeouts and a response-size cap are always set, and TLS is rustls by
//! default (`native-tls` is opt-in).
//!
//! # What it does not do
//!
//! No async runtime (use `qonto-reqwest` for async code), no retries of API calls beyond the
//! single 401 recovery, no decisions of its own: it only performs the I/O the core asks for.
//!
//! ```no_run
//! use qonto_auth_core::Environment;
//! use qonto_auth_core::credentials::ApiKey;
//! use qonto_ureq::Client;
//!
//! let key = ApiKey::parse("pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr")?;
//! let client = Client::api_key(Environment::production(), key)?;
//! for account in client.bank_accounts()? {
//!     println!("{} {:?}", account.name, account.iban);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod oauth;
mod wire;

pub use client::{Client, ClientBuilder};
pub use qonto_auth_core;
pub use qonto_store;
pub use qonto_transport::{ApiResponse, Clock, Error, TransportConfig};
