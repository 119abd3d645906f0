//! The sandbox gate and credential failures come back classified, with trace ids.

mod common;

use std::sync::Arc;

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::secret::AuthorizationCode;
use qonto_mock::{Gate, MockConfig, TokenGate};
use qonto_reqwest::{Client, Error};
use qonto_store::MemoryStore;

#[tokio::test]
async fn every_api_gate_style_is_the_staging_token_error() {
    for gate in [Gate::HtmlPage, Gate::RedirectToOneLogin] {
        let mock = common::start(MockConfig::sandbox("right").with_api_gate(gate));
        let client = common::api_key_client(&mock, Some("wrong"));
        let err = client.organization().await.unwrap_err();
        assert!(matches!(err, Error::Api(_)), "{gate:?}: {err:?}");
        assert_eq!(err.code(), "sandbox_gate", "{gate:?}: {err}");
        assert!(err.trace_id().is_some(), "{gate:?}");
        let ok = common::api_key_client(&mock, Some("right"));
        ok.organization().await.unwrap();
    }
}

#[tokio::test]
async fn every_token_gate_style_is_a_configuration_error() {
    for (token_gate, api_gate) in [
        (TokenGate::RedirectToDeveloperPortal, Gate::HtmlPage),
        (TokenGate::SameAsApi, Gate::HtmlPage),
        (TokenGate::SameAsApi, Gate::RedirectToOneLogin),
    ] {
        let mock = common::start(
            MockConfig::sandbox("right")
                .with_token_gate(token_gate)
                .with_api_gate(api_gate),
        );
        let env = common::environment(&mock, Some("wrong"));
        let client = Client::oauth(env, common::oauth_client(), Arc::new(MemoryStore::new()))
            .await
            .unwrap();
        let err = client
            .exchange_code(&AuthorizationCode::new("x"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Auth(_)), "{token_gate:?}: {err:?}");
        assert_eq!(err.code(), "sandbox_gate", "{token_gate:?}: {err}");
    }
}

#[tokio::test]
async fn rejected_api_keys_are_unauthorized_with_a_trace_id() {
    let mock = common::start(MockConfig::default());
    let env = common::environment(&mock, None);
    let client = Client::api_key(env, ApiKey::parse("demo-org-1234:wrong").unwrap()).unwrap();
    let err = client.organization().await.unwrap_err();
    assert_eq!(err.code(), "unauthorized");
    let Error::Api(api) = &err else { panic!() };
    assert_eq!(api.trace_id.as_deref().map(str::len), Some(32));
    assert_eq!(err.trace_id(), api.trace_id.as_deref());
}

#[tokio::test]
async fn errors_carry_no_secret() {
    let mock = common::start(MockConfig::sandbox("right-staging-secret"));
    let client = common::api_key_client(&mock, Some("wrong-staging-secret"));
    let err = client.organization().await.unwrap_err();
    for text in [format!("{err}"), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains("staging-secret"), "{text}");
        assert!(!text.contains(qonto_mock::DEMO_SECRET), "{text}");
    }
}
