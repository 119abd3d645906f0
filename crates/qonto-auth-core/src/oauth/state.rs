//! CSRF `state` and PKCE verifiers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::random::{self, RandomError};

/// The CSRF `state` of one authorization: 32 random bytes, hex-encoded (64 characters).
#[derive(Clone)]
pub struct CsrfState(String);

impl CsrfState {
    /// Draws a fresh state from the operating system's random source.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when no random source is available.
    pub fn random() -> Result<Self, RandomError> {
        let mut bytes = [0u8; 32];
        random::fill(&mut bytes)?;
        Ok(Self::from_bytes(bytes))
    }

    /// Builds a state from given bytes (deterministic tests).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The value placed in the authorize URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares a returned state with this one in constant time.
    pub fn matches(&self, returned: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), returned.as_bytes());
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }
}

impl std::fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfState([redacted])")
    }
}

/// A PKCE code verifier (RFC 7636, S256). Not `Clone`: one verifier serves one authorization.
///
/// Qonto does not document PKCE, so it is off by default and, when used, is sent together
/// with the client secret, never instead of it.
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// Draws a verifier of 32 random bytes (43 base64url characters).
    ///
    /// # Errors
    ///
    /// [`RandomError`] when no random source is available.
    pub fn random() -> Result<Self, RandomError> {
        let mut bytes = [0u8; 32];
        random::fill(&mut bytes)?;
        Ok(Self::from_bytes(bytes))
    }

    /// Builds a verifier from given bytes (deterministic tests).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The S256 challenge: base64url of the SHA-256 of the verifier.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The verifier, for the token request.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_64_hex_chars_and_compares_exactly() {
        let state = CsrfState::random().unwrap();
        assert_eq!(state.as_str().len(), 64);
        assert!(state.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(state.matches(state.as_str()));
        assert!(!state.matches(&state.as_str()[..63]));
        assert!(!state.matches(""));
        assert_ne!(state.as_str(), CsrfState::random().unwrap().as_str());
    }

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        // RFC 7636 appendix B: this verifier's S256 challenge is known.
        let verifier = PkceVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(
            verifier.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(PkceVerifier::from_bytes([7; 32]).expose_secret().len(), 43);
    }
}
