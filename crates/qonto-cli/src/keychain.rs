//! The OS keychain, and the token store kept in it.
//!
//! Backends, through the `keyring` crate: on Linux the kernel's key retention service
//! (keyutils: the user's persistent keyring, which needs no desktop session or daemon and
//! works on a headless machine, but is emptied by a reboot), on macOS the login Keychain, on
//! Windows the Credential Manager. Elsewhere there is none, and secrets need
//! `--insecure-storage`.
//!
//! Entries are named by the service `qonto:<config dir>` (two config directories never share
//! an entry) and the account `<profile>:<item>`, where the item is `tokens` or the name of a
//! profile secret (`client_secret`, `api_key`, `secret_key`, `staging_token`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use qonto_store::{StoreError, StoreGuard, TokenSet, TokenStore, safe_fs};
use zeroize::Zeroizing;

use crate::secret::Secret;

/// The keychain backend compiled in for this platform, by the name `auth status` shows.
pub(crate) const BACKEND: &str = if cfg!(target_os = "linux") {
    "linux-keyutils"
} else if cfg!(target_os = "macos") {
    "macos-keychain"
} else if cfg!(windows) {
    "windows-credential-manager"
} else {
    "none"
};

/// Why the keychain cannot be used; never holds a secret.
#[derive(Debug)]
pub(crate) struct KeychainError(pub(crate) String);

impl std::fmt::Display for KeychainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The entries of one config directory in the OS keychain.
#[derive(Clone, Debug)]
pub(crate) struct Keychain {
    service: String,
}

impl Keychain {
    /// The keychain entries of `config_dir`, when this machine has a working keychain.
    pub(crate) fn open(config_dir: &Path) -> Result<Self, KeychainError> {
        let dir = std::path::absolute(config_dir).unwrap_or_else(|_| config_dir.to_owned());
        let keychain = Self {
            service: format!("qonto:{}", dir.display()),
        };
        // A read of an entry that is not there tells whether the backend answers at all.
        keychain.get("probe:availability")?;
        Ok(keychain)
    }

    /// Reads the entry of `account`; `None` when there is none.
    pub(crate) fn get(&self, account: &str) -> Result<Option<Secret>, KeychainError> {
        match backend::get(&self.service, account) {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(backend::Miss::NoEntry) => Ok(None),
            Err(backend::Miss::Failed(reason)) => Err(KeychainError(reason)),
        }
    }

    /// Creates or replaces the entry of `account`.
    pub(crate) fn set(&self, account: &str, value: &str) -> Result<(), KeychainError> {
        backend::set(&self.service, account, value).map_err(KeychainError)
    }

    /// Deletes the entry of `account`; `false` when there was none.
    pub(crate) fn delete(&self, account: &str) -> Result<bool, KeychainError> {
        match backend::delete(&self.service, account) {
            Ok(()) => Ok(true),
            Err(backend::Miss::NoEntry) => Ok(false),
            Err(backend::Miss::Failed(reason)) => Err(KeychainError(reason)),
        }
    }

    /// Where an entry is, for messages: `linux-keyutils entry qonto:<dir> / <account>`.
    pub(crate) fn describe(&self, account: &str) -> String {
        format!("{BACKEND} entry {} / {account}", self.service)
    }
}

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
mod backend {
    use keyring::{Entry, Error};

    pub(super) enum Miss {
        NoEntry,
        Failed(String),
    }

    fn entry(service: &str, account: &str) -> Result<Entry, Miss> {
        Entry::new(service, account).map_err(failed)
    }

    /// The error's text: `keyring` never puts the secret in it.
    fn failed(error: Error) -> Miss {
        match error {
            Error::NoEntry => Miss::NoEntry,
            other => Miss::Failed(format!("{} keychain: {other}", super::BACKEND)),
        }
    }

    pub(super) fn get(service: &str, account: &str) -> Result<String, Miss> {
        entry(service, account)?.get_password().map_err(failed)
    }

    pub(super) fn set(service: &str, account: &str, value: &str) -> Result<(), String> {
        let flatten = |miss| match miss {
            Miss::NoEntry => format!("{} keychain: no such entry", super::BACKEND),
            Miss::Failed(reason) => reason,
        };
        entry(service, account)
            .map_err(flatten)?
            .set_password(value)
            .map_err(|e| flatten(failed(e)))
    }

    pub(super) fn delete(service: &str, account: &str) -> Result<(), Miss> {
        entry(service, account)?.delete_credential().map_err(failed)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod backend {
    pub(super) enum Miss {
        #[allow(dead_code, reason = "no backend on this platform")]
        NoEntry,
        Failed(String),
    }

    const NONE: &str = "this platform has no OS keychain that qonto supports";

    pub(super) fn get(_: &str, _: &str) -> Result<String, Miss> {
        Err(Miss::Failed(NONE.into()))
    }

    pub(super) fn set(_: &str, _: &str, _: &str) -> Result<(), String> {
        Err(NONE.into())
    }

    pub(super) fn delete(_: &str, _: &str) -> Result<(), Miss> {
        Err(Miss::Failed(NONE.into()))
    }
}

/// How long a refresh waits for another process holding the lock.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A profile's OAuth tokens in the keychain, as the JSON document of
/// [`TokenSet::to_persisted_json`], with the cross-process refresh lock on a file beside the
/// config (`<config dir>/tokens/<profile>.keychain.lock`), so processes sharing the entry
/// refresh once.
#[derive(Debug)]
pub(crate) struct KeychainStore {
    keychain: Keychain,
    account: String,
    lock_path: PathBuf,
}

impl KeychainStore {
    /// The store of `profile`'s tokens.
    pub(crate) fn new(keychain: Keychain, config_dir: &Path, profile: &str) -> Self {
        Self {
            keychain,
            account: tokens_account(profile),
            lock_path: config_dir
                .join("tokens")
                .join(format!("{profile}.keychain.lock")),
        }
    }

    fn io(&self, action: &'static str, error: &KeychainError) -> StoreError {
        StoreError::Io {
            action,
            path: self.keychain.describe(&self.account),
            source: std::io::Error::other(error.0.clone()),
        }
    }

    fn read(&self) -> Result<Option<TokenSet>, StoreError> {
        let Some(json) = self
            .keychain
            .get(&self.account)
            .map_err(|e| self.io("read", &e))?
        else {
            return Ok(None);
        };
        TokenSet::from_persisted_json(json.expose().as_bytes())
            .map(Some)
            .map_err(|source| StoreError::Corrupt {
                path: self.keychain.describe(&self.account),
                source,
            })
    }
}

/// The keychain account of a profile's tokens.
pub(crate) fn tokens_account(profile: &str) -> String {
    format!("{profile}:tokens")
}

/// The keychain account of a profile secret.
pub(crate) fn secret_account(profile: &str, name: &str) -> String {
    format!("{profile}:{name}")
}

impl TokenStore for KeychainStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        self.read()
    }

    fn lock(&self) -> Result<Box<dyn StoreGuard + '_>, StoreError> {
        let io = |action, source| StoreError::Io {
            action,
            path: self.lock_path.display().to_string(),
            source,
        };
        if let Some(dir) = self.lock_path.parent() {
            safe_fs::create_private_dir(dir).map_err(|e| io("create directory", e))?;
        }
        match safe_fs::lock_exclusive(&self.lock_path, LOCK_TIMEOUT) {
            Ok(file) => Ok(Box::new(KeychainGuard {
                store: self,
                _lock: file,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(StoreError::LockTimeout {
                path: self.lock_path.display().to_string(),
            }),
            Err(e) => Err(io("lock", e)),
        }
    }

    fn is_shared(&self) -> bool {
        true
    }
}

/// Holds the lock file open (and locked) until dropped.
struct KeychainGuard<'a> {
    store: &'a KeychainStore,
    _lock: std::fs::File,
}

impl StoreGuard for KeychainGuard<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.store.read()
    }

    fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        let json = Zeroizing::new(tokens.to_persisted_json());
        let text = std::str::from_utf8(&json).map_err(|e| StoreError::Io {
            action: "write",
            path: self.store.keychain.describe(&self.store.account),
            source: std::io::Error::other(e.to_string()),
        })?;
        self.store
            .keychain
            .set(&self.store.account, text)
            .map_err(|e| self.store.io("write", &e))
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        self.store
            .keychain
            .delete(&self.store.account)
            .map(|_| ())
            .map_err(|e| self.store.io("remove", &e))
    }
}
