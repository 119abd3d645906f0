//! The blocking client: a short loop per operation over the core's state machines.

use std::sync::Arc;

use qonto_auth_core::call::{Call, CallSpec, CallStep, Credential, Pages, ScaChallenge};
use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::http::{HeaderValue, Method};
use qonto_auth_core::model::{BankAccount, BankAccountsPage, Organization, OrganizationResponse};
use qonto_auth_core::oauth::PkceVerifier;
use qonto_auth_core::secret::{AccessToken, AuthorizationCode};
use qonto_auth_core::{CallError, Environment};
use qonto_store::TokenStore;
use qonto_transport::{
    ApiResponse, Auth, ClientParts, ClientSettings, Error, ScaPending, SharedLifecycle,
    StaticCredential, sca_required,
};
use serde::de::DeserializeOwned;

use crate::oauth::OAuthDriver;
use crate::wire::{self, Io};

/// A blocking Qonto API client. Cheap to clone; clones share connections and tokens.
#[derive(Clone, Debug)]
pub struct Client(pub(crate) Arc<ClientParts<OAuthDriver, Io>>);

qonto_transport::client_builder!();

impl ClientBuilder {
    qonto_transport::builder_setters!(concat!("qonto-ureq/", env!("CARGO_PKG_VERSION")));

    /// A client using a static API key (this transport's setup cannot fail).
    pub fn api_key(self, key: ApiKey) -> Result<Client, Error> {
        Ok(self.finish(Auth::Static(StaticCredential::api_key(key))))
    }

    /// A client using a fixed access token (never refreshed).
    pub fn access_token(self, token: AccessToken) -> Result<Client, Error> {
        Ok(self.finish(Auth::Static(StaticCredential::access_token(token))))
    }

    /// A client using OAuth tokens kept in `store`; fails when the store cannot be read.
    pub fn oauth(self, client: OAuthClient, store: Arc<dyn TokenStore>) -> Result<Client, Error> {
        let lifecycle = self.settings.token_lifecycle(client);
        let life = SharedLifecycle::start(lifecycle, store.is_shared(), store.load())?;
        let finished = std::sync::Condvar::new();
        Ok(self.finish(Auth::OAuth(OAuthDriver {
            life,
            finished,
            store,
        })))
    }

    fn finish(self, auth: Auth<OAuthDriver>) -> Client {
        let ClientSettings {
            environment,
            transport,
            clock,
            ..
        } = self.settings;
        let io = Io::new(wire::agent(&transport), transport.max_body, clock);
        Client(Arc::new(ClientParts::new(environment, auth, io)))
    }
}

impl Client {
    qonto_transport::client_basics!();

    /// A client using OAuth tokens kept in `store`, with default settings.
    pub fn oauth(
        environment: Environment,
        client: OAuthClient,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, Error> {
        ClientBuilder::new(environment).oauth(client, store)
    }

    /// Runs one call as the core's [`Call`] machine decides; strong customer authentication
    /// ends it with [`Error::ScaRequired`], whose handle [`Client::resume`] continues.
    pub fn call(&self, spec: CallSpec) -> Result<ApiResponse, Error> {
        let _span = qonto_transport::trace::call(&spec).entered();
        let mut call = Call::new(&self.0.environment, spec)?;
        let step = call.start();
        self.run(call, step)
    }

    /// As [`Client::call`], telling `on_challenge` what the user must approve, then waiting.
    pub fn call_with_sca(
        &self,
        spec: CallSpec,
        on_challenge: impl FnOnce(&ScaChallenge),
    ) -> Result<ApiResponse, Error> {
        match self.call(spec) {
            Err(Error::ScaRequired(pending)) => {
                on_challenge(pending.challenge());
                self.resume(*pending, None)
            }
            other => other,
        }
    }

    /// Continues a call waiting for approval, or (`sms-otp`) replays it with the code `otp`.
    pub fn resume(&self, pending: ScaPending, otp: Option<&str>) -> Result<ApiResponse, Error> {
        let mut call = pending.into_call();
        let step = match otp {
            Some(otp) => call.handle_otp(otp),
            None => call.handle_sca_wait(self.0.io.clock.now()),
        };
        self.run(call, step)
    }

    fn run(&self, mut call: Call, mut step: CallStep) -> Result<ApiResponse, Error> {
        let (parts, now) = (&*self.0, || self.0.io.clock.now());
        loop {
            step = match step {
                CallStep::Authorize => call.handle_credential(self.credential()),
                CallStep::Send(request) => call.handle_sent(now(), parts.io.send(request)),
                CallStep::Unauthorized(used) => parts.advise(&mut call, used, now())?,
                CallStep::Sca(challenge) => return Err(sca_required(call, challenge)),
                CallStep::Sleep(until) => {
                    std::thread::sleep(parts.io.clock.wait_until(until));
                    call.handle_timeout(now())
                }
                CallStep::Done(result) => return Ok(result?),
            }
        }
    }

    pub(crate) fn credential(&self) -> Result<Credential, CallError> {
        match &self.0.auth {
            Auth::Static(credential) => credential.credential(),
            Auth::OAuth(driver) => driver
                .credential(&self.0.io)
                .map(qonto_transport::trace::used),
        }
    }

    /// Sends a request with an optional JSON body; see [`Client::call`].
    pub fn send(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<ApiResponse, Error> {
        self.call(CallSpec::new(method, path).json(json))
    }

    /// The `Authorization` value the next request would carry, for requests built by hand.
    pub fn authorization(&self) -> Result<HeaderValue, Error> {
        Ok(self.credential()?.header)
    }

    /// Sends a GET and decodes its JSON answer (`what` names it in errors).
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &'static str,
    ) -> Result<T, Error> {
        Ok(self.call(CallSpec::get(path))?.json(what)?)
    }

    /// `GET /v2/organization`.
    pub fn organization(&self) -> Result<Organization, Error> {
        Ok(self
            .get_json::<OrganizationResponse>("/v2/organization", "organization")?
            .organization)
    }

    /// One page of `GET /v2/bank_accounts` (`per_page` from 1 to 100).
    pub fn bank_accounts_page(&self, page: u32, per_page: u32) -> Result<BankAccountsPage, Error> {
        self.get_json(
            &format!("/v2/bank_accounts?page={page}&per_page={per_page}"),
            "bank accounts",
        )
    }

    /// Every bank account, 100 per page.
    pub fn bank_accounts(&self) -> Result<Vec<BankAccount>, Error> {
        self.bank_accounts_paged(100)
    }

    /// Every bank account, `per_page` at a time (the core bounds pages and items).
    pub fn bank_accounts_paged(&self, per_page: u32) -> Result<Vec<BankAccount>, Error> {
        let mut pages = Pages::new("/v2/bank_accounts", "bank_accounts", per_page);
        while let Some(path) = pages.poll_request() {
            pages.handle_page(&self.call(CallSpec::get(path))?)?;
        }
        Ok(pages.into_items())
    }

    /// Exchanges an authorization code (from `auth login`) and stores the first tokens.
    pub fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce: Option<&PkceVerifier>,
    ) -> Result<(), Error> {
        self.0.oauth()?.exchange(code, pkce, &self.0.io)
    }

    /// Refreshes the OAuth tokens now (an error also when they could not be saved).
    pub fn refresh_now(&self) -> Result<(), Error> {
        self.0.oauth()?.refresh_now(&self.0.io)
    }

    /// Deletes the stored OAuth tokens.
    pub fn logout(&self) -> Result<(), Error> {
        self.0.oauth()?.logout()
    }
}
