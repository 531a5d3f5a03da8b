//! The store's figures, on SQLite and on PostgreSQL, each through the
//! release relay over real HTTP against a store already holding a million
//! customers (`preload`):
//!
//! - ingest: Adapty's webhook at saturation (wrk, each post a new event of
//!   a new customer), beside Adapty's URL check on the same listener, which
//!   the relay answers without its store: what storing an event costs;
//! - search by email and by transaction ID, each request another of the
//!   million customers, and the first events page of a customer with
//!   5,000 events: p50 and p99 open loop at 300 req/s (oha), beside a
//!   lookup through the same relay of the nginx stand-in for Adapty,
//!   measured the same way in the same run.

use super::load::{
    free_port, oha_with, stand_in, wait_for, wrk_with, Latency, Running, LOAD_SECONDS,
    MODERATE_RATE, MODERATE_SECONDS,
};
use super::preload::{self, APP, BUSY_EVENTS, BUSY_PROFILE, CUSTOMERS, DIGITS};
use super::store_summary::INGEST_CONNECTIONS;
use crate::run::{self, root, Result};
use crate::tools::LoadTools;
use relay::store::StoreAddress;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use testkit::postgres::Postgres;

const INGEST_SECONDS: u32 = 15;
const KEY: &str = "secret_bench_0123456789";
const WEBHOOK_SECRET: &str = "bench-webhook-secret-0123456789";
const SEED_CUSTOMER: &str = "77B14FB4-FD2A-4D38-AA3A-4C433F79863C";
/// The customer whose search is checked before the load: any would do.
const CHECKED: i64 = 424_242;

/// Removes the bench's store folder when dropped: a million customers are
/// gigabytes, whether the run ends well or not.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(relay: &Path, load: &LoadTools) -> Result<Value> {
    let scratch = Scratch(root().join("target").join("bench").join("store"));
    let dir = scratch.0.clone();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
    let upstream_port = free_port();
    let _upstream = stand_in(load, &dir, upstream_port)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let bench = Bench {
        relay,
        load,
        runtime: &runtime,
        dir: &dir,
        upstream_port,
    };

    run::step("The store on SQLite: preload, search, events, ingest");
    let file = dir.join("store.db");
    let sqlite = bench.measure(&StoreAddress::Sqlite(file.clone()))?;
    // Gigabytes the PostgreSQL run's own may need.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }

    run::step("The store on PostgreSQL: preload, search, events, ingest");
    // testkit panics with what is missing; here that is this run's error.
    let cluster = std::panic::catch_unwind(Postgres::start_durable)
        .map_err(|_| "cannot start a PostgreSQL cluster (above)".to_string())?;
    let postgres = bench.measure(&StoreAddress::parse(&cluster.url())?)?;
    drop(cluster);

    Ok(json!({
        "customers": CUSTOMERS,
        "busy_customer_events": BUSY_EVENTS,
        "read_rate_per_s": MODERATE_RATE,
        "read_seconds": MODERATE_SECONDS,
        "ingest_seconds": INGEST_SECONDS,
        "sqlite": sqlite,
        "postgres": postgres,
    }))
}

struct Bench<'a> {
    relay: &'a Path,
    load: &'a LoadTools,
    runtime: &'a tokio::runtime::Runtime,
    dir: &'a Path,
    upstream_port: u16,
}

impl Bench<'_> {
    /// One store: preloaded, then read and written through one relay.
    fn measure(&self, address: &StoreAddress) -> Result<Value> {
        let preloaded = self.runtime.block_on(preload::fill(address))?;
        let size_bytes = self.runtime.block_on(size_bytes(address))?;
        println!(
            "preloaded {} events in {:.0} s; the store takes {:.0} MB",
            preloaded.events,
            preloaded.seconds,
            size_bytes as f64 / 1e6
        );
        // The machine is shared: how busy it was says how far to trust a tail.
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse::<f64>().ok());
        let relay = self.start_relay(address)?;
        check_answers(relay.port)?;
        let reads = self.reads(relay.port)?;
        let (url_check, ingest) = self.ingest(address, &relay)?;
        drop(relay);

        let p99 = |name: &str| reads[name]["p99_ms"].as_f64().unwrap_or(f64::NAN);
        let ratios = json!({
            "search_email_p99_vs_lookup": p99("search_email") / p99("lookup"),
            "search_transaction_id_p99_vs_lookup": p99("search_transaction_id") / p99("lookup"),
            "events_page_p99_vs_lookup": p99("events_page") / p99("lookup"),
        });
        let mut figures = serde_json::Map::new();
        figures.insert(
            "preload".into(),
            json!({"seconds": preloaded.seconds, "events": preloaded.events, "size_bytes": size_bytes}),
        );
        figures.insert("load_average_1m_at_start".into(), json!(load_average));
        figures.insert("ingest".into(), json!(ingest));
        figures.insert("url_check".into(), url_check.json());
        figures.extend(reads);
        figures.insert("ratios".into(), ratios);
        Ok(Value::Object(figures))
    }

    /// The release relay on this store, with its webhook listener; its
    /// warnings (slow statements, a store that failed) kept beside the
    /// report, since the store's folder is removed.
    fn start_relay(&self, address: &StoreAddress) -> Result<Relay> {
        let (port, webhook_port) = (free_port(), free_port());
        let secret_file = self.dir.join("webhook.secret");
        std::fs::write(&secret_file, WEBHOOK_SECRET).map_err(|error| error.to_string())?;
        let kind = if address.is_sqlite() {
            "sqlite"
        } else {
            "postgres"
        };
        let log = std::fs::File::create(self.dir.with_file_name(format!("relay-{kind}.log")))
            .map_err(|error| error.to_string())?;
        let audit_log = self.dir.join("audit.jsonl");
        let _ = std::fs::remove_file(&audit_log);
        let child = super::relay_command(self.relay, KEY, self.upstream_port, port, &audit_log)
            .args(["--store", &address.to_string()])
            .args(["--webhook-listen", &format!("127.0.0.1:{webhook_port}")])
            .arg("--webhook-secret-file")
            .arg(&secret_file)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|error| format!("cannot start the relay: {error}"))?;
        let relay = Relay {
            _process: Running(child),
            port,
            webhook: format!("http://127.0.0.1:{webhook_port}/webhook/{APP}"),
        };
        wait_for(&format!("http://127.0.0.1:{port}/healthz"))?;
        wait_for(&relay.webhook)?;
        Ok(relay)
    }

    /// Open loop at a moderate rate: a lookup of the stand-in for scale,
    /// then the store's reads.
    fn reads(&self, port: u16) -> Result<serde_json::Map<String, Value>> {
        let base = format!("http://127.0.0.1:{port}");
        // Each search another customer, drawn by oha from these patterns
        // (in which oha takes a dot as a dot).
        let number = format!("[0-9]{{{DIGITS}}}");
        let by_email = format!(
            r"{base}/api/search\?q={}{number}%40{}",
            preload::USER_PREFIX,
            &preload::EMAIL_DOMAIN[1..]
        );
        let by_transaction = format!(
            r"{base}/api/search\?q={}{number}",
            preload::TRANSACTION_PREFIX
        );
        let events_page = format!("{base}{}", events_path());
        let lookup = format!("{base}/api/profile?customer_user_id={SEED_CUSTOMER}");
        let mut reads = serde_json::Map::new();
        for (name, url, varied) in [
            ("lookup", &lookup, false),
            ("events_page", &events_page, false),
            ("search_email", &by_email, true),
            ("search_transaction_id", &by_transaction, true),
        ] {
            settle(port)?;
            let figures = oha_with(self.load, url, varied)?;
            println!(
                "{name:<22} {MODERATE_RATE} req/s open loop: p50 {:>7.3} ms p99 {:>7.3} ms",
                figures.p50_ms, figures.p99_ms
            );
            // Adapty's stand-in answers every lookup; the store's answers
            // were checked before, so what fails there now fails under the
            // load (a store too slow answers 503), which is a figure.
            if name == "lookup" {
                refuse_failures(name, &figures)?;
            } else if figures.errors > 0 {
                println!(
                    "  {} of {} requests failed (see target/bench/relay-*.log)",
                    figures.errors, figures.requests
                );
            }
            reads.insert(name.into(), figures.json());
        }
        Ok(reads)
    }

    /// Adapty's URL check at saturation, then new events one at a time and
    /// many at once, each run's events counted in the store afterwards.
    fn ingest(&self, address: &StoreAddress, relay: &Relay) -> Result<(Latency, Vec<Value>)> {
        let script = root()
            .join("xtask")
            .join("src")
            .join("bench")
            .join("webhook.lua");
        let template = self.dir.join("webhook-event.json");
        std::fs::write(&template, event_template()?).map_err(|error| error.to_string())?;
        let args = |mode: &str, run: u32| {
            let template = template.to_str().unwrap_or_default();
            [mode, template, WEBHOOK_SECRET, &run.to_string()].map(String::from)
        };
        settle(relay.port)?;
        let url_check = wrk_with(
            self.load,
            &relay.webhook,
            LOAD_SECONDS,
            INGEST_CONNECTIONS[1],
            Some((&script, &args("verify", 0))),
        )?;
        refuse_failures("url_check", &url_check)?;
        let mut ingest = Vec::new();
        for connections in INGEST_CONNECTIONS {
            let before = self.runtime.block_on(count_events(address))?;
            let run = wrk_with(
                self.load,
                &relay.webhook,
                INGEST_SECONDS,
                connections,
                Some((&script, &args("event", connections))),
            )?;
            let stored = self.runtime.block_on(count_events(address))? - before;
            let accepted = run.requests - run.errors;
            // Each 200 is an event committed; a few more may be committed
            // after wrk stopped reading.
            if stored < accepted as i64 {
                return Err(format!(
                    "ingest: {accepted} events answered 200 but {stored} stored"
                ));
            }
            let per_s = accepted as f64 / f64::from(INGEST_SECONDS);
            println!(
                "ingest, {connections:>2} at once      {per_s:>7.0} events/s, p50 {:.1} ms, p99 {:.1} ms \
                 (the URL check: {:.0}/s)",
                run.p50_ms, run.p99_ms, url_check.rps
            );
            // Refused events are this store's answer to the load, not a
            // broken run: Adapty sends them again. Counted, not hidden.
            if run.errors > 0 {
                println!(
                    "  {} posts were refused (503: the store did not keep up)",
                    run.errors
                );
            }
            ingest.push(json!({
                "connections": connections, "events_per_s": per_s, "p50_ms": run.p50_ms,
                "p99_ms": run.p99_ms, "stored": stored, "refused": run.errors,
                "vs_url_check": per_s / url_check.rps,
            }));
        }
        Ok((url_check, ingest))
    }
}

/// The relay under measurement; stopped when dropped.
struct Relay {
    _process: Running,
    port: u16,
    webhook: String,
}

/// A benchmark of empty answers would measure nothing: one of the million
/// is found by each identifier, and the busy customer's page is full.
fn check_answers(port: u16) -> Result {
    let padded = format!("{CHECKED:0DIGITS$}");
    let wanted = format!("\"profile_id\":\"{}\"", preload::profile_of(CHECKED));
    let email = format!("{}{padded}{}", preload::USER_PREFIX, preload::EMAIL_DOMAIN);
    let transaction = format!("{}{padded}", preload::TRANSACTION_PREFIX);
    for query in [email.replace('@', "%40"), transaction] {
        expect(port, &format!("/api/search?q={query}"), &wanted)?;
    }
    expect(port, &events_path(), "\"next\":\"")
}

/// The first page of the busy customer's events.
fn events_path() -> String {
    format!("/api/events?profile_id={BUSY_PROFILE}")
}

/// A run with failed requests measured something other than the store.
fn refuse_failures(name: &str, figures: &Latency) -> Result {
    if figures.errors > 0 {
        return Err(format!(
            "{name}: {} failed requests; see target/bench/relay-*.log",
            figures.errors
        ));
    }
    Ok(())
}

/// Waits until the store answers `path` within 100 ms: a store read
/// already under way goes on after its client gave up (SQLite's cannot be
/// cut short), and must not be counted against the next measurement.
fn settle(port: u16) -> Result {
    let path = &events_path();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let asked = Instant::now();
        let answered = get(port, path).is_ok_and(|answer| answer.starts_with("HTTP/1.1 200"));
        if answered && asked.elapsed() < Duration::from_millis(100) {
            return Ok(());
        }
    }
    Err(format!(
        "the store was still busy a minute after the load ({path})"
    ))
}

/// One GET through the relay, as the panel sends it; the answer must be a
/// 200 holding `wanted`.
fn expect(port: u16, path: &str, wanted: &str) -> Result {
    let answer = get(port, path)?;
    if answer.starts_with("HTTP/1.1 200") && answer.contains(wanted) {
        Ok(())
    } else {
        Err(format!(
            "GET {path} should answer 200 with {wanted}: {}",
            answer.chars().take(600).collect::<String>()
        ))
    }
}

/// The whole answer to one GET, head and body.
fn get(port: u16, path: &str) -> Result<String> {
    let failed = |error: std::io::Error| format!("GET {path}: {error}");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(failed)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-CSRF: 1\r\nConnection: close\r\n\r\n"
    )
    .map_err(failed)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(failed)?;
    Ok(answer)
}

/// Adapty's example event with placeholders for what `webhook.lua` makes
/// new in each post, and the time now.
fn event_template() -> Result<String> {
    let example = include_str!("../../../fixtures/webhook-subscription-started.json");
    let mut event: Value = serde_json::from_str(example).map_err(|error| error.to_string())?;
    let now = relay::store::rfc3339(relay::store::millis(chrono::Utc::now()));
    event["profile_id"] = json!("@PROFILE@");
    event["customer_user_id"] = json!("@USER@");
    event["email"] = json!("@EMAIL@");
    event["event_datetime"] = json!(now);
    let properties = &mut event["event_properties"];
    properties["profile_id"] = json!("@PROFILE@");
    properties["profile_event_id"] = json!("@EVENT@");
    properties["transaction_id"] = json!("@TXN@");
    properties["original_transaction_id"] = json!("@TXN@");
    properties["event_datetime"] = json!(now);
    serde_json::to_string(&event).map_err(|error| error.to_string())
}

async fn count_events(address: &StoreAddress) -> Result<i64> {
    use sqlx::Connection;
    let mut db = sqlx::AnyConnection::connect(&preload::connect_url(address))
        .await
        .map_err(|error| error.to_string())?;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(&mut db)
        .await
        .map_err(|error| error.to_string())?;
    let _ = db.close().await;
    Ok(count)
}

/// What the store takes on disk: SQLite's files, PostgreSQL's database.
async fn size_bytes(address: &StoreAddress) -> Result<u64> {
    use sqlx::Connection;
    if let StoreAddress::Sqlite(path) = address {
        let name = path.to_string_lossy();
        return Ok(["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{name}{suffix}")).ok())
            .map(|file| file.len())
            .sum());
    }
    let mut db = sqlx::AnyConnection::connect(&preload::connect_url(address))
        .await
        .map_err(|error| error.to_string())?;
    let (size,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
        .fetch_one(&mut db)
        .await
        .map_err(|error| error.to_string())?;
    let _ = db.close().await;
    Ok(size as u64)
}
