//! A [tower](https://docs.rs/tower) [`Layer`] and [`Service`] for the Qonto Business API, over
//! `http::Request`: any tower-based HTTP client (hyper-util's legacy client, a tower stack of
//! your own) sends the requests, and [`QontoService`] gives each request to the API host what
//! it needs, as `qonto-auth-core` decides.
//!
//! # What it does
//!
//! - Adds the credential (`Authorization`), the sandbox's `X-Qonto-Staging-Token` and, when
//!   the environment names one, `X-Qonto-Organization-Id` to every request whose URI is on
//!   the API host of the [`qonto_reqwest::Client`] it wraps; requests to any other host pass
//!   through untouched, so the credential never leaves the API host.
//! - Refreshes OAuth tokens before they expire (one token request however many requests wait,
//!   rotated tokens saved before use), through the wrapped client.
//! - After a 401 on an OAuth token, refreshes (or takes the newer token) and retries once when
//!   the body can be copied ([`CloneBody`]: `Full`, `Empty`, `String`, `Vec<u8>`, `Bytes`,
//!   `()`); another body is not retried, and the 401 comes back (the next request refreshes).
//! - Traces each call in a `qonto_call` span (target `qonto`), as the transports do.
//!
//! # What it does not do
//!
//! It neither reads nor changes response bodies, nor turns statuses into errors. Token
//! requests go through the wrapped client's own reqwest client (no redirects, bounded), so
//! this crate brings reqwest along. Strong customer authentication and retries of other
//! failures are left to you. The staging header keeps its documented casing only if the HTTP
//! client writes title-case names on HTTP/1.1 (hyper-util: `http1_title_case_headers(true)`);
//! HTTP/2 sends every name lowercase.
//!
//! ```no_run
//! use http_body_util::Full;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use qonto_reqwest::qonto_auth_core::{Environment, credentials::ApiKey};
//! use qonto_tower::QontoLayer;
//! use tower_layer::Layer;
//! use tower_service::Service;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let qonto = qonto_reqwest::Client::api_key(Environment::production(), ApiKey::parse("login:secret-key")?)?;
//! let hyper = Client::builder(TokioExecutor::new())
//!     .http1_title_case_headers(true)
//!     .build_http::<Full<bytes::Bytes>>(); // an HTTPS connector in a real application
//! let mut service = QontoLayer::new(qonto).layer(hyper);
//! std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
//! let request = qonto_tower::http::Request::get("https://thirdparty.qonto.com/v2/organization").body(Full::default())?;
//! println!("{}", service.call(request).await?.status());
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{Empty, Full};
use qonto_reqwest::adapter::{Transmit, apply};
use qonto_reqwest::qonto_auth_core::http::{HeaderMap, Request, Response, StatusCode};
pub use tower_layer::Layer;
pub use tower_service::Service;

pub use qonto_reqwest;
/// Why a request through [`QontoService`] gave no response: the inner service failed
/// (`Stack`), or no credential could be had (`Qonto`: no usable token, re-authorization
/// required …).
pub use qonto_reqwest::adapter::ThroughError;
pub use qonto_reqwest::qonto_auth_core::http;

/// Wraps a service in a [`QontoService`] authorizing with one client.
#[derive(Clone, Debug)]
pub struct QontoLayer {
    client: qonto_reqwest::Client,
}

impl QontoLayer {
    /// Authorizes requests with `client`'s credential, for `client`'s environment.
    pub fn new(client: qonto_reqwest::Client) -> Self {
        Self { client }
    }
}

impl<S> Layer<S> for QontoLayer {
    type Service = QontoService<S>;

    fn layer(&self, inner: S) -> QontoService<S> {
        QontoService {
            client: self.client.clone(),
            inner,
        }
    }
}

/// The service: authorizes every request to the wrapped client's API host, then lets the
/// inner service send it.
#[derive(Clone, Debug)]
pub struct QontoService<S> {
    client: qonto_reqwest::Client,
    inner: S,
}

/// A request body that may be copied, so the request can be sent again after a 401.
pub trait CloneBody: Sized {
    /// A copy of the body, or `None` when it cannot be had (a stream): no retry then.
    fn clone_body(&self) -> Option<Self>;
}

macro_rules! clone_body {
    ($($body:ty),* $(,)?) => {$(
        impl CloneBody for $body {
            fn clone_body(&self) -> Option<Self> {
                Some(self.clone())
            }
        }
    )*};
}

clone_body!((), String, Vec<u8>, Bytes);

impl<D: Clone> CloneBody for Full<D> {
    fn clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl<D> CloneBody for Empty<D> {
    fn clone_body(&self) -> Option<Self> {
        Some(*self)
    }
}

impl<D, E> CloneBody for BoxBody<D, E> {
    fn clone_body(&self) -> Option<Self> {
        None
    }
}

impl<D, E> CloneBody for UnsyncBoxBody<D, E> {
    fn clone_body(&self) -> Option<Self> {
        None
    }
}

impl<S, B, R> Service<Request<B>> for QontoService<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    B: CloneBody + Send + 'static,
    R: Send + 'static,
{
    type Response = Response<R>;
    type Error = ThroughError<S::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<Response<R>, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(ThroughError::Stack)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The service made ready goes with this call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let client = self.client.clone();
        Box::pin(async move {
            let uri = request.uri().to_string();
            let Some(path) = client.api_path(&uri).map(str::to_owned) else {
                return inner.call(request).await.map_err(ThroughError::Stack);
            };
            let method = request.method().clone();
            let spare = client.retries_after_401().then(|| copy(&request)).flatten();
            let stack = Stack {
                spare,
                request: Some(request),
                inner,
                ready: true,
            };
            client.send_through(&method, path, stack).await
        })
    }
}

/// A copy of a request whose body can be copied.
fn copy<B: CloneBody>(request: &Request<B>) -> Option<Request<B>> {
    let mut copy = Request::new(request.body().clone_body()?);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

/// The inner service, as the call's sender.
struct Stack<S, B> {
    inner: S,
    /// The request, until its first send.
    request: Option<Request<B>>,
    /// Its copy for the retry after a 401, when the body could be copied.
    spare: Option<Request<B>>,
    /// Whether `inner` is ready (it is for the first send).
    ready: bool,
}

impl<S, B, R> Transmit for Stack<S, B>
where
    S: Service<Request<B>, Response = Response<R>> + Send,
    S::Future: Send,
    S::Error: Send,
    B: Send,
    R: Send,
{
    type Response = Response<R>;
    type Error = S::Error;

    async fn transmit(&mut self, headers: &HeaderMap) -> Result<Response<R>, S::Error> {
        // `send_through` sends again only after `can_resend`, so a request is always left.
        let Some(mut request) = self.request.take().or_else(|| self.spare.take()) else {
            unreachable!("a request was sent more often than allowed");
        };
        apply(headers, request.headers_mut());
        if !std::mem::take(&mut self.ready) {
            std::future::poll_fn(|cx| self.inner.poll_ready(cx)).await?;
        }
        self.inner.call(request).await
    }

    fn head(response: &Response<R>) -> (StatusCode, &HeaderMap) {
        (response.status(), response.headers())
    }

    fn can_resend(&self) -> bool {
        self.spare.is_some()
    }
}
