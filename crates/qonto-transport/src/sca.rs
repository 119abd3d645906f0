//! A call waiting for strong customer authentication, kept by the application.

use qonto_auth_core::call::{Call, ScaChallenge};

/// A call that met strong customer authentication and waits for the user's decision: keep it
/// (in a web application, with the user's session) while the user approves in the Qonto app,
/// then hand it to the transport's `resume` (or `resume_with_otp` for the `sms-otp` method).
#[derive(Debug)]
pub struct ScaPending {
    call: Call,
    challenge: ScaChallenge,
}

impl ScaPending {
    /// Wraps a call and the challenge of its last step, `Sca(challenge)`.
    pub fn new(call: Call, challenge: ScaChallenge) -> Self {
        Self { call, challenge }
    }

    /// What the user must do.
    pub fn challenge(&self) -> &ScaChallenge {
        &self.challenge
    }

    /// The call, to continue.
    pub fn into_call(self) -> Call {
        self.call
    }
}
