//! `--token-store postgres://…` with `--connection ID`: one organization's consent in the table
//! of `qonto-store-postgres`, the store an application's replicas share, for an operator's
//! `auth status`, `auth refresh`, `auth logout` and `request`.

use std::sync::Arc;

use qonto_auth_core::Code;
use qonto_store::TokenStore;

use crate::failure::Failure;

#[cfg(feature = "postgres")]
pub(crate) use with_postgres::{describe, open};
#[cfg(not(feature = "postgres"))]
pub(crate) use without_postgres::{describe, open};

/// The variable holding the encryption keys of sealed rows: `ID=BASE64[,ID=BASE64…]`, the
/// first one current (it seals what the CLI saves), the others older keys.
pub(crate) const KEYS_VARIABLE: &str = "QONTO_TOKEN_STORE_KEYS";

#[cfg(feature = "postgres")]
mod with_postgres {
    use qonto_store_postgres::{ConnectionId, Keyring, PgConfig, PgTokens, SealingKey};

    use super::{Arc, Code, Failure, KEYS_VARIABLE, TokenStore};

    /// Whether `--token-store` names a PostgreSQL database.
    fn is_postgres(url: &str) -> bool {
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    /// The store of `connection` in the PostgreSQL database at `url`.
    pub(crate) fn open(
        url: &str,
        connection: Option<&str>,
        keys: Option<&str>,
    ) -> Result<(Arc<dyn TokenStore>, String), Failure> {
        if !is_postgres(url) {
            return Err(Failure::configuration(
                Code::TokenStoreConfigInvalid,
                "--token-store takes a PostgreSQL URL (postgres://user@host:port/database)",
                "give a postgres:// URL, or leave --token-store out to use this profile's own store",
            ));
        }
        let connection = connection.ok_or_else(|| {
            Failure::configuration(
                Code::ConnectionIdInvalid,
                "a PostgreSQL token store holds many consents: say whose with --connection",
                "add --connection ID (or QONTO_CONNECTION_ID), the id your application stores \
                 the organization's consent under",
            )
        })?;
        let id = ConnectionId::new(connection).map_err(|e| {
            Failure::configuration(
                Code::ConnectionIdInvalid,
                e.to_string(),
                "check --connection",
            )
        })?;
        let invalid = |e: qonto_store_postgres::PgError| {
            Failure::configuration(e.code(), e.to_string(), "check --token-store")
        };
        let mut config = PgConfig::from_url(url).map_err(invalid)?;
        if let Some(keys) = keys {
            config = config.with_keyring(keyring(keys)?);
        }
        let tokens = PgTokens::new(config).map_err(invalid)?;
        let location = format!("{}, connection id {:?}", tokens.location(), id.as_str());
        Ok((Arc::new(tokens.store(id)), location))
    }

    /// Where the tokens of `--token-store` and `--connection` are, in words (no password), for
    /// `auth status`; `None` when the URL cannot be parsed (using the store then says why).
    pub(crate) fn describe(url: &str, connection: Option<&str>) -> Option<String> {
        let location = PgConfig::from_url(url).ok()?.location();
        Some(format!(
            "{location}, connection id {:?}",
            connection.unwrap_or("")
        ))
    }

    /// Parses `ID=BASE64[,ID=BASE64…]`; never repeats a key.
    fn keyring(text: &str) -> Result<Keyring, Failure> {
        let invalid = |why: String| {
            Failure::configuration(
                Code::TokenStoreConfigInvalid,
                format!("{KEYS_VARIABLE}: {why}"),
                format!(
                    "set {KEYS_VARIABLE} to ID=BASE64 of 32 bytes, several separated by commas, the current key first"
                ),
            )
        };
        let mut keys = text
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|entry| {
                let (id, key) = entry
                    .split_once('=')
                    .ok_or_else(|| invalid("an entry is not ID=BASE64".into()))?;
                SealingKey::from_base64(id.trim(), key).map_err(|e| invalid(e.to_string()))
            });
        let current = keys.next().ok_or_else(|| invalid("no key".into()))??;
        keys.try_fold(Keyring::new(current), |ring, key| {
            ring.with_older(key?).map_err(|e| invalid(e.to_string()))
        })
    }
}

/// A build without the `postgres` feature: `--token-store` says so.
#[cfg(not(feature = "postgres"))]
mod without_postgres {
    use super::{Arc, Code, Failure, TokenStore};

    pub(crate) fn open(
        _url: &str,
        _connection: Option<&str>,
        _keys: Option<&str>,
    ) -> Result<(Arc<dyn TokenStore>, String), Failure> {
        Err(Failure::configuration(
            Code::TokenStoreConfigInvalid,
            "this build of qonto has no PostgreSQL token store (the `postgres` feature is off)",
            "install a build with the default features (`cargo install --path crates/qonto-cli`)",
        ))
    }

    pub(crate) fn describe(_url: &str, _connection: Option<&str>) -> Option<String> {
        None
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_before_any_connection() {
        let code = |r: Result<(Arc<dyn TokenStore>, String), Failure>| r.err().map(|f| f.0.code);
        let url = "postgres://app:pw-sentinel@127.0.0.1:1/app";
        assert_eq!(
            code(open("file.json", Some("o"), None)),
            Some(Code::TokenStoreConfigInvalid)
        );
        assert_eq!(code(open(url, None, None)), Some(Code::ConnectionIdInvalid));
        assert_eq!(
            code(open(url, Some(" o"), None)),
            Some(Code::ConnectionIdInvalid)
        );
        let key = "k1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert!(open(url, Some("org-1"), Some(key)).is_ok());
        assert!(
            open(
                url,
                Some("org-1"),
                Some(&format!(
                    "{key}, k0=AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
                ))
            )
            .is_ok()
        );
        for bad in ["", "k1", "k1=short", &format!("{key},{key}")] {
            let failure = open(url, Some("org-1"), Some(bad)).err().unwrap();
            assert_eq!(failure.0.code, Code::TokenStoreConfigInvalid, "{bad}");
            assert!(!failure.0.message.contains("AAAA"));
        }
        let (_, location) = open(url, Some("org-1"), None).ok().unwrap();
        assert!(!location.contains("pw-sentinel"));
    }
}
