//! The PostgreSQL token store in a replica (a real, throwaway PostgreSQL cluster and the mock
//! over loopback): calls per second while tokens are fresh, against the memory store (they
//! must not differ: no database round trip on the hot path), and what one refresh costs in
//! database round trips and time.
//!
//! `cargo xtask bench` (or `cargo bench -p qonto-e2e --bench postgres_store`).
#![allow(clippy::print_stdout, reason = "a bench reports on stdout")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use qonto_auth_core::http::Method;
use qonto_e2e::bench::{Bench, line, percentile, rotation, show};
use qonto_e2e::{demo_client, environment, issued_tokens, mock_time};
use qonto_mock::{MockConfig, MockServer};
use qonto_pg_testkit::PgCluster;
use qonto_reqwest::{Client, Clock};
use qonto_store::{MemoryStore, TokenStore};
use qonto_store_postgres::{ConnectionId, PgConfig, PgTokens};

const PATH: &str = "/v2/organization";
/// Concurrent callers in the replica.
const CALLERS: usize = 8;

fn builder(mock: &MockServer) -> qonto_reqwest::ClientBuilder {
    Client::builder(environment(mock, None)).clock(Clock::custom(mock_time(mock)))
}

/// Nanoseconds per call for `per_caller` calls from each of `CALLERS` tasks.
async fn per_call(client: &Client, per_caller: u64) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..per_caller {
                    client.send(Method::GET, PATH, None).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    start.elapsed().as_nanos() as f64 / (per_caller * CALLERS as u64) as f64
}

fn main() {
    let bench = Bench::from_args();
    let cluster = PgCluster::start().expect("a throwaway PostgreSQL cluster");
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let pg = PgTokens::new(PgConfig::from_url(&cluster.url()).unwrap()).unwrap();
    pg.migrate_blocking().unwrap();
    let pg_store = Arc::new(pg.store(ConnectionId::new("org-bench").unwrap()));
    TokenStore::lock(&*pg_store)
        .unwrap()
        .save(&issued_tokens(&mock))
        .unwrap();
    let memory = Arc::new(MemoryStore::with_tokens(issued_tokens(&mock)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let on_pg = builder(&mock)
            .oauth_async(demo_client(), pg_store)
            .await
            .unwrap();
        let in_memory = builder(&mock).oauth(demo_client(), memory).await.unwrap();
        // Warm both up (connections to the mock).
        per_call(&on_pg, 2).await;
        per_call(&in_memory, 2).await;

        println!("== calls per second through a replica while tokens are fresh ({CALLERS} tasks)");
        let rounds = bench.scale(60, 1) as usize;
        let per_caller = bench.scale(200, 3);
        let before = pg.stats();
        let mut samples = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            for variant in rotation(round, 2) {
                let client = if variant == 0 { &on_pg } else { &in_memory };
                samples[variant].push(per_call(client, per_caller).await);
            }
        }
        let round_trips = pg.stats().round_trips - before.round_trips;
        let mut ratios: Vec<f64> = samples[1]
            .iter()
            .zip(&samples[0])
            .map(|(memory, pg)| memory / pg)
            .collect();
        let [pg_ns, memory_ns] = &mut samples;
        let (pg_ns, memory_ns) = (percentile(pg_ns, 50.0), percentile(memory_ns, 50.0));
        println!(
            "{}",
            line(
                "API call, PostgreSQL store",
                pg_ns,
                "memory store",
                memory_ns
            )
        );
        let ratio = percentile(&mut ratios, 50.0);
        println!(
            "    {:.0} calls/s with PostgreSQL, {:.0} with memory; median of {rounds} paired \
             throughput ratios (PostgreSQL / memory): {ratio:.3} (target at least 0.95: {})",
            1e9 / pg_ns,
            1e9 / memory_ns,
            if ratio >= 0.95 { "met" } else { "NOT met" }
        );
        println!("    database round trips while fresh: {round_trips} (must be 0)");
        assert_eq!(round_trips, 0, "the hot path must not touch the database");

        println!("== one refresh (the mock's clock moved into the refresh window)");
        let refreshes = bench.scale(40, 3);
        let mut pg_times = Vec::new();
        let mut memory_times = Vec::new();
        // Each pooled connection prepares its statements once; the first refreshes warm them.
        for n in 0..refreshes + 2 {
            mock.clock().advance(Duration::from_secs(3_400));
            let before = pg.stats();
            let start = Instant::now();
            on_pg.authorization().await.unwrap();
            let pg_time = start.elapsed().as_nanos() as f64;
            let start = Instant::now();
            in_memory.authorization().await.unwrap();
            let memory_time = start.elapsed().as_nanos() as f64;
            if n >= 2 {
                pg_times.push(pg_time);
                memory_times.push(memory_time);
            }
            // The unlock runs after the caller has its token: wait for it to be counted.
            let deadline = Instant::now() + Duration::from_secs(5);
            while pg.stats().round_trips - before.round_trips < 4 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            if n >= 2 {
                let after = pg.stats();
                assert_eq!(after.round_trips - before.round_trips, 4, "round trips");
                assert_eq!(
                    (after.locks - before.locks, after.saves - before.saves),
                    (1, 2)
                );
            }
        }
        let (pg_refresh, memory_refresh) = (
            percentile(&mut pg_times, 50.0),
            percentile(&mut memory_times, 50.0),
        );
        println!(
            "{}",
            line(
                "refresh, PostgreSQL store",
                pg_refresh,
                "memory store",
                memory_refresh
            )
        );
        println!(
            "    database round trips per refresh: 4 (lock and read pipelined, pending mark, \
             new tokens, unlock after the caller has its token); 1 lock, 2 commits; \
             the database adds {} per refresh",
            show((pg_refresh - memory_refresh).max(0.0))
        );
    });
}
