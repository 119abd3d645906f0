//! `qonto mock serve`: the local mock of Qonto, for users' own integration tests.

use qonto_auth_core::Code;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use qonto_mock::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_LOGIN, DEMO_REDIRECT_URI, DEMO_SECRET, Gate,
    MockConfig, MockServer, PORTAL_LOGIN_PATH, RateLimit, RetryAfter, ScaDecision, ScaSetup,
};
use serde_json::json;

use crate::cli::{GateArg, MockArgs, Output, ScaDecisionArg};
use crate::failure::Failure;
use crate::output::print_json;

/// The mock configuration for the command-line options.
fn config(args: &MockArgs) -> MockConfig {
    let mut config = if args.sandbox {
        MockConfig::sandbox(args.expected_staging_token.clone())
    } else {
        MockConfig::default()
    };
    config = config
        .with_bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))
        .with_api_gate(match args.gate {
            GateArg::Html => Gate::HtmlPage,
            GateArg::Redirect => Gate::RedirectToOneLogin,
        })
        .with_strict_header_case(args.strict_header_case)
        .with_auto_approve(args.auto_approve);
    if args.qonto_rate_limits {
        config = config.with_qonto_rate_limits();
    }
    if let Some(max_requests) = args.rate_limit {
        config = config.with_rate_limit(RateLimit {
            max_requests,
            window: Duration::from_secs(10),
        });
    }
    if let Some(secs) = args.retry_after {
        config = config.with_retry_after(RetryAfter::Seconds(secs));
    }
    if let Some(secs) = args.access_token_ttl {
        config = config.with_access_token_lifetime(Duration::from_secs(secs));
    }
    config.sca = ScaSetup {
        device_paired: !args.sca_no_device,
        auto_decision: args.sca_auto.map(|decision| match decision {
            ScaDecisionArg::Allow => ScaDecision::Allow,
            ScaDecisionArg::Deny => ScaDecision::Deny,
        }),
        ..ScaSetup::default()
    };
    config
}

/// Serves until the process is interrupted.
pub(crate) fn serve(args: &MockArgs, output: Output) -> Result<(), Failure> {
    let server = MockServer::start(config(args)).map_err(|e| {
        Failure::configuration(
            Code::MockBindFailed,
            format!("cannot start the mock on port {}: {e}", args.port),
            "pick another --port",
        )
    })?;
    let url = server.url();
    match output {
        Output::Json => print_json(&json!({
            "url": url,
            "mode": if args.sandbox { "sandbox" } else { "production" },
            "api_key": format!("{DEMO_LOGIN}:{DEMO_SECRET}"),
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "redirect_uri": DEMO_REDIRECT_URI,
            "staging_token": args.sandbox.then_some(&args.expected_staging_token),
            "portal_login_url": args.sandbox.then(|| format!("{url}{PORTAL_LOGIN_PATH}")),
        })),
        Output::Text => {
            let mut out = anstream::stdout();
            let _ = writeln!(
                out,
                "qonto mock listening on {url} ({})",
                if args.sandbox {
                    "sandbox"
                } else {
                    "production"
                }
            );
            let _ = writeln!(
                out,
                "  export QONTO_API_BASE_URL={url} QONTO_OAUTH_BASE_URL={url}"
            );
            let _ = writeln!(out, "  demo API key:       {DEMO_LOGIN}:{DEMO_SECRET}");
            let _ = writeln!(
                out,
                "  demo OAuth client:  {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET} ({DEMO_REDIRECT_URI})"
            );
            if args.sandbox {
                let _ = writeln!(out, "  staging token:      {}", args.expected_staging_token);
                let _ = writeln!(
                    out,
                    "  browser login:      open {url}{PORTAL_LOGIN_PATH} before /oauth2/auth (the Developer Portal session)"
                );
            }
            let _ = writeln!(
                out,
                "  SCA:                POST {url}/v2/sepa/transfers asks for it; approve with POST {url}/_mock/sca/allow (or deny)"
            );
            let _ = writeln!(out, "press Ctrl-C to stop");
            let _ = out.flush();
        }
    }
    loop {
        std::thread::park();
    }
}
