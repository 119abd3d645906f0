//! Secrets as the user gives them (flags, `QONTO_*` variables, the config file, stdin).
//!
//! They are wiped from this program's memory when dropped and never shown by `Debug`. What
//! cannot be wiped: clap's own copy of a flag's value, the process environment, and the copy
//! an HTTP client makes of a header while sending it.

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

/// A secret string, wiped on drop.
#[derive(Clone, Default)]
pub(crate) struct Secret(Zeroizing<String>);

impl Secret {
    pub(crate) fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The value, to hand to the library's own secret types.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}
