//! Newtypes for secret strings: redacted `Debug`, no `Display`, no `PartialEq`.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value. Prefer the checked constructors where the type has one.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// Returns the secret. Every call site is a place where the secret may leak:
            /// use it only to put the value on the wire or into storage.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// Compares two secrets in constant time (for equal lengths).
            pub fn ct_eq(&self, other: &Self) -> bool {
                let (a, b) = (self.expose_secret().as_bytes(), other.expose_secret().as_bytes());
                a.len() == b.len() && bool::from(a.ct_eq(b))
            }

            /// Returns a short, non-reversible fingerprint (12 hex digits of SHA-256), safe to
            /// log and to compare when telling two tokens apart.
            pub fn fingerprint(&self) -> Fingerprint {
                Fingerprint::of(self.expose_secret())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_string!(
    /// An OAuth access token (`ory_at_…`), sent as `Authorization: Bearer <token>`.
    AccessToken
);
secret_string!(
    /// An OAuth refresh token (`ory_rt_…`); rotated by every refresh.
    RefreshToken
);
secret_string!(
    /// An OAuth client secret from the Developer Portal.
    ClientSecret
);
secret_string!(
    /// The personal sandbox staging token sent as `X-Qonto-Staging-Token`.
    StagingToken
);
secret_string!(
    /// The secret half of a static API key (`login:secret`).
    SecretKey
);
secret_string!(
    /// A one-time OAuth authorization code (`ory_ac_…`).
    AuthorizationCode
);
secret_string!(
    /// The secret of a webhook subscription (`whsec_…`, or the value given at creation), the
    /// HMAC key of its `X-Qonto-Signature`. Not the API key, not the OAuth client secret.
    WebhookSecret
);

/// A short SHA-256 fingerprint of a secret: identifies a token without revealing it.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct Fingerprint([u8; 6]);

impl Fingerprint {
    /// Computes the fingerprint of a secret value.
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        let mut out = [0u8; 6];
        out.copy_from_slice(&digest[..6]);
        Self(out)
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_fingerprint_is_stable() {
        let token = AccessToken::new("ory_at_SENTINEL");
        assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
        assert_eq!(
            token.fingerprint(),
            AccessToken::new("ory_at_SENTINEL").fingerprint()
        );
        assert_ne!(
            token.fingerprint(),
            AccessToken::new("ory_at_other").fingerprint()
        );
        assert_eq!(token.fingerprint().to_string().len(), 12);
        assert!(!token.fingerprint().to_string().contains("SENTINEL"));
    }

    #[test]
    fn constant_time_equality_compares_values() {
        assert!(RefreshToken::new("a").ct_eq(&RefreshToken::new("a")));
        assert!(!RefreshToken::new("a").ct_eq(&RefreshToken::new("b")));
        assert!(!RefreshToken::new("a").ct_eq(&RefreshToken::new("ab")));
    }
}
