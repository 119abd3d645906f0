//! Small helpers shared by the modules.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

/// Locks a mutex, ignoring poisoning (state stays usable; the mock never panics on input).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whole seconds from `now` until `later`, rounded up; zero if `later` has passed.
pub(crate) fn secs_until(now: SystemTime, later: SystemTime) -> u64 {
    let left = later.duration_since(now).unwrap_or(Duration::ZERO);
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}
