//! Transport costs over loopback against qonto-mock, each beside the bare HTTP client doing
//! the same request with a static header; and a refresh storm at token expiry.
//!
//! `cargo xtask bench` (or `cargo bench -p qonto-e2e --bench transports`).
#![allow(clippy::print_stdout, reason = "a bench reports on stdout")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::http::Method;
use qonto_e2e::bench::{Bench, line, percentile, show};
use qonto_e2e::{demo_client, environment, issued_tokens, mock_time};
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};
use qonto_store::MemoryStore;

const PATH: &str = "/v2/organization";

/// Starts `callers` concurrent calls at once; returns each caller's wait in nanoseconds.
async fn burst(client: &qonto_reqwest::Client, callers: usize) -> Vec<f64> {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                client.send(Method::GET, PATH, None).await.unwrap();
                start.elapsed().as_nanos() as f64
            })
        })
        .collect();
    let mut waits = Vec::with_capacity(callers);
    for task in tasks {
        waits.push(task.await.unwrap());
    }
    waits
}

fn main() {
    let bench = Bench::from_args();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let key = format!("{DEMO_LOGIN}:{DEMO_SECRET}");
    let url = format!("{}{PATH}", mock.url());
    let requests = bench.scale(6_000, 30);

    println!("== one authenticated request over loopback (median per request)");
    let client =
        qonto_ureq::Client::api_key(environment(&mock, None), ApiKey::parse(&key).unwrap())
            .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    // The same bare request through an agent with the safety settings qonto-ureq always sets
    // (timeouts, no redirects): separates their cost from the cost of our code.
    let safe_agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_send_request(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        .timeout_recv_body(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let safe_ureq = || {
        let mut response = safe_agent
            .get(&url)
            .header("authorization", &key)
            .header("accept", "application/json")
            .call()
            .unwrap();
        assert_eq!(response.status(), 200);
        response.body_mut().read_to_vec().unwrap();
    };
    let bare_ureq = || {
        let mut response = agent
            .get(&url)
            .header("authorization", &key)
            .header("accept", "application/json")
            .call()
            .unwrap();
        assert_eq!(response.status(), 200);
        response.body_mut().read_to_vec().unwrap();
    };
    let via_ureq = || {
        client.send(Method::GET, PATH, None).unwrap();
    };
    // Interleave the two and compare round by round, so drift in the machine's load (client
    // and mock share two cores) hits both alike; report the median of the paired ratios.
    let rounds = bench.scale(30, 1);
    let (mut ours, mut bare, mut ratios, mut safe_ratios) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let a = bench.per_op(requests / 30, via_ureq);
        let b = bench.per_op(requests / 30, bare_ureq);
        let c = bench.per_op(requests / 30, safe_ureq);
        ours.push(a);
        bare.push(b);
        ratios.push(a / b);
        safe_ratios.push(a / c);
    }
    println!(
        "{}",
        line(
            "qonto-ureq request",
            percentile(&mut ours, 50.0),
            "bare ureq",
            percentile(&mut bare, 50.0)
        )
    );
    println!(
        "    median of {rounds} paired ratios: {:.3} (against bare ureq with the same timeouts: {:.3})",
        percentile(&mut ratios, 50.0),
        percentile(&mut safe_ratios, 50.0)
    );

    // The bare reqwest baseline needs a process-wide crypto provider (qonto-reqwest brings its
    // own TLS configuration and does not).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client =
            qonto_reqwest::Client::api_key(environment(&mock, None), ApiKey::parse(&key).unwrap())
                .unwrap();
        let bare = reqwest::Client::new();
        let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let per_round = (requests / 30).max(1);
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..per_round {
                client.send(Method::GET, PATH, None).await.unwrap();
            }
            let a = start.elapsed().as_nanos() as f64 / per_round as f64;
            let start = Instant::now();
            for _ in 0..per_round {
                let response = bare
                    .get(&url)
                    .header("authorization", &key)
                    .header("accept", "application/json")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
            }
            let b = start.elapsed().as_nanos() as f64 / per_round as f64;
            ours.push(a);
            theirs.push(b);
            ratios.push(a / b);
        }
        println!(
            "{}",
            line(
                "qonto-reqwest request",
                percentile(&mut ours, 50.0),
                "bare reqwest",
                percentile(&mut theirs, 50.0)
            )
        );
        println!(
            "    median of {rounds} paired ratios: {:.3}",
            percentile(&mut ratios, 50.0)
        );

        println!("== refresh storm: 1,000 concurrent callers when the token expires");
        let callers = bench.scale(1_000, 50) as usize;
        let store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
        let oauth = qonto_reqwest::Client::builder(environment(&mock, None))
            .clock(qonto_reqwest::Clock::custom(mock_time(&mock)))
            .oauth(demo_client(), store)
            .await
            .unwrap();
        // One token round trip, measured alone, as the yardstick.
        let yardstick = qonto_reqwest::Client::builder(environment(&mock, None))
            .clock(qonto_reqwest::Clock::custom(mock_time(&mock)))
            .oauth(
                demo_client(),
                Arc::new(MemoryStore::with_tokens(issued_tokens(&mock))),
            )
            .await
            .unwrap();
        let start = Instant::now();
        yardstick.refresh_now().await.unwrap();
        let round_trip = start.elapsed().as_nanos() as f64;
        // Baseline: the same burst of callers while the token is fresh (no refresh at all),
        // after a first burst that opens the connections both measured bursts reuse.
        burst(&oauth, callers).await;
        let mut fresh = burst(&oauth, callers).await;
        let before = mock.stats().token_calls("refresh_token");
        mock.clock().advance(Duration::from_secs(3_590));
        let mut storm = burst(&oauth, callers).await;
        let token_calls = mock.stats().token_calls("refresh_token") - before;
        println!("token calls for {callers} callers at expiry: {token_calls} (must be 1)");
        assert_eq!(token_calls, 1);
        println!(
            "{}",
            line(
                "storm: caller wait p50",
                percentile(&mut storm, 50.0),
                "same burst, fresh token",
                percentile(&mut fresh, 50.0)
            )
        );
        println!(
            "{}",
            line(
                "storm: caller wait p99",
                percentile(&mut storm, 99.0),
                "same burst, fresh token",
                percentile(&mut fresh, 99.0)
            )
        );
        println!(
            "(one token round trip alone: {}; each wait includes the caller's own API call)",
            show(round_trip)
        );
    });
}
