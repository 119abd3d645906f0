//! A local stand-in for Qonto: a real HTTP/1.1 server on loopback that answers like Qonto's
//! Business API and OAuth 2.0 server, in production or sandbox mode, including its failures.
//!
//! **What it does.** [`MockServer::start`] binds `127.0.0.1` and serves, on one port, both the
//! API paths (`/v2/organization`, `/v2/bank_accounts`, `/v2/bank_accounts/{id}`,
//! `/v2/membership`, `DELETE /v2/oauth2/consents`) and the OAuth paths (`/oauth2/auth` with a
//! consent page, `/oauth2/token`, and the not-officially-documented `/oauth2/revoke`). It
//! models:
//!
//! - the sandbox gate: without a correct `X-Qonto-Staging-Token` a request gets Qonto's OneLogin
//!   HTML page (200) or a 302 to OneLogin or to the developer portal — never JSON;
//! - API keys sent raw as `Authorization: login:secret`, and OAuth bearer tokens with scopes;
//! - authorization codes (10 minutes, single use, optional PKCE S256) and refresh-token rotation
//!   with a grace window after first use, after which reuse revokes the whole grant;
//! - error bodies with a `trace_id` equal to the `X-Tyk-Trace-Id` header;
//! - the sandbox's browser prerequisite: `/oauth2/auth` opens only in a browser that first
//!   visited [`PORTAL_LOGIN_PATH`] (the stand-in for logging in to the Sandbox web app through
//!   the Developer Portal), since a browser cannot send the staging header;
//! - OAuth errors with Qonto's statuses: a 404 error page for an unknown client or redirect URI
//!   at the authorize step, 400 for every token-endpoint error, `invalid_client` included;
//! - rate limits per client address when configured ([`MockConfig::with_qonto_rate_limits`]:
//!   1,000 requests per 10 s, 10,000 per 10 min, and 429s after more than 200 401s an hour),
//!   without `Retry-After` unless asked ([`RetryAfter`]), and injected faults (latency,
//!   dropped connections, 5xx, lost token responses) through [`Faults`];
//! - a write behind strong customer authentication, `POST /v2/sepa/transfers`: the 428 with
//!   an `sca_session_token` (or, without a paired device, the token-less `sca_not_enrolled`),
//!   the session endpoints `GET /v2/sca_sessions/{token}` and `/v2/mocked_sca_sessions/{token}`,
//!   the sandbox's simulated decision `POST /v2/mocked_sca_sessions/{token}/{allow|deny}` (and
//!   the mock-only `POST /_mock/sca/{allow|deny}` deciding every waiting session), 15-minute
//!   single-use sessions bound to their request (412 otherwise), and `X-Qonto-Idempotency-Key`
//!   replay of successful answers for 30 minutes ([`ScaSetup`]);
//! - time through a [`MockClock`] that tests move forward instead of sleeping;
//! - its own counters ([`Stats`]), also as JSON at the read-only `GET /_mock/stats` (token
//!   calls by grant type, Business API answers by status and by path), for tests written in
//!   any language; reading them is not counted, gated, limited or faulted.
//!
//! **What it does not do.** It is not a general HTTP server: no TLS, no HTTP/2, no chunked
//! request bodies (answered 411), no transactions, no transfer other than the
//! create call above, no webhooks, no ID tokens.
//! It does not depend on any client crate of this workspace: it is an independent model of
//! Qonto's documented behaviour, so tests of clients against it are not tautological.
//!
//! Facts that Qonto does not document are configurable in [`MockConfig`]
//! (for example [`StagingInProduction`] and the gate styles).
//!
//! ```
//! use std::io::{Read, Write};
//! use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};
//!
//! let server = MockServer::start(MockConfig::default()).unwrap();
//! let mut conn = std::net::TcpStream::connect(server.addr()).unwrap();
//! write!(
//!     conn,
//!     "GET /v2/organization HTTP/1.1\r\nHost: x\r\nAuthorization: {DEMO_LOGIN}:{DEMO_SECRET}\r\n\
//!      Connection: close\r\n\r\n"
//! )
//! .unwrap();
//! let mut answer = String::new();
//! conn.read_to_string(&mut answer).unwrap();
//! assert!(answer.starts_with("HTTP/1.1 200 OK"));
//! assert_eq!(server.stats().requests("/v2/organization", 200), 1);
//! ```

mod api;
mod auth;
mod clock;
mod config;
mod faults;
mod gate;
mod oauth;
mod org;
mod portal;
mod random;
mod rate;
mod request;
mod response;
mod router;
mod server;
mod state;
mod stats;
mod util;
mod writes;

pub use clock::MockClock;
pub use config::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_LOGIN, DEMO_REDIRECT_URI, DEMO_SCOPES, DEMO_SECRET,
    Gate, MockConfig, Mode, OAuthClient, STAGING_HEADER, StagingInProduction, TokenGate,
};
pub use faults::Faults;
pub use org::{BankAccount, Membership, Organization};
pub use portal::{PORTAL_LOGIN_PATH, PORTAL_SESSION_COOKIE};
pub use rate::{RateLimit, RetryAfter, UnauthorizedThrottle};
pub use server::{IssuedTokens, MockServer};
pub use stats::Stats;
pub use writes::{ScaDecision, ScaSetup};
