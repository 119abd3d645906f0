//! Transport costs over loopback against qonto-mock, each beside the bare HTTP client doing
//! the same request with a static header; and a refresh storm at token expiry.
//!
//! `cargo xtask bench` (or `cargo bench -p qonto-e2e --bench transports`).
#![allow(clippy::print_stdout, reason = "a bench reports on stdout")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use qonto_auth_core::credentials::ApiKey;
use qonto_auth_core::http::Method;
use qonto_e2e::bench::{Bench, line, percentile, rotation, show};
use qonto_e2e::{demo_client, environment, issued_tokens, mock_time};
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};
use qonto_store::MemoryStore;

const PATH: &str = "/v2/organization";

/// Runs `call` from `callers` tasks at once, each with its own clone of the client; returns
/// each caller's wait in nanoseconds, from the common start to the end of its call.
///
/// The tasks are spawned and parked first; the start is the moment they are all released, so
/// the time it takes to spawn them is not mixed into the waits.
async fn burst<F, Fut>(client: &qonto_reqwest::Client, callers: usize, call: F) -> Vec<f64>
where
    F: Fn(qonto_reqwest::Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let parked = Arc::new(tokio::sync::Barrier::new(callers + 1));
    let (release, gate) = tokio::sync::watch::channel(None::<Instant>);
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let call = call(client.clone());
            let parked = Arc::clone(&parked);
            let mut gate = gate.clone();
            tokio::spawn(async move {
                parked.wait().await;
                let start = gate.wait_for(Option::is_some).await.unwrap().unwrap();
                call.await;
                start.elapsed().as_nanos() as f64
            })
        })
        .collect();
    parked.wait().await;
    release.send(Some(Instant::now())).unwrap();
    let mut waits = Vec::with_capacity(callers);
    for task in tasks {
        waits.push(task.await.unwrap());
    }
    waits
}

/// A whole API call.
async fn api_call(client: qonto_reqwest::Client) {
    client.send(Method::GET, PATH, None).await.unwrap();
}

/// Only the credential (refreshing first when needed).
async fn credential(client: qonto_reqwest::Client) {
    client.authorization().await.unwrap();
}

/// Prints one transport's figures: `samples` holds per-round nanoseconds per request for our
/// client, the bare client, and the bare client with our safety settings.
fn report(ours: &str, bare: &str, samples: &mut [Vec<f64>; 3]) {
    let ratios = |baseline: &[f64]| -> Vec<f64> {
        samples[0]
            .iter()
            .zip(baseline)
            .map(|(a, b)| a / b)
            .collect()
    };
    let mut to_bare = ratios(&samples[1]);
    let mut to_same = ratios(&samples[2]);
    let rounds = to_bare.len();
    let [ours_ns, bare_ns, _] = samples;
    println!(
        "{}",
        line(
            &format!("{ours} request"),
            percentile(ours_ns, 50.0),
            bare,
            percentile(bare_ns, 50.0)
        )
    );
    println!(
        "    median of {rounds} paired ratios: {:.3} (against {bare} with the same settings: {:.3})",
        percentile(&mut to_bare, 50.0),
        percentile(&mut to_same, 50.0)
    );
}

/// Times our client, bare reqwest and bare reqwest with our settings, `per_round` requests
/// each per round, in rotating order; returns nanoseconds per request for each, per round.
async fn compare_reqwest(
    mock: &MockServer,
    key: &str,
    url: &str,
    rounds: usize,
    per_round: u64,
) -> [Vec<f64>; 3] {
    let client =
        qonto_reqwest::Client::api_key(environment(mock, None), ApiKey::parse(key).unwrap())
            .unwrap();
    let bare = reqwest::Client::new();
    // The settings qonto-reqwest always sets: HTTP/1.1 with title-case names, no redirects,
    // connect and total timeouts.
    let same_settings = reqwest::Client::builder()
        .http1_only()
        .http1_title_case_headers()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let bare_reqwest = async |client: &reqwest::Client| {
        let response = client
            .get(url)
            .header("authorization", key)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
    };
    let mut samples = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..rounds {
        for variant in rotation(round, 3) {
            let start = Instant::now();
            for _ in 0..per_round {
                match variant {
                    0 => {
                        client.send(Method::GET, PATH, None).await.unwrap();
                    }
                    1 => bare_reqwest(&bare).await,
                    _ => bare_reqwest(&same_settings).await,
                }
            }
            samples[variant].push(start.elapsed().as_nanos() as f64 / per_round as f64);
        }
    }
    samples
}

fn main() {
    let bench = Bench::from_args();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let key = format!("{DEMO_LOGIN}:{DEMO_SECRET}");
    let url = format!("{}{PATH}", mock.url());
    let requests = bench.scale(6_000, 30);

    println!("== one authenticated request over loopback (median per request)");
    // Client and mock share two cores, so each round runs every variant once, in an order that
    // rotates from round to round (see `rotation`), and the figures are the medians of the
    // per-round ratios: drift in the machine's load hits all variants alike.
    let rounds = bench.scale(40, 1) as usize;
    let per_round = (requests / 30).max(1);
    let timed = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..per_round {
            f();
        }
        start.elapsed().as_nanos() as f64 / per_round as f64
    };
    let client =
        qonto_ureq::Client::api_key(environment(&mock, None), ApiKey::parse(&key).unwrap())
            .unwrap();
    let bare_agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    // The same bare request through an agent with the safety settings qonto-ureq always sets
    // (timeouts, no redirects): separates their cost from the cost of our code.
    let same_settings_agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_send_request(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        .timeout_recv_body(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let bare_ureq = |agent: &ureq::Agent| {
        let mut response = agent
            .get(&url)
            .header("authorization", &key)
            .header("accept", "application/json")
            .call()
            .unwrap();
        assert_eq!(response.status(), 200);
        response.body_mut().read_to_vec().unwrap();
    };
    let mut samples = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..rounds {
        for variant in rotation(round, 3) {
            let ns = match variant {
                0 => timed(&mut || {
                    client.send(Method::GET, PATH, None).unwrap();
                }),
                1 => timed(&mut || bare_ureq(&bare_agent)),
                _ => timed(&mut || bare_ureq(&same_settings_agent)),
            };
            samples[variant].push(ns);
        }
    }
    report("qonto-ureq", "bare ureq", &mut samples);

    // The bare reqwest baseline needs a process-wide crypto provider (qonto-reqwest brings its
    // own TLS configuration and does not).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // One sequential caller needs no worker threads; on a current-thread runtime the caller
    // and its connection share a thread, without the cross-thread wake-ups that make the
    // multi-threaded figure noisier (client and mock share two cores). Both are reported.
    let current_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut samples =
        current_thread.block_on(compare_reqwest(&mock, &key, &url, rounds, per_round));
    report(
        "qonto-reqwest (current-thread runtime)",
        "bare reqwest",
        &mut samples,
    );
    let mut samples = runtime.block_on(compare_reqwest(&mock, &key, &url, rounds, per_round));
    report(
        "qonto-reqwest (multi-thread runtime)",
        "bare reqwest",
        &mut samples,
    );
    runtime.block_on(async {
        println!("== refresh storm: 1,000 concurrent callers when the token expires");
        let callers = bench.scale(1_000, 50) as usize;
        let oauth_client = async || {
            let store = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
            qonto_reqwest::Client::builder(environment(&mock, None))
                .clock(qonto_reqwest::Clock::custom(mock_time(&mock)))
                .oauth(demo_client(), store)
                .await
                .unwrap()
        };
        // Callers that only ask for the credential, and callers that make a whole API call.
        let credential_only = oauth_client().await;
        let whole_call = oauth_client().await;
        // The yardstick: one token round trip over a pooled connection, the median of several
        // forced refreshes (the mock's clock moves past the minimum gap between them).
        let yardstick = oauth_client().await;
        let mut round_trips = Vec::new();
        for _ in 0..bench.scale(15, 2) {
            mock.clock().advance(Duration::from_secs(11));
            let start = Instant::now();
            yardstick.refresh_now().await.unwrap();
            round_trips.push(start.elapsed().as_nanos() as f64);
        }
        let round_trip = percentile(&mut round_trips, 50.0);
        // Fresh-token baselines, after a first burst that opens the connections the measured
        // bursts reuse; asking for the credential opens none, so one API call pools the
        // connection its refresh will use, as the yardstick's refreshes do.
        credential_only.send(Method::GET, PATH, None).await.unwrap();
        burst(&credential_only, callers, credential).await;
        let mut credential_fresh = burst(&credential_only, callers, credential).await;
        burst(&whole_call, callers, api_call).await;
        let mut call_fresh = burst(&whole_call, callers, api_call).await;

        // Every token is now past its end: each client must refresh exactly once.
        mock.clock().advance(Duration::from_secs(3_600));
        let refreshes = || mock.stats().token_calls("refresh_token");
        let before = refreshes();
        let mut credential_storm = burst(&credential_only, callers, credential).await;
        let credential_calls = refreshes() - before;
        let mut call_storm = burst(&whole_call, callers, api_call).await;
        let call_calls = refreshes() - before - credential_calls;
        println!(
            "token calls for {callers} callers at expiry: {credential_calls} and {call_calls} (each must be 1)"
        );
        assert_eq!((credential_calls, call_calls), (1, 1));
        for (p, name) in [(50.0, "p50"), (99.0, "p99")] {
            let storm = percentile(&mut credential_storm, p);
            let fresh = percentile(&mut credential_fresh, p);
            println!(
                "{}",
                line(
                    &format!("storm: wait for the credential, {name}"),
                    storm,
                    "one token round trip",
                    round_trip
                )
            );
            println!(
                "    the same burst with a fresh token: {}; the refresh adds {} = {:.2} round trips",
                show(fresh),
                show((storm - fresh).max(0.0)),
                (storm - fresh).max(0.0) / round_trip
            );
        }
        for (p, name) in [(50.0, "p50"), (99.0, "p99")] {
            println!(
                "{}",
                line(
                    &format!("storm: whole API call, {name}"),
                    percentile(&mut call_storm, p),
                    "same burst, fresh token",
                    percentile(&mut call_fresh, p)
                )
            );
        }
        println!("(a whole call's wait includes its own API call, queued behind all the others)");
    });
}
