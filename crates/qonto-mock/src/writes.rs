//! Writes: `POST /v2/sepa/transfers` behind strong customer authentication, the SCA session
//! endpoints (live and sandbox-mocked), and `X-Qonto-Idempotency-Key` replay.
//!
//! The flow, as Qonto documents it: the first request answers 428 with an
//! `sca_session_token`; the session is decided (here through
//! `POST /v2/mocked_sca_sessions/{token}/{allow|deny}`, the mock's
//! `POST /_mock/sca/{allow|deny}`, or [`ScaSetup::auto_decision`]); the client polls and then
//! replays the original request unchanged plus `X-Qonto-Sca-Session-Token`. The session is
//! single use and bound to the request it was opened for; an unknown, expired, undecided,
//! denied, reused or foreign session gets 412. Without a paired device (and without the
//! `mock` or `passkey` method) the 428 carries no token: code `sca_not_enrolled`.
//!
//! Idempotency: a successful answer is kept 30 minutes under its key; a later request with the
//! same key gets it again, even with a different body (Qonto documents no error for that).
//! Failures are not kept, so a retry after one runs again.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::api;
use crate::auth::Caller;
use crate::random;
use crate::response::Response;
use crate::state::Ctx;
use crate::util::lock;

/// The SCA-protected write the mock serves.
pub(crate) const TRANSFERS_PATH: &str = "/v2/sepa/transfers";
const SESSION_PREFIX: &str = "/v2/sca_sessions/";
const MOCKED_PREFIX: &str = "/v2/mocked_sca_sessions/";
/// Mock-only: decides every waiting session (the user's phone, for rehearsals).
pub(crate) const MOCK_DECIDE_PREFIX: &str = "/_mock/sca/";
const WRITE_SCOPE: &str = "payment.write";
const PREFERENCE_HEADER: &str = "x-qonto-2fa-preference";
const SESSION_HEADER: &str = "x-qonto-sca-session-token";
const OTP_HEADER: &str = "x-qonto-mfa";
const IDEMPOTENCY_HEADER: &str = "x-qonto-idempotency-key";
/// How long Qonto keeps a successful answer under its idempotency key.
const IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(30 * 60);

/// How the mock plays strong customer authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaSetup {
    /// Whether the user has a paired device. Without one, `paired-device` (the default
    /// method) answers the no-token 428 `sca_not_enrolled`; `mock` and `passkey` still work.
    /// Default true.
    pub device_paired: bool,
    /// How long a session can be decided and used. Default 15 minutes, as Qonto documents.
    pub session_lifetime: Duration,
    /// A decision taken as soon as a session opens (`None`, the default: wait for one).
    pub auto_decision: Option<ScaDecision>,
    /// The one-time code the `sms-otp` method expects in `X-Qonto-MFA`. Default `123456`.
    pub sms_otp: String,
}

impl Default for ScaSetup {
    fn default() -> Self {
        Self {
            device_paired: true,
            session_lifetime: Duration::from_secs(15 * 60),
            auto_decision: None,
            sms_otp: "123456".to_owned(),
        }
    }
}

/// A user's answer to an SCA request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaDecision {
    /// Approved.
    Allow,
    /// Refused.
    Deny,
}

impl ScaDecision {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "allow" => Some(Self::Allow),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

#[derive(Debug)]
struct Session {
    opened: SystemTime,
    /// Method, path, preference, idempotency key and body of the request it was opened for.
    bound_to: Vec<u8>,
    decision: Option<ScaDecision>,
    used: bool,
    sms_otp: bool,
}

#[derive(Debug)]
struct Kept {
    at: SystemTime,
    status: u16,
    body: Value,
}

/// Sessions and idempotency keys.
#[derive(Debug, Default)]
pub(crate) struct Writes {
    sessions: HashMap<String, Session>,
    kept: HashMap<String, Kept>,
    transfers: u64,
}

impl Writes {
    /// Decides every waiting, unexpired session; returns how many.
    pub(crate) fn decide_waiting(
        &mut self,
        decision: ScaDecision,
        now: SystemTime,
        lifetime: Duration,
    ) -> usize {
        let mut count = 0;
        for session in self.sessions.values_mut() {
            if session.decision.is_none() && !expired(session, now, lifetime) {
                session.decision = Some(decision);
                count += 1;
            }
        }
        count
    }

    /// Transfers created so far (idempotent replays not counted).
    pub(crate) fn transfers(&self) -> u64 {
        self.transfers
    }
}

fn expired(session: &Session, now: SystemTime, lifetime: Duration) -> bool {
    now.duration_since(session.opened).unwrap_or_default() >= lifetime
}

/// `POST /v2/sepa/transfers`.
pub(crate) fn create_transfer(ctx: Ctx<'_>) -> Response {
    let caller = match api::reader(ctx, WRITE_SCOPE) {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    if matches!(caller, Caller::ApiKey) {
        return Response::api_error(
            403,
            ctx.trace,
            "forbidden",
            "SCA-protected actions need an OAuth access token; API keys cannot make transfers",
        );
    }
    let key = ctx.req.header_str(IDEMPOTENCY_HEADER).map(str::to_owned);
    let mut writes = lock(&ctx.shared.writes);
    writes
        .kept
        .retain(|_, k| ctx.now.duration_since(k.at).unwrap_or_default() < IDEMPOTENCY_RETENTION);
    if let Some(kept) = key.as_ref().and_then(|k| writes.kept.get(k)) {
        return Response::json(kept.status, ctx.trace, &kept.body);
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&ctx.req.body) else {
        return Response::api_error(
            422,
            ctx.trace,
            "invalid_request",
            "the body must be a JSON object describing the transfer",
        );
    };
    let bound_to = binding(ctx);
    match ctx.req.header_str(SESSION_HEADER) {
        None => return challenge(ctx, &mut writes, bound_to),
        Some(token) => {
            if let Err(reason) = redeem(ctx, &mut writes, token, &bound_to) {
                return Response::json(
                    412,
                    ctx.trace,
                    &json!({"code": "precondition_failed", "message": reason, "trace_id": ctx.trace}),
                );
            }
        }
    }
    writes.transfers += 1;
    let transfer = json!({"transfer": {
        "id": random::id(),
        "status": "pending",
        "amount": fields.get("amount").cloned().unwrap_or(Value::Null),
        "reference": fields.get("reference").cloned().unwrap_or(Value::Null),
    }});
    if let Some(key) = key {
        writes.kept.insert(
            key,
            Kept {
                at: ctx.now,
                status: 200,
                body: transfer.clone(),
            },
        );
    }
    Response::json(200, ctx.trace, &transfer)
}

/// What a session is bound to: everything of the request but the session headers.
fn binding(ctx: Ctx<'_>) -> Vec<u8> {
    let mut bound = Vec::new();
    for part in [
        ctx.req.method.as_bytes(),
        ctx.req.path.as_bytes(),
        ctx.req.query.as_bytes(),
        ctx.req
            .header_str(PREFERENCE_HEADER)
            .unwrap_or("")
            .as_bytes(),
        ctx.req
            .header_str(IDEMPOTENCY_HEADER)
            .unwrap_or("")
            .as_bytes(),
        &ctx.req.body,
    ] {
        bound.extend_from_slice(&(part.len() as u64).to_le_bytes());
        bound.extend_from_slice(part);
    }
    bound
}

/// The 428: a new session, or the no-device answer.
fn challenge(ctx: Ctx<'_>, writes: &mut Writes, bound_to: Vec<u8>) -> Response {
    let setup = &ctx.shared.config.sca;
    let preference = ctx
        .req
        .header_str(PREFERENCE_HEADER)
        .unwrap_or("paired-device");
    let message = match preference {
        "paired-device" if !setup.device_paired => {
            return Response::json(
                428,
                ctx.trace,
                &json!({
                    "code": "sca_not_enrolled",
                    "message": "Please enable strong customer authentication by pairing a device in the Qonto app",
                    "trace_id": ctx.trace,
                }),
            );
        }
        "paired-device" | "mock" => "SCA required",
        "passkey" => "Passkey verification required",
        "sms-otp" => "A one-time code was sent by SMS",
        other => {
            let detail = format!("unknown X-Qonto-2fa-Preference value {other:?}");
            return Response::api_error(422, ctx.trace, "invalid_request", &detail);
        }
    };
    let token = random::id() + &random::id() + &random::id()[..16];
    writes.sessions.insert(
        token.clone(),
        Session {
            opened: ctx.now,
            bound_to,
            decision: setup.auto_decision,
            used: false,
            sms_otp: preference == "sms-otp",
        },
    );
    Response::json(
        428,
        ctx.trace,
        &json!({
            "action_type": "transfer.single.create",
            "code": "sca_required",
            "message": message,
            "sca_session_token": token,
            "trace_id": ctx.trace,
        }),
    )
}

/// Uses a session for the replay, or says why it cannot be.
fn redeem(
    ctx: Ctx<'_>,
    writes: &mut Writes,
    token: &str,
    bound_to: &[u8],
) -> Result<(), &'static str> {
    let setup = &ctx.shared.config.sca;
    let session = writes
        .sessions
        .get_mut(token)
        .ok_or("unknown SCA session")?;
    if expired(session, ctx.now, setup.session_lifetime) {
        return Err("the SCA session has expired");
    }
    if session.used {
        return Err("the SCA session has already been used");
    }
    if session.bound_to != bound_to {
        return Err("the SCA session was opened for another request");
    }
    if session.sms_otp {
        if ctx.req.header_str(OTP_HEADER) != Some(setup.sms_otp.as_str()) {
            return Err("the one-time code is missing or wrong");
        }
    } else if session.decision != Some(ScaDecision::Allow) {
        return Err("the SCA session was not approved");
    }
    session.used = true;
    Ok(())
}

/// The token in `/v2/sca_sessions/{token}` or `/v2/mocked_sca_sessions/{token}[/{decision}]`.
pub(crate) fn session_path(path: &str) -> Option<(&str, Option<&str>)> {
    let rest = path
        .strip_prefix(SESSION_PREFIX)
        .or_else(|| path.strip_prefix(MOCKED_PREFIX))?;
    let mocked = path.starts_with(MOCKED_PREFIX);
    match rest.split_once('/') {
        None if !rest.is_empty() => Some((rest, None)),
        Some((token, decision)) if mocked && !token.is_empty() => Some((token, Some(decision))),
        _ => None,
    }
}

/// `GET /v2/sca_sessions/{token}` and `GET /v2/mocked_sca_sessions/{token}`.
pub(crate) fn read_session(ctx: Ctx<'_>) -> Response {
    if let Err(resp) = api::reader(ctx, WRITE_SCOPE) {
        return resp;
    }
    let Some((token, None)) = session_path(&ctx.req.path) else {
        return not_found(ctx);
    };
    let writes = lock(&ctx.shared.writes);
    let Some(session) = writes.sessions.get(token) else {
        return not_found(ctx);
    };
    if expired(session, ctx.now, ctx.shared.config.sca.session_lifetime) {
        return not_found(ctx);
    }
    let result = session.decision.map_or("waiting", ScaDecision::as_str);
    let canceled_at = if ctx.req.path.starts_with(MOCKED_PREFIX) {
        Value::Null
    } else {
        Value::String(String::new())
    };
    Response::json(
        200,
        ctx.trace,
        &json!({"result": result, "canceled_at": canceled_at}),
    )
}

/// `POST /v2/mocked_sca_sessions/{token}/{allow|deny}`: the sandbox's simulated decision.
pub(crate) fn decide_session(ctx: Ctx<'_>) -> Response {
    let Some((token, Some(decision))) = session_path(&ctx.req.path) else {
        return not_found(ctx);
    };
    let Some(decision) = ScaDecision::parse(decision) else {
        return not_found(ctx);
    };
    let lifetime = ctx.shared.config.sca.session_lifetime;
    let mut writes = lock(&ctx.shared.writes);
    match writes.sessions.get_mut(token) {
        Some(session) if session.decision.is_none() && !expired(session, ctx.now, lifetime) => {
            session.decision = Some(decision);
            Response::json(200, ctx.trace, &json!({"message": "Success"}))
        }
        Some(_) => Response::api_error(
            422,
            ctx.trace,
            "invalid_request",
            "the SCA session is already decided or has expired",
        ),
        None => not_found(ctx),
    }
}

/// `POST /_mock/sca/{allow|deny}`: decides every waiting session (mock only).
pub(crate) fn decide_waiting(ctx: Ctx<'_>) -> Response {
    let decision = ctx
        .req
        .path
        .strip_prefix(MOCK_DECIDE_PREFIX)
        .and_then(ScaDecision::parse);
    let Some(decision) = decision else {
        return not_found(ctx);
    };
    let lifetime = ctx.shared.config.sca.session_lifetime;
    let decided = lock(&ctx.shared.writes).decide_waiting(decision, ctx.now, lifetime);
    Response::json(200, ctx.trace, &json!({"decided": decided}))
}

fn not_found(ctx: Ctx<'_>) -> Response {
    Response::api_error(
        404,
        ctx.trace,
        "not_found",
        "unknown or expired SCA session",
    )
}
