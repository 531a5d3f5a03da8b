//! A real PostgreSQL for a test: a throwaway cluster (Debian's package) in
//! a temporary folder, on a loopback port, run as the unprivileged
//! `postgres` user when the tests run as root (PostgreSQL refuses root).
//! Stopped and removed when dropped; `stop` and `start` let a test take it
//! away in the middle of a run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// Whether commits are flushed to disk, as in production.
    durable: bool,
}

impl Postgres {
    /// Creates and starts a cluster; panics with what to install when the
    /// package is missing. Nothing is flushed to disk (`fsync=off`): tests
    /// need no durability and are faster without it.
    pub fn start() -> Postgres {
        Postgres::create(false)
    }

    /// As `start`, but commits are flushed as in production, for figures
    /// comparable with SQLite's (`cargo xtask bench`).
    pub fn start_durable() -> Postgres {
        Postgres::create(true)
    }

    fn create(durable: bool) -> Postgres {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(format!(
            "relay-test-pg-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            run("chown", &["postgres:postgres", dir.to_str().unwrap()]);
        }
        let data = dir.join("data");
        let initdb = bin.join("initdb");
        run_as_postgres(
            &initdb,
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "relay",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let cluster = Postgres {
            bin,
            dir,
            port: free_port(),
            durable,
        };
        cluster.start_again();
        cluster
    }

    /// `postgres://relay@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://relay@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast: connections are cut), keeping its data.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w"]);
    }

    /// Starts it again on the same port, with the same data.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1{}",
            self.port,
            self.dir.display(),
            if self.durable { "" } else { " -c fsync=off" }
        );
        let log = self.dir.join("log");
        self.pg_ctl(&["start", "-w", "-l", log.to_str().unwrap(), "-o", &options]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let mut all = vec!["-D", data.to_str().unwrap()];
        all.extend_from_slice(args);
        run_as_postgres(&self.bin.join("pg_ctl"), &all);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = command_as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap(), "stop", "-m", "immediate"],
        )
        .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where Debian keeps the server's programs (not on PATH).
fn bin_dir() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").is_file() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| dirs.flatten().map(|dir| dir.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .filter(|dir| dir.join("initdb").is_file())
        .expect("PostgreSQL is not installed: `apt-get install postgresql` (cargo xtask test does)")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn command_as_postgres(program: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args);
        command
    } else {
        let mut command = Command::new(program);
        command.args(args);
        command
    }
}

fn run_as_postgres(program: &Path, args: &[&str]) {
    let output = command_as_postgres(program, args)
        .current_dir("/tmp")
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?} failed");
}

/// A loopback port below the kernel's ephemeral range (where a port-0
/// socket could take it before the server binds), free now.
fn free_port() -> u16 {
    // Apart per process and per cluster: two clusters started at once must
    // not both find the same port free before either binds it.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let start = 20_000
        + (std::process::id() % 2_000) as u16 * 5
        + NEXT.fetch_add(1, Ordering::SeqCst) as u16 % 5;
    (start..30_000)
        .chain(20_000..start)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("no free loopback port between 20000 and 30000")
}
