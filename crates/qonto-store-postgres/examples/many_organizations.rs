//! An application that serves many organizations: it receives the OAuth callbacks of all of
//! them on one redirect URI and stores each consent under its own connection id, on one
//! PostgreSQL pool; a second replica then serves the same organizations without a new login.
//!
//! Runs against the mock (which approves consents at once) and a database:
//!
//! ```sh
//! cargo run -p qonto-store-postgres --example many_organizations                 # a throwaway cluster
//! cargo run -p qonto-store-postgres --example many_organizations -- postgres://app@127.0.0.1/app
//! ```
#![allow(clippy::print_stdout, reason = "an example reports on stdout")]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use qonto_auth_core::Environment;
use qonto_auth_core::credentials::OAuthClient;
use qonto_auth_core::environment::{Endpoints, EnvironmentKind};
use qonto_auth_core::oauth::{AuthorizeUrl, CsrfState, PkceVerifier, parse_callback};
use qonto_auth_core::secret::ClientSecret;
use qonto_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, MockConfig, MockServer};
use qonto_store_postgres::{ConnectionId, PgConfig, PgTokens};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the application keeps between sending a user to Qonto and the callback: server side,
/// keyed by the `state` (in a real application, its session store or a table of its own).
struct Pending {
    connection: ConnectionId,
    state: CsrfState,
    verifier: PkceVerifier,
}

/// The application: one token pool, one client per organization, the consents in progress.
struct App {
    environment: Environment,
    oauth: OAuthClient,
    tokens: PgTokens,
    clients: Mutex<HashMap<ConnectionId, qonto_reqwest::Client>>,
    pending: Mutex<HashMap<String, Pending>>,
}

impl App {
    /// Step 1: the URL to send this organization's admin to.
    fn begin(&self, connection: ConnectionId) -> Result<String, Error> {
        let (state, verifier) = (CsrfState::random()?, PkceVerifier::random()?);
        let scopes = ["offline_access", "organization.read"];
        let url = AuthorizeUrl::new(&self.oauth, &scopes, &state)
            .pkce(&verifier)
            .build(self.environment.endpoints());
        let pending = Pending {
            connection,
            state,
            verifier,
        };
        lock(&self.pending).insert(pending.state.as_str().to_owned(), pending);
        Ok(url)
    }

    /// Step 2: the one callback handler, for every organization. The `state` says whose
    /// consent it is (and is used once); the tokens are committed under that connection id.
    async fn callback(&self, callback_url: &str) -> Result<ConnectionId, Error> {
        let returned = query_param(callback_url, "state").ok_or("no state in the callback")?;
        let pending = lock(&self.pending)
            .remove(&returned)
            .ok_or("unknown or already used state")?;
        let code = parse_callback(callback_url, &pending.state)?;
        let client = self.client(&pending.connection).await?;
        client.exchange_code(&code, Some(&pending.verifier)).await?;
        Ok(pending.connection)
    }

    /// Step 3: the client of one organization, built once, on the shared pool.
    async fn client(&self, connection: &ConnectionId) -> Result<qonto_reqwest::Client, Error> {
        if let Some(client) = lock(&self.clients).get(connection) {
            return Ok(client.clone());
        }
        let store = Arc::new(self.tokens.store(connection.clone()));
        let client = qonto_reqwest::Client::builder(self.environment.clone())
            .oauth_async(self.oauth.clone(), store)
            .await?;
        lock(&self.clients).insert(connection.clone(), client.clone());
        Ok(client)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mock = MockServer::start(MockConfig::default().with_auto_approve(true))?;
    let (_cluster, url) = match std::env::args().nth(1) {
        Some(url) => (None, url),
        None => {
            let cluster = qonto_pg_testkit::PgCluster::start()?;
            let url = cluster.url();
            (Some(cluster), url)
        }
    };
    let app = |tokens: PgTokens| -> Result<App, Error> {
        let endpoints = Endpoints::new(&mock.url(), &mock.url())?;
        Ok(App {
            environment: Environment::new(EnvironmentKind::Production, None, endpoints)?,
            oauth: OAuthClient::new(
                DEMO_CLIENT_ID,
                ClientSecret::new(DEMO_CLIENT_SECRET),
                DEMO_REDIRECT_URI,
            )?,
            tokens,
            clients: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
        })
    };
    let tokens = PgTokens::new(PgConfig::from_url(&url)?)?;
    tokens.migrate().await?;
    let replica_one = app(tokens)?;

    // Three organizations connect, each through the browser, all to the same callback URL.
    let organizations = ["acme-sas", "globex-gmbh", "initech-bv"];
    for org in organizations {
        let authorize = replica_one.begin(ConnectionId::new(org)?)?;
        let callback = browser_follows(&authorize)?; // the admin clicks "Allow"
        let stored = replica_one.callback(&callback).await?;
        println!("consent of {stored} stored");
    }

    // Another replica (its own pool) serves the same organizations, without a login.
    let replica_two = app(PgTokens::new(PgConfig::from_url(&url)?)?)?;
    for connection in replica_two.tokens.connection_ids().await? {
        let organization = replica_two
            .client(&connection)
            .await?
            .organization()
            .await?;
        println!(
            "{connection}: {} ({} bank accounts)",
            organization.slug,
            organization.bank_accounts.len()
        );
    }
    println!(
        "database round trips: {} on replica one, {} on replica two",
        replica_one.tokens.stats().round_trips,
        replica_two.tokens.stats().round_trips
    );
    Ok(())
}

/// What the admin's browser does: opens the authorize URL and gets redirected to the
/// application's callback (the mock approves at once). Returns the callback URL.
fn browser_follows(authorize: &str) -> Result<String, Error> {
    let rest = authorize
        .strip_prefix("http://")
        .ok_or("not a loopback URL")?;
    let (host, target) = rest.split_once('/').ok_or("no path")?;
    let mut connection = std::net::TcpStream::connect(host)?;
    write!(
        connection,
        "GET /{target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    connection.read_to_string(&mut answer)?;
    let location = answer
        .lines()
        .find_map(|l| {
            l.strip_prefix("Location: ")
                .or_else(|| l.strip_prefix("location: "))
        })
        .ok_or("the authorize page did not redirect")?;
    Ok(location.trim().to_owned())
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes()).find_map(|(k, v)| (k == name).then(|| v.into_owned()))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
