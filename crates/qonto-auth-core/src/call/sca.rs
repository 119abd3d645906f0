//! Strong customer authentication: the 428 challenge, the session poll answers, the outcomes.
//!
//! A sensitive write answered `428 Precondition Required` with an `sca_session_token` becomes
//! a [`ScaChallenge`]; the call polls `GET /v2/sca_sessions/{token}` at most once a second
//! until `allow` (then replays the original request unchanged plus
//! `X-Qonto-Sca-Session-Token`), `deny` or the session's 15 minutes are over. A 428 without a
//! token is a user with no paired device ([`ScaError::NotEnrolled`]).

use serde_json::{Map, Value};

use super::spec::ScaPreference;
use crate::codes::Code;
use crate::time::Timestamp;

/// Longest session token accepted (Qonto's are 64 characters).
const MAX_TOKEN_LEN: usize = 512;
/// Longest message kept from a server.
const MAX_MESSAGE_LEN: usize = 300;

/// What the user must do, for the caller to tell them. Holds no secret.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct ScaChallenge {
    /// Qonto's message (`SCA required`, `Passkey verification required` …), printable.
    pub message: String,
    /// The method asked for.
    pub preference: ScaPreference,
    /// When the session ends: no decision after it is an expiry.
    pub deadline: Timestamp,
    /// The `sms-otp` method: the caller must give the one-time code the user received.
    pub needs_otp: bool,
    /// The 428's trace id.
    pub trace_id: Option<String>,
}

/// Why a call needing strong customer authentication did not go through.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScaError {
    /// The user refused in the Qonto app (or the session was cancelled).
    #[error("the action was denied in the Qonto app")]
    Denied {
        /// The trace id of the 428 that opened the session.
        trace_id: Option<String>,
    },
    /// No decision before the session's deadline.
    #[error("no decision before the SCA session ended (15 minutes at most)")]
    Expired {
        /// The trace id of the 428 that opened the session.
        trace_id: Option<String>,
    },
    /// SCA is needed and the user has no paired device (a 428 without a session token).
    #[error(
        "strong customer authentication is needed and the user has no paired device: {message}"
    )]
    NotEnrolled {
        /// Qonto's message.
        message: String,
        /// The trace id.
        trace_id: Option<String>,
    },
    /// The 428's session token cannot be used (too long, or characters a path cannot carry).
    #[error("the SCA challenge could not be used: {reason}")]
    InvalidChallenge {
        /// What was wrong.
        reason: &'static str,
        /// The trace id.
        trace_id: Option<String>,
    },
    /// The session endpoint answered something that is not a session (HTML, garbage).
    #[error("the SCA session endpoint answered something unreadable")]
    UnreadableSession {
        /// The trace id.
        trace_id: Option<String>,
    },
    /// The `sms-otp` method needs the code the user received, and none was given.
    #[error("the sms-otp method needs the one-time code the user received")]
    OtpRequired,
}

impl ScaError {
    /// The stable code.
    pub fn code(&self) -> Code {
        match self {
            Self::Denied { .. } => Code::ScaDenied,
            Self::Expired { .. } => Code::ScaExpired,
            Self::NotEnrolled { .. } => Code::ScaNotEnrolled,
            Self::InvalidChallenge { .. } => Code::ScaChallengeInvalid,
            Self::UnreadableSession { .. } => Code::ScaSessionUnreadable,
            Self::OtpRequired => Code::ScaOtpRequired,
        }
    }

    /// The trace id of the answer the error came from.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::Denied { trace_id }
            | Self::Expired { trace_id }
            | Self::NotEnrolled { trace_id, .. }
            | Self::InvalidChallenge { trace_id, .. }
            | Self::UnreadableSession { trace_id } => trace_id.as_deref(),
            Self::OtpRequired => None,
        }
    }
}

/// What a 428's body says.
pub(crate) enum Challenge {
    /// A session to poll.
    Session { token: String, message: String },
    /// No session token: the user has no paired device.
    NotEnrolled { message: String },
    /// A token that cannot be used.
    Invalid(&'static str),
}

/// Reads a 428's body (flat JSON: `message`, `sca_session_token`, maybe `code`).
pub(crate) fn parse_challenge(body: &[u8]) -> Challenge {
    if body.len() > MAX_BODY {
        return Challenge::Invalid("the 428's body is too large");
    }
    let map = object(body).unwrap_or_default();
    let message = text(&map, "message").unwrap_or_else(|| "SCA required".to_owned());
    match map.get("sca_session_token") {
        None | Some(Value::Null) => Challenge::NotEnrolled { message },
        Some(Value::String(token)) if token.is_empty() => Challenge::NotEnrolled { message },
        Some(Value::String(token)) if token.len() > MAX_TOKEN_LEN => {
            Challenge::Invalid("the session token is too long")
        }
        Some(Value::String(token))
            if !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')) =>
        {
            Challenge::Invalid("the session token has characters a URL path cannot carry")
        }
        Some(Value::String(token)) => Challenge::Session {
            token: token.clone(),
            message,
        },
        Some(_) => Challenge::Invalid("the session token is not a string"),
    }
}

/// What a poll of the session says.
#[derive(Debug, Eq, PartialEq)]
pub(crate) enum Decision {
    Waiting,
    Allow,
    Deny,
    Unreadable,
}

/// Reads a session poll's body: `{"result": "waiting" | "allow" | "deny", …}`.
pub(crate) fn parse_decision(body: &[u8]) -> Decision {
    match object(body)
        .as_ref()
        .and_then(|m| m.get("result"))
        .and_then(Value::as_str)
    {
        Some("waiting") => Decision::Waiting,
        Some("allow") => Decision::Allow,
        Some("deny") => Decision::Deny,
        _ => Decision::Unreadable,
    }
}

/// Bodies larger than this are not parsed.
const MAX_BODY: usize = 64 * 1024;

fn object(body: &[u8]) -> Option<Map<String, Value>> {
    if body.len() > MAX_BODY {
        return None;
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(|s| {
        s.chars()
            .filter(|c| !c.is_control())
            .take(MAX_MESSAGE_LEN)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_and_decisions_are_read_defensively() {
        let good = br#"{"message":"SCA required","sca_session_token":"abc-DEF_123","code":"sca_required"}"#;
        assert!(
            matches!(parse_challenge(good), Challenge::Session { ref token, .. } if token == "abc-DEF_123")
        );
        for body in [
            &br#"{"code":"sca_not_enrolled","message":"enable it"}"#[..],
            b"",
            b"<html>",
            br#"{"sca_session_token":null}"#,
        ] {
            assert!(matches!(
                parse_challenge(body),
                Challenge::NotEnrolled { .. }
            ));
        }
        let huge = format!(r#"{{"sca_session_token":"{}"}}"#, "a".repeat(10_000));
        assert!(matches!(
            parse_challenge(huge.as_bytes()),
            Challenge::Invalid(_)
        ));
        assert!(matches!(
            parse_challenge(br#"{"sca_session_token":"../x"}"#),
            Challenge::Invalid(_)
        ));
        assert!(matches!(
            parse_challenge(br#"{"sca_session_token":5}"#),
            Challenge::Invalid(_)
        ));
        assert_eq!(
            parse_decision(br#"{"result":"waiting","canceled_at":""}"#),
            Decision::Waiting
        );
        assert_eq!(
            parse_decision(br#"{"result":"allow","canceled_at":null}"#),
            Decision::Allow
        );
        assert_eq!(parse_decision(br#"{"result":"deny"}"#), Decision::Deny);
        for body in [&b"<html>"[..], b"garbage", br#"{"result":"maybe"}"#, b"[]"] {
            assert_eq!(parse_decision(body), Decision::Unreadable);
        }
    }
}
