//! The store traits for async code (a database, a secret manager): the twins of
//! [`TokenStore`](crate::TokenStore) and [`StoreGuard`](crate::StoreGuard), driven by the
//! async transport.

use async_trait::async_trait;

use crate::{StoreError, TokenSet};

/// Somewhere tokens are kept, for async code: the twin of [`TokenStore`](crate::TokenStore).
///
/// Implement it directly for a natively async store (a database, a secret manager); wrap a
/// blocking store (such as [`FileStore`](crate::FileStore)) in `qonto_reqwest::BlockingStore`.
#[async_trait]
pub trait AsyncTokenStore: Send + Sync {
    /// Reads the stored tokens without taking the lock (start-up and status).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be read or holds a corrupt document.
    async fn load(&self) -> Result<Option<TokenSet>, StoreError>;

    /// Takes the store's exclusive lock (across tasks and, for files, processes). The lock is
    /// held until the guard is dropped: a refresh holds it from re-reading the tokens, across
    /// the token request, to persisting the new ones.
    ///
    /// # Errors
    ///
    /// [`StoreError::LockTimeout`] when the lock cannot be had in time, or an I/O error.
    async fn lock(&self) -> Result<Box<dyn AsyncStoreGuard>, StoreError>;

    /// Whether other processes may change the tokens. When false, a refresh need not re-read
    /// the store before sending.
    fn is_shared(&self) -> bool;
}

/// Exclusive access to an [`AsyncTokenStore`], held while a refresh runs; dropping it releases
/// the lock.
#[async_trait]
pub trait AsyncStoreGuard: Send {
    /// Reads the tokens.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be read or holds a corrupt document.
    async fn load(&mut self) -> Result<Option<TokenSet>, StoreError>;

    /// Replaces the tokens durably: when this returns `Ok`, the new tokens survive a crash.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when writing fails; the previous tokens are then still in place.
    async fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError>;

    /// Removes the tokens (logout).
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when removal fails.
    async fn clear(&mut self) -> Result<(), StoreError>;
}
