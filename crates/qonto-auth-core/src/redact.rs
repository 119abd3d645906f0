//! Removing the secrets in play from what a server says, before it is shown or kept.
//!
//! A hostile or buggy server may echo a request back: a 401 whose `detail` repeats the
//! `Authorization` header, a token endpoint whose `error_description` repeats the form with
//! the client secret and the refresh token, a redirect whose `Location` host carries a token.
//! Every server-supplied string that ends up in an error or a finding goes through a
//! [`Redactor`] built from the request that was sent.

use http::{HeaderMap, HeaderValue};
use zeroize::Zeroizing;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not looked for (they would match ordinary words).
const MIN_SECRET_LEN: usize = 6;

/// The secrets of one exchange, and their encoded forms, to cut out of server text.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<Zeroizing<String>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A redactor that knows no secret yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret, with its URL-encoded form (an echoed form body) and, for
    /// `Authorization` values, the credential without its scheme and the secret half of a
    /// `login:secret` key.
    pub fn add(&mut self, secret: &str) {
        let mut forms = vec![secret.to_owned()];
        if let Some(token) = secret.strip_prefix("Bearer ") {
            forms.push(token.to_owned());
        }
        if let Some((_, half)) = secret.split_once(':') {
            forms.push(half.to_owned());
        }
        for form in forms {
            let encoded: String = form_urlencoded::byte_serialize(form.as_bytes()).collect();
            for text in [form, encoded] {
                if text.len() >= MIN_SECRET_LEN && !self.secrets.iter().any(|s| **s == text) {
                    self.secrets.push(Zeroizing::new(text));
                }
            }
        }
    }

    /// Adds every sensitive header value of `headers` (credentials, the staging token).
    pub fn add_headers(&mut self, headers: &HeaderMap) {
        for value in headers.values().filter(|v| v.is_sensitive()) {
            self.add_value(value);
        }
    }

    /// Adds one header value.
    pub fn add_value(&mut self, value: &HeaderValue) {
        if let Ok(text) = value.to_str() {
            self.add(text);
        }
    }

    /// Adds the values of `keys` in a form-encoded body (a token request's secrets).
    pub fn add_form(&mut self, body: &[u8], keys: &[&str]) {
        for (key, value) in form_urlencoded::parse(body) {
            if keys.contains(&key.as_ref()) {
                self.add(&value);
            }
        }
    }

    /// `text` with every known secret replaced by [`REDACTED`]. Matching ignores ASCII case:
    /// a host name echoing a token comes back lowercased, and cutting too much is harmless.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        // Longest first, so a secret is not half-replaced by a shorter one it contains.
        let mut secrets: Vec<String> = self
            .secrets
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in &secrets {
            // ASCII lowercasing keeps every byte offset, so positions carry over; the search
            // resumes after each replacement, whatever the replacement contains.
            let mut from = 0;
            while let Some(found) = out[from..].to_ascii_lowercase().find(secret.as_str()) {
                let at = from + found;
                out.replace_range(at..at + secret.len(), REDACTED);
                from = at + REDACTED.len();
            }
        }
        out
    }

    /// [`redact`](Self::redact) for an optional string.
    pub fn redact_opt(&self, text: Option<String>) -> Option<String> {
        text.map(|t| self.redact(&t))
    }

    /// Whether `text` holds a known secret (ignoring ASCII case).
    pub fn leaks(&self, text: &str) -> bool {
        let text = text.to_ascii_lowercase();
        self.secrets
            .iter()
            .any(|s| text.contains(&s.to_ascii_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_their_encoded_forms_are_cut_out() {
        let mut r = Redactor::new();
        r.add("Bearer ory_at_SENTINEL+1");
        r.add("org-1:s3cret-SENTINEL");
        r.add("abc");
        let text =
            "got Bearer ory_at_SENTINEL+1, token=ory_at_SENTINEL%2B1, key s3cret-SENTINEL abc";
        let clean = r.redact(text);
        assert!(!clean.contains("SENTINEL"), "{clean}");
        assert!(
            clean.ends_with("abc"),
            "short strings are left alone: {clean}"
        );
        assert!(!format!("{r:?}").contains("SENTINEL"));
        assert!(r.leaks(text) && !r.leaks(&clean));
        let mut looping = Redactor::new();
        looping.add("redacted");
        assert_eq!(
            looping.redact("a redacted b"),
            "a [redacted] b",
            "terminates"
        );
        let host = r.redact("https://ory_at_sentinel+1.evil.example/");
        assert!(!host.to_ascii_lowercase().contains("sentinel"), "{host}");
    }

    #[test]
    fn sensitive_headers_and_form_values_are_known() {
        let mut headers = HeaderMap::new();
        let mut staging = HeaderValue::from_static("stg-SENTINEL");
        staging.set_sensitive(true);
        headers.insert("x-qonto-staging-token", staging);
        headers.insert("accept", HeaderValue::from_static("application/json"));
        let mut r = Redactor::new();
        r.add_headers(&headers);
        r.add_form(
            b"grant_type=refresh_token&client_secret=cs-SENTINEL&refresh_token=rt%2BSENTINEL",
            &["client_secret", "refresh_token"],
        );
        let clean = r.redact(
            "stg-SENTINEL cs-SENTINEL rt+SENTINEL rt%2BSENTINEL application/json refresh_token",
        );
        assert!(!clean.contains("SENTINEL"), "{clean}");
        assert!(clean.contains("application/json") && clean.contains("refresh_token"));
    }
}
