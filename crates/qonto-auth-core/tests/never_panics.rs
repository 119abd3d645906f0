//! Property tests: bytes from the network never make the core panic, and no path a caller
//! passes takes a request off the configured host.

use http::{HeaderMap, HeaderValue, StatusCode};
use proptest::prelude::*;
use qonto_auth_core::classify;
use qonto_auth_core::credentials::{check_access_token, check_api_key};
use qonto_auth_core::environment::BaseUrl;
use qonto_auth_core::oauth::{CsrfState, parse_callback, parse_token_response};
use qonto_auth_core::{Timestamp, TokenSet};

fn headers() -> impl Strategy<Value = HeaderMap> {
    let name = prop::sample::select(vec![
        "content-type",
        "location",
        "retry-after",
        "x-tyk-trace-id",
    ]);
    prop::collection::vec((name, prop::collection::vec(any::<u8>(), 0..80)), 0..4).prop_map(
        |pairs| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                if let Ok(value) = HeaderValue::from_bytes(&value) {
                    map.append(name, value);
                }
            }
            map
        },
    )
}

fn json_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        "[{}\\[\\]\":,a-z_0-9 <>!-]{0,200}".prop_map(String::into_bytes),
        (any::<i64>(), "[a-z_]{0,12}", any::<bool>()).prop_map(|(n, s, b)| {
            format!(
                r#"{{"access_token":"{s}","expires_in":{n},"token_type":"{}","refresh_token":"{s}","errors":[{{"code":"{s}"}}],"trace_id":"{s}","error":{b}}}"#,
                if b { "bearer" } else { "mac" }
            )
            .into_bytes()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn classifier_never_panics(status in 100u16..1000, headers in headers(), body in json_like()) {
        let status = StatusCode::from_u16(status).unwrap();
        let _ = classify(status, &headers, &body);
    }

    #[test]
    fn token_parser_never_panics(status in 100u16..1000, headers in headers(), body in json_like(), sent in any::<u64>()) {
        let status = StatusCode::from_u16(status).unwrap();
        let _ = parse_token_response(Timestamp::from_unix_millis(sent), status, &headers, &body);
    }

    #[test]
    fn persisted_token_parser_never_panics(body in json_like()) {
        let _ = TokenSet::from_persisted_json(&body);
    }

    #[test]
    fn credential_and_callback_parsers_never_panic(text in any::<String>()) {
        let _ = check_api_key(&text);
        let _ = check_access_token(&text);
        let _ = parse_callback(&text, &CsrfState::from_bytes([0; 32]));
    }

    /// Whatever path a caller passes, a request never leaves the configured host.
    #[test]
    fn joined_paths_never_leave_the_configured_host(
        path in prop_oneof![any::<String>(), "/[ -~]{0,40}", "//[ -~]{0,20}"],
        prefixed in any::<bool>(),
    ) {
        let base = BaseUrl::parse(if prefixed {
            "https://proxy.example.com:8443/prefix"
        } else {
            "https://thirdparty.qonto.com"
        })
        .unwrap();
        if let Ok(uri) = base.join(&path) {
            prop_assert_eq!(uri.scheme_str(), Some("https"));
            prop_assert_eq!(uri.host(), Some(base.host()));
            prop_assert_eq!(uri.port_u16(), prefixed.then_some(8443));
            let root = if prefixed { "/prefix/" } else { "/" };
            prop_assert!(uri.path().starts_with(root));
            prop_assert!(!path.starts_with("//"));
        }
    }
}
