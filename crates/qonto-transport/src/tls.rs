//! Which certificate authorities a transport trusts for HTTPS. Each transport's `wire.rs`
//! turns the choice into its HTTP client's TLS settings; this module only holds the choice
//! and the certificates of a custom bundle, checked when read.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The roots of trust for HTTPS.
///
/// Whatever the choice, the server's name is always checked and TLS is never turned off.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum TlsRoots {
    /// Mozilla's root certificates, compiled in (`webpki-roots`): the same on every machine,
    /// whatever its trust store holds (the default).
    #[default]
    WebPki,
    /// The operating system's trust store: the platform verifier with rustls
    /// (`rustls-platform-verifier`), the system's own with `native-tls`. Choose it behind a
    /// proxy whose certificate authority the administrator installed system-wide.
    Platform,
    /// Only these certificate authorities: a private CA, a TLS-inspecting proxy, a test server.
    Custom(CaBundle),
}

/// Certificate authorities read from PEM (`-----BEGIN CERTIFICATE-----` blocks), such as the
/// file given to `qonto --ca-cert`. Holds public certificates only.
#[derive(Clone)]
pub struct CaBundle {
    certificates: Arc<[CertificateDer<'static>]>,
}

impl CaBundle {
    /// Reads every certificate of a PEM text; other blocks (keys, parameters) are skipped.
    ///
    /// # Errors
    ///
    /// [`CaBundleError`] when a block is malformed or there is no certificate at all.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CaBundleError> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CaBundleError::Malformed(e.to_string()))?;
        if certificates.is_empty() {
            return Err(CaBundleError::Empty);
        }
        Ok(Self {
            certificates: certificates.into(),
        })
    }

    /// Reads a PEM file.
    ///
    /// # Errors
    ///
    /// [`CaBundleError::Unreadable`] when the file cannot be read, else as [`CaBundle::from_pem`].
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, CaBundleError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| CaBundleError::Unreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_pem(&pem)
    }

    /// The certificates, DER-encoded, in the order of the file.
    pub fn certificates(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        self.certificates.iter().map(|c| c.as_ref())
    }
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaBundle")
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

/// Why a CA bundle could not be read.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CaBundleError {
    /// The file could not be read.
    #[error("cannot read the CA bundle {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// A PEM block is malformed.
    #[error("malformed PEM in the CA bundle: {0}")]
    Malformed(String),
    /// The text holds no `CERTIFICATE` block.
    #[error("the CA bundle holds no certificate (expected -----BEGIN CERTIFICATE----- blocks)")]
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;

    // The body of a PEM block: a tiny DER value (the bundle does not parse X.509 itself; the
    // TLS library does, when the client is built).
    const CERT: &str = "MAMCAQA=";

    fn pem(blocks: usize) -> String {
        let block = format!("-----BEGIN CERTIFICATE-----\n{CERT}\n-----END CERTIFICATE-----\n");
        block.repeat(blocks)
    }

    #[test]
    fn every_certificate_of_a_bundle_is_read() {
        let bundle = CaBundle::from_pem(pem(2).as_bytes()).unwrap();
        assert_eq!(bundle.certificates().len(), 2);
        assert_eq!(format!("{bundle:?}"), "CaBundle { certificates: 2 }");
    }

    #[test]
    fn a_text_without_certificates_or_with_a_broken_block_is_refused() {
        assert_eq!(
            CaBundle::from_pem(b"hello").unwrap_err(),
            CaBundleError::Empty
        );
        let broken = pem(1).replace("-----END CERTIFICATE-----\n", "");
        assert!(matches!(
            CaBundle::from_pem(broken.as_bytes()),
            Err(CaBundleError::Malformed(_))
        ));
        let missing = CaBundle::from_pem_file("/nonexistent/ca.pem").unwrap_err();
        assert!(matches!(missing, CaBundleError::Unreadable { .. }));
    }
}
