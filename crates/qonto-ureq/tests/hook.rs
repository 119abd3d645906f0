//! The hook over ureq's own configuration: it runs, and what it tries to undo is applied again
//! (no redirects, statuses as data, the staging header's exact casing).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, Gate, MockConfig, MockServer};
use qonto_ureq::qonto_auth_core::credentials::ApiKey;
use qonto_ureq::qonto_auth_core::environment::{Endpoints, Environment, EnvironmentKind};
use qonto_ureq::qonto_auth_core::secret::StagingToken;

#[test]
fn a_hook_cannot_undo_what_the_transport_relies_on() {
    let mock = MockServer::start(
        MockConfig::sandbox("stg")
            .with_api_gate(Gate::RedirectToOneLogin)
            .with_strict_header_case(true),
    )
    .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let call = |staging: &str| {
        let endpoints = Endpoints::new(&mock.url(), &mock.url()).unwrap();
        let token = Some(StagingToken::new(staging));
        let environment = Environment::new(EnvironmentKind::Sandbox, token, endpoints).unwrap();
        let runs = Arc::clone(&runs);
        qonto_ureq::Client::builder(environment)
            .configure_http_client(move |config| {
                runs.fetch_add(1, Ordering::SeqCst);
                config.max_redirects(10).http_status_as_error(true)
            })
            .api_key(ApiKey::parse(&format!("{DEMO_LOGIN}:{DEMO_SECRET}")).unwrap())
            .unwrap()
            .organization()
    };
    // The exact casing still reaches the strict mock, and a 302 to OneLogin is still the
    // sandbox gate, not followed (following it would leave loopback and fail).
    assert_eq!(call("stg").unwrap().slug, "demo-org-1234");
    assert_eq!(call("wrong").unwrap_err().code(), "sandbox_gate");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
