//! Rate limiting per client IP address, on the mock clock: fixed request windows (Qonto: 1,000
//! requests per 10 s and 10,000 per 10 min) and the throttle that follows too many 401
//! answers (Qonto: more than 200 within an hour).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use crate::util::secs_until;

/// A fixed-window request limit per client IP address. Every request counts, refused ones
/// included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub max_requests: u64,
    /// Window length, measured on the [`MockClock`](crate::MockClock).
    pub window: Duration,
}

impl RateLimit {
    /// Qonto's short window: 1,000 requests per 10 seconds per IP address.
    pub fn qonto() -> Self {
        Self {
            max_requests: 1000,
            window: Duration::from_secs(10),
        }
    }

    /// Qonto's long window: 10,000 requests per 10 minutes per IP address.
    pub fn qonto_long() -> Self {
        Self {
            max_requests: 10_000,
            window: Duration::from_secs(600),
        }
    }
}

/// Throttling of a client IP address that collects too many 401 answers: once more than
/// `max_unauthorized` 401s fall within the last `window`, every request from that address is
/// answered 429 until enough of them age out. (Qonto documents the threshold, not the answer;
/// 429 is the mock's assumption.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnauthorizedThrottle {
    /// 401 answers tolerated within the window.
    pub max_unauthorized: u64,
    /// The sliding window, measured on the [`MockClock`](crate::MockClock).
    pub window: Duration,
}

impl UnauthorizedThrottle {
    /// Qonto's documented threshold: more than 200 responses with status 401 within an hour.
    pub fn qonto() -> Self {
        Self {
            max_unauthorized: 200,
            window: Duration::from_secs(3600),
        }
    }
}

/// Whether a 429 carries a `Retry-After` header. Qonto documents none, so none is the default;
/// the others are for testing clients that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryAfter {
    /// No `Retry-After` header (Qonto's documented behaviour).
    #[default]
    Omit,
    /// `Retry-After` with this fixed number of seconds.
    Seconds(u64),
    /// `Retry-After` with the whole seconds until the refusing window resets.
    UntilReset,
}

/// A refused request: why, and when it would pass again.
#[derive(Debug)]
pub(crate) struct Limited {
    pub(crate) detail: String,
    pub(crate) reset_in_secs: u64,
}

/// Window counters and recent 401s per IP address.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    /// `(window start, count)` per configured window, in configuration order.
    windows: HashMap<IpAddr, Vec<(SystemTime, u64)>>,
    /// The most recent 401 times (at most `max_unauthorized + 1`), oldest first.
    unauthorized: HashMap<IpAddr, VecDeque<SystemTime>>,
}

impl Limiter {
    /// Counts one request against every window; `Some` if it must be refused.
    pub(crate) fn hit(
        &mut self,
        ip: IpAddr,
        now: SystemTime,
        limits: &[RateLimit],
        throttle: Option<UnauthorizedThrottle>,
    ) -> Option<Limited> {
        let mut limited: Option<Limited> = None;
        if !limits.is_empty() {
            let counters = self.windows.entry(ip).or_default();
            counters.resize(limits.len(), (now, 0));
            for (limit, (start, count)) in limits.iter().zip(counters.iter_mut()) {
                if now < *start || now >= *start + limit.window {
                    *start = now;
                    *count = 0;
                }
                *count += 1;
                let reset_in_secs = secs_until(now, *start + limit.window).max(1);
                if *count > limit.max_requests
                    && limited
                        .as_ref()
                        .is_none_or(|l| l.reset_in_secs < reset_in_secs)
                {
                    limited = Some(Limited {
                        detail: format!(
                            "rate limit of {} requests per {} s exceeded",
                            limit.max_requests,
                            limit.window.as_secs()
                        ),
                        reset_in_secs,
                    });
                }
            }
        }
        limited.or_else(|| self.throttled(ip, now, throttle?))
    }

    /// Remembers a 401 answered to `ip`.
    pub(crate) fn record_unauthorized(
        &mut self,
        ip: IpAddr,
        now: SystemTime,
        throttle: UnauthorizedThrottle,
    ) {
        let recent = self.unauthorized.entry(ip).or_default();
        recent.push_back(now);
        let keep = usize::try_from(throttle.max_unauthorized)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        while recent.len() > keep {
            recent.pop_front();
        }
    }

    fn throttled(
        &self,
        ip: IpAddr,
        now: SystemTime,
        throttle: UnauthorizedThrottle,
    ) -> Option<Limited> {
        let recent = self.unauthorized.get(&ip)?;
        let oldest = *recent.front()?;
        let over = recent.len() as u64 > throttle.max_unauthorized;
        let clears_at = oldest + throttle.window;
        (over && now < clears_at).then(|| Limited {
            detail: format!(
                "more than {} responses with status 401 within {} s: requests from this \
                 address are throttled",
                throttle.max_unauthorized,
                throttle.window.as_secs()
            ),
            reset_in_secs: secs_until(now, clears_at).max(1),
        })
    }
}
