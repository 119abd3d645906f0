//! Checks for OAuth access tokens pasted by hand (CLI flags, environment variables).

use super::{WhitespaceKind, has_invalid_character, split_scheme, whitespace_in};
use crate::codes::Code;
use crate::facts::{AUTHORIZATION_CODE_PREFIX, REFRESH_TOKEN_PREFIX};
use crate::secret::AccessToken;

/// One mistake in an access token string.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessTokenProblem {
    /// Nothing was given.
    #[error("the access token is empty")]
    Empty,
    /// The token starts with `Bearer `; the scheme is added for you.
    #[error("the access token starts with `Bearer`: give the token alone, the scheme is added")]
    BearerPrefix,
    /// The token starts with `Bearer Bearer`.
    #[error("the access token starts with `Bearer Bearer`: the scheme was added twice")]
    DoubledBearer,
    /// Whitespace or a line break around or inside the token.
    #[error("the access token contains {0}: remove it")]
    Whitespace(WhitespaceKind),
    /// A control character or a non-ASCII character (such as a zero-width space).
    #[error("the access token contains a control or non-ASCII character: copy it again")]
    InvalidCharacter,
    /// A refresh token (`ory_rt_…`) was given where an access token belongs.
    #[error(
        "this is a refresh token (`ory_rt_…`), not an access token (`ory_at_…`): \
         exchange it at the token endpoint first"
    )]
    RefreshTokenGiven,
    /// An authorization code (`ory_ac_…`) was given where an access token belongs.
    #[error("this is an authorization code (`ory_ac_…`): exchange it for tokens first")]
    AuthorizationCodeGiven,
    /// The value looks like an API key (`login:secret`).
    #[error("this looks like an API key (`login:secret`), not an OAuth access token")]
    ApiKeyGiven,
}

impl AccessTokenProblem {
    /// The stable snake_case code of this mistake.
    pub fn code(&self) -> Code {
        match self {
            Self::Empty => Code::AccessTokenEmpty,
            Self::BearerPrefix => Code::AccessTokenBearerPrefix,
            Self::DoubledBearer => Code::AccessTokenDoubledBearer,
            Self::Whitespace(_) => Code::AccessTokenWhitespace,
            Self::RefreshTokenGiven => Code::AccessTokenIsRefreshToken,
            Self::AuthorizationCodeGiven => Code::AccessTokenIsAuthorizationCode,
            Self::ApiKeyGiven => Code::AccessTokenIsApiKey,
            Self::InvalidCharacter => Code::AccessTokenInvalidCharacter,
        }
    }
}

/// Lists every problem found in an access token string.
pub fn check_access_token(raw: &str) -> Vec<AccessTokenProblem> {
    if raw.trim().is_empty() {
        return vec![AccessTokenProblem::Empty];
    }
    let mut problems = Vec::new();
    let mut value = raw.trim();
    let mut schemes = 0;
    while let Some(("Bearer", rest)) = split_scheme(value) {
        schemes += 1;
        value = rest.trim();
    }
    match schemes {
        0 => {}
        1 => problems.push(AccessTokenProblem::BearerPrefix),
        _ => problems.push(AccessTokenProblem::DoubledBearer),
    }
    // The space after `Bearer` is expected; look at the ends of the whole value and at the rest.
    let whitespace = if schemes == 0 {
        whitespace_in(raw)
    } else {
        whitespace_in(raw)
            .filter(|kind| *kind != WhitespaceKind::Embedded)
            .or_else(|| whitespace_in(value))
    };
    if let Some(kind) = whitespace {
        problems.push(AccessTokenProblem::Whitespace(kind));
    }
    if has_invalid_character(raw) {
        problems.push(AccessTokenProblem::InvalidCharacter);
    }
    if value.starts_with(REFRESH_TOKEN_PREFIX) {
        problems.push(AccessTokenProblem::RefreshTokenGiven);
    } else if value.starts_with(AUTHORIZATION_CODE_PREFIX) {
        problems.push(AccessTokenProblem::AuthorizationCodeGiven);
    } else if value.contains(':') {
        problems.push(AccessTokenProblem::ApiKeyGiven);
    }
    problems
}

/// Parses an access token given by hand, refusing every problem [`check_access_token`] finds.
///
/// # Errors
///
/// The first [`AccessTokenProblem`].
pub fn parse_access_token(raw: &str) -> Result<AccessToken, AccessTokenProblem> {
    match check_access_token(raw).into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(AccessToken::new(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_token() {
        assert!(parse_access_token("ory_at_abc.def").is_ok());
        assert!(check_access_token("opaque-token_123").is_empty());
    }

    #[test]
    fn each_mistake_has_its_own_error() {
        let cases = [
            ("", AccessTokenProblem::Empty),
            ("Bearer ory_at_x", AccessTokenProblem::BearerPrefix),
            ("bearer ory_at_x", AccessTokenProblem::BearerPrefix),
            ("Bearer Bearer ory_at_x", AccessTokenProblem::DoubledBearer),
            (
                "ory_at_x\n",
                AccessTokenProblem::Whitespace(WhitespaceKind::LineBreak),
            ),
            (
                " ory_at_x",
                AccessTokenProblem::Whitespace(WhitespaceKind::Surrounding),
            ),
            (
                "ory_at x",
                AccessTokenProblem::Whitespace(WhitespaceKind::Embedded),
            ),
            ("ory_rt_x", AccessTokenProblem::RefreshTokenGiven),
            ("ory_ac_x", AccessTokenProblem::AuthorizationCodeGiven),
            ("org-1:secret", AccessTokenProblem::ApiKeyGiven),
            ("ory_at_\u{200b}x", AccessTokenProblem::InvalidCharacter),
            ("ory_at_\u{7f}", AccessTokenProblem::InvalidCharacter),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                parse_access_token(raw).unwrap_err(),
                expected,
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn reports_combined_mistakes() {
        assert_eq!(
            check_access_token("Bearer ory_rt_x"),
            vec![
                AccessTokenProblem::BearerPrefix,
                AccessTokenProblem::RefreshTokenGiven
            ]
        );
    }
}
