//! The blocking client: a short loop per operation over the core's state machines.

use std::sync::Arc;

use http::Method;
use qonto_auth_core::call::{Call, CallSpec, CallStep, Credential, Pages};
use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::lifecycle::{Event, LifecycleStatus};
use qonto_auth_core::model::{BankAccount, BankAccountsPage, Organization, OrganizationResponse};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AccessToken, AuthorizationCode};
use qonto_auth_core::{Environment, http};
use qonto_store::TokenStore;
use qonto_transport::{ApiResponse, Auth, ClientParts, ClientSettings, Error, StaticCredential};
use serde::de::DeserializeOwned;

use crate::oauth::{Io, OAuthDriver};
use crate::wire;

/// A blocking Qonto API client. Cheap to clone; clones share connections and tokens.
#[derive(Clone, Debug)]
pub struct Client(Arc<ClientParts<OAuthDriver, Io>>);

/// Builds a [`Client`] with non-default transport settings, clock or lifecycle policy.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    settings: ClientSettings,
}

impl ClientBuilder {
    /// Starts a builder for an environment.
    pub fn new(environment: Environment) -> Self {
        let agent = concat!("qonto-ureq/", env!("CARGO_PKG_VERSION"));
        Self {
            settings: ClientSettings::new(environment, agent),
        }
    }

    qonto_transport::builder_setters!();

    /// A client using a static API key.
    pub fn api_key(self, key: ApiKey) -> Client {
        self.finish(Auth::Static(StaticCredential::api_key(key)))
    }

    /// A client using a fixed access token (never refreshed).
    pub fn access_token(self, token: AccessToken) -> Client {
        self.finish(Auth::Static(StaticCredential::access_token(token)))
    }

    /// A client using OAuth tokens kept in `store`.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store cannot be read.
    pub fn oauth(self, client: OAuthClient, store: Arc<dyn TokenStore>) -> Result<Client, Error> {
        let driver = OAuthDriver::new(self.settings.token_lifecycle(client), store)?;
        Ok(self.finish(Auth::OAuth(driver)))
    }

    fn finish(self, auth: Auth<OAuthDriver>) -> Client {
        let ClientSettings {
            environment,
            transport,
            clock,
            ..
        } = self.settings;
        let (agent, max_body) = (wire::agent(&transport), transport.max_body);
        let io = Io {
            agent,
            max_body,
            clock,
        };
        Client(Arc::new(ClientParts {
            environment,
            auth,
            io,
        }))
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
        &self.0.environment
    }

    /// Runs one call as the core's [`Call`] machine decides: authorize (refreshing first when
    /// due), send, classify, and after a 401 on an OAuth token one retry, never more.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with the classified failure, or a transport, token or request error.
    pub fn call(&self, spec: CallSpec) -> Result<ApiResponse, Error> {
        let inner = &*self.0;
        let mut call = Call::new(&inner.environment, spec)?;
        let mut step = call.start();
        loop {
            step = match step {
                CallStep::Authorize => call.handle_credential(self.credential()),
                CallStep::Send(request) => call.handle_sent(inner.io.send(request)),
                CallStep::Unauthorized(used) => {
                    call.handle_advice(self.0.oauth()?.unauthorized(used, &inner.io))
                }
                CallStep::Done(result) => return Ok(result?),
            }
        }
    }

    /// Sends a request with an optional JSON body; see [`Client::call`].
    ///
    /// # Errors
    ///
    /// As [`Client::call`].
    pub fn send(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<ApiResponse, Error> {
        self.call(CallSpec::new(method, path).json(json))
    }

    fn credential(&self) -> Result<Credential, qonto_auth_core::CallError> {
        match &self.0.auth {
            Auth::Static(credential) => credential.credential(),
            Auth::OAuth(driver) => driver.credential(&self.0.io).map(Credential::from),
        }
    }

    /// The `Authorization` value the next request would carry (refreshing first when due),
    /// for requests built by hand. Marked sensitive.
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] when no usable OAuth token can be had, [`Error::Request`] when a
    /// credential cannot be encoded.
    pub fn authorization(&self) -> Result<http::HeaderValue, Error> {
        Ok(self.credential()?.header)
    }

    /// Sends a GET and decodes the JSON answer (`what` names it in errors).
    ///
    /// # Errors
    ///
    /// As [`Client::call`], plus [`Error::Decode`].
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &'static str,
    ) -> Result<T, Error> {
        Ok(self.call(CallSpec::get(path))?.json(what)?)
    }

    /// `GET /v2/organization`.
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`].
    pub fn organization(&self) -> Result<Organization, Error> {
        let response: OrganizationResponse = self.get_json("/v2/organization", "organization")?;
        Ok(response.organization)
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

    /// Every bank account, 100 per page; see [`Client::bank_accounts_paged`].
    ///
    /// # Errors
    ///
    /// As [`Client::bank_accounts_paged`].
    pub fn bank_accounts(&self) -> Result<Vec<BankAccount>, Error> {
        self.bank_accounts_paged(100)
    }

    /// Every bank account, `per_page` at a time, following the pagination within the core's
    /// bounds on pages and items.
    ///
    /// # Errors
    ///
    /// As [`Client::get_json`], plus [`Error::Pagination`].
    pub fn bank_accounts_paged(&self, per_page: u32) -> Result<Vec<BankAccount>, Error> {
        let mut pages = Pages::new("/v2/bank_accounts", "bank_accounts", per_page);
        while let Some(path) = pages.poll_request() {
            pages.handle_page(&self.call(CallSpec::get(path))?)?;
        }
        Ok(pages.into_items())
    }

    /// Exchanges an authorization code (from `auth login`) and stores the first tokens.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for static credentials, [`Error::Auth`] when the exchange fails.
    pub fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<(), Error> {
        self.0.oauth()?.exchange(code, pkce, &self.0.io)
    }

    /// Refreshes the OAuth tokens now, keeping the current ones if that fails.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for static credentials, [`Error::Auth`] when the refresh fails or
    /// its tokens could not be saved.
    pub fn refresh_now(&self) -> Result<(), Error> {
        self.0.oauth()?.refresh_now(&self.0.io)
    }

    /// Deletes the stored OAuth tokens.
    ///
    /// # Errors
    ///
    /// [`Error::NotOAuth`] for static credentials, [`Error::Store`] when removal fails.
    pub fn logout(&self) -> Result<(), Error> {
        self.0.oauth()?.logout()
    }

    /// The OAuth lifecycle status (no secrets), for OAuth clients.
    pub fn oauth_status(&self) -> Option<LifecycleStatus> {
        Some(self.0.oauth().ok()?.status(&self.0.io))
    }

    /// The lifecycle's events since the last call (refreshes, in-doubt refreshes, a refresh
    /// token nearing its end …), oldest first; none for static credentials.
    pub fn take_events(&self) -> Vec<Event> {
        self.0
            .oauth()
            .map(OAuthDriver::take_events)
            .unwrap_or_default()
    }
}
