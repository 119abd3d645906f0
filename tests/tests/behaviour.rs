//! Every behaviour the two transports share, written once and run against each.
//!
//! A scenario is a function taking the [`Kind`](qonto_e2e::driver::Kind) of transport;
//! `scenarios!` makes one `#[test]` of it per transport, in modules named after them, so a
//! failure names the transport (`oauth::ureq::…`, `oauth::reqwest::…`). Everything runs over
//! real loopback sockets: against `qonto-mock`, or against a raw server where the bytes on the
//! wire matter or the server must misbehave in ways the mock does not.
//!
//! Async-only behaviours (a cancelled caller, the size of a future, the blocking-store
//! adapter) stay in `crates/qonto-reqwest/tests/`.

/// One `#[test]` per scenario and transport: `mod ureq` and `mod reqwest`, each calling the
/// scenario of the enclosing module with its transport.
macro_rules! scenarios {
    ($($name:ident),+ $(,)?) => {
        mod ureq {
            $(
                #[test]
                fn $name() {
                    super::$name(::qonto_e2e::driver::Kind::Ureq);
                }
            )+
        }

        mod reqwest {
            $(
                #[test]
                fn $name() {
                    super::$name(::qonto_e2e::driver::Kind::Reqwest);
                }
            )+
        }
    };
}

#[path = "behaviour/api.rs"]
mod api;
#[path = "behaviour/oauth.rs"]
mod oauth;
#[path = "behaviour/sca.rs"]
mod sca;
#[path = "behaviour/store.rs"]
mod store;
#[path = "behaviour/support.rs"]
mod support;
#[path = "behaviour/wire.rs"]
mod wire;
