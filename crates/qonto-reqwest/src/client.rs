//! The async client.

use std::sync::Arc;

use http::{Method, StatusCode};
use qonto_auth_core::Environment;
use qonto_auth_core::classify::classify;
use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::http;
use qonto_auth_core::lifecycle::{
    LifecycleConfig, LifecycleStatus, RefreshError, UnauthorizedAdvice, Warning,
};
use qonto_auth_core::model::{BankAccount, BankAccountsPage, Organization, OrganizationResponse};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::request::api_request_with;
use qonto_auth_core::secret::{AccessToken, AuthorizationCode, Fingerprint};
use qonto_store::TokenStore;
use serde::de::DeserializeOwned;

use crate::oauth::{Io, OAuthDriver};
use crate::store::{AsyncTokenStore, BlockingStore};
use crate::wire;
use qonto_transport::{ApiResponse, ClientSettings, Error, SendError, StaticCredential};
use qonto_transport::{Clock, TransportConfig};

/// How requests are authenticated.
enum Credentials {
    /// An API key or a fixed access token, encoded once.
    Static(StaticCredential),
    OAuth(Arc<OAuthDriver>),
}

struct Inner {
    environment: Environment,
    auth: Credentials,
    io: Io,
}

/// An async Qonto API client. Cheap to clone; clones share connections and tokens, so tasks
/// using clones of one client share a single refresh.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let method = match &self.inner.auth {
            Credentials::Static(credential) => credential.kind(),
            Credentials::OAuth(_) => "oauth",
        };
        f.debug_struct("Client")
            .field("environment", &self.inner.environment.kind())
            .field("api", &self.inner.environment.endpoints().api().as_str())
            .field("auth", &method)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`] with non-default transport settings or clock.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    settings: ClientSettings,
}

impl ClientBuilder {
    /// Starts a builder for an environment.
    pub fn new(environment: Environment) -> Self {
        Self {
            settings: ClientSettings::new(
                environment,
                concat!("qonto-reqwest/", env!("CARGO_PKG_VERSION")),
            ),
        }
    }

    /// Sets timeouts, the body cap and the user agent.
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.settings.transport = config;
        self
    }

    /// Sets the time source (tests).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.settings.clock = clock;
        self
    }

    /// Sets the token lifecycle policy.
    pub fn lifecycle(mut self, config: LifecycleConfig) -> Self {
        self.settings.lifecycle = config;
        self
    }

    /// A client using a static API key.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when the HTTP client cannot be set up (TLS initialisation).
    pub fn api_key(self, key: ApiKey) -> Result<Client, Error> {
        self.finish(Credentials::Static(StaticCredential::api_key(key)))
    }

    /// A client using a fixed access token (never refreshed).
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when the HTTP client cannot be set up (TLS initialisation).
    pub fn access_token(self, token: AccessToken) -> Result<Client, Error> {
        self.finish(Credentials::Static(StaticCredential::access_token(token)))
    }

    /// A client using OAuth tokens kept in a blocking `store` (such as
    /// [`qonto_store::FileStore`]), which runs on Tokio's blocking pool through
    /// [`BlockingStore`].
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read, [`Error::Network`] when the HTTP client
    /// cannot be set up.
    pub async fn oauth(
        self,
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
    ) -> Result<Client, Error> {
        self.oauth_async(client, Arc::new(BlockingStore::new(store)))
            .await
    }

    /// A client using OAuth tokens kept in an [`AsyncTokenStore`].
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read, [`Error::Network`] when the HTTP client
    /// cannot be set up.
    pub async fn oauth_async(
        self,
        client: OAuthClient,
        store: Arc<dyn AsyncTokenStore>,
    ) -> Result<Client, Error> {
        let lifecycle = self.settings.token_lifecycle(client);
        let driver = OAuthDriver::new(lifecycle, store).await?;
        self.finish(Credentials::OAuth(Arc::new(driver)))
    }

    fn finish(self, auth: Credentials) -> Result<Client, Error> {
        let http = wire::http_client(&self.settings.transport)?;
        let inner = Inner {
            environment: self.settings.environment,
            auth,
            io: Io {
                http,
                max_body: self.settings.transport.max_body,
                clock: self.settings.clock,
            },
        };
        Ok(Client {
            inner: Arc::new(inner),
        })
    }
}

impl Client {
    /// A builder for non-default settings.
    pub fn builder(environment: Environment) -> ClientBuilder {
        ClientBuilder::new(environment)
    }

    /// A client using a static API key, with default settings.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when the HTTP client cannot be set up (TLS initialisation).
    pub fn api_key(environment: Environment, key: ApiKey) -> Result<Self, Error> {
        ClientBuilder::new(environment).api_key(key)
    }

    /// A client using OAuth tokens kept in a blocking `store`, with default settings.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read.
    pub async fn oauth(
        environment: Environment,
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, Error> {
        ClientBuilder::new(environment).oauth(client, store).await
    }

    /// The environment this client talks to.
    pub fn environment(&self) -> &Environment {
        &self.inner.environment
    }

    /// Sends an authenticated request to the API and returns the successful answer.
    ///
    /// With OAuth, a 401 is retried once: with a newer token if another caller refreshed
    /// meanwhile, otherwise after one refresh. Never more.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with the classified failure (sandbox gate, 401 with likely causes,
    /// 403, 404, 429, 5xx …), or a transport, token or store error.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        json_body: Option<&serde_json::Value>,
    ) -> Result<ApiResponse, Error> {
        let body = json_body.map(|v| serde_json::to_vec(v).unwrap_or_default());
        let (mut response, used) = self.attempt(&method, path_and_query, body.clone()).await?;
        if response.status == StatusCode::UNAUTHORIZED {
            if let (Credentials::OAuth(driver), Some(used)) = (&self.inner.auth, used) {
                match driver.unauthorized(used, &self.inner.io.clock) {
                    UnauthorizedAdvice::RetryWithNewerToken
                    | UnauthorizedAdvice::RefreshThenRetry => {
                        response = self.attempt(&method, path_and_query, body).await?.0;
                    }
                    _ => {
                        // The grant is gone (for example invalid_grant): say so, not just 401.
                        let status = driver.status(&self.inner.io.clock);
                        if let Some(error @ RefreshError::ReauthRequired(_)) = status.last_error {
                            return Err(Error::Auth(error));
                        }
                    }
                }
            }
        }
        classify(response.status, &response.headers, &response.body)
            .into_result()
            .map_err(Error::Api)?;
        Ok(ApiResponse {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(wire::RawResponse, Option<Fingerprint>), Error> {
        let inner = &*self.inner;
        let (authorization, used) = match &inner.auth {
            Credentials::Static(credential) => (credential.header()?, None),
            Credentials::OAuth(driver) => {
                let credential = driver.bearer(&inner.io).await?;
                (credential.header, Some(credential.fingerprint))
            }
        };
        let request = api_request_with(
            &inner.environment,
            authorization,
            method.clone(),
            path,
            body,
        )?;
        let response = wire::execute(&inner.io.http, inner.io.max_body, request)
            .await
            .map_err(SendError::into_error)?;
        Ok((response, used))
    }

    /// The `Authorization` value the next request would carry, refreshing the OAuth token first
    /// when needed; for requests built by hand. Marked sensitive.
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] when no usable OAuth token can be had, [`Error::Request`] when a
    /// credential cannot be encoded.
    pub async fn authorization(&self) -> Result<http::HeaderValue, Error> {
        let inner = &*self.inner;
        match &inner.auth {
            Credentials::Static(credential) => credential.header(),
            Credentials::OAuth(driver) => Ok(driver.bearer(&inner.io).await?.header),
        }
    }

    /// Sends a GET and decodes the JSON answer.
    ///
    /// # Errors
    ///
    /// As [`Client::send`], plus [`Error::Decode`].
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        what: &'static str,
    ) -> Result<T, Error> {
        self.send(Method::GET, path_and_query, None)
            .await?
            .json(what)
    }

    /// `GET /v2/organization`.
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`].
    pub async fn organization(&self) -> Result<Organization, Error> {
        Ok(self
            .get_json::<OrganizationResponse>("/v2/organization", "organization")
            .await?
            .organization)
    }

    /// One page of `GET /v2/bank_accounts` (`per_page` from 1 to 100).
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`].
    pub async fn bank_accounts_page(
        &self,
        page: u32,
        per_page: u32,
    ) -> Result<BankAccountsPage, Error> {
        self.get_json(
            &format!("/v2/bank_accounts?page={page}&per_page={per_page}"),
            "bank accounts",
        )
        .await
    }

    /// Every bank account, following the pagination to the last page.
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`].
    pub async fn bank_accounts(&self) -> Result<Vec<BankAccount>, Error> {
        self.bank_accounts_paged(100).await
    }

    /// Every bank account, `per_page` at a time (from 1 to 100), following the pagination to
    /// the last page.
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`].
    pub async fn bank_accounts_paged(&self, per_page: u32) -> Result<Vec<BankAccount>, Error> {
        let mut accounts = Vec::new();
        let mut page = 1;
        loop {
            let current = self.bank_accounts_page(page, per_page).await?;
            accounts.extend(current.bank_accounts);
            match current.meta.following() {
                Some(next) if next > page => page = next,
                _ => return Ok(accounts),
            }
        }
    }

    /// Exchanges an authorization code (from `auth login`) and stores the first tokens.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for API-key clients, [`Error::Auth`] when the exchange fails.
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<(), Error> {
        let Credentials::OAuth(driver) = &self.inner.auth else {
            return Err(Error::NotOAuth);
        };
        driver.exchange(code, pkce, &self.inner.io).await
    }

    /// Refreshes the OAuth tokens now.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for API-key clients, [`Error::Auth`] when the refresh fails.
    pub async fn refresh_now(&self) -> Result<(), Error> {
        let Credentials::OAuth(driver) = &self.inner.auth else {
            return Err(Error::NotOAuth);
        };
        driver.refresh_now(&self.inner.io).await
    }

    /// Deletes the stored OAuth tokens.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for API-key clients, [`Error::Store`] when removal fails.
    pub async fn logout(&self) -> Result<(), Error> {
        let Credentials::OAuth(driver) = &self.inner.auth else {
            return Err(Error::NotOAuth);
        };
        driver.logout().await
    }

    /// The OAuth lifecycle status (no secrets), for OAuth clients.
    pub fn oauth_status(&self) -> Option<LifecycleStatus> {
        match &self.inner.auth {
            Credentials::OAuth(driver) => Some(driver.status(&self.inner.io.clock)),
            _ => None,
        }
    }

    /// Warnings collected since the last call (for example a refresh token nearing its end).
    pub fn take_warnings(&self) -> Vec<Warning> {
        match &self.inner.auth {
            Credentials::OAuth(driver) => driver.take_warnings(),
            _ => Vec::new(),
        }
    }
}
