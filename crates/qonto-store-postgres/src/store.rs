//! [`PgStore`]: one connection id's tokens, behind both store traits, and the guard that
//! holds its refresh lock (a session-level advisory lock on one pooled connection).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::Object;
use qonto_auth_core::TokenSet;
use qonto_store::{
    AsyncStoreGuard, AsyncTokenStore, KeyProblem, StoreError, StoreGuard, TokenStore,
};
use zeroize::Zeroizing;

use crate::ConnectionId;
use crate::error::DbFailure;
use crate::guard::{GuardCore, Held, PgGuard};
use crate::pool::{Counters, Shared};
use crate::schema::ROW_FORMAT;
use crate::seal::Unseal;

/// The tokens of one connection id in a [`PgTokens`](crate::PgTokens) table, as a
/// [`TokenStore`] (blocking clients) and an [`AsyncTokenStore`] (async clients). Cheap to
/// clone; stores of one pool share its connections.
///
/// - `load` reads the row without locking (a client calls it once, at start-up).
/// - `lock` takes the connection id's refresh lock: a session-level advisory lock on one
///   pooled connection, held by the guard until it is dropped. While the guard lives, its
///   `load`, `save` and `clear` run on that same connection, each committed when it returns.
///   Dropping the guard unlocks before the connection goes back to the pool; if unlocking
///   fails, or the holder dies, the connection is closed and PostgreSQL releases the lock.
/// - `is_shared` is true: every refresh re-reads the row under the lock, so replicas adopt
///   each other's tokens and refresh once.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: ConnectionId,
    pub(crate) key: i64,
    pub(crate) location: Arc<str>,
}

impl PgStore {
    pub(crate) fn new(shared: Arc<Shared>, id: ConnectionId) -> Self {
        let key = shared.lock_key(&id);
        let location = format!("{}, connection id {:?}", shared.location, id.as_str()).into();
        Self {
            shared,
            id,
            key,
            location,
        }
    }

    /// The connection id.
    pub fn connection_id(&self) -> &ConnectionId {
        &self.id
    }

    /// The advisory lock key of this connection id's refresh lock (see `pg_locks`).
    pub fn lock_key(&self) -> i64 {
        self.key
    }

    pub(crate) fn fail(&self, action: &'static str) -> impl FnOnce(DbFailure) -> StoreError + '_ {
        move |failure| failure.into_store(action, &self.location)
    }

    fn ended(&self) -> StoreError {
        DbFailure::Other("the store's runtime stopped".into()).into_store("run", &self.location)
    }

    async fn load_now(self) -> Result<Option<TokenSet>, StoreError> {
        let client = self.shared.connection().await.map_err(self.fail("read"))?;
        let row = read_row(&self.shared, &client, &self.id)
            .await
            .map_err(self.fail("read"))?;
        self.decode(row)
    }

    async fn lock_now(self) -> Result<GuardCore, StoreError> {
        let shared = Arc::clone(&self.shared);
        let object = shared.connection().await.map_err(self.fail("lock"))?;
        let held = Held::new(object, Arc::clone(&shared));
        let client = held.client();
        let select = prepare(&shared, client, &shared.sql.select)
            .await
            .map_err(self.fail("lock"))?;
        let lock = format!(
            "SET lock_timeout = {}; SELECT pg_advisory_lock({})",
            shared.lock_timeout.as_millis().max(1),
            self.key
        );
        // Pipelined: the lock, then the read, in one round trip. The read's snapshot is taken
        // when it starts, after the lock is held, so it sees the last holder's commit.
        let id = self.id.as_str();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&id];
        let both = async {
            tokio::join!(
                client.batch_execute(&lock),
                client.query_opt(&select, &params)
            )
        };
        let wait = shared.lock_timeout + shared.statement_timeout;
        Counters::add(&shared.counters.round_trips);
        let Ok((locked, row)) = tokio::time::timeout(wait, both).await else {
            return Err(DbFailure::timed_out(wait).into_store("lock", &self.location));
        };
        match locked.map_err(|e| DbFailure::from_pg(&e)) {
            Ok(()) => {}
            Err(DbFailure::LockTimeout) => {
                Counters::add(&shared.counters.lock_timeouts);
                // No lock was taken: the connection may go back to the pool.
                held.return_to_pool();
                return Err(DbFailure::LockTimeout.into_store("lock", &self.location));
            }
            Err(other) => return Err(other.into_store("lock", &self.location)),
        }
        Counters::add(&shared.counters.locks);
        let prefetched = Some(
            row.map(|r| r.map(RawRow::from))
                .map_err(|e| DbFailure::from_pg(&e)),
        );
        Ok(GuardCore {
            store: self,
            held,
            prefetched,
        })
    }

    /// Seals the row under the keyring's current key when it is in clear or sealed with an
    /// older key, under the refresh lock. Returns whether it wrote.
    pub(crate) async fn reseal_now(self) -> Result<bool, StoreError> {
        let Some(current) = self
            .shared
            .keys
            .as_ref()
            .map(|k| k.current().id().to_owned())
        else {
            return Ok(false);
        };
        let mut core = self.clone().lock_now().await?;
        let row = core.prefetched.take().unwrap_or(Ok(None));
        let stale = matches!(&row, Ok(Some(r)) if r.key_id.as_deref() != Some(current.as_str()));
        if stale {
            let decoded = self.decode(row.map_err(self.fail("read"))?)?;
            if let Some(tokens) = decoded {
                core.save(self.encode(&tokens)?).await?;
            }
        }
        core.release().await;
        Ok(stale)
    }

    pub(crate) fn decode(&self, row: Option<RawRow>) -> Result<Option<TokenSet>, StoreError> {
        Counters::add(&self.shared.counters.loads);
        let Some(row) = row else {
            return Ok(None);
        };
        let corrupt = |source| StoreError::Corrupt {
            path: self.location.to_string(),
            source,
        };
        if row.format != ROW_FORMAT {
            let format = u64::try_from(row.format).unwrap_or(0);
            return Err(corrupt(
                qonto_auth_core::PersistedTokensError::UnsupportedFormat(format),
            ));
        }
        let plain = match (&row.key_id, &self.shared.keys) {
            (None, _) => row.tokens,
            (Some(key_id), keys) => {
                let opened = keys
                    .as_ref()
                    .ok_or(Unseal::KeyMissing)
                    .and_then(|ring| ring.open(self.id.as_str(), key_id, &row.tokens));
                let problem = match opened {
                    Ok(plain) => {
                        return TokenSet::from_persisted_json(&plain)
                            .map(Some)
                            .map_err(corrupt);
                    }
                    Err(Unseal::KeyMissing) => KeyProblem::Missing,
                    Err(Unseal::Rejected) => KeyProblem::Rejected,
                    Err(Unseal::Malformed) => {
                        return Err(corrupt(qonto_auth_core::PersistedTokensError::NotJson));
                    }
                };
                return Err(StoreError::Key {
                    path: self.location.to_string(),
                    key_id: printable(key_id),
                    problem,
                });
            }
        };
        TokenSet::from_persisted_json(&plain)
            .map(Some)
            .map_err(corrupt)
    }

    pub(crate) fn encode(&self, tokens: &TokenSet) -> Result<Encoded, StoreError> {
        let json = Zeroizing::new(tokens.to_persisted_json());
        let (key_id, bytes) = match &self.shared.keys {
            None => (None, json),
            Some(ring) => {
                let sealed = ring
                    .seal(self.id.as_str(), &json)
                    .map_err(|e| StoreError::Io {
                        action: "seal",
                        path: self.location.to_string(),
                        source: std::io::Error::other(e.to_string()),
                    })?;
                (Some(ring.current().id().to_owned()), Zeroizing::new(sealed))
            }
        };
        let secs = |t: qonto_auth_core::Timestamp| t.unix_millis() as f64 / 1000.0;
        Ok(Encoded {
            key_id,
            bytes,
            expires_at: secs(tokens.expires_at),
            pending_since: tokens.refresh_pending_since.map(secs),
        })
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AsyncTokenStore for PgStore {
    async fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        let store = self.clone();
        let ran = self.shared.exec.run(store.load_now()).await;
        ran.unwrap_or_else(|_| Err(self.ended()))
    }

    async fn lock(&self) -> Result<Box<dyn AsyncStoreGuard>, StoreError> {
        let store = self.clone();
        let ran = self.shared.exec.run(store.lock_now()).await;
        Ok(Box::new(PgGuard::new(
            ran.unwrap_or_else(|_| Err(self.ended()))?,
        )))
    }

    fn is_shared(&self) -> bool {
        true
    }
}

impl TokenStore for PgStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        let store = self.clone();
        let ran = self.shared.exec.block(store.load_now());
        ran.unwrap_or_else(|_| Err(self.ended()))
    }

    fn lock(&self) -> Result<Box<dyn StoreGuard + '_>, StoreError> {
        let store = self.clone();
        let ran = self.shared.exec.block(store.lock_now());
        Ok(Box::new(PgGuard::new(
            ran.unwrap_or_else(|_| Err(self.ended()))?,
        )))
    }

    fn is_shared(&self) -> bool {
        true
    }
}

/// A row as read, before decoding.
pub(crate) struct RawRow {
    pub(crate) format: i16,
    pub(crate) key_id: Option<String>,
    pub(crate) tokens: Zeroizing<Vec<u8>>,
}

impl From<tokio_postgres::Row> for RawRow {
    fn from(row: tokio_postgres::Row) -> Self {
        Self {
            format: row.try_get(0).unwrap_or(-1),
            key_id: row.try_get(1).unwrap_or(None),
            tokens: Zeroizing::new(row.try_get(2).unwrap_or_default()),
        }
    }
}

pub(crate) async fn read_row(
    shared: &Shared,
    client: &Object,
    id: &ConnectionId,
) -> Result<Option<RawRow>, DbFailure> {
    let select = prepare(shared, client, &shared.sql.select).await?;
    let row = shared
        .timed(client.query_opt(&select, &[&id.as_str()]))
        .await?;
    Ok(row.map(RawRow::from))
}

/// A cached prepared statement; a round trip only the first time on a connection.
pub(crate) async fn prepare(
    shared: &Shared,
    client: &Object,
    sql: &str,
) -> Result<tokio_postgres::Statement, DbFailure> {
    let cached = client.statement_cache.size();
    let statement = shared.timed(client.prepare_cached(sql)).await?;
    if client.statement_cache.size() == cached {
        // Already prepared on this connection: no round trip was made.
        undo_round_trip(&shared.counters);
    }
    Ok(statement)
}

fn undo_round_trip(counters: &Counters) {
    counters
        .round_trips
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

/// A token set ready to write: sealed (or not), with the columns operators read.
pub(crate) struct Encoded {
    pub(crate) key_id: Option<String>,
    pub(crate) bytes: Zeroizing<Vec<u8>>,
    pub(crate) expires_at: f64,
    pub(crate) pending_since: Option<f64>,
}

/// A key id read from the database, fit for a message.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(64).collect()
}
