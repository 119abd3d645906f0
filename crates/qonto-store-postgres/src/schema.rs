//! The one table, its SQL, and the advisory-lock keys.

use sha2::{Digest, Sha256};

/// The table's DDL for the default name, exactly as `migrate` runs it (and as
/// docs/deployment.md shows it).
pub const SCHEMA_SQL: &str = include_str!("schema.sql");

/// The default table name.
pub const DEFAULT_TABLE: &str = "qonto_tokens";

/// What a row's `format` column says: the core's token document (format 1), sealed when the
/// row has a `key_id`.
pub(crate) const ROW_FORMAT: i16 = 1;

/// A checked table name, optionally schema-qualified: `[a-z_][a-z0-9_]*`, at most 63 bytes
/// per part, so it can be put into SQL text as is.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct TableName(String);

impl TableName {
    pub(crate) fn new(name: &str) -> Option<Self> {
        let part_ok = |p: &str| {
            (1..=63).contains(&p.len())
                && p.bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        let parts: Vec<&str> = name.split('.').collect();
        (parts.len() <= 2 && parts.iter().all(|p| part_ok(p))).then(|| Self(name.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Every statement the store sends, built once for its table.
#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) migrate: String,
    pub(crate) select: String,
    pub(crate) upsert: String,
    pub(crate) delete: String,
    pub(crate) list: String,
}

impl Sql {
    pub(crate) fn new(table: &TableName) -> Self {
        let t = table.as_str();
        Self {
            migrate: format!(
                "BEGIN;\nSELECT pg_advisory_xact_lock({});\n{}COMMIT;",
                migrate_key(t),
                schema_sql(t)
            ),
            select: format!("SELECT format, key_id, tokens FROM {t} WHERE connection_id = $1"),
            upsert: format!(
                "INSERT INTO {t} AS stored (connection_id, format, key_id, tokens, expires_at, \
                 refresh_pending_since) \
                 VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($6)) \
                 ON CONFLICT (connection_id) DO UPDATE SET format = EXCLUDED.format, \
                 key_id = EXCLUDED.key_id, tokens = EXCLUDED.tokens, \
                 expires_at = EXCLUDED.expires_at, \
                 refresh_pending_since = EXCLUDED.refresh_pending_since, \
                 updated_at = now(), version = stored.version + 1"
            ),
            delete: format!("DELETE FROM {t} WHERE connection_id = $1"),
            list: format!("SELECT connection_id FROM {t} ORDER BY connection_id"),
        }
    }
}

/// The DDL for `table`.
pub fn schema_sql(table: &str) -> String {
    SCHEMA_SQL.replace(DEFAULT_TABLE, table)
}

/// The advisory lock key of one connection id's refresh lock: the first 8 bytes of
/// SHA-256("qonto-store-postgres/lock\0" + table + "\0" + connection id), big-endian. In
/// `pg_locks` it shows as `classid` (high 32 bits) and `objid` (low 32 bits).
pub fn lock_key(table: &str, connection_id: &str) -> i64 {
    key_of(&["qonto-store-postgres/lock", table, connection_id])
}

/// The transaction-level advisory lock that serialises concurrent migrations.
fn migrate_key(table: &str) -> i64 {
    key_of(&["qonto-store-postgres/migrate", table])
}

fn key_of(parts: &[&str]) -> i64 {
    let mut hash = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash.update([0]);
        }
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        for ok in ["qonto_tokens", "auth.qonto_tokens", "_t1"] {
            assert!(TableName::new(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "Tokens",
            "a;drop",
            "a.b.c",
            "1t",
            "a b",
            "t\"",
            &"x".repeat(64),
        ] {
            assert!(TableName::new(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn lock_keys_differ_per_connection_and_table() {
        let a = lock_key("qonto_tokens", "org-1");
        assert_eq!(a, lock_key("qonto_tokens", "org-1"));
        assert_ne!(a, lock_key("qonto_tokens", "org-2"));
        assert_ne!(a, lock_key("other", "org-1"));
        assert_ne!(a, migrate_key("qonto_tokens"));
    }

    #[test]
    fn the_docs_show_the_sql_the_crate_runs() {
        let docs = include_str!("../../../docs/deployment.md");
        assert!(
            docs.contains(SCHEMA_SQL.trim_end()),
            "docs/deployment.md must show src/schema.sql verbatim"
        );
    }
}
