//! The async client: a short loop per operation over the core's state machines.

use std::sync::Arc;

use http::Method;
use qonto_auth_core::call::{Call, CallSpec, CallStep, Credential, Pages, ScaChallenge};
use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::model::{BankAccount, BankAccountsPage, Organization, OrganizationResponse};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AccessToken, AuthorizationCode};
use qonto_auth_core::{CallError, Environment, http};
use qonto_store::TokenStore;
use qonto_transport::{
    ApiResponse, Auth, ClientParts, ClientSettings, Error, ScaPending, SharedLifecycle,
    StaticCredential, sca_required, trace,
};
use serde::de::DeserializeOwned;

use crate::oauth::OAuthDriver;
use crate::wire::{self, Io};
use qonto_store::AsyncTokenStore;

/// An async Qonto API client. Cheap to clone; clones share connections and tokens, so tasks
/// using clones of one client share a single refresh.
#[derive(Clone, Debug)]
pub struct Client(pub(crate) Arc<ClientParts<Arc<OAuthDriver>, Io>>);

qonto_transport::client_builder!();

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
    /// Tokio's blocking pool ([`BlockingStore`](crate::BlockingStore)), a memory store inline.
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
        let lifecycle = self.settings.token_lifecycle(client);
        let life = SharedLifecycle::start(lifecycle, store.is_shared(), store.load().await)?;
        let driver = OAuthDriver {
            life,
            store,
            finished: tokio::sync::Notify::new(),
        };
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

    /// A client using OAuth tokens kept in a blocking `store`, with default settings.
    pub async fn oauth(
        environment: Environment,
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, Error> {
        ClientBuilder::new(environment).oauth(client, store).await
    }

    /// Runs one call as the core's [`Call`] machine decides; strong customer authentication
    /// ends it with [`Error::ScaRequired`], whose handle [`Client::resume`] continues.
    pub async fn call(&self, spec: CallSpec) -> Result<ApiResponse, Error> {
        let span = trace::call(&spec);
        let mut call = Call::new(&self.0.environment, spec)?;
        let step = call.start();
        tracing::Instrument::instrument(self.run(call, step), span).await
    }

    /// As [`Client::call`], telling `on_challenge` what the user must approve, then waiting.
    pub async fn call_with_sca(
        &self,
        spec: CallSpec,
        on_challenge: impl FnOnce(&ScaChallenge) + Send,
    ) -> Result<ApiResponse, Error> {
        match self.call(spec).await {
            Err(Error::ScaRequired(pending)) => {
                on_challenge(pending.challenge());
                self.resume(*pending, None).await
            }
            other => other,
        }
    }

    /// Continues a call waiting for approval, or (`sms-otp`) replays it with the code `otp`.
    pub async fn resume(
        &self,
        pending: ScaPending,
        otp: Option<&str>,
    ) -> Result<ApiResponse, Error> {
        let mut call = pending.into_call();
        let step = match otp {
            Some(otp) => call.handle_otp(otp),
            None => call.handle_sca_wait(self.0.io.clock.now()),
        };
        self.run(call, step).await
    }

    async fn run(&self, mut call: Call, mut step: CallStep) -> Result<ApiResponse, Error> {
        let (parts, now) = (&*self.0, || self.0.io.clock.now());
        loop {
            step = match step {
                CallStep::Authorize => call.handle_credential(self.credential().await),
                CallStep::Send(request) => {
                    let answer = parts.io.send(request).await;
                    call.handle_sent(now(), answer)
                }
                CallStep::Unauthorized(used) => parts.advise(&mut call, used, now())?,
                CallStep::Sca(challenge) => return Err(sca_required(call, challenge)),
                CallStep::Sleep(until) => {
                    tokio::time::sleep(parts.io.clock.wait_until(until)).await;
                    call.handle_timeout(now())
                }
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

    pub(crate) async fn credential(&self) -> Result<Credential, CallError> {
        match &self.0.auth {
            Auth::Static(credential) => credential.credential(),
            Auth::OAuth(driver) => driver.credential(&self.0.io).await.map(trace::used),
        }
    }

    /// The `Authorization` value the next request would carry, for requests built by hand.
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

    /// Every bank account, `per_page` at a time (the core bounds pages and items).
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

    /// Refreshes the OAuth tokens now (an error also when they could not be saved).
    pub async fn refresh_now(&self) -> Result<(), Error> {
        self.0.oauth()?.refresh_now(&self.0.io).await
    }

    /// Deletes the stored OAuth tokens.
    pub async fn logout(&self) -> Result<(), Error> {
        self.0.oauth()?.logout().await
    }
}
