//! The token set held by the lifecycle, and its persisted JSON form.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::secret::{AccessToken, RefreshToken};
use crate::time::Timestamp;

/// An access token with its absolute expiry, and the refresh token that renews it.
#[derive(Clone, Debug)]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessToken,
    /// When the access token expires: the time the token request was *sent* plus `expires_in`.
    pub expires_at: Timestamp,
    /// The refresh token, when `offline_access` was granted.
    pub refresh_token: Option<RefreshToken>,
    /// When the refresh token was issued (the start of its 90-day life).
    pub refresh_issued_at: Option<Timestamp>,
    /// The granted scopes, space-separated.
    pub scope: Option<String>,
    /// Set when a refresh with this refresh token was sent and its answer is not known (the
    /// process may have died, or the answer was lost). Written to the store *before* the
    /// refresh is sent, so another process knows the refresh token may already be consumed:
    /// inside the rotation grace window it may still be presented, after it never.
    pub refresh_pending_since: Option<Timestamp>,
}

impl TokenSet {
    /// True when both sets hold the same access and refresh tokens.
    pub fn same_tokens(&self, other: &Self) -> bool {
        let refresh_same = match (&self.refresh_token, &other.refresh_token) {
            (Some(a), Some(b)) => a.ct_eq(b),
            (None, None) => true,
            _ => false,
        };
        refresh_same && self.access_token.ct_eq(&other.access_token)
    }

    /// Time left before the access token expires, zero once expired.
    pub fn access_remaining(&self, now: Timestamp) -> Duration {
        self.expires_at.saturating_since(now)
    }

    /// Encodes the set as the JSON document token stores keep (format 1).
    ///
    /// The output holds the secrets in clear: write it only to storage protected as a secret,
    /// and wipe it after (the file store does). The secrets are copied into the output only.
    pub fn to_persisted_json(&self) -> Vec<u8> {
        let doc = Persisted {
            format: 1,
            access_token: self.access_token.expose_secret(),
            expires_at_ms: self.expires_at.unix_millis(),
            refresh_token: self.refresh_token.as_ref().map(RefreshToken::expose_secret),
            refresh_issued_at_ms: self
                .refresh_token
                .as_ref()
                .map(|_| self.refresh_issued_at.map(Timestamp::unix_millis)),
            refresh_pending_since_ms: self.refresh_pending_since.map(Timestamp::unix_millis),
            scope: self.scope.as_deref().filter(|s| !s.is_empty()),
        };
        let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Decodes a document written by [`TokenSet::to_persisted_json`].
    ///
    /// # Errors
    ///
    /// [`PersistedTokensError`], which never includes the document's content.
    pub fn from_persisted_json(bytes: &[u8]) -> Result<Self, PersistedTokensError> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
            return Err(PersistedTokensError::NotJson);
        };
        match map.get("format").and_then(Value::as_u64) {
            Some(1) => {}
            Some(other) => return Err(PersistedTokensError::UnsupportedFormat(other)),
            None => return Err(PersistedTokensError::Missing("format")),
        }
        let text = |key: &'static str| -> Result<Option<String>, PersistedTokensError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(_) => Err(PersistedTokensError::Invalid(key)),
            }
        };
        let millis = |key: &'static str| -> Result<Option<Timestamp>, PersistedTokensError> {
            read_millis(&map, key)
        };
        let access = text("access_token")?.ok_or(PersistedTokensError::Missing("access_token"))?;
        let expires_at =
            millis("expires_at_ms")?.ok_or(PersistedTokensError::Missing("expires_at_ms"))?;
        let refresh_token = text("refresh_token")?.map(RefreshToken::new);
        let refresh_issued_at = millis("refresh_issued_at_ms")?;
        Ok(Self {
            access_token: AccessToken::new(access),
            expires_at,
            refresh_issued_at: refresh_token.as_ref().and(refresh_issued_at),
            refresh_token,
            scope: text("scope")?,
            refresh_pending_since: millis("refresh_pending_since_ms")?,
        })
    }
}

/// The persisted document, borrowing the secrets (no intermediate copies).
#[derive(serde::Serialize)]
struct Persisted<'a> {
    format: u8,
    access_token: &'a str,
    expires_at_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_issued_at_ms: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_pending_since_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

fn read_millis(
    map: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<Timestamp>, PersistedTokensError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(|ms| Some(Timestamp::from_unix_millis(ms)))
            .ok_or(PersistedTokensError::Invalid(key)),
    }
}

/// A stored token document could not be read. The content is never included.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PersistedTokensError {
    /// Not a JSON object (corrupt or truncated file).
    #[error("the token store is not a JSON object (corrupt or truncated)")]
    NotJson,
    /// Written by a newer version of this library.
    #[error("the token store has format {0}, which this version cannot read")]
    UnsupportedFormat(u64),
    /// A required field is absent.
    #[error("the token store lacks `{0}`")]
    Missing(&'static str),
    /// A field has the wrong type.
    #[error("the token store's `{0}` has the wrong type")]
    Invalid(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> TokenSet {
        TokenSet {
            access_token: AccessToken::new("ory_at_a"),
            expires_at: Timestamp::from_unix_millis(1_700_000_000_123),
            refresh_token: Some(RefreshToken::new("ory_rt_r")),
            refresh_issued_at: Some(Timestamp::from_unix_secs(1_699_999_000)),
            scope: Some("offline_access organization.read".into()),
            refresh_pending_since: None,
        }
    }

    #[test]
    fn round_trips_through_the_persisted_form() {
        let original = set();
        let decoded = TokenSet::from_persisted_json(&original.to_persisted_json()).unwrap();
        assert!(decoded.same_tokens(&original));
        assert_eq!(decoded.expires_at, original.expires_at);
        assert_eq!(decoded.refresh_issued_at, original.refresh_issued_at);
        assert_eq!(decoded.scope, original.scope);
        let no_refresh = TokenSet {
            refresh_token: None,
            refresh_issued_at: None,
            ..set()
        };
        let decoded = TokenSet::from_persisted_json(&no_refresh.to_persisted_json()).unwrap();
        assert!(decoded.refresh_token.is_none());
    }

    #[test]
    fn corrupt_documents_are_typed_errors_without_content() {
        let full = set().to_persisted_json();
        let truncated = &full[..full.len() / 2];
        assert_eq!(
            TokenSet::from_persisted_json(truncated).unwrap_err(),
            PersistedTokensError::NotJson
        );
        assert_eq!(
            TokenSet::from_persisted_json(b"").unwrap_err(),
            PersistedTokensError::NotJson
        );
        assert_eq!(
            TokenSet::from_persisted_json(br#"{"format":2}"#).unwrap_err(),
            PersistedTokensError::UnsupportedFormat(2)
        );
        assert_eq!(
            TokenSet::from_persisted_json(br#"{"format":1,"access_token":"x"}"#).unwrap_err(),
            PersistedTokensError::Missing("expires_at_ms")
        );
        assert_eq!(
            TokenSet::from_persisted_json(br#"{"format":1,"access_token":5,"expires_at_ms":1}"#)
                .unwrap_err(),
            PersistedTokensError::Invalid("access_token")
        );
    }
}
