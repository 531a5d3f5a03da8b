//! Shared by the relay's socket tests: the relay on a loopback port, with a
//! configuration each test adjusts, and upstreams that record or misbehave.
#![allow(dead_code, unused_imports)] // Each test file uses part of this.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use clap::Parser;
use relay::adapty::ApiKey;
use relay::settings::{Args, Config};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
pub use testkit::{http, ok_json, raw_upstream, Raw};
use tokio::net::TcpListener;

pub const SEED: &str = include_str!("../../../fixtures/seed.json");
pub const KEY: &str = "secret_live_TESTKEY_9f8e7d6c5b4a";
pub const SEED_USER: &str = relay::demo::profiles::SEED_CUSTOMER_USER_ID;

/// Serves `router` on a free loopback port; returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// A loopback port nothing listens on now: for a relay binary to be told,
/// or an address that refuses connections.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A folder with a panel-like index.html and one hashed asset.
pub fn static_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "relay-test-dist-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    // A folder of an earlier run whose process had the same ID would bring
    // its audit log, and its lines, along.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!DOCTYPE html><title>panel</title><script type=\"module\">start();</script>",
    )
    .unwrap();
    std::fs::write(
        dir.join("panel-0123456789abcdef_bg.wasm"),
        vec![0u8; 64 * 1024],
    )
    .unwrap();
    std::fs::write(
        dir.join("main-0123456789abcdef.css"),
        "body { color: black; }\n".repeat(1000),
    )
    .unwrap();
    dir
}

pub fn config(upstream: &str, key: &str) -> Config {
    config_with(upstream, key, &[])
}

/// The configuration the relay's own parser makes of these flags, on top of
/// test defaults (a fresh panel folder and audit log, limits out of the way)
/// that a flag in `args` replaces.
pub fn config_with(upstream: &str, key: &str, args: &[&str]) -> Config {
    let dir = static_dir();
    let static_dir = dir.display().to_string();
    let audit_log = dir.join("audit.log").display().to_string();
    let defaults = [
        ("--static-dir", static_dir.as_str()),
        ("--audit-log", audit_log.as_str()),
        ("--listen", "127.0.0.1:0"),
        ("--upstream-timeout-secs", "5"),
        ("--rate-limit-per-minute", "100000"),
        ("--global-rate-limit-per-minute", "100000"),
    ];
    let mut argv = vec!["relay"];
    for (flag, value) in defaults {
        if !args.contains(&flag) {
            argv.extend([flag, value]);
        }
    }
    argv.extend(args);
    Args::try_parse_from(argv)
        .unwrap_or_else(|error| panic!("{error}"))
        .into_config_with(upstream, ApiKey::new(key).unwrap())
        .unwrap()
}

pub struct Relay {
    pub url: String,
    pub audit_log: Option<PathBuf>,
}

impl Relay {
    pub fn audit_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.audit_log.as_ref().unwrap()).unwrap_or_default();
        // Each file opens with a line of its own (the chain's, not a request's).
        text.lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
            .filter(|line| line["outcome"] != relay::audit::OPENED)
            .collect()
    }
}

/// The relay with `config`, served by its own server loop (header timeouts included).
pub async fn start(config: Config) -> Relay {
    start_with(config, Router::new()).await
}

/// The relay with `extra` routes under its own layers, on a loopback port.
pub async fn start_with(config: Config, extra: Router) -> Relay {
    start_router(config, None, extra).await.0
}

/// The relay (with `store`, if any) served on a loopback port.
async fn start_router(
    mut config: Config,
    store: Option<Arc<relay::store::Store>>,
    extra: Router,
) -> (Relay, relay::http::Running) {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    config.listen = listener.local_addr().unwrap();
    let url = format!("http://{}", config.listen);
    let audit_log = config.audit.path.clone();
    let limits = config.server.clone();
    let (router, running) = relay::http::router(config, store, extra).unwrap();
    tokio::spawn(async move {
        relay::server::serve(listener, router, &limits, std::future::pending()).await
    });
    (Relay { url, audit_log }, running)
}

/// The `Authorization` values the stored relay's one app accepts.
pub const WEBHOOK_SECRET: &str = "webhook-production-0123456789";
pub const WEBHOOK_SANDBOX_SECRET: &str = "webhook-sandbox-0123456789";

/// The relay with a store, and its webhook listener on another loopback
/// port (its URL the second value), the one app with both webhook secrets.
pub async fn start_stored(mut config: Config, store: Arc<relay::store::Store>) -> (Relay, String) {
    use relay::apps::webhook_secret::{WebhookSecret, WebhookSecrets};
    for app in &mut config.apps.apps {
        if !app.webhook.is_set() {
            app.webhook = WebhookSecrets {
                production: Some(WebhookSecret::new(WEBHOOK_SECRET).unwrap()),
                sandbox: Some(WebhookSecret::new(WEBHOOK_SANDBOX_SECRET).unwrap()),
            };
        }
    }
    let limits = config.server.clone();
    let (relay, running) = start_router(config, Some(store.clone()), Router::new()).await;
    let webhook = relay::webhook::router(running.apps.clone(), store, running.metrics.clone());
    let webhook_listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let webhook_url = format!("http://{}", webhook_listener.local_addr().unwrap());
    tokio::spawn(async move {
        relay::server::serve(webhook_listener, webhook, &limits, std::future::pending()).await
    });
    (relay, webhook_url)
}

/// Each store the relay supports, for tests that must hold on both.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What keeps a test's store alive: its folder, or its PostgreSQL cluster.
pub enum StoreGuard {
    Sqlite(PathBuf),
    Postgres(testkit::postgres::Postgres),
}

/// A fresh, empty store of `backend`.
pub async fn open_store(backend: Backend) -> (Arc<relay::store::Store>, StoreGuard) {
    match backend {
        Backend::Sqlite => {
            let (store, path) = sqlite_store().await;
            (store, StoreGuard::Sqlite(path))
        }
        Backend::Postgres => {
            let postgres = testkit::postgres::Postgres::start();
            let address = relay::store::StoreAddress::parse(&postgres.url()).unwrap();
            let store = relay::store::Store::open(&address).await.unwrap();
            (Arc::new(store), StoreGuard::Postgres(postgres))
        }
    }
}

/// A fresh SQLite store in its own folder (removed with the process's
/// temporary files by the test that made it).
pub async fn sqlite_store() -> (Arc<relay::store::Store>, PathBuf) {
    let dir = static_dir();
    let path = dir.join("store.db");
    let store = relay::store::Store::open(&relay::store::StoreAddress::Sqlite(path.clone()))
        .await
        .unwrap();
    (Arc::new(store), path)
}

/// POSTs `body` to the webhook of `app` with `authorization`: status and body.
pub async fn post_webhook(
    webhook_url: &str,
    app: &str,
    authorization: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = client()
        .post(format!("{webhook_url}/webhook/{app}"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn relay_to(upstream: &str, key: &str) -> Relay {
    start(config(upstream, key)).await
}

/// An upstream that answers with the seed and remembers every request's headers.
pub async fn recording_upstream() -> (String, Arc<Mutex<Vec<HeaderMap>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let router = Router::new().route(
        "/api/v2/server-side-api/profile/",
        get(move |headers: HeaderMap| {
            record.lock().unwrap().push(headers);
            async { ([("content-type", "application/json")], SEED) }
        }),
    );
    (serve(router).await, seen)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// A GET as the panel makes it.
pub async fn get_json(url: &str) -> (u16, HeaderMap, Value) {
    get_json_with(url, &[]).await
}

pub async fn get_json_with(url: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let mut request = client().get(url).header("X-CSRF", "1");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    (status, headers, json)
}

/// Sends `request` as it is over a new connection to the relay at `url`
/// and reads until the relay closes it or `within` passes: the answer of a
/// server to bytes no HTTP client would send.
pub async fn raw_exchange(url: &str, request: &[u8], within: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap();
    socket.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(within, socket.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status of a raw HTTP/1.1 answer, and its body after the head.
pub fn status_and_body(answer: &str) -> (u16, &str) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, body)
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not the relay's error shape: {body}"))
}

/// The identity and roles headers a proxy sets, in header mode.
pub const EMAIL: &str = "x-forwarded-email";
pub const GROUPS: &str = "x-forwarded-groups";

/// Header mode with access changes on for the role `leads`.
pub fn changes_on(upstream: &str, key: &str, extra: &[&str]) -> Config {
    let mut args = vec![
        "--identity-header",
        EMAIL,
        "--roles-header",
        GROUPS,
        "--allow-access-changes",
        "--changes-role",
        "leads",
    ];
    args.extend(extra);
    config_with(upstream, key, &args)
}

/// The relay's `/metrics` text.
pub async fn metrics(relay_url: &str) -> String {
    client()
        .get(format!("{relay_url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits, up to five seconds, until the relay at `base` answers `/healthz`.
pub async fn wait_until_up(base: &str) {
    for _ in 0..100 {
        if client().get(format!("{base}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real binary in front of `upstream` on `port`, writing its audit log
/// to `audit_log`, with `extra` flags; answering `/healthz` when this returns.
pub async fn spawn_binary(
    upstream: &str,
    port: u16,
    audit_log: &std::path::Path,
    extra: &[&str],
) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .env("ADAPTY_API_KEY", KEY)
        .args([
            "--api-base",
            upstream,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(extra)
        .arg("--audit-log")
        .arg(audit_log)
        .arg("--static-dir")
        .arg(static_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until_up(&format!("http://127.0.0.1:{port}")).await;
    child
}

/// `relay audit verify` on `files`, the key read as the relay reads it:
/// whether it found the chain whole, and what it printed.
pub fn verify_cli(files: &[&std::path::Path]) -> (bool, String) {
    let std::process::Output { status, stdout, .. } =
        std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
            .env("ADAPTY_API_KEY", KEY)
            .args(["audit", "verify"])
            .args(files)
            .output()
            .unwrap();
    (
        status.success(),
        String::from_utf8_lossy(&stdout).into_owned(),
    )
}
