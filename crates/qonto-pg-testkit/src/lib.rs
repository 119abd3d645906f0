//! A throwaway PostgreSQL cluster for tests, benchmarks and `cargo xtask cluster`.
//!
//! # What this crate does
//!
//! [`PgCluster::start`] finds the PostgreSQL server binaries (`initdb`, `pg_ctl`, `psql`: on
//! `PATH`, in `$QONTO_PG_BIN`, or in Debian's `/usr/lib/postgresql/<version>/bin`), runs
//! `initdb` into a fresh temporary directory and starts the server on a free loopback port
//! (and a socket directory inside that temporary directory), with trust authentication for
//! the `postgres` role. When the process runs as root, which PostgreSQL refuses, every server
//! command runs as the `postgres` OS user through `runuser -u postgres --`. Dropping the
//! cluster stops the server and removes the directory.
//!
//! It can stop and start the server again on the same port and data ([`PgCluster::stop`],
//! [`PgCluster::start_again`], [`PgCluster::restart`]) and run SQL through `psql`
//! ([`PgCluster::psql`]), so tests can take the database away and bring it back.
//!
//! # What it does not do
//!
//! It never installs PostgreSQL and never skips: when the binaries are missing,
//! [`PgCluster::start`] fails with an error saying how to install them (`.ci/run` installs
//! Debian's `postgresql` package when `initdb` is missing). It listens on loopback only, with
//! no password: it is for tests, never for data anyone keeps.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{fs, io};

/// The OS user that runs the server when the tests run as root.
const SERVER_USER: &str = "postgres";

/// A running throwaway PostgreSQL cluster. Dropping it stops the server and deletes its files.
#[derive(Debug)]
pub struct PgCluster {
    bin: PathBuf,
    root: PathBuf,
    data: PathBuf,
    sockets: PathBuf,
    log: PathBuf,
    port: u16,
    as_server_user: bool,
}

impl PgCluster {
    /// Creates and starts a cluster in a new temporary directory.
    ///
    /// # Errors
    ///
    /// The binaries are missing (with how to install them), `initdb` failed, or the server did
    /// not start (with the end of its log).
    pub fn start() -> io::Result<Self> {
        let bin = find_bin_dir()?;
        let as_server_user = running_as_root();
        let root = temp_root()?;
        let cluster = Self {
            data: root.join("data"),
            sockets: root.join("sockets"),
            log: root.join("server.log"),
            bin,
            root,
            port: 0,
            as_server_user,
        };
        fs::create_dir_all(&cluster.sockets)?;
        if as_server_user {
            let owner = format!("{SERVER_USER}:");
            run(Command::new("chown")
                .arg("-R")
                .arg(&owner)
                .arg(&cluster.root))?;
        }
        let data = cluster.data.display().to_string();
        let initdb = ["-D", &data, "-A", "trust", "-U", "postgres", "-E", "UTF8"];
        cluster.server_command(
            "initdb",
            &[&initdb[..], &["--no-sync", "--locale=C"]].concat(),
        )?;
        // A free port: bind, note it, release it; retried if the server loses the race for it.
        let mut cluster = cluster;
        let mut last = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.start_again() {
                Ok(()) => return Ok(cluster),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("the server did not start")))
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.sockets
    }

    /// A connection URL for the `postgres` role and database over loopback TCP.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// A connection URL for database `database` over loopback TCP.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a database (so that each test can have its own).
    ///
    /// # Errors
    ///
    /// `psql` failed (the name is quoted as an identifier).
    pub fn create_database(&self, name: &str) -> io::Result<()> {
        let quoted = name.replace('"', "\"\"");
        self.psql("postgres", &format!("CREATE DATABASE \"{quoted}\""))
            .map(drop)
    }

    /// Runs `sql` in `database` through `psql` (unaligned, tuples only) and returns its output.
    ///
    /// # Errors
    ///
    /// `psql` failed; the error carries its standard error.
    pub fn psql(&self, database: &str, sql: &str) -> io::Result<String> {
        let port = self.port.to_string();
        let output = run(Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                database,
            ])
            .args(["-c", sql]))?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Stops the server (fast shutdown: sessions are ended, their locks released).
    ///
    /// # Errors
    ///
    /// `pg_ctl stop` failed.
    pub fn stop(&self) -> io::Result<()> {
        let data = self.data.display().to_string();
        self.server_command("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"])
            .map(drop)
    }

    /// Starts the server again on the same port and data.
    ///
    /// # Errors
    ///
    /// `pg_ctl start` failed; the error carries the end of the server log.
    pub fn start_again(&self) -> io::Result<()> {
        let data = self.data.display().to_string();
        let log = self.log.display().to_string();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200",
            self.port,
            self.sockets.display()
        );
        let started = self.server_command(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-t", "60", "-w", "start",
            ],
        );
        started.map(drop).map_err(|e| {
            io::Error::other(format!("{e}\n--- server log (end):\n{}", self.log_tail()))
        })
    }

    /// Stops the server, then starts it again.
    ///
    /// # Errors
    ///
    /// Either step failed.
    pub fn restart(&self) -> io::Result<()> {
        self.stop()?;
        self.start_again()
    }

    /// Waits until the server accepts connections again, up to `timeout`.
    ///
    /// # Errors
    ///
    /// It did not within `timeout`.
    pub fn wait_ready(&self, timeout: Duration) -> io::Result<()> {
        let started = Instant::now();
        loop {
            if self.psql("postgres", "SELECT 1").is_ok() {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(io::Error::other("the server did not accept connections"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last 4 KiB of the server log.
    pub fn log_tail(&self) -> String {
        let log = fs::read(&self.log).unwrap_or_default();
        let start = log.len().saturating_sub(4096);
        String::from_utf8_lossy(&log[start..]).into_owned()
    }

    /// Runs a server binary, as the `postgres` OS user when this process is root.
    fn server_command(&self, program: &str, args: &[&str]) -> io::Result<Output> {
        let program = self.bin.join(program);
        let mut command = if self.as_server_user {
            let mut c = Command::new("runuser");
            c.args(["-u", SERVER_USER, "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // The server must not inherit the test's output pipes: a test harness waiting for
        // them to close would wait for the server.
        command.args(args).stdin(std::process::Stdio::null());
        run(&mut command)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = self.server_command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Runs a command to completion, its output captured; a failure carries its standard error.
fn run(command: &mut Command) -> io::Result<Output> {
    let output = command.output().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot run {:?}: {e}", command.get_program()),
        )
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(io::Error::other(format!(
            "{:?} failed ({}): {}",
            command.get_program(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// The directory holding `initdb`, `pg_ctl` and `psql`.
fn find_bin_dir() -> io::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("QONTO_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        // A link on PATH (as some images have) leads to the real directory, with psql.
        .filter_map(|dir| {
            fs::canonicalize(dir.join("initdb"))
                .ok()?
                .parent()
                .map(PathBuf::from)
        })
        .find(|dir| ["pg_ctl", "psql"].iter().all(|b| dir.join(b).is_file()));
    if let Some(dir) = on_path {
        return Ok(dir);
    }
    // Debian keeps the server binaries out of PATH, one directory per major version.
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "PostgreSQL's initdb was not found on PATH, in $QONTO_PG_BIN or in \
             /usr/lib/postgresql/*/bin: install it (Debian: apt-get install postgresql; \
             .ci/run does this when initdb is missing)",
        )
    })
}

fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            Some(line.split_whitespace().nth(2)? == "0")
        })
        .unwrap_or(false)
}

fn temp_root() -> io::Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "qonto-pg-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let root = std::env::temp_dir().join(name);
    fs::create_dir(&root)?;
    Ok(root)
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_starts_answers_restarts_and_goes_away() {
        let cluster = PgCluster::start().expect("a throwaway PostgreSQL cluster");
        assert_eq!(cluster.psql("postgres", "SELECT 40 + 2").unwrap(), "42");
        cluster.create_database("tenant's \"db\"").unwrap();
        cluster.restart().unwrap();
        cluster.wait_ready(Duration::from_secs(30)).unwrap();
        assert_eq!(cluster.psql("tenant's \"db\"", "SELECT 1").unwrap(), "1");
        let root = cluster.root.clone();
        drop(cluster);
        assert!(!root.exists());
    }
}
