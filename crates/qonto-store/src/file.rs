//! A crash-safe token file with a cross-process lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::safe_fs::{create_private_dir, lock_exclusive, read_capped};
use crate::{StoreError, StoreGuard, TokenSet, TokenStore};

/// The largest token file read (a token document is well under 4 KiB).
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// A JSON token file, replaced atomically, with an advisory lock on `<file>.lock`.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    lock_timeout: Duration,
}

impl FileStore {
    /// A store at `path` (created on first save, with its parent directories).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock_name = path.file_name().unwrap_or_default().to_os_string();
        lock_name.push(".lock");
        let lock_path = path.with_file_name(lock_name);
        Self {
            path,
            lock_path,
            lock_timeout: Duration::from_secs(30),
        }
    }

    /// How long [`TokenStore::lock`] waits for another holder (default 30 s). It never
    /// proceeds without the lock.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The token file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.display().to_string();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }

    fn read(&self) -> Result<Option<TokenSet>, StoreError> {
        let bytes = match read_capped(&self.path, MAX_TOKEN_FILE) {
            Ok(Some(bytes)) => Zeroizing::new(bytes),
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.io("read", &self.path)(e)),
        };
        TokenSet::from_persisted_json(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt {
                path: self.path.display().to_string(),
                source,
            })
    }

    fn write(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        let dir = parent_dir(&self.path);
        create_private_dir(dir).map_err(self.io("create directory", dir))?;
        // Writes run under the store's lock: any temporary file of ours is a crash's leftover.
        self.remove_stale_temporaries(dir);
        let temp = temp_path(&self.path);
        // Errors name the token file (the temporary file beside it is a detail).
        let result = (|| {
            let mut file =
                private_file(&temp).map_err(self.io("write (temporary file)", &self.path))?;
            file.write_all(&Zeroizing::new(tokens.to_persisted_json()))
                .map_err(self.io("write", &self.path))?;
            file.sync_all().map_err(self.io("fsync", &self.path))?;
            fs::rename(&temp, &self.path).map_err(self.io("rename", &self.path))?;
            sync_dir(dir).map_err(self.io("fsync directory", dir))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Removes temporary files of this store's naming (`.NAME.tmp.*`), left by a process
    /// killed while writing; they hold tokens, mode 0600.
    fn remove_stale_temporaries(&self, dir: &Path) {
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(self.path.file_name().unwrap_or_default());
        prefix.push(".tmp.");
        let Some(prefix) = prefix.to_str() else {
            return;
        };
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let stale = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(prefix));
            if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    fn remove(&self) -> Result<(), StoreError> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.io("remove", &self.path)(e)),
            _ => sync_dir(parent_dir(&self.path)).map_err(self.io("fsync directory", &self.path)),
        }
    }
}

impl TokenStore for FileStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        self.read()
    }

    fn lock(&self) -> Result<Box<dyn StoreGuard + '_>, StoreError> {
        let dir = parent_dir(&self.lock_path);
        create_private_dir(dir).map_err(self.io("create directory", dir))?;
        match lock_exclusive(&self.lock_path, self.lock_timeout) {
            Ok(file) => Ok(Box::new(FileGuard {
                store: self,
                _lock: file,
            })),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(StoreError::LockTimeout {
                path: self.lock_path.display().to_string(),
            }),
            Err(e) => Err(self.io("lock", &self.lock_path)(e)),
        }
    }

    fn is_shared(&self) -> bool {
        true
    }
}

/// Holds the lock file open (and locked) until dropped; closing the file releases the lock,
/// also when the process dies.
struct FileGuard<'a> {
    store: &'a FileStore,
    _lock: File,
}

impl StoreGuard for FileGuard<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.store.read()
    }

    fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        self.store.write(tokens)
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        self.store.remove()
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".tmp.{}.{n}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(unix)]
fn private_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
