//! One call to the token endpoint, from re-reading the store to persisting the result.

use std::time::Duration;

use http::{HeaderMap, Response, StatusCode};

use super::outcome::{
    AttemptId, NetworkFailure, ReauthReason, RefreshError, RefreshOutcome, SendStage,
    TransientCause,
};
use crate::call::SendFailure;
use crate::oauth::{OAuthErrorCode, TokenRequest, TokenResponseError, parse_token_response};
use crate::redact::Redactor;
use crate::time::Timestamp;
use crate::tokens::TokenSet;

/// What the token store holds, read under its exclusive lock at the start of an attempt.
#[derive(Clone, Debug)]
pub enum Stored {
    /// The store was not read (the [`AttemptStep::Lock`] step said `read: false`).
    NotRead,
    /// The store is empty.
    Empty,
    /// The store holds these tokens.
    Tokens(TokenSet),
}

/// The next thing the driver must do for an attempt. Drain it: every step but `Done` is
/// answered by exactly one `handle_*` call on the attempt. Drivers match it exhaustively.
#[derive(Debug)]
#[must_use]
pub enum AttemptStep {
    /// Take the store's exclusive lock (held until `Done`) and, when `read`, read what it
    /// holds; then call [`TokenAttempt::handle_stored`] or [`TokenAttempt::handle_store_failed`]
    /// (or [`TokenAttempt::handle_locked`] with the result).
    Lock {
        /// Whether the attempt needs the store's content.
        read: bool,
    },
    /// Send this request now, then call [`TokenAttempt::handle_response`] or
    /// [`TokenAttempt::handle_network_failure`].
    Send(TokenRequest),
    /// Durably store these tokens (under the lock if one was taken, else in one locked write),
    /// then call [`TokenAttempt::handle_persisted`] or [`TokenAttempt::handle_persist_failed`]
    /// (or [`TokenAttempt::handle_saved`] with the result).
    Persist(TokenSet),
    /// The attempt is over: release the store lock and hand the outcome to the lifecycle.
    Done(AttemptId, RefreshOutcome),
}

#[derive(Debug)]
enum Grant {
    Refresh(TokenSet),
    Code,
}

#[derive(Debug)]
enum Phase {
    Start,
    /// Waiting for the store's lock (and content).
    Locking,
    /// Writing "refresh pending" to the store before sending.
    Marking,
    Sent,
    Persisting(RefreshOutcome),
    Finished,
}

/// One token-endpoint attempt (a refresh or a code exchange), owned by the driver while it
/// runs, so the lifecycle stays free for other callers in the meantime.
///
/// ```text
///  handle_stored ─► [Persist mark] ─► Send ─► handle_response ─► Persist ─► Done
///        │                             ▲             │
///        │                             └─ handle_network_failure: a lost answer is sent
///        │                                once more, inside the rotation grace window
///        └─► Done: the store holds newer tokens, was emptied, or holds a refresh still
///            pending from before the grace window
/// ```
///
/// With a shared store (a file other processes use), the attempt first persists the current
/// tokens marked "refresh pending since now". A process that dies or loses the answer
/// mid-refresh so leaves a store telling every other process whether the refresh token may
/// still be presented: inside the rotation grace window once more, after it never (Qonto
/// revokes a grant whose rotated refresh token is reused). The mark goes away with the new
/// tokens, or is cleared when the server answers without rotating.
#[derive(Debug)]
pub struct TokenAttempt {
    id: AttemptId,
    request: TokenRequest,
    grant: Grant,
    shared: bool,
    grace: Duration,
    grace_safety: Duration,
    first_sent_at: Option<Timestamp>,
    last_sent_at: Timestamp,
    /// Set when the refresh token may already have been consumed since this time: an earlier
    /// send whose answer is unknown (ours, retried once, or one marked in the store). The
    /// mark is then never cleared, and the token is never presented after the grace window.
    consumed_since: Option<Timestamp>,
    /// The store holds a "refresh pending" mark for this refresh token (ours or an earlier
    /// attempt's) that must be cleared when the server answers without rotating.
    marked: bool,
    phase: Phase,
}

impl TokenAttempt {
    pub(crate) fn refresh(
        id: AttemptId,
        request: TokenRequest,
        current: TokenSet,
        shared: bool,
        grace: Duration,
        grace_safety: Duration,
    ) -> Self {
        let grant = Grant::Refresh(current);
        Self::with_grant(id, request, grant, shared, grace, grace_safety)
    }

    pub(crate) fn code(id: AttemptId, request: TokenRequest, shared: bool) -> Self {
        Self::with_grant(
            id,
            request,
            Grant::Code,
            shared,
            Duration::ZERO,
            Duration::ZERO,
        )
    }

    fn with_grant(
        id: AttemptId,
        request: TokenRequest,
        grant: Grant,
        shared: bool,
        grace: Duration,
        grace_safety: Duration,
    ) -> Self {
        Self {
            id,
            request,
            grant,
            shared,
            grace,
            grace_safety,
            first_sent_at: None,
            last_sent_at: Timestamp::EPOCH,
            consumed_since: None,
            marked: false,
            phase: Phase::Start,
        }
    }

    /// This attempt's id.
    pub fn id(&self) -> AttemptId {
        self.id
    }

    /// The first step. With a shared store, the lock (and for a refresh, a re-read of the
    /// store); with an unshared one, the request (or, for a refresh whose answer may have been
    /// lost before, the decision whether it may be presented again).
    pub fn start(&mut self, now: Timestamp) -> AttemptStep {
        if !matches!(self.phase, Phase::Start) {
            return self.misuse("start called twice");
        }
        let read = matches!(self.grant, Grant::Refresh(_));
        match &self.grant {
            _ if self.shared => {
                self.phase = Phase::Locking;
                AttemptStep::Lock { read }
            }
            // Only this process holds the tokens: what it knows is in `current`.
            Grant::Refresh(current) => match current.refresh_pending_since {
                Some(since) => self.retry_pending(now, since),
                None => self.send(now),
            },
            Grant::Code => self.send(now),
        }
    }

    /// Feeds the outcome of the [`AttemptStep::Lock`] step: what the store holds, or why it
    /// could not be locked or read.
    pub fn handle_locked(&mut self, now: Timestamp, stored: Result<Stored, String>) -> AttemptStep {
        match stored {
            Ok(stored) => self.handle_stored(now, stored),
            Err(error) => self.handle_store_failed(&error),
        }
    }

    /// Continues the attempt with what the store holds (read under its lock).
    ///
    /// If another process already rotated the tokens, they are adopted and nothing is sent:
    /// a process never presents a refresh token older than the stored one. Stored tokens older
    /// than the attempt's own (a save that failed earlier) are not adopted; they are replaced.
    /// With a shared store, the next step persists the "refresh pending" mark before anything
    /// is sent.
    pub fn handle_stored(&mut self, now: Timestamp, stored: Stored) -> AttemptStep {
        if !matches!(self.phase, Phase::Locking) {
            return self.misuse("the store was read without a Lock step");
        }
        let Grant::Refresh(current) = &self.grant else {
            return self.send(now);
        };
        let stored = match stored {
            Stored::NotRead => return self.misuse("a refresh needs the store's content"),
            Stored::Empty => {
                let reason = ReauthReason::LoggedOut;
                return self.finish(RefreshOutcome::Failed(RefreshError::ReauthRequired(reason)));
            }
            // Another process rotated: take its newer tokens, send nothing.
            Stored::Tokens(tokens)
                if !tokens.same_tokens(current) && tokens.expires_at >= current.expires_at =>
            {
                return self.finish(RefreshOutcome::Adopted(tokens));
            }
            // The store holds older tokens than ours (an earlier save failed): ours are the
            // live ones, and marking them below writes them back.
            Stored::Tokens(tokens) if !tokens.same_tokens(current) => current.clone(),
            Stored::Tokens(tokens) => tokens,
        };
        self.marked = true;
        match stored.refresh_pending_since {
            Some(since) => self.retry_pending(now, since),
            None => {
                let mut marked = stored;
                marked.refresh_pending_since = Some(now);
                self.last_sent_at = now;
                self.phase = Phase::Marking;
                AttemptStep::Persist(marked)
            }
        }
    }

    /// An earlier refresh of this token may have been consumed since `since`: present it
    /// again only inside the grace window, and count that as the one retry.
    fn retry_pending(&mut self, now: Timestamp, since: Timestamp) -> AttemptStep {
        self.consumed_since = Some(since);
        if now < since + self.grace.saturating_sub(self.grace_safety) {
            self.send(now)
        } else {
            let reason = ReauthReason::ResponseLost;
            self.finish(RefreshOutcome::Failed(RefreshError::ReauthRequired(reason)))
        }
    }

    /// Reports that the store could not be locked or read: the attempt ends without sending,
    /// so no refresh ever runs unguarded.
    pub fn handle_store_failed(&mut self, error: &str) -> AttemptStep {
        if !matches!(self.phase, Phase::Locking) {
            return self.misuse("a store failure reported without a Lock step");
        }
        let cause = TransientCause::Store(error.to_owned());
        self.finish(RefreshOutcome::Failed(RefreshError::Transient(cause)))
    }

    /// Feeds the outcome of the [`AttemptStep::Send`] step: the answer, or how sending failed.
    pub fn handle_sent(
        &mut self,
        now: Timestamp,
        sent: Result<Response<Vec<u8>>, SendFailure>,
    ) -> AttemptStep {
        match sent {
            Ok(response) => {
                self.handle_response(response.status(), response.headers(), response.body())
            }
            Err(failure) => self.handle_network_failure(now, failure.into_network_failure()),
        }
    }

    /// Feeds the token endpoint's answer.
    pub fn handle_response(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> AttemptStep {
        if !matches!(self.phase, Phase::Sent) {
            return self.misuse("an answer fed without a Send step");
        }
        let sent_at = self.last_sent_at;
        let error = match parse_token_response(sent_at, status, headers, body) {
            Ok(mut tokens) => {
                if let (None, Grant::Refresh(current)) = (&tokens.refresh_token, &self.grant) {
                    // No rotation in this answer: keep the refresh token we have.
                    tokens.refresh_token.clone_from(&current.refresh_token);
                    tokens.refresh_issued_at = current.refresh_issued_at;
                }
                return self.persist(tokens.clone(), RefreshOutcome::Refreshed(tokens));
            }
            Err(error) => error.redacted(&self.redactor()),
        };
        let rescued = match (&error, &self.grant) {
            (
                TokenResponseError::Malformed {
                    rescued_refresh_token: Some(rt),
                    ..
                },
                Grant::Refresh(current),
            ) => {
                let mut tokens = current.clone();
                tokens.refresh_token = Some(rt.clone());
                tokens.refresh_issued_at = Some(sent_at);
                tokens.refresh_pending_since = None;
                Some(tokens)
            }
            _ => None,
        };
        // The server may have rotated without our seeing it: an unreadable success, or a
        // gateway that timed out in front of it.
        let may_have_rotated = match &error {
            TokenResponseError::Malformed { .. } => true,
            TokenResponseError::Server { status, .. } => matches!(status.as_u16(), 502 | 504),
            _ => false,
        };
        let failure = failure_of(error);
        match rescued {
            Some(tokens) => self.persist(tokens.clone(), RefreshOutcome::Rescued(tokens, failure)),
            None if may_have_rotated || self.consumed_since.is_some() => {
                self.in_doubt(sent_at, failure)
            }
            // Any other answer to our only send means the server did not rotate: clear the mark.
            None => self.clear_mark_then(RefreshOutcome::Failed(failure)),
        }
    }

    /// Reports that the request did not complete.
    ///
    /// A refresh that may have reached the server is sent once more if the rotation grace
    /// window (measured from the first send) still has room; otherwise the old refresh token
    /// is never presented again and re-authorization is required.
    pub fn handle_network_failure(
        &mut self,
        now: Timestamp,
        failure: NetworkFailure,
    ) -> AttemptStep {
        if !matches!(self.phase, Phase::Sent) {
            return self.misuse("a network failure fed without a Send step");
        }
        let transient = RefreshError::Transient(TransientCause::Network(failure.clone()));
        if let Grant::Code = self.grant {
            return self.finish(RefreshOutcome::Failed(transient));
        }
        match (failure.stage, self.consumed_since) {
            // Nothing reached the server this time, and nothing before: clear the mark.
            (SendStage::NotSent, None) => self.clear_mark_then(RefreshOutcome::Failed(transient)),
            // Nothing reached it this time, but an earlier send may have: keep the mark.
            (SendStage::NotSent, Some(since)) => self.in_doubt(since, transient),
            // The first lost answer: send once more inside the grace window.
            (_, None) => {
                let first = self.first_sent_at.unwrap_or(now);
                self.consumed_since = Some(first);
                if now < first + self.grace.saturating_sub(self.grace_safety) {
                    self.send(now)
                } else {
                    let reason = ReauthReason::ResponseLost;
                    self.finish(RefreshOutcome::Failed(RefreshError::ReauthRequired(reason)))
                }
            }
            // A second lost answer: never again.
            (_, Some(_)) => {
                let reason = ReauthReason::ResponseLost;
                self.finish(RefreshOutcome::Failed(RefreshError::ReauthRequired(reason)))
            }
        }
    }

    /// Feeds the outcome of the [`AttemptStep::Persist`] step.
    pub fn handle_saved(&mut self, saved: Result<(), String>) -> AttemptStep {
        match saved {
            Ok(()) => self.handle_persisted(),
            Err(error) => self.handle_persist_failed(&error),
        }
    }

    /// Reports that the tokens of the last [`AttemptStep::Persist`] are durably stored.
    pub fn handle_persisted(&mut self) -> AttemptStep {
        match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Marking => self.send(self.last_sent_at),
            Phase::Persisting(outcome) => AttemptStep::Done(self.id, outcome),
            other => {
                self.phase = other;
                self.misuse("a save reported without a Persist step")
            }
        }
    }

    /// Reports that storing failed. New tokens are still handed to the lifecycle (the old
    /// refresh token is dead once rotated), flagged as unpersisted; a mark that could not be
    /// written ends the attempt without sending.
    pub fn handle_persist_failed(&mut self, error: &str) -> AttemptStep {
        let outcome = match std::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Marking => RefreshOutcome::Failed(RefreshError::Transient(
                TransientCause::Store(error.to_owned()),
            )),
            Phase::Persisting(
                RefreshOutcome::Refreshed(tokens) | RefreshOutcome::Rescued(tokens, _),
            ) => RefreshOutcome::Unpersisted(tokens, error.to_owned()),
            // Clearing a mark failed: the failure stands and the mark stays (the cautious side).
            Phase::Persisting(outcome) => outcome,
            other => {
                self.phase = other;
                return self.misuse("a failed save reported without a Persist step");
            }
        };
        AttemptStep::Done(self.id, outcome)
    }

    /// What the server's words must not show: the secrets of the token request.
    fn redactor(&self) -> Redactor {
        let request = self.request.http();
        let mut redactor = Redactor::new();
        redactor.add_headers(request.headers());
        let keys = ["client_secret", "refresh_token", "code", "code_verifier"];
        redactor.add_form(request.body(), &keys);
        redactor
    }

    fn send(&mut self, now: Timestamp) -> AttemptStep {
        self.first_sent_at.get_or_insert(now);
        self.last_sent_at = now;
        self.phase = Phase::Sent;
        AttemptStep::Send(self.request.clone())
    }

    fn persist(&mut self, tokens: TokenSet, then: RefreshOutcome) -> AttemptStep {
        self.phase = Phase::Persisting(then);
        AttemptStep::Persist(tokens)
    }

    /// Ends with a failure after which the refresh token may be consumed since `since` (the
    /// earliest unknown send): the store's mark stays, and the lifecycle remembers it too.
    fn in_doubt(&mut self, since: Timestamp, error: RefreshError) -> AttemptStep {
        let since = self
            .consumed_since
            .map_or(since, |earlier| earlier.min(since));
        self.finish(RefreshOutcome::InDoubt { since, error })
    }

    /// Removes the "refresh pending" mark from the store, then ends with `outcome`.
    fn clear_mark_then(&mut self, outcome: RefreshOutcome) -> AttemptStep {
        match &self.grant {
            Grant::Refresh(current) if self.marked => {
                let mut tokens = current.clone();
                tokens.refresh_pending_since = None;
                self.persist(tokens, outcome)
            }
            _ => self.finish(outcome),
        }
    }

    fn finish(&mut self, outcome: RefreshOutcome) -> AttemptStep {
        self.phase = Phase::Finished;
        AttemptStep::Done(self.id, outcome)
    }

    /// A call out of order is a driver bug; end the attempt with its own error rather than
    /// panic, so the lifecycle frees its slot. If a request went out, the answer is unknown.
    fn misuse(&mut self, what: &'static str) -> AttemptStep {
        let error = RefreshError::DriverMisuse(what);
        match (self.first_sent_at, &self.grant) {
            (Some(since), Grant::Refresh(_)) => self.in_doubt(since, error),
            _ => self.finish(RefreshOutcome::Failed(error)),
        }
    }
}

fn failure_of(error: TokenResponseError) -> RefreshError {
    match &error {
        TokenResponseError::Rejected {
            code: OAuthErrorCode::InvalidGrant,
            ..
        } => RefreshError::ReauthRequired(ReauthReason::InvalidGrant(error)),
        e if e.is_transient() => RefreshError::Transient(TransientCause::Endpoint(error)),
        _ => RefreshError::Misconfigured(error),
    }
}
