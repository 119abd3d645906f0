//! One replica of `cargo xtask cluster`: a process serving every connection id from one
//! PostgreSQL pool, on `qonto-ureq` (a thread per connection id) or `qonto-reqwest` (a task
//! per connection id), reporting on stdout what the orchestrator checks.
//!
//! Lines: `MARK <tenant>` (a "refresh pending" mark was committed: its token request follows),
//! `VICTIM <tenant>` (the same, for the refresh this replica is to be killed in),
//! `NOTSAVED <tenant>` (rotated tokens could not be committed), `FAIL <tenant> <start_ms>
//! <end_ms> <code> <message>` (a failed call), `DONE <summary>`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use qonto_auth_core::lifecycle::Event;
use qonto_store::{AsyncStoreGuard, AsyncTokenStore, StoreError, StoreGuard, TokenSet, TokenStore};
use qonto_store_postgres::{ConnectionId, PgConfig, PgStore, PgTokens};
use qonto_ureq::Error;

use crate::plan::{Args, Plan, environment, oauth_client, tenant_id, unix_ms};

/// Runs a replica until every tenant's end; `args` are `key=value`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = Args::parse(args);
    let plan = Plan::from_args(&args)?;
    let config = PgConfig::from_url(args.text("url")?)
        .and_then(|c| c.with_pool_size(8))
        .map_err(|e| e.to_string())?
        .with_lock_timeout(Duration::from_secs(20))
        .with_statement_timeout(Duration::from_secs(3));
    let pg = PgTokens::new(config).map_err(|e| e.to_string())?;
    let report = Arc::new(Report::default());
    let victim = Arc::new(Victim {
        kill_at_ms: args.number_or("kill_at_ms", 0)?,
        frozen: AtomicBool::new(false),
    });
    let probes: Vec<Probe> = (0..plan.tenants)
        .map(|i| {
            let id = ConnectionId::new(tenant_id(i)).map_err(|e| e.to_string())?;
            Ok(Probe {
                inner: pg.store(id),
                tenant: i,
                victim: Arc::clone(&victim),
            })
        })
        .collect::<Result<_, String>>()?;
    let mock = args.text("mock")?;
    let every = Duration::from_millis(args.number_or("call_every_ms", 1_000)?);
    let run = Run {
        plan: &plan,
        mock,
        every,
        report: &report,
    };
    match args.text("driver")? {
        "ureq" => blocking(&run, probes)?,
        "reqwest" => asynchronous(&run, probes)?,
        other => return Err(format!("unknown driver {other}")),
    }
    say(&format!(
        "DONE {} calls={} failed={} refreshed={} adopted={} db_round_trips={}",
        args.text("name")?,
        report.calls.load(Ordering::Relaxed),
        report.failed.load(Ordering::Relaxed),
        report.refreshed.load(Ordering::Relaxed),
        report.adopted.load(Ordering::Relaxed),
        pg.stats().round_trips,
    ));
    Ok(())
}

/// What the calling loops of a replica share.
struct Run<'a> {
    plan: &'a Plan,
    mock: &'a str,
    every: Duration,
    report: &'a Arc<Report>,
}

fn blocking(run: &Run<'_>, probes: Vec<Probe>) -> Result<(), String> {
    let (plan, mock, every, report) = (run.plan, run.mock, run.every, run.report);
    let clients = probes
        .into_iter()
        .map(|probe| {
            let tenant = probe.tenant;
            qonto_ureq::Client::builder(environment(mock)?)
                .lifecycle(plan.lifecycle())
                .oauth(oauth_client()?, Arc::new(probe))
                .map(|c| (tenant, c))
                .map_err(|e| format!("tenant {tenant}: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    std::thread::scope(|s| {
        for (tenant, client) in &clients {
            let end = plan.end_ms(*tenant);
            s.spawn(move || {
                std::thread::sleep(stagger(*tenant, plan, every));
                while unix_ms() < end {
                    let start = unix_ms();
                    let result = client.organization().map(drop);
                    report.record(*tenant, start, result, client.take_events());
                    std::thread::sleep(every);
                }
            });
        }
    });
    Ok(())
}

fn asynchronous(run: &Run<'_>, probes: Vec<Probe>) -> Result<(), String> {
    let (plan, mock, every, report) = (run.plan, run.mock, run.every, run.report);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for probe in probes {
            let tenant = probe.tenant;
            let client = qonto_reqwest::Client::builder(environment(mock)?)
                .lifecycle(plan.lifecycle())
                .oauth_async(oauth_client()?, Arc::new(probe))
                .await
                .map_err(|e| format!("tenant {tenant}: {e}"))?;
            let (end, report) = (plan.end_ms(tenant), Arc::clone(report));
            let delay = stagger(tenant, plan, every);
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                while unix_ms() < end {
                    let start = unix_ms();
                    let result = client.organization().await.map(drop);
                    report.record(tenant, start, result, client.take_events());
                    tokio::time::sleep(every).await;
                }
            }));
        }
        for task in tasks {
            task.await.map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })
}

/// Spreads the first calls of the tenants over one call interval.
fn stagger(tenant: u64, plan: &Plan, every: Duration) -> Duration {
    every * u32::try_from(tenant).unwrap_or(0) / u32::try_from(plan.tenants.max(1)).unwrap_or(1)
}

/// One line on stdout, whole.
fn say(line: &str) {
    static OUT: Mutex<()> = Mutex::new(());
    let _one = OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[derive(Default)]
struct Report {
    calls: AtomicU64,
    failed: AtomicU64,
    refreshed: AtomicU64,
    adopted: AtomicU64,
}

impl Report {
    /// One call's result (a failure is reported with its start, end, code and message),
    /// and the lifecycle events it drained.
    fn record(&self, tenant: u64, start: u64, result: Result<(), Error>, events: Vec<Event>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            let message = error.to_string().replace('\n', " ");
            let code = error.code();
            say(&format!(
                "FAIL {tenant} {start} {} {code} {message}",
                unix_ms()
            ));
        }
        for event in events {
            match event {
                Event::Refreshed { .. } => {
                    self.refreshed.fetch_add(1, Ordering::Relaxed);
                }
                Event::Adopted { .. } => {
                    self.adopted.fetch_add(1, Ordering::Relaxed);
                }
                Event::NotSaved(_) => say(&format!("NOTSAVED {tenant}")),
                _ => {}
            }
        }
    }
}

/// The replica to be killed: from 500 ms before `kill_at_ms`, it commits no mark (so no
/// request of its own is in flight but the chosen one); the first mark from 100 ms after it
/// is the chosen refresh (`VICTIM`), and from then on it takes no lock and commits no mark.
struct Victim {
    kill_at_ms: u64,
    frozen: AtomicBool,
}

enum Gate {
    Proceed,
    Chosen,
    Hold,
}

impl Victim {
    fn before_mark(&self) -> Gate {
        let now = unix_ms();
        if self.kill_at_ms == 0 || now + 500 < self.kill_at_ms {
            return Gate::Proceed;
        }
        if now < self.kill_at_ms + 100 || self.frozen.swap(true, Ordering::SeqCst) {
            return Gate::Hold;
        }
        Gate::Chosen
    }

    fn holds_locks(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }
}

/// The replica's store: the PostgreSQL store of one connection id, reporting committed marks.
struct Probe {
    inner: PgStore,
    tenant: u64,
    victim: Arc<Victim>,
}

impl Probe {
    /// Before a save: whether it is a mark, and whether this refresh is the chosen one.
    fn gate(&self, tokens: &TokenSet) -> Option<bool> {
        if tokens.refresh_pending_since.is_none() {
            return Some(false);
        }
        match self.victim.before_mark() {
            Gate::Proceed => Some(false),
            Gate::Chosen => Some(true),
            Gate::Hold => None,
        }
    }

    fn after_save(&self, tokens: &TokenSet, chosen: bool) {
        if chosen {
            say(&format!("VICTIM {}", self.tenant));
        } else if tokens.refresh_pending_since.is_some() {
            say(&format!("MARK {}", self.tenant));
        }
    }
}

fn hold_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3_600));
    }
}

impl TokenStore for Probe {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        TokenStore::load(&self.inner)
    }

    fn lock(&self) -> Result<Box<dyn StoreGuard + '_>, StoreError> {
        if self.victim.holds_locks() {
            hold_forever();
        }
        let guard = TokenStore::lock(&self.inner)?;
        Ok(Box::new(BlockingProbeGuard { probe: self, guard }))
    }

    fn is_shared(&self) -> bool {
        true
    }
}

struct BlockingProbeGuard<'a> {
    probe: &'a Probe,
    guard: Box<dyn StoreGuard + 'a>,
}

impl StoreGuard for BlockingProbeGuard<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.guard.load()
    }

    fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        let Some(chosen) = self.probe.gate(tokens) else {
            hold_forever();
        };
        self.guard.save(tokens)?;
        self.probe.after_save(tokens, chosen);
        Ok(())
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        self.guard.clear()
    }
}

#[async_trait]
impl AsyncTokenStore for Probe {
    async fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        AsyncTokenStore::load(&self.inner).await
    }

    async fn lock(&self) -> Result<Box<dyn AsyncStoreGuard>, StoreError> {
        if self.victim.holds_locks() {
            std::future::pending::<()>().await;
        }
        let guard = AsyncTokenStore::lock(&self.inner).await?;
        Ok(Box::new(AsyncProbeGuard {
            probe: Self {
                inner: self.inner.clone(),
                tenant: self.tenant,
                victim: Arc::clone(&self.victim),
            },
            guard,
        }))
    }

    fn is_shared(&self) -> bool {
        true
    }
}

struct AsyncProbeGuard {
    probe: Probe,
    guard: Box<dyn AsyncStoreGuard>,
}

#[async_trait]
impl AsyncStoreGuard for AsyncProbeGuard {
    async fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.guard.load().await
    }

    async fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        let Some(chosen) = self.probe.gate(tokens) else {
            std::future::pending::<()>().await;
            return Ok(());
        };
        self.guard.save(tokens).await?;
        self.probe.after_save(tokens, chosen);
        Ok(())
    }

    async fn clear(&mut self) -> Result<(), StoreError> {
        self.guard.clear().await
    }
}
