//! Types shared by the qonto-auth transports (`qonto-ureq`, blocking, and `qonto-reqwest`,
//! async), so both speak the same language: one [`Error`], one [`TransportConfig`], one
//! [`Clock`], the builders' [`ClientSettings`], and the store side of a token attempt.
//!
//! This crate does no network I/O and makes no decision (the core does); each transport
//! re-exports what its users need, so they never depend on it directly.

mod builder;
mod config;
mod error;
mod ready_cache;
mod settings;
mod shared;
mod static_credential;
pub mod store_steps;

pub use builder::{Auth, ClientParts};
pub use config::{Clock, TransportConfig};
pub use error::Error;
pub use qonto_auth_core::call::ApiResponse;
use ready_cache::ReadyCache;
pub use settings::ClientSettings;
pub use shared::SharedLifecycle;
pub use static_credential::StaticCredential;
