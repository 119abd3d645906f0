//! Core costs: the auth header of a cached token, response classification, error parsing.
//!
//! `cargo xtask bench` (or `cargo bench -p qonto-e2e --bench core`).
#![allow(clippy::print_stdout, reason = "a bench reports on stdout")]

use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use qonto_auth_core::credentials::OAuthClient;
use qonto_auth_core::environment::Environment;
use qonto_auth_core::http::{HeaderMap, HeaderValue, StatusCode};
use qonto_auth_core::lifecycle::{Access, LifecycleConfig, TokenLifecycle};
use qonto_auth_core::secret::{AccessToken, ClientSecret, RefreshToken};
use qonto_auth_core::{Timestamp, TokenSet, classify};
use qonto_e2e::bench::{Bench, line};

fn lifecycle(now: Timestamp) -> TokenLifecycle {
    let client = OAuthClient::new("id", ClientSecret::new("s"), "http://127.0.0.1:1/cb").unwrap();
    let mut life = TokenLifecycle::new(
        Environment::production(),
        client,
        LifecycleConfig::default(),
    );
    life.handle_tokens(Some(TokenSet {
        access_token: AccessToken::new("ory_at_0123456789abcdef0123456789abcdef"),
        expires_at: now + Duration::from_secs(3600),
        refresh_token: Some(RefreshToken::new("ory_rt_0123456789abcdef")),
        refresh_issued_at: Some(now),
        scope: None,
        refresh_pending_since: None,
    }));
    life
}

/// An OAuth client over a memory store holding a fresh token, on a fixed clock.
/// Fresh tokens issued at `now`.
fn tokens(now: Timestamp) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new("ory_at_0123456789abcdef0123456789abcdef"),
        expires_at: now + Duration::from_secs(3600),
        refresh_token: Some(RefreshToken::new("ory_rt_0123456789abcdef")),
        refresh_issued_at: Some(now),
        scope: None,
        refresh_pending_since: None,
    }
}

fn ureq_client(now: Timestamp) -> qonto_ureq::Client {
    let store = Arc::new(qonto_store::MemoryStore::with_tokens(tokens(now)));
    let client = OAuthClient::new("id", ClientSecret::new("s"), "http://127.0.0.1:1/cb").unwrap();
    qonto_ureq::Client::builder(Environment::production())
        .clock(qonto_ureq::Clock::custom(move || now))
        .oauth(client, store)
        .unwrap()
}

/// CPU time the calling thread has used, from `/proc/thread-self/stat` (Linux; 10 ms ticks).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name, which ends with the last ')': utime and stime are the
    // 12th and 13th of them, in clock ticks (100 per second).
    let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ');
    let user: u64 = fields.nth(11)?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

fn reqwest_client(now: Timestamp) -> qonto_reqwest::Client {
    let store = Arc::new(qonto_store::MemoryStore::with_tokens(tokens(now)));
    let client = OAuthClient::new("id", ClientSecret::new("s"), "http://127.0.0.1:1/cb").unwrap();
    // Building reads the store on the runtime; the ready path itself needs none.
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(
            qonto_reqwest::Client::builder(Environment::production())
                .clock(qonto_reqwest::Clock::custom(move || now))
                .oauth(client, store),
        )
        .unwrap()
}

/// Polls a future once; the hot path never suspends, so it must be ready.
fn ready_now<F: Future>(future: F) -> F::Output {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the hot path suspended"),
    }
}

fn header_of(access: Access) -> HeaderValue {
    match access {
        Access::Ready(credential) => credential.header,
        _ => unreachable!("the token is fresh"),
    }
}

fn main() {
    let bench = Bench::from_args();
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let static_header = HeaderValue::from_static("Bearer ory_at_0123456789abcdef0123456789abcdef");

    println!("== auth header for a request with a valid cached token");
    let mut life = lifecycle(now);
    let decide = bench.per_op(1_000_000, || {
        black_box(matches!(
            black_box(&mut life).poll_access(now),
            Access::Ready(_)
        ));
    });
    let with_header = bench.per_op(1_000_000, || {
        black_box(header_of(black_box(&mut life).poll_access(now)));
    });
    let baseline = bench.per_op(1_000_000, || {
        black_box(black_box(&static_header).clone());
    });
    println!(
        "{}",
        line(
            "poll_access (decision + token)",
            decide,
            "clone a static header",
            baseline
        )
    );
    println!(
        "{}",
        line(
            "poll_access + Authorization value",
            with_header,
            "clone a static header",
            baseline
        )
    );

    println!("== the same, 2 threads sharing one lifecycle behind a mutex (the drivers' shape)");
    let shared = Arc::new(Mutex::new(lifecycle(now)));
    let shared_header = Arc::new(static_header);
    // Both threads start together (a barrier), so their calls overlap and contend. Beside each
    // figure: the CPU time both threads used over the wall time they took together (2.0 when
    // they really ran side by side, 1.0 when they took turns on one CPU).
    let two_threads = |work: Arc<dyn Fn() + Send + Sync>| {
        let start = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let work = work.clone();
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    start.wait();
                    let (began, cpu_before) = (Instant::now(), thread_cpu());
                    let per_call = bench.per_op(1_000_000, || work());
                    let cpu = thread_cpu()
                        .zip(cpu_before)
                        .map(|(after, before)| after - before);
                    (per_call, began, Instant::now(), cpu)
                })
            })
            .collect();
        let runs: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let began = runs.iter().map(|r| r.1).min().unwrap();
        let ended = runs.iter().map(|r| r.2).max().unwrap();
        let cpu: Option<Duration> = runs.iter().map(|r| r.3).sum();
        match cpu {
            Some(cpu) => println!(
                "    (CPU overlap of the 2 threads: {:.2} of 2)",
                cpu.as_secs_f64() / (ended - began).as_secs_f64()
            ),
            None => println!("    (CPU overlap of the 2 threads: unknown on this system)"),
        }
        runs.iter().map(|r| r.0).sum::<f64>() / runs.len() as f64
    };
    let locked = two_threads(Arc::new(move || {
        let access = shared.lock().unwrap().poll_access(now);
        black_box(matches!(access, Access::Ready(_)));
    }));
    let unlocked = two_threads(Arc::new(move || {
        black_box(Arc::clone(&shared_header));
    }));
    println!(
        "{}",
        line(
            "2 threads: lock + poll_access, per call",
            locked,
            "Arc clone of a header",
            unlocked
        )
    );

    println!("== the same through qonto-ureq's client (a per-thread copy, no lock while valid)");
    let client = ureq_client(now);
    let single = bench.per_op(1_000_000, || {
        black_box(client.authorization().unwrap());
    });
    println!(
        "{}",
        line(
            "Client::authorization, 1 thread",
            single,
            "clone a static header",
            baseline
        )
    );
    let two = two_threads(Arc::new(move || {
        black_box(client.authorization().unwrap());
    }));
    let unlocked_again = {
        let shared_header = Arc::new(HeaderValue::from_static("Bearer x"));
        two_threads(Arc::new(move || {
            black_box(Arc::clone(&shared_header));
        }))
    };
    println!(
        "{}",
        line(
            "Client::authorization, 2 threads, per call",
            two,
            "Arc clone of a header",
            unlocked_again
        )
    );

    println!("== the same through qonto-reqwest's client (its future, polled once: it is ready)");
    let client = reqwest_client(now);
    let single = bench.per_op(1_000_000, || {
        black_box(ready_now(client.authorization()).unwrap());
    });
    println!(
        "{}",
        line(
            "async Client::authorization, 1 thread",
            single,
            "clone a static header",
            baseline
        )
    );
    let two = two_threads(Arc::new(move || {
        black_box(ready_now(client.authorization()).unwrap());
    }));
    println!(
        "{}",
        line(
            "async Client::authorization, 2 threads, per call",
            two,
            "Arc clone of a header",
            unlocked_again
        )
    );

    println!("== classifying a 200 JSON answer: cost must not grow with the body");
    let mut json = HeaderMap::new();
    json.insert("content-type", HeaderValue::from_static("application/json"));
    let body = |size: usize| {
        let mut b = br#"{"bank_accounts":["#.to_vec();
        b.resize(size - 2, b' ');
        b.extend_from_slice(b"]}");
        b
    };
    let (small, large) = (body(1024), body(1024 * 1024));
    let small_ns = bench.per_op(200_000, || {
        let _ = black_box(classify(StatusCode::OK, &json, black_box(&small)));
    });
    let large_ns = bench.per_op(200_000, || {
        let _ = black_box(classify(StatusCode::OK, &json, black_box(&large)));
    });
    println!(
        "{}",
        line(
            "classify 200 JSON, 1 MiB body",
            large_ns,
            "1 KiB body",
            small_ns
        )
    );

    println!("== parsing error bodies stays bounded");
    let errors = |n: usize| {
        let entry =
            r#"{"code":"invalid","detail":"a detail about the error","source":{"parameter":"p"}},"#;
        let mut s = String::from(r#"{"errors":["#);
        for _ in 0..n {
            s.push_str(entry);
        }
        s.pop();
        s.push_str(r#"],"trace_id":"0123456789abcdef"}"#);
        s.into_bytes()
    };
    let (typical, huge) = (errors(2), errors(150_000));
    let typical_ns = bench.per_op(50_000, || {
        let _ = black_box(classify(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json,
            black_box(&typical),
        ));
    });
    let huge_ns = bench.per_op(2_000, || {
        let _ = black_box(classify(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json,
            black_box(&huge),
        ));
    });
    println!(
        "{}",
        line(
            &format!("classify 422, {} KiB error body", huge.len() / 1024),
            huge_ns,
            "2 errors",
            typical_ns
        )
    );
}
