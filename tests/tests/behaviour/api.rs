//! API answers against qonto-mock, classified alike by both transports: the sandbox gates,
//! rejected keys, rate limits, pagination, and errors that never carry a secret.

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::secret::AuthorizationCode;
use qonto_e2e::demo_client;
use qonto_e2e::driver::Kind;
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, Gate, MockConfig, RateLimit, TokenGate};
use qonto_store::MemoryStore;
use qonto_ureq::Error;

use crate::support::{mock, start};

scenarios!(
    every_api_gate_style_is_the_staging_token_error,
    every_token_gate_style_is_a_configuration_error,
    rejected_api_keys_are_unauthorized_with_a_trace_id,
    rate_limited_calls_are_rate_limited,
    errors_carry_no_secret,
    convenience_calls_follow_pagination,
);

fn every_api_gate_style_is_the_staging_token_error(kind: Kind) {
    for gate in [Gate::HtmlPage, Gate::RedirectToOneLogin] {
        let mock = start(MockConfig::sandbox("right").with_api_gate(gate));
        let err = kind
            .api_key_client(&mock, Some("wrong"))
            .organization()
            .unwrap_err();
        assert!(matches!(err, Error::Api(_)), "{gate:?}: {err:?}");
        assert_eq!(err.code(), "sandbox_gate", "{gate:?}: {err}");
        assert!(err.trace_id().is_some(), "{gate:?}");
        let ok = kind.api_key_client(&mock, Some("right"));
        ok.organization().unwrap();
    }
}

fn every_token_gate_style_is_a_configuration_error(kind: Kind) {
    for (token_gate, api_gate) in [
        (TokenGate::RedirectToDeveloperPortal, Gate::HtmlPage),
        (TokenGate::SameAsApi, Gate::HtmlPage),
        (TokenGate::SameAsApi, Gate::RedirectToOneLogin),
    ] {
        let config = MockConfig::sandbox("right")
            .with_token_gate(token_gate)
            .with_api_gate(api_gate);
        let mock = start(config);
        let client = kind
            .for_mock(&mock, Some("wrong"))
            .oauth(demo_client(), Arc::new(MemoryStore::new()))
            .unwrap();
        let err = client
            .exchange_code(&AuthorizationCode::new("x"), None)
            .unwrap_err();
        assert!(matches!(err, Error::Auth(_)), "{token_gate:?}: {err:?}");
        assert_eq!(err.code(), "sandbox_gate", "{token_gate:?}: {err}");
    }
}

fn rejected_api_keys_are_unauthorized_with_a_trace_id(kind: Kind) {
    let mock = mock();
    let key = ApiKey::parse(&format!("{DEMO_LOGIN}:wrong")).unwrap();
    let client = kind.for_mock(&mock, None).api_key(key).unwrap();
    let err = client.organization().unwrap_err();
    assert_eq!(err.code(), "unauthorized", "{err}");
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.trace_id.as_deref().map(str::len), Some(32));
    assert_eq!(err.trace_id(), api.trace_id.as_deref());
}

fn rate_limited_calls_are_rate_limited(kind: Kind) {
    let mock = start(MockConfig::default().with_rate_limit(RateLimit {
        max_requests: 0,
        window: Duration::from_secs(10),
    }));
    let err = kind.api_key_client(&mock, None).organization().unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert_eq!(err.code(), "rate_limited", "{err}");
}

fn errors_carry_no_secret(kind: Kind) {
    let mock = start(MockConfig::sandbox("right-staging-secret"));
    let client = kind.api_key_client(&mock, Some("wrong-staging-secret"));
    let err = client.organization().unwrap_err();
    assert_eq!(err.code(), "sandbox_gate", "{err}");
    for text in [format!("{err}"), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains("staging-secret"), "{text}");
        assert!(!text.contains(DEMO_SECRET), "{text}");
    }
}

fn convenience_calls_follow_pagination(kind: Kind) {
    let mock = mock();
    let client = kind.api_key_client(&mock, None);
    let all = client.bank_accounts().unwrap();
    assert_eq!(all.len(), 3);
    let paged = client.bank_accounts_paged(1).unwrap();
    assert_eq!(mock.stats().requests("/v2/bank_accounts", 200), 4);
    let ids = |accounts: &[qonto_auth_core::model::BankAccount]| -> Vec<_> {
        accounts.iter().map(|a| a.id.clone()).collect()
    };
    assert_eq!(ids(&paged), ids(&all));
    let page = client.bank_accounts_page(2, 2).unwrap();
    assert_eq!(page.bank_accounts.len(), 1);
    assert_eq!(page.meta.total_pages, 2);
    assert!(!client.organization().unwrap().slug.is_empty());
}
