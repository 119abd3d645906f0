//! `cargo xtask package [--no-verify]`: `cargo package` of every crate meant for crates.io,
//! together, so that each can depend on the others before any is published.
//!
//! The full run verifies each package by building it from its tarball, in a target directory
//! of its own that it empties first: cargo takes registry sources as immutable, so an old
//! build of the same version would otherwise hide a change. `ci` runs `--no-verify` (the
//! manifests, the file lists and the dependency versions, in seconds); the workspace build has
//! compiled the code already.

use std::process::Command;

use crate::{Result, cargo_bin, step};

/// The crates published to crates.io, dependencies first.
pub(crate) const PUBLISHED: &[&str] = &[
    "qonto-auth-core",
    "qonto-store",
    "qonto-store-postgres",
    "qonto-transport",
    "qonto-ureq",
    "qonto-reqwest",
    "qonto-reqwest-middleware",
    "qonto-tower",
    "qonto-mock",
    "qonto-cli",
];

pub(crate) fn run(args: &[String]) -> Result {
    let verify = !args.iter().any(|a| a == "--no-verify");
    let mut command = Command::new(cargo_bin());
    command.args(["package", "--locked", "--allow-dirty"]);
    if verify {
        let dir = std::path::Path::new("target").join("package-verify");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| format!("cannot empty {}: {e}", dir.display()))?;
        }
        command.env("CARGO_TARGET_DIR", &dir);
    } else {
        command.arg("--no-verify");
    }
    for krate in PUBLISHED {
        command.args(["-p", krate]);
    }
    step(&mut command)
}
