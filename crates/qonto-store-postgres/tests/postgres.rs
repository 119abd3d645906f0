//! The PostgreSQL store against a real server: a throwaway cluster per test (initdb into a
//! temporary directory, started by `qonto-pg-testkit`, stopped when the test ends). A test
//! fails, never skips, when PostgreSQL is not installed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use qonto_auth_core::Code;
use qonto_e2e::{demo_client, environment, issued_tokens, mock_time};
use qonto_mock::{MockConfig, MockServer};
use qonto_pg_testkit::PgCluster;
use qonto_store::{AsyncTokenStore, KeyProblem, StoreError, TokenSet, TokenStore};
use qonto_store_postgres::{ConnectionId, Keyring, PgConfig, PgStore, PgTokens, SealingKey};
use qonto_ureq::Clock;

/// The environment variable that turns `holder_child_process` into a lock holder.
const HOLDER_URL: &str = "QONTO_PG_TEST_HOLDER_URL";

fn cluster() -> PgCluster {
    PgCluster::start().expect("a throwaway PostgreSQL cluster (is PostgreSQL installed?)")
}

fn pool(url: &str, configure: impl FnOnce(PgConfig) -> PgConfig) -> PgTokens {
    let tokens = PgTokens::new(configure(PgConfig::from_url(url).unwrap())).unwrap();
    tokens.migrate_blocking().unwrap();
    tokens
}

fn id(text: &str) -> ConnectionId {
    ConnectionId::new(text).unwrap()
}

fn save(store: &PgStore, tokens: &TokenSet) {
    TokenStore::lock(store).unwrap().save(tokens).unwrap();
}

/// The row's bytes, key id and version, read by psql (another session).
fn raw_row(cluster: &PgCluster, connection: &str) -> String {
    cluster
        .psql(
            "postgres",
            &format!(
                "SELECT encode(tokens, 'hex') || '|' || coalesce(key_id, '-') || '|' || version \
                 FROM qonto_tokens WHERE connection_id = '{connection}'"
            ),
        )
        .unwrap()
}

/// How many advisory locks are held, in any session.
fn held_locks(cluster: &PgCluster) -> u64 {
    let sql = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted";
    cluster.psql("postgres", sql).unwrap().parse().unwrap()
}

/// Polls `check` every 20 ms until it holds, for at most `limit`.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// A cluster, the mock, a pool, and the store of `connection` holding tokens from the mock.
fn seeded(connection: &str) -> (PgCluster, MockServer, PgTokens, Arc<PgStore>) {
    let cluster = cluster();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let pg = pool(&cluster.url(), |c| c);
    let store = Arc::new(pg.store(id(connection)));
    save(&store, &tokens(&mock));
    (cluster, mock, pg, store)
}

/// A blocking client on `store`, its clock following the mock's.
fn client(mock: &MockServer, store: Arc<PgStore>) -> Result<qonto_ureq::Client, qonto_ureq::Error> {
    qonto_ureq::Client::builder(environment(mock, None))
        .clock(Clock::custom(mock_time(mock)))
        .oauth(demo_client(), store)
}

fn tokens(mock: &MockServer) -> TokenSet {
    issued_tokens(mock)
}

#[test]
fn rows_are_kept_per_connection_id_and_migration_is_idempotent() {
    let cluster = cluster();
    let pg = pool(&cluster.url(), |c| c);
    pg.migrate_blocking().unwrap();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let (a, b) = (pg.store(id("org-a")), pg.store(id("org-b")));
    assert!(TokenStore::load(&a).unwrap().is_none());
    let first = tokens(&mock);
    save(&a, &first);
    assert!(TokenStore::load(&a).unwrap().unwrap().same_tokens(&first));
    assert!(TokenStore::load(&b).unwrap().is_none());
    let second = tokens(&mock);
    save(&b, &second);
    assert!(TokenStore::load(&b).unwrap().unwrap().same_tokens(&second));
    // A second save replaces the row and bumps its version.
    save(&a, &second);
    assert!(raw_row(&cluster, "org-a").ends_with("|-|2"));
    assert_eq!(
        pg.connection_ids_blocking().unwrap(),
        vec![id("org-a"), id("org-b")]
    );
    TokenStore::lock(&a).unwrap().clear().unwrap();
    assert!(TokenStore::load(&a).unwrap().is_none());
    assert!(TokenStore::is_shared(&a));
}

#[test]
fn a_missing_table_says_to_migrate() {
    let cluster = cluster();
    let pg = PgTokens::new(PgConfig::from_url(&cluster.url()).unwrap()).unwrap();
    let error = TokenStore::load(&pg.store(id("org-a"))).unwrap_err();
    assert!(error.to_string().contains("PgTokens::migrate"), "{error}");
}

#[tokio::test]
async fn the_async_face_reads_and_writes_the_same_rows() {
    let cluster = cluster();
    let pg = PgTokens::new(PgConfig::from_url(&cluster.url()).unwrap()).unwrap();
    pg.migrate().await.unwrap();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let store = pg.store(id("org-async"));
    let set = tokens(&mock);
    {
        let mut guard = AsyncTokenStore::lock(&store).await.unwrap();
        assert!(guard.load().await.unwrap().is_none());
        guard.save(&set).await.unwrap();
        assert!(guard.load().await.unwrap().unwrap().same_tokens(&set));
    }
    let loaded = AsyncTokenStore::load(&store).await.unwrap().unwrap();
    assert!(loaded.same_tokens(&set));
    assert_eq!(loaded.expires_at, set.expires_at);
    assert_eq!(loaded.refresh_issued_at, set.refresh_issued_at);
    assert_eq!(pg.connection_ids().await.unwrap(), vec![id("org-async")]);
}

#[test]
fn the_lock_is_exclusive_per_connection_id_and_times_out() {
    let cluster = cluster();
    let replica_a = pool(&cluster.url(), |c| c);
    let replica_b = pool(&cluster.url(), |c| {
        c.with_lock_timeout(Duration::from_millis(300))
    });
    let store_a = replica_a.store(id("org-1"));
    let held = TokenStore::lock(&store_a).unwrap();
    let started = Instant::now();
    let store_b = replica_b.store(id("org-1"));
    let Err(error) = TokenStore::lock(&store_b) else {
        panic!("the lock is held by replica A");
    };
    assert!(matches!(error, StoreError::LockTimeout { .. }), "{error}");
    assert_eq!(error.code(), Code::TokenStoreLockTimeout);
    assert!(error.to_string().contains("org-1"), "{error}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(replica_b.stats().lock_timeouts, 1);
    // Another connection id is not blocked.
    drop(TokenStore::lock(&replica_b.store(id("org-2"))).unwrap());
    // Released by dropping the guard: B gets it.
    drop(held);
    assert!(eventually(Duration::from_secs(10), || {
        TokenStore::lock(&store_b).is_ok()
    }));
    // Unlocked before going back to the pool: no pooled connection holds an advisory lock.
    assert!(eventually(Duration::from_secs(10), || {
        held_locks(&cluster) == 0
    }));
}

/// Not a test on its own: the child process of
/// `the_lock_is_released_when_its_holder_process_is_killed`, which sets the environment
/// variable. It takes the lock, says so, and waits to be killed.
#[test]
fn holder_child_process() {
    let Ok(url) = std::env::var(HOLDER_URL) else {
        return;
    };
    let pg = PgTokens::new(PgConfig::from_url(&url).unwrap()).unwrap();
    let store = pg.store(id("org-killed"));
    let _guard = TokenStore::lock(&store).unwrap();
    #[allow(clippy::print_stdout, reason = "the parent process reads this line")]
    {
        println!("LOCKED");
    }
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn the_lock_is_released_when_its_holder_process_is_killed() {
    let cluster = cluster();
    let replica = pool(&cluster.url(), |c| {
        c.with_lock_timeout(Duration::from_millis(200))
    });
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "holder_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HOLDER_URL, cluster.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.is_ok_and(|l| l.contains("LOCKED"))));
    let store = replica.store(id("org-killed"));
    assert!(matches!(
        TokenStore::lock(&store),
        Err(StoreError::LockTimeout { .. })
    ));
    child.kill().unwrap(); // SIGKILL: no destructor runs, the socket just closes.
    child.wait().unwrap();
    let patient = pool(&cluster.url(), |c| {
        c.with_lock_timeout(Duration::from_secs(10))
    });
    let started = Instant::now();
    drop(TokenStore::lock(&patient.store(id("org-killed"))).unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "released by PostgreSQL"
    );
}

#[test]
fn a_holder_whose_session_died_cannot_write_unguarded() {
    let cluster = cluster();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let replica_a = pool(&cluster.url(), |c| c);
    let replica_b = pool(&cluster.url(), |c| c);
    let store_a = replica_a.store(id("org-t"));
    save(&store_a, &tokens(&mock));
    let before = raw_row(&cluster, "org-t");
    let mut guard = TokenStore::lock(&store_a).unwrap();
    let killed = cluster
        .psql(
            "postgres",
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks \
             WHERE locktype = 'advisory' AND granted",
        )
        .unwrap();
    assert_eq!(killed, "1");
    // B takes the lock at once; A's save on its dead session fails instead of writing.
    drop(TokenStore::lock(&replica_b.store(id("org-t"))).unwrap());
    let error = guard.save(&tokens(&mock)).unwrap_err();
    assert!(
        matches!(error, StoreError::Io { action: "save", .. }),
        "{error}"
    );
    drop(guard);
    assert_eq!(raw_row(&cluster, "org-t"), before);
    // The pool replaces the dead connection.
    save(&store_a, &tokens(&mock));
}

#[test]
fn the_pending_mark_is_committed_before_the_token_request_is_sent() {
    let (cluster, mock, _pg, store) = seeded("org-p");
    let client = client(&mock, store).unwrap();
    mock.faults().token_delay(Duration::from_secs(3));
    let refreshing = std::thread::spawn(move || client.refresh_now());
    // While the token request waits at the mock: the mark is committed (seen by another
    // session) and the refresh lock is held.
    let pending = "SELECT count(*) FROM qonto_tokens WHERE connection_id = 'org-p' \
                   AND refresh_pending_since IS NOT NULL";
    assert!(eventually(Duration::from_secs(10), || {
        mock.stats().token_calls("refresh_token") == 1
    }));
    assert_eq!(cluster.psql("postgres", pending).unwrap(), "1");
    assert_eq!(held_locks(&cluster), 1);
    refreshing.join().unwrap().unwrap();
    // Then the rotated tokens, committed, without the mark; the lock released.
    assert_eq!(cluster.psql("postgres", pending).unwrap(), "0");
    assert!(raw_row(&cluster, "org-p").ends_with("|3"));
    assert!(eventually(Duration::from_secs(5), || {
        held_locks(&cluster) == 0
    }));
}

#[test]
fn replicas_share_one_refresh_and_adopt_each_others_tokens() {
    let cluster = cluster();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let pg = pool(&cluster.url(), |c| c);
            let store = Arc::new(pg.store(id("org-shared")));
            if TokenStore::load(&*store).unwrap().is_none() {
                save(&store, &tokens(&mock));
            }
            client(&mock, store).unwrap()
        })
        .collect();
    for client in &clients {
        client.organization().unwrap();
    }
    // Into every replica's refresh window at once.
    mock.clock().advance(Duration::from_secs(3_400));
    std::thread::scope(|s| {
        for client in &clients {
            s.spawn(|| client.organization().unwrap());
        }
    });
    assert_eq!(mock.stats().token_calls("refresh_token"), 1);
}

#[test]
fn a_corrupt_row_is_reported_and_left_untouched() {
    let (cluster, mock, _pg, store) = seeded("org-c");
    let client = qonto_ureq::Client::builder(environment(&mock, None))
        .clock(Clock::custom(mock_time(&mock)))
        .oauth(demo_client(), store.clone())
        .unwrap();
    cluster
        .psql(
            "postgres",
            "UPDATE qonto_tokens SET tokens = '\\x7b6e6f74' WHERE connection_id = 'org-c'",
        )
        .unwrap();
    let corrupt = raw_row(&cluster, "org-c");
    let error = TokenStore::load(&*store).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
    assert_eq!(error.code(), Code::TokenStoreUnreadable);
    assert!(error.to_string().contains("org-c"));
    // A refresh re-reads it under the lock, fails, and writes nothing.
    assert!(client.refresh_now().is_err());
    assert_eq!(raw_row(&cluster, "org-c"), corrupt);
    assert_eq!(mock.stats().token_calls("refresh_token"), 0);
    // A row from a newer version is refused the same way.
    cluster
        .psql("postgres", "UPDATE qonto_tokens SET format = 9")
        .unwrap();
    let error = TokenStore::load(&*store).unwrap_err();
    assert!(error.to_string().contains("format 9"), "{error}");
}

#[test]
fn sealed_rows_need_their_key_and_a_wrong_key_leaves_them_untouched() {
    let cluster = cluster();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let key = |id: &str, byte: u8| SealingKey::new(id, [byte; 32]).unwrap();
    let sealed_pg = pool(&cluster.url(), |c| {
        c.with_keyring(Keyring::new(key("k1", 1)))
    });
    let set = tokens(&mock);
    let refresh = set
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    save(&sealed_pg.store(id("org-s")), &set);
    let sealed = raw_row(&cluster, "org-s");
    assert!(sealed.contains("|k1|"));
    // A dump holds no usable token: neither the refresh token nor the access token in clear.
    let dump = cluster
        .psql("postgres", "SELECT tokens FROM qonto_tokens")
        .unwrap();
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    assert!(!dump.contains(&hex(&refresh)) && !dump.contains(&refresh));
    assert!(!dump.contains(&hex(set.access_token.expose_secret())));
    assert!(
        TokenStore::load(&sealed_pg.store(id("org-s")))
            .unwrap()
            .unwrap()
            .same_tokens(&set)
    );

    let cases: [(&str, Option<Keyring>, KeyProblem, Code); 3] = [
        (
            "no keyring",
            None,
            KeyProblem::Missing,
            Code::TokenStoreKeyMissing,
        ),
        (
            "another key id",
            Some(Keyring::new(key("k2", 1))),
            KeyProblem::Missing,
            Code::TokenStoreKeyMissing,
        ),
        (
            "a wrong key under the same id",
            Some(Keyring::new(key("k1", 9))),
            KeyProblem::Rejected,
            Code::TokenStoreKeyRejected,
        ),
    ];
    for (case, keys, expected, code) in cases {
        let pg = pool(&cluster.url(), |c| match keys {
            Some(keys) => c.with_keyring(keys),
            None => c,
        });
        let store = Arc::new(pg.store(id("org-s")));
        let error = TokenStore::load(&*store).unwrap_err();
        let StoreError::Key {
            problem, key_id, ..
        } = &error
        else {
            panic!("{case}: {error}");
        };
        assert_eq!(
            (*problem, key_id.as_str(), error.code()),
            (expected, "k1", code),
            "{case}"
        );
        assert!(!error.to_string().contains(&refresh));
        // Under the lock too (what a refresh reads first): the attempt stops there.
        let mut guard = TokenStore::lock(&*store).unwrap();
        assert_eq!(guard.load().unwrap_err().code(), code, "{case}");
        drop(guard);
        // A client cannot start on it: the error says which key, and nothing is written.
        let started = client(&mock, store);
        let Err(qonto_ureq::Error::Store(e)) = started else {
            panic!("{case}: the client started");
        };
        assert_eq!(e.code(), code, "{case}");
        assert_eq!(raw_row(&cluster, "org-s"), sealed, "{case}");
    }
    // A row copied under another connection id does not open.
    cluster
        .psql(
            "postgres",
            "INSERT INTO qonto_tokens (connection_id, format, key_id, tokens, expires_at) \
             SELECT 'org-copy', format, key_id, tokens, expires_at FROM qonto_tokens",
        )
        .unwrap();
    let error = TokenStore::load(&sealed_pg.store(id("org-copy"))).unwrap_err();
    assert_eq!(error.code(), Code::TokenStoreKeyRejected, "{error}");
    assert_eq!(mock.stats().token_calls("refresh_token"), 0);
}

#[test]
fn keys_rotate_and_reseal_moves_every_row_to_the_current_key() {
    let cluster = cluster();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let key = |id: &str, byte: u8| SealingKey::new(id, [byte; 32]).unwrap();
    let clear = pool(&cluster.url(), |c| c);
    save(&clear.store(id("org-clear")), &tokens(&mock));
    let old = pool(&cluster.url(), |c| {
        c.with_keyring(Keyring::new(key("k1", 1)))
    });
    save(&old.store(id("org-old")), &tokens(&mock));
    let ring = Keyring::new(key("k2", 2)).with_older(key("k1", 1)).unwrap();
    let rotated = pool(&cluster.url(), |c| c.with_keyring(ring));
    // Older and clear rows still open; reseal rewrites both under k2, then nothing.
    assert!(
        TokenStore::load(&rotated.store(id("org-old")))
            .unwrap()
            .is_some()
    );
    assert_eq!(rotated.reseal_blocking().unwrap(), 2);
    let async_face = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(async_face.block_on(rotated.reseal()).unwrap(), 0);
    assert!(raw_row(&cluster, "org-old").contains("|k2|"));
    assert!(raw_row(&cluster, "org-clear").contains("|k2|"));
    let only_new = pool(&cluster.url(), |c| {
        c.with_keyring(Keyring::new(key("k2", 2)))
    });
    assert!(
        TokenStore::load(&only_new.store(id("org-old")))
            .unwrap()
            .is_some()
    );
}

#[test]
fn a_database_down_is_a_clear_error_and_the_pool_recovers() {
    let cluster = cluster();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let pg = pool(&cluster.url(), |c| {
        c.with_statement_timeout(Duration::from_secs(3))
    });
    let store = pg.store(id("org-d"));
    save(&store, &tokens(&mock));
    cluster.stop().unwrap();
    let error = TokenStore::load(&store).unwrap_err();
    assert_eq!(error.code(), Code::TokenStoreError);
    let text = error.to_string();
    assert!(
        text.contains("127.0.0.1") && text.contains("org-d"),
        "{text}"
    );
    assert!(TokenStore::lock(&store).is_err());
    cluster.start_again().unwrap();
    assert!(eventually(Duration::from_secs(10), || TokenStore::load(
        &store
    )
    .is_ok()));
    drop(TokenStore::lock(&store).unwrap());
}

#[test]
fn a_refresh_costs_four_round_trips_and_fresh_calls_none() {
    let (cluster, mock, pg, store) = seeded("org-rt");
    let client = client(&mock, store).unwrap();
    // Each pooled connection prepares its statements once: warm two of them up.
    for _ in 0..2 {
        mock.clock().advance(Duration::from_secs(3_400));
        client.organization().unwrap();
        assert!(eventually(Duration::from_secs(5), || {
            held_locks(&cluster) == 0
        }));
    }
    let before = pg.stats();
    for _ in 0..50 {
        client.organization().unwrap();
    }
    assert_eq!(pg.stats(), before, "fresh tokens: no database round trip");
    mock.clock().advance(Duration::from_secs(3_400));
    client.organization().unwrap();
    let counted = || pg.stats().round_trips - before.round_trips;
    assert!(
        eventually(Duration::from_secs(5), || counted() == 4),
        "{} round trips",
        counted()
    );
    let after = pg.stats();
    assert_eq!(
        (after.locks, after.saves),
        (before.locks + 1, before.saves + 2)
    );
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    const SENTINEL: &str = "sentinel-8c1f";
    let cluster = cluster();
    let url = format!(
        "postgres://postgres:{SENTINEL}@127.0.0.1:{}/postgres",
        cluster.port()
    );
    let key =
        SealingKey::from_base64("k1", "c2VudGluZWwtOGMxZi1zZW50aW5lbC04YzFmLXh4eHg=").unwrap();
    let config = PgConfig::from_url(&url)
        .unwrap()
        .with_keyring(Keyring::new(key.clone()));
    let pg = PgTokens::new(config.clone()).unwrap();
    pg.migrate_blocking().unwrap();
    let store = pg.store(id("org-x"));
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let mut set = tokens(&mock);
    set.access_token = qonto_auth_core::secret::AccessToken::new(format!("{SENTINEL}-at"));
    save(&store, &set);
    let wrong = pool(&url, |c| {
        c.with_keyring(Keyring::new(SealingKey::new("k1", [7; 32]).unwrap()))
    });
    let key_error = TokenStore::load(&wrong.store(id("org-x"))).unwrap_err();
    cluster.stop().unwrap();
    let down_error = TokenStore::load(&store).unwrap_err();
    let shown = format!(
        "{config:?} {pg:?} {store:?} {key:?} {key_error} {key_error:?} {down_error} {down_error:?} {}",
        config.location()
    );
    assert!(!shown.contains(SENTINEL), "{shown}");
    assert!(!shown.contains("c2VudGluZWwt"), "{shown}");
}
