//! Settings of a [`PgTokens`](crate::PgTokens) pool.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;

use crate::schema::{DEFAULT_TABLE, TableName};
use crate::{Keyring, PgError};

/// How to reach PostgreSQL and how the store behaves: pool size, lock timeout, table,
/// encryption keys. `Debug` never shows the password or the keys.
#[derive(Clone)]
pub struct PgConfig {
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) table: TableName,
    pub(crate) pool_size: usize,
    pub(crate) lock_timeout: Duration,
    pub(crate) statement_timeout: Duration,
    pub(crate) keys: Option<Keyring>,
}

impl PgConfig {
    /// Settings from a URL (`postgres://user:password@host:port/database?…`) or a libpq
    /// `key=value` string, with the defaults: table `qonto_tokens`, a pool of 16 connections,
    /// a 30 s lock timeout, a 10 s timeout on every other statement, a 5 s connect timeout
    /// unless the URL sets one, no encryption.
    ///
    /// The connection is plain TCP or a Unix socket (`NoTls`): on loopback or a socket that is
    /// what PostgreSQL itself recommends; see docs/deployment.md for TLS.
    ///
    /// # Errors
    ///
    /// [`PgError::Config`] when the text cannot be parsed (the text is not repeated: it may
    /// hold a password).
    pub fn from_url(url: &str) -> Result<Self, PgError> {
        let pg = tokio_postgres::Config::from_str(url).map_err(|_| {
            PgError::Config(
                "the database URL cannot be parsed (expected postgres://user@host:port/database \
                 or host=… user=… dbname=…)"
                    .to_owned(),
            )
        })?;
        Self::new(pg)
    }

    /// Settings from a [`tokio_postgres::Config`] built by the application.
    ///
    /// # Errors
    ///
    /// [`PgError::Config`] when it names no host (neither TCP nor socket).
    pub fn new(mut pg: tokio_postgres::Config) -> Result<Self, PgError> {
        if pg.get_hosts().is_empty() {
            return Err(PgError::Config(
                "the database URL names no host (e.g. postgres://user@127.0.0.1:5432/db)".into(),
            ));
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(5));
        }
        if pg.get_application_name().is_none() {
            pg.application_name("qonto-store-postgres");
        }
        Ok(Self {
            pg,
            table: TableName::new(DEFAULT_TABLE).ok_or_else(|| PgError::Config("table".into()))?,
            pool_size: 16,
            lock_timeout: Duration::from_secs(30),
            statement_timeout: Duration::from_secs(10),
            keys: None,
        })
    }

    /// Uses another table (`name` or `schema.name`, lowercase letters, digits and `_`).
    ///
    /// # Errors
    ///
    /// [`PgError::Config`] for any other name.
    pub fn with_table(mut self, name: &str) -> Result<Self, PgError> {
        self.table = TableName::new(name).ok_or_else(|| {
            PgError::Config(
                "a table name is `name` or `schema.name`, each part 1 to 63 lowercase ASCII \
                 letters, digits or '_', not starting with a digit"
                    .into(),
            )
        })?;
        Ok(self)
    }

    /// The most connections the pool opens (default 16). A refresh holds one from taking the
    /// lock to saving the new tokens; calls on fresh tokens use none.
    ///
    /// # Errors
    ///
    /// [`PgError::Config`] for zero.
    pub fn with_pool_size(mut self, size: usize) -> Result<Self, PgError> {
        if size == 0 {
            return Err(PgError::Config("the pool size must be at least 1".into()));
        }
        self.pool_size = size;
        Ok(self)
    }

    /// How long taking a connection id's refresh lock may wait for another holder (default
    /// 30 s); past it the lock fails with `StoreError::LockTimeout`. It never proceeds
    /// without the lock.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long any other statement, and taking a pooled connection, may take (default 10 s).
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Seals every save with the keyring's current key, and opens rows sealed with any of its
    /// keys. Without a keyring, rows are stored in clear and sealed rows cannot be read.
    pub fn with_keyring(mut self, keys: Keyring) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The table the store uses.
    pub fn table(&self) -> &str {
        self.table.as_str()
    }

    /// Where the tokens are, for messages: hosts, database, table; no password.
    pub fn location(&self) -> String {
        let hosts: Vec<String> = self
            .pg
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let port = self
                    .pg
                    .get_ports()
                    .get(i)
                    .or_else(|| self.pg.get_ports().first())
                    .copied()
                    .unwrap_or(5432);
                match host {
                    Host::Tcp(name) => format!("{name}:{port}"),
                    Host::Unix(path) => format!("{}:{port}", path.display()),
                }
            })
            .collect();
        format!(
            "postgres://{}@{}/{} table {}",
            self.pg.get_user().unwrap_or("?"),
            hosts.join(","),
            self.pg.get_dbname().unwrap_or("?"),
            self.table.as_str()
        )
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("location", &self.location())
            .field("pool_size", &self.pool_size)
            .field("lock_timeout", &self.lock_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field(
                "sealing_key",
                &self.keys.as_ref().map(|k| k.current().id().to_owned()),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed_and_never_shown_with_their_password() {
        let config = PgConfig::from_url("postgres://app:hunter2-secret@db.internal:6432/tokens")
            .unwrap()
            .with_table("auth.tokens")
            .unwrap();
        let shown = format!("{config:?} {}", config.location());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            config.location(),
            "postgres://app@db.internal:6432/tokens table auth.tokens"
        );
        let socket = PgConfig::from_url("host=/run/postgresql user=app dbname=t").unwrap();
        assert_eq!(
            socket.location(),
            "postgres://app@/run/postgresql:5432/t table qonto_tokens"
        );
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        let bad = PgConfig::from_url("postgres://app:hunter2@[bad").unwrap_err();
        assert!(!bad.to_string().contains("hunter2"));
        assert!(matches!(bad, PgError::Config(_)));
        let base = PgConfig::from_url("postgres://a@h/d").unwrap();
        assert!(base.clone().with_table("x; DROP TABLE y").is_err());
        assert!(base.with_pool_size(0).is_err());
    }
}
