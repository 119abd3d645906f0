//! The application's key for one stored consent.

use std::fmt;
use std::sync::Arc;

/// The longest connection id, in bytes.
pub const MAX_CONNECTION_ID: usize = 200;

/// The key under which one consent's tokens are stored, chosen by the application: an
/// organization id, a customer id, a tenant slug.
///
/// 1 to [`MAX_CONNECTION_ID`] bytes of UTF-8 without control characters and without leading
/// or trailing whitespace. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(Arc<str>);

impl ConnectionId {
    /// Checks and wraps an id.
    ///
    /// # Errors
    ///
    /// [`ConnectionIdError`] for an empty or too long id, control characters, or surrounding
    /// whitespace.
    pub fn new(id: impl AsRef<str>) -> Result<Self, ConnectionIdError> {
        let id = id.as_ref();
        if id.is_empty() {
            return Err(ConnectionIdError::Empty);
        }
        if id.len() > MAX_CONNECTION_ID {
            return Err(ConnectionIdError::TooLong(id.len()));
        }
        if id.chars().any(char::is_control) {
            return Err(ConnectionIdError::ControlCharacter);
        }
        if id.trim() != id {
            return Err(ConnectionIdError::SurroundingWhitespace);
        }
        Ok(Self(Arc::from(id)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ConnectionId {
    type Err = ConnectionIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// A refused connection id. Never contains the id itself (it may be anything).
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionIdError {
    /// The id is empty.
    #[error("the connection id is empty")]
    Empty,
    /// The id is longer than [`MAX_CONNECTION_ID`] bytes.
    #[error("the connection id is {0} bytes long; at most {MAX_CONNECTION_ID} are allowed")]
    TooLong(usize),
    /// The id holds a control character (a line break, a tab, NUL …).
    #[error("the connection id holds a control character")]
    ControlCharacter,
    /// The id starts or ends with whitespace.
    #[error("the connection id starts or ends with whitespace")]
    SurroundingWhitespace,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert_eq!(ConnectionId::new("org-42").unwrap().as_str(), "org-42");
        assert!(ConnectionId::new("société 7 · ✓").is_ok());
        assert_eq!(ConnectionId::new(""), Err(ConnectionIdError::Empty));
        assert_eq!(
            ConnectionId::new("a".repeat(201)),
            Err(ConnectionIdError::TooLong(201))
        );
        assert_eq!(
            ConnectionId::new("a\nb"),
            Err(ConnectionIdError::ControlCharacter)
        );
        assert_eq!(
            ConnectionId::new(" a"),
            Err(ConnectionIdError::SurroundingWhitespace)
        );
    }
}
