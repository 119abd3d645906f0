//! Transport settings.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use qonto_auth_core::Timestamp;

/// Timeouts, response-size cap and user agent. The defaults are always applied.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Connecting, including DNS and TLS (default 10 s).
    pub connect_timeout: Duration,
    /// The time budget of a request (default 30 s): qonto-reqwest applies it to the whole
    /// request, body included; qonto-ureq to each phase (sending, waiting for the answer,
    /// reading the body), because ureq's whole-request timer costs about a millisecond per
    /// request.
    pub timeout: Duration,
    /// Largest response body read (default 10 MiB); larger bodies are an error.
    pub max_body: u64,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body: 10 * 1024 * 1024,
            user_agent: concat!("qonto-auth/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl TransportConfig {
    /// Sets [`connect_timeout`](Self::connect_timeout).
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`max_body`](Self::max_body).
    #[must_use]
    pub fn with_max_body(mut self, max_body: u64) -> Self {
        self.max_body = max_body;
        self
    }

    /// Sets [`user_agent`](Self::user_agent).
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

/// Where the transport reads the time from: the system clock by default, a fake one in tests.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Self {
        Self(Arc::new(|| Timestamp::from_system_time(SystemTime::now())))
    }

    /// A custom time source.
    pub fn custom(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// Reads the time.
    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}
