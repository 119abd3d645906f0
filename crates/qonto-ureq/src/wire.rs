//! The only place that touches ureq: requests out, responses in.

use std::sync::OnceLock;

use http::{Extensions, Request, Response};
use qonto_auth_core::call::SendFailure;
use qonto_auth_core::facts::STAGING_TOKEN_HEADER;
use qonto_auth_core::header::ExactCase;
use qonto_auth_core::http;
use qonto_auth_core::lifecycle::{NetworkFailure, SendStage};
use ureq::Agent;

use qonto_transport::{Clock, TlsRoots, TransportConfig};

/// What the I/O of a client needs.
pub(crate) struct Io {
    pub(crate) agent: Agent,
    pub(crate) max_body: u64,
    pub(crate) clock: Clock,
}

impl Io {
    pub(crate) fn new(agent: Agent, max_body: u64, clock: Clock) -> Self {
        Self {
            agent,
            max_body,
            clock,
        }
    }

    pub(crate) fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, SendFailure> {
        let answer = execute(&self.agent, self.max_body, request);
        qonto_transport::trace::answered(&answer);
        answer
    }
}

/// ureq's agent configuration builder, which the user's hook receives.
type AgentConfig = ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;

impl crate::ClientBuilder {
    /// Lets `configure` change ureq's agent configuration (a proxy, a local address, pool
    /// sizes …) before the client is built.
    ///
    /// The settings this crate relies on are applied again afterwards, so the hook cannot
    /// undo them: no redirects, statuses as data, the timeouts and user agent of the
    /// [`TransportConfig`], and TLS as the crate features and
    /// [`TransportConfig::tls_roots`] choose (set root certificates there, not in the hook).
    /// The body cap is enforced when reading.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// # let key = qonto_ureq::qonto_auth_core::credentials::ApiKey::parse("login:secret")?;
    /// let proxy = ureq::Proxy::new("http://proxy.internal:3128")?;
    /// let client = qonto_ureq::Client::builder(qonto_ureq::qonto_auth_core::Environment::production())
    ///     .configure_http_client(move |config| config.proxy(Some(proxy.clone())))
    ///     .api_key(key)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn configure_http_client(
        mut self,
        configure: impl Fn(
            ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
        ) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.settings.transport.set_http_hook(configure);
        self
    }
}

/// A ureq agent configured for Qonto: no redirects, statuses as data, timeouts always set.
///
/// The total time is bounded phase by phase (sending, waiting for the answer's head, reading
/// its body, each at most `timeout`) rather than with ureq's global timer: in ureq 3.5 the
/// global and per-call timeouts add about a millisecond to every request (measured by
/// `cargo xtask bench`), the per-phase ones almost nothing.
pub(crate) fn agent(config: &TransportConfig) -> Agent {
    let builder = config.apply_http_hook(Agent::config_builder());
    tls(builder, &config.tls_roots)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .timeout_connect(Some(config.connect_timeout))
        .timeout_send_request(Some(config.timeout))
        .timeout_recv_response(Some(config.timeout))
        .timeout_recv_body(Some(config.timeout))
        .user_agent(config.user_agent.as_str())
        .build()
        .new_agent()
}

/// The TLS provider the features choose: rustls whenever the `rustls` feature is on, else
/// native-tls (ureq never picks native-tls on its own: without this, a build with only
/// `native-tls` panicked on its first HTTPS request).
#[cfg(feature = "rustls")]
const PROVIDER: ureq::tls::TlsProvider = ureq::tls::TlsProvider::Rustls;
#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
const PROVIDER: ureq::tls::TlsProvider = ureq::tls::TlsProvider::NativeTls;

/// The provider and the roots of trust of [`TlsRoots`].
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn tls(builder: AgentConfig, roots: &TlsRoots) -> AgentConfig {
    use std::sync::Arc;
    use ureq::tls::{Certificate, RootCerts, TlsConfig};

    let roots = match roots {
        TlsRoots::Platform => RootCerts::PlatformVerifier,
        TlsRoots::Custom(bundle) => RootCerts::Specific(Arc::new(
            bundle
                .certificates()
                .map(|der| Certificate::from_der(der).to_owned())
                .collect(),
        )),
        // `TlsRoots` may grow: anything else is the default, Mozilla's roots.
        _ => RootCerts::WebPki,
    };
    builder.tls_config(
        TlsConfig::builder()
            .provider(PROVIDER)
            .root_certs(roots)
            .build(),
    )
}

/// Without a TLS feature there is nothing to choose: HTTPS requests are refused in
/// [`execute`].
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn tls(builder: AgentConfig, _roots: &TlsRoots) -> AgentConfig {
    builder
}

/// Sends a request described by the core and reads the whole response.
///
/// The request goes to ureq as built: its URI and headers are not copied, and a method that
/// carries no body goes without one (no `content-length: 0`). Headers the core marks
/// [`ExactCase`] are written with their documented casing.
pub(crate) fn execute(
    agent: &Agent,
    max_body: u64,
    request: Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, SendFailure> {
    let (mut parts, body) = request.into_parts();
    if !cfg!(any(feature = "rustls", feature = "native-tls"))
        && parts.uri.scheme() == Some(&http::uri::Scheme::HTTPS)
    {
        return Err(SendFailure::Failed(NetworkFailure {
            stage: SendStage::NotSent,
            description: "HTTPS needs a TLS feature of qonto-ureq (rustls or native-tls)".into(),
        }));
    }
    // The methods the API uses; anything else is refused before a connection is opened.
    let bodiless = match parts.method.as_str() {
        "GET" | "HEAD" | "DELETE" => body.is_empty(),
        "POST" | "PUT" | "PATCH" => false,
        other => {
            return Err(SendFailure::Failed(NetworkFailure {
                stage: SendStage::NotSent,
                description: format!("the {other} method is not supported"),
            }));
        }
    };
    if parts.extensions.remove::<ExactCase>().is_some() {
        parts.extensions.extend(staging_casing(agent).clone());
    }
    let result = if bodiless {
        agent.run(Request::from_parts(parts, ()))
    } else {
        agent.run(Request::from_parts(parts, body))
    };
    let (head, mut body) = result.map_err(from_ureq)?.into_parts();
    let body = body
        .with_config()
        .limit(max_body)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(limit) => SendFailure::TooLarge(limit),
            other => from_ureq(other),
        })?;
    Ok(Response::from_parts(head, body))
}

/// Request extensions that make ureq write the staging token header with its documented
/// casing, `X-Qonto-Staging-Token`, instead of the lowercase `http` name.
///
/// ureq records a header's casing in the extensions of a request built with `header_raw`;
/// they are recorded once, from a request that is never sent, and added to every request the
/// core marks [`ExactCase::STAGING`] (the only exact-case header there is). The raw-byte tests
/// of the sandbox check the casing on the wire.
fn staging_casing(agent: &Agent) -> &'static Extensions {
    static CASING: OnceLock<Extensions> = OnceLock::new();
    CASING.get_or_init(|| {
        agent
            .get("http://localhost/")
            .header_raw(STAGING_TOKEN_HEADER, b"-")
            .extensions_ref()
            .cloned()
            .unwrap_or_default()
    })
}

/// Sorts a client error by whether the request may have reached the server.
///
/// ureq 3 reports most connection failures as I/O errors: refused, unreachable and failed
/// lookups are recognised by their kind (or, for lookups, their message); TLS handshake
/// failures happen before any request byte is written. Anything else may have been sent.
fn from_ureq(error: ureq::Error) -> SendFailure {
    use std::io::ErrorKind;
    use ureq::Timeout;
    let not_sent = match &error {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::BadUri(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => true,
        #[cfg(feature = "rustls")]
        ureq::Error::Rustls(_) => true,
        #[cfg(feature = "native-tls")]
        ureq::Error::NativeTls(_) => true,
        ureq::Error::Io(io) => {
            matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
                    | ErrorKind::NetworkDown
                    | ErrorKind::AddrNotAvailable
            ) || io.to_string().contains("failed to lookup address")
        }
        _ => false,
    };
    let stage = if not_sent {
        SendStage::NotSent
    } else {
        SendStage::MaybeSent
    };
    SendFailure::Failed(NetworkFailure {
        stage,
        description: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_agent() -> Agent {
        agent(&TransportConfig::default())
    }

    #[test]
    fn the_recorded_casing_is_the_only_extension_added_to_sandbox_requests() {
        // Anything else ureq might record on a builder would be applied to every request.
        assert_eq!(staging_casing(&test_agent()).len(), 1);
    }

    #[test]
    fn methods_the_api_does_not_use_are_refused_before_connecting() {
        for method in ["OPTIONS", "TRACE", "CONNECT", "PROPFIND"] {
            let request = Request::builder()
                .method(method)
                .uri("http://127.0.0.1:9/v2/organization")
                .body(Vec::new())
                .unwrap();
            let Err(SendFailure::Failed(failure)) = execute(&test_agent(), 1024, request) else {
                panic!("{method} was not refused");
            };
            assert_eq!(failure.stage, SendStage::NotSent, "{method}");
            assert!(failure.description.contains("not supported"), "{method}");
        }
    }
}
