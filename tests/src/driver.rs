//! Both transports behind one blocking interface, so a behaviour is written once and run
//! against each: [`Kind`] names a transport, [`Builder`] mirrors the transports' builders, and
//! [`Client`] their clients' methods.
//!
//! A qonto-reqwest client is driven on a multi-thread Tokio runtime of two workers that the
//! wrapper owns (`block_on` for each method); a qonto-ureq client is called directly. Both
//! return the same [`Error`] type, so a scenario compares codes and stages alike.

use std::sync::{Arc, Barrier};
use std::thread;

use qonto_auth_core::Environment;
use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::http::{HeaderValue, Method};
use qonto_auth_core::lifecycle::LifecycleStatus;
use qonto_auth_core::model::{BankAccount, BankAccountsPage, Organization};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AccessToken, AuthorizationCode};
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockServer};
use qonto_store::TokenStore;
use qonto_ureq::{
    ApiResponse, CallSpec, Clock, Error, Event, ScaChallenge, ScaPending, TransportConfig,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::runtime::Runtime;

/// What every method returns: both transports fail with the same [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Which transport a scenario runs against.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Kind {
    /// `qonto-ureq`, blocking.
    Ureq,
    /// `qonto-reqwest`, async, driven on a runtime of its own.
    Reqwest,
}

impl Kind {
    /// A builder for `environment` with default settings.
    pub fn builder(self, environment: Environment) -> Builder {
        Builder {
            kind: self,
            environment,
            clock: Clock::system(),
            transport: TransportConfig::default(),
        }
    }

    /// A builder aimed at `mock` (sandbox when `staging` is given), its clock following the
    /// mock's; the transport's waits (SCA polls, retries) move the mock's clock instead of
    /// sleeping.
    pub fn for_mock(self, mock: &MockServer, staging: Option<&str>) -> Builder {
        let clock = mock.clock().clone();
        self.builder(crate::environment(mock, staging))
            .clock(Clock::manual(crate::mock_time(mock), move |by| {
                clock.advance(by);
            }))
    }

    /// A client of `mock` with the demo API key (sandbox when `staging` is given).
    pub fn api_key_client(self, mock: &MockServer, staging: Option<&str>) -> Client {
        let key = ApiKey::parse(&format!("{DEMO_LOGIN}:{DEMO_SECRET}")).expect("the demo key");
        self.for_mock(mock, staging)
            .api_key(key)
            .expect("an API-key client")
    }

    /// An OAuth client of `mock` (the demo client) on `store`, with `transport` settings.
    pub fn oauth_client(
        self,
        mock: &MockServer,
        store: Arc<dyn TokenStore>,
        transport: TransportConfig,
    ) -> Client {
        self.for_mock(mock, None)
            .transport(transport)
            .oauth(crate::demo_client(), store)
            .expect("an OAuth client")
    }
}

/// Settings of a client to build, as both transports' builders take them.
#[derive(Debug)]
#[must_use]
pub struct Builder {
    kind: Kind,
    environment: Environment,
    clock: Clock,
    transport: TransportConfig,
}

impl Builder {
    /// Sets the time source.
    pub fn clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// Sets timeouts, the body cap and the user agent.
    pub fn transport(self, transport: TransportConfig) -> Self {
        Self { transport, ..self }
    }

    /// A client using a static API key.
    ///
    /// # Errors
    ///
    /// The transport's, when the HTTP client cannot be set up.
    pub fn api_key(self, key: ApiKey) -> Result<Client> {
        self.finish(Credentials::ApiKey(key))
    }

    /// A client using a fixed access token.
    ///
    /// # Errors
    ///
    /// The transport's, when the HTTP client cannot be set up.
    pub fn access_token(self, token: AccessToken) -> Result<Client> {
        self.finish(Credentials::AccessToken(token))
    }

    /// A client using OAuth tokens kept in `store`.
    ///
    /// # Errors
    ///
    /// The transport's, when the store cannot be read.
    pub fn oauth(self, client: OAuthClient, store: Arc<dyn TokenStore>) -> Result<Client> {
        self.finish(Credentials::OAuth(client, store))
    }

    /// Builds with the transport's own builder (qonto-reqwest's on a new runtime).
    fn finish(self, auth: Credentials) -> Result<Client> {
        let Self {
            kind,
            environment,
            clock,
            transport,
        } = self;
        match kind {
            Kind::Ureq => {
                let builder = qonto_ureq::Client::builder(environment)
                    .clock(clock)
                    .transport(transport);
                let client = match auth {
                    Credentials::ApiKey(key) => builder.api_key(key)?,
                    Credentials::AccessToken(token) => builder.access_token(token)?,
                    Credentials::OAuth(client, store) => builder.oauth(client, store)?,
                };
                Ok(Client::Ureq(client))
            }
            Kind::Reqwest => {
                let runtime = Arc::new(
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .expect("a Tokio runtime"),
                );
                let builder = qonto_reqwest::Client::builder(environment)
                    .clock(clock)
                    .transport(transport);
                let client = runtime.block_on(async {
                    match auth {
                        Credentials::ApiKey(key) => builder.api_key(key),
                        Credentials::AccessToken(token) => builder.access_token(token),
                        Credentials::OAuth(client, store) => builder.oauth(client, store).await,
                    }
                })?;
                Ok(Client::Reqwest { client, runtime })
            }
        }
    }
}

/// How a client to build authenticates.
enum Credentials {
    ApiKey(ApiKey),
    AccessToken(AccessToken),
    OAuth(OAuthClient, Arc<dyn TokenStore>),
}

/// A client of either transport, with the transports' methods, blocking. Call it (and drop
/// its last clone) outside any async context: a qonto-reqwest one blocks on its own runtime.
#[derive(Clone, Debug)]
pub enum Client {
    /// A blocking client.
    Ureq(qonto_ureq::Client),
    /// An async client and the runtime it is driven on.
    Reqwest {
        /// The client.
        client: qonto_reqwest::Client,
        /// Its runtime (two workers).
        runtime: Arc<Runtime>,
    },
}

/// Calls the same method on either client: directly, or to completion on the runtime.
macro_rules! on_either {
    ($self:expr, $client:ident => $call:expr) => {
        match $self {
            Client::Ureq($client) => $call,
            Client::Reqwest {
                client: $client,
                runtime,
            } => runtime.block_on($call),
        }
    };
}

impl Client {
    /// Which transport this is.
    pub fn kind(&self) -> Kind {
        match self {
            Self::Ureq(_) => Kind::Ureq,
            Self::Reqwest { .. } => Kind::Reqwest,
        }
    }

    /// Runs one call; see the transports' `Client::call`.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn call(&self, spec: CallSpec) -> Result<ApiResponse> {
        on_either!(self, c => c.call(spec))
    }

    /// Runs one call, telling `on_challenge` what to approve, then waiting for the decision;
    /// see the transports' `Client::call_with_sca`.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn call_with_sca(
        &self,
        spec: CallSpec,
        on_challenge: impl FnOnce(&ScaChallenge) + Send,
    ) -> Result<ApiResponse> {
        on_either!(self, c => c.call_with_sca(spec, on_challenge))
    }

    /// Continues a call stopped at an SCA challenge; see the transports' `Client::resume`.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn resume(&self, pending: ScaPending, otp: Option<&str>) -> Result<ApiResponse> {
        on_either!(self, c => c.resume(pending, otp))
    }

    /// Sends a request with an optional JSON body.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn send(&self, method: Method, path: &str, json: Option<&Value>) -> Result<ApiResponse> {
        on_either!(self, c => c.send(method, path, json))
    }

    /// The `Authorization` value the next request would carry.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn authorization(&self) -> Result<HeaderValue> {
        on_either!(self, c => c.authorization())
    }

    /// Sends a GET and decodes its JSON answer.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str, what: &'static str) -> Result<T> {
        on_either!(self, c => c.get_json(path, what))
    }

    /// `GET /v2/organization`.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn organization(&self) -> Result<Organization> {
        on_either!(self, c => c.organization())
    }

    /// One page of `GET /v2/bank_accounts`.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn bank_accounts_page(&self, page: u32, per_page: u32) -> Result<BankAccountsPage> {
        on_either!(self, c => c.bank_accounts_page(page, per_page))
    }

    /// Every bank account, 100 per page.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn bank_accounts(&self) -> Result<Vec<BankAccount>> {
        on_either!(self, c => c.bank_accounts())
    }

    /// Every bank account, `per_page` at a time.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn bank_accounts_paged(&self, per_page: u32) -> Result<Vec<BankAccount>> {
        on_either!(self, c => c.bank_accounts_paged(per_page))
    }

    /// Exchanges an authorization code and stores the first tokens.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<()> {
        on_either!(self, c => c.exchange_code(code, pkce))
    }

    /// Refreshes the OAuth tokens now.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn refresh_now(&self) -> Result<()> {
        on_either!(self, c => c.refresh_now())
    }

    /// Deletes the stored OAuth tokens.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub fn logout(&self) -> Result<()> {
        on_either!(self, c => c.logout())
    }

    /// The OAuth lifecycle status, for OAuth clients.
    pub fn oauth_status(&self) -> Option<LifecycleStatus> {
        match self {
            Self::Ureq(c) => c.oauth_status(),
            Self::Reqwest { client, .. } => client.oauth_status(),
        }
    }

    /// The lifecycle's events since the last call, oldest first.
    pub fn take_events(&self) -> Vec<Event> {
        match self {
            Self::Ureq(c) => c.take_events(),
            Self::Reqwest { client, .. } => client.take_events(),
        }
    }

    /// The environment this client talks to.
    pub fn environment(&self) -> &Environment {
        match self {
            Self::Ureq(c) => c.environment(),
            Self::Reqwest { client, .. } => client.environment(),
        }
    }

    /// Runs `n` concurrent `organization()` calls released together (threads behind a
    /// barrier, or tasks behind one); panics unless every one succeeds.
    pub fn stampede(&self, n: usize) {
        match self {
            Self::Ureq(client) => {
                let barrier = Arc::new(Barrier::new(n));
                let callers: Vec<_> = (0..n)
                    .map(|_| {
                        let (client, barrier) = (client.clone(), Arc::clone(&barrier));
                        thread::spawn(move || {
                            barrier.wait();
                            client.organization().map(drop)
                        })
                    })
                    .collect();
                for caller in callers {
                    caller
                        .join()
                        .expect("a caller panicked")
                        .expect("a call failed");
                }
            }
            Self::Reqwest { client, runtime } => runtime.block_on(async {
                let barrier = Arc::new(tokio::sync::Barrier::new(n));
                let callers: Vec<_> = (0..n)
                    .map(|_| {
                        let (client, barrier) = (client.clone(), Arc::clone(&barrier));
                        tokio::spawn(async move {
                            barrier.wait().await;
                            client.organization().await.map(drop)
                        })
                    })
                    .collect();
                for caller in callers {
                    caller
                        .await
                        .expect("a caller panicked")
                        .expect("a call failed");
                }
            }),
        }
    }
}
