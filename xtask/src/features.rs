//! `cargo xtask features`: each TLS feature of every crate that has one, linted, built and
//! tested on its own (and with none), so a feature that compiles but fails at run time, such
//! as a TLS backend compiled in but never selected, is caught. The default feature set
//! (rustls) is what `cargo xtask test` runs.
//!
//! One cargo invocation per feature set covers all the crates (their features agree: the
//! adapters forward theirs to qonto-reqwest), so each set's dependencies are built once.
//! `cargo xtask examples` runs the adapters' examples against the built-in mock.

use crate::{Result, cargo};

/// The crates with TLS features.
const CRATES: &[&str] = &[
    "qonto-ureq",
    "qonto-reqwest",
    "qonto-reqwest-middleware",
    "qonto-tower",
];

/// The feature sets tested besides the default: no TLS at all, and native-tls alone.
const SETS: &[(&str, &[&str])] = &[("no TLS", &[]), ("native-tls only", &["native-tls"])];

pub(crate) fn run() -> Result {
    for (name, features) in SETS {
        println!("== features: {name}");
        let list: Vec<String> = CRATES
            .iter()
            .flat_map(|krate| features.iter().map(move |f| format!("{krate}/{f}")))
            .collect();
        let list = list.join(",");
        let mut selection = vec!["--locked", "--no-default-features"];
        if !list.is_empty() {
            selection.extend(["--features", &list]);
        }
        for krate in CRATES {
            selection.extend(["-p", krate]);
        }
        // The code behind these features gets the same lints as the default build.
        let lint = [
            &["clippy"],
            &selection[..],
            &["--all-targets", "--", "-D", "warnings"],
        ];
        cargo(&lint.concat())?;
        cargo(&[&["test"], &selection[..], &["--lib", "--tests"]].concat())?;
    }
    Ok(())
}

/// The adapters' examples, each against the mock it starts.
pub(crate) fn examples() -> Result {
    for (krate, example) in [
        ("qonto-reqwest-middleware", "middleware"),
        ("qonto-tower", "tower"),
    ] {
        cargo(&["run", "--locked", "-p", krate, "--example", example])?;
    }
    Ok(())
}
