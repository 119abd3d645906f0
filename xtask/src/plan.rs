//! The schedule of `cargo xtask cluster`, shared by the orchestrator and its replicas: when
//! each connection id's tokens expire, and when each replica stops calling it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use qonto_auth_core::credentials::OAuthClient;
use qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_auth_core::lifecycle::LifecycleConfig;
use qonto_auth_core::secret::ClientSecret;
use qonto_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI};

/// What every process of the run agrees on.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Connection ids `tenant-0` … `tenant-{n-1}`.
    pub(crate) tenants: u64,
    /// Expiry windows each connection id goes through.
    pub(crate) windows: u64,
    /// Time between two refreshes of one connection id (token lifetime minus margin).
    pub(crate) period_ms: u64,
    /// How long before expiry a refresh is due.
    pub(crate) margin_ms: u64,
    /// The start of the run (unix ms): when the tokens were seeded.
    pub(crate) t0_ms: u64,
}

impl Plan {
    /// The access-token lifetime the mock hands out.
    pub(crate) fn ttl(&self) -> Duration {
        Duration::from_millis(self.period_ms + self.margin_ms)
    }

    /// How much earlier than the others tenant `i`'s seeded tokens expire: the tenants' refreshes
    /// are spread over half a period.
    pub(crate) fn offset_ms(&self, i: u64) -> u64 {
        i * (self.period_ms / 2) / self.tenants.max(1)
    }

    /// When tenant `i`'s seeded access token expires.
    pub(crate) fn seeded_expiry_ms(&self, i: u64) -> u64 {
        self.t0_ms + self.period_ms + self.margin_ms - self.offset_ms(i)
    }

    /// When the replicas stop calling tenant `i`: half a period after its last expected
    /// refresh, as far as possible from the next one, so each tenant sees exactly `windows`.
    pub(crate) fn end_ms(&self, i: u64) -> u64 {
        self.t0_ms + (self.windows * 2 + 1) * self.period_ms / 2 - self.offset_ms(i)
    }

    /// The lifecycle the replicas use: no jitter (every replica is due at once: the worst
    /// case for the lock), a 2 s floor and retry interval.
    pub(crate) fn lifecycle(&self) -> LifecycleConfig {
        let mut config = LifecycleConfig::default().with_jitter_max(Duration::ZERO);
        config.refresh_margin = Duration::from_millis(self.margin_ms);
        config.hard_floor = Duration::from_secs(2);
        config.retry_interval = Duration::from_secs(2);
        config
    }

    /// As `key=value` arguments for a replica.
    pub(crate) fn args(&self) -> Vec<String> {
        vec![
            format!("tenants={}", self.tenants),
            format!("windows={}", self.windows),
            format!("period_ms={}", self.period_ms),
            format!("margin_ms={}", self.margin_ms),
            format!("t0_ms={}", self.t0_ms),
        ]
    }

    /// From a replica's `key=value` arguments.
    pub(crate) fn from_args(args: &Args) -> Result<Self, String> {
        Ok(Self {
            tenants: args.number("tenants")?,
            windows: args.number("windows")?,
            period_ms: args.number("period_ms")?,
            margin_ms: args.number("margin_ms")?,
            t0_ms: args.number("t0_ms")?,
        })
    }
}

/// `key=value` arguments.
pub(crate) struct Args(Vec<(String, String)>);

impl Args {
    pub(crate) fn parse(args: &[String]) -> Self {
        Self(
            args.iter()
                .filter_map(|a| a.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    pub(crate) fn text(&self, key: &str) -> Result<&str, String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("missing {key}="))
    }

    pub(crate) fn number(&self, key: &str) -> Result<u64, String> {
        self.text(key)?
            .parse()
            .map_err(|_| format!("{key}= is not a number"))
    }

    pub(crate) fn number_or(&self, key: &str, default: u64) -> Result<u64, String> {
        match self.text(key) {
            Ok(_) => self.number(key),
            Err(_) => Ok(default),
        }
    }
}

/// The connection id of tenant `i`.
pub(crate) fn tenant_id(i: u64) -> String {
    format!("tenant-{i}")
}

/// Now, in unix milliseconds.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Sleeps until `at_ms` (unix ms).
pub(crate) fn sleep_until(at_ms: u64) {
    let now = unix_ms();
    if at_ms > now {
        std::thread::sleep(Duration::from_millis(at_ms - now));
    }
}

/// The environment pointing at the mock.
pub(crate) fn environment(mock_url: &str) -> Result<Environment, String> {
    let endpoints = Endpoints::new(mock_url, mock_url).map_err(|e| e.to_string())?;
    Environment::new(EnvironmentKind::Production, None, endpoints).map_err(|e| e.to_string())
}

/// The mock's demo OAuth client.
pub(crate) fn oauth_client() -> Result<OAuthClient, String> {
    OAuthClient::new(
        DEMO_CLIENT_ID,
        ClientSecret::new(DEMO_CLIENT_SECRET),
        DEMO_REDIRECT_URI,
    )
    .map_err(|e| e.to_string())
}
