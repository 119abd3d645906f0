//! Static API keys: `Authorization: login:secret`, raw, no scheme, no Base64.

use crate::codes::Code;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::{WhitespaceKind, has_invalid_character, split_scheme, whitespace_in};
use crate::secret::SecretKey;

/// A static API key: the organization's login and its secret key.
///
/// The only way to build one is through [`ApiKey::parse`] or [`ApiKey::new`], which reject
/// every mistake Qonto's troubleshooting guide lists, so a value of this type always encodes to
/// a header Qonto can accept.
#[derive(Clone, Debug)]
pub struct ApiKey {
    login: String,
    secret: SecretKey,
}

impl ApiKey {
    /// Parses a `login:secret` string, as copied from the web app.
    ///
    /// # Errors
    ///
    /// The first [`ApiKeyProblem`] found; [`check_api_key`] lists all of them.
    pub fn parse(raw: &str) -> Result<Self, ApiKeyProblem> {
        if let Some(problem) = check_api_key(raw).into_iter().next() {
            return Err(problem);
        }
        let (login, secret) = raw.split_once(':').ok_or(ApiKeyProblem::MissingColon)?;
        Ok(Self {
            login: login.to_owned(),
            secret: SecretKey::new(secret),
        })
    }

    /// Builds a key from its two parts, checked as [`ApiKey::parse`] checks `login:secret`.
    ///
    /// # Errors
    ///
    /// The first [`ApiKeyProblem`] found in the joined value, or
    /// [`ApiKeyProblem::ColonInLogin`] when the login itself contains a colon.
    pub fn new(login: &str, secret: SecretKey) -> Result<Self, ApiKeyProblem> {
        if login.contains(':') {
            return Err(ApiKeyProblem::ColonInLogin);
        }
        Self::parse(&format!("{login}:{}", secret.expose_secret()))
    }

    /// The organization login (not secret), such as `pied-piper-7132`.
    pub fn login(&self) -> &str {
        &self.login
    }

    /// The secret key.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

/// One mistake in an API key string. Each mistake of the troubleshooting guide has its own
/// variant, so callers and the CLI can print the precise fix.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyProblem {
    /// Nothing was given.
    #[error("the API key is empty: expected `login:secret-key`")]
    Empty,
    /// Whitespace or a line break around or inside the value.
    #[error("the API key contains {0}: remove it (copy the value again without spaces)")]
    Whitespace(WhitespaceKind),
    /// A `Basic` or `Bearer` scheme was put in front.
    #[error(
        "the API key starts with `{0}`: Qonto expects the raw `login:secret-key`, with no scheme"
    )]
    SchemePrefix(&'static str),
    /// The value is Base64 of `login:secret`.
    #[error("the API key is Base64-encoded: send `login:secret-key` as plain text, not Base64")]
    Base64Encoded,
    /// There is no colon between login and secret.
    #[error("the API key has no colon: expected `login:secret-key`")]
    MissingColon,
    /// The login part (before the colon) is empty.
    #[error("the login (before the colon) is empty")]
    EmptyLogin,
    /// The secret part (after the colon) is empty.
    #[error("the secret key (after the colon) is empty")]
    EmptySecret,
    /// A login passed separately contains a colon.
    #[error("the login contains a colon")]
    ColonInLogin,
    /// A control character or a non-ASCII character (such as a zero-width space).
    #[error("the API key contains a control or non-ASCII character: copy it again as plain text")]
    InvalidCharacter,
    /// The parts look swapped: `secret:login` instead of `login:secret`.
    #[error("the API key looks swapped: the login comes first, then `:`, then the secret key")]
    LikelySwapped,
}

impl ApiKeyProblem {
    /// The stable snake_case code of this mistake.
    pub fn code(&self) -> Code {
        match self {
            Self::Empty => Code::ApiKeyEmpty,
            Self::Whitespace(_) => Code::ApiKeyWhitespace,
            Self::SchemePrefix(_) => Code::ApiKeySchemePrefix,
            Self::Base64Encoded => Code::ApiKeyBase64,
            Self::MissingColon => Code::ApiKeyMissingColon,
            Self::EmptyLogin => Code::ApiKeyEmptyLogin,
            Self::EmptySecret => Code::ApiKeyEmptySecret,
            Self::ColonInLogin => Code::ApiKeyColonInLogin,
            Self::LikelySwapped => Code::ApiKeySwapped,
            Self::InvalidCharacter => Code::ApiKeyInvalidCharacter,
        }
    }
}

/// Lists every problem found in an API key string, most fundamental first.
///
/// Checks, in order: empty, whitespace and line breaks, a `Basic`/`Bearer` prefix, Base64 of a
/// `login:secret` text, a missing colon, empty parts, and swapped parts.
///
/// The swap check is a heuristic built on the documented shapes: a login is a slug of
/// lowercase letters, digits and hyphens ending in `-<digits>` (`pied-piper-7132`), and a
/// secret key is a long run of letters and digits without hyphens
/// (`62885d39f3a0ddedd3d3ee0432a43ccr`). When the part before the colon looks like a secret
/// and the part after looks like a login, the key is reported as swapped. Keys of other shapes
/// are never reported as swapped.
pub fn check_api_key(raw: &str) -> Vec<ApiKeyProblem> {
    let mut problems = Vec::new();
    if raw.trim().is_empty() {
        return vec![ApiKeyProblem::Empty];
    }
    let scheme = split_scheme(raw);
    // The space after a scheme word is that mistake, not a whitespace one.
    let whitespace = match scheme {
        None => whitespace_in(raw),
        Some((_, rest)) => whitespace_in(raw)
            .filter(|kind| *kind != WhitespaceKind::Embedded)
            .or_else(|| whitespace_in(rest.trim_end())),
    };
    if let Some(kind) = whitespace {
        problems.push(ApiKeyProblem::Whitespace(kind));
    }
    if has_invalid_character(raw) {
        problems.push(ApiKeyProblem::InvalidCharacter);
    }
    let mut value = raw.trim();
    if let Some((scheme, rest)) = scheme {
        problems.push(ApiKeyProblem::SchemePrefix(scheme));
        value = rest.trim();
    }
    let Some((login, secret)) = value.split_once(':') else {
        problems.push(if decodes_to_api_key(value) {
            ApiKeyProblem::Base64Encoded
        } else {
            ApiKeyProblem::MissingColon
        });
        return problems;
    };
    let (login, secret) = (login.trim(), secret.trim());
    if login.is_empty() {
        problems.push(ApiKeyProblem::EmptyLogin);
    }
    if secret.is_empty() {
        problems.push(ApiKeyProblem::EmptySecret);
    }
    if looks_like_secret(login) && looks_like_login(secret) {
        problems.push(ApiKeyProblem::LikelySwapped);
    }
    problems
}

fn decodes_to_api_key(value: &str) -> bool {
    if value.len() < 4 {
        return false;
    }
    let decoded = STANDARD
        .decode(value)
        .or_else(|_| STANDARD_NO_PAD.decode(value));
    decoded
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .is_some_and(|text| text.contains(':') && !text.chars().any(char::is_control))
}

fn looks_like_login(part: &str) -> bool {
    let Some((_, suffix)) = part.rsplit_once('-') else {
        return false;
    };
    !suffix.is_empty()
        && suffix.bytes().all(|b| b.is_ascii_digit())
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn looks_like_secret(part: &str) -> bool {
    part.len() >= 24 && part.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "pied-piper-7132:62885d39f3a0ddedd3d3ee0432a43ccr";

    #[test]
    fn accepts_the_documented_format() {
        let key = ApiKey::parse(GOOD).unwrap();
        assert_eq!(key.login(), "pied-piper-7132");
        assert_eq!(
            key.secret().expose_secret(),
            "62885d39f3a0ddedd3d3ee0432a43ccr"
        );
        assert!(check_api_key(GOOD).is_empty());
        let built = ApiKey::new("pied-piper-7132", SecretKey::new("s3cret")).unwrap();
        assert_eq!(built.login(), "pied-piper-7132");
    }

    #[test]
    fn each_documented_mistake_has_its_own_error() {
        let b64 = STANDARD.encode(GOOD);
        let cases: Vec<(String, ApiKeyProblem)> = vec![
            ("".into(), ApiKeyProblem::Empty),
            ("  ".into(), ApiKeyProblem::Empty),
            ("pied-piper-7132".into(), ApiKeyProblem::MissingColon),
            (
                format!("Basic {GOOD}"),
                ApiKeyProblem::SchemePrefix("Basic"),
            ),
            (
                format!("bearer {GOOD}"),
                ApiKeyProblem::SchemePrefix("Bearer"),
            ),
            (b64, ApiKeyProblem::Base64Encoded),
            (
                format!(" {GOOD}"),
                ApiKeyProblem::Whitespace(WhitespaceKind::Surrounding),
            ),
            (
                format!("{GOOD}\n"),
                ApiKeyProblem::Whitespace(WhitespaceKind::LineBreak),
            ),
            (
                "pied-piper-7132: 62885d39f3a0ddedd3d3ee0432a43ccr".into(),
                ApiKeyProblem::Whitespace(WhitespaceKind::Embedded),
            ),
            (":secret".into(), ApiKeyProblem::EmptyLogin),
            ("login:".into(), ApiKeyProblem::EmptySecret),
            (
                "62885d39f3a0ddedd3d3ee0432a43ccr:pied-piper-7132".into(),
                ApiKeyProblem::LikelySwapped,
            ),
            ("org-1:sec\0ret".into(), ApiKeyProblem::InvalidCharacter),
            (
                "org-1:sec\u{200b}ret".into(),
                ApiKeyProblem::InvalidCharacter,
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(ApiKey::parse(&raw).unwrap_err(), expected, "input {raw:?}");
        }
        assert_eq!(
            ApiKey::new("a:b", SecretKey::new("c")).unwrap_err(),
            ApiKeyProblem::ColonInLogin
        );
    }

    #[test]
    fn check_reports_all_mistakes_at_once() {
        let problems = check_api_key(&format!(" Basic {}", STANDARD.encode(GOOD)));
        assert_eq!(
            problems,
            vec![
                ApiKeyProblem::Whitespace(WhitespaceKind::Surrounding),
                ApiKeyProblem::SchemePrefix("Basic"),
                ApiKeyProblem::Base64Encoded,
            ]
        );
    }

    #[test]
    fn swap_heuristic_leaves_other_shapes_alone() {
        assert!(ApiKey::parse("my-org:short").is_ok());
        assert!(ApiKey::parse("abcdefabcdefabcdefabcdefabcd:noslug").is_ok());
        assert!(ApiKey::parse("bearerish-org-1:abc").is_ok());
    }

    #[test]
    fn errors_never_echo_the_input() {
        let raw = "SENTINEL-secret-with-no-colon";
        let err = ApiKey::parse(raw).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SENTINEL"));
    }
}
