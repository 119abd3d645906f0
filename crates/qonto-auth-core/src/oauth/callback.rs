//! The redirect back from the authorize page: `code` and `state`, or `error`.

use crate::oauth::state::CsrfState;
use crate::secret::AuthorizationCode;

/// Parses the callback, given as a full redirect URL, a path with query, or a bare query.
///
/// The returned `state` is compared in constant time with the expected one before anything
/// else is trusted.
///
/// # Errors
///
/// [`CallbackError`] for a missing or mismatched state, a missing code, or an error the
/// authorization server reported.
pub fn parse_callback(
    callback: &str,
    expected_state: &CsrfState,
) -> Result<AuthorizationCode, CallbackError> {
    let callback = callback.trim();
    let query = match callback.split_once('?') {
        Some((_, query)) => query,
        None if callback.contains('=') => callback,
        None => return Err(CallbackError::NoQuery),
    };
    let query = query.split('#').next().unwrap_or_default();
    let (mut code, mut state, mut error, mut description) = (None, None, None, None);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        if slot.is_some() {
            return Err(CallbackError::DuplicateParameter);
        }
        *slot = Some(value.into_owned());
    }
    let state = state.ok_or(CallbackError::StateMissing)?;
    if !expected_state.matches(&state) {
        return Err(CallbackError::StateMismatch);
    }
    if let Some(error) = error {
        return Err(CallbackError::Denied {
            error: printable(&error),
            description: description.map(|d| printable(&d)),
        });
    }
    match code {
        Some(code) if !code.is_empty() => Ok(AuthorizationCode::new(code)),
        _ => Err(CallbackError::CodeMissing),
    }
}

/// Keeps server-provided text short and free of control characters before it is displayed.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// Why a callback was refused.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The text holds no query string.
    #[error("the callback has no query string: paste the whole URL the browser was sent to")]
    NoQuery,
    /// A parameter appears twice.
    #[error("the callback repeats a parameter: refusing an ambiguous answer")]
    DuplicateParameter,
    /// No `state` parameter.
    #[error("the callback has no `state`: refusing it (possible forged request)")]
    StateMissing,
    /// The `state` is not the one this login sent.
    #[error(
        "the callback's `state` does not match this login: refusing it (possible forged \
         request, or an answer to another, parallel login)"
    )]
    StateMismatch,
    /// No `code` parameter.
    #[error("the callback has no authorization `code`")]
    CodeMissing,
    /// The authorization server reported an error (for example `access_denied`).
    #[error("authorization failed: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Denied {
        /// The `error` code.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> CsrfState {
        CsrfState::from_bytes([3; 32])
    }

    #[test]
    fn accepts_url_path_or_query() {
        let s = state();
        let q = format!("code=ory_ac_1&state={}", s.as_str());
        for input in [
            format!("http://127.0.0.1:8910/cb?{q}"),
            format!("/cb?{q}#frag"),
            q,
        ] {
            assert_eq!(
                parse_callback(&input, &s).unwrap().expose_secret(),
                "ory_ac_1"
            );
        }
    }

    #[test]
    fn refuses_missing_or_wrong_state_before_anything_else() {
        let s = state();
        assert_eq!(
            parse_callback("/cb?code=x", &s).unwrap_err(),
            CallbackError::StateMissing
        );
        let other = CsrfState::from_bytes([4; 32]);
        let url = format!("/cb?code=x&state={}", other.as_str());
        assert_eq!(
            parse_callback(&url, &s).unwrap_err(),
            CallbackError::StateMismatch
        );
        let url = format!("/cb?error=access_denied&state={}", other.as_str());
        assert_eq!(
            parse_callback(&url, &s).unwrap_err(),
            CallbackError::StateMismatch
        );
    }

    #[test]
    fn reports_server_errors_and_missing_codes() {
        let s = state();
        let url = format!(
            "/cb?error=access_denied&error_description=User+said+no&state={}",
            s.as_str()
        );
        assert_eq!(
            parse_callback(&url, &s).unwrap_err(),
            CallbackError::Denied {
                error: "access_denied".into(),
                description: Some("User said no".into())
            }
        );
        let url = format!("/cb?state={}", s.as_str());
        assert_eq!(
            parse_callback(&url, &s).unwrap_err(),
            CallbackError::CodeMissing
        );
        assert_eq!(
            parse_callback("nothing here", &s).unwrap_err(),
            CallbackError::NoQuery
        );
        let url = format!("/cb?code=a&code=b&state={}", s.as_str());
        assert_eq!(
            parse_callback(&url, &s).unwrap_err(),
            CallbackError::DuplicateParameter
        );
    }
}
