//! Shared by the relay's socket tests: the relay on a loopback port, with a
//! configuration each test adjusts, and upstreams that record or misbehave.
#![allow(dead_code)] // Each test file uses part of this.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use relay::config::{
    checked_base_url, AccessConfig, ApiKey, AuditConfig, Config, Limits, UpstreamConfig,
};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// A folder with a panel-like index.html and one hashed asset.
pub fn static_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "relay-test-dist-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
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
        "body { color: black; }\n".repeat(200),
    )
    .unwrap();
    dir
}

pub fn config(upstream: &str, key: &str) -> Config {
    let dir = static_dir();
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        upstream: UpstreamConfig {
            base: checked_base_url(upstream).unwrap(),
            key: ApiKey::new(key).unwrap(),
            timeout: Duration::from_secs(5),
            max_body_bytes: 16 * 1024 * 1024,
        },
        access: AccessConfig::default(),
        audit: AuditConfig {
            path: Some(dir.join("audit.log")),
            hash_ids: false,
        },
        limits: Limits {
            per_actor_per_minute: 100_000,
            global_per_minute: 100_000,
            ..Limits::default()
        },
        static_dir: dir,
    }
}

pub struct Relay {
    pub url: String,
    pub audit_log: Option<PathBuf>,
}

impl Relay {
    pub fn audit_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.audit_log.as_ref().unwrap()).unwrap_or_default();
        text.lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

/// The relay with `config`, served by its own server loop (header timeouts included).
pub async fn start(config: Config) -> Relay {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let audit_log = config.audit.path.clone();
    let header_timeout = config.limits.header_read_timeout;
    let app = relay::app(config).unwrap();
    tokio::spawn(relay::server::serve(
        listener,
        app,
        header_timeout,
        std::future::pending(),
    ));
    Relay { url, audit_log }
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

/// What a raw upstream does with each connection, in order; the last repeats.
#[derive(Clone)]
pub enum Raw {
    /// Writes these bytes, then closes.
    Send(Vec<u8>),
    /// Writes these bytes, then waits this long before closing.
    SendThenStall(Vec<u8>, Duration),
    /// Closes at once with a TCP reset.
    Reset,
}

pub fn http(status: &str, headers: &str, body: &str) -> Raw {
    Raw::Send(
        format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

pub fn ok_json(body: &str) -> Raw {
    http("200 OK", "Content-Type: application/json\r\n", body)
}

/// A raw TCP upstream, where HTTP libraries would tidy a fault away. Counts
/// the requests it receives.
pub async fn raw_upstream(script: Vec<Raw>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let index = counter.fetch_add(1, Ordering::SeqCst);
            let step = script[index.min(script.len() - 1)].clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                match step {
                    Raw::Send(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    Raw::SendThenStall(bytes, wait) => {
                        let _ = socket.write_all(&bytes).await;
                        tokio::time::sleep(wait).await;
                    }
                    Raw::Reset => {
                        // Zero linger is what makes the close a reset; it
                        // does not block, which is what the deprecation warns of.
                        #[allow(deprecated)]
                        let _ = socket.set_linger(Some(Duration::ZERO));
                        drop(socket);
                    }
                }
            });
        }
    });
    (url, calls)
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

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not the relay's error shape: {body}"))
}
