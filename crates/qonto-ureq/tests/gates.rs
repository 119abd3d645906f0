//! The sandbox gate and credential failures come back classified, with trace ids.

mod common;

use std::sync::Arc;

use qonto_auth_core::credentials::ApiKey;
use qonto_mock::{Gate, MockConfig, TokenGate};
use qonto_store::MemoryStore;
use qonto_ureq::Client;

#[test]
fn every_gate_style_is_the_staging_token_error() {
    for gate in [Gate::HtmlPage, Gate::RedirectToOneLogin] {
        let mock = common::start(MockConfig::sandbox("right").with_api_gate(gate));
        let client = common::api_key_client(&mock, Some("wrong"));
        let err = client.organization().unwrap_err();
        assert_eq!(err.code(), "sandbox_gate", "{err}");
        assert!(err.trace_id().is_some());
        let ok = common::api_key_client(&mock, Some("right"));
        ok.organization().unwrap();
    }
}

#[test]
fn the_token_endpoint_gate_is_a_configuration_error() {
    let mock = common::start(
        MockConfig::sandbox("right").with_token_gate(TokenGate::RedirectToDeveloperPortal),
    );
    let env = common::environment(&mock, Some("wrong"));
    let client = Client::oauth(env, common::oauth_client(), Arc::new(MemoryStore::new())).unwrap();
    let err = client
        .exchange_code(&qonto_auth_core::secret::AuthorizationCode::new("x"), None)
        .unwrap_err();
    assert_eq!(err.code(), "sandbox_gate", "{err}");
}

#[test]
fn rejected_api_keys_are_unauthorized_with_a_trace_id() {
    let mock = common::start(MockConfig::default());
    let env = common::environment(&mock, None);
    let client = Client::api_key(env, ApiKey::parse("demo-org-1234:wrong").unwrap()).unwrap();
    let err = client.organization().unwrap_err();
    assert_eq!(err.code(), "unauthorized");
    let qonto_ureq::Error::Api(api) = &err else {
        panic!()
    };
    assert_eq!(api.trace_id.as_deref().map(str::len), Some(32));
}

#[test]
fn network_failures_are_typed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let endpoints = qonto_auth_core::environment::Endpoints::new(&url, &url).unwrap();
    let env = qonto_auth_core::Environment::new(
        qonto_auth_core::EnvironmentKind::Production,
        None,
        endpoints,
    )
    .unwrap();
    let client = Client::api_key(env, ApiKey::parse("a-1:b").unwrap()).unwrap();
    let err = client.organization().unwrap_err();
    assert_eq!(err.code(), "network_error", "{err}");
}
