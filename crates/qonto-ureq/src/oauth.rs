//! The OAuth side of a client: the lifecycle behind a mutex (never held during I/O), a
//! condvar for callers waiting on another's attempt, and the loop that drives an attempt.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use qonto_auth_core::CallError;
use qonto_auth_core::call::SendFailure;
use qonto_auth_core::http::{Request, Response};
use qonto_auth_core::lifecycle::{
    Access, AttemptId, AttemptResult, AttemptStep, BearerCredential, Event, LifecycleStatus,
    TokenAttempt, TokenLifecycle, UnauthorizedAdvice,
};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AuthorizationCode, Fingerprint};
use qonto_store::TokenStore;
use qonto_transport::store_steps::{HeldLock, lock_and_read, save, startup_tokens};
use qonto_transport::{Clock, Error, ReadyCache};
use ureq::Agent;

use crate::wire;

/// What the I/O of a client needs.
pub(crate) struct Io {
    pub(crate) agent: Agent,
    pub(crate) max_body: u64,
    pub(crate) clock: Clock,
}

impl Io {
    pub(crate) fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, SendFailure> {
        wire::execute(&self.agent, self.max_body, request)
    }
}

pub(crate) struct OAuthDriver {
    /// The lock-free copy of the ready credential (bumped on every change).
    ready: ReadyCache,
    lifecycle: Mutex<TokenLifecycle>,
    finished: Condvar,
    store: Arc<dyn TokenStore>,
}

impl OAuthDriver {
    pub(crate) fn new(
        lifecycle: TokenLifecycle,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, Error> {
        let mut lifecycle = lifecycle.with_shared_store(store.is_shared());
        lifecycle.handle_tokens(startup_tokens(store.load())?);
        Ok(Self {
            ready: ReadyCache::new(),
            lifecycle: Mutex::new(lifecycle),
            finished: Condvar::new(),
            store,
        })
    }

    fn lock(&self) -> MutexGuard<'_, TokenLifecycle> {
        // Only whole core calls run under the lock: a panic elsewhere cannot leave it half done.
        self.lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The access loop: the credential to send, after driving the refresh when this caller is
    /// handed it, or waiting for another caller's.
    pub(crate) fn credential(&self, io: &Io) -> Result<BearerCredential, CallError> {
        if let Some(credential) = self.ready.get(io.clock.now()) {
            return Ok(credential);
        }
        let mut life = self.lock();
        loop {
            let now = io.clock.now();
            match life.poll_access(now) {
                Access::Ready(credential) => {
                    self.ready.keep(&life, now, &credential);
                    return Ok(credential);
                }
                Access::Refresh(attempt) => {
                    drop(life);
                    if let Some(error) = self.run(attempt, io).blocking_error() {
                        return Err(CallError::Auth(error));
                    }
                    life = self.lock();
                }
                // The timeout only guards against a lost wake-up; the loop asks again.
                Access::Wait => {
                    life = self
                        .finished
                        .wait_timeout(life, Duration::from_secs(1))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                Access::Unavailable(error) => return Err(CallError::Auth(error)),
            }
        }
    }

    pub(crate) fn unauthorized(&self, used: Fingerprint, io: &Io) -> UnauthorizedAdvice {
        let mut life = self.lock();
        self.ready.changed();
        life.handle_unauthorized(io.clock.now(), used)
    }

    pub(crate) fn exchange(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
        io: &Io,
    ) -> Result<(), Error> {
        let attempt = self.lock().exchange_code(io.clock.now(), code, pkce);
        let attempt = attempt.map_err(|e| Error::Request(e.into()))?;
        self.run(Box::new(attempt), io)
            .into_result()
            .map_err(Error::Auth)
    }

    pub(crate) fn refresh_now(&self, io: &Io) -> Result<(), Error> {
        self.lock()
            .force_refresh(io.clock.now())
            .map_err(Error::Auth)?;
        self.ready.changed();
        self.credential(io)?;
        self.status(io)
            .last_error
            .map_or(Ok(()), |e| Err(Error::Auth(e)))
    }

    pub(crate) fn logout(&self) -> Result<(), Error> {
        self.store.lock()?.clear()?;
        self.lock().handle_tokens(None);
        self.ready.changed();
        Ok(())
    }

    pub(crate) fn status(&self, io: &Io) -> LifecycleStatus {
        self.lock().status(io.clock.now())
    }

    pub(crate) fn take_events(&self) -> Vec<Event> {
        let mut life = self.lock();
        std::iter::from_fn(|| life.poll_event()).collect()
    }

    /// Drives one attempt from its first step to its outcome, the store lock held from the
    /// `Lock` step to `Done`; hands the outcome over and wakes the waiters.
    fn run(&self, mut attempt: Box<TokenAttempt>, io: &Io) -> AttemptResult {
        let mut handover = Handover {
            driver: self,
            id: attempt.id(),
            clock: &io.clock,
            armed: true,
        };
        let mut held: HeldLock<'_> = None;
        let mut step = attempt.start(io.clock.now());
        let (id, outcome) = loop {
            step = match step {
                AttemptStep::Lock { read } => attempt
                    .handle_locked(io.clock.now(), lock_and_read(&*self.store, read, &mut held)),
                AttemptStep::Send(request) => {
                    attempt.handle_sent(io.clock.now(), io.send(request.into_http()))
                }
                AttemptStep::Persist(tokens) => {
                    attempt.handle_saved(save(&*self.store, &mut held, &tokens))
                }
                AttemptStep::Done(id, outcome) => break (id, outcome),
            };
        };
        drop(held);
        handover.armed = false;
        self.hand_over(|life| life.handle_refresh_outcome(io.clock.now(), id, outcome))
    }

    fn hand_over(&self, input: impl FnOnce(&mut TokenLifecycle) -> AttemptResult) -> AttemptResult {
        let mut life = self.lock();
        let result = input(&mut life);
        self.ready.changed();
        drop(life);
        self.finished.notify_all();
        result
    }
}

/// Tells the lifecycle an attempt was interrupted if its driver unwinds before handing the
/// outcome over, so no refresh stays in flight forever.
struct Handover<'a> {
    driver: &'a OAuthDriver,
    id: AttemptId,
    clock: &'a Clock,
    armed: bool,
}

impl Drop for Handover<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self
                .driver
                .hand_over(|life| life.handle_attempt_interrupted(self.clock.now(), self.id));
        }
    }
}
