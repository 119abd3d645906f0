//! Every public type and error, formatted with `{:?}` (and `{}` where it exists) while holding
//! a sentinel secret, must not show the sentinel.

use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};

use crate::classify::classify;
use crate::credentials::{
    ApiKey, OAuthClient, check_access_token, check_api_key, parse_access_token,
};
use crate::diagnose::{CredentialInput, Settings, check_settings};
use crate::environment::{Endpoints, Environment, EnvironmentKind};
use crate::header::{Authorization, bearer, staging_value};
use crate::lifecycle::{
    Access, AttemptStep, LifecycleConfig, NetworkFailure, RefreshOutcome, SendStage, Stored,
    TokenLifecycle,
};
use crate::oauth::{
    CsrfState, PkceVerifier, authorization_code_request, parse_token_response, refresh_request,
};
use crate::request::api_request;
use crate::secret::{
    AccessToken, AuthorizationCode, ClientSecret, RefreshToken, SecretKey, StagingToken,
};
use crate::{Timestamp, TokenSet};

const SENTINEL: &str = "SENTINELx7q";

fn s(prefix: &str) -> String {
    format!("{prefix}{SENTINEL}")
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SENTINEL), "{what} leaks the secret: {text}");
}

macro_rules! debug_clean {
    ($($value:expr),+ $(,)?) => {
        $( { let value = &$value; assert_clean(stringify!($value), &format!("{value:?} {value:#?}")); } )+
    };
}

macro_rules! display_clean {
    ($($value:expr),+ $(,)?) => {
        $( { let value = &$value; assert_clean(stringify!($value), &format!("{value} {value:?}")); } )+
    };
}

#[test]
fn no_public_type_or_error_shows_a_secret() {
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let staging = StagingToken::new(s("stg"));
    let sandbox = Environment::new(
        EnvironmentKind::Sandbox,
        Some(staging.clone()),
        Endpoints::new("http://127.0.0.1:1", "http://127.0.0.1:1").unwrap(),
    )
    .unwrap();
    let key = ApiKey::new("org-1", SecretKey::new(s("k"))).unwrap();
    let client =
        OAuthClient::new("cid", ClientSecret::new(s("cs")), "http://127.0.0.1:1/cb").unwrap();
    let access = AccessToken::new(s("ory_at_"));
    let refresh = RefreshToken::new(s("ory_rt_"));
    let code = AuthorizationCode::new(s("ory_ac_"));
    let tokens = TokenSet {
        access_token: access.clone(),
        expires_at: now + Duration::from_secs(100),
        refresh_token: Some(refresh.clone()),
        refresh_issued_at: Some(now),
        scope: Some("organization.read".into()),
        refresh_pending_since: None,
    };
    debug_clean!(
        staging,
        key,
        client,
        access,
        refresh,
        code,
        tokens,
        sandbox,
        SecretKey::new(s("")),
        ClientSecret::new(s("")),
        PkceVerifier::from_bytes([1; 32]),
        Authorization::ApiKey(key.clone()),
        Authorization::Bearer(access.clone()),
        bearer(&access).unwrap(),
        staging_value(&staging).unwrap(),
        api_request(
            &sandbox,
            &Authorization::ApiKey(key),
            Method::GET,
            "/v2/organization",
            None
        )
        .unwrap(),
        authorization_code_request(
            &sandbox,
            &client,
            &code,
            Some(&PkceVerifier::from_bytes([2; 32]))
        )
        .unwrap(),
        refresh_request(&sandbox, &client, &refresh).unwrap(),
        Settings {
            kind: EnvironmentKind::Sandbox,
            staging_token_given: Some(&s("stg")),
            api_base: None,
            oauth_base: None,
            credential: CredentialInput::ApiKey(&s("org-1:")),
        },
        CredentialInput::AccessToken(&s("")),
        check_settings(&Settings {
            kind: EnvironmentKind::Production,
            staging_token_given: Some(&s("stg")),
            api_base: None,
            oauth_base: None,
            credential: CredentialInput::ApiKey(&s("Basic org-1:")),
        }),
        check_api_key(&s(" Bearer ")),
        check_access_token(&s("Bearer ory_rt_")),
    );
    let state = CsrfState::from_bytes([0xaa; 32]);
    assert!(!format!("{state:?}").contains(state.as_str()));

    // Errors, including a malformed success that carries rotated tokens.
    let body = format!(
        r#"{{"access_token":"{}","expires_in":"x","token_type":"bearer","refresh_token":"{}"}}"#,
        s("ory_at_"),
        s("ory_rt_")
    );
    let error =
        parse_token_response(now, StatusCode::OK, &HeaderMap::new(), body.as_bytes()).unwrap_err();
    display_clean!(error);
    display_clean!(
        ApiKey::parse(&s("")).unwrap_err(),
        parse_access_token(&s("Bearer ")).unwrap_err()
    );
    let crate::Classification::Failure(api_error) = classify(
        StatusCode::UNAUTHORIZED,
        &HeaderMap::new(),
        br#"{"errors":[{"code":"unauthorized"}]}"#,
    ) else {
        panic!()
    };
    display_clean!(api_error);

    // The lifecycle and everything it hands out.
    let config = LifecycleConfig::default();
    let mut life = TokenLifecycle::new(sandbox, client, config);
    life.handle_tokens(Some(tokens));
    let access = life.poll_access(now);
    debug_clean!(life, access, life.status(now));
    let Access::Refresh(mut attempt) = access else {
        panic!("a refresh is due")
    };
    let Access::Ready(ready) = life.poll_access(now) else {
        panic!("the current token serves meanwhile")
    };
    debug_clean!(attempt, ready, crate::call::Credential::from(ready));
    let step = attempt.start(now);
    assert!(matches!(step, AttemptStep::Lock { read: true }));
    debug_clean!(step);
    let step = attempt.handle_stored(now, Stored::Tokens(life.tokens().unwrap().clone()));
    debug_clean!(step);
    let _ = attempt.handle_persisted();
    let step = attempt.handle_response(StatusCode::OK, &HeaderMap::new(), body.as_bytes());
    assert!(matches!(step, AttemptStep::Persist(_)));
    debug_clean!(step);
    let AttemptStep::Done(_, outcome) = attempt.handle_persisted() else {
        panic!()
    };
    assert!(matches!(outcome, RefreshOutcome::Rescued(..)));
    debug_clean!(outcome);
    if let RefreshOutcome::Rescued(_, error) = &outcome {
        display_clean!(error);
    }
    let failure = NetworkFailure {
        stage: SendStage::MaybeSent,
        description: "timeout".into(),
    };
    debug_clean!(failure);
}
