//! The OAuth token lifecycle as a sans-IO state machine.
//!
//! [`TokenLifecycle`] decides, from the current time and what it has been told, which access
//! token to use, when to refresh, and what every token-endpoint outcome means. A driver (the
//! transport crates) owns the I/O and follows this loop:
//!
//! 1. Before an API call, [`TokenLifecycle::poll_access`]: `Ready` gives the header to send;
//!    `Wait` means a refresh must finish first; `Unavailable` is an error for the caller.
//! 2. [`TokenLifecycle::poll_refresh`] hands out at most one [`TokenAttempt`] at a time (single
//!    flight). The driver locks the store, calls [`TokenAttempt::handle_stored`], performs the
//!    returned [`AttemptStep`]s, and gives the final outcome to
//!    [`TokenLifecycle::handle_refresh_outcome`].
//! 3. On a 401, [`TokenLifecycle::handle_unauthorized`] says whether to retry once with a newer
//!    token, refresh first, or give up. Never more than one retry per call.
//! 4. [`TokenLifecycle::poll_timeout`] gives the next time a proactive refresh is due.
//!
//! ```text
//!            tokens installed
//!                  │
//!                  ▼
//!   ┌──────────► Fresh ─── now ≥ expiry − margin − jitter ──► RefreshDue
//!   │                                                            │ poll_refresh
//!   │                                                            ▼
//!   ├── Refreshed / Adopted ◄──────────────────────────── RefreshInFlight
//!   │                                                            │
//!   │                              transient failure ◄───────────┤
//!   │       (keep serving until the hard floor; retry after       │ invalid_grant, lost
//!   └────── the retry interval)                                   ▼ outside grace, 90 days
//!                                                          ReauthRequired
//! ```

mod attempt;
mod config;
mod outcome;
#[cfg(test)]
mod tests;

use std::time::Duration;

use http::HeaderValue;

pub use attempt::{AttemptStep, Stored, TokenAttempt};
pub use config::LifecycleConfig;
pub use outcome::{
    AttemptId, NetworkFailure, ReauthReason, RefreshError, RefreshOutcome, SendStage,
    TransientCause,
};

use crate::credentials::OAuthClient;
use crate::environment::Environment;
use crate::header::{HeaderError, bearer};
use crate::oauth::{PkceVerifier, authorization_code_request, refresh_request};
use crate::secret::{AuthorizationCode, Fingerprint};
use crate::time::Timestamp;
use crate::tokens::TokenSet;
use config::Jitter;

/// What an API call should do about authentication right now.
#[derive(Clone, Debug)]
#[must_use]
#[non_exhaustive]
pub enum Access {
    /// Send the request with this `Authorization` value.
    Ready(BearerCredential),
    /// No usable token: a refresh is in flight or must be started with
    /// [`TokenLifecycle::poll_refresh`]; wait for it.
    Wait,
    /// No usable token and none can be had now.
    Unavailable(RefreshError),
}

/// A ready `Authorization: Bearer …` value and the fingerprint of its token.
///
/// The value is encoded once per token, so handing it out is a cheap clone.
#[derive(Clone, Debug)]
pub struct BearerCredential {
    /// The `Authorization` header value, marked sensitive; pass it to
    /// [`api_request_with`](crate::request::api_request_with).
    pub header: HeaderValue,
    /// Fingerprint of the access token, to report back on a 401.
    pub fingerprint: Fingerprint,
}

/// A copy of a ready credential that a driver keeps (typically per thread) to answer the hot
/// path without locking the lifecycle.
///
/// The driver bumps a generation counter on every input that can change the credential
/// (`handle_refresh_outcome`, `handle_unauthorized`, `handle_tokens`); the copy is valid
/// while the generation is unchanged and the time is before
/// [`TokenLifecycle::ready_until`]. `owner` tells lifecycles apart in a shared cache.
#[derive(Clone, Debug)]
pub struct ReadyCopy {
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
    pub fn new(
        owner: u64,
        generation: u64,
        until: Timestamp,
        credential: BearerCredential,
    ) -> Self {
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
    pub fn get(&self, owner: u64, generation: u64, now: Timestamp) -> Option<&BearerCredential> {
        (self.owner == owner && self.generation == generation && now < self.until)
            .then_some(&self.credential)
    }
}

/// What to do after a 401 on a request made with a token of this lifecycle.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum UnauthorizedAdvice {
    /// A newer token exists (another caller refreshed meanwhile): retry once with it.
    RetryWithNewerToken,
    /// The current token was rejected: refresh, then retry once.
    RefreshThenRetry,
    /// Nothing more can help: report the 401.
    GiveUp,
}

/// A warning the driver should surface (log or print) once.
#[derive(Clone, Debug, Eq, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum Warning {
    /// The refresh token lapses soon: log in again before then.
    RefreshTokenExpiring {
        /// When it lapses.
        expires_at: Timestamp,
    },
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

/// The token lifecycle state machine. See the [module docs](self) for the driving loop.
#[derive(Debug)]
pub struct TokenLifecycle {
    config: LifecycleConfig,
    environment: Environment,
    client: OAuthClient,
    tokens: Option<TokenSet>,
    /// Fingerprint and `Authorization` value of the current access token, computed once per
    /// token (hot path).
    fingerprint: Option<Fingerprint>,
    header: Option<HeaderValue>,
    jitter: Jitter,
    jitter_now: Duration,
    next_id: u64,
    in_flight: Option<AttemptId>,
    retry_at: Option<Timestamp>,
    last_error: Option<RefreshError>,
    stopped: Option<RefreshError>,
    rejected: Option<Fingerprint>,
    warned: Option<Fingerprint>,
    /// A refresh was asked for explicitly (due now, current token still usable).
    forced: bool,
    /// When the last refresh succeeded; the next one is never due sooner than the retry
    /// interval after it.
    refreshed_at: Option<Timestamp>,
}

impl TokenLifecycle {
    /// Creates a lifecycle with no tokens yet.
    pub fn new(environment: Environment, client: OAuthClient, config: LifecycleConfig) -> Self {
        let jitter = Jitter::new(config.jitter_seed);
        Self {
            config,
            environment,
            client,
            tokens: None,
            fingerprint: None,
            header: None,
            jitter,
            jitter_now: Duration::ZERO,
            next_id: 0,
            in_flight: None,
            retry_at: None,
            last_error: None,
            stopped: None,
            rejected: None,
            warned: None,
            forced: false,
            refreshed_at: None,
        }
    }

    /// Installs tokens read from storage or obtained elsewhere. Tokens identical to the current
    /// ones change nothing; different ones replace them and clear past failures.
    pub fn handle_tokens(&mut self, tokens: Option<TokenSet>) {
        match (tokens, &self.tokens) {
            (Some(new), Some(old)) if new.same_tokens(old) => {}
            (Some(new), _) => self.install(new),
            (None, _) => {
                self.tokens = None;
                self.fingerprint = None;
                self.header = None;
                self.stopped = None;
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
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<TokenAttempt, HeaderError> {
        let request = authorization_code_request(&self.environment, &self.client, code, pkce)?;
        let id = self.next_attempt_id();
        self.in_flight = Some(id);
        Ok(TokenAttempt::code(id, request))
    }

    /// Decides how an API call authenticates now.
    ///
    /// `Wait` is only answered when a refresh is in flight or [`poll_refresh`](Self::poll_refresh)
    /// will hand one out at this `now`; every other case is `Ready` or `Unavailable`, so a
    /// driver never waits for something that cannot happen.
    pub fn poll_access(&mut self, now: Timestamp) -> Access {
        if let Some(credential) = self.usable(now) {
            return Access::Ready(credential);
        }
        if let Some(error) = &self.stopped {
            return Access::Unavailable(error.clone());
        }
        if self.in_flight.is_some() {
            return Access::Wait;
        }
        match self.refresh_blocked(now) {
            Some(error) => Access::Unavailable(error),
            None => Access::Wait,
        }
    }

    /// Why no refresh can start at `now` (with none in flight), or `None` when one can.
    fn refresh_blocked(&mut self, now: Timestamp) -> Option<RefreshError> {
        let reauth = |reason| Some(RefreshError::ReauthRequired(reason));
        let Some(tokens) = &self.tokens else {
            return reauth(ReauthReason::NotLoggedIn);
        };
        if self.header.is_none() {
            return reauth(ReauthReason::UnusableToken);
        }
        if tokens.refresh_token.is_none() {
            return reauth(ReauthReason::NoRefreshToken);
        }
        if self.refresh_expires_at().is_some_and(|lapse| now >= lapse) {
            let error = RefreshError::ReauthRequired(ReauthReason::RefreshTokenExpired);
            self.stopped = Some(error.clone());
            return Some(error);
        }
        if let Some(at) = self.retry_at.filter(|at| now < *at) {
            let cause = TransientCause::Throttled { until: at };
            return Some(
                self.last_error
                    .clone()
                    .unwrap_or(RefreshError::Transient(cause)),
            );
        }
        match self.refresh_due_at() {
            Some(due) if now < due => Some(RefreshError::Transient(TransientCause::Throttled {
                until: due,
            })),
            _ => None,
        }
    }

    /// Hands out the refresh attempt when one is due and none is in flight.
    ///
    /// Due means: within the refresh margin (plus this token's jitter) of expiry, or the
    /// current token was rejected by the API, or a refresh was forced; and not inside a retry
    /// back-off, and not sooner than the retry interval after the last refresh (so a server
    /// handing out very short-lived tokens cannot drive a refresh storm).
    pub fn poll_refresh(&mut self, now: Timestamp) -> Option<TokenAttempt> {
        if self.in_flight.is_some() || self.stopped.is_some() || self.refresh_blocked(now).is_some()
        {
            return None;
        }
        let tokens = self.tokens.as_ref()?;
        let refresh_token = tokens.refresh_token.as_ref()?;
        let request = match refresh_request(&self.environment, &self.client, refresh_token) {
            Ok(request) => request,
            Err(error) => {
                self.stopped = Some(RefreshError::InvalidRequest(error));
                return None;
            }
        };
        let current = tokens.clone();
        let id = self.next_attempt_id();
        self.in_flight = Some(id);
        Some(TokenAttempt::refresh(
            id,
            request,
            current,
            self.config.rotation_grace,
            self.config.grace_safety,
        ))
    }

    /// Starts a refresh now without giving up the current token (for an explicit "refresh
    /// now"); the current token keeps serving if it fails transiently. `None` when no refresh
    /// can start (one is in flight, a back-off runs, or refreshing has stopped).
    pub fn force_refresh(&mut self, now: Timestamp) -> Option<TokenAttempt> {
        self.forced = true;
        let attempt = self.poll_refresh(now);
        if attempt.is_none() {
            self.forced = false;
        }
        attempt
    }

    /// Whether a refresh is in flight (its outcome will be handed back).
    pub fn refreshing(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Until when the answer of [`poll_access`](Self::poll_access) stays `Ready` with the same
    /// credential, as long as no other input arrives: the earlier of the next refresh due time
    /// and the hard floor. Drivers may cache the credential until then (and until any input).
    pub fn ready_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.usable(now)?;
        let floor = self.tokens.as_ref()?.expires_at - self.config.hard_floor;
        let until = match self.refresh_due_at() {
            Some(due) if self.stopped.is_none() => {
                let due = self.retry_at.map_or(due, |at| at.max(due));
                due.min(floor)
            }
            _ => floor,
        };
        (until > now).then_some(until)
    }

    /// Takes the outcome of the attempt `id`. Outcomes of unknown attempts are ignored.
    pub fn handle_refresh_outcome(
        &mut self,
        now: Timestamp,
        id: AttemptId,
        outcome: RefreshOutcome,
    ) {
        if self.in_flight != Some(id) {
            return;
        }
        self.in_flight = None;
        self.forced = false;
        match outcome {
            RefreshOutcome::Refreshed(tokens) | RefreshOutcome::Unpersisted(tokens, _) => {
                self.install(tokens);
                self.refreshed_at = Some(now);
            }
            // Another process called the token endpoint, not this one: no minimum gap.
            RefreshOutcome::Adopted(tokens) => self.install(tokens),
            RefreshOutcome::Rescued(tokens, error) => {
                // Keep the rescued refresh token; the access token did not change.
                if let Some(current) = &mut self.tokens {
                    current.refresh_token = tokens.refresh_token;
                    current.refresh_issued_at = tokens.refresh_issued_at;
                    current.refresh_pending_since = None;
                }
                self.fail_transiently(now, error);
            }
            RefreshOutcome::InDoubt { since, error } => {
                // Remembered here too, for stores that only this process uses.
                if let Some(current) = &mut self.tokens {
                    current.refresh_pending_since = Some(since);
                }
                self.fail_transiently(now, error);
            }
            RefreshOutcome::Failed(error @ RefreshError::Transient(_)) => {
                self.fail_transiently(now, error);
            }
            RefreshOutcome::Failed(error) => {
                self.last_error = Some(error.clone());
                self.stopped = Some(error);
            }
        }
    }

    /// Takes a 401 for a request sent with the token whose fingerprint is `used`.
    pub fn handle_unauthorized(&mut self, now: Timestamp, used: Fingerprint) -> UnauthorizedAdvice {
        let Some(tokens) = &self.tokens else {
            return UnauthorizedAdvice::GiveUp;
        };
        if self.fingerprint != Some(used) {
            return if self.usable(now).is_some() {
                UnauthorizedAdvice::RetryWithNewerToken
            } else {
                UnauthorizedAdvice::GiveUp
            };
        }
        self.rejected = Some(used);
        if tokens.refresh_token.is_some() && self.stopped.is_none() {
            UnauthorizedAdvice::RefreshThenRetry
        } else {
            UnauthorizedAdvice::GiveUp
        }
    }

    /// The next time the lifecycle wants to act (a proactive refresh or the end of a back-off).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        if self.in_flight.is_some() || self.stopped.is_some() {
            return None;
        }
        let due = self.refresh_due_at()?;
        Some(self.retry_at.map_or(due, |at| at.max(due)))
    }

    /// Returns a warning once per refresh token when it nears the end of its life.
    pub fn poll_warning(&mut self, now: Timestamp) -> Option<Warning> {
        let expires_at = self.refresh_expires_at()?;
        if now < expires_at - self.config.refresh_token_warning {
            return None;
        }
        let fingerprint = self.tokens.as_ref()?.refresh_token.as_ref()?.fingerprint();
        if self.warned == Some(fingerprint) {
            return None;
        }
        self.warned = Some(fingerprint);
        Some(Warning::RefreshTokenExpiring { expires_at })
    }

    /// The current tokens.
    pub fn tokens(&self) -> Option<&TokenSet> {
        self.tokens.as_ref()
    }

    /// A secret-free snapshot for status displays.
    pub fn status(&self, now: Timestamp) -> LifecycleStatus {
        LifecycleStatus {
            access_expires_at: self.tokens.as_ref().map(|t| t.expires_at),
            access_usable: self.usable(now).is_some(),
            refresh_due_at: self.refresh_due_at(),
            refresh_issued_at: self.tokens.as_ref().and_then(|t| t.refresh_issued_at),
            refresh_expires_at: self.refresh_expires_at(),
            refreshing: self.in_flight.is_some(),
            last_error: self.last_error.clone(),
        }
    }

    fn usable(&self, now: Timestamp) -> Option<BearerCredential> {
        let tokens = self.tokens.as_ref()?;
        let fingerprint = self.fingerprint?;
        let fresh = now + self.config.hard_floor < tokens.expires_at;
        if !fresh || self.rejected == Some(fingerprint) {
            return None;
        }
        Some(BearerCredential {
            header: self.header.clone()?,
            fingerprint,
        })
    }

    fn refresh_due_at(&self) -> Option<Timestamp> {
        let tokens = self.tokens.as_ref()?;
        tokens.refresh_token.as_ref()?;
        if self.forced {
            return Some(Timestamp::EPOCH);
        }
        let due = if self.rejected.is_some() && self.rejected == self.fingerprint {
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
        let tokens = self.tokens.as_ref()?;
        tokens.refresh_token.as_ref()?;
        Some(tokens.refresh_issued_at? + self.config.refresh_token_lifetime)
    }

    fn install(&mut self, tokens: TokenSet) {
        self.jitter_now = self.jitter.draw(self.config.jitter_max);
        self.fingerprint = Some(tokens.access_token.fingerprint());
        // Token responses and stored documents are checked for header-safe tokens; a token
        // built by hand that is not is reported by poll_access, never sent.
        self.header = bearer(&tokens.access_token).ok();
        self.tokens = Some(tokens);
        self.retry_at = None;
        self.last_error = None;
        self.stopped = None;
        // A token the API rejected stays rejected if it comes back (a rescue whose save failed,
        // or adopted tokens differing only in their refresh token).
        if self.rejected != self.fingerprint {
            self.rejected = None;
        }
    }

    fn fail_transiently(&mut self, now: Timestamp, error: RefreshError) {
        self.retry_at = Some(now + self.config.retry_interval);
        self.last_error = Some(error);
    }

    fn next_attempt_id(&mut self) -> AttemptId {
        self.next_id += 1;
        AttemptId(self.next_id)
    }
}
