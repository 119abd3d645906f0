//! A [reqwest-middleware](https://docs.rs/reqwest-middleware) adapter for the Qonto Business
//! API: your own `ClientWithMiddleware` sends the requests, and [`QontoMiddleware`] gives each
//! request to the API host what it needs, as `qonto-auth-core` decides.
//!
//! # What it does
//!
//! - Adds the credential (`Authorization`), the sandbox's `X-Qonto-Staging-Token` and, when
//!   the environment names one, `X-Qonto-Organization-Id` to every request whose URL is on
//!   the API host of the [`qonto_reqwest::Client`] it wraps; requests to any other host pass
//!   through untouched, so the credential never leaves the API host.
//! - Refreshes OAuth tokens before they expire (one token request however many requests wait,
//!   rotated tokens saved before use), through the wrapped client.
//! - After a 401 on an OAuth token, refreshes (or takes the newer token) and retries once when
//!   the request's body can be cloned (`Request::try_clone`); a streamed body is not retried,
//!   and the 401 comes back.
//! - Traces each call in a `qonto_call` span (target `qonto`), as the transports do.
//!
//! # What it does not do
//!
//! It neither reads nor changes response bodies, nor turns statuses into errors: every answer
//! comes back as it came. Token requests go through the wrapped client's own reqwest client
//! (no redirects, bounded); the settings of the `ClientWithMiddleware` apply to API requests
//! only. Strong customer authentication and retries of other failures are left to you. The
//! staging header keeps its documented casing only if your reqwest client writes title-case
//! names on HTTP/1.1 (`http1_title_case_headers`); Qonto's servers are expected to accept it
//! lowercase, as HTTP/2 always sends it.
//!
//! ```no_run
//! use qonto_reqwest::qonto_auth_core::{Environment, credentials::ApiKey};
//! use qonto_reqwest_middleware::QontoMiddleware;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let qonto = qonto_reqwest::Client::api_key(Environment::production(), ApiKey::parse("login:secret-key")?)?;
//! let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(QontoMiddleware::new(qonto))
//!     .build();
//! let organization = http.get("https://thirdparty.qonto.com/v2/organization").send().await?;
//! println!("{}", organization.status());
//! # Ok(())
//! # }
//! ```

use qonto_reqwest::adapter::{ThroughError, Transmit, apply};
use qonto_reqwest::qonto_auth_core::http::{Extensions, HeaderMap, StatusCode};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

pub use qonto_reqwest;

/// The middleware: authorizes every request to the wrapped client's API host. Cheap to
/// clone; clones share tokens.
#[derive(Clone, Debug)]
pub struct QontoMiddleware {
    client: qonto_reqwest::Client,
}

impl QontoMiddleware {
    /// Authorizes requests with `client`'s credential, for `client`'s environment.
    pub fn new(client: qonto_reqwest::Client) -> Self {
        Self { client }
    }

    /// The wrapped client (its token status, events, …).
    pub fn client(&self) -> &qonto_reqwest::Client {
        &self.client
    }
}

#[async_trait::async_trait]
impl Middleware for QontoMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let Some(path) = self
            .client
            .api_path(request.url().as_str())
            .map(str::to_owned)
        else {
            return next.run(request, extensions).await;
        };
        let method = request.method().clone();
        // A copy for the retry after a 401, when there can be one and the body allows it.
        let spare = self
            .client
            .retries_after_401()
            .then(|| request.try_clone())
            .flatten();
        let stack = Stack {
            spare,
            request: Some(request),
            extensions,
            next,
        };
        match self.client.send_through(&method, path, stack).await {
            Ok(response) => Ok(response),
            Err(ThroughError::Stack(error)) => Err(error),
            Err(ThroughError::Qonto(error)) => Err(reqwest_middleware::Error::middleware(error)),
        }
    }
}

/// The rest of the middleware chain, as the call's sender.
struct Stack<'a> {
    /// The request, until its first send.
    request: Option<Request>,
    /// Its copy for the retry after a 401, when the body could be cloned.
    spare: Option<Request>,
    extensions: &'a mut Extensions,
    next: Next<'a>,
}

impl Transmit for Stack<'_> {
    type Response = Response;
    type Error = reqwest_middleware::Error;

    async fn transmit(&mut self, headers: &HeaderMap) -> reqwest_middleware::Result<Response> {
        let Some(mut request) = self.request.take().or_else(|| self.spare.take()) else {
            return Err(reqwest_middleware::Error::middleware(
                std::io::Error::other("the request was already sent twice"),
            ));
        };
        apply(headers, request.headers_mut());
        // `Next` only borrows the chain: a copy runs it again for the retry.
        self.next.clone().run(request, self.extensions).await
    }

    fn head(response: &Response) -> (StatusCode, &HeaderMap) {
        (response.status(), response.headers())
    }

    fn can_resend(&self) -> bool {
        self.spare.is_some()
    }
}
