//! What a call sends: method, path, query, body, headers, and its write and retry options.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Serialize;

use crate::request::RequestError;

/// Whether a write carries an `X-Qonto-Idempotency-Key` (the same one on every replay and
/// retry of the call).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub enum Idempotency {
    /// A fresh UUID v4 for POST, PUT, PATCH and DELETE (the default).
    #[default]
    Auto,
    /// This key.
    Key(String),
    /// None, even for a write (such a write is never retried once it may have been sent).
    Off,
}

/// The strong customer authentication method asked for with `X-Qonto-2fa-Preference`.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum ScaPreference {
    /// Approve a push notification in the Qonto app on a paired phone (Qonto's default).
    #[default]
    PairedDevice,
    /// An SMS with a link to create or use a passkey.
    Passkey,
    /// A one-time code by SMS, given back by the caller (Embed partners).
    SmsOtp,
    /// The sandbox's simulated decision (`POST /v2/mocked_sca_sessions/{token}/allow`).
    Mock,
}

impl ScaPreference {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PairedDevice => "paired-device",
            Self::Passkey => "passkey",
            Self::SmsOtp => "sms-otp",
            Self::Mock => "mock",
        }
    }

    /// Parses a header value.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::PairedDevice, Self::Passkey, Self::SmsOtp, Self::Mock]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// Opt-in retries of a call, decided by the core: a call certainly not sent is retried
/// whatever its method; one that may have been sent, or answered 429 or 5xx, only when
/// idempotent (GET, HEAD, PUT, DELETE) or carrying an idempotency key. Delays grow
/// exponentially from `base` with jitter, capped at `max_delay`; a 429's `Retry-After` (seconds
/// or HTTP date) is honoured up to that cap.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retry; the default).
    pub max_attempts: u32,
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::none()
    }
}

impl RetryPolicy {
    /// No retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }

    /// Up to `max_attempts` attempts in all, from 500 ms to 30 s apart.
    pub fn attempts(max_attempts: u32) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            ..Self::none()
        }
    }
}

/// What to send: method, path and query on the API host, an optional JSON body, extra
/// headers, and the write options.
#[derive(Clone)]
#[non_exhaustive]
pub struct CallSpec {
    /// The method.
    pub method: Method,
    /// An absolute path with its query, such as `/v2/organization`.
    pub path_and_query: String,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub body: Option<Vec<u8>>,
    /// Extra headers (secret values marked sensitive).
    pub headers: HeaderMap,
    /// The idempotency key of a write.
    pub idempotency: Idempotency,
    /// The SCA method to ask for; Qonto's default (a paired device) when `None`.
    pub sca_preference: Option<ScaPreference>,
    /// How long to wait for an SCA decision (at most the session's 15 minutes).
    pub sca_timeout: Option<Duration>,
    /// Retries.
    pub retry: RetryPolicy,
}

impl CallSpec {
    /// A call of `method` on `path_and_query`, without a body.
    pub fn new(method: Method, path_and_query: impl Into<String>) -> Self {
        Self {
            method,
            path_and_query: path_and_query.into(),
            body: None,
            headers: HeaderMap::new(),
            idempotency: Idempotency::Auto,
            sca_preference: None,
            sca_timeout: None,
            retry: RetryPolicy::none(),
        }
    }

    /// A GET of `path_and_query`.
    pub fn get(path_and_query: impl Into<String>) -> Self {
        Self::new(Method::GET, path_and_query)
    }

    /// Sets the JSON body (bytes).
    #[must_use]
    pub fn json_body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets the body to this JSON value, if any.
    #[must_use]
    pub fn json(mut self, value: Option<&serde_json::Value>) -> Self {
        self.body = value.map(|v| serde_json::to_vec(v).unwrap_or_default());
        self
    }

    /// Sets the body to any serializable value.
    ///
    /// # Errors
    ///
    /// [`RequestError::Body`] when it does not serialize to JSON.
    pub fn serialize<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Self, RequestError> {
        self.body = Some(serde_json::to_vec(value).map_err(|_| RequestError::Body)?);
        Ok(self)
    }

    /// Adds a query pair, encoded.
    #[must_use]
    pub fn query(mut self, key: &str, value: &str) -> Self {
        let pair: String = form_urlencoded::Serializer::new(String::new())
            .append_pair(key, value)
            .finish();
        let separator = if self.path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        self.path_and_query.push(separator);
        self.path_and_query.push_str(&pair);
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Adds a header given as text, checked, and marked sensitive when its name says it
    /// carries a secret. The headers the core sets itself (authorization, the staging token,
    /// the SCA session token, the organization) cannot be set this way.
    ///
    /// # Errors
    ///
    /// [`RequestError::InvalidHeader`] for a malformed name or value, or a reserved name.
    pub fn header_text(self, name: &str, value: &str) -> Result<Self, RequestError> {
        let name: HeaderName = name
            .trim()
            .parse()
            .map_err(|_| RequestError::InvalidHeader)?;
        const RESERVED: &[&str] = &[
            "authorization",
            "x-qonto-staging-token",
            "x-qonto-sca-session-token",
            "x-qonto-organization-id",
            "host",
            "content-length",
        ];
        if RESERVED.contains(&name.as_str()) {
            return Err(RequestError::InvalidHeader);
        }
        let mut value =
            HeaderValue::from_str(value.trim()).map_err(|_| RequestError::InvalidHeader)?;
        let secret = ["token", "secret", "password", "mfa", "cookie", "key"]
            .iter()
            .any(|word| name.as_str().contains(word));
        value.set_sensitive(secret);
        Ok(self.header(name, value))
    }

    /// Uses this idempotency key.
    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency = Idempotency::Key(key.into());
        self
    }

    /// Sends no idempotency key, even for a write.
    #[must_use]
    pub fn without_idempotency_key(mut self) -> Self {
        self.idempotency = Idempotency::Off;
        self
    }

    /// Asks for this SCA method.
    #[must_use]
    pub fn sca_preference(mut self, preference: ScaPreference) -> Self {
        self.sca_preference = Some(preference);
        self
    }

    /// Waits at most this long for an SCA decision.
    #[must_use]
    pub fn sca_timeout(mut self, timeout: Duration) -> Self {
        self.sca_timeout = Some(timeout);
        self
    }

    /// Retries as `policy` says.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
}

impl std::fmt::Debug for CallSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallSpec")
            .field("method", &self.method)
            .field("path_and_query", &self.path_and_query)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("headers", &self.headers)
            .field("sca_preference", &self.sca_preference)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}
