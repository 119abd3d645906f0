//! The injectable clock every expiry decision of the mock is based on.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// A wall clock that tests can move forward.
///
/// It starts at the real time when it is created and then runs at real speed; [`advance`]
/// adds an offset on top. Authorization codes, access and refresh tokens, the refresh grace
/// window and rate-limit windows are all judged against [`now`]. Cloning gives another handle
/// on the same clock.
///
/// [`advance`]: MockClock::advance
/// [`now`]: MockClock::now
#[derive(Debug, Clone)]
pub struct MockClock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    wall_at_start: SystemTime,
    started: Instant,
    offset: Mutex<Duration>,
}

impl MockClock {
    /// A clock reading the current wall-clock time, with no offset.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(ClockInner {
                wall_at_start: SystemTime::now(),
                started: Instant::now(),
                offset: Mutex::new(Duration::ZERO),
            }),
        }
    }

    /// The mock's current time: real time elapsed since creation plus every advance.
    pub fn now(&self) -> SystemTime {
        let offset = *self
            .inner
            .offset
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.wall_at_start + self.inner.started.elapsed() + offset
    }

    /// Moves the clock forward by `by`; the jump is seen at once by the running server.
    pub fn advance(&self, by: Duration) {
        let mut offset = self
            .inner
            .offset
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *offset = offset.saturating_add(by);
    }

    /// The sum of every [`advance`](Self::advance) so far.
    pub fn offset(&self) -> Duration {
        *self
            .inner
            .offset
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MockClock {
    fn default() -> Self {
        Self::new()
    }
}
