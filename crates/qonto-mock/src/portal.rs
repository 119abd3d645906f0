//! The sandbox's browser prerequisite. A browser cannot send `X-Qonto-Staging-Token`, so Qonto
//! asks users to log in to the Sandbox web app through the Developer Portal, in the same
//! browser, before opening the sandbox `/oauth2/auth`. [`PORTAL_LOGIN_PATH`] stands in for that
//! login: it sets a session cookie that the authorize pages then require.

use crate::oauth::{escape_html, with_query};
use crate::random;
use crate::response::Response;
use crate::state::Ctx;
use crate::util::lock;

/// The mock's stand-in for "log in to the Sandbox web app through the Developer Portal": a
/// `GET` sets the portal-session cookie. An optional `return_to` (a path on the mock) is
/// linked from the page.
pub const PORTAL_LOGIN_PATH: &str = "/_mock/portal-login";
/// Name of the portal-session cookie set by [`PORTAL_LOGIN_PATH`].
pub const PORTAL_SESSION_COOKIE: &str = "qonto_mock_portal_session";

/// Whether `path` is one of the pages a browser opens (not an API or token call).
pub(crate) fn is_browser_path(path: &str) -> bool {
    path == PORTAL_LOGIN_PATH || path == "/oauth2/auth" || path.starts_with("/oauth2/auth/")
}

/// In sandbox, `Some(page)` when a browser page is opened without a portal session and
/// without the staging header (`staging_ok`).
pub(crate) fn check(ctx: Ctx<'_>, staging_ok: bool) -> Option<Response> {
    let exempt = ctx.req.path == PORTAL_LOGIN_PATH
        || !ctx.shared.config.authorize_requires_portal_session
        || staging_ok
        || has_session(ctx);
    (!exempt).then(|| Response::html(200, ctx.trace, login_required_page(ctx)))
}

/// `GET /_mock/portal-login`: opens a portal session in this browser.
pub(crate) fn login(ctx: Ctx<'_>) -> Response {
    let session = random::id();
    lock(&ctx.shared.portal_sessions).insert(session.clone());
    let return_to = ctx
        .req
        .query_param("return_to")
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .map(|p| {
            format!(
                "<p><a id=\"continue\" href=\"{}\">Continue</a></p>\n",
                escape_html(&p)
            )
        })
        .unwrap_or_default();
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Sandbox web app</title></head>\n<body>\n\
         <h1>Logged in to the Sandbox web app (mock Developer Portal session)</h1>\n\
         <p>This browser now holds a portal session cookie: sandbox authorization pages \
         will open.</p>\n{return_to}</body>\n</html>\n"
    );
    Response::html(200, ctx.trace, page).with_header(
        "Set-Cookie",
        format!("{PORTAL_SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"),
    )
}

/// Whether a `Cookie` header carries a session issued by [`login`].
fn has_session(ctx: Ctx<'_>) -> bool {
    let sessions = lock(&ctx.shared.portal_sessions);
    ctx.req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
        .flat_map(|h| h.value.split(|b| *b == b';'))
        .filter_map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?.trim();
            let (name, value) = pair.split_once('=')?;
            (name == PORTAL_SESSION_COOKIE).then_some(value)
        })
        .any(|value| sessions.contains(value))
}

fn login_required_page(ctx: Ctx<'_>) -> String {
    let mut target = ctx.req.path.clone();
    if !ctx.req.query.is_empty() {
        target.push('?');
        target.push_str(&ctx.req.query);
    }
    let login = escape_html(&with_query(PORTAL_LOGIN_PATH, &[("return_to", &target)]));
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Log in to the Sandbox first</title></head>\n<body>\n\
         <h1>Log in to the Sandbox web app first</h1>\n\
         <p>Sandbox authorization pages need an active Sandbox web-app session opened through \
         the Developer Portal, in this same browser: Developer Portal, Toolkit, Sandbox web \
         app (any SMS code is 123456). Then open the authorization link again.</p>\n\
         <p>This is the mock: open <a id=\"portal-login\" href=\"{login}\">\
         {PORTAL_LOGIN_PATH}</a> instead.</p>\n</body>\n</html>\n"
    )
}
