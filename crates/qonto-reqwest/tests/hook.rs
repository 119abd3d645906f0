//! The hook over reqwest's own builder runs, and the settings it tries to undo come back: no
//! redirects (a 302 to OneLogin is the sandbox gate), and the title-case names the strict
//! mock wants (`X-Qonto-Staging-Token`) survive it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use qonto_e2e::environment;
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, Gate, MockConfig, MockServer};
use qonto_reqwest::qonto_auth_core::credentials::ApiKey;

#[tokio::test]
async fn redirects_set_in_the_hook_are_overridden() {
    let config = MockConfig::sandbox("stg").with_api_gate(Gate::RedirectToOneLogin);
    let mock = MockServer::start(config.with_strict_header_case(true)).unwrap();
    let hooked = Arc::new(AtomicBool::new(false));
    for (staging, expected) in [("stg", None), ("wrong", Some("sandbox_gate"))] {
        let seen = Arc::clone(&hooked);
        let client = qonto_reqwest::Client::builder(environment(&mock, Some(staging)))
            .configure_http_client(move |builder| {
                seen.store(true, Ordering::SeqCst);
                builder.redirect(reqwest::redirect::Policy::limited(10))
            })
            .api_key(ApiKey::parse(&format!("{DEMO_LOGIN}:{DEMO_SECRET}")).unwrap())
            .unwrap();
        let code = client.organization().await.err().map(|e| e.code().as_str());
        assert_eq!(code, expected);
    }
    assert!(hooked.load(Ordering::SeqCst));
}
