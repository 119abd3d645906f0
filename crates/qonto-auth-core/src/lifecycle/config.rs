//! Lifecycle settings, with the defaults DESIGN.md sets for Qonto's 1-hour tokens.

use std::time::Duration;

use crate::facts;

/// Timing policy of the token lifecycle. Every value is configurable; the defaults suit
/// Qonto's 1-hour access tokens, 60 s rotation grace and 90-day refresh tokens.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct LifecycleConfig {
    /// Refresh this long before the access token expires (default 5 minutes).
    pub refresh_margin: Duration,
    /// Refresh up to this much earlier still, drawn per token (default 60 s), so that many
    /// processes holding tokens of the same age do not all refresh at once.
    pub jitter_max: Duration,
    /// Never hand out a token with less than this left (default 30 s).
    pub hard_floor: Duration,
    /// While refreshes fail transiently, wait this long between attempts (default 10 s).
    pub retry_interval: Duration,
    /// How long the previous refresh token keeps working after first use (Qonto: 60 s).
    pub rotation_grace: Duration,
    /// A lost response is retried only if at least this much of the grace window is left
    /// (default 10 s), so the retry reaches the server inside the window.
    pub grace_safety: Duration,
    /// Life of a refresh token from its issue (Qonto: 90 days).
    pub refresh_token_lifetime: Duration,
    /// Warn this long before the refresh token lapses (default 14 days).
    pub refresh_token_warning: Duration,
    /// Seed of the jitter generator; drivers draw it from the OS, tests pin it.
    pub jitter_seed: u64,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(300),
            jitter_max: Duration::from_secs(60),
            hard_floor: Duration::from_secs(30),
            retry_interval: Duration::from_secs(10),
            rotation_grace: facts::ROTATION_GRACE,
            grace_safety: Duration::from_secs(10),
            refresh_token_lifetime: facts::REFRESH_TOKEN_LIFETIME,
            refresh_token_warning: Duration::from_secs(14 * 24 * 3600),
            jitter_seed: 0x5eed,
        }
    }
}

impl LifecycleConfig {
    /// Sets the jitter seed (builder style).
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = seed;
        self
    }

    /// Sets the maximum jitter (builder style); zero disables jitter.
    pub fn with_jitter_max(mut self, jitter_max: Duration) -> Self {
        self.jitter_max = jitter_max;
        self
    }
}

/// A small xorshift generator: deterministic for a seed, good enough to spread refreshes.
#[derive(Clone, Debug)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// Draws a duration uniformly from `[0, max]` (millisecond resolution).
    pub(crate) fn draw(&mut self, max: Duration) -> Duration {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
        if max_ms == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(x % max_ms.saturating_add(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_deterministic_and_bounded() {
        let max = Duration::from_secs(60);
        let a: Vec<_> = (0..50)
            .scan(Jitter::new(7), |j, _| Some(j.draw(max)))
            .collect();
        let b: Vec<_> = (0..50)
            .scan(Jitter::new(7), |j, _| Some(j.draw(max)))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|d| *d <= max));
        assert!(a.iter().any(|d| *d != a[0]), "jitter should vary");
        assert_eq!(Jitter::new(1).draw(Duration::ZERO), Duration::ZERO);
    }
}
