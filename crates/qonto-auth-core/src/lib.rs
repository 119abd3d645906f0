//! Sans-IO authentication core for the Qonto Business API.
//!
//! # What this crate does
//!
//! - Models Qonto's two [environments](mod@environment) (production, sandbox with its staging
//!   token) and refuses the combinations that cannot work.
//! - Checks [credentials] before use: every API-key and access-token mistake of
//!   Qonto's troubleshooting guide is its own typed error.
//! - Encodes [headers](mod@header) exactly as documented, secrets marked sensitive, and builds
//!   API [requests](mod@request) and [OAuth](mod@oauth) requests as `http::Request<Vec<u8>>`.
//! - Runs the OAuth [token lifecycle](mod@lifecycle): expiry anchored at send time, proactive
//!   refresh with jitter, a hard floor, single flight, persist-before-use, the 60 s rotation
//!   grace, bounded retries, re-authorization when the grant is gone.
//! - [Classifies](mod@classify) every response (success, sandbox gate, 401 with its likely
//!   causes, 403, 404, 428, 429, 5xx …) with a stable code, a fix and the trace id, and turns
//!   settings plus a probe answer into a [diagnosis](mod@diagnose).
//!
//! # What it does not do
//!
//! It performs no I/O and reads no clock: no sockets, no files, no async runtime, no TLS.
//! Time comes in as a [`Timestamp`] parameter; randomness comes from [`random::fill`] or is
//! passed in. The transport crates (`qonto-reqwest`, `qonto-ureq`) send the requests, keep
//! the tokens in a store, and feed the answers back.
//!
//! # The driving loop
//!
//! After every input, drain the outputs. For an API call: [`TokenLifecycle::poll_access`];
//! when it says `Wait`, take the attempt from [`TokenLifecycle::poll_refresh`], drive its
//! [`AttemptStep`]s to `Done`, and hand the outcome back.
//!
//! ```text
//!   driver                                   core
//!   ──────                                   ────
//!   now ──► poll_access(now) ─────────────► Ready(header) │ Wait │ Unavailable(error)
//!   now ──► poll_refresh(now) ────────────► Some(TokenAttempt)        (one at a time)
//!   lock store, read ─► handle_stored ────► Send(request)
//!   send, receive ────► handle_response ──► Persist(tokens)
//!   write, fsync ─────► handle_persisted ─► Done(id, outcome)
//!   unlock ───────────► handle_refresh_outcome(now, id, outcome)
//! ```
//!
//! ```
//! use std::time::Duration;
//! use http::{HeaderMap, StatusCode};
//! use qonto_auth_core::credentials::OAuthClient;
//! use qonto_auth_core::environment::Environment;
//! use qonto_auth_core::lifecycle::{Access, AttemptStep, LifecycleConfig, Stored, TokenLifecycle};
//! use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken};
//! use qonto_auth_core::{Timestamp, TokenSet};
//!
//! let start = Timestamp::from_unix_secs(1_700_000_000);
//! let client = OAuthClient::new("client-id", ClientSecret::new("s3cret"), "http://127.0.0.1:8910/cb")?;
//! let mut life = TokenLifecycle::new(Environment::production(), client, LifecycleConfig::default());
//! life.handle_tokens(Some(TokenSet {
//!     access_token: AccessToken::new("ory_at_old"),
//!     expires_at: start + Duration::from_secs(3600),
//!     refresh_token: Some(RefreshToken::new("ory_rt_old")),
//!     refresh_issued_at: Some(start),
//!     scope: None,
//!     refresh_pending_since: None,
//! }));
//!
//! // Fresh token: ready, and no refresh is due.
//! assert!(matches!(life.poll_access(start), Access::Ready(_)));
//! assert!(life.poll_refresh(start).is_none());
//!
//! // 58 minutes later the proactive refresh is due (5 min margin + up to 60 s jitter).
//! let later = start + Duration::from_secs(58 * 60);
//! let mut attempt = life.poll_refresh(later).expect("refresh due");
//! assert!(life.poll_refresh(later).is_none(), "single flight");
//! let AttemptStep::Send(request) = attempt.handle_stored(later, Stored::Unshared) else { panic!() };
//! assert_eq!(request.http().uri(), "https://oauth.qonto.com/oauth2/token");
//!
//! // The server answers; the new tokens must be persisted before anyone uses them.
//! let body = br#"{"access_token":"ory_at_new","expires_in":3600,"token_type":"bearer","refresh_token":"ory_rt_new"}"#;
//! let step = attempt.handle_response(StatusCode::OK, &HeaderMap::new(), body);
//! let AttemptStep::Persist(tokens) = step else { panic!() };
//! assert_eq!(tokens.expires_at, later + Duration::from_secs(3600), "anchored at send time");
//! let AttemptStep::Done(id, outcome) = attempt.handle_persisted() else { panic!() };
//! life.handle_refresh_outcome(later, id, outcome);
//!
//! let Access::Ready(credential) = life.poll_access(later) else { panic!() };
//! assert_eq!(credential.header, "Bearer ory_at_new");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod classify;
pub mod credentials;
pub mod diagnose;
pub mod environment;
pub mod facts;
pub mod header;
pub mod lifecycle;
pub mod model;
pub mod oauth;
pub mod random;
pub mod request;
pub mod secret;
mod time;
mod tokens;

#[cfg(test)]
mod redaction_tests;

pub use http;

pub use classify::{ApiError, Classification, ErrorKind, classify};
pub use environment::{Environment, EnvironmentKind};
pub use lifecycle::{Access, AttemptStep, TokenAttempt, TokenLifecycle};
pub use time::Timestamp;
pub use tokens::{PersistedTokensError, TokenSet};
