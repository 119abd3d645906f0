//! The OAuth side of a client: the lifecycle behind a std mutex (held for one core call at a
//! time, never across an `.await`), a `Notify` for tasks waiting on another's attempt, and
//! the loop that drives an attempt in its own task, so a cancelled caller never leaves one
//! half done.

use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use qonto_auth_core::CallError;
use qonto_auth_core::call::SendFailure;
use qonto_auth_core::http::{Request, Response};
use qonto_auth_core::lifecycle::{
    Access, AttemptId, AttemptResult, AttemptStep, BearerCredential, Event, LifecycleStatus,
    RefreshError, TokenAttempt, TokenLifecycle, TransientCause, UnauthorizedAdvice,
};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AuthorizationCode, Fingerprint};
use qonto_transport::store_steps::startup_tokens;
use qonto_transport::{Clock, Error, ReadyCache};
use tokio::sync::Notify;

use crate::store::{AsyncTokenStore, Held, lock_and_read, save};
use crate::wire;

/// What the I/O of a client needs; cheap to clone into an attempt's task.
#[derive(Clone)]
pub(crate) struct Io {
    pub(crate) http: reqwest::Client,
    pub(crate) max_body: u64,
    pub(crate) clock: Clock,
}

impl Io {
    pub(crate) async fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, SendFailure> {
        wire::execute(&self.http, self.max_body, request).await
    }
}

pub(crate) struct OAuthDriver {
    /// The lock-free copy of the ready credential (bumped on every change).
    ready: ReadyCache,
    lifecycle: Mutex<TokenLifecycle>,
    finished: Notify,
    store: Arc<dyn AsyncTokenStore>,
}

impl OAuthDriver {
    pub(crate) async fn new(
        lifecycle: TokenLifecycle,
        store: Arc<dyn AsyncTokenStore>,
    ) -> Result<Self, Error> {
        let mut lifecycle = lifecycle.with_shared_store(store.is_shared());
        lifecycle.handle_tokens(startup_tokens(store.load().await)?);
        Ok(Self {
            ready: ReadyCache::new(),
            lifecycle: Mutex::new(lifecycle),
            finished: Notify::new(),
            store,
        })
    }

    fn lock(&self) -> MutexGuard<'_, TokenLifecycle> {
        // Only whole core calls run under the lock: a panic elsewhere cannot leave it half done.
        self.lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The access path: this thread's copy of the ready credential, without locking; else the
    /// access loop, boxed so that every caller's future stays small.
    pub(crate) async fn credential(
        self: &Arc<Self>,
        io: &Io,
    ) -> Result<BearerCredential, CallError> {
        match self.ready.get(io.clock.now()) {
            Some(credential) => Ok(credential),
            None => Box::pin(self.access(io)).await,
        }
    }

    async fn access(self: &Arc<Self>, io: &Io) -> Result<BearerCredential, CallError> {
        loop {
            // Registered before the state is read, so an outcome handed over meanwhile wakes
            // this task; most woken tasks then find the new copy without locking.
            let mut finished = pin!(self.finished.notified());
            finished.as_mut().enable();
            if let Some(credential) = self.ready.get(io.clock.now()) {
                return Ok(credential);
            }
            let attempt = {
                let mut life = self.lock();
                let now = io.clock.now();
                match life.poll_access(now) {
                    Access::Ready(credential) => {
                        self.ready.keep(&life, now, &credential);
                        return Ok(credential);
                    }
                    Access::Refresh(attempt) => Some(attempt),
                    Access::Wait => None,
                    Access::Unavailable(error) => return Err(CallError::Auth(error)),
                }
            };
            match attempt {
                Some(attempt) => {
                    if let Some(error) = self.run(attempt, io).await.blocking_error() {
                        return Err(CallError::Auth(error));
                    }
                }
                None => finished.await,
            }
        }
    }

    pub(crate) fn unauthorized(&self, used: Fingerprint, io: &Io) -> UnauthorizedAdvice {
        let mut life = self.lock();
        self.ready.changed();
        life.handle_unauthorized(io.clock.now(), used)
    }

    pub(crate) async fn exchange(
        self: &Arc<Self>,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
        io: &Io,
    ) -> Result<(), Error> {
        let attempt = self.lock().exchange_code(io.clock.now(), code, pkce);
        let attempt = attempt.map_err(|e| Error::Request(e.into()))?;
        self.run(Box::new(attempt), io)
            .await
            .into_result()
            .map_err(Error::Auth)
    }

    pub(crate) async fn refresh_now(self: &Arc<Self>, io: &Io) -> Result<(), Error> {
        self.lock()
            .force_refresh(io.clock.now())
            .map_err(Error::Auth)?;
        self.ready.changed();
        self.credential(io).await?;
        self.status(io)
            .last_error
            .map_or(Ok(()), |e| Err(Error::Auth(e)))
    }

    pub(crate) async fn logout(&self) -> Result<(), Error> {
        self.store.lock().await?.clear().await?;
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

    /// Runs one attempt in its own task and waits for what its driver gets. The task hands
    /// its outcome over even if this future is dropped.
    async fn run(self: &Arc<Self>, attempt: Box<TokenAttempt>, io: &Io) -> AttemptResult {
        let handover = Handover {
            driver: Arc::clone(self),
            id: attempt.id(),
            clock: io.clock.clone(),
            armed: true,
        };
        let io = io.clone();
        match tokio::spawn(handover.drive(attempt, io)).await {
            Ok(result) => result,
            Err(_) => AttemptResult::Failed(RefreshError::Transient(TransientCause::Interrupted)),
        }
    }

    fn hand_over(&self, input: impl FnOnce(&mut TokenLifecycle) -> AttemptResult) -> AttemptResult {
        let mut life = self.lock();
        let result = input(&mut life);
        self.ready.changed();
        drop(life);
        self.finished.notify_waiters();
        result
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
    /// Drives the attempt from its first step to its outcome, the store lock held from the
    /// `Lock` step to `Done`.
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
        self.driver
            .hand_over(|life| life.handle_refresh_outcome(io.clock.now(), id, outcome))
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        if self.armed {
            let _ = self
                .driver
                .hand_over(|life| life.handle_attempt_interrupted(self.clock.now(), self.id));
        }
    }
}
