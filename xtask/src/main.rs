//! Project automation, run as `cargo xtask <command>`.
//!
//! Commands: `ci` (everything below, in order), `lint` (fmt check and clippy), `test`, `docs`
//! (rustdoc with warnings denied), `core-purity` (the core depends on no runtime, HTTP client or
//! TLS crate), `deny` (cargo-deny bans, licenses, sources; skipped with a note when cargo-deny
//! is not installed), `man` (the manual pages of `qonto` in docs/man; `ci` runs `man --check`),
//! `features` (each TLS feature of the transports and adapters, and none, built and tested on
//! its own), `examples` (the adapters' examples against the mock), `package` (`cargo package`
//! of every published crate; `ci` runs it with `--no-verify`),
//! `bench`, `fmt`, `fuzz` (cargo-fuzz targets; not part of `ci`), and
//! `cluster` (4 replicas on PostgreSQL through expiry windows, a SIGKILL and a database
//! restart; see `cluster.rs`). `cluster-replica` is one of its replicas, started by it.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool reports on stdout/stderr"
)]

mod cluster;
mod features;
mod fuzz;
mod man;
mod package;
mod plan;
mod purity;
mod replica;

use std::process::{Command, ExitCode};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map_or("help", String::as_str);
    let outcome = match command {
        "ci" => ci(),
        "lint" => lint(),
        "test" => test(),
        "docs" => docs(),
        "core-purity" => core_purity(),
        "deny" => deny(),
        "bench" => bench(&args[1..]),
        "fmt" => cargo(&["fmt", "--all"]),
        "fuzz" => fuzz::run(&args[1..]),
        "features" => features::run(),
        "examples" => features::examples(),
        "package" => package::run(&args[1..]),
        "man" => man::run(&args[1..]),
        "cluster" => cluster::run(&args[1..]),
        "cluster-replica" => replica::run(&args[1..]),
        _ => {
            println!(
                "usage: cargo xtask <ci|lint|test|docs|core-purity|deny|bench|fmt|fuzz|cluster|features|examples|package>"
            );
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {command}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn ci() -> Result {
    lint()?;
    man::run(&["--check".to_owned()])?;
    // A packager's build: the CLI without the mock (and so without tokio).
    cargo(&[
        "check",
        "-p",
        "qonto-cli",
        "--no-default-features",
        "--locked",
    ])?;
    test()?;
    features::run()?;
    features::examples()?;
    package::run(&["--no-verify".to_owned()])?;
    docs()?;
    core_purity()?;
    deny()
}

fn lint() -> Result {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])
}

fn test() -> Result {
    cargo(&["test", "--workspace", "--all-targets", "--locked"])?;
    cargo(&["test", "--workspace", "--doc", "--locked"])
}

fn docs() -> Result {
    step(
        Command::new(cargo_bin())
            .args(["doc", "--workspace", "--no-deps", "--locked"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

fn core_purity() -> Result {
    let output = Command::new(cargo_bin())
        .args([
            "tree",
            "-p",
            "qonto-auth-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--locked",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    match purity::forbidden_crates(&tree).as_slice() {
        [] => {
            println!(
                "core-purity: qonto-auth-core depends on no runtime, HTTP client or TLS crate"
            );
            Ok(())
        }
        found => Err(format!(
            "qonto-auth-core must stay sans-IO, but depends on: {}",
            found.join(", ")
        )),
    }
}

fn deny() -> Result {
    let installed = Command::new(cargo_bin())
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        println!("deny: cargo-deny is not installed; skipping (CI installs a pinned version)");
        return Ok(());
    }
    cargo(&["deny", "--locked", "check", "bans", "licenses", "sources"])
}

fn bench(extra: &[String]) -> Result {
    let mut args = vec!["bench", "--workspace", "--locked"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)
}

fn cargo(args: &[&str]) -> Result {
    step(Command::new(cargo_bin()).args(args))
}

pub(crate) fn step(command: &mut Command) -> Result {
    println!("$ {}", render(command));
    let status = command.status().map_err(|e| format!("cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", render(command)))
    }
}

fn render(command: &Command) -> String {
    let args: Vec<_> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        args.join(" ")
    )
}

pub(crate) fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

#[cfg(test)]
mod tests {
    /// The core-purity rule as an ordinary test: `cargo test` alone enforces it, as
    /// `cargo xtask core-purity` does in CI.
    #[test]
    fn the_core_depends_on_no_runtime_http_client_or_tls() {
        super::core_purity().unwrap();
    }
}
