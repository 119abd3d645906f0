//! The async client: a short loop per operation over the core's state machines.

use std::sync::Arc;

use http::Method;
use qonto_auth_core::call::{Call, CallSpec, CallStep, Credential, Pages};
use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::model::{BankAccount, BankAccountsPage, Organization, OrganizationResponse};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AccessToken, AuthorizationCode};
use qonto_auth_core::{CallError, Environment, http};
use qonto_store::TokenStore;
use qonto_transport::{ApiResponse, Auth, ClientParts, ClientSettings, Error, StaticCredential};
use serde::de::DeserializeOwned;

use crate::oauth::OAuthDriver;
use crate::wire::{self, Io};
use qonto_store::AsyncTokenStore;

/// An async Qonto API client. Cheap to clone; clones share connections and tokens, so tasks
/// using clones of one client share a single refresh.
#[derive(Clone, Debug)]
pub struct Client(Arc<ClientParts<Arc<OAuthDriver>, Io>>);

/// Builds a [`Client`] with non-default transport settings, clock or lifecycle policy.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    settings: ClientSettings,
}

impl ClientBuilder {
    qonto_transport::builder_setters!(concat!("qonto-reqwest/", env!("CARGO_PKG_VERSION")));

    /// A client using a static API key; fails only if the HTTP client (TLS) cannot be set up.
    pub fn api_key(self, key: ApiKey) -> Result<Client, Error> {
        self.finish(Auth::Static(StaticCredential::api_key(key)))
    }

    /// A client using a fixed access token (never refreshed).
    pub fn access_token(self, token: AccessToken) -> Result<Client, Error> {
        self.finish(Auth::Static(StaticCredential::access_token(token)))
    }

    /// A client using OAuth tokens kept in a blocking `store`: a shared one (a file) runs on
    /// Tokio's blocking pool through [`BlockingStore`], a memory store inline.
    pub async fn oauth(
        self,
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
    ) -> Result<Client, Error> {
        self.oauth_async(client, crate::store::asynchronous(store))
            .await
    }

    /// A client using OAuth tokens kept in a natively async store (a database, a vault).
    pub async fn oauth_async(
        self,
        client: OAuthClient,
        store: Arc<dyn AsyncTokenStore>,
    ) -> Result<Client, Error> {
        let driver = OAuthDriver::new(self.settings.token_lifecycle(client), store).await?;
        self.finish(Auth::OAuth(Arc::new(driver)))
    }

    fn finish(self, auth: Auth<Arc<OAuthDriver>>) -> Result<Client, Error> {
        let ClientSettings {
            environment,
            transport,
            clock,
            ..
        } = self.settings;
        let io = Io::new(wire::http_client(&transport)?, transport.max_body, clock);
        Ok(Client(Arc::new(ClientParts::new(environment, auth, io))))
    }
}

impl Client {
    qonto_transport::client_basics!();

    /// A client using a static API key, with default settings.
    pub fn api_key(environment: Environment, key: ApiKey) -> Result<Self, Error> {
        ClientBuilder::new(environment).api_key(key)
    }

    /// A client using OAuth tokens kept in a blocking `store`, with default settings.
    pub async fn oauth(
        environment: Environment,
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, Error> {
        ClientBuilder::new(environment).oauth(client, store).await
    }

    /// Runs one call as the core's [`Call`] machine decides: authorize (refreshing first when
    /// due), send, classify; after a 401 on an OAuth token, one retry, never more.
    pub async fn call(&self, spec: CallSpec) -> Result<ApiResponse, Error> {
        let mut call = Call::new(&self.0.environment, spec)?;
        let mut step = call.start();
        loop {
            step = match step {
                CallStep::Authorize => call.handle_credential(self.credential().await),
                CallStep::Send(request) => call.handle_sent(self.0.io.send(request).await),
                CallStep::Unauthorized(used) => call.handle_advice(
                    self.0
                        .oauth()?
                        .life
                        .unauthorized(self.0.io.clock.now(), used),
                ),
                CallStep::Done(result) => return Ok(result?),
            }
        }
    }

    /// Sends a request with an optional JSON body; see [`Client::call`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<ApiResponse, Error> {
        self.call(CallSpec::new(method, path).json(json)).await
    }

    async fn credential(&self) -> Result<Credential, CallError> {
        match &self.0.auth {
            Auth::Static(credential) => credential.credential(),
            Auth::OAuth(driver) => Ok(driver.credential(&self.0.io).await?.into()),
        }
    }

    /// The `Authorization` value the next request would carry (refreshing first when due),
    /// for requests built by hand; marked sensitive.
    pub async fn authorization(&self) -> Result<http::HeaderValue, Error> {
        Ok(self.credential().await?.header)
    }

    /// Sends a GET and decodes its JSON answer (`what` names it in errors).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &'static str,
    ) -> Result<T, Error> {
        Ok(self.call(CallSpec::get(path)).await?.json(what)?)
    }

    /// `GET /v2/organization`.
    pub async fn organization(&self) -> Result<Organization, Error> {
        let answer: OrganizationResponse =
            self.get_json("/v2/organization", "organization").await?;
        Ok(answer.organization)
    }

    /// One page of `GET /v2/bank_accounts` (`per_page` from 1 to 100).
    pub async fn bank_accounts_page(
        &self,
        page: u32,
        per_page: u32,
    ) -> Result<BankAccountsPage, Error> {
        let path = format!("/v2/bank_accounts?page={page}&per_page={per_page}");
        self.get_json(&path, "bank accounts").await
    }

    /// Every bank account, 100 per page.
    pub async fn bank_accounts(&self) -> Result<Vec<BankAccount>, Error> {
        self.bank_accounts_paged(100).await
    }

    /// Every bank account, `per_page` at a time, within the core's bounds on pages and items.
    pub async fn bank_accounts_paged(&self, per_page: u32) -> Result<Vec<BankAccount>, Error> {
        let mut pages = Pages::new("/v2/bank_accounts", "bank_accounts", per_page);
        while let Some(path) = pages.poll_request() {
            let answer = self.call(CallSpec::get(path)).await?;
            pages.handle_page(&answer)?;
        }
        Ok(pages.into_items())
    }

    /// Exchanges an authorization code (from `auth login`) and stores the first tokens.
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<(), Error> {
        self.0.oauth()?.exchange(code, pkce, &self.0.io).await
    }

    /// Refreshes the OAuth tokens now, keeping the current ones if that fails; an error also
    /// when the new tokens could not be saved.
    pub async fn refresh_now(&self) -> Result<(), Error> {
        self.0.oauth()?.refresh_now(&self.0.io).await
    }

    /// Deletes the stored OAuth tokens.
    pub async fn logout(&self) -> Result<(), Error> {
        self.0.oauth()?.logout().await
    }
}
