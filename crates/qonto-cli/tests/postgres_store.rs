//! `--token-store postgres://…` and `--connection ID`: an operator's commands against one
//! organization's consent in the PostgreSQL table an application's replicas share (a real,
//! throwaway PostgreSQL cluster; the test fails when PostgreSQL is not installed).
#![cfg(feature = "postgres")]

mod common;

use std::path::Path;
use std::process::Command;

use qonto_auth_core::secret::{AccessToken, RefreshToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_mock::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MockConfig, MockServer};
use qonto_pg_testkit::PgCluster;
use qonto_store::TokenStore;
use qonto_store_postgres::{ConnectionId, Keyring, PgConfig, PgTokens, SealingKey};

const KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

struct Setup {
    cluster: PgCluster,
    mock: MockServer,
    tokens: PgTokens,
    dir: std::path::PathBuf,
}

fn setup(name: &str, keys: Option<Keyring>) -> Setup {
    let cluster = PgCluster::start().expect("a throwaway PostgreSQL cluster");
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let mut config = PgConfig::from_url(&cluster.url()).unwrap();
    if let Some(keys) = keys {
        config = config.with_keyring(keys);
    }
    let tokens = PgTokens::new(config).unwrap();
    tokens.migrate_blocking().unwrap();
    for org in ["org-1", "org-2"] {
        let issued = mock.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
        let now = Timestamp::from_system_time(mock.clock().now());
        let set = TokenSet {
            access_token: AccessToken::new(issued.access_token),
            expires_at: now + std::time::Duration::from_secs(issued.expires_in),
            refresh_token: issued.refresh_token.map(RefreshToken::new),
            refresh_issued_at: Some(now),
            scope: Some(issued.scope),
            refresh_pending_since: None,
        };
        let store = tokens.store(ConnectionId::new(org).unwrap());
        TokenStore::lock(&store).unwrap().save(&set).unwrap();
    }
    let dir = std::env::temp_dir().join(format!("qonto-cli-pg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Setup {
        cluster,
        mock,
        tokens,
        dir,
    }
}

/// `qonto` aimed at the mock, with the OAuth client and a clean environment.
fn qonto(setup: &Setup, dir: &Path) -> Command {
    let mut command = common::qonto(&setup.mock, dir);
    command
        .env("QONTO_CLIENT_ID", DEMO_CLIENT_ID)
        .env("QONTO_CLIENT_SECRET", DEMO_CLIENT_SECRET);
    command
}

fn run(command: &mut Command) -> (i32, serde_json::Value, String) {
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    let text = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), json, text)
}

fn row(setup: &Setup, org: &str) -> String {
    let sql = format!(
        "SELECT coalesce(encode(tokens, 'hex'), '') FROM qonto_tokens WHERE connection_id = '{org}'"
    );
    setup.cluster.psql("postgres", &sql).unwrap()
}

#[test]
fn status_request_refresh_and_logout_act_on_one_organizations_consent() {
    let s = setup("operator", None);
    let url = s.cluster.url();
    let on_org1 = |args: &[&str]| {
        let mut command = qonto(&s, &s.dir);
        command.args([
            "--token-store",
            &url,
            "--connection",
            "org-1",
            "--output",
            "json",
        ]);
        command.args(args);
        run(&mut command)
    };
    let (code, status, text) = on_org1(&["auth", "status"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(status["token_storage"], "postgres", "{text}");
    assert!(
        status["token_store"].as_str().unwrap().contains("org-1"),
        "{text}"
    );
    assert_eq!(status["has_refresh_token"], true);

    // The variables work as the flags do.
    let mut request = qonto(&s, &s.dir);
    request
        .env("QONTO_TOKEN_STORE", &url)
        .env("QONTO_CONNECTION_ID", "org-1")
        .args(["request", "GET", "/v2/organization"]);
    let (code, _, text) = run(&mut request);
    assert_eq!(code, 0, "{text}");
    assert_eq!(s.mock.stats().requests("/v2/organization", 200), 1);

    let (org1, org2) = (row(&s, "org-1"), row(&s, "org-2"));
    let (code, _, text) = on_org1(&["auth", "refresh"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(s.mock.stats().token_calls("refresh_token"), 1);
    assert_ne!(row(&s, "org-1"), org1, "the rotated tokens are stored");
    assert_eq!(
        row(&s, "org-2"),
        org2,
        "another organization is not touched"
    );

    let (code, _, text) = on_org1(&["auth", "logout"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(row(&s, "org-1"), "");
    assert_eq!(row(&s, "org-2"), org2);
    // Nothing was written to the profile's own store.
    assert!(!s.dir.join("tokens").exists());
    drop(s.tokens);
}

#[test]
fn settings_keys_and_an_unreachable_database_are_typed_failures() {
    let ring = Keyring::new(SealingKey::from_base64("k1", KEY).unwrap());
    let s = setup("failures", Some(ring));
    let url = s.cluster.url();
    let status = |extra: &[(&str, &str)], args: &[&str]| {
        let mut command = qonto(&s, &s.dir);
        command.envs(extra.iter().copied());
        command
            .args(args)
            .args(["--output", "json", "auth", "status"]);
        run(&mut command)
    };
    let code_of = |(exit, json, text): (i32, serde_json::Value, String)| {
        let code = json["error"]["code"]
            .as_str()
            .map_or_else(|| text.clone(), str::to_owned);
        (exit, code)
    };
    let with_url = ["--token-store", url.as_str()];
    assert_eq!(
        code_of(status(&[], &with_url)),
        (4, "connection_id_invalid".to_owned())
    );
    assert_eq!(
        code_of(status(
            &[],
            &["--token-store", "tokens.json", "--connection", "org-1"]
        )),
        (4, "token_store_config_invalid".to_owned())
    );
    let org1 = ["--token-store", url.as_str(), "--connection", "org-1"];
    assert_eq!(
        code_of(status(&[], &org1)),
        (4, "token_store_key_missing".to_owned())
    );
    let wrong = [(
        "QONTO_TOKEN_STORE_KEYS",
        "k1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )];
    assert_eq!(
        code_of(status(&wrong, &org1)),
        (4, "token_store_key_rejected".to_owned())
    );
    let right = format!("k1={KEY}");
    let (exit, json, text) = status(&[("QONTO_TOKEN_STORE_KEYS", &right)], &org1);
    assert_eq!(exit, 0, "{text}");
    assert_eq!(json["has_refresh_token"], true);
    assert!(!text.contains(KEY));

    s.cluster.stop().unwrap();
    let (exit, _, text) = status(&[("QONTO_TOKEN_STORE_KEYS", &right)], &org1);
    assert_eq!(exit, 8, "{text}");
    assert!(
        text.contains("token_store_error") && text.contains("127.0.0.1"),
        "{text}"
    );
}
