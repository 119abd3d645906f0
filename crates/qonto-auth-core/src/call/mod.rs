//! One API call as a sans-IO state machine: authorize, send, classify, the single 401 retry,
//! strong customer authentication, idempotency keys and opt-in retries.
//!
//! A driver turns a [`CallSpec`] into a [`Call`] and drains its [`CallStep`]s:
//!
//! ```text
//!   start ─► Authorize ─► handle_credential ─► Send(request) ─► handle_sent ─┬─► Done(result)
//!              ▲    ▲                                                         │
//!              │    └── handle_advice (once) ◄── Unauthorized(fingerprint) ◄──┤ 401, OAuth
//!              │                                                              │
//!              └── handle_timeout ◄── Sleep(until) ◄──────────────────────────┤ retry, SCA poll
//!                                                                             │
//!          handle_sca_wait / handle_otp ◄── Sca(challenge) ◄──────────────────┘ 428
//! ```
//!
//! `Authorize` asks the driver for the credential (a static key, or the token lifecycle's
//! [`Access`](crate::lifecycle::Access) loop); `Send` carries every header the call needs
//! (authorization, the staging token with its exact casing noted as
//! [`ExactCase`](crate::header::ExactCase), the organization, the idempotency key of a write,
//! the SCA preference and, on the replay, the session token). A 401 on an OAuth token is handed
//! to [`TokenLifecycle::handle_unauthorized`](crate::lifecycle::TokenLifecycle::handle_unauthorized)
//! once, never more. A 428 with a session token becomes `Sca(challenge)`: the driver tells the
//! user, then polls at the pace `Sleep` sets (once a second at most, until the session's
//! deadline) and, on `allow`, replays the original request unchanged plus the session token.
//! The `Call` value is the resumable handle: an application may keep it while the user
//! approves and continue later. [`Pages`] walks a paginated listing with bounds.

mod pages;
mod response;
mod retry;
mod sca;
mod send;
mod spec;

use std::time::Duration;

use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, Response, Uri};
use zeroize::Zeroizing;

pub use pages::{PageError, PageLimits, Pages};
pub use response::{ApiResponse, DecodeError};
pub use sca::{ScaChallenge, ScaError};
pub use send::SendFailure;
pub use spec::{CallSpec, Idempotency, RetryPolicy, ScaPreference};

use crate::classify::{ApiError, Classification, ErrorKind, classify};
use crate::codes::Code;
use crate::environment::Environment;
use crate::facts;
use crate::header::organization_header;
use crate::lifecycle::{
    BearerCredential, NetworkFailure, RefreshError, SendStage, UnauthorizedAdvice,
};
use crate::random;
use crate::redact::Redactor;
use crate::request::{RequestError, prepare_request};
use crate::secret::Fingerprint;
use crate::time::Timestamp;
use sca::{Challenge, Decision, parse_challenge, parse_decision};

/// The `Authorization` value for one send, and the fingerprint of its OAuth token (`None` for
/// static credentials, which are never refreshed).
#[derive(Clone, Debug)]
pub struct Credential {
    /// The `Authorization` header value, marked sensitive.
    pub header: HeaderValue,
    /// The OAuth token's fingerprint, reported back on a 401.
    pub fingerprint: Option<Fingerprint>,
}

impl From<BearerCredential> for Credential {
    fn from(credential: BearerCredential) -> Self {
        Self {
            header: credential.header,
            fingerprint: Some(credential.fingerprint),
        }
    }
}

/// The next thing the driver must do for a call. Drivers match it exhaustively.
#[derive(Debug)]
#[must_use]
pub enum CallStep {
    /// Get the credential, then call [`Call::handle_credential`].
    Authorize,
    /// Send this request, then call [`Call::handle_sent`].
    Send(Request<Vec<u8>>),
    /// The API rejected the OAuth token with this fingerprint: ask the lifecycle
    /// ([`TokenLifecycle::handle_unauthorized`](crate::lifecycle::TokenLifecycle::handle_unauthorized)),
    /// then call [`Call::handle_advice`].
    Unauthorized(Fingerprint),
    /// Strong customer authentication is needed: tell the user, then call
    /// [`Call::handle_sca_wait`] (or [`Call::handle_otp`] when the challenge needs the code),
    /// now or later (the `Call` may be kept meanwhile).
    Sca(ScaChallenge),
    /// Wait until this time, then call [`Call::handle_timeout`].
    Sleep(Timestamp),
    /// The call is over.
    Done(Result<ApiResponse, CallError>),
}

/// What the next send is for.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Purpose {
    /// The request itself (first send, 401 retry, transport retry).
    Original,
    /// A poll of the SCA session.
    Poll,
    /// The request again, with the approved SCA session.
    Replay,
}

#[derive(Debug)]
enum Phase {
    Start,
    Authorizing {
        purpose: Purpose,
    },
    Sending {
        purpose: Purpose,
        fingerprint: Option<Fingerprint>,
    },
    Unauthorized {
        error: ApiError,
        purpose: Purpose,
    },
    Challenged,
    Sleeping {
        until: Timestamp,
        then: Purpose,
    },
    Done,
}

/// The SCA session of a call, once challenged.
#[derive(Debug)]
struct Session {
    token: Zeroizing<String>,
    challenge: ScaChallenge,
    otp: Option<Zeroizing<String>>,
}

/// One API call. See the [module docs](self).
#[derive(Debug)]
pub struct Call {
    request: Request<Vec<u8>>,
    /// The sensitive header values sent (staging token, credentials, session token), to cut
    /// out of the server's words on failure.
    sent_secrets: Vec<HeaderValue>,
    /// Whether the call carries `X-Qonto-Organization-Id`.
    names_organization: bool,
    has_idempotency_key: bool,
    preference: ScaPreference,
    sca_timeout: Duration,
    retry: RetryPolicy,
    attempts: u32,
    /// A 401 was already retried (never twice in one call).
    retried_401: bool,
    session: Option<Session>,
    phase: Phase,
}

impl Call {
    /// Prepares the call: the path is checked to stay on the API host, and every header but
    /// `Authorization` is set (a write gets its idempotency key here, kept for every retry
    /// and replay).
    ///
    /// # Errors
    ///
    /// [`RequestError`] for a path that would leave the API host, a staging token a header
    /// cannot carry, or an idempotency key that is not a header value.
    pub fn new(environment: &Environment, spec: CallSpec) -> Result<Self, RequestError> {
        let write = matches!(
            spec.method,
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        );
        let mut request =
            prepare_request(environment, spec.method, &spec.path_and_query, spec.body)?;
        let headers = request.headers_mut();
        for (name, value) in &spec.headers {
            headers.append(name, value.clone());
        }
        let given = headers.contains_key(facts::IDEMPOTENCY_HEADER);
        let key = match spec.idempotency {
            Idempotency::Key(key) => Some(key),
            Idempotency::Auto if write && !given => Some(new_idempotency_key()?),
            Idempotency::Auto | Idempotency::Off => None,
        };
        if let Some(key) = &key {
            let value = HeaderValue::from_str(key).map_err(|_| RequestError::InvalidHeader)?;
            headers.insert(HeaderName::from_static(facts::IDEMPOTENCY_HEADER), value);
        }
        if let Some(preference) = spec.sca_preference {
            let value = HeaderValue::from_static(preference.as_str());
            headers.insert(HeaderName::from_static(facts::SCA_PREFERENCE_HEADER), value);
        }
        let sent_secrets = headers
            .values()
            .filter(|v| v.is_sensitive())
            .cloned()
            .collect();
        let names_organization = headers.contains_key(organization_header());
        let sca_timeout = spec.sca_timeout.map_or(facts::SCA_SESSION_LIFETIME, |t| {
            t.min(facts::SCA_SESSION_LIFETIME)
        });
        Ok(Self {
            request,
            sent_secrets,
            names_organization,
            has_idempotency_key: key.is_some() || given,
            preference: spec.sca_preference.unwrap_or_default(),
            sca_timeout,
            retry: spec.retry,
            attempts: 0,
            retried_401: false,
            session: None,
            phase: Phase::Start,
        })
    }

    /// The first step: [`CallStep::Authorize`].
    pub fn start(&mut self) -> CallStep {
        match self.phase {
            Phase::Start => self.authorize(Purpose::Original),
            _ => self.misuse("start called twice"),
        }
    }

    /// The idempotency key this call sends, if any.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.request
            .headers()
            .get(facts::IDEMPOTENCY_HEADER)
            .and_then(|v| v.to_str().ok())
    }

    /// The SCA challenge, once the call met one.
    pub fn sca_challenge(&self) -> Option<&ScaChallenge> {
        self.session.as_ref().map(|s| &s.challenge)
    }

    /// Feeds the credential for the next send, or why none can be had.
    pub fn handle_credential(&mut self, credential: Result<Credential, CallError>) -> CallStep {
        let Phase::Authorizing { purpose } = self.phase else {
            return self.misuse("a credential fed without an Authorize step");
        };
        let credential = match credential {
            Ok(credential) => credential,
            Err(error) => return self.finish(Err(error)),
        };
        self.phase = Phase::Sending {
            purpose,
            fingerprint: credential.fingerprint,
        };
        self.sent_secrets.push(credential.header.clone());
        let mut request = match purpose {
            Purpose::Poll => self.poll_request(),
            Purpose::Original | Purpose::Replay if self.may_send_again(credential.fingerprint) => {
                self.request.clone()
            }
            Purpose::Original | Purpose::Replay => std::mem::take(&mut self.request),
        };
        if purpose == Purpose::Replay {
            self.add_session_headers(&mut request);
        }
        self.attempts += u32::from(purpose != Purpose::Poll);
        request
            .headers_mut()
            .insert(AUTHORIZATION, credential.header);
        CallStep::Send(request)
    }

    /// Feeds the answer, or how sending failed, at `now`.
    pub fn handle_sent(
        &mut self,
        now: Timestamp,
        sent: Result<Response<Vec<u8>>, SendFailure>,
    ) -> CallStep {
        let Phase::Sending {
            purpose,
            fingerprint,
        } = self.phase
        else {
            return self.misuse("an answer fed without a Send step");
        };
        let response = match (sent, purpose) {
            (Ok(response), _) => response,
            // A blip while waiting for a decision: poll again, until the deadline.
            (Err(_), Purpose::Poll) => return self.sleep_then(now, Purpose::Poll),
            (Err(failure), _) => return self.after_send_failure(now, failure, purpose),
        };
        let (parts, body) = response.into_parts();
        let error = match classify(parts.status, &parts.headers, &body) {
            Classification::Success if purpose == Purpose::Poll => {
                return self.after_poll(now, &body);
            }
            Classification::Success => {
                let response = ApiResponse {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                };
                return self.finish(Ok(response));
            }
            Classification::Failure(error) => self.refine(error),
        };
        match (&error.kind, fingerprint) {
            (ErrorKind::Unauthorized, Some(used)) if !self.retried_401 => {
                self.retried_401 = true;
                self.phase = Phase::Unauthorized { error, purpose };
                CallStep::Unauthorized(used)
            }
            // The session is gone: it ended before a decision was read.
            (ErrorKind::NotFound, _) if purpose == Purpose::Poll => {
                self.sca_failed(|trace_id| ScaError::Expired { trace_id })
            }
            (ErrorKind::ScaRequired, _) if purpose == Purpose::Original => {
                self.after_challenge(now, &body, error.trace_id)
            }
            (ErrorKind::RateLimited { .. } | ErrorKind::Server, _)
                if purpose != Purpose::Poll && self.may_retry(true) =>
            {
                let wait = retry::retry_after(&parts.headers, now)
                    .unwrap_or_else(|| retry::backoff(&self.retry, self.attempts));
                self.sleep_for(now, wait.min(self.retry.max_delay), purpose)
            }
            _ => self.finish(Err(CallError::Api(error))),
        }
    }

    /// Feeds the lifecycle's advice after a 401: retry once, or give up.
    pub fn handle_advice(&mut self, advice: UnauthorizedAdvice) -> CallStep {
        let Phase::Unauthorized { error, purpose } =
            std::mem::replace(&mut self.phase, Phase::Done)
        else {
            return self.misuse("advice fed without an Unauthorized step");
        };
        match advice {
            UnauthorizedAdvice::RetryWithNewerToken | UnauthorizedAdvice::RefreshThenRetry => {
                self.authorize(purpose)
            }
            // The grant is gone (for example invalid_grant): say so, not just 401.
            UnauthorizedAdvice::GiveUp(Some(reason)) => self.finish(Err(CallError::Auth(reason))),
            UnauthorizedAdvice::GiveUp(None) => self.finish(Err(CallError::Api(error))),
        }
    }

    /// After `Sca(challenge)`: waits for the user's decision, polling the session.
    pub fn handle_sca_wait(&mut self, now: Timestamp) -> CallStep {
        if !matches!(self.phase, Phase::Challenged) {
            return self.misuse("an SCA wait without an Sca step");
        }
        if self.sca_challenge().is_some_and(|c| c.needs_otp) {
            return self.finish(Err(CallError::Sca(ScaError::OtpRequired)));
        }
        self.sleep_then(now, Purpose::Poll)
    }

    /// After `Sca(challenge)` with the `sms-otp` method: replays with the one-time code.
    pub fn handle_otp(&mut self, otp: &str) -> CallStep {
        let (Phase::Challenged, Some(session)) = (&self.phase, &mut self.session) else {
            return self.misuse("a one-time code without an Sca step");
        };
        session.otp = Some(Zeroizing::new(otp.trim().to_owned()));
        self.authorize(Purpose::Replay)
    }

    /// After `Sleep(until)`: the time has come (or not yet, or the SCA deadline has passed).
    pub fn handle_timeout(&mut self, now: Timestamp) -> CallStep {
        let Phase::Sleeping { until, then } = self.phase else {
            return self.misuse("a timeout without a Sleep step");
        };
        if now < until {
            return CallStep::Sleep(until);
        }
        if then == Purpose::Poll && self.sca_challenge().is_some_and(|c| now >= c.deadline) {
            return self.sca_failed(|trace_id| ScaError::Expired { trace_id });
        }
        self.authorize(then)
    }

    fn authorize(&mut self, purpose: Purpose) -> CallStep {
        self.phase = Phase::Authorizing { purpose };
        CallStep::Authorize
    }

    /// Whether the request may have to be sent again, so a send keeps a copy: after a 401 on
    /// an OAuth token, a retry, or an SCA replay (writes only). A plain GET with a static key
    /// moves the request out instead (the hot path).
    fn may_send_again(&self, oauth: Option<Fingerprint>) -> bool {
        let may_be_challenged = !matches!(*self.request.method(), Method::GET | Method::HEAD);
        (oauth.is_some() && !self.retried_401) || self.retry.max_attempts > 1 || may_be_challenged
    }

    /// Whether another attempt may go out: within the policy, and for a request that may have
    /// reached the server, only an idempotent one or one with an idempotency key.
    fn may_retry(&self, maybe_sent: bool) -> bool {
        let repeatable =
            !maybe_sent || retry::may_repeat(self.request.method(), self.has_idempotency_key);
        self.attempts < self.retry.max_attempts && repeatable
    }

    fn after_send_failure(
        &mut self,
        now: Timestamp,
        failure: SendFailure,
        purpose: Purpose,
    ) -> CallStep {
        let maybe_sent = !failure.not_sent();
        if self.may_retry(maybe_sent) {
            let wait = retry::backoff(&self.retry, self.attempts);
            return self.sleep_for(now, wait, purpose);
        }
        self.finish(Err(match failure {
            SendFailure::Failed(failure) => CallError::Network(failure),
            SendFailure::TooLarge(limit) => CallError::BodyTooLarge { limit },
        }))
    }

    fn after_challenge(
        &mut self,
        now: Timestamp,
        body: &[u8],
        trace_id: Option<String>,
    ) -> CallStep {
        let (token, message) = match parse_challenge(body) {
            Challenge::Session { token, message } => (token, message),
            Challenge::NotEnrolled { message } => {
                let message = self.redactor().redact(&message);
                return self.finish(Err(CallError::Sca(ScaError::NotEnrolled {
                    message,
                    trace_id,
                })));
            }
            Challenge::Invalid(reason) => {
                return self.finish(Err(CallError::Sca(ScaError::InvalidChallenge {
                    reason,
                    trace_id,
                })));
            }
        };
        let challenge = ScaChallenge {
            message: self.redactor().redact(&message),
            preference: self.preference,
            deadline: now + self.sca_timeout,
            needs_otp: self.preference == ScaPreference::SmsOtp,
            trace_id,
        };
        if let Ok(mut value) = HeaderValue::from_str(&token) {
            value.set_sensitive(true);
            self.sent_secrets.push(value);
        }
        self.session = Some(Session {
            token: Zeroizing::new(token),
            challenge: challenge.clone(),
            otp: None,
        });
        self.phase = Phase::Challenged;
        CallStep::Sca(challenge)
    }

    fn after_poll(&mut self, now: Timestamp, body: &[u8]) -> CallStep {
        match parse_decision(body) {
            Decision::Waiting => self.sleep_then(now, Purpose::Poll),
            Decision::Allow => self.authorize(Purpose::Replay),
            Decision::Deny => self.sca_failed(|trace_id| ScaError::Denied { trace_id }),
            Decision::Unreadable => {
                self.sca_failed(|trace_id| ScaError::UnreadableSession { trace_id })
            }
        }
    }

    /// Sleeps one poll interval (at least a second), never past the SCA deadline.
    fn sleep_then(&mut self, now: Timestamp, then: Purpose) -> CallStep {
        let deadline = self.sca_challenge().map(|c| c.deadline);
        if deadline.is_some_and(|d| now >= d) {
            return self.sca_failed(|trace_id| ScaError::Expired { trace_id });
        }
        let next = now + facts::SCA_POLL_INTERVAL;
        let until = deadline.map_or(next, |d| next.min(d));
        self.phase = Phase::Sleeping { until, then };
        CallStep::Sleep(until)
    }

    fn sleep_for(&mut self, now: Timestamp, wait: Duration, then: Purpose) -> CallStep {
        let until = now + wait;
        self.phase = Phase::Sleeping { until, then };
        CallStep::Sleep(until)
    }

    /// The poll of the session: a GET on the API host with the call's own headers (staging
    /// token, organization) but not its body, content type or idempotency key.
    fn poll_request(&self) -> Request<Vec<u8>> {
        let token = self.session.as_ref().map_or("", |s| s.token.as_str());
        let path = match self.preference {
            ScaPreference::Mock => facts::SCA_MOCKED_SESSION_PATH,
            _ => facts::SCA_SESSION_PATH,
        };
        let original = self.request.uri();
        let uri = Uri::builder()
            .scheme(original.scheme_str().unwrap_or("https"))
            .authority(original.authority().map_or("", |a| a.as_str()))
            .path_and_query(format!("{path}{token}"))
            .build()
            .unwrap_or_else(|_| original.clone());
        let mut request = Request::new(Vec::new());
        *request.uri_mut() = uri;
        *request.headers_mut() = self.request.headers().clone();
        request.headers_mut().remove(CONTENT_TYPE);
        request.headers_mut().remove(facts::IDEMPOTENCY_HEADER);
        *request.extensions_mut() = self.request.extensions().clone();
        request
    }

    fn add_session_headers(&self, request: &mut Request<Vec<u8>>) {
        let Some(session) = &self.session else {
            return;
        };
        let headers = request.headers_mut();
        if let Ok(mut value) = HeaderValue::from_str(&session.token) {
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static(facts::SCA_SESSION_HEADER), value);
        }
        if let Some(Ok(mut value)) = session.otp.as_deref().map(|otp| HeaderValue::from_str(otp)) {
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static(facts::SCA_OTP_HEADER), value);
        }
    }

    /// A classified failure, refined with what only the call knows, and cut of every secret.
    fn refine(&self, mut error: ApiError) -> ApiError {
        // A 403 about the organization: consented or not needs the header sent.
        if error.kind == ErrorKind::OrganizationNotConsented && !self.names_organization {
            error.kind = ErrorKind::OrganizationMissing;
        }
        error.redacted(&self.redactor())
    }

    /// What a failure's text must not show: every sensitive value this call sent.
    fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::new();
        for value in &self.sent_secrets {
            redactor.add_value(value);
        }
        if let Some(session) = &self.session {
            redactor.add(&session.token);
        }
        redactor
    }

    /// Ends a challenged call with `error`, given the trace id of the 428.
    fn sca_failed(&mut self, error: impl FnOnce(Option<String>) -> ScaError) -> CallStep {
        let trace_id = self.sca_challenge().and_then(|c| c.trace_id.clone());
        self.finish(Err(CallError::Sca(error(trace_id))))
    }

    fn finish(&mut self, result: Result<ApiResponse, CallError>) -> CallStep {
        self.phase = Phase::Done;
        CallStep::Done(result)
    }

    fn misuse(&mut self, what: &'static str) -> CallStep {
        self.finish(Err(CallError::Request(RequestError::DriverMisuse(what))))
    }
}

/// A fresh idempotency key: a UUID v4 from the system's random source.
fn new_idempotency_key() -> Result<String, RequestError> {
    let mut bytes = [0u8; 16];
    random::fill(&mut bytes).map_err(|_| RequestError::NoRandomness)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string())
}

/// Why a call gave no successful answer. Carries no secret and never a successful body.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// Qonto (or the sandbox gate) answered with a failure; see its code, fix and trace id.
    #[error(transparent)]
    Api(ApiError),
    /// The request did not complete (DNS, connect, TLS, timeout, reset).
    #[error("network error: {}", .0.description)]
    Network(NetworkFailure),
    /// The response body exceeded the configured cap.
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The cap.
        limit: u64,
    },
    /// No usable OAuth token: re-authorization required, misconfiguration, a refresh that
    /// keeps failing, or refreshed tokens that could not be saved.
    #[error(transparent)]
    Auth(RefreshError),
    /// Strong customer authentication did not let the call through.
    #[error(transparent)]
    Sca(ScaError),
    /// The request could not be built, or was driven out of order.
    #[error(transparent)]
    Request(RequestError),
}

impl CallError {
    /// The stable code.
    pub fn code(&self) -> Code {
        match self {
            Self::Api(e) => e.code(),
            Self::Network(_) => Code::NetworkError,
            Self::BodyTooLarge { .. } => Code::BodyTooLarge,
            Self::Auth(e) => e.code(),
            Self::Sca(e) => e.code(),
            Self::Request(e) => e.code(),
        }
    }

    /// Whether the request certainly never reached the server.
    pub fn not_sent(&self) -> bool {
        matches!(self, Self::Network(f) if f.stage == SendStage::NotSent)
    }
}

#[cfg(test)]
mod tests;
