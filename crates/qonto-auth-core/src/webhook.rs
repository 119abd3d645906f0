//! Verifying the `X-Qonto-Signature` of a webhook delivery, without I/O or a clock.
//!
//! Qonto signs every delivery with `X-Qonto-Signature: t=<unix seconds>,v1=<signature>`, where
//! the signature is the lowercase hex HMAC-SHA256 of `"{t}.{raw body}"` keyed with the bytes of
//! the subscription's secret. [`verify_signature`] takes the header value, the body exactly as
//! received (not JSON decoded and encoded again: spacing and key order are signed), the
//! secrets, the current time and a tolerance, and:
//!
//! - parses the header by splitting on `,` and then on the first `=`, trimming spaces, and
//!   ignoring unknown keys (a future `v2`), so a value is never cut at a comma;
//! - accepts the delivery when any `v1` matches under any of the secrets (several `v1` values or
//!   two subscriptions while a secret is rotated), comparing in constant time;
//! - refuses a signature time further than the tolerance from `now`, in either direction
//!   (default [`DEFAULT_TOLERANCE`], 5 minutes, as Qonto's event pages ask), which bounds
//!   replays.
//!
//! Each refusal is its own [`WebhookError`] with a stable [`Code`].
//!
//! ```
//! use qonto_auth_core::Timestamp;
//! use qonto_auth_core::secret::WebhookSecret;
//! use qonto_auth_core::webhook::{DEFAULT_TOLERANCE, verify_signature};
//!
//! // The example of Qonto's webhook setup page.
//! let header = "t=1704110400,v1=56aff06dc227db80d6568a5070f912c601c31f20451745d257cbc0b5dfa93805";
//! let secret = WebhookSecret::new("test-secret");
//! let now = Timestamp::from_unix_secs(1_704_110_460); // a minute later
//! let signed = verify_signature(header, br#"{"test":"data"}"#, &[&secret], now, DEFAULT_TOLERANCE)?;
//! assert_eq!(signed.timestamp, Timestamp::from_unix_secs(1_704_110_400));
//! # Ok::<(), qonto_auth_core::webhook::WebhookError>(())
//! ```

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use crate::codes::Code;
use crate::facts;
use crate::secret::WebhookSecret;
use crate::time::Timestamp;

/// The default tolerance between the signature time and now (5 minutes).
pub const DEFAULT_TOLERANCE: Duration = facts::WEBHOOK_TOLERANCE;
/// The longest header value accepted, in bytes; a longer one is [`Malformed::TooLong`].
pub const MAX_HEADER_LEN: usize = 4096;

/// Length of an HMAC-SHA256 in bytes.
const MAC_LEN: usize = 32;
/// Digits of the longest `u64`.
const MAX_TIMESTAMP_DIGITS: usize = 20;

/// A delivery whose signature checked out.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct SignedAt {
    /// When Qonto signed the delivery (the header's `t`).
    pub timestamp: Timestamp,
    /// Position, in the `secrets` given, of the secret that matched: during a rotation it
    /// tells whether deliveries still come signed with the old secret.
    pub secret_index: usize,
}

/// What is wrong with a malformed `X-Qonto-Signature` header.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The value is longer than [`MAX_HEADER_LEN`].
    #[error("it is longer than {MAX_HEADER_LEN} bytes")]
    TooLong,
    /// No `t=` pair.
    #[error("it has no `t=` timestamp")]
    MissingTimestamp,
    /// More than one `t=` pair.
    #[error("it has more than one `t=` timestamp")]
    RepeatedTimestamp,
    /// The `t=` value is not a whole number of seconds.
    #[error("the `t=` value is not a whole number of seconds")]
    InvalidTimestamp,
    /// No `v1=` pair.
    #[error("it has no `v1=` signature")]
    MissingSignature,
    /// A `v1=` value is not 64 hexadecimal digits.
    #[error("a `v1=` value is not 64 hexadecimal digits")]
    InvalidSignature,
}

/// Why a webhook delivery is refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No secret was given, or one of them is empty.
    #[error("no webhook secret was given, or one is empty")]
    NoSecret,
    /// The header cannot be parsed.
    #[error("the X-Qonto-Signature header is malformed: {0}")]
    Malformed(Malformed),
    /// No `v1` matches the body under any secret.
    #[error(
        "no v1 signature matches the body under the webhook secret: a wrong secret (the \
         subscription's, not the API key), or a body that was changed (check the raw bytes \
         received, not JSON encoded again)"
    )]
    Mismatch,
    /// The signature time is older than the tolerance.
    #[error(
        "the signature was made {age:?} ago, more than the tolerance of {tolerance:?}: a \
         replayed or late delivery"
    )]
    TooOld {
        /// The header's `t`.
        signed_at: Timestamp,
        /// How long ago that is.
        age: Duration,
        /// The tolerance in force.
        tolerance: Duration,
    },
    /// The signature time is further ahead than the tolerance.
    #[error(
        "the signature is dated {ahead:?} in the future, more than the tolerance of \
         {tolerance:?}: check this machine's clock"
    )]
    FromFuture {
        /// The header's `t`.
        signed_at: Timestamp,
        /// How far ahead of now that is.
        ahead: Duration,
        /// The tolerance in force.
        tolerance: Duration,
    },
}

impl WebhookError {
    /// The stable snake_case code of this refusal.
    pub fn code(&self) -> Code {
        match self {
            Self::NoSecret => Code::WebhookSecretMissing,
            Self::Malformed(_) => Code::WebhookSignatureMalformed,
            Self::Mismatch => Code::WebhookSignatureMismatch,
            Self::TooOld { .. } => Code::WebhookSignatureTooOld,
            Self::FromFuture { .. } => Code::WebhookSignatureFromFuture,
        }
    }
}

/// Verifies a delivery: `header` is the value of `X-Qonto-Signature`, `body` the raw bytes
/// received, `secrets` every secret the delivery may be signed with (usually one; two while
/// rotating), `now` the current time.
///
/// The signature is checked before the time, so [`WebhookError::TooOld`] and
/// [`WebhookError::FromFuture`] are only reported for deliveries Qonto really signed.
///
/// # Errors
///
/// [`WebhookError::NoSecret`] when `secrets` is empty or holds an empty secret;
/// [`WebhookError::Malformed`], [`WebhookError::Mismatch`], [`WebhookError::TooOld`],
/// [`WebhookError::FromFuture`] as their names say.
pub fn verify_signature(
    header: &str,
    body: &[u8],
    secrets: &[&WebhookSecret],
    now: Timestamp,
    tolerance: Duration,
) -> Result<SignedAt, WebhookError> {
    if secrets.is_empty() || secrets.iter().any(|s| s.expose_secret().is_empty()) {
        return Err(WebhookError::NoSecret);
    }
    let parsed = parse(header).map_err(WebhookError::Malformed)?;
    let secret_index = secrets
        .iter()
        .position(|secret| parsed.matches(secret, body))
        .ok_or(WebhookError::Mismatch)?;
    let signed_at = parsed.timestamp;
    let ahead = signed_at.saturating_since(now);
    if ahead > tolerance {
        return Err(WebhookError::FromFuture {
            signed_at,
            ahead,
            tolerance,
        });
    }
    let age = now.saturating_since(signed_at);
    if age > tolerance {
        return Err(WebhookError::TooOld {
            signed_at,
            age,
            tolerance,
        });
    }
    Ok(SignedAt {
        timestamp: signed_at,
        secret_index,
    })
}

/// A parsed header.
struct Parsed<'h> {
    /// The `t` value as sent: it is signed as text, so `01704110400` is not `1704110400`.
    raw_timestamp: &'h str,
    timestamp: Timestamp,
    signatures: Vec<[u8; MAC_LEN]>,
}

impl Parsed<'_> {
    /// Whether any `v1` is the HMAC of `"{t}.{body}"` under `secret` (constant-time compare).
    fn matches(&self, secret: &WebhookSecret, body: &[u8]) -> bool {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
            return false;
        };
        mac.update(self.raw_timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        let expected = mac.finalize().into_bytes();
        let any = self.signatures.iter().fold(Choice::from(0), |any, sig| {
            any | expected.as_slice().ct_eq(sig.as_slice())
        });
        any.into()
    }
}

fn parse(header: &str) -> Result<Parsed<'_>, Malformed> {
    if header.len() > MAX_HEADER_LEN {
        return Err(Malformed::TooLong);
    }
    let mut raw_timestamp = None;
    let mut signatures = Vec::new();
    for pair in header.split(',') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "t" if raw_timestamp.replace(value).is_some() => {
                return Err(Malformed::RepeatedTimestamp);
            }
            "v1" => signatures.push(decode_hex(value).ok_or(Malformed::InvalidSignature)?),
            _ => {}
        }
    }
    let raw_timestamp = raw_timestamp.ok_or(Malformed::MissingTimestamp)?;
    let timestamp = parse_secs(raw_timestamp).ok_or(Malformed::InvalidTimestamp)?;
    if signatures.is_empty() {
        return Err(Malformed::MissingSignature);
    }
    Ok(Parsed {
        raw_timestamp,
        timestamp,
        signatures,
    })
}

/// Unix seconds written with digits only (no sign, no fraction).
fn parse_secs(text: &str) -> Option<Timestamp> {
    let digits_only = !text.is_empty()
        && text.len() <= MAX_TIMESTAMP_DIGITS
        && text.bytes().all(|b| b.is_ascii_digit());
    let secs = text.parse::<u64>().ok().filter(|_| digits_only)?;
    Some(Timestamp::from_unix_secs(secs))
}

/// 64 hexadecimal digits (either case) as 32 bytes.
fn decode_hex(text: &str) -> Option<[u8; MAC_LEN]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * MAC_LEN {
        return None;
    }
    let mut out = [0u8; MAC_LEN];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}
