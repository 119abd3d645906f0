//! The core's one source of randomness.

/// Fills `buf` with bytes from the operating system's secure random source.
///
/// This is the only place where the core reaches outside itself; everything that needs
/// randomness (OAuth `state`, PKCE verifiers, jitter seeds) either takes bytes as a parameter or
/// calls this function. If the operating system has no random source the error is returned,
/// never papered over.
pub fn fill(buf: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(buf).map_err(|e| RandomError(e.to_string()))
}

/// The operating system could not provide random bytes.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);
