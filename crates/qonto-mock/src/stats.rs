//! Request counters and the last raw request head per path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::util::lock;

/// A snapshot of the server's counters, taken by [`MockServer::stats`](crate::MockServer::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    token_calls: HashMap<String, u64>,
    requests: HashMap<(String, u16), u64>,
    total: u64,
}

impl Stats {
    /// Requests that reached `/oauth2/token` with this `grant_type` (including failed, dropped
    /// and lost ones). A request without a readable `grant_type` counts under `""`.
    pub fn token_calls(&self, grant_type: &str) -> u64 {
        self.token_calls.get(grant_type).copied().unwrap_or(0)
    }

    /// Requests to `path` (without query) answered with `status`. Requests whose connection
    /// was dropped on purpose (fault injection) count with status `0`.
    pub fn requests(&self, path: &str, status: u16) -> u64 {
        self.requests
            .get(&(path.to_owned(), status))
            .copied()
            .unwrap_or(0)
    }

    /// Requests answered with `status` whose path starts with `prefix` (for paths that carry
    /// an identifier, such as `/v2/sca_sessions/`).
    pub fn requests_prefixed(&self, prefix: &str, status: u16) -> u64 {
        self.requests
            .iter()
            .filter(|((path, s), _)| *s == status && path.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    /// Every complete request the server has read.
    pub fn total_requests(&self) -> u64 {
        self.total
    }

    /// Answers on Business API paths (`/v2/…`) with `status`.
    pub fn api_calls(&self, status: u16) -> u64 {
        self.requests
            .iter()
            .filter(|((path, s), _)| *s == status && path.starts_with("/v2/"))
            .map(|(_, n)| n)
            .sum()
    }

    /// The document `GET /_mock/stats` answers: token-endpoint calls by grant type, Business
    /// API answers by status (and by path and status), every request read.
    pub(crate) fn to_json(&self) -> Value {
        let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_path: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
        for ((path, status), n) in &self.requests {
            if path.starts_with("/v2/") {
                *by_status.entry(status.to_string()).or_insert(0) += n;
                *by_path
                    .entry(path)
                    .or_default()
                    .entry(status.to_string())
                    .or_insert(0) += n;
            }
        }
        let token_calls: BTreeMap<&String, &u64> = self.token_calls.iter().collect();
        json!({
            "token_calls": token_calls,
            "api_calls": by_status,
            "api_calls_by_path": by_path,
            "total_requests": self.total,
        })
    }
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    stats: Mutex<Stats>,
    heads: Mutex<HashMap<String, Vec<u8>>>,
}

impl Recorder {
    pub(crate) fn record_head(&self, path: &str, head: &[u8]) {
        lock(&self.heads).insert(path.to_owned(), head.to_vec());
    }

    pub(crate) fn last_head(&self, path: &str) -> Option<Vec<u8>> {
        lock(&self.heads).get(path).cloned()
    }

    pub(crate) fn record_token_call(&self, grant_type: &str) {
        *lock(&self.stats)
            .token_calls
            .entry(grant_type.to_owned())
            .or_insert(0) += 1;
    }

    pub(crate) fn record_answer(&self, path: &str, status: u16) {
        let mut stats = lock(&self.stats);
        stats.total += 1;
        *stats.requests.entry((path.to_owned(), status)).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(&self) -> Stats {
        lock(&self.stats).clone()
    }
}
