//! The OAuth side of a client: the shared lifecycle, a condvar for callers waiting on
//! another's attempt, and the loop that drives an attempt.

use std::sync::{Arc, Condvar};
use std::time::Duration;

use qonto_auth_core::CallError;
use qonto_auth_core::lifecycle::{
    Access, AttemptId, AttemptResult, AttemptStep, BearerCredential, TokenAttempt,
};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::AuthorizationCode;
use qonto_store::TokenStore;
use qonto_transport::store_steps::{HeldLock, lock_and_read, save};
use qonto_transport::{Clock, Error, SharedLifecycle};

use crate::wire::Io;

/// The OAuth side of a client: the lifecycle, the condvar waiters sleep on, the store.
pub(crate) struct OAuthDriver {
    pub(crate) life: SharedLifecycle,
    pub(crate) finished: Condvar,
    pub(crate) store: Arc<dyn TokenStore>,
}

qonto_transport::holds_lifecycle!(OAuthDriver);

impl OAuthDriver {
    /// The access loop: the credential, after driving or waiting for the refresh if needed.
    pub(crate) fn credential(&self, io: &Io) -> Result<BearerCredential, CallError> {
        if let Some(credential) = self.life.cached(io.clock.now()) {
            return Ok(credential);
        }
        let mut life = self.life.lock();
        loop {
            match self.life.poll(&mut life, io.clock.now()) {
                Access::Ready(credential) => return Ok(credential),
                Access::Refresh(attempt) => {
                    drop(life);
                    if let Some(error) = self.run(attempt, io).blocking_error() {
                        return Err(CallError::Auth(error));
                    }
                    life = self.life.lock();
                }
                // The timeout only guards against a lost wake-up; the loop asks again.
                Access::Wait => {
                    let waited = self.finished.wait_timeout(life, Duration::from_secs(1));
                    life = waited.map_or_else(|e| e.into_inner().0, |w| w.0);
                }
                Access::Unavailable(error) => return Err(CallError::Auth(error)),
            }
        }
    }

    pub(crate) fn exchange(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
        io: &Io,
    ) -> Result<(), Error> {
        let attempt = self.life.exchange(io.clock.now(), code, pkce)?;
        self.run(attempt, io).into_result().map_err(Error::Auth)
    }

    pub(crate) fn refresh_now(&self, io: &Io) -> Result<(), Error> {
        self.life.force_refresh(io.clock.now())?;
        self.credential(io)?;
        self.life.refreshed(io.clock.now())
    }

    pub(crate) fn logout(&self) -> Result<(), Error> {
        self.store.lock()?.clear()?;
        self.life.forget();
        Ok(())
    }

    /// Drives an attempt to its outcome (store lock held from `Lock` to `Done`), hands it over.
    fn run(&self, mut attempt: Box<TokenAttempt>, io: &Io) -> AttemptResult {
        let _span = qonto_transport::trace::attempt(&attempt).entered();
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
        let result = self
            .life
            .hand_over(|life| life.handle_refresh_outcome(io.clock.now(), id, outcome));
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
            self.driver.life.interrupted(self.clock.now(), self.id);
            self.driver.finished.notify_all();
        }
    }
}
