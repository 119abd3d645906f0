//! The middleware's cost per request: a `ClientWithMiddleware` with [`QontoMiddleware`]
//! against the same reqwest client in a bare `ClientWithMiddleware` that sets a static
//! `Authorization` header itself, over loopback against qonto-mock.
//!
//! Both variants run in every round, in an order that rotates from round to round; the
//! figure is the median of the per-round ratios (target: at most 1.05).
//! `cargo xtask bench` (or `cargo bench -p qonto-reqwest-middleware --bench overhead`).
#![allow(clippy::print_stdout, reason = "a bench reports on stdout")]

use std::time::Instant;

use qonto_e2e::bench::{Bench, line, median_ratio, percentile, rotation, show};
use qonto_e2e::environment;
use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};
use qonto_reqwest::qonto_auth_core::credentials::ApiKey;
use qonto_reqwest_middleware::QontoMiddleware;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

fn main() {
    let bench = Bench::from_args();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let key = format!("{DEMO_LOGIN}:{DEMO_SECRET}");
    let url = format!("{}/v2/organization", mock.url());
    // This workspace builds reqwest without a default TLS crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // One sequential caller: a current-thread runtime, as the transport bench's steadier case.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let reqwest = reqwest::Client::builder()
            .http1_only()
            .http1_title_case_headers()
            .build()
            .unwrap();
        let qonto =
            qonto_reqwest::Client::api_key(environment(&mock, None), ApiKey::parse(&key).unwrap())
                .unwrap();
        let ours = ClientBuilder::new(reqwest.clone())
            .with(QontoMiddleware::new(qonto))
            .build();
        let bare = ClientBuilder::new(reqwest).build();
        let request = async |client: &ClientWithMiddleware, static_key: Option<&str>| {
            let mut builder = client.get(&url);
            if let Some(key) = static_key {
                builder = builder
                    .header("authorization", key)
                    .header("accept", "application/json");
            }
            let answer = builder.send().await.unwrap();
            assert_eq!(answer.status(), 200);
            answer.bytes().await.unwrap();
        };
        // Many short rounds: the median of their ratios shrugs off the rounds a neighbour's
        // burst of work slowed down.
        let rounds = bench.scale(100, 2) as usize;
        let per_round = bench.scale(80, 5);
        let mut samples = [Vec::new(), Vec::new()];
        let mut cpu = [0.0, 0.0];
        for round in 0..rounds {
            for variant in rotation(round, 2) {
                let (start, cpu_start) = (Instant::now(), thread_cpu_ns());
                for _ in 0..per_round {
                    match variant {
                        0 => request(&ours, None).await,
                        _ => request(&bare, Some(&key)).await,
                    }
                }
                samples[variant].push(start.elapsed().as_nanos() as f64 / per_round as f64);
                cpu[variant] += thread_cpu_ns() - cpu_start;
            }
        }
        let ratio = median_ratio(&samples[0], &samples[1]);
        let [ours_ns, bare_ns] = &mut samples;
        println!("== one request through reqwest-middleware over loopback (median per request)");
        println!(
            "{}",
            line(
                "QontoMiddleware request",
                percentile(ours_ns, 50.0),
                "bare ClientWithMiddleware",
                percentile(bare_ns, 50.0)
            )
        );
        println!("    median of {rounds} paired ratios: {ratio:.3} (target at most 1.05)");
        let requests = (rounds as u64 * per_round) as f64;
        println!(
            "    CPU of the calling thread per request: {} with the middleware, {} bare",
            show(cpu[0] / requests),
            show(cpu[1] / requests)
        );
    });
}

/// The CPU time this thread has used, in nanoseconds (`/proc/thread-self/schedstat`; 0 where
/// there is none). Less sensitive than wall time to what the machine's other work does.
fn thread_cpu_ns() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}
