//! The only place that touches reqwest: requests out, responses in.

use std::error::Error as _;

use http::{Request, Response};
use qonto_auth_core::call::SendFailure;
use qonto_auth_core::header::ExactCase;
use qonto_auth_core::http;
use qonto_auth_core::lifecycle::{NetworkFailure, SendStage};

use qonto_transport::{Clock, Error, TlsRoots, TransportConfig};

/// What the I/O of a client needs; cheap to clone into an attempt's task.
#[derive(Clone)]
pub(crate) struct Io {
    pub(crate) http: reqwest::Client,
    pub(crate) max_body: u64,
    pub(crate) clock: Clock,
}

impl Io {
    pub(crate) fn new(http: reqwest::Client, max_body: u64, clock: Clock) -> Self {
        Self {
            http,
            max_body,
            clock,
        }
    }

    pub(crate) async fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, SendFailure> {
        let answer = execute(&self.http, self.max_body, request).await;
        qonto_transport::trace::answered(&answer);
        answer
    }
}

impl crate::ClientBuilder {
    /// Lets `configure` change reqwest's client builder (a proxy, a local address, DNS, pool
    /// settings …) before the client is built.
    ///
    /// The settings this crate relies on are applied again afterwards, so the hook cannot
    /// undo them: HTTP/1.1 only with title-case header names (the staging header's casing),
    /// no redirects, the timeouts and user agent of the [`TransportConfig`], and TLS as the
    /// crate features and [`TransportConfig::tls_roots`] choose (set root certificates
    /// there, not in the hook). The body cap is enforced when reading.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// # let key = qonto_reqwest::qonto_auth_core::credentials::ApiKey::parse("login:secret")?;
    /// let proxy = reqwest::Proxy::https("http://proxy.internal:3128")?;
    /// let client = qonto_reqwest::Client::builder(qonto_reqwest::qonto_auth_core::Environment::production())
    ///     .configure_http_client(move |builder| builder.proxy(proxy.clone()))
    ///     .api_key(key)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn configure_http_client(
        mut self,
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.settings.transport.set_http_hook(configure);
        self
    }
}

/// A reqwest client configured for Qonto: HTTP/1.1 only with title-case header names (so
/// `X-Qonto-Staging-Token` keeps its documented casing), no redirects, timeouts always set,
/// applied after the user's hook.
pub(crate) fn http_client(config: &TransportConfig) -> Result<reqwest::Client, Error> {
    let builder = config
        .apply_http_hook(reqwest::Client::builder())
        .http1_only()
        .http1_title_case_headers()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .user_agent(config.user_agent.as_str());
    tls(builder, &config.tls_roots)?.build().map_err(|e| {
        setup_error(format!(
            "could not set up the HTTP client: {}",
            describe(&e)
        ))
    })
}

/// A client that cannot be built: nothing was sent.
fn setup_error(description: String) -> Error {
    Error::Network(NetworkFailure {
        stage: SendStage::NotSent,
        description,
    })
}

/// rustls with the ring provider and the roots [`TlsRoots`] names: Mozilla's (webpki-roots),
/// the platform verifier, or a custom bundle. Chosen whenever the `rustls` feature is on, so
/// enabling `native-tls` as well changes nothing.
#[cfg(feature = "rustls")]
fn tls(builder: reqwest::ClientBuilder, roots: &TlsRoots) -> Result<reqwest::ClientBuilder, Error> {
    use std::sync::Arc;

    use rustls::RootCertStore;
    use rustls_platform_verifier::BuilderVerifierExt;

    let tls_error = |e: rustls::Error| setup_error(format!("could not set up TLS: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let verified = match roots {
        TlsRoots::Platform => versions.with_platform_verifier().map_err(tls_error)?,
        TlsRoots::Custom(bundle) => {
            let mut store = RootCertStore::empty();
            for der in bundle.certificates() {
                store.add(der.to_vec().into()).map_err(tls_error)?;
            }
            versions.with_root_certificates(store)
        }
        // `TlsRoots` may grow: anything else is the default, Mozilla's roots.
        _ => versions.with_root_certificates(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
    };
    let mut config = verified.with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(builder.tls_backend_preconfigured(config))
}

/// The platform's TLS library, with the system's roots, Mozilla's (webpki-root-certs) or a
/// custom bundle.
#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
fn tls(builder: reqwest::ClientBuilder, roots: &TlsRoots) -> Result<reqwest::ClientBuilder, Error> {
    let certificate = |der: &[u8]| {
        reqwest::Certificate::from_der(der)
            .map_err(|e| setup_error(format!("could not read a root certificate: {e}")))
    };
    let builder = builder.tls_backend_native();
    Ok(match roots {
        TlsRoots::Platform => builder,
        TlsRoots::Custom(bundle) => builder.tls_certs_only(
            bundle
                .certificates()
                .map(certificate)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        _ => builder.tls_certs_only(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| certificate(der))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    })
}

/// Without a TLS feature reqwest refuses `https` URLs itself.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn tls(
    builder: reqwest::ClientBuilder,
    _roots: &TlsRoots,
) -> Result<reqwest::ClientBuilder, Error> {
    Ok(builder)
}

/// Sends a request described by the core and reads the whole response, never more than
/// `max_body` bytes of body. Headers the core marks [`ExactCase`] keep their casing because
/// every name is written in title case on HTTP/1.1.
pub(crate) async fn execute(
    client: &reqwest::Client,
    max_body: u64,
    mut request: Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, SendFailure> {
    request.extensions_mut().remove::<ExactCase>();
    let request = reqwest::Request::try_from(request).map_err(from_reqwest)?;
    let mut response = client.execute(request).await.map_err(from_reqwest)?;
    if response.content_length().is_some_and(|n| n > max_body) {
        return Err(SendFailure::TooLarge(max_body));
    }
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(from_reqwest)? {
        let total = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
        if total > max_body {
            return Err(SendFailure::TooLarge(max_body));
        }
        body.extend_from_slice(&chunk);
    }
    let mut answer = Response::new(body);
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    Ok(answer)
}

/// Sorts a client error by whether the request may have reached the server.
fn from_reqwest(error: reqwest::Error) -> SendFailure {
    // Connect failures (refused, DNS, TLS handshake, connect timeout) happen before any
    // byte of the request is written; everything else may have reached the server.
    let stage = if error.is_connect() || error.is_builder() {
        SendStage::NotSent
    } else {
        SendStage::MaybeSent
    };
    SendFailure::Failed(NetworkFailure {
        stage,
        description: describe(&error),
    })
}

/// The error and its causes on one line. URLs carry no secret (credentials travel in
/// headers and bodies only), so they are kept.
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        format!("timed out: {error}")
    } else {
        error.to_string()
    };
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
