//! What both transports' builders and clients share beyond data: the builder setters (one
//! definition, expanded in each builder), and a client's parts with their redacted `Debug`.

use qonto_auth_core::Environment;

use qonto_auth_core::Timestamp;
use qonto_auth_core::call::{Call, CallStep, ScaChallenge};
use qonto_auth_core::secret::Fingerprint;

use crate::{Error, ScaPending, SharedLifecycle, StaticCredential};

/// Defines a transport's `ClientBuilder`: a struct over a `settings` field (a
/// [`ClientSettings`](crate::ClientSettings)) that the transport's `wire.rs` also reaches, for
/// the HTTP client hook. Its methods come from [`builder_setters!`] and the transport.
#[macro_export]
#[doc(hidden)] // Plumbing of the transports (see the crate docs).
macro_rules! client_builder {
    () => {
        /// Builds a [`Client`] with non-default transport settings, clock or lifecycle policy.
        #[derive(Debug)]
        #[must_use]
        pub struct ClientBuilder {
            pub(crate) settings: $crate::ClientSettings,
        }
    };
}

/// Expands what every transport's `ClientBuilder` has over its `settings` field (a
/// [`ClientSettings`](crate::ClientSettings)): `new`, with the transport's user agent, and
/// the setters.
#[macro_export]
#[doc(hidden)] // Plumbing of the transports (see the crate docs).
macro_rules! builder_setters {
    ($agent:expr) => {
        /// Starts a builder for an environment.
        pub fn new(environment: ::qonto_auth_core::Environment) -> Self {
            Self {
                settings: $crate::ClientSettings::new(environment, $agent),
            }
        }

        /// Sets timeouts, the body cap, the user agent and the TLS roots.
        pub fn transport(mut self, config: $crate::TransportConfig) -> Self {
            self.settings.transport = config.keeping_hook_of(&self.settings.transport);
            self
        }

        /// Sets which certificate authorities HTTPS trusts, keeping the other transport
        /// settings.
        pub fn tls_roots(mut self, roots: $crate::TlsRoots) -> Self {
            self.settings.transport.tls_roots = roots;
            self
        }

        /// Sets the time source (tests).
        pub fn clock(mut self, clock: $crate::Clock) -> Self {
            self.settings.clock = clock;
            self
        }

        /// Sets the token lifecycle policy.
        pub fn lifecycle(mut self, config: ::qonto_auth_core::lifecycle::LifecycleConfig) -> Self {
            self.settings.lifecycle = config;
            self
        }
    };
}

/// Expands what every transport's `Client` has that involves no I/O: `builder`,
/// `environment`, `oauth_status`, `take_events`. The client is a tuple struct over
/// `Arc<ClientParts<D, I>>` whose driver `D` has a `life` ([`SharedLifecycle`](crate::SharedLifecycle))
/// and whose I/O `I` has a `clock`.
#[macro_export]
#[doc(hidden)] // Plumbing of the transports (see the crate docs).
macro_rules! client_basics {
    () => {
        /// A builder for non-default settings.
        pub fn builder(environment: ::qonto_auth_core::Environment) -> ClientBuilder {
            ClientBuilder::new(environment)
        }

        /// A client using a static API key, with default settings.
        ///
        /// # Errors
        ///
        /// When the HTTP client cannot be set up (TLS initialisation).
        pub fn api_key(
            environment: ::qonto_auth_core::Environment,
            key: ::qonto_auth_core::credentials::ApiKey,
        ) -> Result<Self, $crate::Error> {
            ClientBuilder::new(environment).api_key(key)
        }

        /// The environment this client talks to.
        pub fn environment(&self) -> &::qonto_auth_core::Environment {
            &self.0.environment
        }

        /// The OAuth lifecycle status (no secrets), for OAuth clients.
        pub fn oauth_status(&self) -> Option<::qonto_auth_core::lifecycle::LifecycleStatus> {
            use $crate::HoldsLifecycle as _;
            Some(self.0.oauth().ok()?.life().status(self.0.io.clock.now()))
        }

        /// The lifecycle's events since the last call (refreshes, in-doubt refreshes, a refresh
        /// token nearing its end …), oldest first; none for static credentials.
        pub fn take_events(&self) -> Vec<::qonto_auth_core::lifecycle::Event> {
            self.0
                .oauth()
                .map(|d| $crate::HoldsLifecycle::life(d).take_events())
                .unwrap_or_default()
        }
    };
}

/// How a client authenticates: a static credential, or an OAuth driver `D`.
pub enum Auth<D> {
    /// An API key or a fixed access token, encoded once.
    Static(StaticCredential),
    /// OAuth tokens driven by the transport's driver.
    OAuth(D),
}

/// What a client is made of: its environment, how it authenticates, and its I/O `I`.
pub struct ClientParts<D, I> {
    /// The environment requests go to.
    pub environment: Environment,
    /// How requests are authenticated.
    pub auth: Auth<D>,
    /// The transport's I/O (HTTP client, body cap, clock).
    pub io: I,
}

impl<D, I> ClientParts<D, I> {
    /// The parts of a client.
    pub fn new(environment: Environment, auth: Auth<D>, io: I) -> Self {
        Self {
            environment,
            auth,
            io,
        }
    }

    /// The OAuth driver.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for static credentials.
    pub fn oauth(&self) -> Result<&D, Error> {
        match &self.auth {
            Auth::OAuth(driver) => Ok(driver),
            Auth::Static(_) => Err(Error::NotOAuth),
        }
    }
}

/// Implements [`HoldsLifecycle`] for a driver type with a `life: SharedLifecycle` field.
#[macro_export]
#[doc(hidden)] // Plumbing of the transports (see the crate docs).
macro_rules! holds_lifecycle {
    ($driver:ty) => {
        impl $crate::HoldsLifecycle for $driver {
            fn life(&self) -> &$crate::SharedLifecycle {
                &self.life
            }
        }
    };
}

/// A transport's OAuth driver, as the shared code sees it: it holds the lifecycle.
pub trait HoldsLifecycle {
    /// The lifecycle.
    fn life(&self) -> &SharedLifecycle;
}

impl<T: HoldsLifecycle> HoldsLifecycle for std::sync::Arc<T> {
    fn life(&self) -> &SharedLifecycle {
        (**self).life()
    }
}

impl<D: HoldsLifecycle, I> ClientParts<D, I> {
    /// Answers a call's `Unauthorized(used)` step with the lifecycle's advice.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for static credentials (which never get that step).
    pub fn advise(
        &self,
        call: &mut Call,
        used: Fingerprint,
        now: Timestamp,
    ) -> Result<CallStep, Error> {
        Ok(call.handle_advice(self.oauth()?.life().unauthorized(now, used)))
    }
}

/// Ends a call at its `Sca(challenge)` step with the handle to resume it.
pub fn sca_required(call: Call, challenge: ScaChallenge) -> Error {
    Error::ScaRequired(Box::new(ScaPending::new(call, challenge)))
}

impl<D, I> std::fmt::Debug for ClientParts<D, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let method = match &self.auth {
            Auth::Static(credential) => credential.kind(),
            Auth::OAuth(_) => "oauth",
        };
        f.debug_struct("Client")
            .field("environment", &self.environment.kind())
            .field("api", &self.environment.endpoints().api().as_str())
            .field("auth", &method)
            .finish_non_exhaustive()
    }
}
