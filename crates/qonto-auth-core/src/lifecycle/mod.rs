//! The OAuth token lifecycle as a sans-IO state machine.
//!
//! [`TokenLifecycle`] decides, from the current time and what it has been told, which access
//! token to use, when to refresh, and what every token-endpoint outcome means. A driver (the
//! transport crates) owns the I/O and follows one loop:
//!
//! 1. Before an API call, [`TokenLifecycle::poll_access`] answers with an [`Access`]: `Ready`
//!    gives the credential to send; `Refresh` hands this caller the one refresh attempt to
//!    drive (single flight); `Wait` means another caller's attempt is in flight; `Unavailable`
//!    is an error for the caller. The driver asks again after every input.
//! 2. The driver drives a [`TokenAttempt`] from [`TokenAttempt::start`] to
//!    [`AttemptStep::Done`] and hands the outcome to
//!    [`TokenLifecycle::handle_refresh_outcome`], whose [`AttemptResult`] says what the caller
//!    that drove it gets (including "refreshed but not saved", an error for that caller).
//! 3. On a 401, [`TokenLifecycle::handle_unauthorized`] says whether to retry once with a newer
//!    token, refresh first, or give up (and why). Never more than one retry per call.
//! 4. [`TokenLifecycle::poll_event`] drains what happened (refreshes, in-doubt refreshes, a
//!    refresh token nearing its end, re-authorization required), for logs and warnings;
//!    [`TokenLifecycle::poll_timeout`] gives the next time a proactive refresh is due.
//!
//! ```text
//!            tokens installed
//!                  │
//!                  ▼
//!   ┌──────────► Idle ─── now ≥ expiry − margin − jitter, or forced ──► (due)
//!   │                                                     │ poll_access: Refresh(attempt)
//!   │                                                     ▼
//!   ├── Refreshed / Adopted ◄─────────────────────── InFlight
//!   │                                                     │
//!   │                       transient failure ◄───────────┤
//!   │   BackingOff: keep serving until the hard floor;     │ invalid_grant, lost outside
//!   └── a refresh may start again after the retry interval  ▼ grace, 90 days, bad client
//!                                                      Stopped
//! ```

mod attempt;
mod config;
mod event;
mod outcome;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Duration;

use http::HeaderValue;

pub use attempt::{AttemptStep, Stored, TokenAttempt};
pub use config::LifecycleConfig;
pub use event::Event;
pub use outcome::{
    AttemptId, AttemptResult, NetworkFailure, ReauthReason, RefreshError, RefreshOutcome,
    SendStage, TransientCause,
};

use crate::credentials::OAuthClient;
use crate::environment::Environment;
use crate::header::{HeaderError, bearer};
use crate::oauth::{PkceVerifier, authorization_code_request, refresh_request};
use crate::secret::{AuthorizationCode, Fingerprint};
use crate::time::Timestamp;
use crate::tokens::TokenSet;
use config::Jitter;

/// How many events are kept until drained; older ones are dropped first.
const MAX_EVENTS: usize = 32;

/// What an API call should do about authentication right now. Drivers match it exhaustively.
#[derive(Debug)]
#[must_use]
pub enum Access {
    /// Send the request with this credential.
    Ready(BearerCredential),
    /// Drive this refresh attempt (this caller is the only one to get it), then ask again.
    Refresh(Box<TokenAttempt>),
    /// Another caller's attempt is in flight: wait for its outcome, then ask again.
    Wait,
    /// No usable token, and none can be had now.
    Unavailable(RefreshError),
}

/// A ready `Authorization: Bearer …` value and the fingerprint of its token.
///
/// The value is encoded once per token, so handing it out is a cheap clone.
#[derive(Clone, Debug)]
pub struct BearerCredential {
    /// The `Authorization` header value, marked sensitive.
    pub header: HeaderValue,
    /// Fingerprint of the access token, to report back on a 401.
    pub fingerprint: Fingerprint,
}

/// What to do after a 401 on a request made with a token of this lifecycle.
#[derive(Clone, Debug)]
#[must_use]
pub enum UnauthorizedAdvice {
    /// A newer token exists (another caller refreshed meanwhile): retry once with it.
    RetryWithNewerToken,
    /// The current token was rejected: refresh, then retry once.
    RefreshThenRetry,
    /// Nothing more can help: report the 401, or this reason when the grant is gone.
    GiveUp(Option<RefreshError>),
}

/// A snapshot of the lifecycle for status displays. Holds no secret.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LifecycleStatus {
    /// When the access token expires.
    pub access_expires_at: Option<Timestamp>,
    /// Whether the access token can be used now.
    pub access_usable: bool,
    /// When the next proactive refresh is due.
    pub refresh_due_at: Option<Timestamp>,
    /// When the refresh token was issued.
    pub refresh_issued_at: Option<Timestamp>,
    /// When the refresh token lapses.
    pub refresh_expires_at: Option<Timestamp>,
    /// Whether a refresh is in flight.
    pub refreshing: bool,
    /// The last refresh error, if the last attempt failed.
    pub last_error: Option<RefreshError>,
}

/// Where the lifecycle stands with refreshing: one state, as in the module's diagram.
#[derive(Clone, Debug)]
enum State {
    /// Serving the current token (if any); a refresh starts when due.
    Idle,
    /// A refresh was asked for explicitly: due now, the current token still serving.
    Forced,
    /// An attempt (refresh or code exchange) was handed out at `since` and is running.
    InFlight { id: AttemptId, since: Timestamp },
    /// The last attempt failed transiently: no new one before `until`.
    BackingOff {
        until: Timestamp,
        error: RefreshError,
    },
    /// Refreshing cannot help any more (re-authorization or a configuration fix needed).
    Stopped(RefreshError),
}

/// The tokens in use, with what is derived from them once.
#[derive(Debug)]
struct Current {
    tokens: TokenSet,
    fingerprint: Fingerprint,
    /// The `Authorization` value; `None` for a token a header cannot carry.
    header: Option<HeaderValue>,
    /// The API rejected this access token (401).
    rejected: bool,
}

/// The token lifecycle state machine. See the [module docs](self) for the driving loop.
#[derive(Debug)]
pub struct TokenLifecycle {
    config: LifecycleConfig,
    environment: Environment,
    client: OAuthClient,
    shared_store: bool,
    current: Option<Current>,
    state: State,
    jitter: Jitter,
    jitter_now: Duration,
    next_id: u64,
    /// When the last refresh succeeded; the next one is never due sooner than the retry
    /// interval after it.
    refreshed_at: Option<Timestamp>,
    /// The refresh token already warned about.
    warned: Option<Fingerprint>,
    events: VecDeque<Event>,
}

impl TokenLifecycle {
    /// Creates a lifecycle with no tokens yet, for a store other processes may share (every
    /// attempt locks and re-reads it); see [`with_shared_store`](Self::with_shared_store).
    pub fn new(environment: Environment, client: OAuthClient, config: LifecycleConfig) -> Self {
        let jitter = Jitter::new(config.jitter_seed);
        Self {
            config,
            environment,
            client,
            shared_store: true,
            current: None,
            state: State::Idle,
            jitter,
            jitter_now: Duration::ZERO,
            next_id: 0,
            refreshed_at: None,
            warned: None,
            events: VecDeque::new(),
        }
    }

    /// Says whether other processes may change the stored tokens (a file, a database). When
    /// `false` (a memory store), attempts neither lock nor re-read the store.
    #[must_use]
    pub fn with_shared_store(mut self, shared: bool) -> Self {
        self.shared_store = shared;
        self
    }

    /// Installs tokens read from storage or obtained elsewhere. Tokens identical to the current
    /// ones change nothing; different ones replace them and clear past failures.
    pub fn handle_tokens(&mut self, tokens: Option<TokenSet>) {
        match (tokens, &self.current) {
            (Some(new), Some(old)) if new.same_tokens(&old.tokens) => {}
            (Some(new), _) => self.install(new),
            (None, _) => {
                self.current = None;
                if !matches!(self.state, State::InFlight { .. }) {
                    self.state = State::Idle;
                }
            }
        }
    }

    /// Starts an authorization-code exchange. Its outcome installs the first tokens.
    ///
    /// # Errors
    ///
    /// [`HeaderError`] when the staging token cannot be encoded.
    pub fn exchange_code(
        &mut self,
        now: Timestamp,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<TokenAttempt, HeaderError> {
        let request = authorization_code_request(&self.environment, &self.client, code, pkce)?;
        let id = self.start_attempt(now);
        Ok(TokenAttempt::code(id, request, self.shared_store))
    }

    /// Decides how an API call authenticates now: the one entry point of the access path.
    ///
    /// `Refresh` is answered to exactly one caller per attempt; `Wait` only while an attempt
    /// is in flight, so a driver never waits for something that cannot happen.
    pub fn poll_access(&mut self, now: Timestamp) -> Access {
        self.check_refresh_token_life(now);
        if let Some(attempt) = self.poll_refresh(now) {
            return Access::Refresh(Box::new(attempt));
        }
        if let Some(credential) = self.usable(now) {
            return Access::Ready(credential);
        }
        match &self.state {
            State::InFlight { .. } => Access::Wait,
            State::Stopped(error) => Access::Unavailable(error.clone()),
            _ => Access::Unavailable(self.refresh_blocked(now).unwrap_or(RefreshError::Transient(
                TransientCause::Throttled { until: now },
            ))),
        }
    }

    /// Asks for a refresh now, keeping the current token if it fails (an explicit "refresh
    /// now"). The attempt then comes out of [`poll_access`](Self::poll_access) as
    /// `Refresh`; if one is already in flight, its outcome answers the request.
    ///
    /// # Errors
    ///
    /// The reason no refresh can start now: not logged in, a back-off, or refreshing stopped.
    pub fn force_refresh(&mut self, now: Timestamp) -> Result<(), RefreshError> {
        match &self.state {
            State::InFlight { .. } => return Ok(()),
            State::Stopped(error) => return Err(error.clone()),
            State::BackingOff { until, error } if now < *until => return Err(error.clone()),
            _ => {}
        }
        let previous = std::mem::replace(&mut self.state, State::Forced);
        match self.refresh_blocked(now) {
            None => Ok(()),
            Some(error) => {
                self.state = previous;
                Err(error)
            }
        }
    }

    /// Hands out the refresh attempt when one is due and none is in flight.
    ///
    /// Due means: within the refresh margin (plus this token's jitter) of expiry, or the
    /// current token was rejected by the API, or a refresh was forced; and not inside a retry
    /// back-off, and not sooner than the retry interval after the last refresh (so a server
    /// handing out very short-lived tokens cannot drive a refresh storm).
    fn poll_refresh(&mut self, now: Timestamp) -> Option<TokenAttempt> {
        if matches!(self.state, State::InFlight { .. } | State::Stopped(_))
            || self.refresh_blocked(now).is_some()
        {
            return None;
        }
        let current = self.current.as_ref()?;
        let refresh_token = current.tokens.refresh_token.as_ref()?;
        let request = match refresh_request(&self.environment, &self.client, refresh_token) {
            Ok(request) => request,
            Err(error) => {
                self.stop(RefreshError::InvalidRequest(error));
                return None;
            }
        };
        let tokens = current.tokens.clone();
        let id = self.start_attempt(now);
        Some(TokenAttempt::refresh(
            id,
            request,
            tokens,
            self.shared_store,
            self.config.rotation_grace,
            self.config.grace_safety,
        ))
    }

    /// Why no refresh can start at `now` (with none in flight), or `None` when one can.
    fn refresh_blocked(&self, now: Timestamp) -> Option<RefreshError> {
        let reauth = |reason| Some(RefreshError::ReauthRequired(reason));
        let Some(current) = &self.current else {
            return reauth(ReauthReason::NotLoggedIn);
        };
        if current.header.is_none() {
            return reauth(ReauthReason::UnusableToken);
        }
        if current.tokens.refresh_token.is_none() {
            return reauth(ReauthReason::NoRefreshToken);
        }
        if self.refresh_expires_at().is_some_and(|lapse| now >= lapse) {
            return reauth(ReauthReason::RefreshTokenExpired);
        }
        if let State::BackingOff { until, error } = &self.state {
            if now < *until {
                return Some(error.clone());
            }
        }
        match self.refresh_due_at() {
            Some(due) if now < due => Some(RefreshError::Transient(TransientCause::Throttled {
                until: due,
            })),
            _ => None,
        }
    }

    /// Stops refreshing once the refresh token is past its life.
    fn check_refresh_token_life(&mut self, now: Timestamp) {
        if let Some(lapse) = self.refresh_expires_at() {
            if now >= lapse && !matches!(self.state, State::Stopped(_) | State::InFlight { .. }) {
                self.stop(RefreshError::ReauthRequired(
                    ReauthReason::RefreshTokenExpired,
                ));
                return;
            }
            let fingerprint = self.refresh_fingerprint();
            if now >= lapse - self.config.refresh_token_warning && self.warned != fingerprint {
                self.warned = fingerprint;
                self.push(Event::RefreshTokenExpiring { expires_at: lapse });
            }
        }
    }

    /// Whether an attempt is in flight (its outcome will be handed back).
    pub fn refreshing(&self) -> bool {
        matches!(self.state, State::InFlight { .. })
    }

    /// Until when the answer of [`poll_access`](Self::poll_access) stays `Ready` with the same
    /// credential, as long as no other input arrives: the earlier of the next refresh due time
    /// and the hard floor. Drivers may cache the credential until then (and until any input).
    pub fn ready_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.usable(now)?;
        let floor = self.current.as_ref()?.tokens.expires_at - self.config.hard_floor;
        let until = match (self.refresh_due_at(), &self.state) {
            (_, State::Stopped(_)) | (None, _) => floor,
            (Some(due), State::BackingOff { until, .. }) => (*until).max(due).min(floor),
            (Some(due), _) => due.min(floor),
        };
        (until > now).then_some(until)
    }

    /// Takes the outcome of the attempt `id` and says what the caller that drove it gets.
    /// Outcomes of unknown attempts are ignored (and reported as failed to their driver).
    pub fn handle_refresh_outcome(
        &mut self,
        now: Timestamp,
        id: AttemptId,
        outcome: RefreshOutcome,
    ) -> AttemptResult {
        if !matches!(self.state, State::InFlight { id: running, .. } if running == id) {
            return AttemptResult::Failed(RefreshError::DriverMisuse("an unknown attempt ended"));
        }
        self.state = State::Idle;
        match outcome {
            RefreshOutcome::Refreshed(tokens) => {
                self.push(Event::Refreshed {
                    expires_at: tokens.expires_at,
                });
                self.install(tokens);
                self.refreshed_at = Some(now);
                AttemptResult::Done
            }
            RefreshOutcome::Unpersisted(tokens, store_error) => {
                // Usable here, lost when the process ends: the caller must hear about it.
                let error = RefreshError::NotSaved(store_error);
                self.push(Event::NotSaved(error.clone()));
                self.install(tokens);
                self.refreshed_at = Some(now);
                AttemptResult::NotSaved(error)
            }
            // Another process called the token endpoint: its refresh counts as the last one
            // (the minimum gap runs from when it was sent), so processes queued on the store's
            // lock do not each refresh again tokens that live less than the refresh margin.
            RefreshOutcome::Adopted(tokens) => {
                self.push(Event::Adopted {
                    expires_at: tokens.expires_at,
                });
                if let Some(issued) = tokens.refresh_issued_at.filter(|at| *at <= now) {
                    self.refreshed_at = Some(self.refreshed_at.map_or(issued, |at| at.max(issued)));
                }
                self.install(tokens);
                AttemptResult::Done
            }
            RefreshOutcome::Rescued(tokens, error) => {
                // Keep the rescued refresh token; the access token did not change.
                if let Some(current) = &mut self.current {
                    current.tokens.refresh_token = tokens.refresh_token;
                    current.tokens.refresh_issued_at = tokens.refresh_issued_at;
                    current.tokens.refresh_pending_since = None;
                }
                self.fail(now, error)
            }
            RefreshOutcome::InDoubt { since, error } => {
                // Remembered here too, for stores that only this process uses.
                if let Some(current) = &mut self.current {
                    current.tokens.refresh_pending_since = Some(since);
                }
                self.push(Event::RefreshInDoubt { since });
                self.fail(now, error)
            }
            RefreshOutcome::Failed(error) => self.fail(now, error),
        }
    }

    /// Takes note that the driver of attempt `id` ended before learning its outcome (a panic,
    /// a cancelled task). The refresh token may have been presented since the attempt was
    /// handed out, so it is only presented again inside the rotation grace window.
    pub fn handle_attempt_interrupted(&mut self, now: Timestamp, id: AttemptId) -> AttemptResult {
        let since = match self.state {
            State::InFlight { id: running, since } if running == id => since,
            _ => return AttemptResult::Failed(RefreshError::DriverMisuse("an unknown attempt")),
        };
        let error = RefreshError::Transient(TransientCause::Interrupted);
        self.handle_refresh_outcome(now, id, RefreshOutcome::InDoubt { since, error })
    }

    /// Takes a 401 for a request sent with the token whose fingerprint is `used`.
    pub fn handle_unauthorized(&mut self, now: Timestamp, used: Fingerprint) -> UnauthorizedAdvice {
        let stopped = match &self.state {
            State::Stopped(error) => Some(error.clone()),
            _ => None,
        };
        let newer_usable = self.usable(now).is_some();
        let Some(current) = &mut self.current else {
            return UnauthorizedAdvice::GiveUp(stopped);
        };
        if current.fingerprint != used {
            return if newer_usable {
                UnauthorizedAdvice::RetryWithNewerToken
            } else {
                UnauthorizedAdvice::GiveUp(stopped)
            };
        }
        current.rejected = true;
        self.push(Event::TokenRejected { fingerprint: used });
        match stopped {
            None if self.current_refresh_token() => UnauthorizedAdvice::RefreshThenRetry,
            None => UnauthorizedAdvice::GiveUp(Some(RefreshError::ReauthRequired(
                ReauthReason::NoRefreshToken,
            ))),
            stopped => UnauthorizedAdvice::GiveUp(stopped),
        }
    }

    /// The next time the lifecycle wants to act (a proactive refresh or the end of a back-off).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let due = self.refresh_due_at()?;
        match &self.state {
            State::InFlight { .. } | State::Stopped(_) => None,
            State::BackingOff { until, .. } => Some((*until).max(due)),
            State::Idle | State::Forced => Some(due),
        }
    }

    /// The next event, oldest first (a bounded queue: the oldest are dropped when it fills).
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The current tokens.
    pub fn tokens(&self) -> Option<&TokenSet> {
        self.current.as_ref().map(|c| &c.tokens)
    }

    /// A secret-free snapshot for status displays.
    pub fn status(&self, now: Timestamp) -> LifecycleStatus {
        let tokens = self.tokens();
        LifecycleStatus {
            access_expires_at: tokens.map(|t| t.expires_at),
            access_usable: self.usable(now).is_some(),
            refresh_due_at: self.refresh_due_at(),
            refresh_issued_at: tokens.and_then(|t| t.refresh_issued_at),
            refresh_expires_at: self.refresh_expires_at(),
            refreshing: self.refreshing(),
            last_error: match &self.state {
                State::BackingOff { error, .. } | State::Stopped(error) => Some(error.clone()),
                _ => None,
            },
        }
    }

    fn usable(&self, now: Timestamp) -> Option<BearerCredential> {
        let current = self.current.as_ref()?;
        let fresh = now + self.config.hard_floor < current.tokens.expires_at;
        if !fresh || current.rejected {
            return None;
        }
        Some(BearerCredential {
            header: current.header.clone()?,
            fingerprint: current.fingerprint,
        })
    }

    fn current_refresh_token(&self) -> bool {
        self.tokens().is_some_and(|t| t.refresh_token.is_some())
    }

    fn refresh_fingerprint(&self) -> Option<Fingerprint> {
        self.tokens()?
            .refresh_token
            .as_ref()
            .map(|t| t.fingerprint())
    }

    fn refresh_due_at(&self) -> Option<Timestamp> {
        let current = self.current.as_ref()?;
        let tokens = &current.tokens;
        tokens.refresh_token.as_ref()?;
        if matches!(self.state, State::Forced) {
            return Some(Timestamp::EPOCH);
        }
        let due = if current.rejected {
            Timestamp::EPOCH
        } else {
            // Never later than the hard floor, whatever the configuration says.
            let proactive = tokens.expires_at - self.config.refresh_margin - self.jitter_now;
            proactive.min(tokens.expires_at - self.config.hard_floor)
        };
        let earliest = self.refreshed_at.map(|at| at + self.config.retry_interval);
        Some(earliest.map_or(due, |earliest| due.max(earliest)))
    }

    fn refresh_expires_at(&self) -> Option<Timestamp> {
        let tokens = self.tokens()?;
        tokens.refresh_token.as_ref()?;
        Some(tokens.refresh_issued_at? + self.config.refresh_token_lifetime)
    }

    fn install(&mut self, tokens: TokenSet) {
        self.jitter_now = self.jitter.draw(self.config.jitter_max);
        let fingerprint = tokens.access_token.fingerprint();
        // A token the API rejected stays rejected if it comes back (a rescue whose save failed,
        // or adopted tokens differing only in their refresh token).
        let rejected = self
            .current
            .as_ref()
            .is_some_and(|c| c.rejected && c.fingerprint == fingerprint);
        self.current = Some(Current {
            // Token responses and stored documents are checked for header-safe tokens; a
            // token built by hand that is not is reported by poll_access, never sent.
            header: bearer(&tokens.access_token).ok(),
            tokens,
            fingerprint,
            rejected,
        });
        if !matches!(self.state, State::InFlight { .. }) {
            self.state = State::Idle;
        }
    }

    fn fail(&mut self, now: Timestamp, error: RefreshError) -> AttemptResult {
        if error.is_transient() {
            self.push(Event::RefreshFailed(error.clone()));
            self.state = State::BackingOff {
                until: now + self.config.retry_interval,
                error: error.clone(),
            };
        } else {
            self.stop(error.clone());
        }
        AttemptResult::Failed(error)
    }

    fn stop(&mut self, error: RefreshError) {
        self.push(Event::RefreshStopped(error.clone()));
        self.state = State::Stopped(error);
    }

    fn start_attempt(&mut self, now: Timestamp) -> AttemptId {
        self.next_id += 1;
        let id = AttemptId(self.next_id);
        self.state = State::InFlight { id, since: now };
        id
    }

    fn push(&mut self, event: Event) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }
}
