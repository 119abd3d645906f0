//! Command failures: a finding to print and an exit code per failure family.

use qonto_auth_core::Code;
use qonto_auth_core::diagnose::{
    Family, Finding, Severity, finding_for_api_error, finding_for_refresh_error,
    finding_for_sca_error,
};
use qonto_auth_core::environment::EnvironmentError;
use qonto_auth_core::header::AuthMethod;

/// Exit codes (also in `--help` and docs/troubleshooting.md).
pub(crate) mod exit {
    pub(crate) const OK: u8 = 0;
    pub(crate) const UNEXPECTED: u8 = 1;
    pub(crate) const CREDENTIAL_FORMAT: u8 = 3;
    pub(crate) const CONFIGURATION: u8 = 4;
    pub(crate) const REJECTED: u8 = 5;
    pub(crate) const SANDBOX_GATE: u8 = 6;
    pub(crate) const NETWORK: u8 = 7;
    pub(crate) const SERVER: u8 = 8;
}

/// The exit code of a failure family.
pub(crate) fn exit_code(family: Family) -> u8 {
    match family {
        Family::None => exit::OK,
        Family::CredentialFormat => exit::CREDENTIAL_FORMAT,
        Family::Configuration => exit::CONFIGURATION,
        Family::Rejected => exit::REJECTED,
        Family::SandboxGate => exit::SANDBOX_GATE,
        Family::Network => exit::NETWORK,
        Family::Server => exit::SERVER,
        _ => exit::UNEXPECTED,
    }
}

/// A failed command, as one finding.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) Finding);

impl Failure {
    fn new(code: Code, family: Family, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self(Finding {
            code,
            severity: Severity::Fail,
            family,
            message: message.into(),
            fix: fix.into(),
            trace_id: None,
        })
    }

    pub(crate) fn configuration(
        code: Code,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(code, Family::Configuration, message, fix)
    }

    pub(crate) fn credential_format(
        code: Code,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(code, Family::CredentialFormat, message, fix)
    }

    pub(crate) fn environment(error: EnvironmentError) -> Self {
        let family = match error {
            EnvironmentError::MissingStagingToken
            | EnvironmentError::EmptyStagingToken
            | EnvironmentError::StagingTokenCharacters => Family::SandboxGate,
            _ => Family::Configuration,
        };
        Self::new(
            Code::InvalidEnvironment,
            family,
            error.to_string(),
            "check --env, the staging token and the base URLs",
        )
    }

    /// The exit code for this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        exit_code(self.0.family)
    }

    /// The finding for a client error, given the method in use.
    pub(crate) fn from_client(error: qonto_ureq::Error, method: Option<AuthMethod>) -> Self {
        use qonto_ureq::Error;
        match error {
            Error::Api(api) => Self(finding_for_api_error(method, &api)),
            Error::Auth(refresh) => Self(finding_for_refresh_error(&refresh)),
            Error::Network(failure) => Self(Finding::network(&failure.description)),
            Error::Store(store) => Self::store(&store),
            Error::Sca(sca) => Self(finding_for_sca_error(&sca)),
            other => {
                let code = other.code();
                let family = match other {
                    Error::Request(_) | Error::Environment { .. } | Error::NotOAuth => {
                        Family::Configuration
                    }
                    _ => Family::Server,
                };
                Self::new(code, family, other.to_string(), "see the message above")
            }
        }
    }
}

impl Failure {
    /// A token store failure, with its own code: a missing or wrong encryption key and an
    /// unreadable store are configuration problems; a lock timeout or an unreachable
    /// database are the server side's.
    pub(crate) fn store(error: &qonto_store::StoreError) -> Self {
        let code = error.code();
        let (family, fix) = match code {
            Code::TokenStoreKeyMissing | Code::TokenStoreKeyRejected => (
                Family::Configuration,
                "give the key the stored tokens name (QONTO_TOKEN_STORE_KEYS); they were not changed",
            ),
            Code::TokenStoreUnreadable => (
                Family::Configuration,
                "log in again to replace the stored tokens",
            ),
            Code::TokenStoreLockTimeout => (
                Family::Server,
                "another process holds the refresh lock; try again, or find the holder",
            ),
            _ => (
                Family::Server,
                "fix the token store (see its location above)",
            ),
        };
        Self::new(code, family, error.to_string(), fix)
    }
}

impl From<qonto_ureq::Error> for Failure {
    fn from(error: qonto_ureq::Error) -> Self {
        Self::from_client(error, None)
    }
}
