//! `classify` never panics on any status, headers and body, and its answer is consistent.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use qonto_auth_core::classify;
use qonto_auth_core::classify::ErrorKind;

fuzz_target!(|data: &[u8]| {
    let Some(response) = common::response(data) else {
        return;
    };
    let status = response.status;
    match classify(status, &response.headers, response.body).into_result() {
        Ok(()) => assert!(status.is_success(), "{status} classified a success"),
        Err(error) => {
            assert_eq!(error.status, status);
            assert!(!error.code().is_empty());
            // The display and the fix never panic.
            let _ = (error.to_string(), error.kind.fix(None));
            // Only 4xx/5xx bodies are parsed: a 2xx body may hold secrets.
            if !(status.is_client_error() || status.is_server_error()) {
                assert!(error.details.is_empty(), "a {status} body was kept");
            }
            assert!(error.details.len() <= 20, "unbounded details");
            if let Some(id) = &error.trace_id {
                assert!(
                    !id.is_empty() && id.len() <= 128,
                    "trace id length {}",
                    id.len()
                );
                assert!(
                    id.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                    "unclean trace id {id:?}"
                );
            }
            for detail in &error.details {
                for text in [&detail.code, &detail.detail, &detail.source]
                    .into_iter()
                    .flatten()
                {
                    assert!(text.chars().count() <= 500, "detail too long");
                    assert!(
                        !text.chars().any(char::is_control),
                        "control character kept"
                    );
                }
            }
            match error.kind {
                ErrorKind::RateLimited {
                    retry_after: Some(after),
                } => assert!(after.as_secs() <= 24 * 3600, "Retry-After not capped"),
                ErrorKind::UnexpectedRedirect { .. } | ErrorKind::SandboxGate(_) => {
                    assert!(status.is_success() || status.is_redirection());
                }
                _ => {}
            }
        }
    }
});
