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
//! - Drives every API [call](mod@call): authorization, the headers it needs, classification of
//!   the answer, the single 401 retry after a refresh, and bounded pagination.
//! - Runs the OAuth [token lifecycle](mod@lifecycle): expiry anchored at send time, proactive
//!   refresh with jitter, a hard floor, single flight, persist-before-use, the 60 s rotation
//!   grace, bounded retries, re-authorization when the grant is gone.
//! - [Classifies](mod@classify) every response (success, sandbox gate, 401 with its likely
//!   causes, 403, 404, 428, 429, 5xx …) with a stable code, a fix and the trace id, and turns
//!   settings plus a probe answer into a [diagnosis](mod@diagnose).
//! - Verifies the `X-Qonto-Signature` of [webhook](mod@webhook) deliveries (HMAC-SHA256,
//!   constant-time, several secrets while rotating, a time tolerance against replays).
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
//! The core decides; a driver performs the I/O it is asked for and feeds the result back,
//! draining the outputs after every input (the shape of quinn-proto and str0m). Every enum a
//! driver matches ([`CallStep`], [`Access`], [`AttemptStep`]) is exhaustive, so a new step
//! breaks every driver at compile time.
//!
//! ```text
//!   driver                                     core
//!   ──────                                     ────
//!   Call::new(env, spec), start ─────────────► Authorize
//!     credential: poll_access(now) ──────────► Ready(cred) │ Refresh(attempt) │ Wait │ Unavailable
//!       Refresh: attempt.start(now) ─────────► Lock{read} │ Send(token request)
//!         lock store, read ─► handle_locked ─► Persist(mark) │ Send
//!         send ────────────► handle_sent ────► Persist(tokens)
//!         save ────────────► handle_saved ───► Done(id, outcome)
//!         unlock ──────────► handle_refresh_outcome ─► AttemptResult (what the driver gets)
//!       Wait: sleep until an outcome is handed over, ask again
//!     handle_credential(cred) ───────────────► Send(request)
//!   send ──────────────────► handle_sent(now) ► Done(result) │ Unauthorized(fingerprint)
//!                                               │ Sca(challenge) │ Sleep(until)
//!   handle_unauthorized ───► handle_advice ──► Authorize (once) │ Done(error)
//!   Sca: tell the user, or keep the call ─► handle_sca_wait(now) ─► Sleep │ handle_otp(code) ─► Authorize
//!   Sleep: wait until then ─► handle_timeout(now) ─► Authorize (session poll, replay, retry) │ Done
//! ```
//!
//! ```
//! use std::time::Duration;
//! use qonto_auth_core::call::{Call, CallSpec, CallStep, Credential};
//! use qonto_auth_core::credentials::OAuthClient;
//! use qonto_auth_core::environment::Environment;
//! use qonto_auth_core::http::{Response, StatusCode};
//! use qonto_auth_core::lifecycle::{Access, AttemptResult, AttemptStep, LifecycleConfig, TokenLifecycle};
//! use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken};
//! use qonto_auth_core::{Timestamp, TokenSet};
//!
//! let start = Timestamp::from_unix_secs(1_700_000_000);
//! let client = OAuthClient::new("client-id", ClientSecret::new("s3cret"), "http://127.0.0.1:8910/cb")?;
//! let environment = Environment::production();
//! let mut life = TokenLifecycle::new(environment.clone(), client, LifecycleConfig::default())
//!     .with_shared_store(false); // a memory store: no lock, no re-read
//! life.handle_tokens(Some(TokenSet {
//!     access_token: AccessToken::new("ory_at_old"),
//!     expires_at: start + Duration::from_secs(3600),
//!     refresh_token: Some(RefreshToken::new("ory_rt_old")),
//!     refresh_issued_at: Some(start),
//!     scope: None,
//!     refresh_pending_since: None,
//! }));
//!
//! // 58 minutes later a call needs the token, and the proactive refresh is due.
//! let now = start + Duration::from_secs(58 * 60);
//! let mut call = Call::new(&environment, CallSpec::get("/v2/organization"))?;
//! assert!(matches!(call.start(), CallStep::Authorize));
//! let Access::Refresh(mut attempt) = life.poll_access(now) else { panic!() };
//! assert!(matches!(life.poll_access(now), Access::Ready(_)), "others keep the current token");
//! let AttemptStep::Send(request) = attempt.start(now) else { panic!() };
//! assert_eq!(request.http().uri(), "https://oauth.qonto.com/oauth2/token");
//!
//! // The token endpoint answers; the new tokens are persisted before anyone uses them.
//! let body = br#"{"access_token":"ory_at_new","expires_in":3600,"token_type":"bearer","refresh_token":"ory_rt_new"}"#;
//! let AttemptStep::Persist(tokens) = attempt.handle_sent(now, Ok(Response::new(body.to_vec()))) else { panic!() };
//! assert_eq!(tokens.expires_at, now + Duration::from_secs(3600), "anchored at send time");
//! let AttemptStep::Done(id, outcome) = attempt.handle_saved(Ok(())) else { panic!() };
//! assert!(matches!(life.handle_refresh_outcome(now, id, outcome), AttemptResult::Done));
//!
//! // The call goes out with the new token; its answer is classified.
//! let Access::Ready(credential) = life.poll_access(now) else { panic!() };
//! let CallStep::Send(request) = call.handle_credential(Ok(Credential::from(credential))) else { panic!() };
//! assert_eq!(request.headers()["authorization"], "Bearer ory_at_new");
//! let answer = Response::builder().status(StatusCode::OK).body(b"{}".to_vec())?;
//! let CallStep::Done(Ok(response)) = call.handle_sent(now, Ok(answer)) else { panic!() };
//! assert_eq!(response.status, StatusCode::OK);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod call;
pub mod classify;
pub mod codes;
pub mod credentials;
pub mod diagnose;
pub mod environment;
pub mod facts;
pub mod header;
pub mod lifecycle;
pub mod model;
pub mod oauth;
pub mod random;
pub mod redact;
pub mod request;
pub mod secret;
mod time;
mod tokens;
pub mod webhook;

#[cfg(test)]
mod redaction_tests;

pub use http;

pub use call::{ApiResponse, Call, CallError, CallSpec, CallStep};
pub use classify::{ApiError, Classification, ErrorKind, classify};
pub use codes::Code;
pub use environment::{Environment, EnvironmentKind};
pub use lifecycle::{Access, AttemptStep, TokenAttempt, TokenLifecycle};
pub use time::Timestamp;
pub use tokens::{PersistedTokensError, TokenSet};
