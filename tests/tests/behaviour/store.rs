//! Shared token files: one refresh for every process, tokens rotated elsewhere adopted, and a
//! refresh whose tokens cannot be saved.

use std::fs;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use qonto_auth_core::secret::AccessToken;
use qonto_e2e::driver::Kind;
use qonto_e2e::issued_tokens;
use qonto_store::{FileStore, TokenStore};

use crate::support::{
    REFRESH_DUE, STALE, TempDir, file_store, mock, oauth_on, refreshes, save, stored, wait_for,
};

scenarios!(
    a_shared_file_store_is_refreshed_once_and_persisted_before_use,
    tokens_rotated_by_another_process_are_adopted_on_401_and_retried_once,
    a_refresh_whose_tokens_cannot_be_saved_is_an_error_for_the_caller_and_keeps_the_last_good_state,
);

fn a_shared_file_store_is_refreshed_once_and_persisted_before_use(kind: Kind) {
    let (mock, dir) = (mock(), TempDir::new());
    let file = file_store(&dir.path().join("tokens.json"), &issued_tokens(&mock));
    let before = stored(&*file);
    // Two clients (as two processes would) share the file.
    let a = oauth_on(kind, &mock, file.clone());
    let b = oauth_on(kind, &mock, file.clone());
    mock.clock().advance(STALE);
    thread::scope(|s| {
        s.spawn(|| a.stampede(100));
        b.stampede(100);
    });
    assert_eq!(refreshes(&mock), 1);
    let after = stored(&*file);
    assert!(
        !after.same_tokens(&before),
        "rotated tokens are in the file"
    );
    assert_eq!(
        a.oauth_status().unwrap().access_expires_at,
        Some(after.expires_at)
    );
    assert_eq!(
        b.oauth_status().unwrap().access_expires_at,
        Some(after.expires_at)
    );
}

fn tokens_rotated_by_another_process_are_adopted_on_401_and_retried_once(kind: Kind) {
    let (mock, dir) = (mock(), TempDir::new());
    // This process starts with an access token the server no longer accepts...
    let mut stale = issued_tokens(&mock);
    stale.access_token = AccessToken::new("ory_at_rotated_away");
    let file = file_store(&dir.path().join("tokens.json"), &stale);
    let client = oauth_on(kind, &mock, file.clone());
    // ...while another process has meanwhile written newer tokens to the shared file.
    save(&*file, &issued_tokens(&mock));
    client.organization().unwrap();
    assert_eq!(refreshes(&mock), 0, "adopted from the store, not refreshed");
    assert_eq!(mock.stats().requests("/v2/organization", 401), 1);
    assert_eq!(mock.stats().requests("/v2/organization", 200), 1);
}

fn a_refresh_whose_tokens_cannot_be_saved_is_an_error_for_the_caller_and_keeps_the_last_good_state(
    kind: Kind,
) {
    let (mock, dir) = (mock(), TempDir::new());
    let (folder, moved) = (dir.path().join("tokens"), dir.path().join("tokens.moved"));
    let path = folder.join("p.json");
    let file = file_store(&path, &issued_tokens(&mock));
    let before = stored(&*file);
    let client = oauth_on(kind, &mock, file);
    mock.clock().advance(REFRESH_DUE);
    mock.faults().token_delay(Duration::from_secs(2));
    let caller = thread::spawn(move || client.organization());
    // The mark goes to the file before the token request is sent; while the answer is
    // delayed, the store's folder is moved away and a plain file takes its place (as root,
    // permission bits would not stop the save).
    wait_for("the refresh-pending mark", || {
        fs::read_to_string(&path).is_ok_and(|text| text.contains("refresh_pending_since_ms"))
    });
    fs::rename(&folder, &moved).unwrap();
    fs::write(&folder, "not a folder").unwrap();

    let err = caller.join().unwrap().unwrap_err();
    assert_eq!(err.code(), "tokens_not_saved", "{err}");
    assert!(
        err.to_string().contains(&*folder.to_string_lossy()),
        "{err}"
    );
    assert_eq!(refreshes(&mock), 1);
    // The last good state: the previous tokens, marked as being refreshed.
    let kept = stored(&FileStore::new(moved.join("p.json")));
    assert!(kept.same_tokens(&before), "the previous tokens are kept");
    assert!(
        kept.refresh_pending_since.is_some(),
        "with the pending mark"
    );

    // Once the store is fixed, a new process retries the marked refresh token inside the
    // grace window, and its tokens are saved.
    fs::remove_file(&folder).unwrap();
    fs::rename(&moved, &folder).unwrap();
    mock.faults().clear();
    let file: Arc<dyn TokenStore> = Arc::new(FileStore::new(&path));
    let next = oauth_on(kind, &mock, file.clone());
    next.organization().unwrap();
    assert_eq!(refreshes(&mock), 2);
    let saved = stored(&*file);
    assert!(!saved.same_tokens(&before), "new tokens are saved");
    assert!(saved.refresh_pending_since.is_none(), "the mark is gone");
    assert!(next.oauth_status().unwrap().last_error.is_none());
}
