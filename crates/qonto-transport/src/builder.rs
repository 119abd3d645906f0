//! What both transports' builders and clients share beyond data: the builder setters (one
//! definition, expanded in each builder), and a client's parts with their redacted `Debug`.

use qonto_auth_core::Environment;

use crate::{Error, StaticCredential};

/// Expands the setters every transport's `ClientBuilder` has, over its `settings` field (a
/// [`ClientSettings`](crate::ClientSettings)).
#[macro_export]
macro_rules! builder_setters {
    () => {
        /// Sets timeouts, the body cap and the user agent.
        pub fn transport(mut self, config: $crate::TransportConfig) -> Self {
            self.settings.transport = config;
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
