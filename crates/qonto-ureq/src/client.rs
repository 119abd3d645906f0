//! The blocking client.

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
use ureq::Agent;

use crate::oauth::OAuthDriver;
use crate::wire;
use qonto_transport::{ApiResponse, ClientSettings, Error, SendError, StaticCredential};
use qonto_transport::{Clock, TransportConfig};

/// How requests are authenticated.
enum Credentials {
    /// An API key or a fixed access token, encoded once.
    Static(StaticCredential),
    OAuth(Box<OAuthDriver>),
}

struct Inner {
    environment: Environment,
    auth: Credentials,
    agent: Agent,
    config: TransportConfig,
    clock: Clock,
}

/// A blocking Qonto API client. Cheap to clone; clones share connections and tokens.
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
                concat!("qonto-ureq/", env!("CARGO_PKG_VERSION")),
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
    pub fn api_key(self, key: ApiKey) -> Client {
        self.finish(Credentials::Static(StaticCredential::api_key(key)))
    }

    /// A client using a fixed access token (never refreshed).
    pub fn access_token(self, token: AccessToken) -> Client {
        self.finish(Credentials::Static(StaticCredential::access_token(token)))
    }

    /// A client using OAuth tokens kept in `store`.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read.
    pub fn oauth(self, client: OAuthClient, store: Arc<dyn TokenStore>) -> Result<Client, Error> {
        let lifecycle = self.settings.token_lifecycle(client);
        let driver = OAuthDriver::new(lifecycle, store)?;
        Ok(self.finish(Credentials::OAuth(Box::new(driver))))
    }

    fn finish(self, auth: Credentials) -> Client {
        let agent = wire::agent(&self.settings.transport);
        let inner = Inner {
            environment: self.settings.environment,
            auth,
            agent,
            config: self.settings.transport,
            clock: self.settings.clock,
        };
        Client {
            inner: Arc::new(inner),
        }
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
    /// None today; the `Result` leaves room for validation.
    pub fn api_key(environment: Environment, key: ApiKey) -> Result<Self, Error> {
        Ok(ClientBuilder::new(environment).api_key(key))
    }

    /// A client using OAuth tokens kept in `store`, with default settings.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read.
    pub fn oauth(
        environment: Environment,
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, Error> {
        ClientBuilder::new(environment).oauth(client, store)
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
    pub fn send(
        &self,
        method: Method,
        path_and_query: &str,
        json_body: Option<&serde_json::Value>,
    ) -> Result<ApiResponse, Error> {
        let body = json_body.map(|v| serde_json::to_vec(v).unwrap_or_default());
        let (mut response, used) = self.attempt(&method, path_and_query, body.clone())?;
        if response.status == StatusCode::UNAUTHORIZED {
            if let (Credentials::OAuth(driver), Some(used)) = (&self.inner.auth, used) {
                match driver.unauthorized(used, &self.inner.clock) {
                    UnauthorizedAdvice::RetryWithNewerToken
                    | UnauthorizedAdvice::RefreshThenRetry => {
                        response = self.attempt(&method, path_and_query, body)?.0;
                    }
                    _ => {
                        // The grant is gone (for example invalid_grant): say so, not just 401.
                        let status = driver.status(&self.inner.clock);
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

    fn attempt(
        &self,
        method: &Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(wire::RawResponse, Option<Fingerprint>), Error> {
        let inner = &*self.inner;
        let (authorization, used) = match &inner.auth {
            Credentials::Static(credential) => (credential.header()?, None),
            Credentials::OAuth(driver) => {
                let credential =
                    driver.bearer(&inner.agent, inner.config.max_body, &inner.clock)?;
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
        let response = wire::execute(&inner.agent, inner.config.max_body, request)
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
    pub fn authorization(&self) -> Result<http::HeaderValue, Error> {
        let inner = &*self.inner;
        match &inner.auth {
            Credentials::Static(credential) => credential.header(),
            Credentials::OAuth(driver) => Ok(driver
                .bearer(&inner.agent, inner.config.max_body, &inner.clock)?
                .header),
        }
    }

    /// Sends a GET and decodes the JSON answer.
    ///
    /// # Errors
    ///
    /// As [`Client::send`], plus [`Error::Decode`].
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        what: &'static str,
    ) -> Result<T, Error> {
        self.send(Method::GET, path_and_query, None)?.json(what)
    }

    /// `GET /v2/organization`.
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`].
    pub fn organization(&self) -> Result<Organization, Error> {
        Ok(self
            .get_json::<OrganizationResponse>("/v2/organization", "organization")?
            .organization)
    }

    /// One page of `GET /v2/bank_accounts` (`per_page` from 1 to 100).
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`].
    pub fn bank_accounts_page(&self, page: u32, per_page: u32) -> Result<BankAccountsPage, Error> {
        self.get_json(
            &format!("/v2/bank_accounts?page={page}&per_page={per_page}"),
            "bank accounts",
        )
    }

    /// Every bank account, following the pagination to the last page.
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`].
    pub fn bank_accounts(&self) -> Result<Vec<BankAccount>, Error> {
        let mut accounts = Vec::new();
        let mut page = 1;
        loop {
            let current = self.bank_accounts_page(page, 100)?;
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
    pub fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<(), Error> {
        let inner = &*self.inner;
        let Credentials::OAuth(driver) = &inner.auth else {
            return Err(Error::NotOAuth);
        };
        driver.exchange(
            code,
            pkce,
            &inner.agent,
            inner.config.max_body,
            &inner.clock,
        )
    }

    /// Refreshes the OAuth tokens now.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for API-key clients, [`Error::Auth`] when the refresh fails.
    pub fn refresh_now(&self) -> Result<(), Error> {
        let inner = &*self.inner;
        let Credentials::OAuth(driver) = &inner.auth else {
            return Err(Error::NotOAuth);
        };
        driver.refresh_now(&inner.agent, inner.config.max_body, &inner.clock)
    }

    /// Deletes the stored OAuth tokens.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for API-key clients, [`Error::Store`] when removal fails.
    pub fn logout(&self) -> Result<(), Error> {
        let Credentials::OAuth(driver) = &self.inner.auth else {
            return Err(Error::NotOAuth);
        };
        driver.logout()
    }

    /// The OAuth lifecycle status (no secrets), for OAuth clients.
    pub fn oauth_status(&self) -> Option<LifecycleStatus> {
        match &self.inner.auth {
            Credentials::OAuth(driver) => Some(driver.status(&self.inner.clock)),
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
