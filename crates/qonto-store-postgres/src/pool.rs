//! [`PgTokens`]: the pool shared by the stores of every connection id.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::error::DbFailure;
use crate::exec::Exec;
use crate::schema::{Sql, TableName, lock_key};
use crate::{ConnectionId, Keyring, PgConfig, PgError, PgStore};

/// One pool of PostgreSQL connections and the settings of the token table, shared by the
/// stores of every connection id in this process. Cheap to clone.
///
/// Holds a small runtime of its own (one worker thread) on which every statement runs, so
/// the same pool serves async clients (`qonto-reqwest`) and blocking ones (`qonto-ureq`),
/// from any thread or runtime. Nothing touches the database until a store is used.
#[derive(Clone)]
pub struct PgTokens(pub(crate) Arc<Shared>);

pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) sql: Sql,
    pub(crate) table: TableName,
    pub(crate) lock_timeout: Duration,
    pub(crate) statement_timeout: Duration,
    pub(crate) keys: Option<Keyring>,
    pub(crate) location: String,
    pub(crate) counters: Counters,
    // Last: dropped after the pool, so connections close on a live runtime.
    pub(crate) exec: Exec,
}

impl PgTokens {
    /// A pool for `config`. Connections are opened on first use.
    ///
    /// # Errors
    ///
    /// [`PgError::Config`] when the pool or its runtime cannot be set up.
    pub fn new(config: PgConfig) -> Result<Self, PgError> {
        let exec = Exec::new()
            .map_err(|e| PgError::Config(format!("cannot start the store's runtime: {e}")))?;
        let location = config.location();
        let manager = Manager::from_config(
            config.pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.statement_timeout))
            .create_timeout(Some(config.statement_timeout))
            .recycle_timeout(Some(config.statement_timeout))
            .build()
            .map_err(|e| PgError::Config(format!("cannot build the connection pool: {e}")))?;
        Ok(Self(Arc::new(Shared {
            pool,
            sql: Sql::new(&config.table),
            table: config.table,
            lock_timeout: config.lock_timeout,
            statement_timeout: config.statement_timeout,
            keys: config.keys,
            location,
            counters: Counters::default(),
            exec,
        })))
    }

    /// Creates the table if it does not exist (idempotent; concurrent calls from several
    /// replicas are serialised by a transaction-level advisory lock). Run it at deployment
    /// or start-up; stores never create tables on their own.
    ///
    /// # Errors
    ///
    /// [`PgError::Database`] when the database cannot be reached or refuses the DDL.
    pub async fn migrate(&self) -> Result<(), PgError> {
        let shared = Arc::clone(&self.0);
        let ran = self.0.exec.run(async move { shared.migrate().await }).await;
        ran.unwrap_or_else(|_| Err(self.0.ended("migrate")))
    }

    /// [`migrate`](Self::migrate) for blocking code.
    ///
    /// # Errors
    ///
    /// As [`migrate`](Self::migrate).
    pub fn migrate_blocking(&self) -> Result<(), PgError> {
        let shared = Arc::clone(&self.0);
        let ran = self.0.exec.block(async move { shared.migrate().await });
        ran.unwrap_or_else(|_| Err(self.0.ended("migrate")))
    }

    /// The store of one connection id. Cheap: stores share this pool.
    pub fn store(&self, id: ConnectionId) -> PgStore {
        PgStore::new(Arc::clone(&self.0), id)
    }

    /// The connection ids that have a row, in order (for administration and `qonto auth
    /// status`-like listings).
    ///
    /// # Errors
    ///
    /// [`PgError::Database`], or [`PgError::ConnectionId`] for a row whose id this crate
    /// would refuse (written by something else).
    pub async fn connection_ids(&self) -> Result<Vec<ConnectionId>, PgError> {
        let shared = Arc::clone(&self.0);
        let ran = self.0.exec.run(async move { shared.list().await }).await;
        ran.unwrap_or_else(|_| Err(self.0.ended("list")))
    }

    /// [`connection_ids`](Self::connection_ids) for blocking code.
    ///
    /// # Errors
    ///
    /// As [`connection_ids`](Self::connection_ids).
    pub fn connection_ids_blocking(&self) -> Result<Vec<ConnectionId>, PgError> {
        let shared = Arc::clone(&self.0);
        let ran = self.0.exec.block(async move { shared.list().await });
        ran.unwrap_or_else(|_| Err(self.0.ended("list")))
    }

    /// Seals every row that is in clear or sealed with an older key under the keyring's
    /// current key, each under its connection id's refresh lock; returns how many rows it
    /// rewrote. Run it after adding a keyring or rotating keys; once it returns, the older
    /// keys can be dropped from the keyring. Without a keyring it does nothing.
    ///
    /// # Errors
    ///
    /// [`PgError::Database`], or [`PgError::Store`] for a row that cannot be opened (a
    /// missing or wrong key, a corrupt row): that row is left untouched and the rows after it
    /// are not visited.
    pub async fn reseal(&self) -> Result<u64, PgError> {
        let tokens = self.clone();
        let ran = self
            .0
            .exec
            .run(async move { tokens.reseal_all().await })
            .await;
        ran.unwrap_or_else(|_| Err(self.0.ended("reseal")))
    }

    /// [`reseal`](Self::reseal) for blocking code.
    ///
    /// # Errors
    ///
    /// As [`reseal`](Self::reseal).
    pub fn reseal_blocking(&self) -> Result<u64, PgError> {
        let tokens = self.clone();
        let ran = self.0.exec.block(async move { tokens.reseal_all().await });
        ran.unwrap_or_else(|_| Err(self.0.ended("reseal")))
    }

    /// Re-seals row after row, on the store's runtime.
    async fn reseal_all(&self) -> Result<u64, PgError> {
        let mut resealed = 0;
        for id in self.0.list().await? {
            if self.store(id).reseal_now().await? {
                resealed += 1;
            }
        }
        Ok(resealed)
    }

    /// Counters of what the stores of this pool did, for monitoring and benchmarks.
    pub fn stats(&self) -> PgStats {
        self.0.counters.snapshot()
    }

    /// The table's location (hosts, database, table; no password).
    pub fn location(&self) -> &str {
        &self.0.location
    }
}

impl fmt::Debug for PgTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTokens")
            .field("location", &self.0.location)
            .field("sealed", &self.0.keys.is_some())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// A pooled connection, within the statement timeout.
    pub(crate) async fn connection(&self) -> Result<Object, DbFailure> {
        match tokio::time::timeout(self.statement_timeout, self.pool.get()).await {
            Ok(Ok(object)) => Ok(object),
            Ok(Err(e)) => Err(DbFailure::from_pool(&e)),
            Err(_) => Err(DbFailure::timed_out(self.statement_timeout)),
        }
    }

    /// Runs one statement future within the statement timeout, counting its round trip.
    pub(crate) async fn timed<T>(
        &self,
        statement: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, DbFailure> {
        self.counters.round_trips.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(self.statement_timeout, statement).await {
            Ok(result) => result.map_err(|e| DbFailure::from_pg(&e)),
            Err(_) => Err(DbFailure::timed_out(self.statement_timeout)),
        }
    }

    async fn migrate(&self) -> Result<(), PgError> {
        let fail = |e: DbFailure| e.into_pg("migrate", &self.location);
        let client = self.connection().await.map_err(fail)?;
        self.timed(client.batch_execute(&self.sql.migrate))
            .await
            .map_err(fail)
    }

    async fn list(&self) -> Result<Vec<ConnectionId>, PgError> {
        let fail = |e: DbFailure| e.into_pg("list", &self.location);
        let client = self.connection().await.map_err(fail)?;
        let rows = self
            .timed(client.query(&self.sql.list, &[]))
            .await
            .map_err(fail)?;
        rows.iter()
            .map(|row| Ok(ConnectionId::new(row.try_get::<_, &str>(0).unwrap_or(""))?))
            .collect()
    }

    pub(crate) fn ended(&self, action: &'static str) -> PgError {
        PgError::Database {
            action,
            location: self.location.clone(),
            reason: "the store's runtime stopped".into(),
        }
    }

    pub(crate) fn lock_key(&self, id: &ConnectionId) -> i64 {
        lock_key(self.table.as_str(), id.as_str())
    }
}

/// What the stores of one [`PgTokens`] did since it was created.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct PgStats {
    /// Database round trips: statements (or pipelined statement groups) waited for.
    pub round_trips: u64,
    /// Refresh locks taken.
    pub locks: u64,
    /// Refresh locks that timed out.
    pub lock_timeouts: u64,
    /// Token sets read (with or without the lock).
    pub loads: u64,
    /// Token sets written.
    pub saves: u64,
    /// Connections closed instead of going back to the pool (a failed release, a failed
    /// operation under the lock, an interrupted one): PostgreSQL released their locks.
    pub discarded_connections: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) round_trips: AtomicU64,
    pub(crate) locks: AtomicU64,
    pub(crate) lock_timeouts: AtomicU64,
    pub(crate) loads: AtomicU64,
    pub(crate) saves: AtomicU64,
    pub(crate) discarded: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> PgStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        PgStats {
            round_trips: get(&self.round_trips),
            locks: get(&self.locks),
            lock_timeouts: get(&self.lock_timeouts),
            loads: get(&self.loads),
            saves: get(&self.saves),
            discarded_connections: get(&self.discarded),
        }
    }

    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
