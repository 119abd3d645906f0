//! Authentication of Business API calls: API key (`login:secret`) or OAuth bearer token.

use crate::oauth::store::BearerError;
use crate::response::Response;
use crate::state::Ctx;
use crate::util::lock;

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    /// An organization API key (access to every read endpoint, no scopes).
    ApiKey,
    /// An OAuth access token of this grant with these scopes.
    OAuth { grant: u64, scopes: Vec<String> },
}

/// Authenticates the request, or answers 401.
pub(crate) fn authenticate(ctx: Ctx<'_>) -> Result<Caller, Response> {
    let unauthorized = |detail: &str| Response::api_error(401, ctx.trace, "unauthorized", detail);
    let Some(header) = ctx.req.header("authorization") else {
        return Err(unauthorized("missing Authorization header"));
    };
    let value = header.raw_value.as_slice();
    if let Some(token) = strip_bearer(value) {
        let Ok(token) = std::str::from_utf8(token) else {
            return Err(unauthorized("invalid access token"));
        };
        return match lock(&ctx.shared.oauth).bearer(token, ctx.now) {
            Ok(g) => Ok(Caller::OAuth {
                grant: g.grant,
                scopes: g.scopes,
            }),
            Err(BearerError::Expired) => Err(unauthorized("the access token has expired")),
            Err(BearerError::Revoked) => Err(unauthorized("the access token has been revoked")),
            Err(BearerError::Unknown) => Err(unauthorized("invalid access token")),
        };
    }
    let matches = ctx.shared.config.api_keys.iter().any(|(login, secret)| {
        let expected = format!("{login}:{secret}");
        value == expected.as_bytes()
    });
    if matches {
        Ok(Caller::ApiKey)
    } else {
        Err(unauthorized(
            "invalid API key: expected the header value login:secret-key",
        ))
    }
}

/// The token after a `Bearer ` scheme (scheme matched case-insensitively, one space).
fn strip_bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
}

/// 403 unless the caller may use an endpoint needing `scope` (API keys always may).
pub(crate) fn require_scope(ctx: Ctx<'_>, caller: &Caller, scope: &str) -> Result<(), Response> {
    match caller {
        Caller::ApiKey => Ok(()),
        Caller::OAuth { scopes, .. } if scopes.iter().any(|s| s == scope) => Ok(()),
        Caller::OAuth { .. } => Err(Response::api_error(
            403,
            ctx.trace,
            "forbidden",
            &format!("missing required OAuth scope: {scope}"),
        )),
    }
}
