//! Transport settings.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use qonto_auth_core::Timestamp;

use crate::TlsRoots;

/// Timeouts, response-size cap, user agent and TLS roots. The defaults are always applied.
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
    /// Which certificate authorities HTTPS trusts (default: Mozilla's, compiled in).
    pub tls_roots: TlsRoots,
    /// The user's changes to the HTTP client's own settings, set through the transport's
    /// builder (`ClientBuilder::configure_http_client`).
    http_hook: HttpHook,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body: 10 * 1024 * 1024,
            user_agent: concat!("qonto-auth/", env!("CARGO_PKG_VERSION")).to_owned(),
            tls_roots: TlsRoots::default(),
            http_hook: HttpHook::default(),
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

    /// Sets [`tls_roots`](Self::tls_roots).
    #[must_use]
    pub fn with_tls_roots(mut self, roots: TlsRoots) -> Self {
        self.tls_roots = roots;
        self
    }

    /// Keeps the HTTP client hook of `previous` when this configuration has none (the
    /// builders' `transport` setter, so that setting both in any order keeps both).
    #[doc(hidden)] // Plumbing for the transports' builders, not part of the public API.
    #[must_use]
    pub fn keeping_hook_of(mut self, previous: &Self) -> Self {
        if self.http_hook.0.is_none() {
            self.http_hook = previous.http_hook.clone();
        }
        self
    }

    /// Sets the hook that receives the HTTP client's own builder type `T`
    /// (`reqwest::ClientBuilder`, ureq's config builder).
    #[doc(hidden)] // Plumbing: the transports' builders expose it with their client's type.
    pub fn set_http_hook<T: 'static>(&mut self, hook: impl Fn(T) -> T + Send + Sync + 'static) {
        let hook: Hook<T> = Box::new(hook);
        self.http_hook = HttpHook(Some(Arc::new(hook)));
    }

    /// Runs the hook on the HTTP client's builder, if one of that type was set.
    #[doc(hidden)] // Plumbing for the transports' `wire.rs`.
    pub fn apply_http_hook<T: 'static>(&self, builder: T) -> T {
        match self
            .http_hook
            .0
            .as_deref()
            .and_then(|h| h.downcast_ref::<Hook<T>>())
        {
            Some(hook) => hook(builder),
            None => builder,
        }
    }
}

/// A hook over the HTTP client's builder type `T`.
type Hook<T> = Box<dyn Fn(T) -> T + Send + Sync>;

/// A [`Hook`] of the transport's own builder type, stored without naming it (this crate does
/// not depend on any HTTP client).
#[derive(Clone, Default)]
struct HttpHook(Option<Arc<dyn Any + Send + Sync>>);

impl std::fmt::Debug for HttpHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "set" } else { "none" })
    }
}

/// Where the transport reads the time from: the system clock by default, a fake one in tests.
///
/// A [`manual`](Self::manual) clock also replaces the transport's waits (between SCA polls,
/// before a retry): the transport moves it forward instead of sleeping, so tests of a
/// 15-minute SCA session take no real time.
#[derive(Clone)]
pub struct Clock {
    now: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    advance: Option<Arc<dyn Fn(Duration) + Send + Sync>>,
}

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Self {
        Self::custom(|| Timestamp::from_system_time(SystemTime::now()))
    }

    /// A custom time source; the transport still sleeps for real when it waits.
    pub fn custom(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self {
            now: Arc::new(now),
            advance: None,
        }
    }

    /// A custom time source that the transport moves forward with `advance` instead of
    /// sleeping whenever it waits.
    pub fn manual(
        now: impl Fn() -> Timestamp + Send + Sync + 'static,
        advance: impl Fn(Duration) + Send + Sync + 'static,
    ) -> Self {
        Self {
            now: Arc::new(now),
            advance: Some(Arc::new(advance)),
        }
    }

    /// Reads the time.
    pub fn now(&self) -> Timestamp {
        (self.now)()
    }

    /// How long the transport must really sleep to reach `until`: zero for a
    /// [`manual`](Self::manual) clock, which is moved forward instead.
    pub fn wait_until(&self, until: Timestamp) -> Duration {
        let left = until.saturating_since(self.now());
        match &self.advance {
            Some(advance) => {
                advance(left);
                Duration::ZERO
            }
            None => left,
        }
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
