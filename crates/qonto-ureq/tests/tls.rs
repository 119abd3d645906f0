//! HTTPS with a real TLS handshake, through whichever TLS stack this build's features choose,
//! against a local server whose certificate authority the test generated. `cargo xtask
//! features` runs this file for every TLS feature (and for none).

use qonto_tls_testkit::TlsServer;
use qonto_ureq::qonto_auth_core::credentials::ApiKey;
use qonto_ureq::qonto_auth_core::http::Method;
use qonto_ureq::tls::TlsRoots;
use qonto_ureq::{ApiResponse, Client, Error, TransportConfig};

fn get(server: &TlsServer, roots: TlsRoots) -> Result<ApiResponse, Error> {
    let key = ApiKey::parse("org-1:tls-secret").unwrap();
    let config = TransportConfig::default().with_tls_roots(roots);
    let client = Client::builder(server.environment())
        .transport(config)
        .api_key(key)?;
    client.send(Method::GET, "/v2/organization", None)
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
#[test]
fn a_custom_authority_is_trusted() {
    // With only `native-tls`, this request used to panic inside ureq: the native-tls provider
    // was compiled in but never selected.
    let server = TlsServer::start().unwrap();
    let bundle = qonto_ureq::tls::CaBundle::from_pem(server.ca_pem().as_bytes()).unwrap();
    let response = get(&server, TlsRoots::Custom(bundle)).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(server.seen().handshakes, 1);
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
#[test]
fn mozilla_and_system_roots_refuse_an_unknown_authority_in_the_handshake() {
    for roots in [TlsRoots::WebPki, TlsRoots::Platform] {
        let server = TlsServer::start().unwrap();
        let error = get(&server, roots.clone()).unwrap_err();
        assert_eq!(error.code(), "network_error", "{roots:?}: {error}");
        assert!(
            error.to_string().contains("ertificate"),
            "{roots:?}: {error}"
        );
        let seen = server.wait_until(|s| s.failed_handshakes > 0);
        assert_eq!((seen.failed_handshakes, seen.answered), (1, 0), "{roots:?}");
    }
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
#[test]
fn without_a_tls_feature_https_is_an_error_not_a_panic() {
    let server = TlsServer::start().unwrap();
    let error = get(&server, TlsRoots::WebPki).unwrap_err();
    assert_eq!(error.code(), "network_error", "{error}");
    assert!(error.to_string().contains("TLS feature"), "{error}");
}
