//! Credentials: static API keys and OAuth client and token values, checked before use.

mod access_token;
mod api_key;
mod oauth_client;

pub use access_token::{AccessTokenProblem, check_access_token, parse_access_token};
pub use api_key::{ApiKey, ApiKeyProblem, check_api_key};
pub use oauth_client::{OAuthClient, OAuthClientError};

/// Where a piece of whitespace sits in a credential string.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum WhitespaceKind {
    /// Leading or trailing spaces or tabs (often from copy and paste).
    Surrounding,
    /// Spaces or tabs inside the value.
    Embedded,
    /// A carriage return or line feed anywhere.
    LineBreak,
}

impl std::fmt::Display for WhitespaceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Surrounding => "leading or trailing whitespace",
            Self::Embedded => "whitespace inside the value",
            Self::LineBreak => "a line break",
        })
    }
}

/// Finds the first whitespace problem in `raw`, line breaks first.
pub(crate) fn whitespace_in(raw: &str) -> Option<WhitespaceKind> {
    if raw.contains(['\r', '\n']) {
        Some(WhitespaceKind::LineBreak)
    } else if raw.trim() != raw {
        Some(WhitespaceKind::Surrounding)
    } else if raw.chars().any(char::is_whitespace) {
        Some(WhitespaceKind::Embedded)
    } else {
        None
    }
}

/// True when the value holds a character a header cannot carry as typed: a control
/// character (line breaks and tabs are reported as whitespace instead) or anything outside
/// ASCII, such as a zero-width space pasted from a web page.
pub(crate) fn has_invalid_character(raw: &str) -> bool {
    raw.chars()
        .any(|c| !c.is_whitespace() && (c.is_control() || !c.is_ascii()))
}

/// Strips an authorization scheme word (`Basic`, `Bearer`) and returns it with the rest.
pub(crate) fn split_scheme(raw: &str) -> Option<(&'static str, &str)> {
    let trimmed = raw.trim_start();
    ["Bearer", "Basic"].into_iter().find_map(|scheme| {
        let head = trimmed.get(..scheme.len())?;
        let rest = &trimmed[scheme.len()..];
        (head.eq_ignore_ascii_case(scheme) && rest.starts_with([' ', '\t', ':']))
            .then(|| (scheme, rest.trim_start_matches([' ', '\t', ':'])))
    })
}
