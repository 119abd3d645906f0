//! What happened in the lifecycle, for logs, traces and warnings.

use crate::secret::Fingerprint;
use crate::time::Timestamp;

use super::outcome::RefreshError;

/// Something the lifecycle did or found, drained with
/// [`TokenLifecycle::poll_event`](super::TokenLifecycle::poll_event). Holds no secret.
#[derive(Clone, Debug)]
#[must_use]
pub enum Event {
    /// A refresh gave new tokens, saved before use.
    Refreshed {
        /// When the new access token expires.
        expires_at: Timestamp,
    },
    /// Another process had refreshed: its stored tokens were taken, nothing was sent.
    Adopted {
        /// When the adopted access token expires.
        expires_at: Timestamp,
    },
    /// A refresh gave new tokens that could not be saved: they work in this process only.
    NotSaved(RefreshError),
    /// A refresh failed transiently; the current token serves until its hard floor.
    RefreshFailed(RefreshError),
    /// A refresh's answer is unknown: the refresh token may have been consumed since `since`
    /// and is presented again only inside the rotation grace window.
    RefreshInDoubt {
        /// The earliest send whose answer is unknown.
        since: Timestamp,
    },
    /// Refreshing stopped: re-authorization or a configuration fix is needed.
    RefreshStopped(RefreshError),
    /// The API rejected an access token (401).
    TokenRejected {
        /// The rejected token's fingerprint.
        fingerprint: Fingerprint,
    },
    /// The refresh token lapses soon: log in again before then (told once per token).
    RefreshTokenExpiring {
        /// When it lapses.
        expires_at: Timestamp,
    },
}
