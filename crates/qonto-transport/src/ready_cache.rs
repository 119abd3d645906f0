//! The lock-free hot path of both transports: a per-thread copy of the ready credential.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use qonto_auth_core::Timestamp;
use qonto_auth_core::lifecycle::{BearerCredential, ReadyCopy, TokenLifecycle};

/// Tells lifecycles (clients) apart in the per-thread cache.
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The last ready credential this thread saw, reused without locking while valid.
    static READY: RefCell<Option<ReadyCopy>> = const { RefCell::new(None) };
}

/// Answers "which credential?" without locking the lifecycle, while nothing has changed.
///
/// The driver calls [`changed`](Self::changed) under the lifecycle lock after every input that
/// can change the credential (a refresh outcome, a 401, a forced refresh, a logout), and
/// [`keep`](Self::keep) under the same lock when the lifecycle answered `Ready`. A thread's
/// copy is used only for the same lifecycle, at the same generation, before
/// [`TokenLifecycle::ready_until`].
#[derive(Debug)]
pub struct ReadyCache {
    owner: u64,
    generation: AtomicU64,
}

impl ReadyCache {
    /// A cache for one lifecycle.
    pub fn new() -> Self {
        Self {
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
        }
    }

    /// Marks that the credential may have changed; call while holding the lifecycle lock.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// This thread's copy, if it still answers at `now`.
    pub fn get(&self, now: Timestamp) -> Option<BearerCredential> {
        let generation = self.generation.load(Ordering::Acquire);
        READY.with(|ready| {
            ready
                .borrow()
                .as_ref()?
                .get(self.owner, generation, now)
                .cloned()
        })
    }

    /// Keeps `credential` for this thread, for as long as the lifecycle says it stays ready;
    /// call while holding the lifecycle lock, right after it answered `Ready`.
    pub fn keep(&self, lifecycle: &TokenLifecycle, now: Timestamp, credential: &BearerCredential) {
        if let Some(until) = lifecycle.ready_until(now) {
            let generation = self.generation.load(Ordering::Acquire);
            let copy = ReadyCopy::new(self.owner, generation, until, credential.clone());
            READY.with(|ready| *ready.borrow_mut() = Some(copy));
        }
    }
}

impl Default for ReadyCache {
    fn default() -> Self {
        Self::new()
    }
}
