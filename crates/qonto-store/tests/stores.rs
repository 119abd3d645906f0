//! Store behaviour on a real file system.

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::Timestamp;
use qonto_auth_core::secret::{AccessToken, RefreshToken};
use qonto_store::{FileStore, MemoryStore, StoreError, TokenSet, TokenStore};

fn tokens(n: u32) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new(format!("ory_at_{n}")),
        expires_at: Timestamp::from_unix_secs(1_700_000_000 + u64::from(n)),
        refresh_token: Some(RefreshToken::new(format!("ory_rt_{n}"))),
        refresh_issued_at: Some(Timestamp::from_unix_secs(1_700_000_000)),
        scope: None,
        refresh_pending_since: None,
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("qonto-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn file_store_round_trips_and_clears() {
    let dir = temp_dir("roundtrip");
    let store = FileStore::new(dir.join("nested/tokens.json"));
    assert!(store.load().unwrap().is_none());
    store.lock().unwrap().save(&tokens(1)).unwrap();
    let loaded = store.load().unwrap().unwrap();
    assert!(loaded.same_tokens(&tokens(1)));
    let mut guard = store.lock().unwrap();
    guard.clear().unwrap();
    assert!(guard.load().unwrap().is_none());
    drop(guard);
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("nested"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[cfg(unix)]
#[test]
fn file_store_writes_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("mode");
    let store = FileStore::new(dir.join("tokens.json"));
    store.lock().unwrap().save(&tokens(1)).unwrap();
    let mode = std::fs::metadata(store.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn corrupt_files_are_reported_and_left_untouched() {
    let dir = temp_dir("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    std::fs::write(&path, b"{\"format\":1,\"access_tok").unwrap();
    let store = FileStore::new(&path);
    let err = store.load().unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("left untouched"));
    let mut guard = store.lock().unwrap();
    assert!(matches!(guard.load(), Err(StoreError::Corrupt { .. })));
    drop(guard);
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"format\":1,\"access_tok");
}

#[test]
fn the_lock_excludes_other_holders_and_times_out() {
    let dir = temp_dir("lock");
    let path = dir.join("tokens.json");
    let a = FileStore::new(&path);
    let b = FileStore::new(&path).with_lock_timeout(Duration::from_millis(50));
    let guard = a.lock().unwrap();
    assert!(matches!(b.lock(), Err(StoreError::LockTimeout { .. })));
    drop(guard);
    assert!(b.lock().is_ok());
}

#[test]
fn lock_holders_are_serialised_across_threads() {
    let dir = temp_dir("threads");
    let path = dir.join("tokens.json");
    FileStore::new(&path)
        .lock()
        .unwrap()
        .save(&tokens(0))
        .unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Separate handles, as separate processes would have.
                let store = FileStore::new(&path);
                for _ in 0..10 {
                    let mut guard = store.lock().unwrap();
                    let current = guard.load().unwrap().unwrap();
                    let n: u32 = current.access_token.expose_secret()[7..].parse().unwrap();
                    guard.save(&tokens(n + 1)).unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let last = FileStore::new(&path).load().unwrap().unwrap();
    assert_eq!(
        last.access_token.expose_secret(),
        "ory_at_80",
        "no lost update"
    );
}

#[test]
fn memory_store_is_unshared_and_round_trips() {
    let store = Arc::new(MemoryStore::new());
    assert!(!store.is_shared());
    assert!(FileStore::new("x").is_shared());
    store.lock().unwrap().save(&tokens(2)).unwrap();
    assert!(store.load().unwrap().unwrap().same_tokens(&tokens(2)));
    store.lock().unwrap().clear().unwrap();
    assert!(store.load().unwrap().is_none());
}

#[test]
fn errors_do_not_show_tokens() {
    let err = StoreError::Corrupt {
        path: "/tmp/x".into(),
        source: qonto_auth_core::PersistedTokensError::NotJson,
    };
    assert!(!format!("{err} {err:?}").contains("ory_"));
}

#[cfg(unix)]
mod hostile_files {
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::process::Command;

    use super::*;

    #[test]
    fn a_symlink_planted_at_the_lock_file_is_refused_and_changes_nothing() {
        let dir = temp_dir("lock-symlink");
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, b"keep me").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        symlink(&victim, dir.join("tokens.json.lock")).unwrap();
        let store = FileStore::new(dir.join("tokens.json"));
        assert!(matches!(store.lock(), Err(StoreError::Io { .. })));
        let mode = std::fs::metadata(&victim).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "the link's target keeps its mode");
        // A dangling link does not create its target.
        let dir = temp_dir("lock-dangling");
        std::fs::create_dir_all(&dir).unwrap();
        symlink(dir.join("created-elsewhere"), dir.join("tokens.json.lock")).unwrap();
        let store = FileStore::new(dir.join("tokens.json"));
        assert!(store.lock().is_err());
        assert!(!dir.join("created-elsewhere").exists());
    }

    #[test]
    fn a_fifo_a_device_or_a_huge_file_is_refused_without_reading_it() {
        let dir = temp_dir("odd-files");
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo.json");
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let zero = dir.join("zero.json");
        symlink("/dev/zero", &zero).unwrap();
        let huge = dir.join("huge.json");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(512 * 1024 * 1024)
            .unwrap();
        for path in [fifo, zero, huge] {
            let error = FileStore::new(&path).load().unwrap_err();
            assert!(
                error.to_string().contains("regular file") || error.to_string().contains("larger"),
                "{}: {error}",
                path.display()
            );
        }
    }

    #[test]
    fn directories_are_created_private_and_stale_temporaries_removed() {
        let dir = temp_dir("private-dirs");
        let store = FileStore::new(dir.join("a/b/tokens.json"));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        let stale = dir.join("a/b/.tokens.json.tmp.999999.0");
        std::fs::write(&stale, b"{\"access_token\":\"old\"}").unwrap();
        let other = dir.join("a/b/.other.json.tmp.1.0");
        std::fs::write(&other, b"not ours").unwrap();
        store.lock().unwrap().save(&tokens(1)).unwrap();
        assert!(!stale.exists(), "a crash's leftover is removed");
        assert!(other.exists(), "another store's file is left alone");
        let fresh = temp_dir("private-fresh");
        FileStore::new(fresh.join("x/y/tokens.json"))
            .lock()
            .unwrap()
            .save(&tokens(1))
            .unwrap();
        for d in [fresh.join("x"), fresh.join("x/y")] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{}", d.display());
        }
    }
}
