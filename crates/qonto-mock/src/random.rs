//! Random identifiers: trace ids, tokens, authorization codes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static FALLBACK_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `N` random bytes from the OS; if the OS source fails, from a seeded hasher (never panics).
fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        let state = std::collections::hash_map::RandomState::new();
        for chunk in buf.chunks_mut(8) {
            let mut hasher = state.build_hasher();
            hasher.write_u64(FALLBACK_COUNTER.fetch_add(1, Ordering::Relaxed));
            let word = hasher.finish().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    buf
}

/// A fresh 32-hex-digit trace id, as in Qonto's `X-Tyk-Trace-Id` header.
pub(crate) fn trace_id() -> String {
    bytes::<16>().iter().map(|b| format!("{b:02x}")).collect()
}

/// An opaque credential with the given prefix (`ory_at_`, `ory_rt_`, `ory_ac_`).
pub(crate) fn token(prefix: &str) -> String {
    let key = URL_SAFE_NO_PAD.encode(bytes::<32>());
    let signature = URL_SAFE_NO_PAD.encode(bytes::<16>());
    format!("{prefix}{key}.{signature}")
}

/// A short random identifier for server-side records (consent challenges).
pub(crate) fn id() -> String {
    URL_SAFE_NO_PAD.encode(bytes::<18>())
}
