//! The lock-free hot path of both transports: a per-thread copy of the ready credential.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use qonto_auth_core::Timestamp;
use qonto_auth_core::http::HeaderValue;
use qonto_auth_core::lifecycle::{BearerCredential, TokenLifecycle};

/// Tells lifecycles (clients) apart in the per-thread cache.
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The last ready credential this thread saw, reused without locking while valid.
    static READY: RefCell<Option<ReadyCopy>> = const { RefCell::new(None) };
}

/// A copy of a ready credential that a thread keeps to answer the hot path without locking
/// the lifecycle.
///
/// The driver bumps a generation counter on every input that can change the credential; the
/// copy is valid while the generation is unchanged and the time is before
/// [`TokenLifecycle::ready_until`]. `owner` tells lifecycles apart in a shared cache.
#[derive(Clone, Debug)]
struct ReadyCopy {
    owner: u64,
    generation: u64,
    until: Timestamp,
    credential: BearerCredential,
}

impl ReadyCopy {
    /// Keeps `credential`, valid for `owner` at `generation` until `until`.
    ///
    /// The copy holds its own bytes of the header value: clones handed out from copies kept
    /// by different threads never touch a shared reference count.
    fn new(owner: u64, generation: u64, until: Timestamp, credential: BearerCredential) -> Self {
        let header = match HeaderValue::from_bytes(credential.header.as_bytes()) {
            Ok(mut own) => {
                own.set_sensitive(true);
                own
            }
            // Unreachable (the bytes come from a valid value); sharing them is still correct.
            Err(_) => credential.header,
        };
        Self {
            owner,
            generation,
            until,
            credential: BearerCredential {
                header,
                fingerprint: credential.fingerprint,
            },
        }
    }

    /// The credential, if this copy still answers for `owner` at `generation` and `now`.
    fn get(&self, owner: u64, generation: u64, now: Timestamp) -> Option<&BearerCredential> {
        (self.owner == owner && self.generation == generation && now < self.until)
            .then_some(&self.credential)
    }
}

/// Answers "which credential?" without locking the lifecycle, while nothing has changed.
///
/// The driver calls [`changed`](Self::changed) under the lifecycle lock after every input that
/// can change the credential (a refresh outcome, a 401, a forced refresh, a logout), and
/// [`keep`](Self::keep) under the same lock when the lifecycle answered `Ready`. A thread's
/// copy is used only for the same lifecycle, at the same generation, before
/// [`TokenLifecycle::ready_until`].
#[derive(Debug)]
pub(crate) struct ReadyCache {
    owner: u64,
    generation: AtomicU64,
}

impl ReadyCache {
    /// A cache for one lifecycle.
    pub(crate) fn new() -> Self {
        Self {
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
        }
    }

    /// Marks that the credential may have changed; call while holding the lifecycle lock.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// This thread's copy, if it still answers at `now`.
    pub(crate) fn get(&self, now: Timestamp) -> Option<BearerCredential> {
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
    pub(crate) fn keep(
        &self,
        lifecycle: &TokenLifecycle,
        now: Timestamp,
        credential: &BearerCredential,
    ) {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use qonto_auth_core::credentials::OAuthClient;
    use qonto_auth_core::lifecycle::{Access, LifecycleConfig};
    use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken};
    use qonto_auth_core::{Environment, TokenSet};

    use super::*;

    const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_ready_copy_answers_only_for_its_owner_generation_and_time() {
        let client = OAuthClient::new("cid", ClientSecret::new("s"), "http://127.0.0.1:1/cb");
        let config = LifecycleConfig::default().with_jitter_max(Duration::ZERO);
        let mut life = TokenLifecycle::new(Environment::production(), client.unwrap(), config);
        life.handle_tokens(Some(TokenSet {
            access_token: AccessToken::new("a"),
            expires_at: T0 + HOUR,
            refresh_token: Some(RefreshToken::new("r")),
            refresh_issued_at: Some(T0),
            scope: None,
            refresh_pending_since: None,
        }));
        let Access::Ready(c) = life.poll_access(T0) else {
            panic!()
        };
        let copy = ReadyCopy::new(1, 7, life.ready_until(T0).unwrap(), c.clone());
        let kept = copy.get(1, 7, T0).unwrap();
        // The same value and fingerprint, in bytes of its own, still marked sensitive.
        assert_eq!(kept.header, c.header);
        assert_eq!(kept.fingerprint, c.fingerprint);
        assert!(kept.header.is_sensitive());
        assert_ne!(
            kept.header.as_bytes().as_ptr(),
            c.header.as_bytes().as_ptr()
        );
        assert!(copy.get(2, 7, T0).is_none(), "another lifecycle");
        assert!(copy.get(1, 8, T0).is_none(), "the lifecycle changed");
        let due = T0 + HOUR - Duration::from_secs(300);
        assert!(copy.get(1, 7, due).is_none(), "refresh due");
    }
}
