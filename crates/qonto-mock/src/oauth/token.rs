//! `POST /oauth2/token` (code exchange and refresh rotation) and `POST /oauth2/revoke`.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::OAuthClient;
use crate::oauth::store::Issued;
use crate::response::Response;
use crate::state::Ctx;
use crate::util::lock;

type Form = HashMap<String, String>;

/// `POST /oauth2/token`.
pub(crate) fn token(ctx: Ctx<'_>) -> Response {
    let (form, client) = match authenticate_client(ctx) {
        Ok(ok) => ok,
        Err(resp) => return resp,
    };
    let Some(grant_type) = field(&form, "grant_type") else {
        return invalid_request(ctx, "grant_type is required");
    };
    match grant_type {
        "authorization_code" => exchange_code(ctx, &form, client),
        "refresh_token" => refresh(ctx, &form, client),
        other => Response::oauth_error(
            400,
            ctx.trace,
            "unsupported_grant_type",
            &format!("grant_type {other} is not supported"),
        ),
    }
}

/// `POST /oauth2/revoke` (RFC 7009 style; not in Qonto's documentation).
pub(crate) fn revoke(ctx: Ctx<'_>) -> Response {
    let (form, _client) = match authenticate_client(ctx) {
        Ok(ok) => ok,
        Err(resp) => return resp,
    };
    let Some(token) = field(&form, "token") else {
        return invalid_request(ctx, "token is required");
    };
    lock(&ctx.shared.oauth).revoke_by_token(token);
    Response::empty(200, ctx.trace)
}

/// Checks the content type, parses the form and authenticates the client from the body.
fn authenticate_client(ctx: Ctx<'_>) -> Result<(Form, &OAuthClient), Response> {
    let content_type = ctx.req.header_str("content-type").unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(invalid_request(
            ctx,
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let mut form = Form::new();
    for (k, v) in form_urlencoded::parse(&ctx.req.body) {
        form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    let (Some(id), Some(secret)) = (field(&form, "client_id"), field(&form, "client_secret"))
    else {
        return Err(invalid_request(
            ctx,
            "client_id and client_secret are required in the body",
        ));
    };
    match ctx.shared.config.client(id) {
        Some(client) if client.client_secret == secret => Ok((form, client)),
        // 400, not RFC 6749's optional 401: Qonto's OAuth-flow guide lists 400 invalid_client,
        // and the client authenticates in the body, not with an Authorization header.
        _ => Err(Response::oauth_error(
            400,
            ctx.trace,
            "invalid_client",
            "client authentication failed (unknown client or wrong secret)",
        )),
    }
}

fn exchange_code(ctx: Ctx<'_>, form: &Form, client: &OAuthClient) -> Response {
    let (Some(code), Some(redirect_uri)) = (field(form, "code"), field(form, "redirect_uri"))
    else {
        return invalid_request(ctx, "code and redirect_uri are required");
    };
    let mut store = lock(&ctx.shared.oauth);
    let request = match store.redeem_code(code, ctx.now) {
        Ok(r) => r,
        Err(why) => return invalid_grant(ctx, why),
    };
    if request.client_id != client.client_id {
        return invalid_grant(ctx, "the authorization code was issued to another client");
    }
    if request.redirect_uri != redirect_uri {
        return invalid_grant(ctx, "redirect_uri does not match the authorization request");
    }
    if let Some(challenge) = &request.code_challenge {
        let Some(verifier) = field(form, "code_verifier") else {
            return invalid_grant(ctx, "code_verifier is required for this code");
        };
        if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
            return invalid_grant(ctx, "code_verifier does not match code_challenge");
        }
    }
    let issued = store.grant(
        &client.client_id,
        request.scopes,
        ctx.now,
        ctx.shared.lifetimes(),
    );
    drop(store);
    token_response(ctx, &issued)
}

fn refresh(ctx: Ctx<'_>, form: &Form, client: &OAuthClient) -> Response {
    let Some(token) = field(form, "refresh_token") else {
        return invalid_request(ctx, "refresh_token is required");
    };
    let mut store = lock(&ctx.shared.oauth);
    if let (Some(asked), Some(granted)) = (field(form, "scope"), store.refresh_scopes(token)) {
        if let Some(bad) = asked
            .split_whitespace()
            .find(|s| !granted.iter().any(|g| g == s))
        {
            let detail = format!("scope {bad} was not granted");
            return Response::oauth_error(400, ctx.trace, "invalid_scope", &detail);
        }
    }
    match store.refresh(&client.client_id, token, ctx.now, ctx.shared.lifetimes()) {
        Ok(issued) => {
            drop(store);
            token_response(ctx, &issued)
        }
        Err(why) => invalid_grant(ctx, why),
    }
}

fn token_response(ctx: Ctx<'_>, issued: &Issued) -> Response {
    let mut body = json!({
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "scope": issued.scope,
        "token_type": "bearer",
    });
    if let (Some(rt), Some(map)) = (&issued.refresh_token, body.as_object_mut()) {
        map.insert("refresh_token".to_owned(), json!(rt));
    }
    Response::json(200, ctx.trace, &body)
        .with_header("Cache-Control", "no-store")
        .with_header("Pragma", "no-cache")
}

fn field<'f>(form: &'f Form, name: &str) -> Option<&'f str> {
    form.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn invalid_request(ctx: Ctx<'_>, description: &str) -> Response {
    Response::oauth_error(400, ctx.trace, "invalid_request", description)
}

fn invalid_grant(ctx: Ctx<'_>, description: &str) -> Response {
    Response::oauth_error(400, ctx.trace, "invalid_grant", description)
}
