//! Tracing never shows a secret: every span and event of both transports, captured while they
//! go through a sandbox API-key call with a query, a rate limit, a 401 refreshed and retried,
//! a proactive refresh and a grant that is gone, holds none of the sentinel secrets in play
//! (API secret, staging token, client secret, query value, access and refresh tokens, issued
//! or rotated) and does hold what a reader needs (spans, statuses, trace ids, fingerprints).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use qonto_auth_core::credentials::{ApiKey, OAuthClient};
use qonto_auth_core::http::Method;
use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken};
use qonto_e2e::driver::Kind;
use qonto_e2e::issued_tokens;
use qonto_mock::{DEMO_REDIRECT_URI, DEMO_SCOPES, MockConfig, MockServer, RateLimit};
use qonto_store::{MemoryStore, TokenStore};
use tracing_subscriber::fmt::format::FmtSpan;

/// The API-key login (not a secret).
const LOGIN: &str = "sentinel-org";

/// The secrets given to the clients, each a sentinel that no output may hold.
struct Sentinels {
    api_secret: &'static str,
    staging: &'static str,
    client_secret: &'static str,
    query: &'static str,
    rejected_access: &'static str,
    gone_refresh: &'static str,
}

const S: Sentinels = Sentinels {
    api_secret: "SENTINEL0api0secret0123456789abc",
    staging: "SENTINEL-staging-token-4242",
    client_secret: "SENTINEL-client-secret-7777",
    query: "SENTINEL-query-value",
    rejected_access: "ory_at_SENTINEL_rejected",
    gone_refresh: "ory_rt_SENTINEL_gone",
};

/// Everything the subscriber wrote.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut text = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sandbox API-key client making two calls with a secret in the query, then a third that
/// the mock's rate limit (two a window) refuses.
fn api_key_calls(kind: Kind) {
    let mock = MockServer::start(
        MockConfig::sandbox(S.staging)
            .with_api_key(LOGIN, S.api_secret)
            .with_rate_limit(RateLimit {
                max_requests: 2,
                window: Duration::from_secs(60),
            }),
    )
    .unwrap();
    let key = ApiKey::parse(&format!("{LOGIN}:{}", S.api_secret)).unwrap();
    let client = kind.for_mock(&mock, Some(S.staging)).api_key(key).unwrap();
    let path = format!("/v2/organization?secret={}", S.query);
    for _ in 0..2 {
        assert_eq!(client.send(Method::GET, &path, None).unwrap().status, 200);
    }
    let error = client.send(Method::GET, &path, None).unwrap_err();
    assert_eq!(error.code(), "rate_limited", "{error}");
}

/// OAuth with a client secret of our own: a rejected access token (refreshed, retried once),
/// a proactive refresh an hour later, then a refresh token the server no longer knows.
/// Returns every token value that was in play.
fn oauth_calls(kind: Kind) -> Vec<String> {
    let scopes = DEMO_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let mock = MockServer::start(MockConfig::default().with_client(qonto_mock::OAuthClient {
        client_id: "sentinel-client".to_owned(),
        client_secret: S.client_secret.to_owned(),
        redirect_uris: vec![DEMO_REDIRECT_URI.to_owned()],
        allowed_scopes: scopes,
    }))
    .unwrap();
    let client_of = |store: Arc<MemoryStore>| {
        let secret = ClientSecret::new(S.client_secret);
        let oauth = OAuthClient::new("sentinel-client", secret, DEMO_REDIRECT_URI).unwrap();
        kind.for_mock(&mock, None).oauth(oauth, store).unwrap()
    };
    let issued = mock.issue_tokens("sentinel-client", "offline_access organization.read");
    let mut tokens = issued_tokens(&mock);
    let mut seen = vec![tokens.access_token.expose_secret().to_owned()];
    seen.extend(
        tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
    );
    tokens.access_token = AccessToken::new(S.rejected_access);
    tokens.refresh_token = issued.refresh_token.clone().map(RefreshToken::new);
    seen.extend([
        issued.access_token,
        issued.refresh_token.unwrap_or_default(),
    ]);
    let store = Arc::new(MemoryStore::with_tokens(tokens.clone()));
    let client = client_of(Arc::clone(&store));
    client.organization().unwrap();
    mock.clock().advance(Duration::from_secs(3_600));
    client.organization().unwrap();
    assert_eq!(mock.stats().token_calls("refresh_token"), 2);
    let rotated = store.load().unwrap().unwrap();
    seen.push(rotated.access_token.expose_secret().to_owned());
    seen.extend(rotated.refresh_token.map(|t| t.expose_secret().to_owned()));

    tokens.refresh_token = Some(RefreshToken::new(S.gone_refresh));
    let gone = client_of(Arc::new(MemoryStore::with_tokens(tokens)));
    let error = gone.organization().unwrap_err();
    assert_eq!(error.code(), "reauthorization_required", "{error}");
    seen
}

#[test]
fn spans_and_events_of_both_transports_hold_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    // Global: the async transport runs on worker threads of its own runtime.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let mut secrets: Vec<String> = [
        S.api_secret,
        S.staging,
        S.client_secret,
        S.query,
        S.rejected_access,
        S.gone_refresh,
    ]
    .map(str::to_owned)
    .into();
    for kind in [Kind::Ureq, Kind::Reqwest] {
        api_key_calls(kind);
        secrets.extend(oauth_calls(kind));
    }

    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !text.contains(secret.as_str()),
            "a secret was traced: {secret}"
        );
    }
    for expected in [
        "qonto_call{method=GET path=/v2/organization",
        "status=200",
        "trace_id=",
        "token=",
        "qonto_token_attempt{",
        "rate limited",
        "401: refreshing, then retrying once",
        "access token rejected (401)",
        "token refreshed",
        "re-authorization required",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}
