//! `parse_token_response` never panics, and the tokens it returns are usable and storable.
#![no_main]

mod common;

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use qonto_auth_core::oauth::{TokenResponseError, parse_token_response};
use qonto_auth_core::{Timestamp, TokenSet};

/// `expires_in` is clamped to ten years.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

fuzz_target!(|data: &[u8]| {
    let Some((sent, data)) = data.split_first_chunk::<8>() else {
        return;
    };
    let Some(response) = common::response(data) else {
        return;
    };
    let sent_at = Timestamp::from_unix_millis(u64::from_le_bytes(*sent));
    let status = response.status;
    match parse_token_response(sent_at, status, &response.headers, response.body) {
        Ok(set) => {
            assert!(status.is_success(), "tokens from a {status}");
            assert!(!set.access_token.expose_secret().is_empty());
            // Anchored at send time, strictly later (unless saturated), at most ten years.
            assert!(set.expires_at >= sent_at);
            assert!(set.expires_at > sent_at || sent_at.unix_millis() == u64::MAX);
            assert!(set.expires_at.saturating_since(sent_at) <= MAX_LIFETIME);
            assert_eq!(set.refresh_issued_at.is_some(), set.refresh_token.is_some());
            if set.refresh_token.is_some() {
                assert_eq!(set.refresh_issued_at, Some(sent_at));
            }
            round_trips(&set);
        }
        Err(error) => {
            let _ = (
                error.to_string(),
                format!("{error:?}"),
                error.is_transient(),
            );
            if let TokenResponseError::Malformed { .. } = error {
                assert!(status.is_success(), "Malformed for a {status}");
            }
        }
    }
});

/// Tokens accepted from the server can be persisted and read back unchanged.
fn round_trips(set: &TokenSet) {
    let back = TokenSet::from_persisted_json(&set.to_persisted_json())
        .expect("a parsed token set must survive the persisted form");
    assert!(back.same_tokens(set));
    assert_eq!(back.expires_at, set.expires_at);
    assert_eq!(back.refresh_issued_at, set.refresh_issued_at);
    assert_eq!(back.scope, set.scope);
}
