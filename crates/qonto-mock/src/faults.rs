//! Fault-injection knobs, changeable while the server runs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::util::lock;

/// Failures to inject into the running server. Every knob is a counter or a duration that takes
/// effect on the next request; counters decrease as requests consume them.
#[derive(Debug, Default)]
pub struct Faults {
    latency_ns: AtomicU64,
    token_delay_ns: AtomicU64,
    drop_connections: AtomicU64,
    lose_token_responses: AtomicU64,
    fail: Mutex<(u64, u16)>,
    fail_token: Mutex<(u64, u16)>,
}

impl Faults {
    /// Delay every response by `latency` (zero turns it off).
    pub fn set_latency(&self, latency: Duration) {
        self.latency_ns.store(nanos(latency), Ordering::SeqCst);
    }

    /// Delay token-endpoint responses by `delay`, on top of any latency (zero turns it off).
    pub fn token_delay(&self, delay: Duration) {
        self.token_delay_ns.store(nanos(delay), Ordering::SeqCst);
    }

    /// Read the next `n` requests, then close their connections without answering.
    pub fn drop_next_connections(&self, n: u64) {
        self.drop_connections.store(n, Ordering::SeqCst);
    }

    /// Answer the next `n` requests (any path) with `status` and a JSON error body.
    pub fn fail_next(&self, n: u64, status: u16) {
        *lock(&self.fail) = (n, status);
    }

    /// Answer the next `n` `/oauth2/token` requests with `status` and an OAuth JSON error body.
    /// The request is not processed (no token is rotated).
    pub fn fail_next_token_requests(&self, n: u64, status: u16) {
        *lock(&self.fail_token) = (n, status);
    }

    /// Process the next `n` token requests completely (tokens rotate), then close the
    /// connection without sending the answer: the "lost response" case.
    pub fn lose_next_token_responses(&self, n: u64) {
        self.lose_token_responses.store(n, Ordering::SeqCst);
    }

    /// Turns every knob off.
    pub fn clear(&self) {
        self.set_latency(Duration::ZERO);
        self.token_delay(Duration::ZERO);
        self.drop_next_connections(0);
        self.lose_next_token_responses(0);
        self.fail_next(0, 0);
        self.fail_next_token_requests(0, 0);
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_ns.load(Ordering::SeqCst))
    }

    pub(crate) fn token_delay_value(&self) -> Duration {
        Duration::from_nanos(self.token_delay_ns.load(Ordering::SeqCst))
    }

    pub(crate) fn take_drop(&self) -> bool {
        take(&self.drop_connections)
    }

    pub(crate) fn take_lose_token(&self) -> bool {
        take(&self.lose_token_responses)
    }

    pub(crate) fn take_fail(&self) -> Option<u16> {
        take_status(&self.fail)
    }

    pub(crate) fn take_token_fail(&self) -> Option<u16> {
        take_status(&self.fail_token)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn take(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn take_status(knob: &Mutex<(u64, u16)>) -> Option<u16> {
    let mut guard = lock(knob);
    if guard.0 == 0 {
        return None;
    }
    guard.0 -= 1;
    Some(guard.1)
}
