//! OAuth 2.0 authorization-code flow: authorize URL, callback, token requests and responses.

mod authorize;
mod callback;
mod state;
mod token_request;
mod token_response;

pub use authorize::AuthorizeUrl;
pub use callback::{CallbackError, parse_callback};
pub use state::{CsrfState, PkceVerifier};
pub use token_request::{TokenRequest, authorization_code_request, refresh_request};
pub use token_response::{OAuthErrorCode, TokenResponseError, parse_token_response};
