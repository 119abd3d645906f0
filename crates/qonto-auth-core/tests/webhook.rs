//! `X-Qonto-Signature` verification against vectors computed outside this code base: Qonto's
//! documented example, and HMAC-SHA256 values computed with
//! `printf '%s' '{t}.{body}' | openssl dgst -sha256 -hmac '{secret}'` (cross-checked with
//! Python's `hmac` module), pasted here as literals.

use std::time::Duration;

use proptest::prelude::*;
use qonto_auth_core::Code;
use qonto_auth_core::Timestamp;
use qonto_auth_core::secret::WebhookSecret;
use qonto_auth_core::webhook::{
    DEFAULT_TOLERANCE, MAX_HEADER_LEN, Malformed, WebhookError, verify_signature,
};

const T: u64 = 1_704_110_400;
const BODY: &[u8] = br#"{"test":"data"}"#;
const SECRET: &str = "test-secret";
/// Qonto's documented example: body `{"test":"data"}`, secret `test-secret`, t=1704110400.
const DOC_SIG: &str = "56aff06dc227db80d6568a5070f912c601c31f20451745d257cbc0b5dfa93805";
/// The same body and time under the secret `old-secret`.
const OLD_SECRET_SIG: &str = "549bde43030948c5ca7da2512648aaeb716e89f7073b62f626b7d44aadf8d56f";
/// `{"test":"datA"}` under `test-secret`, t=1704110400.
const TAMPERED_BODY_SIG: &str = "c9658bafea4d4bcbe7c63edb480cdd5b583913a08899bb2ddf427ce3968e5fcc";
/// `{ "test": "data" }` (the same JSON, encoded with spaces) under `test-secret`.
const SPACED_BODY_SIG: &str = "40509d7fecd780f894c717ccf6886538aef376704d599ab83a6a544a9d2d5919";
/// The empty body under `test-secret`.
const EMPTY_BODY_SIG: &str = "24f13833153a8dd09fe3fa257bf9bb340f151d427b6c492899f05a063a6b17aa";
/// The bytes `ff 00 fe " binary"` under `test-secret`.
const BINARY_BODY_SIG: &str = "59fe7099ea5cebb709eb8e9607e4670d79836363049f95f2045d201b6f8f107e";
/// `01704110400.{"test":"data"}` under `test-secret`: `t` is signed as the text sent.
const LEADING_ZERO_SIG: &str = "bb3d7810936e38acbb36f393ee4d6e061cc800c07ad76cb6d59a8887b185305b";

fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET)
}

fn at(secs: u64) -> Timestamp {
    Timestamp::from_unix_secs(secs)
}

fn verify(header: &str, body: &[u8], now: Timestamp) -> Result<u64, WebhookError> {
    verify_signature(header, body, &[&secret()], now, DEFAULT_TOLERANCE)
        .map(|signed| signed.timestamp.unix_secs())
}

fn doc_header() -> String {
    format!("t={T},v1={DOC_SIG}")
}

#[test]
fn qonto_documented_vector_verifies() {
    let signed = verify_signature(&doc_header(), BODY, &[&secret()], at(T), DEFAULT_TOLERANCE)
        .expect("the documented example");
    assert_eq!(signed.timestamp, at(T));
    assert_eq!(signed.secret_index, 0);
}

#[test]
fn other_bodies_verify_with_their_own_signature_only() {
    for (body, sig) in [
        (&br#"{"test":"datA"}"#[..], TAMPERED_BODY_SIG),
        (&br#"{ "test": "data" }"#[..], SPACED_BODY_SIG),
        (&b""[..], EMPTY_BODY_SIG),
        (&b"\xff\x00\xfe binary"[..], BINARY_BODY_SIG),
    ] {
        assert_eq!(verify(&format!("t={T},v1={sig}"), body, at(T)), Ok(T));
        assert_eq!(
            verify(&doc_header(), body, at(T)),
            Err(WebhookError::Mismatch)
        );
    }
}

#[test]
fn a_changed_body_signature_or_secret_is_a_mismatch() {
    // The body as a framework would re-encode it, one byte changed, one byte more.
    for body in [
        &br#"{ "test": "data" }"#[..],
        br#"{"test":"datA"}"#,
        br#"{"test":"data"} "#,
        br#"{"test":"data"}
"#,
    ] {
        assert_eq!(
            verify(&doc_header(), body, at(T)),
            Err(WebhookError::Mismatch)
        );
    }
    let mut flipped = DOC_SIG.to_owned();
    flipped.replace_range(63.., "4");
    let header = format!("t={T},v1={flipped}");
    assert_eq!(verify(&header, BODY, at(T)), Err(WebhookError::Mismatch));
    // Another time with the same signature.
    let header = format!("t={},v1={DOC_SIG}", T + 1);
    assert_eq!(verify(&header, BODY, at(T)), Err(WebhookError::Mismatch));
    // The wrong key, including the right one with the line break of the file it came from.
    for wrong in [
        "old-secret",
        "test-secret\n",
        "TEST-SECRET",
        "dGVzdC1zZWNyZXQ=",
    ] {
        let wrong = WebhookSecret::new(wrong);
        let result = verify_signature(&doc_header(), BODY, &[&wrong], at(T), DEFAULT_TOLERANCE);
        assert_eq!(result, Err(WebhookError::Mismatch));
    }
}

#[test]
fn rotation_several_v1_values_and_several_secrets() {
    // Two v1 values, the second one matches (and the reverse order).
    for header in [
        format!("t={T},v1={OLD_SECRET_SIG},v1={DOC_SIG}"),
        format!("t={T},v1={DOC_SIG},v1={OLD_SECRET_SIG}"),
    ] {
        assert_eq!(verify(&header, BODY, at(T)), Ok(T), "{header}");
    }
    // Two secrets; the answer says which one matched.
    let (old, new) = (WebhookSecret::new("old-secret"), secret());
    let both = [&old, &new];
    let signed = verify_signature(&doc_header(), BODY, &both, at(T), DEFAULT_TOLERANCE).unwrap();
    assert_eq!(signed.secret_index, 1);
    let header = format!("t={T},v1={OLD_SECRET_SIG}");
    let signed = verify_signature(&header, BODY, &both, at(T), DEFAULT_TOLERANCE).unwrap();
    assert_eq!(signed.secret_index, 0);
    // Neither secret: a mismatch.
    let other = WebhookSecret::new("another-secret");
    let result = verify_signature(&header, BODY, &[&other, &new], at(T), DEFAULT_TOLERANCE);
    assert_eq!(result, Err(WebhookError::Mismatch));
}

#[test]
fn tolerance_edges_in_both_directions() {
    let tolerance = DEFAULT_TOLERANCE;
    assert_eq!(tolerance, Duration::from_secs(300));
    let signed_at = at(T);
    // Exactly at the tolerance: accepted; one millisecond more: refused.
    assert_eq!(verify(&doc_header(), BODY, signed_at + tolerance), Ok(T));
    assert_eq!(
        verify(
            &doc_header(),
            BODY,
            signed_at + Duration::from_millis(300_001)
        ),
        Err(WebhookError::TooOld {
            signed_at,
            age: Duration::from_millis(300_001),
            tolerance,
        })
    );
    assert_eq!(verify(&doc_header(), BODY, signed_at - tolerance), Ok(T));
    assert_eq!(
        verify(
            &doc_header(),
            BODY,
            signed_at - Duration::from_millis(300_001)
        ),
        Err(WebhookError::FromFuture {
            signed_at,
            ahead: Duration::from_millis(300_001),
            tolerance,
        })
    );
    // A custom tolerance; zero means the same second only.
    let one_minute = Duration::from_secs(60);
    let now = signed_at + Duration::from_secs(61);
    let result = verify_signature(&doc_header(), BODY, &[&secret()], now, one_minute);
    assert_eq!(result.unwrap_err().code(), Code::WebhookSignatureTooOld);
    let zero = Duration::ZERO;
    assert!(verify_signature(&doc_header(), BODY, &[&secret()], signed_at, zero).is_ok());
    let later = signed_at + Duration::from_millis(1);
    let result = verify_signature(&doc_header(), BODY, &[&secret()], later, zero);
    assert_eq!(result.unwrap_err().code(), Code::WebhookSignatureTooOld);
    // Far from now in either direction, Unix epoch and the end of time included.
    for now in [Timestamp::EPOCH, Timestamp::from_unix_millis(u64::MAX)] {
        assert!(verify(&doc_header(), BODY, now).is_err());
    }
}

#[test]
fn the_signature_is_checked_before_the_time() {
    // A forged header with an old timestamp is a mismatch, not a replay.
    let header = format!("t={T},v1={TAMPERED_BODY_SIG}");
    let now = at(T + 3600);
    assert_eq!(verify(&header, BODY, now), Err(WebhookError::Mismatch));
    assert_eq!(
        verify(&doc_header(), BODY, now).unwrap_err().code(),
        Code::WebhookSignatureTooOld
    );
}

#[test]
fn spacing_order_case_and_unknown_keys_are_tolerated() {
    let upper = DOC_SIG.to_ascii_uppercase();
    for header in [
        format!("v1={DOC_SIG},t={T}"),
        format!("t={T}, v1={DOC_SIG}"),
        format!(" t = {T} ,\tv1= {DOC_SIG} "),
        format!("t={T},v1={upper}"),
        format!("t={T},v0=not-hex,v2=c29tZXRoaW5n==,v1={DOC_SIG}"),
        format!("t={T},v1={DOC_SIG},"),
        format!(",,t={T},,v1={DOC_SIG}"),
        format!("t={T},scheme,v1={DOC_SIG}"),
    ] {
        assert_eq!(verify(&header, BODY, at(T)), Ok(T), "{header:?}");
    }
}

#[test]
fn the_timestamp_is_signed_as_the_text_sent() {
    let header = format!("t=0{T},v1={LEADING_ZERO_SIG}");
    assert_eq!(verify(&header, BODY, at(T)), Ok(T));
    let header = format!("t=0{T},v1={DOC_SIG}");
    assert_eq!(verify(&header, BODY, at(T)), Err(WebhookError::Mismatch));
}

#[test]
fn malformed_headers_say_what_is_wrong() {
    use Malformed::*;
    let short = &DOC_SIG[..63];
    let non_hex = format!("{}g", &DOC_SIG[..63]);
    let too_long = format!("t={T},v1={DOC_SIG},x={}", "a".repeat(MAX_HEADER_LEN));
    let cases = [
        (String::new(), MissingTimestamp),
        (format!("v1={DOC_SIG}"), MissingTimestamp),
        (format!("T={T},v1={DOC_SIG}"), MissingTimestamp),
        (format!("t{T},v1={DOC_SIG}"), MissingTimestamp),
        (format!("t={T}"), MissingSignature),
        (format!("t={T},V1={DOC_SIG}"), MissingSignature),
        (format!("t={T},v2={DOC_SIG}"), MissingSignature),
        (format!("t=,v1={DOC_SIG}"), InvalidTimestamp),
        (format!("t=abc,v1={DOC_SIG}"), InvalidTimestamp),
        (format!("t=-1,v1={DOC_SIG}"), InvalidTimestamp),
        (format!("t=+{T},v1={DOC_SIG}"), InvalidTimestamp),
        (format!("t={T}.5,v1={DOC_SIG}"), InvalidTimestamp),
        (format!("t={T}000000000000,v1={DOC_SIG}"), InvalidTimestamp),
        (format!("t=1 704110400,v1={DOC_SIG}"), InvalidTimestamp),
        (format!("t={T},t={T},v1={DOC_SIG}"), RepeatedTimestamp),
        (format!("t={T},v1={short}"), InvalidSignature),
        (format!("t={T},v1={non_hex}"), InvalidSignature),
        (format!("t={T},v1={DOC_SIG}00"), InvalidSignature),
        (format!("t={T},v1="), InvalidSignature),
        (format!("t={T},v1={OLD_SECRET_SIG},v1=zz"), InvalidSignature),
        (format!("t={T};v1={DOC_SIG}"), InvalidTimestamp),
        (too_long, TooLong),
    ];
    for (header, expected) in cases {
        let result = verify(&header, BODY, at(T));
        assert_eq!(result, Err(WebhookError::Malformed(expected)), "{header:?}");
        assert_eq!(result.unwrap_err().code(), Code::WebhookSignatureMalformed);
    }
    // The longest accepted header is the limit itself.
    let padding = MAX_HEADER_LEN - doc_header().len() - ",x=".len();
    let at_limit = format!("{},x={}", doc_header(), "a".repeat(padding));
    assert_eq!(at_limit.len(), MAX_HEADER_LEN);
    assert_eq!(verify(&at_limit, BODY, at(T)), Ok(T));
}

#[test]
fn no_secret_or_an_empty_one_is_refused_before_anything_else() {
    let empty = WebhookSecret::new("");
    for secrets in [&[][..], &[&empty][..], &[&secret(), &empty][..]] {
        for header in [doc_header(), String::from("garbage")] {
            let result = verify_signature(&header, BODY, secrets, at(T), DEFAULT_TOLERANCE);
            assert_eq!(result, Err(WebhookError::NoSecret));
            assert_eq!(result.unwrap_err().code(), Code::WebhookSecretMissing);
        }
    }
}

#[test]
fn errors_and_the_secret_never_show_the_secret() {
    const SENTINEL: &str = "whsec_SENTINEL_x7q";
    let sentinel = WebhookSecret::new(SENTINEL);
    assert_eq!(format!("{sentinel:?}"), "WebhookSecret([redacted])");
    let headers = [
        doc_header(),
        format!("t={T}"),
        format!("t={},v1={DOC_SIG}", T + 1000),
    ];
    for header in headers {
        for now in [at(T), at(T + 3600), at(T - 3600)] {
            let result = verify_signature(&header, BODY, &[&sentinel], now, DEFAULT_TOLERANCE);
            let text = format!("{result:?} {}", result.unwrap_err());
            assert!(!text.contains("SENTINEL"), "{text}");
        }
    }
    let codes = [
        WebhookError::Mismatch.code(),
        WebhookError::NoSecret.code(),
        WebhookError::Malformed(Malformed::TooLong).code(),
    ];
    assert_eq!(
        codes.map(Code::as_str),
        [
            "webhook_signature_mismatch",
            "webhook_secret_missing",
            "webhook_signature_malformed"
        ]
    );
}

fn header_like() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["t", "v1", "v2", " t", "v1 ", "", "x", "t="]);
    let value = prop_oneof![
        "[0-9]{0,22}",
        "[0-9a-fA-F]{60,66}",
        "[ -~]{0,80}",
        any::<u64>().prop_map(|n| n.to_string()),
    ];
    prop_oneof![
        ".{0,300}",
        prop::collection::vec((key, value), 0..6).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_headers_never_panic(
        header in header_like(),
        body in prop::collection::vec(any::<u8>(), 0..256),
        secret in "[ -~]{0,40}",
        now in any::<u64>(),
        tolerance in any::<u64>(),
    ) {
        let secret = WebhookSecret::new(secret);
        let _ = verify_signature(
            &header,
            &body,
            &[&secret],
            Timestamp::from_unix_millis(now),
            Duration::from_millis(tolerance),
        );
    }

    #[test]
    fn a_random_signature_never_verifies(sig in prop::array::uniform32(any::<u8>())) {
        let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
        prop_assume!(hex != DOC_SIG);
        let header = format!("t={T},v1={hex}");
        prop_assert_eq!(verify(&header, BODY, at(T)), Err(WebhookError::Mismatch));
    }
}
