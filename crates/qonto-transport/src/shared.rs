//! The token lifecycle as both drivers hold it: behind a mutex that is held for one core call
//! at a time (never across I/O), with the per-thread copy of the ready credential that keeps
//! the hot path lock-free. Waking waiters is the driver's (a condvar, or a `Notify`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use qonto_auth_core::lifecycle::{
    Access, AttemptId, AttemptResult, BearerCredential, Event, LifecycleStatus, TokenAttempt,
    TokenLifecycle, UnauthorizedAdvice,
};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AuthorizationCode, Fingerprint};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_store::StoreError;

use crate::{Error, ReadyCache, trace};

/// How many drained events wait for `take_events`; older ones are dropped first.
const MAX_EVENTS: usize = 32;

/// A [`TokenLifecycle`] shared by the clones of one client.
#[derive(Debug)]
pub struct SharedLifecycle {
    ready: ReadyCache,
    /// Set while an attempt handed out by `poll` runs: callers can wait without locking.
    in_flight: AtomicBool,
    lifecycle: Mutex<TokenLifecycle>,
    /// Events drained from the lifecycle (and traced), until `take_events`.
    events: Mutex<VecDeque<Event>>,
}

impl SharedLifecycle {
    /// Shares `lifecycle`.
    pub fn new(lifecycle: TokenLifecycle) -> Self {
        Self {
            ready: ReadyCache::new(),
            in_flight: AtomicBool::new(false),
            lifecycle: Mutex::new(lifecycle),
            events: Mutex::new(VecDeque::new()),
        }
    }

    /// Shares `lifecycle` for a store that `shared` says other processes may change, with the
    /// tokens the store held at start-up (a corrupt store counts as none, so that logging in
    /// again can replace it; a refresh re-reads it under the lock and reports it).
    ///
    /// # Errors
    ///
    /// The store's error, other than corruption.
    pub fn start(
        lifecycle: TokenLifecycle,
        shared: bool,
        loaded: Result<Option<TokenSet>, StoreError>,
    ) -> Result<Self, Error> {
        let mut lifecycle = lifecycle.with_shared_store(shared);
        lifecycle.handle_tokens(crate::store_steps::startup_tokens(loaded)?);
        Ok(Self::new(lifecycle))
    }

    /// Locks the lifecycle; hold the guard for core calls only, never across I/O.
    pub fn lock(&self) -> MutexGuard<'_, TokenLifecycle> {
        // Only whole core calls run under the lock: a panic elsewhere cannot leave it half done.
        self.lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// This thread's copy of the ready credential, if it still answers at `now` (no lock).
    pub fn cached(&self, now: Timestamp) -> Option<BearerCredential> {
        self.ready.get(now)
    }

    /// Asks the locked lifecycle how a call authenticates at `now`, and remembers the answer
    /// where the hot path looks: a `Ready` credential as this thread's copy, a `Refresh`
    /// handed out as "an attempt is in flight" (see [`in_flight`](Self::in_flight)).
    pub fn poll(&self, life: &mut TokenLifecycle, now: Timestamp) -> Access {
        let access = life.poll_access(now);
        match &access {
            Access::Ready(credential) => self.ready.keep(life, now, credential),
            Access::Refresh(_) => self.in_flight.store(true, Ordering::Release),
            Access::Wait | Access::Unavailable(_) => {}
        }
        self.drain(life);
        access
    }

    /// Whether an attempt handed out by [`poll`](Self::poll) has not been handed over yet: a
    /// caller registered for the wake-up may then wait without locking the lifecycle.
    pub fn in_flight(&self) -> bool {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Feeds an input that may change the credential (an attempt's outcome) and invalidates
    /// every thread's copy; the driver wakes its waiters afterwards.
    pub fn hand_over(
        &self,
        input: impl FnOnce(&mut TokenLifecycle) -> AttemptResult,
    ) -> AttemptResult {
        let mut life = self.lock();
        let result = input(&mut life);
        self.in_flight.store(life.refreshing(), Ordering::Release);
        self.ready.changed();
        self.drain(&mut life);
        result
    }

    /// Tells the lifecycle that the driver of attempt `id` ended before its outcome was known.
    pub fn interrupted(&self, now: Timestamp, id: AttemptId) {
        let _ = self.hand_over(|life| life.handle_attempt_interrupted(now, id));
    }

    /// Takes a 401 for a request sent with `used`.
    pub fn unauthorized(&self, now: Timestamp, used: Fingerprint) -> UnauthorizedAdvice {
        let mut life = self.lock();
        self.ready.changed();
        let advice = life.handle_unauthorized(now, used);
        self.drain(&mut life);
        trace::advice(&advice, used);
        advice
    }

    /// Asks for a refresh now; the attempt then comes out of the access loop.
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] when no refresh can start now.
    pub fn force_refresh(&self, now: Timestamp) -> Result<(), Error> {
        let mut life = self.lock();
        self.ready.changed();
        let forced = life.force_refresh(now).map_err(Error::Auth);
        self.drain(&mut life);
        forced
    }

    /// What `refresh_now` reports once the access loop has run: the last attempt's failure.
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] with that failure.
    pub fn refreshed(&self, now: Timestamp) -> Result<(), Error> {
        match self.status(now).last_error {
            Some(error) => Err(Error::Auth(error)),
            None => Ok(()),
        }
    }

    /// Starts an authorization-code exchange.
    ///
    /// # Errors
    ///
    /// [`Error::Request`] when the staging token cannot be encoded.
    pub fn exchange(
        &self,
        now: Timestamp,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<Box<TokenAttempt>, Error> {
        let attempt = self.lock().exchange_code(now, code, pkce);
        let attempt = attempt.map_err(|e| Error::Request(e.into()))?;
        self.in_flight.store(true, Ordering::Release);
        Ok(Box::new(attempt))
    }

    /// Forgets the tokens (after the store was cleared).
    pub fn forget(&self) {
        self.lock().handle_tokens(None);
        self.ready.changed();
    }

    /// A secret-free snapshot.
    pub fn status(&self, now: Timestamp) -> LifecycleStatus {
        self.lock().status(now)
    }

    /// Drains the lifecycle's events, oldest first (at most the last 32).
    pub fn take_events(&self) -> Vec<Event> {
        self.drain(&mut self.lock());
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events.drain(..).collect()
    }

    /// Moves the lifecycle's new events to the queue [`take_events`](Self::take_events)
    /// empties, tracing each: the one place where both transports' events are traced.
    fn drain(&self, life: &mut TokenLifecycle) {
        while let Some(event) = life.poll_event() {
            trace::event(&event);
            let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
            if events.len() == MAX_EVENTS {
                events.pop_front();
            }
            events.push_back(event);
        }
    }
}
