//! Drives the core's token lifecycle: single flight across threads, store lock held from
//! re-reading the tokens to persisting the new ones.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use qonto_auth_core::lifecycle::{
    Access, AttemptId, AttemptStep, BearerCredential, LifecycleStatus, RefreshError,
    RefreshOutcome, Stored, TokenAttempt, TokenLifecycle, TransientCause, UnauthorizedAdvice,
    Warning,
};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AuthorizationCode, Fingerprint};
use qonto_store::{StoreGuard, TokenStore};
use ureq::Agent;

use crate::wire;
use qonto_transport::Error;
use qonto_transport::{Clock, ReadyCache};

/// The OAuth side of a client, shared by all its clones.
pub(crate) struct OAuthDriver {
    /// The lock-free copy of the ready credential (bumped on every change).
    ready: ReadyCache,
    lifecycle: Mutex<TokenLifecycle>,
    finished: Condvar,
    store: Arc<dyn TokenStore>,
    warnings: Mutex<Vec<Warning>>,
}

impl OAuthDriver {
    pub(crate) fn new(
        lifecycle: TokenLifecycle,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, Error> {
        let mut lifecycle = lifecycle;
        lifecycle.handle_tokens(load_tolerating_corruption(store.as_ref())?);
        Ok(Self {
            ready: ReadyCache::new(),
            lifecycle: Mutex::new(lifecycle),
            finished: Condvar::new(),
            store,
            warnings: Mutex::new(Vec::new()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, TokenLifecycle> {
        // The lifecycle is only mutated through whole method calls; a panic elsewhere while
        // holding the lock cannot leave it half-updated.
        self.lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns a usable bearer credential, refreshing first when needed. Exactly one thread
    /// runs a refresh; the others wait for its outcome.
    pub(crate) fn bearer(
        &self,
        agent: &Agent,
        max_body: u64,
        clock: &Clock,
    ) -> Result<BearerCredential, Error> {
        if let Some(credential) = self.ready.get(clock.now()) {
            return Ok(credential);
        }
        let mut life = self.lock();
        loop {
            let now = clock.now();
            if let Some(warning) = life.poll_warning(now) {
                self.warnings
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(warning);
            }
            match life.poll_access(now) {
                Access::Ready(credential) => {
                    // A proactive refresh that is due is run by the caller that notices it;
                    // the others keep using the still-valid token meanwhile.
                    let Some(attempt) = life.poll_refresh(now) else {
                        self.ready.keep(&life, now, &credential);
                        return Ok(credential);
                    };
                    drop(life);
                    let _ = self.run(attempt, agent, max_body, clock);
                    life = self.lock();
                }
                Access::Wait => match life.poll_refresh(now) {
                    Some(attempt) => {
                        drop(life);
                        let _ = self.run(attempt, agent, max_body, clock);
                        life = self.lock();
                    }
                    // Nothing could start and nothing runs (refreshing just stopped): ask again.
                    None if !life.refreshing() => {}
                    None => {
                        // Another thread's refresh is in flight: wait for its outcome. The
                        // timeout only guards against a lost wake-up; the loop re-checks.
                        life = self
                            .finished
                            .wait_timeout(life, Duration::from_secs(1))
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                    }
                },
                Access::Unavailable(error) => return Err(Error::Auth(error)),
                _ => return Err(Error::NotOAuth),
            }
        }
    }

    /// Takes a 401 for a request sent with `used`.
    pub(crate) fn unauthorized(&self, used: Fingerprint, clock: &Clock) -> UnauthorizedAdvice {
        let mut life = self.lock();
        self.ready.changed();
        life.handle_unauthorized(clock.now(), used)
    }

    /// Exchanges an authorization code and stores the first tokens.
    pub(crate) fn exchange(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
        agent: &Agent,
        max_body: u64,
        clock: &Clock,
    ) -> Result<(), Error> {
        let attempt = self
            .lock()
            .exchange_code(code, pkce)
            .map_err(|e| Error::Request(e.into()))?;
        match self.run(attempt, agent, max_body, clock) {
            Some(error) => Err(Error::Auth(error)),
            None => Ok(()),
        }
    }

    /// Refreshes now (for `auth refresh`), keeping the current token if the refresh fails.
    pub(crate) fn refresh_now(
        &self,
        agent: &Agent,
        max_body: u64,
        clock: &Clock,
    ) -> Result<(), Error> {
        let mut life = self.lock();
        if life.tokens().is_none() {
            return Err(Error::Auth(RefreshError::ReauthRequired(
                qonto_auth_core::lifecycle::ReauthReason::NotLoggedIn,
            )));
        }
        let now = clock.now();
        let attempt = life.force_refresh(now);
        self.ready.changed();
        let Some(attempt) = attempt else {
            let until = life.poll_timeout().unwrap_or(now);
            let status = life.status(now);
            let cause = TransientCause::Throttled { until };
            return Err(Error::Auth(
                status.last_error.unwrap_or(RefreshError::Transient(cause)),
            ));
        };
        drop(life);
        match self.run(attempt, agent, max_body, clock) {
            Some(error) => Err(Error::Auth(error)),
            None => Ok(()),
        }
    }

    /// Removes the stored tokens.
    pub(crate) fn logout(&self) -> Result<(), Error> {
        self.store.lock()?.clear()?;
        let mut life = self.lock();
        life.handle_tokens(None);
        self.ready.changed();
        Ok(())
    }

    pub(crate) fn status(&self, clock: &Clock) -> LifecycleStatus {
        self.lock().status(clock.now())
    }

    pub(crate) fn take_warnings(&self) -> Vec<Warning> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs one attempt to its end while holding the store lock, then hands the outcome to the
    /// lifecycle and wakes the waiters. Returns the failure, if the attempt failed.
    fn run(
        &self,
        mut attempt: TokenAttempt,
        agent: &Agent,
        max_body: u64,
        clock: &Clock,
    ) -> Option<RefreshError> {
        // If anything below panics, the lifecycle still learns the attempt is over.
        let mut handover = Handover {
            driver: self,
            id: attempt.id(),
            clock,
            done: false,
        };
        let mut guard = self.store.lock();
        let shared = self.store.is_shared() && attempt.reads_store();
        let mut step = match &mut guard {
            Ok(guard) => match read_stored(guard.as_mut(), shared) {
                Ok(stored) => attempt.handle_stored(clock.now(), stored),
                Err(error) => attempt.handle_store_failed(&error),
            },
            Err(error) => attempt.handle_store_failed(&error.to_string()),
        };
        let (id, outcome) = loop {
            step = match step {
                AttemptStep::Send(request) => {
                    match wire::execute(agent, max_body, request.into_http()) {
                        Ok(response) => attempt.handle_response(
                            response.status,
                            &response.headers,
                            &response.body,
                        ),
                        Err(error) => {
                            attempt.handle_network_failure(clock.now(), error.into_failure())
                        }
                    }
                }
                AttemptStep::Persist(tokens) => match guard.as_mut().map(|g| g.save(&tokens)) {
                    Ok(Ok(())) => attempt.handle_persisted(),
                    Ok(Err(error)) => attempt.handle_persist_failed(&error.to_string()),
                    Err(error) => attempt.handle_persist_failed(&error.to_string()),
                },
                AttemptStep::Done(id, outcome) => break (id, outcome),
                _ => attempt.handle_store_failed("unsupported attempt step"),
            };
        };
        drop(guard);
        handover.done = true;
        let failure = failure_of(&outcome);
        self.finish(clock, id, outcome);
        failure
    }

    /// Hands an attempt's outcome to the lifecycle and wakes the waiters.
    fn finish(&self, clock: &Clock, id: AttemptId, outcome: RefreshOutcome) {
        let mut life = self.lock();
        life.handle_refresh_outcome(clock.now(), id, outcome);
        self.ready.changed();
        drop(life);
        self.finished.notify_all();
    }
}

/// Reports an attempt as failed if its driver unwinds before handing over the outcome, so
/// the lifecycle never keeps a refresh in flight forever.
struct Handover<'a> {
    driver: &'a OAuthDriver,
    id: AttemptId,
    clock: &'a Clock,
    done: bool,
}

impl Drop for Handover<'_> {
    fn drop(&mut self) {
        if !self.done {
            let cause = TransientCause::Store("the refresh was interrupted".into());
            let outcome = RefreshOutcome::Failed(RefreshError::Transient(cause));
            self.driver.finish(self.clock, self.id, outcome);
        }
    }
}

/// The error a caller of an attempt should see: failures, and new tokens that could not be
/// saved (they work in this process, but are lost when it ends).
fn failure_of(outcome: &RefreshOutcome) -> Option<RefreshError> {
    match outcome {
        RefreshOutcome::Failed(error)
        | RefreshOutcome::Rescued(_, error)
        | RefreshOutcome::InDoubt { error, .. } => Some(error.clone()),
        RefreshOutcome::Unpersisted(_, store_error) => Some(RefreshError::Transient(
            TransientCause::Store(store_error.clone()),
        )),
        _ => None,
    }
}

/// Reads the store at start-up; a corrupt file counts as "no tokens" so that logging in again
/// can replace it (a refresh re-reads it under the lock and reports it).
fn load_tolerating_corruption(
    store: &dyn TokenStore,
) -> Result<Option<qonto_auth_core::TokenSet>, Error> {
    match store.load() {
        Err(qonto_store::StoreError::Corrupt { .. }) => Ok(None),
        other => Ok(other?),
    }
}

/// What the store holds, for the start of an attempt; unshared stores need no re-read.
fn read_stored(guard: &mut dyn StoreGuard, shared: bool) -> Result<Stored, String> {
    if !shared {
        return Ok(Stored::Unshared);
    }
    match guard.load() {
        Ok(Some(tokens)) => Ok(Stored::Tokens(tokens)),
        Ok(None) => Ok(Stored::Empty),
        Err(error) => Err(error.to_string()),
    }
}
