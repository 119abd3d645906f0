//! OAuth tokens on PostgreSQL, for applications that serve many organizations from many
//! replicas.
//!
//! # What this crate does
//!
//! It implements the token store traits of `qonto-store`, blocking ([`qonto_store::TokenStore`],
//! for `qonto-ureq`) and async ([`qonto_store::AsyncTokenStore`], for `qonto-reqwest`), on one
//! PostgreSQL table holding one row per *connection id*: a key the application chooses for
//! each consent (an organization id, a customer id).
//!
//! - **One pool for every organization.** [`PgTokens`] is a connection pool (deadpool over
//!   `tokio-postgres`) with a small runtime of its own; [`PgTokens::store`] hands out a cheap
//!   [`PgStore`] per [`ConnectionId`], and one client per organization is built on it.
//! - **A refresh lock that survives a dead holder.** A refresh holds its connection id's lock
//!   from re-reading the row, across the token request, to saving the new tokens. The lock is
//!   a session-level advisory lock on one pooled connection: released by the guard before the
//!   connection goes back to the pool, and by PostgreSQL itself when the holder's session
//!   ends (process killed, connection lost). Waiting is bounded by a lock timeout, reported
//!   as [`qonto_store::StoreError::LockTimeout`].
//! - **Committed before it matters.** Every save is its own autocommitted statement on the
//!   lock's connection: the "refresh pending" mark is committed before the token request is
//!   sent, the rotated tokens before any caller uses them. If the lock's session died, the
//!   save fails instead of writing unguarded.
//! - **No database round trip while a token is fresh.** The clients keep the tokens in
//!   memory; the store is read once at start-up and locked only when a refresh is due or a
//!   token was rejected, and the refresh then adopts whatever another replica saved.
//!   A refresh costs four round trips: lock and read (pipelined), pending mark, new tokens,
//!   unlock (see [`PgTokens::stats`]).
//! - **Encryption at rest, optional.** With a [`Keyring`], each row's token document is
//!   sealed with XChaCha20-Poly1305 under the current key, bound to its connection id and key
//!   id; the key id is stored beside it so keys can rotate ([`PgTokens::reseal`]). A missing
//!   or wrong key is [`qonto_store::StoreError::Key`], and the row is left untouched.
//! - **An explicit migration.** [`PgTokens::migrate`] creates the one table
//!   ([`SCHEMA_SQL`], also in docs/deployment.md) if it does not exist; nothing else runs DDL.
//!
//! One refresh of one connection id, as a client drives it (every arrow to PostgreSQL is one
//! round trip on the same pooled connection; the lock and the read share one):
//!
//! ```text
//!  client (qonto-ureq / qonto-reqwest)     PostgreSQL                          Qonto
//!  lock { read } ───────────────────────►  pg_advisory_lock(key); SELECT row
//!    row newer than mine? adopt it ───────►  pg_advisory_unlock(key)             (nothing sent)
//!  persist(mark) ───────────────────────►  UPSERT … refresh_pending_since (commit)
//!  send ─────────────────────────────────────────────────────────────────────►  rotate
//!  persist(tokens) ─────────────────────►  UPSERT new tokens, no mark (commit)
//!  done: drop the guard ────────────────►  pg_advisory_unlock(key); back to the pool
//!  (holder dies at any point: its session ends and PostgreSQL releases the lock)
//! ```
//!
//! # What it does not do
//!
//! It does not decide when to refresh (the core's lifecycle does, driven by a transport), it
//! never creates tables implicitly, and it does not speak TLS: it connects with `NoTls`, which
//! suits loopback and Unix sockets; for a remote database, see docs/deployment.md. It does not
//! manage encryption keys: the application supplies them (from its secret manager).
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use qonto_store_postgres::{ConnectionId, PgConfig, PgTokens};
//!
//! # fn run(environment: qonto_auth_core::Environment,
//! #        oauth: qonto_auth_core::credentials::OAuthClient) -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = PgTokens::new(PgConfig::from_url("postgres://app@127.0.0.1/app")?)?;
//! tokens.migrate_blocking()?;
//! // One client per organization, all on one pool.
//! let store = Arc::new(tokens.store(ConnectionId::new("org-7")?));
//! let client = qonto_ureq::Client::oauth(environment, oauth, store)?;
//! let accounts = client.bank_accounts()?;
//! # Ok(()) }
//! ```

mod config;
mod connection_id;
mod error;
mod exec;
mod guard;
mod pool;
mod schema;
mod seal;
mod store;

pub use config::PgConfig;
pub use connection_id::{ConnectionId, ConnectionIdError, MAX_CONNECTION_ID};
pub use error::PgError;
pub use pool::{PgStats, PgTokens};
pub use schema::{DEFAULT_TABLE, SCHEMA_SQL, lock_key, schema_sql};
pub use seal::{KeyError, Keyring, SealingKey};
pub use store::PgStore;
pub use tokio_postgres;
