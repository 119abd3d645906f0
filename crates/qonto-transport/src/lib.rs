//! Types shared by the qonto-auth transports (`qonto-ureq`, blocking, and `qonto-reqwest`,
//! async), so both speak the same language: one [`Error`], one [`TransportConfig`], one
//! [`Clock`], the builders' [`ClientSettings`], and the store side of a token attempt.
//!
//! This crate does no network I/O and makes no decision (the core does); each transport
//! re-exports what its users need, so they never depend on it directly.
//!
//! Public API: [`Error`], [`TransportConfig`] and its [`tls`] roots, [`Clock`],
//! [`ApiResponse`], [`ScaPending`] and [`trace`]. The items hidden from these docs are the
//! transports' plumbing (their clients' parts, the shared lifecycle, the builder macros, the
//! store steps, the header helpers of the adapters): public only because two crates use them,
//! and exempt from semver.

mod builder;
mod config;
mod error;
#[doc(hidden)] // Plumbing of the transports and adapters (see the crate docs).
pub mod headers;
mod ready_cache;
mod sca;
mod settings;
mod shared;
mod static_credential;
#[doc(hidden)] // Plumbing of the transports (see the crate docs).
pub mod store_steps;
pub mod tls;
pub mod trace;

#[doc(hidden)] // Plumbing of the transports (see the crate docs).
pub use builder::{Auth, ClientParts, HoldsLifecycle, sca_required};
pub use config::{Clock, TransportConfig};
pub use error::Error;
pub use qonto_auth_core::call::ApiResponse;
use ready_cache::ReadyCache;
pub use sca::ScaPending;
#[doc(hidden)] // Plumbing of the transports (see the crate docs).
pub use settings::ClientSettings;
#[doc(hidden)] // Plumbing of the transports (see the crate docs).
pub use shared::SharedLifecycle;
#[doc(hidden)] // Plumbing of the transports (see the crate docs).
pub use static_credential::StaticCredential;
pub use tls::{CaBundle, CaBundleError, TlsRoots};
