//! `cargo xtask cluster`: PostgreSQL, the mock with short-lived access tokens, and 4 replica
//! processes serving 50 connection ids through at least 2 expiry windows, while one replica is
//! killed with SIGKILL in the middle of a refresh and PostgreSQL is restarted once.
//!
//! It ends with `tenants=N windows=W refreshes=R expected=E failed_calls=F lost_tokens=L`
//! and fails unless R = E, L = 0 and every failed call overlapped the database's downtime
//! with an error naming the store. E is one refresh per connection id per window, plus one
//! for each documented in-doubt recovery: the killed replica's refresh (its request reached
//! the mock, which rotated; the replica that finds the mark presents the refresh token once
//! more inside the grace window), and each refresh whose rotated tokens could not be committed
//! because the database went down (reported by its replica as `NOTSAVED`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qonto_auth_core::secret::{AccessToken, RefreshToken};
use qonto_auth_core::{Timestamp, TokenSet};
use qonto_mock::{DEMO_CLIENT_ID, MockConfig, MockServer};
use qonto_pg_testkit::PgCluster;
use qonto_store::TokenStore;
use qonto_store_postgres::{ConnectionId, PgConfig, PgTokens};

use crate::plan::{Args, Plan, environment, oauth_client, sleep_until, tenant_id, unix_ms};

/// A failed call counts as "while the database was down" up to this long after it was back
/// (pooled connections broken by the restart are found out on their next use).
const AFTER_RESTART_MS: u64 = 3_000;

/// How long PostgreSQL stays down during the restart.
const DOWNTIME: Duration = Duration::from_secs(2);

/// Runs the cluster; `args` are optional `key=value` overrides (`tenants`, `windows`,
/// `period_ms`, `margin_ms`).
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = Args::parse(args);
    let mut plan = Plan {
        tenants: args.number_or("tenants", 50)?,
        windows: args.number_or("windows", 2)?,
        period_ms: args.number_or("period_ms", 30_000)?,
        margin_ms: args.number_or("margin_ms", 20_000)?,
        t0_ms: 0,
    };
    let pg = PgCluster::start().map_err(|e| format!("PostgreSQL: {e}"))?;
    let url = pg.url();
    let mock = MockServer::start(MockConfig::default().with_access_token_lifetime(plan.ttl()))
        .map_err(|e| format!("mock: {e}"))?;
    let tokens = PgTokens::new(PgConfig::from_url(&url).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    tokens.migrate_blocking().map_err(|e| e.to_string())?;
    plan.t0_ms = unix_ms();
    seed(&plan, &mock, &tokens)?;
    println!(
        "cluster: PostgreSQL on 127.0.0.1:{}, mock on {} (access tokens live {} s), {} tenants",
        pg.port(),
        mock.url(),
        plan.ttl().as_secs(),
        plan.tenants
    );

    // Refreshes come in waves (tenant i is first due at t0 + period - offset(i), then every
    // period): the kill falls in the middle of the first wave, the restart in the second.
    let kill_at = plan.t0_ms + plan.period_ms * 3 / 4;
    let lines = Arc::new(Mutex::new(Vec::<Line>::new()));
    // The victim (last) is a blocking replica calling 5 times as often as the others, so that
    // it is often the first to find a token due and the one that refreshes.
    let drivers = ["reqwest", "ureq", "reqwest", "ureq"];
    let mut replicas = Vec::new();
    for (n, driver) in drivers.iter().enumerate() {
        let victim = n + 1 == drivers.len();
        let name = format!("r{}-{driver}", n + 1);
        let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
        command
            .arg("cluster-replica")
            .args(plan.args())
            .args([format!("name={name}"), format!("driver={driver}")])
            .args([format!("url={url}"), format!("mock={}", mock.url())])
            .arg(format!("kill_at_ms={}", if victim { kill_at } else { 0 }))
            .arg(format!(
                "call_every_ms={}",
                if victim { 200 } else { 1_000 }
            ))
            .stdout(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = command.spawn().map_err(|e| format!("{name}: {e}"))?;
        read_lines(&mut child, n, &lines);
        replicas.push((name, child));
    }

    // A SIGKILL in the middle of a refresh: the victim's token request waits at the mock.
    sleep_until(kill_at);
    mock.faults().token_delay(Duration::from_secs(4));
    let base = mock.stats().token_calls("refresh_token");
    let marks_before = count(&lines, |l| l.is_mark());
    let victim_tenant = wait_for(Duration::from_secs(20), || {
        find(&lines, |l| {
            l.text.strip_prefix("VICTIM ").map(str::to_owned)
        })
    })
    .ok_or("the victim replica started no refresh")?;
    // Every mark is followed by its request: once the mock has seen as many as were marked,
    // the victim's request has arrived.
    let arrived = wait_for(Duration::from_secs(3), || {
        let marked = count(&lines, |l| l.is_mark()) - marks_before;
        (mock.stats().token_calls("refresh_token") >= base + marked).then_some(())
    });
    let (victim_name, victim) = replicas.last_mut().ok_or("no replica")?;
    victim.kill().map_err(|e| e.to_string())?;
    let _ = victim.wait();
    mock.faults().token_delay(Duration::ZERO);
    let killed_at = unix_ms();
    println!(
        "cluster: +{:.1} s killed {victim_name} with SIGKILL while its refresh of \
         tenant-{victim_tenant} was at the mock (arrived: {})",
        seconds(killed_at - plan.t0_ms),
        arrived.is_some()
    );
    if arrived.is_none() {
        return Err("the victim's token request never reached the mock".into());
    }

    // PostgreSQL restarted once, in the middle of the second window.
    // A slow token endpoint around the stop, so that refreshes are in flight when the database
    // goes away: their rotated tokens cannot be committed (`NOTSAVED`), and the replica that
    // next finds their mark recovers them inside the grace window.
    let restart_at = (plan.t0_ms + plan.period_ms * 17 / 10).max(killed_at + 5_000);
    sleep_until(restart_at - 1_500);
    mock.faults().token_delay(Duration::from_millis(1_500));
    sleep_until(restart_at);
    let down_from = unix_ms();
    pg.stop().map_err(|e| format!("stopping PostgreSQL: {e}"))?;
    // Down long enough for refreshes to come due meanwhile (one every 0.3 s).
    std::thread::sleep(DOWNTIME);
    pg.start_again()
        .map_err(|e| format!("starting PostgreSQL again: {e}"))?;
    let down_until = unix_ms();
    mock.faults().token_delay(Duration::ZERO);
    println!(
        "cluster: +{:.1} s PostgreSQL restarted, down for {} ms",
        seconds(down_from - plan.t0_ms),
        down_until - down_from
    );

    let last_end = (0..plan.tenants).map(|i| plan.end_ms(i)).max().unwrap_or(0);
    for (name, child) in replicas.iter_mut().take(drivers.len() - 1) {
        let status = wait_child(child, last_end + 30_000)?;
        if !status.success() {
            return Err(format!("replica {name} failed ({status})"));
        }
    }
    let refreshes = mock.stats().token_calls("refresh_token");
    let lines = lines.lock().map_err(|_| "poisoned")?.clone();
    for line in lines.iter().filter(|l| l.text.starts_with("DONE")) {
        println!("cluster: {}", line.text);
    }
    verify(
        &plan,
        &tokens,
        &mock,
        &lines,
        refreshes,
        (down_from, down_until),
    )
}

/// Seeds every tenant's tokens, their expiries spread over half a period.
fn seed(plan: &Plan, mock: &MockServer, tokens: &PgTokens) -> Result<(), String> {
    for i in 0..plan.tenants {
        let issued = mock.issue_tokens(DEMO_CLIENT_ID, "offline_access organization.read");
        let set = TokenSet {
            access_token: AccessToken::new(issued.access_token),
            expires_at: Timestamp::from_unix_millis(plan.seeded_expiry_ms(i)),
            refresh_token: issued.refresh_token.map(RefreshToken::new),
            refresh_issued_at: Some(Timestamp::from_unix_millis(plan.t0_ms)),
            scope: Some(issued.scope),
            refresh_pending_since: None,
        };
        let store = tokens.store(ConnectionId::new(tenant_id(i)).map_err(|e| e.to_string())?);
        let mut guard = TokenStore::lock(&store).map_err(|e| e.to_string())?;
        guard.save(&set).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Checks the run and prints the closing line.
fn verify(
    plan: &Plan,
    tokens: &PgTokens,
    mock: &MockServer,
    lines: &[Line],
    refreshes: u64,
    (down_from, down_until): (u64, u64),
) -> Result<(), String> {
    let not_saved = count_in(lines, |l| l.text.starts_with("NOTSAVED "));
    let expected = plan.tenants * plan.windows + 1 + not_saved;
    let mut failed = 0;
    let mut problems = Vec::new();
    for line in lines.iter().filter(|l| l.text.starts_with("FAIL ")) {
        failed += 1;
        let fields: Vec<&str> = line.text.splitn(6, ' ').collect();
        let (start, end) = match fields.as_slice() {
            [_, _, start, end, ..] => (start.parse().unwrap_or(0), end.parse().unwrap_or(0)),
            _ => (0, 0),
        };
        let while_down = start <= down_until + AFTER_RESTART_MS && end >= down_from;
        let clear = line.text.contains("postgres://") && line.text.contains("token store");
        if failed <= 3 || !while_down || !clear {
            println!(
                "cluster: failed call, +{:.1} s to +{:.1} s: {}",
                seconds(start.saturating_sub(plan.t0_ms)),
                seconds(end.saturating_sub(plan.t0_ms)),
                line.text
            );
        }
        if !while_down || !clear {
            problems.push(format!(
                "a failed call outside the downtime or unclear: {}",
                line.text
            ));
        }
    }
    let lost = lost_tokens(plan, tokens, mock)?;
    println!(
        "cluster: expected = {} tenants x {} windows + 1 killed mid-refresh + {not_saved} not saved",
        plan.tenants, plan.windows
    );
    println!(
        "tenants={} windows={} refreshes={refreshes} expected={expected} failed_calls={failed} lost_tokens={lost}",
        plan.tenants, plan.windows
    );
    if refreshes != expected {
        problems.push(format!("{refreshes} refreshes, {expected} expected"));
    }
    if lost != 0 {
        problems.push(format!("{lost} consents lost"));
    }
    match problems.as_slice() {
        [] => Ok(()),
        _ => Err(problems.join("; ")),
    }
}

/// Tenants whose stored consent no longer works: no row, a mark left behind, or a refresh
/// token the mock refuses.
fn lost_tokens(plan: &Plan, tokens: &PgTokens, mock: &MockServer) -> Result<u64, String> {
    let mut lost = 0;
    for i in 0..plan.tenants {
        let store =
            Arc::new(tokens.store(ConnectionId::new(tenant_id(i)).map_err(|e| e.to_string())?));
        let usable = match TokenStore::load(&*store) {
            Ok(Some(set)) if set.refresh_pending_since.is_none() => {
                let client =
                    qonto_ureq::Client::oauth(environment(&mock.url())?, oauth_client()?, store);
                client.is_ok_and(|c| c.refresh_now().is_ok())
            }
            _ => false,
        };
        if !usable {
            println!("cluster: tenant-{i} lost its consent");
            lost += 1;
        }
    }
    Ok(lost)
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1_000.0
}

#[derive(Clone, Debug)]
struct Line {
    text: String,
}

impl Line {
    fn is_mark(&self) -> bool {
        self.text.starts_with("MARK ") || self.text.starts_with("VICTIM ")
    }
}

fn read_lines(child: &mut Child, _replica: usize, lines: &Arc<Mutex<Vec<Line>>>) {
    let Some(out) = child.stdout.take() else {
        return;
    };
    let lines = Arc::clone(lines);
    std::thread::spawn(move || {
        for text in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(mut lines) = lines.lock() {
                lines.push(Line { text });
            }
        }
    });
}

fn count(lines: &Mutex<Vec<Line>>, f: impl Fn(&Line) -> bool) -> u64 {
    lines.lock().map_or(0, |l| count_in(&l, f))
}

fn count_in(lines: &[Line], f: impl Fn(&Line) -> bool) -> u64 {
    lines.iter().filter(|l| f(l)).count() as u64
}

fn find<T>(lines: &Mutex<Vec<Line>>, f: impl Fn(&Line) -> Option<T>) -> Option<T> {
    lines.lock().ok()?.iter().find_map(f)
}

/// Polls `check` every 10 ms for at most `limit`.
fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let until = unix_ms() + u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if unix_ms() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_child(child: &mut Child, until_ms: u64) -> Result<std::process::ExitStatus, String> {
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if unix_ms() > until_ms {
            let _ = child.kill();
            return Err("a replica did not finish in time".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
