//! `GET /oauth2/auth` (validation and consent page) and the page's approve/deny links.

use crate::oauth::store::AuthRequest;
use crate::oauth::{escape_html, with_query};
use crate::response::Response;
use crate::state::Ctx;
use crate::util::lock;

/// `GET /oauth2/auth`.
pub(crate) fn authorize(ctx: Ctx<'_>) -> Response {
    let q = |name: &str| ctx.req.query_param(name).filter(|v| !v.is_empty());
    let config = &ctx.shared.config;
    // Qonto answers these two with a 404 error page: the redirect URI cannot be trusted, so
    // nothing is sent back to it.
    let Some(client) = q("client_id").and_then(|id| config.client(&id)) else {
        return error_page(ctx, "invalid_client", "unknown or missing client_id");
    };
    let Some(redirect_uri) = q("redirect_uri").filter(|u| client.redirect_uris.contains(u)) else {
        return error_page(
            ctx,
            "invalid_request",
            "redirect_uri is missing or does not exactly match a registered redirect URI",
        );
    };
    let state = q("state");
    let fail = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = state.as_deref() {
            pairs.push(("state", s));
        }
        Response::redirect(ctx.trace, &with_query(&redirect_uri, &pairs))
    };
    if q("response_type").as_deref() != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let Some(state_value) = state.clone() else {
        return fail("invalid_request", "the state parameter is required");
    };
    let scopes: Vec<String> = q("scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return fail("invalid_scope", "the scope parameter is required");
    }
    // The user flow's scope comes only with identity_type=user (and only that flow lists
    // organizations).
    let user_flow = q("identity_type").as_deref() == Some("user");
    if scopes.iter().any(|s| s == "user_organization.read") && !user_flow {
        return fail(
            "invalid_scope",
            "user_organization.read needs the User OAuth flow (identity_type=user)",
        );
    }
    if let Some(bad) = scopes.iter().find(|s| !client.allowed_scopes.contains(s)) {
        return fail(
            "invalid_scope",
            &format!("the client may not request scope {bad}"),
        );
    }
    let code_challenge = q("code_challenge");
    if code_challenge.is_some() && q("code_challenge_method").as_deref() != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    let request = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scopes,
        state: state_value,
        organization_id: q("organization_id"),
        registration_id: q("registration_id"),
        code_challenge,
    };
    if config.auto_approve {
        return grant_code(ctx, request);
    }
    let expires_at = ctx.now + config.authorization_code_lifetime;
    let challenge = lock(&ctx.shared.oauth).add_challenge(request.clone(), expires_at);
    Response::html(200, ctx.trace, consent_page(&request, &challenge))
}

/// `GET /oauth2/auth/approve?challenge=…`: redirects to the callback with a code.
pub(crate) fn approve(ctx: Ctx<'_>) -> Response {
    match take(ctx) {
        Ok(request) => grant_code(ctx, request),
        Err(resp) => resp,
    }
}

/// `GET /oauth2/auth/deny?challenge=…`: redirects to the callback with `access_denied`.
pub(crate) fn deny(ctx: Ctx<'_>) -> Response {
    match take(ctx) {
        Ok(request) => {
            let location = with_query(
                &request.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the user denied the request"),
                    ("state", &request.state),
                ],
            );
            Response::redirect(ctx.trace, &location)
        }
        Err(resp) => resp,
    }
}

fn take(ctx: Ctx<'_>) -> Result<AuthRequest, Response> {
    let id = ctx.req.query_param("challenge").unwrap_or_default();
    lock(&ctx.shared.oauth)
        .take_challenge(&id, ctx.now)
        .ok_or_else(|| {
            Response::oauth_error(
                400,
                ctx.trace,
                "invalid_request",
                "unknown or expired consent request",
            )
        })
}

fn grant_code(ctx: Ctx<'_>, request: AuthRequest) -> Response {
    let code = lock(&ctx.shared.oauth).add_code(request.clone(), ctx.now, ctx.shared.lifetimes());
    let scope = request.scopes.join(" ");
    let mut pairs = vec![
        ("code", code.as_str()),
        ("scope", &scope),
        ("state", &request.state),
    ];
    if let Some(org) = request.organization_id.as_deref() {
        pairs.push(("organization_id", org));
    }
    if let Some(reg) = request.registration_id.as_deref() {
        pairs.push(("registration_id", reg));
    }
    Response::redirect(ctx.trace, &with_query(&request.redirect_uri, &pairs))
}

/// A `404` HTML error page, for requests that cannot be redirected back.
fn error_page(ctx: Ctx<'_>, error: &str, description: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Not found</title></head>\n<body>\n<h1>Not found</h1>\n\
         <p id=\"error\">{}</p>\n<p id=\"error_description\">{}</p>\n</body>\n</html>\n",
        escape_html(error),
        escape_html(description),
    );
    Response::html(404, ctx.trace, page)
}

fn consent_page(request: &AuthRequest, challenge: &str) -> String {
    let scopes: String = request
        .scopes
        .iter()
        .map(|s| format!("<li>{}</li>", escape_html(s)))
        .collect();
    let org = request
        .organization_id
        .as_deref()
        .map(|o| format!("<p>Organization: {}</p>\n", escape_html(o)))
        .unwrap_or_default();
    let challenge = escape_html(challenge);
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Authorize application</title></head>\n<body>\n\
         <h1>Application {client} asks for access</h1>\n{org}<ul>{scopes}</ul>\n\
         <a id=\"allow\" href=\"/oauth2/auth/approve?challenge={challenge}\">Allow</a>\n\
         <a id=\"deny\" href=\"/oauth2/auth/deny?challenge={challenge}\">Deny</a>\n\
         </body>\n</html>\n",
        client = escape_html(&request.client_id),
    )
}
