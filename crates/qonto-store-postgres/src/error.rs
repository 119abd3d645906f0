//! Errors of the operations outside the store traits (settings, migration, administration),
//! and the mapping of database failures into [`StoreError`] for the traits.

use std::io;

use qonto_auth_core::Code;
use qonto_store::StoreError;
use tokio_postgres::error::SqlState;

use crate::{ConnectionIdError, KeyError};

/// A failure of [`PgConfig`](crate::PgConfig), [`PgTokens`](crate::PgTokens) set-up,
/// migration or administration. Never contains a password, a key or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The settings were refused.
    #[error("invalid PostgreSQL token store settings: {0}")]
    Config(String),
    /// An encryption key or keyring was refused.
    #[error("invalid encryption key: {0}")]
    Key(#[from] KeyError),
    /// A connection id was refused.
    #[error(transparent)]
    ConnectionId(#[from] ConnectionIdError),
    /// The database could not be reached, or refused a statement.
    #[error("PostgreSQL token store {action} failed for {location}: {reason}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database and table (no password).
        location: String,
        /// What went wrong.
        reason: String,
    },
    /// A store operation failed (see [`StoreError`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PgError {
    /// The stable code of this failure.
    pub fn code(&self) -> Code {
        match self {
            Self::Config(_) | Self::Key(_) => Code::TokenStoreConfigInvalid,
            Self::ConnectionId(_) => Code::ConnectionIdInvalid,
            Self::Database { .. } => Code::TokenStoreUnavailable,
            Self::Store(e) => e.code(),
        }
    }
}

/// Why a database step failed, in terms the store traits know.
#[derive(Debug)]
pub(crate) enum DbFailure {
    /// PostgreSQL answered `lock_not_available`: the lock timeout passed.
    LockTimeout,
    /// Anything else: unreachable, closed, refused, timed out.
    Other(String),
}

impl DbFailure {
    pub(crate) fn from_pg(error: &tokio_postgres::Error) -> Self {
        if error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
            return Self::LockTimeout;
        }
        Self::Other(describe(error))
    }

    pub(crate) fn from_pool(error: &deadpool_postgres::PoolError) -> Self {
        use deadpool_postgres::PoolError;
        Self::Other(match error {
            PoolError::Backend(e) => describe(e),
            PoolError::Timeout(_) => "no pooled database connection became free in time".into(),
            PoolError::Closed => "the connection pool is closed".into(),
            other => other.to_string(),
        })
    }

    pub(crate) fn timed_out(after: std::time::Duration) -> Self {
        Self::Other(format!(
            "the database did not answer within {} ms",
            after.as_millis()
        ))
    }

    pub(crate) fn into_store(self, action: &'static str, location: &str) -> StoreError {
        match self {
            Self::LockTimeout => StoreError::LockTimeout {
                path: location.to_owned(),
            },
            Self::Other(reason) => StoreError::Io {
                action,
                path: location.to_owned(),
                source: io::Error::other(reason),
            },
        }
    }

    pub(crate) fn into_pg(self, action: &'static str, location: &str) -> PgError {
        let reason = match self {
            Self::LockTimeout => "timed out waiting for a lock".to_owned(),
            Self::Other(reason) => reason,
        };
        PgError::Database {
            action,
            location: location.to_owned(),
            reason,
        }
    }
}

/// A database error as one line: the server's message (with its SQLSTATE) or the client's.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) if db.code() == &SqlState::UNDEFINED_TABLE => format!(
            "{} ({}): {}; create the table first (PgTokens::migrate, or the SQL in \
             docs/deployment.md)",
            db.severity(),
            db.code().code(),
            db.message()
        ),
        Some(db) => format!("{} ({}): {}", db.severity(), db.code().code(), db.message()),
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}
