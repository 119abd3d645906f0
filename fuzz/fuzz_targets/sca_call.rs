//! A write's call machine, fed any 428 body and then any sequence of answers (session polls
//! and the replay), never panics, never loops, never polls faster than once a second, and ends
//! by the session's 15 minutes.
//!
//! Layout: answers separated by `0xFF`; the first is the 428's body, each later one an answer
//! in the `common::response` layout.
#![no_main]

mod common;

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use qonto_auth_core::call::{CallSpec, CallStep, Credential, SendFailure};
use qonto_auth_core::environment::Endpoints;
use qonto_auth_core::http::{HeaderValue, Method, Response};
use qonto_auth_core::lifecycle::UnauthorizedAdvice;
use qonto_auth_core::{Call, Environment, EnvironmentKind, Timestamp};

const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

fn answer(status: u16, headers: qonto_auth_core::http::HeaderMap, body: &[u8]) -> Result<Response<Vec<u8>>, SendFailure> {
    let mut response = Response::new(body.to_vec());
    *response.status_mut() = qonto_auth_core::http::StatusCode::from_u16(status).expect("valid");
    *response.headers_mut() = headers;
    Ok(response)
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xff);
    let challenge = parts.next().unwrap_or_default();
    let endpoints = Endpoints::new("http://127.0.0.1:9", "http://127.0.0.1:9").expect("valid");
    let environment = Environment::new(EnvironmentKind::Production, None, endpoints).expect("valid");
    let spec = CallSpec::new(Method::POST, "/v2/sepa/transfers").json_body(b"{}".to_vec());
    let mut call = Call::new(&environment, spec).expect("a valid call");
    let credential = Credential {
        header: HeaderValue::from_static("org-1:secret"),
        fingerprint: None,
    };
    let deadline = T0 + Duration::from_secs(15 * 60);
    let (mut now, mut sent, mut steps) = (T0, 0_u32, 0_u32);
    let mut step = call.start();
    loop {
        steps += 1;
        assert!(steps < 10_000, "the call does not end");
        step = match step {
            CallStep::Authorize => call.handle_credential(Ok(credential.clone())),
            CallStep::Send(_) => {
                sent += 1;
                let answer = if sent == 1 {
                    answer(428, Default::default(), challenge)
                } else {
                    match parts.next().and_then(common::response) {
                        Some(r) => answer(r.status.as_u16(), r.headers, r.body),
                        None => answer(200, Default::default(), br#"{"result":"waiting"}"#),
                    }
                };
                call.handle_sent(now, answer)
            }
            CallStep::Sca(challenge) => {
                assert!(challenge.deadline <= deadline);
                call.handle_sca_wait(now)
            }
            CallStep::Sleep(until) => {
                assert!(until > now, "a wait that does not move time");
                now = until;
                call.handle_timeout(now)
            }
            CallStep::Unauthorized(_) => call.handle_advice(UnauthorizedAdvice::GiveUp(None)),
            CallStep::Done(result) => {
                assert!(now <= deadline, "ended after the session's deadline");
                if let Err(error) = result {
                    let _ = (error.to_string(), format!("{error:?}"));
                }
                return;
            }
        };
    }
});
