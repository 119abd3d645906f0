//! Drives the core's token lifecycle: single flight across tasks, store lock held from
//! re-reading the tokens to persisting the new ones.
//!
//! The lifecycle sits behind a std mutex that is only ever held for one core call, never
//! across an `.await`. Each token attempt runs in its own spawned task, so a caller that is
//! cancelled mid-refresh cannot leave the lifecycle waiting for an outcome that never comes.

use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use qonto_auth_core::lifecycle::{
    Access, AttemptId, AttemptStep, BearerCredential, LifecycleStatus, NetworkFailure,
    ReauthReason, RefreshError, RefreshOutcome, SendStage, Stored, TokenAttempt, TokenLifecycle,
    TransientCause, UnauthorizedAdvice, Warning,
};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AuthorizationCode, Fingerprint};
use tokio::sync::Notify;

use crate::store::{AsyncStoreGuard, AsyncTokenStore};
use crate::wire;
use qonto_transport::Error;
use qonto_transport::{Clock, ReadyCache};

/// What a token attempt needs to do its I/O; cheap to clone into a spawned task.
#[derive(Clone)]
pub(crate) struct Io {
    pub(crate) http: reqwest::Client,
    pub(crate) max_body: u64,
    pub(crate) clock: Clock,
}

/// The OAuth side of a client, shared by all its clones.
pub(crate) struct OAuthDriver {
    /// The lock-free copy of the ready credential (bumped on every change).
    ready: ReadyCache,
    lifecycle: Mutex<TokenLifecycle>,
    finished: Notify,
    store: Arc<dyn AsyncTokenStore>,
    warnings: Mutex<Vec<Warning>>,
}

impl OAuthDriver {
    pub(crate) async fn new(
        lifecycle: TokenLifecycle,
        store: Arc<dyn AsyncTokenStore>,
    ) -> Result<Self, Error> {
        let mut lifecycle = lifecycle;
        // A corrupt file counts as "no tokens" so that logging in again can replace it (a
        // refresh re-reads it under the lock and reports it).
        let stored = match store.load().await {
            Err(qonto_store::StoreError::Corrupt { .. }) => None,
            other => other?,
        };
        lifecycle.handle_tokens(stored);
        Ok(Self {
            ready: ReadyCache::new(),
            lifecycle: Mutex::new(lifecycle),
            finished: Notify::new(),
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

    /// Returns a usable bearer credential, refreshing first when needed. Exactly one task
    /// runs a refresh; the others wait for its outcome without holding any lock.
    pub(crate) async fn bearer(self: &Arc<Self>, io: &Io) -> Result<BearerCredential, Error> {
        // The hot path: this thread's copy, without registering for wake-ups (which locks).
        if let Some(credential) = self.ready.get(io.clock.now()) {
            return Ok(credential);
        }
        // The slow path's state (lock, wake-up registration, the refresh task) lives in a box,
        // so every caller's future stays small: futures are moved by copying their full size.
        Box::pin(self.bearer_slow(io)).await
    }

    async fn bearer_slow(self: &Arc<Self>, io: &Io) -> Result<BearerCredential, Error> {
        loop {
            // Registered before the state is read, so an outcome handed over between the
            // check and the wait still wakes this task.
            let mut finished = pin!(self.finished.notified());
            finished.as_mut().enable();
            // Checked again once registered: how most of the tasks woken by a finished refresh
            // get the new token, without queueing for the lifecycle's lock.
            if let Some(credential) = self.ready.get(io.clock.now()) {
                return Ok(credential);
            }
            // `Some`: run this attempt; `None`: wait for the one in flight.
            let next = {
                let mut life = self.lock();
                let now = io.clock.now();
                if let Some(warning) = life.poll_warning(now) {
                    self.warnings
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(warning);
                }
                match life.poll_access(now) {
                    Access::Ready(credential) => match life.poll_refresh(now) {
                        // A proactive refresh that is due is run by the caller that notices
                        // it; the others keep using the still-valid token meanwhile.
                        Some(attempt) => Some(attempt),
                        None => {
                            self.ready.keep(&life, now, &credential);
                            return Ok(credential);
                        }
                    },
                    Access::Wait => match life.poll_refresh(now) {
                        // Nothing could start and nothing runs (refreshing just stopped):
                        // ask again rather than wait for a wake-up that will not come.
                        None if !life.refreshing() => continue,
                        next => next,
                    },
                    Access::Unavailable(error) => return Err(Error::Auth(error)),
                    _ => return Err(Error::NotOAuth),
                }
            };
            match next {
                Some(attempt) => {
                    let _ = self.run(attempt, io).await;
                }
                None => finished.await,
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
    pub(crate) async fn exchange(
        self: &Arc<Self>,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
        io: &Io,
    ) -> Result<(), Error> {
        let attempt = self
            .lock()
            .exchange_code(code, pkce)
            .map_err(|e| Error::Request(e.into()))?;
        match self.run(attempt, io).await {
            Some(error) => Err(Error::Auth(error)),
            None => Ok(()),
        }
    }

    /// Refreshes now (for `auth refresh`), keeping the current token if the refresh fails.
    pub(crate) async fn refresh_now(self: &Arc<Self>, io: &Io) -> Result<(), Error> {
        let attempt = {
            let mut life = self.lock();
            if life.tokens().is_none() {
                return Err(Error::Auth(RefreshError::ReauthRequired(
                    ReauthReason::NotLoggedIn,
                )));
            }
            let now = io.clock.now();
            let attempt = life.force_refresh(now);
            self.ready.changed();
            match attempt {
                Some(attempt) => attempt,
                None => {
                    let until = life.poll_timeout().unwrap_or(now);
                    let cause = TransientCause::Throttled { until };
                    let error = life.status(now).last_error;
                    return Err(Error::Auth(error.unwrap_or(RefreshError::Transient(cause))));
                }
            }
        };
        match self.run(attempt, io).await {
            Some(error) => Err(Error::Auth(error)),
            None => Ok(()),
        }
    }

    /// Removes the stored tokens.
    pub(crate) async fn logout(&self) -> Result<(), Error> {
        self.store.lock().await?.clear().await?;
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

    /// Runs one attempt in its own task and waits for it. Returns the failure, if the attempt
    /// failed. The task finishes (and hands its outcome over) even if this future is dropped.
    async fn run(self: &Arc<Self>, attempt: TokenAttempt, io: &Io) -> Option<RefreshError> {
        let handover = Handover {
            driver: Arc::clone(self),
            id: attempt.id(),
            clock: io.clock.clone(),
            done: false,
        };
        let io = io.clone();
        let task = tokio::spawn(async move { handover.drive(attempt, &io).await });
        match task.await {
            Ok(failure) => failure,
            Err(_) => Some(aborted()),
        }
    }

    fn finish(&self, clock: &Clock, id: AttemptId, outcome: RefreshOutcome) {
        let mut life = self.lock();
        life.handle_refresh_outcome(clock.now(), id, outcome);
        self.ready.changed();
        drop(life);
        self.finished.notify_waiters();
    }
}

/// Owns a running attempt: hands its outcome to the lifecycle exactly once, and if the task
/// ends early (panic, runtime shutdown) still reports a transient failure so waiters wake up.
struct Handover {
    driver: Arc<OAuthDriver>,
    id: AttemptId,
    clock: Clock,
    done: bool,
}

impl Handover {
    /// Drives the attempt to its end while holding the store lock, then hands the outcome to
    /// the lifecycle and wakes the waiters.
    async fn drive(mut self, mut attempt: TokenAttempt, io: &Io) -> Option<RefreshError> {
        let store = &self.driver.store;
        let shared = store.is_shared() && attempt.reads_store();
        let mut guard = store.lock().await;
        let mut step = match &mut guard {
            Ok(guard) => match read_stored(guard.as_mut(), shared).await {
                Ok(stored) => attempt.handle_stored(io.clock.now(), stored),
                Err(error) => attempt.handle_store_failed(&error),
            },
            Err(error) => attempt.handle_store_failed(&error.to_string()),
        };
        let (id, outcome) = loop {
            step = match step {
                AttemptStep::Send(request) => {
                    match wire::execute(&io.http, io.max_body, request.into_http()).await {
                        Ok(response) => attempt.handle_response(
                            response.status,
                            &response.headers,
                            &response.body,
                        ),
                        Err(error) => {
                            attempt.handle_network_failure(io.clock.now(), error.into_failure())
                        }
                    }
                }
                AttemptStep::Persist(tokens) => match &mut guard {
                    Ok(guard) => match guard.save(&tokens).await {
                        Ok(()) => attempt.handle_persisted(),
                        Err(error) => attempt.handle_persist_failed(&error.to_string()),
                    },
                    Err(error) => attempt.handle_persist_failed(&error.to_string()),
                },
                AttemptStep::Done(id, outcome) => break (id, outcome),
                _ => attempt.handle_store_failed("unsupported attempt step"),
            };
        };
        drop(guard);
        let failure = match &outcome {
            RefreshOutcome::Failed(error)
            | RefreshOutcome::Rescued(_, error)
            | RefreshOutcome::InDoubt { error, .. } => Some(error.clone()),
            // New tokens that could not be saved work here but are lost when the process ends.
            RefreshOutcome::Unpersisted(_, store_error) => Some(RefreshError::Transient(
                TransientCause::Store(store_error.clone()),
            )),
            _ => None,
        };
        self.done = true;
        self.driver.finish(&self.clock, id, outcome);
        failure
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        if !self.done {
            let outcome = RefreshOutcome::Failed(aborted());
            self.driver.finish(&self.clock, self.id, outcome);
        }
    }
}

/// The attempt's task ended before its outcome was known.
fn aborted() -> RefreshError {
    RefreshError::Transient(TransientCause::Network(NetworkFailure {
        stage: SendStage::MaybeSent,
        description: "the token request task ended early".to_owned(),
    }))
}

/// What the store holds, for the start of an attempt; unshared stores need no re-read.
async fn read_stored(guard: &mut dyn AsyncStoreGuard, shared: bool) -> Result<Stored, String> {
    if !shared {
        return Ok(Stored::Unshared);
    }
    match guard.load().await {
        Ok(Some(tokens)) => Ok(Stored::Tokens(tokens)),
        Ok(None) => Ok(Stored::Empty),
        Err(error) => Err(error.to_string()),
    }
}
