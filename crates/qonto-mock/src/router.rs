//! Per-request pipeline: faults, rate limits, sandbox gate, then the route's handler; 401
//! answers are counted for the throttle.

use std::net::IpAddr;

use crate::portal::{self, PORTAL_LOGIN_PATH};
use crate::rate::RetryAfter;
use crate::request::Request;
use crate::response::Response;
use crate::state::{Ctx, Shared};
use crate::util::lock;
use crate::writes::{self, MOCK_DECIDE_PREFIX, TRANSFERS_PATH};
use crate::{api, gate, oauth, random};

/// Path of the OAuth token endpoint.
pub(crate) const TOKEN_PATH: &str = "/oauth2/token";

/// What to do with the connection after a request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Write this response.
    Respond(Response),
    /// Close without answering.
    Drop,
}

/// Path of the mock's own read-only counters (not part of Qonto's API).
pub(crate) const STATS_PATH: &str = "/_mock/stats";

/// Handles one request, including injected delays.
pub(crate) async fn handle(shared: &Shared, req: &Request, peer: IpAddr) -> Outcome {
    let trace = random::trace_id();
    if req.path == STATS_PATH {
        // Reading the counters is neither counted, gated, limited nor faulted.
        return Outcome::Respond(stats(&trace, req, shared));
    }
    shared.recorder.record_head(&req.path, &req.raw_head);
    let is_token = req.path == TOKEN_PATH;
    if is_token {
        let grant_type = form_urlencoded::parse(&req.body)
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        shared.recorder.record_token_call(&grant_type);
    }
    let ctx = Ctx {
        shared,
        req,
        trace: &trace,
        now: shared.clock.now(),
        peer,
    };
    let outcome = decide(ctx, is_token);
    let mut delay = shared.faults.latency();
    if is_token {
        delay += shared.faults.token_delay_value();
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let status = match &outcome {
        Outcome::Respond(r) => r.status,
        Outcome::Drop => 0,
    };
    shared.recorder.record_answer(&req.path, status);
    outcome
}

/// `GET /_mock/stats`: the counters as JSON, for tests in any language.
fn stats(trace: &str, req: &Request, shared: &Shared) -> Response {
    if req.method != "GET" {
        let detail = format!("{} is not allowed on {STATS_PATH}; use GET", req.method);
        return Response::api_error(405, trace, "method_not_allowed", &detail)
            .with_header("Allow", "GET");
    }
    Response::json(200, trace, &shared.recorder.snapshot().to_json())
}

fn decide(ctx: Ctx<'_>, is_token: bool) -> Outcome {
    let faults = &ctx.shared.faults;
    if faults.take_drop() {
        return Outcome::Drop;
    }
    if let Some(status) = faults.take_fail() {
        return Outcome::Respond(injected_failure(ctx.trace, status, is_token));
    }
    if is_token {
        if let Some(status) = faults.take_token_fail() {
            return Outcome::Respond(injected_failure(ctx.trace, status, true));
        }
    }
    if let Some(resp) = rate_limited(ctx) {
        return Outcome::Respond(resp);
    }
    let resp = gate::check(ctx).unwrap_or_else(|| route(ctx));
    if let (401, Some(throttle)) = (resp.status, ctx.shared.config.unauthorized_throttle) {
        lock(&ctx.shared.rate).record_unauthorized(ctx.peer, ctx.now, throttle);
    }
    if is_token && faults.take_lose_token() {
        return Outcome::Drop;
    }
    Outcome::Respond(resp)
}

/// The 429 for a request over a rate limit or from a throttled address.
fn rate_limited(ctx: Ctx<'_>) -> Option<Response> {
    let config = &ctx.shared.config;
    if config.rate_limits.is_empty() && config.unauthorized_throttle.is_none() {
        return None;
    }
    let limited = lock(&ctx.shared.rate).hit(
        ctx.peer,
        ctx.now,
        &config.rate_limits,
        config.unauthorized_throttle,
    )?;
    let resp = Response::api_error(429, ctx.trace, "too_many_requests", &limited.detail);
    Some(match config.retry_after {
        RetryAfter::Omit => resp,
        RetryAfter::Seconds(secs) => resp.with_header("Retry-After", secs.to_string()),
        RetryAfter::UntilReset => {
            resp.with_header("Retry-After", limited.reset_in_secs.to_string())
        }
    })
}

fn injected_failure(trace: &str, status: u16, oauth_shape: bool) -> Response {
    let code = match status {
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        429 => "too_many_requests",
        _ => "internal_server_error",
    };
    let detail = "injected failure";
    if oauth_shape {
        let error = if status == 503 {
            "temporarily_unavailable"
        } else {
            "server_error"
        };
        Response::oauth_error(status, trace, error, detail)
    } else {
        Response::api_error(status, trace, code, detail)
    }
}

fn route(ctx: Ctx<'_>) -> Response {
    let path = ctx.req.path.as_str();
    let (method, handler): (&str, fn(Ctx<'_>) -> Response) = match path {
        "/oauth2/auth" => ("GET", oauth::authorize::authorize),
        "/oauth2/auth/approve" => ("GET", oauth::authorize::approve),
        "/oauth2/auth/deny" => ("GET", oauth::authorize::deny),
        TOKEN_PATH => ("POST", oauth::token::token),
        "/oauth2/revoke" => ("POST", oauth::token::revoke),
        PORTAL_LOGIN_PATH => ("GET", portal::login),
        "/v2/organization" => ("GET", api::organization),
        "/v2/bank_accounts" => ("GET", api::bank_accounts),
        "/v2/membership" => ("GET", api::membership),
        "/v2/user_organizations" => ("GET", api::user_organizations),
        "/v2/oauth2/consents" => ("DELETE", api::revoke_consents),
        TRANSFERS_PATH => ("POST", writes::create_transfer),
        _ if path.starts_with(MOCK_DECIDE_PREFIX) => ("POST", writes::decide_waiting),
        _ if matches!(writes::session_path(path), Some((_, Some(_)))) => {
            ("POST", writes::decide_session)
        }
        _ if writes::session_path(path).is_some() => ("GET", writes::read_session),
        _ if api::bank_account_id(path).is_some() => ("GET", api::bank_account),
        _ => {
            let detail = format!("no route matches {path}");
            return Response::api_error(404, ctx.trace, "not_found", &detail);
        }
    };
    if ctx.req.method != method {
        let detail = format!("{} is not allowed on {path}; use {method}", ctx.req.method);
        return Response::api_error(405, ctx.trace, "method_not_allowed", &detail)
            .with_header("Allow", method);
    }
    handler(ctx)
}
