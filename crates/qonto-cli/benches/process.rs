//! Whole-process time of `qonto --help` and `qonto doctor` against a local mock, beside the
//! time to start the binary at all (`qonto --version`).
//!
//! `cargo xtask bench` (or `cargo bench -p qonto-cli`).
#![allow(clippy::print_stdout, reason = "a bench reports on stdout")]

use std::process::Command;
use std::time::Instant;

use qonto_mock::{DEMO_LOGIN, DEMO_SECRET, MockConfig, MockServer};

fn median_ms(runs: usize, mut command: impl FnMut() -> Command) -> f64 {
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let status = command().output().expect("run qonto").status;
            assert!(status.success(), "{status}");
            start.elapsed().as_secs_f64() * 1_000.0
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runs = if full { 30 } else { 2 };
    let mock = MockServer::start(MockConfig::default()).expect("mock");
    let qonto = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qonto"));
        command
            .args(args)
            .env("QONTO_API_BASE_URL", mock.url())
            .env("QONTO_OAUTH_BASE_URL", mock.url())
            .env("QONTO_API_KEY", format!("{DEMO_LOGIN}:{DEMO_SECRET}"))
            .env("QONTO_CONFIG_DIR", std::env::temp_dir().join("qonto-bench"));
        command
    };
    let version = median_ms(runs, || qonto(&["--version"]));
    let help = median_ms(runs, || qonto(&["--help"]));
    let doctor = median_ms(runs, || qonto(&["doctor", "--output", "json"]));
    println!("qonto --version (process start)     {version:>8.2} ms");
    println!(
        "qonto --help                        {help:>8.2} ms   ratio to start {:.2}",
        help / version
    );
    println!(
        "qonto doctor (local mock)           {doctor:>8.2} ms   ratio to start {:.2}",
        doctor / version
    );
}
