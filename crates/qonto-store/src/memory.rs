//! Tokens kept in memory only.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::{StoreError, StoreGuard, TokenSet, TokenStore};

/// A store in this process's memory. Tokens are lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: Mutex<Option<TokenSet>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `tokens`.
    pub fn with_tokens(tokens: TokenSet) -> Self {
        Self {
            tokens: Mutex::new(Some(tokens)),
        }
    }

    fn guard(&self) -> MutexGuard<'_, Option<TokenSet>> {
        // A panic while holding the lock cannot leave a half-written TokenSet: assignments
        // are whole values, so the data is still consistent.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.guard().clone())
    }

    fn lock(&self) -> Result<Box<dyn StoreGuard + '_>, StoreError> {
        Ok(Box::new(MemoryGuard(self.guard())))
    }

    fn is_shared(&self) -> bool {
        false
    }
}

struct MemoryGuard<'a>(MutexGuard<'a, Option<TokenSet>>);

impl StoreGuard for MemoryGuard<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.0.clone())
    }

    fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        *self.0 = Some(tokens.clone());
        Ok(())
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        *self.0 = None;
        Ok(())
    }
}
