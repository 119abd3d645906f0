//! `TokenSet::from_persisted_json` never panics, and what it reads writes back identically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qonto_auth_core::TokenSet;

fuzz_target!(|data: &[u8]| {
    match TokenSet::from_persisted_json(data) {
        Ok(set) => {
            assert!(!set.access_token.expose_secret().is_empty());
            if set.refresh_token.is_none() {
                assert!(set.refresh_issued_at.is_none());
            }
            let back = TokenSet::from_persisted_json(&set.to_persisted_json())
                .expect("a document we read must survive being written back");
            assert!(back.same_tokens(&set));
            assert_eq!(back.expires_at, set.expires_at);
            assert_eq!(back.refresh_issued_at, set.refresh_issued_at);
            assert_eq!(back.scope, set.scope);
        }
        Err(error) => {
            // The error never carries the document: it is `Copy` with static text only.
            let _ = error.to_string();
        }
    }
});
