//! What every client is built from.

use qonto_auth_core::Environment;
use qonto_auth_core::credentials::OAuthClient;
use qonto_auth_core::lifecycle::{LifecycleConfig, TokenLifecycle};
use qonto_auth_core::random;

use crate::config::{Clock, TransportConfig};

/// The settings a client is built from: environment, transport settings, clock and token
/// lifecycle policy. Both transports' builders hold one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientSettings {
    /// The environment requests go to.
    pub environment: Environment,
    /// Timeouts, body cap and user agent.
    pub transport: TransportConfig,
    /// The time source.
    pub clock: Clock,
    /// The token lifecycle policy.
    pub lifecycle: LifecycleConfig,
}

impl ClientSettings {
    /// Default settings for an environment, with the transport's user agent.
    pub fn new(environment: Environment, user_agent: &str) -> Self {
        Self {
            environment,
            transport: TransportConfig::default().with_user_agent(user_agent),
            clock: Clock::system(),
            lifecycle: LifecycleConfig::default(),
        }
    }

    /// A token lifecycle for `client` under these settings, its jitter seeded from the
    /// operating system (so processes started together do not refresh together).
    pub fn token_lifecycle(&self, client: OAuthClient) -> TokenLifecycle {
        let mut lifecycle = self.lifecycle.clone();
        let mut seed = [0u8; 8];
        if random::fill(&mut seed).is_ok() {
            lifecycle.jitter_seed = u64::from_le_bytes(seed);
        }
        TokenLifecycle::new(self.environment.clone(), client, lifecycle)
    }
}
