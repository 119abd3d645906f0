//! Types shared by the qonto-auth transports (`qonto-ureq`, blocking, and `qonto-reqwest`,
//! async), so both speak the same language: one [`Error`], one [`TransportConfig`], one
//! [`Clock`], one [`ApiResponse`].
//!
//! This crate does no I/O and holds no logic beyond these types; each transport re-exports
//! them, so users never need to depend on it directly.

mod config;
mod error;
mod ready_cache;
mod response;
mod send_error;
mod settings;
mod static_credential;

pub use config::{Clock, TransportConfig};
pub use error::Error;
pub use ready_cache::ReadyCache;
pub use response::ApiResponse;
pub use send_error::SendError;
pub use settings::ClientSettings;
pub use static_credential::StaticCredential;
