//! The store side of a token attempt's steps, for blocking [`TokenStore`]s: one place for
//! both drivers (and the async driver's inline path for memory stores).

use qonto_auth_core::TokenSet;
use qonto_auth_core::lifecycle::Stored;
use qonto_store::{StoreError, StoreGuard, TokenStore};

/// The guard of a store lock held across an attempt's steps (dropping it unlocks).
pub type HeldLock<'a> = Option<Box<dyn StoreGuard + 'a>>;

/// Performs an `AttemptStep::Lock`: takes the lock into `held` and, when `read`, reads the
/// store under it. The result goes to `TokenAttempt::handle_locked`.
///
/// # Errors
///
/// The store's error, as text (it names the path, never a token).
pub fn lock_and_read<'a>(
    store: &'a dyn TokenStore,
    read: bool,
    held: &mut HeldLock<'a>,
) -> Result<Stored, String> {
    let guard = held.insert(store.lock().map_err(|e| e.to_string())?);
    if !read {
        return Ok(Stored::NotRead);
    }
    match guard.load() {
        Ok(Some(tokens)) => Ok(Stored::Tokens(tokens)),
        Ok(None) => Ok(Stored::Empty),
        Err(error) => Err(error.to_string()),
    }
}

/// Performs an `AttemptStep::Persist`: saves under the held lock, or in one locked write when
/// none is held (an unshared store). The result goes to `TokenAttempt::handle_saved`.
///
/// # Errors
///
/// The store's error, as text.
pub fn save(
    store: &dyn TokenStore,
    held: &mut HeldLock<'_>,
    tokens: &TokenSet,
) -> Result<(), String> {
    let result = match held {
        Some(guard) => guard.save(tokens),
        None => store.lock().and_then(|mut guard| guard.save(tokens)),
    };
    result.map_err(|e| e.to_string())
}

/// The tokens a client starts with: a corrupt store counts as "no tokens", so that logging in
/// again can replace it (a refresh re-reads it under the lock and reports it).
///
/// # Errors
///
/// Any other store error.
pub fn startup_tokens(
    loaded: Result<Option<TokenSet>, StoreError>,
) -> Result<Option<TokenSet>, StoreError> {
    match loaded {
        Err(StoreError::Corrupt { .. }) => Ok(None),
        other => other,
    }
}
