//! HTTPS with a real TLS handshake, through whichever TLS stack this build's features choose,
//! against a local server whose certificate authority the test generated. `cargo xtask
//! features` runs this file for every TLS feature (and for none).

use qonto_reqwest::qonto_auth_core::credentials::ApiKey;
use qonto_reqwest::qonto_auth_core::http::Method;
use qonto_reqwest::tls::TlsRoots;
use qonto_reqwest::{ApiResponse, Client, Error, TransportConfig};
use qonto_tls_testkit::TlsServer;

async fn get(server: &TlsServer, roots: TlsRoots) -> Result<ApiResponse, Error> {
    let key = ApiKey::parse("org-1:tls-secret").unwrap();
    let client = Client::builder(server.environment())
        .transport(TransportConfig::default().with_tls_roots(roots))
        .api_key(key)?;
    client.send(Method::GET, "/v2/organization", None).await
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
#[tokio::test]
async fn a_custom_authority_is_trusted() {
    let server = TlsServer::start().unwrap();
    let bundle = qonto_reqwest::tls::CaBundle::from_pem(server.ca_pem().as_bytes()).unwrap();
    let answer = get(&server, TlsRoots::Custom(bundle)).await.unwrap();
    assert_eq!((answer.status.as_u16(), server.seen().handshakes), (200, 1));
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
#[tokio::test]
async fn mozilla_and_system_roots_refuse_an_unknown_authority_in_the_handshake() {
    for roots in [TlsRoots::WebPki, TlsRoots::Platform] {
        let server = TlsServer::start().unwrap();
        let error = get(&server, roots.clone()).await.unwrap_err();
        let text = error.to_string();
        assert!(
            error.code() == "network_error" && text.contains("ertificate"),
            "{text}"
        );
        let seen = server.wait_until(|s| s.failed_handshakes > 0);
        assert_eq!((seen.failed_handshakes, seen.answered), (1, 0), "{roots:?}");
    }
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
#[tokio::test]
async fn without_a_tls_feature_https_is_an_error_not_a_panic() {
    let server = TlsServer::start().unwrap();
    let error = get(&server, TlsRoots::WebPki).await.unwrap_err();
    assert_eq!(error.code(), "network_error", "{error}");
    assert_eq!(
        server.seen(),
        Default::default(),
        "nothing reached the server"
    );
}
