//! Fixed-window rate limiting per client IP, on the mock clock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::SystemTime;

use crate::config::RateLimit;
use crate::util::secs_until;

/// Current window start and count per IP.
#[derive(Debug, Default)]
pub(crate) struct RateWindows {
    windows: HashMap<IpAddr, (SystemTime, u64)>,
}

impl RateWindows {
    /// Counts one request; `Some(retry_after_secs)` if it is over the limit.
    pub(crate) fn hit(&mut self, ip: IpAddr, now: SystemTime, limit: RateLimit) -> Option<u64> {
        let (start, count) = self.windows.entry(ip).or_insert((now, 0));
        if now < *start || now >= *start + limit.window {
            *start = now;
            *count = 0;
        }
        *count += 1;
        (*count > limit.max_requests).then(|| secs_until(now, *start + limit.window).max(1))
    }
}
