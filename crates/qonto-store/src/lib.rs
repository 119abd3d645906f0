//! Token persistence for the qonto-auth transports.
//!
//! # What this crate does
//!
//! Keeps OAuth [`TokenSet`]s between calls and between processes, behind one
//! [`TokenStore`] trait that both transports drive:
//!
//! - [`MemoryStore`]: tokens live in this process only.
//! - [`FileStore`]: a JSON file written crash-safely (temporary file in the same directory,
//!   fsync, atomic rename, directory fsync, mode 0600 on Unix), with an exclusive advisory lock
//!   on a sibling `.lock` file that the transports hold from re-reading the tokens to writing
//!   the new ones, so processes sharing the file refresh once.
//!
//! A corrupt or unreadable file is reported as [`StoreError::Corrupt`] or
//! [`StoreError::Io`] and is never overwritten by a refresh.
//!
//! # What it does not do
//!
//! It makes no network calls and takes no decisions: when to read, lock and write is decided by
//! `qonto-auth-core`'s token lifecycle, driven by a transport. It does not encrypt the file;
//! protect it like any other secret (the default location is in the user's config directory).

mod async_store;
mod file;
mod memory;
pub mod safe_fs;

pub use async_store::{AsyncStoreGuard, AsyncTokenStore};
pub use file::FileStore;
pub use memory::MemoryStore;
pub use qonto_auth_core::TokenSet;

use qonto_auth_core::{Code, PersistedTokensError};

/// Somewhere tokens are kept.
pub trait TokenStore: Send + Sync {
    /// Reads the stored tokens without taking the lock (for start-up and status).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be read or holds a corrupt document.
    fn load(&self) -> Result<Option<TokenSet>, StoreError>;

    /// Takes the store's exclusive lock, across threads and (for files) processes. The lock is
    /// held until the guard is dropped.
    ///
    /// # Errors
    ///
    /// [`StoreError::LockTimeout`] when the lock cannot be had in time, or an I/O error.
    fn lock(&self) -> Result<Box<dyn StoreGuard + '_>, StoreError>;

    /// Whether other processes may change the tokens (true for files). When false, a refresh
    /// need not re-read the store before sending.
    fn is_shared(&self) -> bool;
}

/// Exclusive access to a store, held while a refresh runs.
pub trait StoreGuard {
    /// Reads the tokens.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be read or holds a corrupt document.
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError>;

    /// Replaces the tokens durably: when this returns `Ok`, the new tokens survive a crash.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when writing fails; the previous tokens are then still in place.
    fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError>;

    /// Removes the tokens (logout).
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when removal fails.
    fn clear(&mut self) -> Result<(), StoreError>;
}

/// A store operation failed. Never contains token values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading, writing, locking or renaming failed.
    #[error("token store {action} failed for {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file concerned.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file exists but is not a token document; it is left untouched.
    #[error(
        "token store {path} is unreadable ({source}); it was left untouched: log in again to replace it"
    )]
    Corrupt {
        /// The file concerned.
        path: String,
        /// What is wrong with it.
        #[source]
        source: PersistedTokensError,
    },
    /// Another holder kept the lock too long.
    #[error("timed out waiting for the token store lock {path}; another process holds it")]
    LockTimeout {
        /// The lock file.
        path: String,
    },
    /// The stored tokens are encrypted and cannot be opened with the keys this store was
    /// given; they are left untouched.
    #[error(
        "token store {path} holds tokens sealed with key `{key_id}`, {problem}; they were left untouched"
    )]
    Key {
        /// The store and entry concerned.
        path: String,
        /// The id of the key the tokens were sealed with.
        key_id: String,
        /// What is wrong with the key.
        problem: KeyProblem,
    },
}

impl StoreError {
    /// The stable code of this failure.
    pub fn code(&self) -> Code {
        match self {
            Self::LockTimeout { .. } => Code::TokenStoreLockTimeout,
            Self::Corrupt { .. } => Code::TokenStoreUnreadable,
            Self::Key {
                problem: KeyProblem::Missing,
                ..
            } => Code::TokenStoreKeyMissing,
            Self::Key {
                problem: KeyProblem::Rejected,
                ..
            } => Code::TokenStoreKeyRejected,
            Self::Io { .. } => Code::TokenStoreError,
        }
    }
}

/// Why encrypted tokens cannot be opened ([`StoreError::Key`]).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum KeyProblem {
    /// The key they name was not supplied.
    Missing,
    /// The key with that id does not open them: a wrong key, or the entry was altered or
    /// copied from another one.
    Rejected,
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "and no key with that id was supplied",
            Self::Rejected => {
                "and the key supplied under that id does not open them (a wrong key, or an entry altered or copied from another)"
            }
        })
    }
}
