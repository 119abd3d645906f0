//! One API call as a sans-IO state machine: authorize, send, classify, the single 401 retry.
//!
//! A driver turns a [`CallSpec`] into a [`Call`] and drains its [`CallStep`]s:
//!
//! ```text
//!   start ─► Authorize ─► handle_credential ─► Send(request) ─► handle_sent ─┬─► Done(result)
//!              ▲                                                              │
//!              └──── handle_advice (once) ◄── Unauthorized(fingerprint) ◄─────┘  a 401 with
//!                                                                                 an OAuth token
//! ```
//!
//! `Authorize` asks the driver for the credential (a static key, or the token lifecycle's
//! [`Access`](crate::lifecycle::Access) loop); `Send` carries every header the call needs
//! (authorization, the staging token with its exact casing noted in the request's extensions
//! as [`ExactCase`](crate::header::ExactCase), and the caller's extra headers); the answer is
//! classified; a 401 on an OAuth token is handed to
//! [`TokenLifecycle::handle_unauthorized`](crate::lifecycle::TokenLifecycle::handle_unauthorized)
//! once, never more. [`Pages`] walks a paginated listing with bounds.

mod pages;
mod response;
mod send;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};

pub use pages::{PageError, PageLimits, Pages};
pub use response::{ApiResponse, DecodeError};
pub use send::SendFailure;

use crate::classify::{ApiError, Classification, ErrorKind, classify};
use crate::environment::Environment;
use crate::header::organization_header;
use crate::lifecycle::{BearerCredential, NetworkFailure, RefreshError, UnauthorizedAdvice};
use crate::redact::Redactor;
use crate::request::{RequestError, prepare_request};
use crate::secret::Fingerprint;

/// What to send: method, path and query on the API host, an optional JSON body, extra headers.
#[derive(Clone)]
#[non_exhaustive]
pub struct CallSpec {
    /// The method.
    pub method: Method,
    /// An absolute path with its query, such as `/v2/organization`.
    pub path_and_query: String,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub body: Option<Vec<u8>>,
    /// Extra headers (mark secret values sensitive).
    pub headers: HeaderMap,
}

impl CallSpec {
    /// A call of `method` on `path_and_query`, without a body.
    pub fn new(method: Method, path_and_query: impl Into<String>) -> Self {
        Self {
            method,
            path_and_query: path_and_query.into(),
            body: None,
            headers: HeaderMap::new(),
        }
    }

    /// A GET of `path_and_query`.
    pub fn get(path_and_query: impl Into<String>) -> Self {
        Self::new(Method::GET, path_and_query)
    }

    /// Sets the JSON body.
    #[must_use]
    pub fn json_body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets the body to this JSON value, if any.
    #[must_use]
    pub fn json(mut self, value: Option<&serde_json::Value>) -> Self {
        self.body = value.map(|v| serde_json::to_vec(v).unwrap_or_default());
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }
}

impl std::fmt::Debug for CallSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallSpec")
            .field("method", &self.method)
            .field("path_and_query", &self.path_and_query)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("headers", &self.headers)
            .finish()
    }
}

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
    /// The call is over.
    Done(Result<ApiResponse, CallError>),
}

#[derive(Debug)]
enum Phase {
    Start,
    Authorizing {
        retry: bool,
    },
    Sending {
        fingerprint: Option<Fingerprint>,
        retry: bool,
    },
    Unauthorized {
        error: ApiError,
    },
    Done,
}

/// One API call. See the [module docs](self).
#[derive(Debug)]
pub struct Call {
    request: Request<Vec<u8>>,
    /// The sensitive header values sent (staging token, credential), to cut out of the
    /// server's words on failure.
    sent_secrets: Vec<HeaderValue>,
    /// Whether the call carries `X-Qonto-Organization-Id`.
    names_organization: bool,
    phase: Phase,
}

impl Call {
    /// Prepares the call: the path is checked to stay on the API host, and every header but
    /// `Authorization` is set.
    ///
    /// # Errors
    ///
    /// [`RequestError`] for a path that would leave the API host or a staging token a header
    /// cannot carry.
    pub fn new(environment: &Environment, spec: CallSpec) -> Result<Self, RequestError> {
        let mut request =
            prepare_request(environment, spec.method, &spec.path_and_query, spec.body)?;
        for (name, value) in &spec.headers {
            request.headers_mut().append(name, value.clone());
        }
        let sent_secrets = request
            .headers()
            .values()
            .filter(|v| v.is_sensitive())
            .cloned()
            .collect();
        let names_organization = request.headers().contains_key(organization_header());
        Ok(Self {
            request,
            sent_secrets,
            names_organization,
            phase: Phase::Start,
        })
    }

    /// The first step: [`CallStep::Authorize`].
    pub fn start(&mut self) -> CallStep {
        match self.phase {
            Phase::Start => {
                self.phase = Phase::Authorizing { retry: false };
                CallStep::Authorize
            }
            _ => self.misuse("start called twice"),
        }
    }

    /// Feeds the credential for the next send, or why none can be had.
    pub fn handle_credential(&mut self, credential: Result<Credential, CallError>) -> CallStep {
        let Phase::Authorizing { retry } = self.phase else {
            return self.misuse("a credential fed without an Authorize step");
        };
        let credential = match credential {
            Ok(credential) => credential,
            Err(error) => return self.finish(Err(error)),
        };
        self.phase = Phase::Sending {
            fingerprint: credential.fingerprint,
            retry,
        };
        // Only an OAuth call's first send may be sent again (after a 401): keep a copy then.
        let mut request = if credential.fingerprint.is_some() && !retry {
            self.request.clone()
        } else {
            std::mem::take(&mut self.request)
        };
        self.sent_secrets.push(credential.header.clone());
        request
            .headers_mut()
            .insert(AUTHORIZATION, credential.header);
        CallStep::Send(request)
    }

    /// Feeds the answer, or how sending failed.
    pub fn handle_sent(&mut self, sent: Result<Response<Vec<u8>>, SendFailure>) -> CallStep {
        let Phase::Sending { fingerprint, retry } = self.phase else {
            return self.misuse("an answer fed without a Send step");
        };
        let response = match sent {
            Ok(response) => response,
            Err(SendFailure::Failed(failure)) => {
                return self.finish(Err(CallError::Network(failure)));
            }
            Err(SendFailure::TooLarge(limit)) => {
                return self.finish(Err(CallError::BodyTooLarge { limit }));
            }
        };
        let (parts, body) = response.into_parts();
        let classified = match classify(parts.status, &parts.headers, &body) {
            Classification::Failure(mut error) => {
                // A 403 about the organization: consented or not needs the header sent.
                if error.kind == ErrorKind::OrganizationNotConsented && !self.names_organization {
                    error.kind = ErrorKind::OrganizationMissing;
                }
                Classification::Failure(error.redacted(&self.redactor()))
            }
            success => success,
        };
        match classified {
            Classification::Success => self.finish(Ok(ApiResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            })),
            Classification::Failure(error) => match fingerprint {
                Some(used) if parts.status == StatusCode::UNAUTHORIZED && !retry => {
                    self.phase = Phase::Unauthorized { error };
                    CallStep::Unauthorized(used)
                }
                _ => self.finish(Err(CallError::Api(error))),
            },
        }
    }

    /// Feeds the lifecycle's advice after a 401: retry once, or give up.
    pub fn handle_advice(&mut self, advice: UnauthorizedAdvice) -> CallStep {
        let Phase::Unauthorized { error } = std::mem::replace(&mut self.phase, Phase::Done) else {
            return self.misuse("advice fed without an Unauthorized step");
        };
        match advice {
            UnauthorizedAdvice::RetryWithNewerToken | UnauthorizedAdvice::RefreshThenRetry => {
                self.phase = Phase::Authorizing { retry: true };
                CallStep::Authorize
            }
            // The grant is gone (for example invalid_grant): say so, not just 401.
            UnauthorizedAdvice::GiveUp(Some(reason)) => self.finish(Err(CallError::Auth(reason))),
            UnauthorizedAdvice::GiveUp(None) => self.finish(Err(CallError::Api(error))),
        }
    }

    /// What a failure's text must not show: every sensitive value this call sent.
    fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::new();
        for value in &self.sent_secrets {
            redactor.add_value(value);
        }
        redactor
    }

    fn finish(&mut self, result: Result<ApiResponse, CallError>) -> CallStep {
        self.phase = Phase::Done;
        CallStep::Done(result)
    }

    fn misuse(&mut self, what: &'static str) -> CallStep {
        self.finish(Err(CallError::Request(RequestError::DriverMisuse(what))))
    }
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
    /// The request could not be built, or was driven out of order.
    #[error(transparent)]
    Request(RequestError),
}

#[cfg(test)]
mod tests;
