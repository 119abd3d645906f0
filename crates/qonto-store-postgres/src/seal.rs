//! Encryption at rest: token documents sealed with XChaCha20-Poly1305 under keys the
//! application supplies, each row naming the key that sealed it.

use std::fmt;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// The first byte of a sealed document: the layout version.
const SEALED_V1: u8 = 1;
/// XChaCha20's nonce length: long enough to draw at random for every save.
const NONCE_LEN: usize = 24;
/// The Poly1305 tag length.
const TAG_LEN: usize = 16;
/// The longest key id.
const MAX_KEY_ID: usize = 64;

/// A 256-bit key for sealing tokens, with the id stored beside each row it seals.
///
/// The key bytes are wiped on drop and never shown by `Debug`.
#[derive(Clone)]
pub struct SealingKey {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl SealingKey {
    /// A key from 32 bytes.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidId`] unless the id is 1 to 64 ASCII letters, digits, `-`, `_`, `.`.
    pub fn new(id: &str, key: [u8; 32]) -> Result<Self, KeyError> {
        let key = Zeroizing::new(key);
        check_id(id)?;
        Ok(Self {
            id: id.to_owned(),
            key,
        })
    }

    /// A key from its standard Base64 form (44 characters; surrounding whitespace ignored),
    /// as `openssl rand -base64 32` or `head -c 32 /dev/urandom | base64` print it.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidId`], or [`KeyError::InvalidKey`] unless the text decodes to
    /// exactly 32 bytes.
    pub fn from_base64(id: &str, text: &str) -> Result<Self, KeyError> {
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| KeyError::InvalidKey)?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::InvalidKey)?;
        Self::new(id, bytes)
    }

    /// A new random key from the operating system.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidId`], or [`KeyError::Random`] when the OS has no randomness.
    pub fn generate(id: &str) -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *bytes).map_err(|_| KeyError::Random)?;
        Self::new(id, *bytes)
    }

    /// The key's id, stored in clear beside every row it seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key in standard Base64, to hand to a secret manager after [`generate`](Self::generate).
    /// The returned text is a secret: it is wiped when dropped.
    pub fn expose_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(*self.key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.key).into())
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("id", &self.id)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// The keys of a store: the current one seals every save; older ones still open the rows
/// they sealed, until those rows are saved again (or re-sealed by
/// [`PgTokens::reseal`](crate::PgTokens::reseal)).
#[derive(Clone, Debug)]
pub struct Keyring {
    current: SealingKey,
    older: Vec<SealingKey>,
}

impl Keyring {
    /// A keyring that seals with `current`.
    pub fn new(current: SealingKey) -> Self {
        Self {
            current,
            older: Vec::new(),
        }
    }

    /// Adds a retired key that still opens the rows it sealed.
    ///
    /// # Errors
    ///
    /// [`KeyError::DuplicateId`] when the keyring already has a key with that id.
    pub fn with_older(mut self, key: SealingKey) -> Result<Self, KeyError> {
        if self.get(key.id()).is_some() {
            return Err(KeyError::DuplicateId(key.id));
        }
        self.older.push(key);
        Ok(self)
    }

    /// The key that seals new saves.
    pub fn current(&self) -> &SealingKey {
        &self.current
    }

    fn get(&self, id: &str) -> Option<&SealingKey> {
        std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
    }

    /// Seals `plain` for the row of `connection_id` under the current key.
    pub(crate) fn seal(&self, connection_id: &str, plain: &[u8]) -> Result<Vec<u8>, KeyError> {
        let key = &self.current;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| KeyError::Random)?;
        let aad = associated_data(connection_id, key.id());
        let sealed = key
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::Random)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a row sealed under `key_id`.
    pub(crate) fn open(
        &self,
        connection_id: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Unseal> {
        let key = self.get(key_id).ok_or(Unseal::KeyMissing)?;
        open_with(key, connection_id, sealed)
    }
}

/// Why a sealed row could not be opened.
#[derive(Debug, Eq, PartialEq)]
pub(crate) enum Unseal {
    /// No key with the row's id.
    KeyMissing,
    /// The key does not open it (wrong key, altered or moved row).
    Rejected,
    /// Not a sealed document at all (truncated, unknown layout).
    Malformed,
}

fn open_with(
    key: &SealingKey,
    connection_id: &str,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Unseal> {
    match sealed {
        [SEALED_V1, rest @ ..] if rest.len() >= NONCE_LEN + TAG_LEN => {
            let (nonce, body) = rest.split_at(NONCE_LEN);
            let aad = associated_data(connection_id, key.id());
            key.cipher()
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: body,
                        aad: &aad,
                    },
                )
                .map(Zeroizing::new)
                .map_err(|_| Unseal::Rejected)
        }
        _ => Err(Unseal::Malformed),
    }
}

/// Binds a sealed document to its row and key: a document copied to another connection id,
/// or relabelled with another key id, does not open.
fn associated_data(connection_id: &str, key_id: &str) -> Vec<u8> {
    let mut aad = b"qonto-store-postgres/sealed-v1\0".to_vec();
    aad.extend_from_slice(connection_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key_id.as_bytes());
    aad
}

fn check_id(id: &str) -> Result<(), KeyError> {
    let valid = (1..=MAX_KEY_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(KeyError::InvalidId)
    }
}

/// A refused key or keyring. Never contains key material.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key id must be 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
    #[error("a key id must be 1 to 64 ASCII letters, digits, '-', '_' or '.'")]
    InvalidId,
    /// The key is not 32 bytes of standard Base64.
    #[error("an encryption key must be 32 bytes in standard Base64 (44 characters)")]
    InvalidKey,
    /// Two keys of a keyring share an id.
    #[error("two keys share the id `{0}`")]
    DuplicateId(String),
    /// The operating system gave no randomness for a key or a nonce.
    #[error("the operating system's random number generator failed")]
    Random,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, byte: u8) -> SealingKey {
        SealingKey::new(id, [byte; 32]).unwrap()
    }

    #[test]
    fn sealed_documents_open_only_with_their_key_and_row() {
        let ring = Keyring::new(key("k1", 1));
        let sealed = ring.seal("org-1", b"secret document").unwrap();
        assert_eq!(
            &**ring.open("org-1", "k1", &sealed).unwrap(),
            b"secret document"
        );
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        // Another row, another key id, another key, a flipped bit, a truncated blob.
        assert_eq!(ring.open("org-2", "k1", &sealed), Err(Unseal::Rejected));
        assert_eq!(ring.open("org-1", "k2", &sealed), Err(Unseal::KeyMissing));
        let wrong = Keyring::new(key("k1", 2));
        assert_eq!(wrong.open("org-1", "k1", &sealed), Err(Unseal::Rejected));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(ring.open("org-1", "k1", &flipped), Err(Unseal::Rejected));
        assert_eq!(
            ring.open("org-1", "k1", &sealed[..20]),
            Err(Unseal::Malformed)
        );
    }

    #[test]
    fn rotation_keeps_older_keys_for_opening() {
        let old = Keyring::new(key("k1", 1));
        let sealed = old.seal("org-1", b"doc").unwrap();
        let rotated = Keyring::new(key("k2", 2)).with_older(key("k1", 1)).unwrap();
        assert_eq!(&**rotated.open("org-1", "k1", &sealed).unwrap(), b"doc");
        assert_eq!(rotated.current().id(), "k2");
        assert_eq!(
            Keyring::new(key("k1", 1))
                .with_older(key("k1", 3))
                .unwrap_err(),
            KeyError::DuplicateId("k1".into())
        );
    }

    #[test]
    fn keys_and_ids_are_checked_and_never_shown() {
        let text = SealingKey::generate("k1").unwrap().expose_base64();
        let parsed = SealingKey::from_base64("k1", &format!(" {}\n", &*text)).unwrap();
        assert!(!format!("{parsed:?}").contains(&*text));
        assert_eq!(
            SealingKey::from_base64("k1", "c2hvcnQ=").unwrap_err(),
            KeyError::InvalidKey
        );
        assert_eq!(
            SealingKey::from_base64("k1", "not base64!").unwrap_err(),
            KeyError::InvalidKey
        );
        for id in ["", "has space", "é", &"x".repeat(65)] {
            assert_eq!(
                SealingKey::new(id, [0; 32]).unwrap_err(),
                KeyError::InvalidId
            );
        }
    }
}
