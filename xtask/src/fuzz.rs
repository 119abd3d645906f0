//! `cargo xtask fuzz`: runs the cargo-fuzz targets in `fuzz/` (see `docs/reliability.md`).
//!
//! - `cargo xtask fuzz --smoke [--seconds N]` builds every target, then runs each for `N`
//!   seconds (default [`SMOKE_SECONDS`]) and prints the executions per target. Any crash fails.
//! - `cargo xtask fuzz <target> [libFuzzer flags…]` runs one target until interrupted.
//!
//! Fuzzing needs a nightly toolchain and cargo-fuzz; when either is missing the command says
//! how to install them and fails. It is not part of `cargo xtask ci`.

use std::path::PathBuf;
use std::process::Command;

use crate::{Result, render, step};

/// Seconds each target runs under `--smoke` unless `--seconds` says otherwise.
pub(crate) const SMOKE_SECONDS: u64 = 15;

/// Entry point for `cargo xtask fuzz <args>`.
pub(crate) fn run(args: &[String]) -> Result {
    match args {
        [] => {
            Err("usage: cargo xtask fuzz --smoke [--seconds N] | <target> [libFuzzer flags]".into())
        }
        [flag, rest @ ..] if flag == "--smoke" => smoke(seconds(rest)?),
        [target, extra @ ..] => {
            let targets = list()?;
            if !targets.contains(target) {
                return Err(format!(
                    "no fuzz target `{target}`; targets: {}",
                    targets.join(", ")
                ));
            }
            let mut command = fuzz();
            command.args(["run", target.as_str()]);
            if !extra.is_empty() {
                command.arg("--").args(extra);
            }
            step(&mut command)
        }
    }
}

/// Parses the optional `--seconds N` after `--smoke`.
fn seconds(args: &[String]) -> Result<u64> {
    match args {
        [] => Ok(SMOKE_SECONDS),
        [flag, n] if flag == "--seconds" => match n.parse() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "--seconds expects a positive whole number, got `{n}`"
            )),
        },
        _ => Err(format!("unexpected arguments: {}", args.join(" "))),
    }
}

/// Builds all targets, then runs each for `seconds`, reporting executions and failing on any crash.
fn smoke(seconds: u64) -> Result {
    let targets = list()?;
    step(fuzz().arg("build"))?;
    let mut summary = Vec::new();
    for target in &targets {
        let mut command = fuzz();
        command.args(["run", target, "--", &format!("-max_total_time={seconds}")]);
        println!("$ {}", render(&command));
        let output = command.output().map_err(|e| format!("cannot start: {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            eprintln!("{log}");
            return Err(format!(
                "fuzz target `{target}` failed ({}); the crashing input is under fuzz/artifacts/{target}/",
                output.status
            ));
        }
        let runs = executions(&log).unwrap_or_else(|| "?".into());
        println!("fuzz {target}: {runs} executions in {seconds} s, no crash");
        summary.push(format!("{target}={runs}"));
    }
    println!(
        "fuzz smoke: {} targets, {seconds} s each, no crash ({})",
        targets.len(),
        summary.join(", ")
    );
    Ok(())
}

/// The execution count from libFuzzer's closing `Done N runs in S second(s)` line.
fn executions(log: &str) -> Option<String> {
    let line = log.lines().rev().find(|l| l.starts_with("Done "))?;
    line.split_whitespace().nth(1).map(str::to_owned)
}

/// The targets `cargo fuzz list` reports, after checking nightly and cargo-fuzz are installed.
fn list() -> Result<Vec<String>> {
    let output = fuzz().arg("list").output();
    match output {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()),
        _ => Err(
            "fuzzing needs a nightly toolchain and cargo-fuzz; install them with\n  \
                  rustup toolchain install nightly\n  \
                  cargo install --locked cargo-fuzz"
                .into(),
        ),
    }
}

/// `cargo +nightly fuzz`, run from the workspace root (where `fuzz/` lives).
///
/// It goes through the rustup proxy (`cargo`, not `$CARGO`, which names the stable binary), and
/// drops `RUSTUP_TOOLCHAIN` so the `+nightly` override is the only toolchain choice.
fn fuzz() -> Command {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let mut command = Command::new("cargo");
    command
        .args(["+nightly", "fuzz"])
        .current_dir(root)
        .env_remove("RUSTUP_TOOLCHAIN");
    command
}
