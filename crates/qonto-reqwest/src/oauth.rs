//! The OAuth side of a client: the access loop, and the attempt loop in its own task (so a
//! cancelled caller never leaves a refresh half done); no lock is held across an `.await`.

use std::pin::pin;
use std::sync::Arc;

use qonto_auth_core::CallError;
use qonto_auth_core::lifecycle::{
    Access, AttemptId, AttemptResult, AttemptStep, BearerCredential, RefreshError, TokenAttempt,
    TransientCause,
};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::AuthorizationCode;
use qonto_transport::{Clock, Error, SharedLifecycle};
use tokio::sync::Notify;

use qonto_store::AsyncTokenStore;

use crate::store::{Held, lock_and_read, save};
use crate::wire::Io;

/// The OAuth side of a client: the lifecycle, the store, and the `Notify` waiters await.
pub(crate) struct OAuthDriver {
    pub(crate) life: SharedLifecycle,
    pub(crate) store: Arc<dyn AsyncTokenStore>,
    pub(crate) finished: Notify,
}

qonto_transport::holds_lifecycle!(OAuthDriver);

impl OAuthDriver {
    /// This thread's copy of the credential, or the access loop (boxed: small futures).
    pub(crate) async fn credential(
        self: &Arc<Self>,
        io: &Io,
    ) -> Result<BearerCredential, CallError> {
        match self.life.cached(io.clock.now()) {
            Some(credential) => Ok(credential),
            None => Box::pin(self.access(io)).await,
        }
    }

    async fn access(self: &Arc<Self>, io: &Io) -> Result<BearerCredential, CallError> {
        loop {
            // A woken caller usually finds the new credential in its thread's copy.
            if let Some(credential) = self.life.cached(io.clock.now()) {
                return Ok(credential);
            }
            // Registered before the state is read, so an outcome handed over meanwhile wakes
            // this task. While an attempt is in flight, wait without locking the lifecycle:
            // in a storm, 999 callers then cost a registration each, not a contended lock.
            let mut finished = pin!(self.finished.notified());
            finished.as_mut().enable();
            if let Some(credential) = self.life.cached(io.clock.now()) {
                return Ok(credential);
            }
            if self.life.in_flight() {
                finished.await;
                continue;
            }
            let access = self.life.poll(&mut self.life.lock(), io.clock.now());
            match access {
                Access::Ready(credential) => return Ok(credential),
                Access::Refresh(attempt) => {
                    if let Some(error) = self.run(attempt, io).await.blocking_error() {
                        return Err(CallError::Auth(error));
                    }
                }
                Access::Wait => finished.await,
                Access::Unavailable(error) => return Err(CallError::Auth(error)),
            }
        }
    }

    pub(crate) async fn exchange(
        self: &Arc<Self>,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
        io: &Io,
    ) -> Result<(), Error> {
        let attempt = self.life.exchange(io.clock.now(), code, pkce)?;
        self.run(attempt, io)
            .await
            .into_result()
            .map_err(Error::Auth)
    }

    pub(crate) async fn refresh_now(self: &Arc<Self>, io: &Io) -> Result<(), Error> {
        self.life.force_refresh(io.clock.now())?;
        self.credential(io).await?;
        self.life.refreshed(io.clock.now())
    }

    pub(crate) async fn logout(&self) -> Result<(), Error> {
        self.store.lock().await?.clear().await?;
        self.life.forget();
        Ok(())
    }

    /// Runs one attempt in its own task, which hands the outcome over even if this is dropped.
    async fn run(self: &Arc<Self>, attempt: Box<TokenAttempt>, io: &Io) -> AttemptResult {
        let handover = Handover {
            driver: Arc::clone(self),
            id: attempt.id(),
            clock: io.clock.clone(),
            armed: true,
        };
        let span = qonto_transport::trace::attempt(&attempt);
        let drive = tracing::Instrument::instrument(handover.drive(attempt, io.clone()), span);
        match tokio::spawn(drive).await {
            Ok(result) => result,
            Err(_) => AttemptResult::Failed(RefreshError::Transient(TransientCause::Interrupted)),
        }
    }
}

/// Owns a running attempt: hands its outcome over exactly once, and if the task ends early
/// (panic, runtime shutdown) tells the lifecycle it was interrupted, so waiters wake up.
struct Handover {
    driver: Arc<OAuthDriver>,
    id: AttemptId,
    clock: Clock,
    armed: bool,
}

impl Handover {
    /// Drives the attempt to its outcome, the store lock held from `Lock` to `Done`.
    async fn drive(mut self, mut attempt: Box<TokenAttempt>, io: Io) -> AttemptResult {
        let store = Arc::clone(&self.driver.store);
        let mut held: Held = None;
        let mut step = attempt.start(io.clock.now());
        let (id, outcome) = loop {
            step = match step {
                AttemptStep::Lock { read } => attempt.handle_locked(
                    io.clock.now(),
                    lock_and_read(&*store, read, &mut held).await,
                ),
                AttemptStep::Send(request) => {
                    attempt.handle_sent(io.clock.now(), io.send(request.into_http()).await)
                }
                AttemptStep::Persist(tokens) => {
                    attempt.handle_saved(save(&*store, &mut held, &tokens).await)
                }
                AttemptStep::Done(id, outcome) => break (id, outcome),
            };
        };
        drop(held);
        self.armed = false;
        let life = &self.driver.life;
        let result =
            life.hand_over(|life| life.handle_refresh_outcome(io.clock.now(), id, outcome));
        self.driver.finished.notify_waiters();
        result
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        if self.armed {
            self.driver.life.interrupted(self.clock.now(), self.id);
            self.driver.finished.notify_waiters();
        }
    }
}
