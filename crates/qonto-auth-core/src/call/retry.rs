//! When a call is retried, and after how long.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::RETRY_AFTER;
use http::{HeaderMap, Method};

use super::spec::RetryPolicy;
use crate::random;
use crate::time::Timestamp;

/// Whether a call of `method` may be sent again once it may have reached the server: an
/// idempotent method, or a write carrying an idempotency key.
pub(crate) fn may_repeat(method: &Method, has_key: bool) -> bool {
    has_key
        || matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
}

/// The delay before attempt number `attempt + 1` (the first retry is `attempt == 1`):
/// exponential from the base, with up to 50 % jitter, capped.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(16);
    let delay = policy
        .base
        .saturating_mul(1 << exponent)
        .min(policy.max_delay);
    let mut byte = [0u8; 1];
    let jitter = match random::fill(&mut byte) {
        Ok(()) => delay.mul_f64(f64::from(byte[0]) / 255.0 / 2.0),
        Err(_) => Duration::ZERO,
    };
    (delay + jitter).min(policy.max_delay)
}

/// A `Retry-After` header as a delay from `now`: whole seconds, or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at: SystemTime = httpdate::parse_http_date(text).ok()?;
    let at = Timestamp::from_unix_millis(
        u64::try_from(at.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()?,
    );
    Some(at.saturating_since(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = Timestamp::from_unix_secs(1_445_412_470); // 2015-10-21 07:27:50 GMT
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(10)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:27:00 GMT"),
        );
        assert_eq!(
            retry_after(&headers, now),
            Some(Duration::ZERO),
            "a past date: now"
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::attempts(10);
        let first = backoff(&policy, 1);
        assert!(first >= Duration::from_millis(500) && first <= Duration::from_millis(750));
        assert!(backoff(&policy, 3) >= Duration::from_secs(2));
        assert_eq!(backoff(&policy, 30), Duration::from_secs(30));
        assert!(may_repeat(&Method::GET, false) && !may_repeat(&Method::POST, false));
        assert!(may_repeat(&Method::POST, true));
    }
}
