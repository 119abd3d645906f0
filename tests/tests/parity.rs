//! Both transports diagnose the same answers the same way.

use std::sync::Arc;
use std::time::Duration;

use qonto_auth_core::credentials::ApiKey;
use qonto_e2e::{demo_client, environment, issued_tokens, mock_time};
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, Gate, MockConfig, MockServer, RateLimit};
use qonto_store::MemoryStore;

/// One situation: a mock, the staging token the client sends, and the API key.
struct Case {
    name: &'static str,
    config: MockConfig,
    staging: Option<&'static str>,
    key: String,
    expected: &'static str,
}

fn cases() -> Vec<Case> {
    let good = format!("{DEMO_LOGIN}:{DEMO_SECRET}");
    let case = |name, config, staging, key: &str, expected| Case {
        name,
        config,
        staging,
        key: key.to_owned(),
        expected,
    };
    vec![
        case("ok", MockConfig::default(), None, &good, "ok"),
        case(
            "html gate",
            MockConfig::sandbox("s").with_api_gate(Gate::HtmlPage),
            Some("x"),
            &good,
            "sandbox_gate",
        ),
        case(
            "redirect gate",
            MockConfig::sandbox("s").with_api_gate(Gate::RedirectToOneLogin),
            Some("x"),
            &good,
            "sandbox_gate",
        ),
        case(
            "wrong secret",
            MockConfig::default(),
            None,
            &format!("{DEMO_LOGIN}:nope"),
            "unauthorized",
        ),
        case(
            "rate limited",
            MockConfig::default().with_rate_limit(RateLimit {
                max_requests: 0,
                window: Duration::from_secs(10),
            }),
            None,
            &good,
            "rate_limited",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_transports_give_the_same_codes() {
    for case in cases() {
        let mock = MockServer::start(case.config).unwrap();
        let key = ApiKey::parse(&case.key).unwrap();
        let env = environment(&mock, case.staging);
        let blocking = {
            let (env, key) = (env.clone(), key.clone());
            tokio::task::spawn_blocking(move || {
                qonto_ureq::Client::api_key(env, key)
                    .unwrap()
                    .organization()
                    .map_err(|e| e.code().as_str())
            })
            .await
            .unwrap()
        };
        let asynchronous = qonto_reqwest::Client::api_key(env, key)
            .unwrap()
            .organization()
            .await
            .map_err(|e| e.code().as_str());
        let code = |r: Result<_, &'static str>| r.map(|_| "ok").unwrap_or_else(|c| c);
        assert_eq!(code(blocking), case.expected, "ureq: {}", case.name);
        assert_eq!(code(asynchronous), case.expected, "reqwest: {}", case.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_transports_refresh_the_same_way() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let time = || qonto_ureq::Clock::custom(mock_time(&mock));
    let blocking_store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
    let blocking = qonto_ureq::Client::builder(environment(&mock, None))
        .clock(time())
        .oauth(demo_client(), blocking_store)
        .unwrap();
    let async_store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
    let asynchronous = qonto_reqwest::Client::builder(environment(&mock, None))
        .clock(qonto_reqwest::Clock::custom(mock_time(&mock)))
        .oauth(demo_client(), async_store)
        .await
        .unwrap();
    mock.clock().advance(Duration::from_secs(3_400));
    tokio::task::spawn_blocking(move || blocking.organization().unwrap())
        .await
        .unwrap();
    asynchronous.organization().await.unwrap();
    assert_eq!(
        mock.stats().token_calls("refresh_token"),
        2,
        "one refresh per client"
    );
}
