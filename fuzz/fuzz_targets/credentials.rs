//! The credential checks never panic, agree with the parsers, and anything they accept encodes
//! to a header with no stray whitespace.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qonto_auth_core::credentials::{ApiKey, check_access_token, check_api_key, parse_access_token};
use qonto_auth_core::header::{Authorization, bearer};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };

    let problems = check_api_key(raw);
    match ApiKey::parse(raw) {
        Ok(key) => {
            assert!(problems.is_empty(), "parsed despite {problems:?}");
            assert!(!key.login().is_empty() && !key.login().contains(':'));
            assert!(!key.secret().expose_secret().is_empty());
            // Control characters are not whitespace: such a key parses, and the header
            // encoder refuses it with a typed error instead.
            if let Ok(value) = Authorization::ApiKey(key).header_value() {
                let bytes = value.as_bytes();
                assert!(
                    !bytes
                        .iter()
                        .any(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')),
                    "API key header with whitespace"
                );
                assert_eq!(bytes, raw.as_bytes(), "API key header is not the raw value");
                assert!(value.is_sensitive());
            }
        }
        Err(problem) => {
            assert_eq!(problems.first(), Some(&problem), "parse and check disagree");
            let _ = (problem.to_string(), problem.code());
        }
    }

    let problems = check_access_token(raw);
    match parse_access_token(raw) {
        Ok(token) => {
            assert!(problems.is_empty(), "parsed despite {problems:?}");
            if let Ok(value) = bearer(&token) {
                let rest = value.as_bytes().strip_prefix(b"Bearer ").expect("scheme");
                assert!(
                    !rest
                        .iter()
                        .any(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')),
                    "bearer header with whitespace"
                );
                assert!(value.is_sensitive());
            }
        }
        Err(problem) => {
            assert_eq!(problems.first(), Some(&problem), "parse and check disagree");
            let _ = (problem.to_string(), problem.code());
        }
    }
});
