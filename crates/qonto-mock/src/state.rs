//! State shared by the server handle and the connection tasks.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::SystemTime;

use crate::clock::MockClock;
use crate::config::MockConfig;
use crate::faults::Faults;
use crate::oauth::store::{Lifetimes, OAuthStore};
use crate::rate::Limiter;
use crate::request::Request;
use crate::stats::Recorder;
use crate::writes::Writes;

/// Everything the server knows.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: MockConfig,
    pub(crate) clock: MockClock,
    pub(crate) faults: Faults,
    pub(crate) recorder: Recorder,
    pub(crate) oauth: Mutex<OAuthStore>,
    pub(crate) rate: Mutex<Limiter>,
    /// Portal sessions opened by `/_mock/portal-login` (cookie values).
    pub(crate) portal_sessions: Mutex<HashSet<String>>,
    /// SCA sessions and idempotency keys.
    pub(crate) writes: Mutex<Writes>,
}

impl Shared {
    pub(crate) fn new(config: MockConfig) -> Self {
        Self {
            config,
            clock: MockClock::new(),
            faults: Faults::default(),
            recorder: Recorder::default(),
            oauth: Mutex::new(OAuthStore::default()),
            rate: Mutex::new(Limiter::default()),
            portal_sessions: Mutex::new(HashSet::new()),
            writes: Mutex::new(Writes::default()),
        }
    }

    pub(crate) fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access: self.config.access_token_lifetime,
            refresh: self.config.refresh_token_lifetime,
            grace: self.config.refresh_grace,
            code: self.config.authorization_code_lifetime,
        }
    }
}

/// One request being handled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) req: &'a Request,
    pub(crate) trace: &'a str,
    pub(crate) now: SystemTime,
    pub(crate) peer: IpAddr,
}
