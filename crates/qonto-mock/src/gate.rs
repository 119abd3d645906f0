//! The sandbox gate (missing staging token; for browser pages, a missing portal session) and
//! production's handling of a staging token.

use crate::config::{Gate, Mode, STAGING_HEADER, StagingInProduction, TokenGate};
use crate::portal;
use crate::response::Response;
use crate::router::TOKEN_PATH;
use crate::state::Ctx;

/// Location of the OneLogin redirect.
const ONELOGIN_URL: &str = "https://qonto.onelogin.com/login";
/// Location of the developer-portal redirect.
const PORTAL_URL: &str = "https://developers.qonto.com/";

/// `Some(response)` when the request is stopped before reaching its route.
pub(crate) fn check(ctx: Ctx<'_>) -> Option<Response> {
    let config = &ctx.shared.config;
    let staging = ctx
        .req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(STAGING_HEADER));
    match &config.mode {
        Mode::Sandbox { staging_token } => {
            let mut staging = staging;
            let passes = staging.any(|h| {
                (!config.strict_header_case || h.name == STAGING_HEADER)
                    && h.value == staging_token.as_bytes()
            });
            if portal::is_browser_path(&ctx.req.path) {
                // A browser cannot send the header: it needs a portal session instead.
                return portal::check(ctx, passes);
            }
            (!passes).then(|| gate_response(ctx))
        }
        Mode::Production => {
            let mut staging = staging;
            let carries = staging.next().is_some();
            (carries && config.staging_in_production == StagingInProduction::Reject).then(|| {
                Response::api_error(
                    401,
                    ctx.trace,
                    "staging_token_not_accepted",
                    "production does not accept X-Qonto-Staging-Token; remove the header",
                )
            })
        }
    }
}

fn gate_response(ctx: Ctx<'_>) -> Response {
    let config = &ctx.shared.config;
    if ctx.req.path == TOKEN_PATH && config.token_gate == TokenGate::RedirectToDeveloperPortal {
        return Response::redirect(ctx.trace, PORTAL_URL);
    }
    match config.api_gate {
        Gate::HtmlPage => Response::html(200, ctx.trace, onelogin_page()),
        Gate::RedirectToOneLogin => Response::redirect(ctx.trace, ONELOGIN_URL),
    }
}

fn onelogin_page() -> String {
    concat!(
        "<!doctype html>\n",
        "<html lang=\"en\" style=\"height: 100%\">\n",
        "<head>\n<meta charset=\"utf-8\">\n<title>OneLogin</title>\n</head>\n",
        "<body style=\"height: 100%\">\n",
        "<div id=\"root\">Sign in with your OneLogin account to continue.</div>\n",
        "</body>\n</html>\n",
    )
    .to_owned()
}
