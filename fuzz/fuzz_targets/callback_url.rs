//! `parse_callback` never panics, and never returns a code unless the state is exactly ours.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qonto_auth_core::oauth::{CallbackError, CsrfState, parse_callback};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = CsrfState::from_bytes([0x5a; 32]);
    let other = CsrfState::from_bytes([0xa5; 32]);
    // `$S` and `$T` stand for our state and another login's, so the fuzzer reaches the code
    // past the state check without guessing 64 hex digits.
    let callback = text
        .replace("$S", ours.as_str())
        .replace("$T", other.as_str());
    let as_ours = parse_callback(&callback, &ours);
    let as_other = parse_callback(&callback, &other);
    // One callback answers one login at most: a code never comes with a mismatched state.
    assert!(
        !(as_ours.is_ok() && as_other.is_ok()),
        "one callback accepted for two states"
    );
    for (result, wrong) in [(&as_ours, &as_other), (&as_other, &as_ours)] {
        match result {
            Ok(code) => {
                assert!(!code.expose_secret().is_empty(), "empty code accepted");
                assert_eq!(
                    wrong.as_ref().err(),
                    Some(&CallbackError::StateMismatch),
                    "accepted for one state, but not a state mismatch for the other"
                );
            }
            Err(CallbackError::Denied { error, description }) => {
                for text in std::iter::once(error).chain(description) {
                    assert!(text.chars().count() <= 300, "unbounded server text");
                    assert!(
                        !text.chars().any(char::is_control),
                        "control character kept"
                    );
                }
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
});
