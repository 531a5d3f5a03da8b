//! `cargo xtask bench`: the panel's weight, the relay's overhead against
//! going direct and against nginx as a key-injecting proxy, the relay's
//! memory, big profiles in the browser, the store (`store`), and bulk runs
//! within the app's budget (`bulk`). Ratios
//! from one run are the figures that count; this machine is shared, so
//! absolute times are shown but not judged. `--check` measures only the
//! weight, against its budget; `--store-only` only the store, `--bulk-only`
//! only bulk runs.

mod bulk;
mod bulk_page;
mod load;
#[cfg(feature = "store-bench")]
mod preload;
#[cfg(feature = "store-bench")]
mod store;
mod store_summary;

use crate::run::{self, root, Result};
use crate::{build, compress, tools};
use load::{
    free_port, nginx, oha, stand_in, wait_for, wrk, Running, CONNECTIONS, LOAD_SECONDS,
    MODERATE_RATE, MODERATE_SECONDS,
};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The whole panel, brotli-compressed, in bytes.
pub const WEIGHT_BUDGET_BYTES: u64 = 170_000;
const SEED_CUSTOMER: &str = "77B14FB4-FD2A-4D38-AA3A-4C433F79863C";

/// The release relay as every part of the bench runs it: in front of the
/// stand-in on `upstream_port`, on `port`, its rate limits out of the way
/// of the load, warnings only, its audit log at `audit_log`.
fn relay_command(
    relay: &Path,
    key: &str,
    upstream_port: u16,
    port: u16,
    audit_log: &Path,
) -> Command {
    let mut command = Command::new(relay);
    command
        .env("ADAPTY_API_KEY", key)
        .env("RUST_LOG", "warn")
        .args(["--api-base", &format!("http://127.0.0.1:{upstream_port}")])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--rate-limit-per-minute",
            "1000000000",
            "--global-rate-limit-per-minute",
            "1000000000",
        ])
        .arg("--audit-log")
        .arg(audit_log);
    command
}

pub fn run(check: bool, store_only: bool, bulk_only: bool, bulk_page_only: bool) -> Result {
    let mut report = json!({
        "machine": {"cores": std::thread::available_parallelism().map_or(0, |n| n.get())},
    });
    if bulk_page_only {
        let dist = build::panel(&tools::panel_tools()?)?;
        let relay = build::relay()?;
        report["bulk_page"] = bulk_page::run(&relay, &dist)?;
        return write_report(&report);
    }
    if bulk_only {
        let relay = build::release_relay()?;
        let load = tools::load_tools()?;
        report["bulk"] = bulk::run(&relay, &load)?;
        return write_report(&report);
    }
    if store_only {
        let relay = build::release_relay()?;
        let load = tools::load_tools()?;
        tools::postgres()?;
        report["store"] = store_figures(&relay, &load)?;
        return write_report(&report);
    }
    let tools = tools::panel_tools()?;
    let dist = build::panel(&tools)?;
    if check {
        return check_weight(&dist);
    }
    report["panel_weight"] = weight(&dist)?.json;

    let relay = build::release_relay()?;
    let load = tools::load_tools()?;
    tools::postgres()?;
    report["relay"] = relay_overhead(&relay, &dist, &load)?;

    run::step("Big profiles in the browser");
    let browser_json = browser_bench(&relay, &dist, "browser-bench")?;
    report["browser"] = serde_json::from_str(browser_json.trim())
        .map_err(|error| format!("unreadable browser timings ({error}): {browser_json}"))?;
    report["bulk_page"] = bulk_page::run(&relay, &dist)?;

    report["store"] = store_figures(&relay, &load)?;
    report["bulk"] = bulk::run(&relay, &load)?;
    write_report(&report)
}

/// The store's figures ([`store`]), measured here when xtask was built with
/// the feature `store-bench`; otherwise by xtask built with it, run again
/// with `--store-only`, whose report is read back.
#[cfg(feature = "store-bench")]
fn store_figures(relay: &Path, load: &tools::LoadTools) -> Result<Value> {
    store::run(relay, load)
}

#[cfg(not(feature = "store-bench"))]
fn store_figures(_: &Path, _: &tools::LoadTools) -> Result<Value> {
    run::step("The store's bench: xtask again, with its feature store-bench");
    run::status(
        run::cargo()
            .args([
                "run",
                "--quiet",
                "--package",
                "xtask",
                "--features",
                "store-bench",
                "--",
                "bench",
                "--store-only",
            ])
            .env(REPORT_NAME, STORE_REPORT),
    )?;
    let path = root().join("target").join("bench").join(STORE_REPORT);
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let report: Value = serde_json::from_str(&text)
        .map_err(|error| format!("{} is not JSON: {error}", path.display()))?;
    report
        .get("store")
        .cloned()
        .ok_or_else(|| format!("{} has no store figures", path.display()))
}

/// The variable that names the report's file in `target/bench/`, and the
/// name the store's run for a full bench is given.
const REPORT_NAME: &str = "XTASK_BENCH_REPORT";
#[cfg(not(feature = "store-bench"))]
const STORE_REPORT: &str = "store-report.json";

/// `target/bench/report.json`: what this run measured, and only that.
fn write_report(report: &Value) -> Result {
    let dir = root().join("target").join("bench");
    std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
    // The store's run for a full bench writes beside it (`store_figures`),
    // so a full bench that fails later leaves the last full report whole.
    let name = std::env::var(REPORT_NAME).unwrap_or_else(|_| "report.json".into());
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(report).unwrap())
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    print_summary(report);
    println!("\nwrote {}", path.display());
    Ok(())
}

/// The browser timings of `cargo xtask bench`, as the JSON the e2e
/// package's binary `bin` prints.
fn browser_bench(relay: &Path, dist: &Path, bin: &str) -> Result<String> {
    let browser = tools::browser()?;
    let output = run::cargo()
        .args([
            "run",
            "--quiet",
            "--release",
            "--package",
            "e2e",
            "--bin",
            bin,
        ])
        .env("E2E_RELAY", relay)
        .env("E2E_DIST", dist)
        .env("E2E_CHROMIUM", browser.chromium)
        .env("E2E_CHROMEDRIVER", browser.chromedriver)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot run the browser benchmark: {error}"))?;
    if !output.status.success() {
        return Err("the browser benchmark failed".into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The panel's weight against its budget: what `cargo xtask test` and
/// `cargo xtask bench --check` hold (a size, so no timing in the tests).
pub fn check_weight(dist: &Path) -> Result {
    let weight = weight(dist)?;
    if weight.brotli_total > WEIGHT_BUDGET_BYTES {
        return Err(format!(
            "the panel weighs {} bytes brotli, over its budget of {WEIGHT_BUDGET_BYTES}: \
             find what grew with twiggy (README, \"Panel weight\")",
            weight.brotli_total
        ));
    }
    Ok(())
}

struct Weight {
    brotli_total: u64,
    json: Value,
}

fn weight(dist: &Path) -> Result<Weight> {
    run::step("Panel weight");
    let mut files = Vec::new();
    let (mut raw_total, mut gzip_total, mut brotli_total) = (0u64, 0u64, 0u64);
    let entries = build::built_files(dist)?;
    println!(
        "{:<48} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip", "brotli"
    );
    for path in entries {
        let bytes = std::fs::read(&path).map_err(|error| error.to_string())?;
        let (raw, gzip, brotli) = (bytes.len() as u64, gzip_size(&bytes), brotli_size(&bytes));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        println!("{name:<48} {raw:>10} {gzip:>10} {brotli:>10}");
        raw_total += raw;
        gzip_total += gzip;
        brotli_total += brotli;
        files.push(json!({"file": name, "raw": raw, "gzip": gzip, "brotli": brotli}));
    }
    println!(
        "{:<48} {raw_total:>10} {gzip_total:>10} {brotli_total:>10}",
        "total"
    );
    println!(
        "budget: {WEIGHT_BUDGET_BYTES} bytes brotli ({:.0}% used)",
        brotli_total as f64 * 100.0 / WEIGHT_BUDGET_BYTES as f64
    );
    Ok(Weight {
        brotli_total,
        json: json!({
            "files": files, "raw": raw_total, "gzip": gzip_total, "brotli": brotli_total,
            "budget_brotli": WEIGHT_BUDGET_BYTES, "within_budget": brotli_total <= WEIGHT_BUDGET_BYTES,
        }),
    })
}

fn gzip_size(bytes: &[u8]) -> u64 {
    compress::gzip(bytes).len() as u64
}

fn brotli_size(bytes: &[u8]) -> u64 {
    compress::brotli(bytes).len() as u64
}

/// (a) straight to a fast upstream, (b) through the relay, (c) through nginx
/// adding the key itself; open-loop at a moderate rate and at saturation.
fn relay_overhead(relay: &Path, dist: &Path, load: &tools::LoadTools) -> Result<Value> {
    run::step("Relay overhead: direct, relay, nginx");
    let dir = root().join("target").join("bench");
    std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
    let (upstream_port, proxy_port, relay_port) = (free_port(), free_port(), free_port());
    let key = "secret_bench_0123456789";
    // Two nginx instances, so the proxy never shares a worker process with
    // the upstream it stands in front of: Adapty is another service, and a
    // worker serving both ends of a request skips a wake-up the relay pays.
    let _upstream = stand_in(load, &dir, upstream_port)?;
    // What an operator might write instead of the relay: inject the key,
    // and keep nginx's default access log, as the relay keeps its audit log.
    let _proxy = nginx(
        load,
        &dir,
        "proxy",
        format!(
            r#"    upstream adapty {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{proxy_port};
        access_log {log};
        location = /api/profile {{
            proxy_pass http://adapty/api/v2/server-side-api/profile/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Api-Key {key}";
            proxy_set_header adapty-customer-user-id $arg_customer_user_id;
        }}
    }}
"#,
            log = dir.join("nginx").join("access.log").display(),
        ),
    )?;
    // A fresh audit log each run: every lookup of the load appends a line.
    let audit_log = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&audit_log);
    let relay_child = relay_command(relay, key, upstream_port, relay_port, &audit_log)
        .arg("--static-dir")
        .arg(dist)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot start the relay: {error}"))?;
    let relay_pid = relay_child.id();
    let _relay = Running(relay_child);

    let direct = format!("http://127.0.0.1:{upstream_port}/api/v2/server-side-api/profile/");
    let through_relay =
        format!("http://127.0.0.1:{relay_port}/api/profile?customer_user_id={SEED_CUSTOMER}");
    let through_nginx =
        format!("http://127.0.0.1:{proxy_port}/api/profile?customer_user_id={SEED_CUSTOMER}");
    wait_for(&direct)?;
    wait_for(&format!("http://127.0.0.1:{relay_port}/healthz"))?;
    wait_for(&through_nginx)?;
    let idle_rss_kb = rss_kb(relay_pid);

    let mut figures = serde_json::Map::new();
    for (name, url) in [
        ("direct", &direct),
        ("relay", &through_relay),
        ("nginx", &through_nginx),
    ] {
        // Warm the pools, then measure.
        wrk(load, url, 2)?;
        let sampler = RssSampler::start(relay_pid);
        let saturation = wrk(load, url, LOAD_SECONDS)?;
        let peak_rss_kb = sampler.stop();
        let moderate = oha(load, url)?;
        // A benchmark of error pages would measure nothing worth knowing.
        if saturation.errors + moderate.errors > 0 {
            return Err(format!(
                "{name}: {} failed requests; see the error logs in target/bench/nginx/",
                saturation.errors + moderate.errors
            ));
        }
        println!(
            "{name:<7} saturation {:>9.0} req/s p50 {:>8.3} ms p99 {:>8.3} ms | {MODERATE_RATE} req/s open loop: p50 {:>7.3} ms p99 {:>7.3} ms",
            saturation.rps, saturation.p50_ms, saturation.p99_ms, moderate.p50_ms, moderate.p99_ms
        );
        let mut entry = json!({"saturation": saturation.json(), "moderate": moderate.json()});
        if name == "relay" {
            entry["rss_kb"] = json!({"idle": idle_rss_kb, "peak_under_load": peak_rss_kb, "connections": CONNECTIONS});
        }
        figures.insert(name.into(), entry);
    }
    let get =
        |who: &str, mode: &str, what: &str| figures[who][mode][what].as_f64().unwrap_or(f64::NAN);
    let ratios = json!({
        "relay_vs_nginx_throughput": get("relay", "saturation", "rps") / get("nginx", "saturation", "rps"),
        "relay_added_p50_us_at_moderate_rate": (get("relay", "moderate", "p50_ms") - get("direct", "moderate", "p50_ms")) * 1000.0,
        "relay_added_p99_us_at_moderate_rate": (get("relay", "moderate", "p99_ms") - get("direct", "moderate", "p99_ms")) * 1000.0,
        "nginx_added_p50_us_at_moderate_rate": (get("nginx", "moderate", "p50_ms") - get("direct", "moderate", "p50_ms")) * 1000.0,
    });
    figures.insert("ratios".into(), ratios);
    figures.insert("moderate_rate_per_s".into(), json!(MODERATE_RATE));
    figures.insert("load_seconds".into(), json!(LOAD_SECONDS));
    figures.insert("moderate_seconds".into(), json!(MODERATE_SECONDS));
    Ok(Value::Object(figures))
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Samples a process's resident memory every 50 ms, keeping the peak.
struct RssSampler {
    done: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let (done, peak) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (stop, high) = (done.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                high.fetch_max(rss_kb(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        RssSampler { done, peak, thread }
    }

    fn stop(self) -> u64 {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak.load(Ordering::Relaxed)
    }
}

fn print_summary(report: &Value) {
    println!("\n==> Summary");
    if report.get("relay").is_some() {
        print_relay_summary(report);
    }
    if let Some(store) = report.get("store") {
        store_summary::print_summary(store);
    }
    if let Some(bulk) = report.get("bulk") {
        bulk::print_summary(bulk);
    }
    if let Some(page) = report.get("bulk_page") {
        bulk_page::print_summary(page);
    }
}

fn print_relay_summary(report: &Value) {
    let relay = &report["relay"];
    let ratios = &relay["ratios"];
    let browser = &report["browser"];
    println!(
        "panel weight (brotli)           {} bytes of {} budget",
        report["panel_weight"]["brotli"], WEIGHT_BUDGET_BYTES
    );
    println!(
        "relay/nginx throughput          {:.2} (goal >= 1.0)",
        ratios["relay_vs_nginx_throughput"]
            .as_f64()
            .unwrap_or(f64::NAN)
    );
    println!(
        "relay added p50 over direct     {:.0} us (goal <= 100 us)",
        ratios["relay_added_p50_us_at_moderate_rate"]
            .as_f64()
            .unwrap_or(f64::NAN)
    );
    println!(
        "nginx added p50 over direct     {:.0} us (for scale)",
        ratios["nginx_added_p50_us_at_moderate_rate"]
            .as_f64()
            .unwrap_or(f64::NAN)
    );
    println!(
        "relay added p99 over direct     {:.0} us (goal <= 1000 us)",
        ratios["relay_added_p99_us_at_moderate_rate"]
            .as_f64()
            .unwrap_or(f64::NAN)
    );
    println!(
        "relay RSS idle / under load     {} kB / {} kB (goal <= 30 MB)",
        relay["relay"]["rss_kb"]["idle"], relay["relay"]["rss_kb"]["peak_under_load"]
    );
    println!(
        "panel start-up                  {:.0} ms",
        browser["startup_ms"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "seed: response to ready         {:.0} ms",
        browser["seed_response_to_ready_ms"]
            .as_f64()
            .unwrap_or(f64::NAN)
    );
    println!(
        "8,000 purchases: response→ready {:.0} ms (goal <= 150 ms)",
        browser["big_response_to_ready_ms"]
            .as_f64()
            .unwrap_or(f64::NAN)
    );
}
