//! For requests that another HTTP stack sends (your own reqwest client behind
//! reqwest-middleware, a tower service, any client): the headers an API request needs, and a
//! whole call whose sends go through that stack while the core decides everything else.
//!
//! `qonto-reqwest-middleware` and `qonto-tower` are thin layers over [`Client::send_through`];
//! use it directly to plug another stack in.
//!
//! # Header casing
//!
//! `http` header names are lowercase. Qonto documents the sandbox header as
//! `X-Qonto-Staging-Token`, and this crate's own requests always send it so; a request sent by
//! another client keeps that casing only on HTTP/1.1 when the client writes title-case names
//! (reqwest's `http1_title_case_headers`, hyper's `title_case_headers`). HTTP/2 names are
//! lowercase by definition.

use std::future::Future;

use qonto_auth_core::call::{Call, CallError, CallSpec, CallStep};
use qonto_auth_core::http::{HeaderMap, Method, Response, StatusCode};
use qonto_auth_core::request::RequestError;
use qonto_transport::{HoldsLifecycle, trace};
use tracing::Instrument;

use crate::{Client, Error};

#[doc(inline)]
pub use qonto_transport::headers::apply;

/// Another HTTP stack that sends a call's request; see [`Client::send_through`].
pub trait Transmit: Send {
    /// The stack's response (its body is never read here).
    type Response: Send;
    /// The stack's error.
    type Error: Send;

    /// Sends the caller's request with the core's `headers` applied (see [`apply`]): the
    /// request itself the first time, its copy for the single retry after a 401. It is called
    /// a second time only after [`can_resend`](Self::can_resend) said yes.
    fn transmit(
        &mut self,
        headers: &HeaderMap,
    ) -> impl Future<Output = Result<Self::Response, Self::Error>> + Send;

    /// The status and headers of a response.
    fn head(response: &Self::Response) -> (StatusCode, &HeaderMap);

    /// Whether the request can be sent a second time (its body could be copied).
    fn can_resend(&self) -> bool;
}

/// Why a call through another stack gave no response.
#[derive(Debug)]
pub enum ThroughError<E> {
    /// The stack failed to send.
    Stack(E),
    /// No credential could be had (no usable token, re-authorization required …), or the
    /// request cannot be authorized (a path leaving the API host).
    Qonto(Error),
}

impl<E: std::fmt::Display> std::fmt::Display for ThroughError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stack(error) => error.fmt(f),
            Self::Qonto(error) => error.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ThroughError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Stack(error) => Some(error),
            Self::Qonto(error) => Some(error),
        }
    }
}

impl Client {
    /// The headers an API request needs, for a request another HTTP client sends:
    /// `Authorization` (refreshing the OAuth token first when due), and as the environment
    /// asks, `X-Qonto-Staging-Token` and `X-Qonto-Organization-Id`. Secret values are marked
    /// sensitive. See the [module docs](self) for the staging header's casing.
    ///
    /// A 401 answered to such a request is not seen here: prefer
    /// [`send_through`](Self::send_through), which retries once after refreshing.
    pub async fn headers(&self) -> Result<HeaderMap, Error> {
        qonto_transport::headers::request_headers(&self.0.environment, self.credential().await?)
    }

    /// Whether a 401 can be retried: only with OAuth (a newer or refreshed token), never with
    /// a static credential. An adapter keeps a copy of the request only when it can.
    pub fn retries_after_401(&self) -> bool {
        matches!(self.0.auth, qonto_transport::Auth::OAuth(_))
    }

    /// The path and query of `url` when it points at this client's API host; `None` for
    /// any other host, whose requests must never get the credential.
    pub fn api_path<'u>(&self, url: &'u str) -> Option<&'u str> {
        let rest = url.strip_prefix(self.0.environment.endpoints().api().as_str())?;
        rest.starts_with('/').then_some(rest)
    }

    /// Runs one call of `method` on `path_and_query` whose request `stack` sends, as the
    /// core's [`Call`] decides: the credential (refreshing first when due), the headers, and
    /// after a 401 on an OAuth token, one refresh or newer token and one retry when the
    /// request can be sent again. When it cannot, the lifecycle still learns of the 401 (the
    /// next call refreshes) and the 401 is returned.
    ///
    /// Every response the stack gets is returned as it came, failures included (their body
    /// unread): only a missing credential is an error of this crate. Strong customer
    /// authentication (a 428) and retries are left to the caller.
    pub async fn send_through<T: Transmit>(
        &self,
        method: &Method,
        path_and_query: impl Into<String>,
        mut stack: T,
    ) -> Result<T::Response, ThroughError<T::Error>> {
        let spec = CallSpec::new(method.clone(), path_and_query);
        let span = trace::call(&spec);
        let qonto = |e: Error| ThroughError::Qonto(e);
        let now = || self.0.io.clock.now();
        async move {
            let mut call = Call::new(&self.0.environment, spec).map_err(|e| qonto(e.into()))?;
            let mut last = None;
            let mut step = call.start();
            loop {
                step = match step {
                    CallStep::Authorize => call.handle_credential(self.credential().await),
                    // Never a send the stack cannot make (a second one needs a copy).
                    CallStep::Send(_) if last.is_some() && !stack.can_resend() => break,
                    CallStep::Send(request) => {
                        let response = stack
                            .transmit(request.headers())
                            .await
                            .map_err(ThroughError::Stack)?;
                        let (status, headers) = T::head(&response);
                        trace::head(status, headers);
                        let mut head = Response::new(Vec::new());
                        *head.status_mut() = status;
                        *head.headers_mut() = headers.clone();
                        last = Some(response);
                        call.handle_sent(now(), Ok(head))
                    }
                    CallStep::Unauthorized(used) if stack.can_resend() => {
                        self.0.advise(&mut call, used, now()).map_err(qonto)?
                    }
                    CallStep::Unauthorized(used) => {
                        let driver = self.0.oauth().map_err(qonto)?;
                        let _ = driver.life().unauthorized(now(), used);
                        break;
                    }
                    // A 428 (strong customer authentication) goes back as it came; with the
                    // default policy there is no retry, so no other sleep.
                    CallStep::Sca(_) | CallStep::Sleep(_) => break,
                    CallStep::Done(Ok(_) | Err(CallError::Api(_))) => break,
                    CallStep::Done(Err(error)) => return Err(qonto(error.into())),
                }
            }
            let misuse = || qonto(RequestError::DriverMisuse("a call ended unsent").into());
            last.ok_or_else(misuse)
        }
        .instrument(span)
        .await
    }
}
