//! What the bench runs against and with: nginx (the fast stand-in for
//! Adapty, and the proxy the relay is compared with), wrk for closed-loop
//! throughput and oha for open-loop latency, each run's figures read from
//! the tool's own report.

use crate::run::{output, Result};
use crate::tools;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const MODERATE_RATE: u32 = 300;
pub const LOAD_SECONDS: u32 = 8;
/// Long enough that p99 rests on 60 requests, not a handful: at 300 req/s a
/// short run's tail is one scheduling hiccup of this shared machine.
pub const MODERATE_SECONDS: u32 = 20;
pub const CONNECTIONS: u32 = 64;

/// A child process that is stopped when dropped, so a failed run leaves nothing behind.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Waits until something listens on the URL's port.
pub fn wait_for(url: &str) -> Result {
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    for _ in 0..200 {
        if std::net::TcpStream::connect(authority).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("{url} did not come up"))
}

/// An nginx instance of its own, with `servers` as its `http` block's servers;
/// its configuration and logs under `dir/nginx`.
pub fn nginx(load: &tools::LoadTools, dir: &Path, name: &str, servers: String) -> Result<Running> {
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(&prefix).map_err(|error| error.to_string())?;
    let conf = prefix.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            r#"worker_processes auto;
daemon off;
pid {prefix}/{name}.pid;
error_log {prefix}/{name}-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{servers}}}
"#,
            prefix = prefix.display(),
        ),
    )
    .map_err(|error| error.to_string())?;
    Ok(Running(
        Command::new(&load.nginx)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(&prefix)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start nginx: {error}"))?,
    ))
}

/// The fast upstream: Adapty's documented profile, from a file, on `port`.
pub fn stand_in(load: &tools::LoadTools, dir: &Path, port: u16) -> Result<Running> {
    std::fs::write(
        dir.join("seed.json"),
        include_str!("../../../fixtures/seed.json"),
    )
    .map_err(|error| error.to_string())?;
    nginx(
        load,
        dir,
        "upstream",
        format!(
            r#"    server {{
        listen 127.0.0.1:{port};
        location = /api/v2/server-side-api/profile/ {{
            default_type application/json;
            root {bench};
            rewrite ^ /seed.json break;
        }}
    }}
"#,
            bench = dir.display(),
        ),
    )
}

pub struct Latency {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers other than 2xx and 3xx, and requests that got none.
    pub errors: u64,
    /// Requests answered.
    /// Read by the store's bench alone (feature `store-bench`).
    #[cfg_attr(not(feature = "store-bench"), allow(dead_code))]
    pub requests: u64,
}

impl Latency {
    pub fn json(&self) -> Value {
        json!({"rps": self.rps, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "errors": self.errors})
    }
}

/// Closed loop, as many requests as the target takes: throughput.
pub fn wrk(load: &tools::LoadTools, url: &str, seconds: u32) -> Result<Latency> {
    wrk_with(load, url, seconds, CONNECTIONS, None)
}

/// wrk with `connections`, and a Lua script with its arguments when given
/// (for requests that are not a plain GET).
pub fn wrk_with(
    load: &tools::LoadTools,
    url: &str,
    seconds: u32,
    connections: u32,
    script: Option<(&Path, &[String])>,
) -> Result<Latency> {
    let mut command = Command::new(&load.wrk);
    command
        .args([
            // wrk needs a connection per thread at least.
            &format!("-t{}", connections.min(2)),
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
        ])
        .args(["-H", "X-CSRF: 1"]);
    if let Some((path, _)) = script {
        command.arg("-s").arg(path);
    }
    command.arg(url);
    if let Some((_, args)) = script {
        command.arg("--").args(args);
    }
    let ran = command
        .output()
        .map_err(|error| format!("cannot run wrk: {error}"))?;
    if !ran.status.success() {
        return Err(format!(
            "wrk failed against {url}: {}{}",
            String::from_utf8_lossy(&ran.stdout),
            String::from_utf8_lossy(&ran.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&ran.stdout);
    let value_after = |label: &str| -> Option<&str> {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(str::trim)
    };
    let rps = value_after("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let non_2xx: u64 = value_after("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // "Socket errors: connect 0, read 0, write 0, timeout 3": each a request lost.
    let socket_errors: u64 = value_after("Socket errors:").map_or(0, |v| {
        v.split(',')
            .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
            .sum()
    });
    // "123456 requests in 8.00s, 1.2GB read"
    let requests = text
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or(0);
    let percentile = |label: &str| {
        value_after(label)
            .and_then(wrk_duration_ms)
            .unwrap_or(f64::NAN)
    };
    Ok(Latency {
        rps,
        p50_ms: percentile("50%"),
        p99_ms: percentile("99%"),
        errors: non_2xx + socket_errors,
        requests,
    })
}

fn wrk_duration_ms(text: &str) -> Option<f64> {
    let unit_at = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(unit_at);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

/// Open loop at a fixed rate, latency corrected for coordinated omission.
pub fn oha(load: &tools::LoadTools, url: &str) -> Result<Latency> {
    oha_with(load, url, false)
}

/// `oha`, with `url` a regular expression each request's URL is drawn
/// from when `varied` (oha's `--rand-regex-url`).
pub fn oha_with(load: &tools::LoadTools, url: &str, varied: bool) -> Result<Latency> {
    let extra: &[&str] = if varied { &["--rand-regex-url"] } else { &[] };
    oha_at(load, url, MODERATE_RATE, MODERATE_SECONDS, extra)
}

/// `oha` at `rate` requests a second for `seconds`, with `extra` arguments
/// (headers, say) before the URL.
pub fn oha_at(
    load: &tools::LoadTools,
    url: &str,
    rate: u32,
    seconds: u32,
    extra: &[&str],
) -> Result<Latency> {
    let mut command = Command::new(&load.oha);
    command
        .args([
            "-z",
            &format!("{seconds}s"),
            "-q",
            &rate.to_string(),
            "-c",
            "16",
        ])
        .args([
            "--latency-correction",
            "--no-tui",
            "--output-format",
            "json",
        ])
        .args(["-H", "X-CSRF: 1"])
        .args(extra);
    let text = output(command.arg(url)).ok_or_else(|| format!("oha failed against {url}"))?;
    let report: Value =
        serde_json::from_str(&text).map_err(|error| format!("oha's report: {error}"))?;
    let seconds = |value: &Value| value.as_f64().map_or(f64::NAN, |s| s * 1000.0);
    let codes = &report["statusCodeDistribution"];
    let ok = codes["200"].as_u64().unwrap_or(0);
    let all: u64 = codes
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    Ok(Latency {
        rps: report["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        p50_ms: seconds(&report["latencyPercentiles"]["p50"]),
        p99_ms: seconds(&report["latencyPercentiles"]["p99"]),
        errors: all - ok,
        requests: all,
    })
}
