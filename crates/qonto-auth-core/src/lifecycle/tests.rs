//! Deterministic lifecycle tests: fake time, a fake token server, no sleeps.

use std::collections::VecDeque;
use std::time::Duration;

use http::{HeaderMap, StatusCode};

use super::*;
use crate::oauth::{AuthorizeUrl, CsrfState, TokenRequest, parse_callback, refresh_request};
use crate::secret::{AccessToken, ClientSecret, RefreshToken};

const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
const HOUR: Duration = Duration::from_secs(3600);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn client() -> OAuthClient {
    OAuthClient::new(
        "cid",
        ClientSecret::new("csecret"),
        "http://127.0.0.1:8910/cb",
    )
    .unwrap()
}

fn config() -> LifecycleConfig {
    LifecycleConfig::default().with_jitter_max(Duration::ZERO)
}

fn lifecycle() -> TokenLifecycle {
    TokenLifecycle::new(Environment::production(), client(), config()).with_shared_store(false)
}

/// A lifecycle whose store other processes share: attempts lock and re-read it.
fn shared_lifecycle() -> TokenLifecycle {
    lifecycle().with_shared_store(true)
}

/// Starts a shared-store attempt: its first step is the lock, then it gets `stored`.
fn stored_step(attempt: &mut TokenAttempt, now: Timestamp, stored: Stored) -> AttemptStep {
    assert!(matches!(
        attempt.start(now),
        AttemptStep::Lock { read: true }
    ));
    attempt.handle_stored(now, stored)
}

fn tokens(access: &str, refresh: Option<&str>, expires_at: Timestamp) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new(access),
        expires_at,
        refresh_token: refresh.map(RefreshToken::new),
        refresh_issued_at: refresh.map(|_| T0),
        scope: None,
        refresh_pending_since: None,
    }
}

fn ready_token(life: &mut TokenLifecycle, now: Timestamp) -> Option<String> {
    match life.poll_access(now) {
        Access::Ready(c) => Some(
            c.header
                .to_str()
                .unwrap()
                .trim_start_matches("Bearer ")
                .to_owned(),
        ),
        _ => None,
    }
}

/// What the fake server does with the next token request.
#[derive(Clone, Copy, Debug)]
enum Reply {
    Normal,
    Status(u16),
    Lose,
}

/// A token server in memory: issues numbered tokens, rotates refresh tokens, can be scripted.
struct FakeServer {
    issued: u32,
    valid_refresh: Option<String>,
    /// The previous refresh token, still accepted inside the rotation grace window.
    grace_refresh: Option<String>,
    script: VecDeque<Reply>,
    log: Vec<String>,
}

impl FakeServer {
    fn new() -> Self {
        Self {
            issued: 0,
            valid_refresh: None,
            grace_refresh: None,
            script: VecDeque::new(),
            log: Vec::new(),
        }
    }

    fn form(request: &TokenRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(request.http().body())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// Answers a request: `None` means the response is lost.
    fn answer(&mut self, request: &TokenRequest) -> Option<(StatusCode, Vec<u8>)> {
        let form = Self::form(request);
        let get = |k: &str| {
            form.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let grant = get("grant_type").unwrap_or_default();
        self.log.push(format!("server: {grant}"));
        let reply = self.script.pop_front().unwrap_or(Reply::Normal);
        if let Reply::Status(code) = reply {
            return Some((StatusCode::from_u16(code).unwrap(), b"{}".to_vec()));
        }
        let grant_ok = match grant.as_str() {
            "authorization_code" => get("code").as_deref() == Some("ory_ac_1"),
            "refresh_token" => {
                let presented = get("refresh_token");
                presented.is_some()
                    && (presented == self.valid_refresh || presented == self.grace_refresh)
            }
            _ => false,
        };
        if !grant_ok {
            return Some((
                StatusCode::BAD_REQUEST,
                br#"{"error":"invalid_grant"}"#.to_vec(),
            ));
        }
        self.issued += 1;
        let n = self.issued;
        self.grace_refresh = self.valid_refresh.replace(format!("ory_rt_{n}"));
        if matches!(reply, Reply::Lose) {
            return None;
        }
        let body = format!(
            r#"{{"access_token":"ory_at_{n}","expires_in":3600,"token_type":"bearer","refresh_token":"ory_rt_{n}"}}"#
        );
        Some((StatusCode::OK, body.into_bytes()))
    }
}

/// Drives one attempt to its end against the fake server, recording each step.
fn drive(
    life: &mut TokenLifecycle,
    server: &mut FakeServer,
    mut attempt: TokenAttempt,
    now: Timestamp,
    log: &mut Vec<String>,
) {
    let mut step = attempt.start(now);
    loop {
        step = match step {
            AttemptStep::Lock { .. } => unreachable!("an unshared store is never locked"),
            AttemptStep::Send(request) => {
                log.push("send".into());
                match server.answer(&request) {
                    Some((status, body)) => {
                        log.push(format!("response {}", status.as_u16()));
                        attempt.handle_response(status, &HeaderMap::new(), &body)
                    }
                    None => {
                        log.push("response lost".into());
                        let failure = NetworkFailure {
                            stage: SendStage::MaybeSent,
                            description: "timeout".into(),
                        };
                        attempt.handle_network_failure(now, failure)
                    }
                }
            }
            AttemptStep::Persist(tokens) => {
                log.push(format!("persist {}", tokens.access_token.expose_secret()));
                attempt.handle_persisted()
            }
            AttemptStep::Done(id, outcome) => {
                log.push(format!("done {}", outcome_name(&outcome)));
                let _ = life.handle_refresh_outcome(now, id, outcome);
                return;
            }
        };
    }
}

fn outcome_name(outcome: &RefreshOutcome) -> String {
    match outcome {
        RefreshOutcome::Refreshed(_) => "refreshed".into(),
        RefreshOutcome::Adopted(_) => "adopted".into(),
        RefreshOutcome::Unpersisted(..) => "unpersisted".into(),
        RefreshOutcome::Rescued(..) => "rescued".into(),
        RefreshOutcome::Failed(e) => format!("failed {}", e.code()),
        RefreshOutcome::InDoubt { error, .. } => format!("in doubt {}", error.code()),
    }
}

#[test]
fn transcript_of_a_full_lifecycle() {
    let mut life = lifecycle();
    let mut server = FakeServer::new();
    let mut log = Vec::new();

    // Authorize: the browser comes back with the code and our state.
    let state = CsrfState::from_bytes([5; 32]);
    let url = AuthorizeUrl::new(&client(), &["offline_access", "organization.read"], &state)
        .build(Environment::production().endpoints());
    assert!(url.contains("state="));
    let code = parse_callback(
        &format!(
            "http://127.0.0.1:8910/cb?code=ory_ac_1&state={}",
            state.as_str()
        ),
        &state,
    )
    .unwrap();
    log.push("authorized".into());

    // Exchange.
    let attempt = life.exchange_code(T0, &code, None).unwrap();
    drive(&mut life, &mut server, attempt, T0, &mut log);
    log.push(format!("use {}", ready_token(&mut life, T0).unwrap()));

    // Nothing to do until the proactive refresh is due (55 minutes in, margin 5 min).
    assert!(life.poll_refresh(T0 + secs(54 * 60)).is_none());
    assert_eq!(life.poll_timeout(), Some(T0 + secs(55 * 60)));
    let t1 = T0 + secs(55 * 60);
    let attempt = life.poll_refresh(t1).unwrap();
    drive(&mut life, &mut server, attempt, t1, &mut log);
    log.push(format!("use {}", ready_token(&mut life, t1).unwrap()));

    // The token endpoint fails; the current token keeps serving; retry after 10 s.
    let t2 = t1 + secs(55 * 60);
    server.script.push_back(Reply::Status(503));
    let attempt = life.poll_refresh(t2).unwrap();
    drive(&mut life, &mut server, attempt, t2, &mut log);
    log.push(format!(
        "use {}",
        ready_token(&mut life, t2 + secs(5)).unwrap()
    ));
    assert!(
        life.poll_refresh(t2 + secs(9)).is_none(),
        "at most one attempt per 10 s"
    );
    let t3 = t2 + secs(10);
    let attempt = life.poll_refresh(t3).unwrap();
    drive(&mut life, &mut server, attempt, t3, &mut log);
    log.push(format!("use {}", ready_token(&mut life, t3).unwrap()));

    // The answer to a refresh is lost: one retry inside the grace window recovers.
    let t35 = t3 + secs(55 * 60);
    server.script.push_back(Reply::Lose);
    let attempt = life.poll_refresh(t35).unwrap();
    drive(&mut life, &mut server, attempt, t35, &mut log);
    log.push(format!("use {}", ready_token(&mut life, t35).unwrap()));

    // The grant is revoked server-side: invalid_grant ends in re-authorization.
    server.valid_refresh = None;
    server.grace_refresh = None;
    let t4 = t35 + secs(55 * 60);
    let attempt = life.poll_refresh(t4).unwrap();
    drive(&mut life, &mut server, attempt, t4, &mut log);
    log.push(format!("use {}", ready_token(&mut life, t4).unwrap()));
    assert!(
        life.poll_refresh(t4 + secs(60)).is_none(),
        "never retried after invalid_grant"
    );
    let past_floor = t35 + HOUR - secs(29);
    assert!(matches!(
        life.poll_access(past_floor),
        Access::Unavailable(RefreshError::ReauthRequired(_))
    ));
    log.push("reauth required".into());

    assert_eq!(
        log,
        [
            "authorized",
            "send",
            "response 200",
            "persist ory_at_1",
            "done refreshed",
            "use ory_at_1",
            "send",
            "response 200",
            "persist ory_at_2",
            "done refreshed",
            "use ory_at_2",
            "send",
            "response 503",
            "done failed refresh_failed_transient",
            "use ory_at_2",
            "send",
            "response 200",
            "persist ory_at_3",
            "done refreshed",
            "use ory_at_3",
            "send",
            "response lost",
            "send",
            "response 200",
            "persist ory_at_5",
            "done refreshed",
            "use ory_at_5",
            "send",
            "response 400",
            "done failed reauthorization_required",
            "use ory_at_5",
            "reauth required",
        ]
    );
    assert_eq!(
        server.log,
        [
            "server: authorization_code",
            "server: refresh_token",
            "server: refresh_token",
            "server: refresh_token",
            "server: refresh_token",
            "server: refresh_token",
            "server: refresh_token",
        ]
    );
}

#[test]
fn hard_floor_and_waiting_for_a_refresh() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(60))));
    // Due (inside the margin): one caller gets the attempt, the others the current token.
    let Access::Refresh(_attempt) = life.poll_access(T0 + secs(29)) else {
        panic!("the first caller drives the refresh")
    };
    assert!(ready_token(&mut life, T0 + secs(29)).is_some());
    // At the hard floor the token is no longer handed out: wait for the one in flight.
    assert!(ready_token(&mut life, T0 + secs(30)).is_none());
    assert!(matches!(life.poll_access(T0 + secs(30)), Access::Wait));
    assert!(life.poll_refresh(T0 + secs(30)).is_none(), "single flight");
    assert!(matches!(life.poll_access(T0 + secs(31)), Access::Wait));
}

#[test]
fn jitter_moves_the_refresh_earlier_within_bounds() {
    let config = LifecycleConfig::default().with_jitter_seed(42);
    let mut life = TokenLifecycle::new(Environment::production(), client(), config);
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + HOUR)));
    let due = life.status(T0).refresh_due_at.unwrap();
    assert!(
        due <= T0 + HOUR - secs(300) && due >= T0 + HOUR - secs(360),
        "{due}"
    );
    assert!(life.poll_refresh(due - Duration::from_millis(1)).is_none());
    assert!(life.poll_refresh(due).is_some());
    // Same seed, same due time: the jitter source is pinned.
    let mut again = TokenLifecycle::new(
        Environment::production(),
        client(),
        LifecycleConfig::default().with_jitter_seed(42),
    );
    again.handle_tokens(Some(tokens("a", Some("r"), T0 + HOUR)));
    assert_eq!(again.status(T0).refresh_due_at, Some(due));
}

fn start_refresh(life: &mut TokenLifecycle, now: Timestamp) -> TokenAttempt {
    let mut attempt = life.poll_refresh(now).unwrap();
    assert!(matches!(attempt.start(now), AttemptStep::Send(_)));
    attempt
}

fn lost(now_offset: u64) -> (Timestamp, NetworkFailure) {
    (
        T0 + secs(now_offset),
        NetworkFailure {
            stage: SendStage::MaybeSent,
            description: "timeout".into(),
        },
    )
}

#[test]
fn lost_response_is_retried_once_inside_the_grace_window() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = start_refresh(&mut life, T0);
    let (now, failure) = lost(5);
    assert!(matches!(
        attempt.handle_network_failure(now, failure.clone()),
        AttemptStep::Send(_)
    ));
    let AttemptStep::Done(
        _,
        RefreshOutcome::Failed(RefreshError::ReauthRequired(ReauthReason::ResponseLost)),
    ) = attempt.handle_network_failure(now, failure)
    else {
        panic!("a second loss must not be retried")
    };
}

#[test]
fn lost_response_outside_the_grace_window_is_never_retried() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = start_refresh(&mut life, T0);
    let (now, failure) = lost(51);
    let step = attempt.handle_network_failure(now, failure);
    let AttemptStep::Done(id, outcome) = step else {
        panic!()
    };
    let _ = life.handle_refresh_outcome(now, id, outcome);
    assert!(life.poll_refresh(now + secs(3600)).is_none());
    assert!(
        ready_token(&mut life, now).is_some(),
        "current token still served"
    );
}

#[test]
fn not_sent_failures_are_transient_and_back_off() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(20))));
    let mut attempt = start_refresh(&mut life, T0);
    let failure = NetworkFailure {
        stage: SendStage::NotSent,
        description: "refused".into(),
    };
    let AttemptStep::Done(id, outcome) = attempt.handle_network_failure(T0, failure) else {
        panic!()
    };
    let _ = life.handle_refresh_outcome(T0, id, outcome);
    assert!(matches!(
        life.poll_access(T0 + secs(1)),
        Access::Unavailable(RefreshError::Transient(_))
    ));
    assert!(life.poll_refresh(T0 + secs(9)).is_none());
    assert!(life.poll_refresh(T0 + secs(10)).is_some());
}

#[test]
fn newer_stored_tokens_are_adopted_without_a_request() {
    let mut life = shared_lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(10))));
    let mut attempt = life.poll_refresh(T0).unwrap();
    let newer = tokens("b", Some("r2"), T0 + HOUR);
    let AttemptStep::Done(id, outcome @ RefreshOutcome::Adopted(_)) =
        stored_step(&mut attempt, T0, Stored::Tokens(newer))
    else {
        panic!("must adopt")
    };
    let _ = life.handle_refresh_outcome(T0, id, outcome);
    assert_eq!(ready_token(&mut life, T0).as_deref(), Some("b"));

    let mut life = shared_lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(10))));
    let mut attempt = life.poll_refresh(T0).unwrap();
    let same = tokens("a", Some("r"), T0 + secs(10));
    // The same tokens: mark the refresh as pending in the store, then send.
    let AttemptStep::Persist(marked) = stored_step(&mut attempt, T0, Stored::Tokens(same)) else {
        panic!("a shared store is marked before sending")
    };
    assert_eq!(marked.refresh_pending_since, Some(T0));
    assert!(matches!(attempt.handle_persisted(), AttemptStep::Send(_)));
    let mut attempt = lifecycle_with_due_attempt();
    assert!(matches!(
        stored_step(&mut attempt, T0, Stored::Empty),
        AttemptStep::Done(
            _,
            RefreshOutcome::Failed(RefreshError::ReauthRequired(ReauthReason::LoggedOut))
        )
    ));
}

fn lifecycle_with_due_attempt() -> TokenAttempt {
    let mut life = shared_lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(10))));
    life.poll_refresh(T0).unwrap()
}

#[test]
fn unauthorized_retries_once_with_a_newer_token_or_refreshes() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + HOUR)));
    let Access::Ready(first) = life.poll_access(T0) else {
        panic!()
    };
    // Another caller refreshed meanwhile: retry with the newer token, no refresh.
    life.handle_tokens(Some(tokens("b", Some("r2"), T0 + HOUR)));
    assert!(matches!(
        life.handle_unauthorized(T0, first.fingerprint),
        UnauthorizedAdvice::RetryWithNewerToken
    ));
    assert!(life.poll_refresh(T0).is_none());
    // The current token itself is rejected: refresh now, even though it is not due.
    let Access::Ready(current) = life.poll_access(T0) else {
        panic!()
    };
    assert!(matches!(
        life.handle_unauthorized(T0, current.fingerprint),
        UnauthorizedAdvice::RefreshThenRetry
    ));
    assert!(matches!(life.poll_access(T0), Access::Refresh(_)));
    assert!(matches!(life.poll_access(T0), Access::Wait));
    // Without a refresh token nothing helps.
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", None, T0 + HOUR)));
    let Access::Ready(c) = life.poll_access(T0) else {
        panic!()
    };
    assert!(matches!(
        life.handle_unauthorized(T0, c.fingerprint),
        UnauthorizedAdvice::GiveUp(_)
    ));
}

#[test]
fn rescued_refresh_token_is_persisted_and_kept() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = start_refresh(&mut life, T0);
    let body =
        br#"{"access_token":"b","expires_in":"soon","token_type":"bearer","refresh_token":"r2"}"#;
    let AttemptStep::Persist(persisted) =
        attempt.handle_response(StatusCode::OK, &HeaderMap::new(), body)
    else {
        panic!("the rotated refresh token must be persisted")
    };
    assert_eq!(
        persisted.refresh_token.as_ref().unwrap().expose_secret(),
        "r2"
    );
    assert_eq!(persisted.access_token.expose_secret(), "a");
    let AttemptStep::Done(id, outcome) = attempt.handle_persisted() else {
        panic!()
    };
    let _ = life.handle_refresh_outcome(T0, id, outcome);
    assert_eq!(
        life.tokens()
            .unwrap()
            .refresh_token
            .as_ref()
            .unwrap()
            .expose_secret(),
        "r2"
    );
    assert_eq!(ready_token(&mut life, T0).as_deref(), Some("a"));
    assert!(life.poll_refresh(T0 + secs(5)).is_none(), "backs off");
}

#[test]
fn a_refresh_without_rotation_keeps_the_refresh_token() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = start_refresh(&mut life, T0);
    let body = br#"{"access_token":"b","expires_in":3600,"token_type":"bearer"}"#;
    let AttemptStep::Persist(t) = attempt.handle_response(StatusCode::OK, &HeaderMap::new(), body)
    else {
        panic!()
    };
    assert_eq!(t.refresh_token.unwrap().expose_secret(), "r");
    assert_eq!(t.refresh_issued_at, Some(T0));
}

#[test]
fn persist_failure_still_installs_the_new_tokens() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = start_refresh(&mut life, T0);
    let body =
        br#"{"access_token":"b","expires_in":3600,"token_type":"bearer","refresh_token":"r2"}"#;
    let _ = attempt.handle_response(StatusCode::OK, &HeaderMap::new(), body);
    let AttemptStep::Done(id, outcome @ RefreshOutcome::Unpersisted(..)) =
        attempt.handle_persist_failed("disk full")
    else {
        panic!()
    };
    let _ = life.handle_refresh_outcome(T0, id, outcome);
    assert_eq!(ready_token(&mut life, T0).as_deref(), Some("b"));
}

#[test]
fn misconfiguration_stops_refreshing_with_its_code() {
    for (status, body, code) in [
        (
            401,
            &br#"{"error":"invalid_client"}"#[..],
            "oauth_misconfigured",
        ),
        (
            400,
            &br#"{"error":"invalid_client"}"#[..],
            "oauth_misconfigured",
        ),
        (200, &b"<!doctype html><html>"[..], "sandbox_gate"),
    ] {
        let mut life = lifecycle();
        life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
        let mut attempt = start_refresh(&mut life, T0);
        let AttemptStep::Done(id, RefreshOutcome::Failed(error)) = attempt.handle_response(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body,
        ) else {
            panic!()
        };
        assert_eq!(error.code(), code);
        let _ = life.handle_refresh_outcome(T0, id, RefreshOutcome::Failed(error));
        assert!(life.poll_refresh(T0 + HOUR).is_none());
    }
}

#[test]
fn refresh_token_lifetime_warning_and_expiry() {
    let mut life = lifecycle();
    let mut set = tokens("a", Some("r"), T0 + HOUR);
    set.refresh_issued_at = Some(T0 - secs(80 * 24 * 3600));
    life.handle_tokens(Some(set));
    assert!(matches!(life.poll_access(T0), Access::Ready(_)));
    assert!(matches!(
        life.poll_event(),
        Some(Event::RefreshTokenExpiring { .. })
    ));
    assert!(matches!(life.poll_access(T0), Access::Ready(_)));
    assert!(life.poll_event().is_none(), "warned once");
    let lapse = life.status(T0).refresh_expires_at.unwrap();
    assert_eq!(lapse, T0 + secs(10 * 24 * 3600));
    // Past 90 days: re-authorization, without presenting the dead token.
    let mut set = tokens("a", Some("r"), T0 + secs(100));
    set.refresh_issued_at = Some(T0 - secs(91 * 24 * 3600));
    let mut life = lifecycle();
    life.handle_tokens(Some(set));
    assert!(life.poll_refresh(T0).is_none());
    assert!(matches!(
        life.poll_access(T0 + secs(80)),
        Access::Unavailable(RefreshError::ReauthRequired(
            ReauthReason::RefreshTokenExpired
        ))
    ));
}

#[test]
fn no_tokens_or_no_refresh_token_is_unavailable() {
    let mut life = lifecycle();
    assert!(matches!(
        life.poll_access(T0),
        Access::Unavailable(RefreshError::ReauthRequired(ReauthReason::NotLoggedIn))
    ));
    life.handle_tokens(Some(tokens("a", None, T0 + secs(10))));
    assert!(matches!(
        life.poll_access(T0),
        Access::Unavailable(RefreshError::ReauthRequired(ReauthReason::NoRefreshToken))
    ));
    assert!(life.poll_refresh(T0).is_none());
    assert_eq!(life.poll_timeout(), None);
}

#[test]
fn stale_outcomes_are_ignored() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(10))));
    let attempt = life.poll_refresh(T0).unwrap();
    let _ = life.handle_refresh_outcome(
        T0,
        AttemptId(999),
        RefreshOutcome::Adopted(tokens("x", Some("y"), T0 + HOUR)),
    );
    assert!(life.status(T0).refreshing);
    let _ = life.handle_refresh_outcome(
        T0,
        attempt.id(),
        RefreshOutcome::Adopted(tokens("b", Some("r2"), T0 + HOUR)),
    );
    assert_eq!(ready_token(&mut life, T0).as_deref(), Some("b"));
}

#[test]
fn out_of_order_driving_ends_the_attempt_without_panicking() {
    let mut attempt = lifecycle_with_due_attempt();
    assert!(matches!(attempt.handle_persisted(), AttemptStep::Done(..)));
    let mut attempt = lifecycle_with_due_attempt();
    assert!(matches!(
        attempt.handle_response(StatusCode::OK, &HeaderMap::new(), b"{}"),
        AttemptStep::Done(..)
    ));
}

#[test]
fn a_store_failure_ends_the_attempt_without_sending() {
    let mut life = shared_lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = life.poll_refresh(T0).unwrap();
    assert!(matches!(
        attempt.start(T0),
        AttemptStep::Lock { read: true }
    ));
    let AttemptStep::Done(id, outcome) = attempt.handle_store_failed("lock timeout") else {
        panic!("must not send without the store")
    };
    let _ = life.handle_refresh_outcome(T0, id, outcome);
    assert!(!life.status(T0).refreshing);
    assert!(life.poll_refresh(T0 + secs(9)).is_none(), "backs off");
    assert!(life.poll_refresh(T0 + secs(10)).is_some());
}

#[test]
fn the_header_is_encoded_once_and_unsendable_tokens_are_reported() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("ory_at_x", Some("r"), T0 + HOUR)));
    let Access::Ready(c) = life.poll_access(T0) else {
        panic!()
    };
    assert_eq!(c.header, "Bearer ory_at_x");
    assert!(c.header.is_sensitive());
    life.handle_tokens(Some(tokens("bad\ntoken", Some("r"), T0 + HOUR)));
    assert!(matches!(
        life.poll_access(T0),
        Access::Unavailable(RefreshError::ReauthRequired(ReauthReason::UnusableToken))
    ));
}

#[test]
fn ready_until_ends_at_the_next_refresh_or_the_floor() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + HOUR)));
    assert_eq!(life.ready_until(T0), Some(T0 + HOUR - secs(300)));
    // Inside the refresh window the answer may change at any moment.
    assert_eq!(life.ready_until(T0 + HOUR - secs(200)), None);
    // Without a refresh token, only the floor matters.
    life.handle_tokens(Some(tokens("b", None, T0 + HOUR)));
    assert_eq!(life.ready_until(T0), Some(T0 + HOUR - secs(30)));
    assert_eq!(life.ready_until(T0 + HOUR), None);
}

/// Starts an attempt on a shared store holding `stored`, returning it and its first step.
fn shared_attempt(stored: TokenSet, now: Timestamp) -> (TokenAttempt, AttemptStep) {
    let mut life = shared_lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = life.poll_refresh(now).unwrap();
    let step = stored_step(&mut attempt, now, Stored::Tokens(stored));
    (attempt, step)
}

fn pending(since: Timestamp) -> TokenSet {
    TokenSet {
        refresh_pending_since: Some(since),
        ..tokens("a", Some("r"), T0 + secs(100))
    }
}

#[test]
fn a_server_answer_without_rotation_clears_the_pending_mark() {
    let (mut attempt, step) = shared_attempt(tokens("a", Some("r"), T0 + secs(100)), T0);
    assert!(matches!(step, AttemptStep::Persist(ref t) if t.refresh_pending_since == Some(T0)));
    assert!(matches!(attempt.handle_persisted(), AttemptStep::Send(_)));
    let AttemptStep::Persist(cleared) =
        attempt.handle_response(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), b"{}")
    else {
        panic!("the mark is cleared")
    };
    assert_eq!(cleared.refresh_pending_since, None);
    assert!(matches!(
        attempt.handle_persisted(),
        AttemptStep::Done(_, RefreshOutcome::Failed(RefreshError::Transient(_)))
    ));
}

#[test]
fn new_tokens_replace_the_mark_and_a_lost_answer_keeps_it() {
    let (mut attempt, _) = shared_attempt(tokens("a", Some("r"), T0 + secs(100)), T0);
    let _ = attempt.handle_persisted();
    let body =
        br#"{"access_token":"b","expires_in":3600,"token_type":"bearer","refresh_token":"r2"}"#;
    let AttemptStep::Persist(new) =
        attempt.handle_response(StatusCode::OK, &HeaderMap::new(), body)
    else {
        panic!()
    };
    assert_eq!(new.refresh_pending_since, None);

    let (mut attempt, _) = shared_attempt(tokens("a", Some("r"), T0 + secs(100)), T0);
    let _ = attempt.handle_persisted();
    let lost = NetworkFailure {
        stage: SendStage::MaybeSent,
        description: "reset".into(),
    };
    assert!(matches!(
        attempt.handle_network_failure(T0 + secs(1), lost.clone()),
        AttemptStep::Send(_)
    ));
    assert!(
        matches!(
            attempt.handle_network_failure(T0 + secs(2), lost),
            AttemptStep::Done(
                _,
                RefreshOutcome::Failed(RefreshError::ReauthRequired(ReauthReason::ResponseLost))
            )
        ),
        "no persist step: the mark stays for other processes"
    );
}

#[test]
fn a_pending_refresh_found_in_the_store_is_retried_once_inside_the_grace_window_only() {
    // Another process marked it 20 s ago: send once more, and count it as the retry.
    let (mut attempt, step) = shared_attempt(pending(T0 - secs(20)), T0);
    assert!(
        matches!(step, AttemptStep::Send(_)),
        "no new mark, straight to the retry"
    );
    let lost = NetworkFailure {
        stage: SendStage::MaybeSent,
        description: "reset".into(),
    };
    assert!(matches!(
        attempt.handle_network_failure(T0 + secs(1), lost),
        AttemptStep::Done(
            _,
            RefreshOutcome::Failed(RefreshError::ReauthRequired(ReauthReason::ResponseLost))
        )
    ));
    // Marked before the grace window: never presented again.
    let (_, step) = shared_attempt(pending(T0 - secs(61)), T0);
    assert!(matches!(
        step,
        AttemptStep::Done(
            _,
            RefreshOutcome::Failed(RefreshError::ReauthRequired(ReauthReason::ResponseLost))
        )
    ));
}

#[test]
fn a_mark_that_cannot_be_written_means_nothing_is_sent() {
    let (mut attempt, _) = shared_attempt(tokens("a", Some("r"), T0 + secs(100)), T0);
    assert!(matches!(
        attempt.handle_persist_failed("disk full"),
        AttemptStep::Done(
            _,
            RefreshOutcome::Failed(RefreshError::Transient(TransientCause::Store(_)))
        )
    ));
}

#[test]
fn a_connection_refused_clears_the_mark() {
    let (mut attempt, _) = shared_attempt(tokens("a", Some("r"), T0 + secs(100)), T0);
    let _ = attempt.handle_persisted();
    let refused = NetworkFailure {
        stage: SendStage::NotSent,
        description: "refused".into(),
    };
    assert!(matches!(
        attempt.handle_network_failure(T0, refused),
        AttemptStep::Persist(ref t) if t.refresh_pending_since.is_none()
    ));
}

#[test]
fn wait_is_only_answered_when_a_refresh_can_run() {
    // Expired access token and a refresh token past 90 days: Unavailable at once, not Wait.
    let mut life = lifecycle();
    let mut set = tokens("a", Some("r"), T0 + secs(10));
    set.refresh_issued_at = Some(T0 - secs(91 * 24 * 3600));
    life.handle_tokens(Some(set));
    assert!(matches!(
        life.poll_access(T0 + secs(20)),
        Access::Unavailable(RefreshError::ReauthRequired(
            ReauthReason::RefreshTokenExpired
        ))
    ));
    // With nothing in flight, poll_access hands out the attempt instead of Wait; then Wait.
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(10))));
    assert!(matches!(
        life.poll_access(T0 + secs(20)),
        Access::Refresh(_)
    ));
    assert!(matches!(life.poll_access(T0 + secs(20)), Access::Wait));
}

#[test]
fn short_lived_tokens_cannot_drive_a_refresh_storm() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(10))));
    let mut attempt = start_refresh(&mut life, T0);
    // The server hands out tokens living 100 s: due at once by the margin, but not before
    // the retry interval has passed since this refresh.
    let body =
        br#"{"access_token":"b","expires_in":100,"token_type":"bearer","refresh_token":"r2"}"#;
    let _ = attempt.handle_response(StatusCode::OK, &HeaderMap::new(), body);
    let AttemptStep::Done(id, outcome) = attempt.handle_persisted() else {
        panic!()
    };
    let _ = life.handle_refresh_outcome(T0, id, outcome);
    assert!(ready_token(&mut life, T0).is_some());
    assert!(life.poll_refresh(T0 + secs(9)).is_none());
    assert!(life.poll_refresh(T0 + secs(10)).is_some());
}

#[test]
fn a_forced_refresh_keeps_the_current_token_when_it_fails() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + HOUR)));
    life.force_refresh(T0).expect("forced refreshes start now");
    let Access::Refresh(mut attempt) = life.poll_access(T0) else {
        panic!("the forced attempt comes out of poll_access")
    };
    let _ = attempt.start(T0);
    let AttemptStep::Done(id, outcome) =
        attempt.handle_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"")
    else {
        panic!()
    };
    let _ = life.handle_refresh_outcome(T0, id, outcome);
    assert_eq!(
        ready_token(&mut life, T0).as_deref(),
        Some("a"),
        "still served"
    );
    assert!(
        life.poll_refresh(T0 + secs(10)).is_none(),
        "not forced any more"
    );
}

#[test]
fn older_stored_tokens_are_replaced_not_adopted() {
    let mut life = shared_lifecycle();
    life.handle_tokens(Some(tokens("new", Some("r-new"), T0 + secs(100))));
    let mut attempt = life.poll_refresh(T0).unwrap();
    let older = tokens("old", Some("r-old"), T0 + secs(50));
    let AttemptStep::Persist(written) = stored_step(&mut attempt, T0, Stored::Tokens(older)) else {
        panic!("ours are written back, marked")
    };
    assert_eq!(written.access_token.expose_secret(), "new");
    assert_eq!(written.refresh_pending_since, Some(T0));
}

fn in_doubt(step: &AttemptStep) -> bool {
    matches!(step, AttemptStep::Done(_, RefreshOutcome::InDoubt { .. }))
}

#[test]
fn after_a_retry_a_server_error_keeps_the_mark() {
    let (mut attempt, _) = shared_attempt(tokens("a", Some("r"), T0 + secs(100)), T0);
    let _ = attempt.handle_persisted();
    let lost = NetworkFailure {
        stage: SendStage::MaybeSent,
        description: "reset".into(),
    };
    assert!(matches!(
        attempt.handle_network_failure(T0 + secs(1), lost),
        AttemptStep::Send(_)
    ));
    // The first send may have rotated: a 503 to the retry must not clear the mark.
    let step = attempt.handle_response(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), b"");
    assert!(in_doubt(&step), "{step:?}");
}

#[test]
fn a_mark_found_in_the_store_is_never_cleared_by_a_server_error() {
    let (mut attempt, step) = shared_attempt(pending(T0 - secs(5)), T0);
    assert!(matches!(step, AttemptStep::Send(_)));
    let step = attempt.handle_response(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), b"");
    let AttemptStep::Done(_, RefreshOutcome::InDoubt { since, .. }) = step else {
        panic!("{step:?}")
    };
    assert_eq!(since, T0 - secs(5), "the earliest unknown send");
    // Nothing reached the server this time either: still in doubt, not cleared.
    let (mut attempt, _) = shared_attempt(pending(T0 - secs(5)), T0);
    let refused = NetworkFailure {
        stage: SendStage::NotSent,
        description: "refused".into(),
    };
    assert!(in_doubt(&attempt.handle_network_failure(T0, refused)));
}

#[test]
fn a_gateway_timeout_is_in_doubt() {
    for status in [StatusCode::BAD_GATEWAY, StatusCode::GATEWAY_TIMEOUT] {
        let (mut attempt, _) = shared_attempt(tokens("a", Some("r"), T0 + secs(100)), T0);
        let _ = attempt.handle_persisted();
        assert!(
            in_doubt(&attempt.handle_response(status, &HeaderMap::new(), b"")),
            "{status}"
        );
    }
}

#[test]
fn a_memory_store_remembers_a_doubtful_refresh() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = start_refresh(&mut life, T0);
    let step = attempt.handle_response(StatusCode::OK, &HeaderMap::new(), b"garbage");
    let AttemptStep::Done(id, outcome) = step else {
        panic!()
    };
    let _ = life.handle_refresh_outcome(T0, id, outcome);
    assert_eq!(life.tokens().unwrap().refresh_pending_since, Some(T0));
    // Inside the grace window the next attempt is the one retry...
    let mut attempt = life.poll_refresh(T0 + secs(10)).unwrap();
    assert!(matches!(attempt.start(T0 + secs(10)), AttemptStep::Send(_)));
    // ...and after it the token is never presented again.
    let mut life = lifecycle();
    let mut set = tokens("a", Some("r"), T0 + secs(100));
    set.refresh_pending_since = Some(T0 - secs(61));
    life.handle_tokens(Some(set));
    let mut attempt = life.poll_refresh(T0).unwrap();
    assert!(matches!(
        attempt.start(T0),
        AttemptStep::Done(
            _,
            RefreshOutcome::Failed(RefreshError::ReauthRequired(ReauthReason::ResponseLost))
        )
    ));
}

#[test]
fn a_rejected_token_stays_rejected_when_it_comes_back() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + HOUR)));
    let Access::Ready(c) = life.poll_access(T0) else {
        panic!()
    };
    assert!(matches!(
        life.handle_unauthorized(T0, c.fingerprint),
        UnauthorizedAdvice::RefreshThenRetry
    ));
    let attempt = life.poll_refresh(T0).unwrap();
    // Another process stored a new refresh token but the same access token.
    let same_access = tokens("a", Some("r2"), T0 + HOUR + secs(1));
    let _ = life.handle_refresh_outcome(T0, attempt.id(), RefreshOutcome::Adopted(same_access));
    assert!(
        !matches!(life.poll_access(T0), Access::Ready(_)),
        "the 401'd token is not served again"
    );
}

#[test]
fn force_refresh_does_not_stay_armed_when_nothing_can_start() {
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + HOUR)));
    life.force_refresh(T0).unwrap();
    let Access::Refresh(_in_flight) = life.poll_access(T0) else {
        panic!()
    };
    assert!(life.refreshing());
    assert!(
        matches!(life.poll_access(T0), Access::Ready(_)),
        "one at a time"
    );
    // A back-off refuses a forced refresh, and leaves nothing armed.
    let mut life = lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + HOUR)));
    life.force_refresh(T0).unwrap();
    let Access::Refresh(mut attempt) = life.poll_access(T0) else {
        panic!()
    };
    let _ = attempt.start(T0);
    let AttemptStep::Done(id, outcome) =
        attempt.handle_response(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), b"")
    else {
        panic!()
    };
    assert!(matches!(
        life.handle_refresh_outcome(T0, id, outcome),
        AttemptResult::Failed(RefreshError::Transient(_))
    ));
    assert!(life.force_refresh(T0 + secs(5)).is_err(), "backing off");
    assert!(matches!(life.poll_access(T0 + secs(5)), Access::Ready(_)));
}

#[test]
fn a_token_endpoint_echoing_the_form_never_shows_its_secrets() {
    let sentinel = "SENTINELx7q";
    let client = OAuthClient::new(
        "cid",
        ClientSecret::new(format!("cs-{sentinel}")),
        "http://127.0.0.1:8910/cb",
    )
    .unwrap();
    let mut life =
        TokenLifecycle::new(Environment::production(), client, config()).with_shared_store(false);
    life.handle_tokens(Some(tokens(
        "a",
        Some(&format!("rt+{sentinel}")),
        T0 + secs(100),
    )));
    let mut attempt = start_refresh(&mut life, T0);
    let form = String::from_utf8(attempt_form(&life)).unwrap();
    let body = format!(
        r#"{{"error":"invalid_grant","error_description":"you sent {form}, that is cs-{sentinel} and rt+{sentinel}"}}"#
    );
    let AttemptStep::Done(_, outcome) =
        attempt.handle_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), body.as_bytes())
    else {
        panic!()
    };
    let RefreshOutcome::Failed(error) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(error.code(), "reauthorization_required");
    let text = format!("{error} {error:?}");
    assert!(!text.contains(sentinel), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
}

/// The form of the lifecycle's refresh request, as the server would receive it.
fn attempt_form(life: &TokenLifecycle) -> Vec<u8> {
    let refresh = life.tokens().unwrap().refresh_token.clone().unwrap();
    let request = refresh_request(&Environment::production(), &life.client, &refresh);
    request.unwrap().http().body().clone()
}

#[test]
fn adopted_short_lived_tokens_refreshed_moments_ago_are_not_refreshed_again() {
    // Another process refreshed at T0 and stored tokens living 120 s, under the margin.
    let mut life = shared_lifecycle();
    life.handle_tokens(Some(tokens("a", Some("r"), T0 + secs(100))));
    let mut attempt = life.poll_refresh(T0 + secs(1)).unwrap();
    let mut newer = tokens("b", Some("r2"), T0 + secs(120));
    newer.refresh_issued_at = Some(T0);
    let AttemptStep::Done(id, outcome) =
        stored_step(&mut attempt, T0 + secs(1), Stored::Tokens(newer))
    else {
        panic!()
    };
    assert!(matches!(
        life.handle_refresh_outcome(T0 + secs(1), id, outcome),
        AttemptResult::Done
    ));
    // Due by the margin, but it counts as a refresh made at T0: not again before T0 + 10 s.
    assert_eq!(ready_token(&mut life, T0 + secs(2)).as_deref(), Some("b"));
    assert!(life.poll_refresh(T0 + secs(9)).is_none());
    assert!(life.poll_refresh(T0 + secs(10)).is_some());
}
