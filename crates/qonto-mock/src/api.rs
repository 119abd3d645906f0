//! Business API endpoints: organization, bank accounts, membership, consent revocation.

use serde_json::json;

use crate::auth::{Caller, authenticate, require_scope};
use crate::response::Response;
use crate::state::Ctx;
use crate::util::lock;

const READ_SCOPE: &str = "organization.read";
/// `GET /v2/membership` needs this one, not `organization.read`.
const MEMBERSHIP_SCOPE: &str = "membership.read";
const MAX_PER_PAGE: u64 = 100;

/// The scope of the User OAuth flow; a token holding it acts for one organization per call.
const USER_SCOPE: &str = "user_organization.read";

/// Authenticates and checks the scope, and for a User OAuth flow token the organization the
/// call names in `X-Qonto-Organization-Id` (403 when missing or not consented).
pub(crate) fn reader(ctx: Ctx<'_>, scope: &str) -> Result<Caller, Response> {
    let caller = authenticate(ctx)?;
    require_scope(ctx, &caller, scope)?;
    if is_user_token(&caller) {
        let org = &ctx.shared.config.organization;
        let named = ctx
            .req
            .header("x-qonto-organization-id")
            .map(|h| String::from_utf8_lossy(&h.raw_value).trim().to_owned());
        let refuse = |detail: &str| Response::api_error(403, ctx.trace, "forbidden", detail);
        match named {
            None => {
                return Err(refuse(
                    "a user token must name its organization in X-Qonto-Organization-Id",
                ));
            }
            Some(id) if id != org.id => {
                return Err(refuse(&format!(
                    "the user did not consent for organization {id}"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(caller)
}

fn is_user_token(caller: &Caller) -> bool {
    matches!(caller, Caller::OAuth { scopes, .. } if scopes.iter().any(|s| s == USER_SCOPE))
}

/// `GET /v2/user_organizations`: the organizations a User OAuth flow token was consented for.
pub(crate) fn user_organizations(ctx: Ctx<'_>) -> Response {
    let caller = match authenticate(ctx) {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    if !is_user_token(&caller) {
        return Response::api_error(
            403,
            ctx.trace,
            "forbidden",
            &format!("missing required OAuth scope: {USER_SCOPE} (User OAuth flow only)"),
        );
    }
    let org = &ctx.shared.config.organization;
    let listed = json!({
        "id": org.id, "name": org.legal_name, "legal_name": org.legal_name,
        "legal_number": org.legal_number, "legal_country": org.legal_country,
        "membership_role": "owner",
    });
    Response::json(200, ctx.trace, &json!({ "organizations": [listed] }))
}

/// `GET /v2/organization`.
pub(crate) fn organization(ctx: Ctx<'_>) -> Response {
    if let Err(resp) = reader(ctx, READ_SCOPE) {
        return resp;
    }
    let org = &ctx.shared.config.organization;
    Response::json(200, ctx.trace, &json!({ "organization": org.to_json() }))
}

/// `GET /v2/membership`.
pub(crate) fn membership(ctx: Ctx<'_>) -> Response {
    if let Err(resp) = reader(ctx, MEMBERSHIP_SCOPE) {
        return resp;
    }
    let org = &ctx.shared.config.organization;
    Response::json(
        200,
        ctx.trace,
        &json!({ "membership": org.membership.to_json(&org.id) }),
    )
}

/// `GET /v2/bank_accounts?page=&per_page=`.
pub(crate) fn bank_accounts(ctx: Ctx<'_>) -> Response {
    if let Err(resp) = reader(ctx, READ_SCOPE) {
        return resp;
    }
    let page = match positive_param(ctx, "page", 1, u64::MAX) {
        Ok(n) => n,
        Err(resp) => return resp,
    };
    let per_page = match positive_param(ctx, "per_page", MAX_PER_PAGE, MAX_PER_PAGE) {
        Ok(n) => n,
        Err(resp) => return resp,
    };
    let org = &ctx.shared.config.organization;
    let total = org.bank_accounts.len() as u64;
    let total_pages = total.div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page);
    let items: Vec<_> = org
        .bank_accounts
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(|a| a.to_json(&org.id))
        .collect();
    let next = (page < total_pages).then(|| page + 1);
    let prev = (page > 1).then(|| (page - 1).min(total_pages));
    let body = json!({
        "bank_accounts": items,
        "meta": {
            "current_page": page,
            "next_page": next,
            "prev_page": prev,
            "total_pages": total_pages,
            "total_count": total,
            "per_page": per_page,
        },
    });
    Response::json(200, ctx.trace, &body)
}

fn positive_param(ctx: Ctx<'_>, name: &str, default: u64, max: u64) -> Result<u64, Response> {
    let Some(raw) = ctx.req.query_param(name) else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => {
            let detail = if max == u64::MAX {
                format!("{name} must be an integer greater than or equal to 1")
            } else {
                format!("{name} must be an integer between 1 and {max}")
            };
            Err(Response::param_error(ctx.trace, name, &detail))
        }
    }
}

/// The id in `/v2/bank_accounts/{id}`.
pub(crate) fn bank_account_id(path: &str) -> Option<&str> {
    path.strip_prefix("/v2/bank_accounts/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// `GET /v2/bank_accounts/{id}`.
pub(crate) fn bank_account(ctx: Ctx<'_>) -> Response {
    if let Err(resp) = reader(ctx, READ_SCOPE) {
        return resp;
    }
    let org = &ctx.shared.config.organization;
    let id = bank_account_id(&ctx.req.path).unwrap_or_default();
    match org.bank_accounts.iter().find(|a| a.id == id) {
        Some(a) => Response::json(
            200,
            ctx.trace,
            &json!({ "bank_account": a.to_json(&org.id) }),
        ),
        None => Response::api_error(404, ctx.trace, "not_found", "bank account not found"),
    }
}

/// `DELETE /v2/oauth2/consents`: revokes the caller's grant (OAuth only).
pub(crate) fn revoke_consents(ctx: Ctx<'_>) -> Response {
    let caller = match authenticate(ctx) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    if let Err(resp) = require_scope(ctx, &caller, READ_SCOPE) {
        return resp;
    }
    match caller {
        Caller::OAuth { grant, .. } => {
            lock(&ctx.shared.oauth).revoke(grant);
            Response::empty(204, ctx.trace)
        }
        Caller::ApiKey => Response::api_error(
            401,
            ctx.trace,
            "unauthorized",
            "this endpoint needs an OAuth access token (Authorization: Bearer ...)",
        ),
    }
}
