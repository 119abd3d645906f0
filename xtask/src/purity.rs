//! The core-purity rule: which crates `qonto-auth-core` must never depend on.

/// Crates that bring I/O, an async runtime, an HTTP client or TLS.
const FORBIDDEN: &[&str] = &[
    "async-std",
    "aws-lc-rs",
    "aws-lc-sys",
    "hyper",
    "hyper-util",
    "mio",
    "native-tls",
    "openssl",
    "openssl-sys",
    "reqwest",
    "ring",
    "rustls",
    "smol",
    "tokio",
    "ureq",
];

/// Returns the forbidden crates named in `cargo tree --prefix none` output.
pub(crate) fn forbidden_crates(tree: &str) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| FORBIDDEN.contains(name))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_runtime_and_tls_crates_by_exact_name() {
        let tree = "qonto-auth-core v0.1.0 (/x)\nhttp v1.3.1\ntokio v1.48.0\nrustls v0.23.1\ntokio v1.48.0\nrustls-pki-types v1.0.0\n";
        assert_eq!(forbidden_crates(tree), ["rustls", "tokio"]);
        assert!(forbidden_crates("qonto-auth-core v0.1.0\nserde v1\n").is_empty());
    }
}
