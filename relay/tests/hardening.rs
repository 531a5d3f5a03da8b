//! What an operator relies on: headers on every response, guarded
//! connections, a complete audit log, metrics, no key in any output, a
//! graceful shutdown, and steadiness under load.

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn every_response_carries_the_security_headers_and_fitting_caching() {
    let (upstream, _) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await;
    // sha256 of the inline script in the test index.html, "start();".
    let script_hash = "'sha256-E6jQvrT2ZivWG9GJ4AAEZf4MhI7l3QkLroW4hgvUT4c='";
    let cases = [
        ("/", "no-cache"),
        ("/index.html", "no-cache"),
        ("/customers/42", "no-cache"),
        (
            "/panel-0123456789abcdef_bg.wasm",
            "public, max-age=31536000, immutable",
        ),
        (
            "/main-0123456789abcdef.css",
            "public, max-age=31536000, immutable",
        ),
        ("/api/profile?customer_user_id=u", "no-store"),
        ("/api/profile", "no-store"),
        ("/api/elsewhere", "no-store"),
        ("/healthz", "no-cache"),
        ("/metrics", "no-cache"),
    ];
    for (path, cache) in cases {
        let response = client()
            .get(format!("{}{path}", relay.url))
            .header("X-CSRF", "1")
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp} lacks {part}");
        }
        // Only the page runs its inline start-up script.
        let page = ["/", "/index.html", "/customers/42"].contains(&path);
        assert_eq!(csp.contains(script_hash), page, "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["cache-control"], cache, "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
    }
}

#[tokio::test]
async fn static_files_are_compressed() {
    let (upstream, _) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await;
    for encoding in ["br", "gzip"] {
        let response = client()
            .get(format!("{}/main-0123456789abcdef.css", relay.url))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], encoding);
        let size = response.bytes().await.unwrap().len();
        assert!(size < 23_000 / 4, "{encoding}: {size} bytes");
    }
}

#[tokio::test]
async fn big_answers_are_compressed_and_small_ones_go_as_they_are() {
    let attributes: Vec<String> = (0..1000)
        .map(|n| format!(r#"{{"key":"attribute_{n}","value":"value {n}"}}"#))
        .collect();
    let big = format!(
        r#"{{"data":{{"profile_id":"p","custom_attributes":[{}]}}}}"#,
        attributes.join(",")
    );
    let (upstream, _) = raw_upstream(vec![ok_json(SEED), ok_json(&big)]).await;
    let relay = relay_to(&upstream, KEY).await;
    let ask = || {
        client()
            .get(format!("{}/api/profile?customer_user_id=u", relay.url))
            .header("X-CSRF", "1")
            .header("accept-encoding", "gzip")
            .send()
    };

    let small = ask().await.unwrap();
    assert!(!small.headers().contains_key("content-encoding"));
    assert_eq!(small.bytes().await.unwrap(), SEED.as_bytes());

    let large = ask().await.unwrap();
    assert_eq!(large.headers()["content-encoding"], "gzip");
    let compressed = large.bytes().await.unwrap();
    assert!(
        compressed.len() < big.len() / 4,
        "{} bytes",
        compressed.len()
    );
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut decoded)
        .unwrap();
    assert_eq!(
        decoded, big,
        "the profile arrives exactly as Adapty sent it"
    );
}

#[tokio::test]
async fn a_client_that_sends_headers_too_slowly_is_cut_off() {
    let (upstream, _) = recording_upstream().await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &["--header-read-timeout-secs", "1"],
    ))
    .await;
    let mut socket = TcpStream::connect(relay.url.trim_start_matches("http://"))
        .await
        .unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buffer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut buffer)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "still open after {:?}",
        started.elapsed()
    );
    // The relay goes on serving others.
    let (status, _, _) = get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn oversized_headers_and_bodies_are_refused() {
    let (upstream, seen) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await;
    let huge = "x".repeat(32 * 1024);
    let response = client()
        .get(format!("{}/api/profile?customer_user_id=u", relay.url))
        .header("X-CSRF", "1")
        .header("x-padding", &huge)
        .send()
        .await;
    match response {
        Ok(response) => assert_eq!(response.status(), 431),
        Err(error) => assert!(error.is_request() || error.is_connect(), "{error}"),
    }
    let response = client()
        .get(format!("{}/api/profile?customer_user_id=u", relay.url))
        .header("X-CSRF", "1")
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing oversized reached Adapty"
    );
}

#[tokio::test]
async fn the_audit_log_has_one_whole_line_per_lookup_under_concurrency() {
    let (upstream, _) = recording_upstream().await;
    // Refused calls are audited too; here all of them, however many a minute.
    let relay = start(config_with(
        &upstream,
        KEY,
        &[
            "--identity-header",
            "x-forwarded-email",
            "--audit-refused-per-minute",
            "1000",
        ],
    ))
    .await;
    // IDs with quotes and braces: the log must escape them, not break.
    let mut tasks = Vec::new();
    for n in 0..200 {
        let url = format!(
            "{}/api/profile?customer_user_id=user-%22{n}%22%7D",
            relay.url
        );
        tasks.push(tokio::spawn(async move {
            get_json_with(&url, &[("x-forwarded-email", "agent@example.com")])
                .await
                .0
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    // Refused lookups are audited too.
    for _ in 0..200 {
        let url = format!("{}/api/profile?customer_user_id=%0A", relay.url);
        let (status, _, _) =
            get_json_with(&url, &[("x-forwarded-email", "agent@example.com")]).await;
        assert_eq!(status, 400);
    }
    let lines = relay.audit_lines();
    assert_eq!(lines.len(), 400, "every lookup has its line");
    let ok: Vec<&Value> = lines
        .iter()
        .filter(|line| line["outcome"] == "ok")
        .collect();
    let ids: HashSet<&str> = ok.iter().map(|line| line["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 200);
    let line = ok[0];
    for field in [
        "time",
        "request_id",
        "actor",
        "kind",
        "id",
        "outcome",
        "status",
        "upstream_status",
        "latency_ms",
    ] {
        assert!(!line[field].is_null(), "{field} missing in {line}");
    }
    assert_eq!(line["kind"], "customer_user_id");
    assert!(
        line["id"].as_str().unwrap().starts_with("user-\""),
        "{line}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|line| line["outcome"] == "invalid_request")
            .count(),
        200
    );
    assert_eq!(line["upstream_status"], 200);
}

#[tokio::test]
async fn audited_ids_can_be_keyed_hashes() {
    let (upstream, _) = recording_upstream().await;
    let relay = start(config_with(&upstream, KEY, &["--audit-hash-ids"])).await;
    for _ in 0..2 {
        get_json(&format!(
            "{}/api/profile?customer_user_id={SEED_USER}",
            relay.url
        ))
        .await;
    }
    let text = std::fs::read_to_string(relay.audit_log.as_ref().unwrap()).unwrap();
    assert!(!text.contains(SEED_USER), "the ID must not be in the log");
    let lines = relay.audit_lines();
    assert!(lines[0]["id"].as_str().unwrap().starts_with("hmac-sha256:"));
    assert_eq!(
        lines[0]["id"], lines[1]["id"],
        "the same customer, the same hash"
    );
}

#[tokio::test]
async fn metrics_count_routes_outcomes_latency_and_retries() {
    let (upstream, _) =
        raw_upstream(vec![http("503 Service Unavailable", "", ""), ok_json(SEED)]).await;
    let relay = relay_to(&upstream, KEY).await;
    get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
    get_json(&format!("{}/api/profile?profile_id=nope", relay.url)).await;
    let text = metrics(&relay.url).await;
    for expected in [
        r#"relay_http_requests_total{route="/api/profile",status="200"} 1"#,
        r#"relay_http_requests_total{route="/api/profile",status="400"} 1"#,
        r#"relay_lookups_total{app="default",outcome="ok"} 1"#,
        // Refused before its app was known.
        r#"relay_lookups_total{app="",outcome="invalid_request"} 1"#,
        "relay_upstream_retries_total 1",
        "relay_upstream_request_seconds_count 2",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
}

#[tokio::test]
async fn thousands_of_concurrent_lookups_all_succeed() {
    let (upstream, seen) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await;
    let url = format!("{}/api/profile?customer_user_id={SEED_USER}", relay.url);
    let client = client();
    let mut workers = Vec::new();
    for _ in 0..32 {
        let (client, url) = (client.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let mut failures = 0;
            for _ in 0..100 {
                let response = client.get(&url).header("X-CSRF", "1").send().await.unwrap();
                let ok =
                    response.status() == 200 && response.bytes().await.unwrap().len() == SEED.len();
                failures += usize::from(!ok);
            }
            failures
        }));
    }
    let mut failures = 0;
    for worker in workers {
        failures += worker.await.unwrap();
    }
    assert_eq!(failures, 0);
    assert_eq!(seen.lock().unwrap().len(), 3200);
}

/// Runs the real binary with a key, drives it through success and failure,
/// and searches everything it printed, at the most verbose log level.
#[tokio::test]
async fn the_key_is_in_no_log_line_and_sigterm_finishes_requests_in_flight() {
    let slow = axum::Router::new().route(
        "/api/v2/server-side-api/profile/",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(800)).await;
            ([("content-type", "application/json")], SEED)
        }),
    );
    let upstream = serve(slow).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .env("ADAPTY_API_KEY", KEY)
        .env("RUST_LOG", "trace")
        .args([
            "--api-base",
            &upstream,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--static-dir")
        .arg(static_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_up(&base).await;
    let mut bodies = String::new();
    for query in [
        "customer_user_id=u",
        "profile_id=bad",
        "customer_user_id=%0A",
    ] {
        let (_, headers, body) = get_json(&format!("{base}/api/profile?{query}")).await;
        bodies += &format!("{headers:?}{body}");
    }

    let in_flight = tokio::spawn(get_json(
        format!("{base}/api/profile?customer_user_id=late").leak(),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let (status, _, _) = in_flight.await.unwrap();
    assert_eq!(status, 200, "the request in flight finished");
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit}");

    let mut output = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    assert!(
        output.contains("lookup") || output.contains("customer_user_id"),
        "the relay logged nothing?"
    );
    let secret = KEY.trim_start_matches("secret_live_");
    assert!(!output.contains(secret), "the key leaked into the output");
    assert!(!bodies.contains(secret), "the key leaked into a response");
}

#[tokio::test]
async fn the_concurrency_limit_holds_requests_back_instead_of_piling_them_on_adapty() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counter, highest) = (now.clone(), peak.clone());
    let slow = axum::Router::new().route(
        "/api/v2/server-side-api/profile/",
        axum::routing::get(move || {
            let (counter, highest) = (counter.clone(), highest.clone());
            async move {
                let running = counter.fetch_add(1, Ordering::SeqCst) + 1;
                highest.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                counter.fetch_sub(1, Ordering::SeqCst);
                ([("content-type", "application/json")], SEED)
            }
        }),
    );
    let upstream = serve(slow).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &["--max-concurrent-requests", "2"],
    ))
    .await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let url = format!("{}/api/profile?customer_user_id=u", relay.url);
        tasks.push(tokio::spawn(async move { get_json(&url).await.0 }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200, "held back, not refused");
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

/// A bug that panics in one request costs that request, not the process:
/// a 500 in the relay's JSON shape, with the usual headers, and the next
/// request is served.
#[tokio::test]
async fn a_panic_in_a_handler_is_a_500_json_error_for_that_request_only() {
    let (upstream, _) = recording_upstream().await;
    let panicking = axum::Router::new().route(
        "/boom",
        axum::routing::get(|| async {
            if true {
                panic!("a bug in a handler");
            }
        }),
    );
    let url = start_with(config(&upstream, KEY), panicking).await.url;
    let response = client()
        .get(format!("{url}/boom"))
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(response.status(), 500);
    assert!(response.headers().contains_key("content-security-policy"));
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(error_code(&body), "internal_error");
    assert!(
        !body.to_string().contains("a bug in a handler"),
        "the panic's text stays in the log: {body}"
    );
    let (status, _, _) = get_json(&format!("{url}/api/profile?customer_user_id=u")).await;
    assert_eq!(status, 200, "the relay goes on");
}

/// A client's request ID reaches the audit log and the answer only when it
/// is short and plain; anything else is replaced by one the relay makes.
#[tokio::test]
async fn a_client_request_id_is_kept_only_when_short_and_plain() {
    let (upstream, _) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await;
    let url = format!("{}/api/profile?customer_user_id=u", relay.url);
    let longest = "a".repeat(64);
    let plain = ["abc-123._XYZ", longest.as_str()];
    let too_long = "a".repeat(65);
    let huge = "x".repeat(15 * 1024);
    let unusable = [
        too_long.as_str(),
        huge.as_str(),
        "a b",
        "a\"b",
        "a/b",
        "a,b",
        "ä",
    ];
    for id in plain.iter().chain(&unusable) {
        let (_, headers, _) = get_json_with(&url, &[("x-request-id", id)]).await;
        let echoed = headers["x-request-id"].to_str().unwrap();
        if plain.contains(id) {
            assert_eq!(echoed, *id);
        } else {
            assert_ne!(echoed, *id);
            assert!(uuid::Uuid::parse_str(echoed).is_ok(), "{echoed}");
        }
    }
    let logged: Vec<String> = relay
        .audit_lines()
        .iter()
        .map(|line| line["request_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(&logged[..2], &plain);
    for id in &logged[2..] {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}

/// Refused calls from one address are written at most N a minute, then
/// counted; every call that reached Adapty is written. The count reaches
/// the file even when nothing else comes: here, at shutdown.
#[tokio::test]
async fn refused_calls_cannot_flood_the_audit_log_and_none_that_reached_adapty_is_left_out() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let audit_log = static_dir().join("audit.log");
    let mut child = spawn_binary(
        &upstream,
        port,
        &audit_log,
        &["--audit-refused-per-minute", "5"],
    )
    .await;
    let refused = format!("{base}/api/profile?customer_user_id=%0A");
    let found = format!("{base}/api/profile?customer_user_id=u");
    for round in 0..40 {
        assert_eq!(get_json(&refused).await.0, 400);
        if round % 10 == 0 {
            assert_eq!(get_json(&found).await.0, 200);
        }
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());

    let text = std::fs::read_to_string(&audit_log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let outcome = |name: &str| lines.iter().filter(|line| line["outcome"] == name).count();
    assert_eq!(outcome("ok"), 4, "every call that reached Adapty: {text}");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert_eq!(outcome("invalid_request"), 5, "{text}");
    let counted: Vec<&Value> = lines
        .iter()
        .filter(|line| line["outcome"] == "audit_suppressed")
        .collect();
    assert_eq!(counted.len(), 1, "{text}");
    assert_eq!(counted[0]["count"], 35, "{text}");
    assert_eq!(counted[0]["client"], "127.0.0.1");
}

/// A client that asks for a big answer and stops reading holds the relay's
/// memory only until the write timeout: then its connection is dropped.
#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_after_the_write_timeout() {
    // Larger than the kernel's socket buffers on both sides can absorb.
    let big = format!(
        r#"{{"data":{{"profile_id":"p","pad":"{}"}}}}"#,
        "x".repeat(10 * 1024 * 1024)
    );
    let (upstream, _) = raw_upstream(vec![ok_json(&big)]).await;
    let relay = start(config_with(&upstream, KEY, &["--write-timeout-secs", "1"])).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut socket = socket
        .connect(relay.url.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let host = relay.url.trim_start_matches("http://");
    socket
        .write_all(
            format!(
                "GET /api/profile?customer_user_id=u HTTP/1.1\r\nHost: {host}\r\nX-CSRF: 1\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // Not reading, well past the write timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the connection is still open after the write timeout"
    );
    assert!(
        received.len() < big.len(),
        "the whole answer was delivered ({} bytes): the relay waited",
        received.len()
    );
    // Others are served as ever.
    let (status, _, _) = get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
    assert_eq!(status, 200);
}

/// Beyond the connection cap a client still reaches /healthz, and is told
/// to come back for anything else; once a connection closes, all is served.
#[tokio::test]
async fn at_the_connection_cap_health_checks_are_answered_and_the_rest_told_to_wait() {
    let (upstream, _) = recording_upstream().await;
    let relay = start(config_with(&upstream, KEY, &["--max-connections", "2"])).await;
    let address = relay.url.trim_start_matches("http://").to_owned();
    let first = TcpStream::connect(&address).await.unwrap();
    let _second = TcpStream::connect(&address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ask = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nX-CSRF: 1\r\n\r\n");
    let answer = raw_exchange(
        &relay.url,
        ask("/healthz").as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(status_and_body(&answer), (200, "ok"), "{answer}");
    let answer = raw_exchange(
        &relay.url,
        ask("/api/profile?customer_user_id=u").as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    let (status, body) = status_and_body(&answer);
    assert_eq!(status, 503, "{answer}");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(error_code(&body), "busy");
    let head = answer.to_ascii_lowercase();
    assert!(
        head.contains("retry-after: 5") && head.contains("connection: close"),
        "{answer}"
    );

    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _, _) = get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
    assert_eq!(status, 200);
}

/// A flood of connections cannot run the relay out of file descriptors:
/// beyond the cap and a small spare room (where health checks are still
/// answered), a new connection is closed at once, and the spare room frees
/// itself within a second. Health checks answer through it all.
#[tokio::test]
async fn a_flood_of_connections_is_turned_away_and_health_checks_still_answer() {
    let (upstream, _) = recording_upstream().await;
    let relay = start(config_with(&upstream, KEY, &["--max-connections", "2"])).await;
    let address = relay.url.trim_start_matches("http://").to_owned();
    // Each sends the start of a request and never the rest.
    let mut flood = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        let _ = stream.write_all(b"GET / HTTP/1.1\r\n").await;
        flood.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Those beyond the cap and its spare room were closed by the relay.
    let mut closed = 0;
    for stream in &mut flood {
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(20), stream.read(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            _ => {}
        }
    }
    assert!(
        closed >= 300 - 2 - 64,
        "only {closed} of 300 were turned away"
    );
    // The spare room frees itself: a health check gets an answer soon.
    let healthz = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n");
    let mut answered = false;
    for _ in 0..30 {
        let answer = raw_exchange(&relay.url, healthz.as_bytes(), Duration::from_secs(2)).await;
        if answer.starts_with("HTTP/1.1 200") {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "no health check answered during the flood");
}

/// The relay needs a file descriptor per connection it allows: when the
/// system's limit cannot hold them, it refuses to start and says what to do,
/// rather than failing health checks once a flood arrives.
#[tokio::test]
async fn too_few_open_files_for_the_connection_cap_refuses_to_start() {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 200 && exec {} --demo --listen 127.0.0.1:0",
            env!("CARGO_BIN_EXE_relay")
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the relay started with too few open files for its connection cap");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(2));
    let mut said = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    assert!(
        said.contains("open files") && said.contains("--max-connections"),
        "{said}"
    );
}

/// The answers held for clients that do not read are bounded: beyond the
/// budget, a lookup is told the relay is busy (at once, holding nothing),
/// and is served again once the slow reader is cut off.
/// A relay before an Adapty whose answer is 6 MiB, with room for one such
/// answer at a time, and the write timeout given; and a client that has
/// asked for it with a tiny receive buffer, reading nothing yet.
async fn one_big_answer_room(
    write_timeout_secs: &str,
) -> (
    Relay,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    usize,
    TcpStream,
) {
    let big = format!(
        r#"{{"data":{{"profile_id":"p","pad":"{}"}}}}"#,
        "x".repeat(6 * 1024 * 1024)
    );
    let (upstream, calls) = raw_upstream(vec![ok_json(&big)]).await;
    let eight_mib = (8 * 1024 * 1024).to_string();
    let relay = start(config_with(
        &upstream,
        KEY,
        &[
            "--response-memory-bytes",
            &eight_mib,
            "--upstream-max-bytes",
            &eight_mib,
            "--write-timeout-secs",
            write_timeout_secs,
        ],
    ))
    .await;
    let host = relay.url.trim_start_matches("http://").to_owned();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut client = socket.connect(host.parse().unwrap()).await.unwrap();
    client
        .write_all(
            format!(
                "GET /api/profile?customer_user_id=u HTTP/1.1\r\nHost: {host}\r\nX-CSRF: 1\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    (relay, calls, big.len(), client)
}

/// The answers held for clients that do not read are bounded: beyond the
/// budget, a lookup is told the relay is busy (at once, holding nothing),
/// and is served again once the slow reader is cut off.
#[tokio::test]
async fn answers_no_one_takes_cannot_hold_more_than_the_memory_budget() {
    let (relay, calls, big, slow) = one_big_answer_room("2").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let url = format!("{}/api/profile?customer_user_id=u", relay.url);
    let (status, headers, body) = get_json(&url).await;
    assert_eq!((status, error_code(&body)), (503, "busy"), "{body}");
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Past the write timeout the slow reader is gone, and its room with it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let response = client()
        .get(&url)
        .header("X-CSRF", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().len(), big);
    drop(slow);
}

/// A client that reads, but only a trickle, cannot hold an answer either:
/// while bytes wait for it, it must take a modem's pace (8 KiB a second over
/// each window of the write timeout) or be cut off, its room given back.
#[tokio::test]
async fn a_client_reading_a_trickle_cannot_keep_its_answers_room() {
    let (relay, _, _, mut trickle) = one_big_answer_room("1").await;
    // 1 KiB every 250 ms: always some progress, never the write timeout.
    let reader = tokio::spawn(async move {
        let mut buffer = [0u8; 1024];
        loop {
            match trickle.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    });
    // Soon its room is free again (the kernel may still be handing it what
    // was sent): a big lookup is served, not told the relay is busy.
    let url = format!("{}/api/profile?customer_user_id=u", relay.url);
    let started = Instant::now();
    let mut statuses = Vec::new();
    while started.elapsed() < Duration::from_secs(8) {
        let (status, _, _) = get_json(&url).await;
        statuses.push(status);
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
    reader.abort();
}

/// With hashed IDs, the ID a customer is looked up by appears in no line
/// the relay prints, at the most verbose log level, whatever the lookup
/// came to.
#[tokio::test]
async fn with_hashed_ids_no_customer_id_is_in_any_log_line_at_trace() {
    let (upstream, _) = raw_upstream(vec![
        ok_json(SEED),
        http(
            "404 Not Found",
            "",
            r#"{"error_code":"profile_does_not_exist","status_code":404}"#,
        ),
    ])
    .await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .env("ADAPTY_API_KEY", KEY)
        .env("RUST_LOG", "trace")
        .args([
            "--api-base",
            &upstream,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--audit-hash-ids")
        .arg("--static-dir")
        .arg(static_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_up(&base).await;
    let ids = [
        ("customer_user_id=", "cust-7Q9Z-found"),
        ("customer_user_id=", "cust-7Q9Z-missing"),
        ("customer_user_id=", "cust-7Q9Z-bad%0A"),
        ("profile_id=", "7a9c0e1f-d00d-4e33-8c9d-88b05ac56559"),
        ("profile_id=", "5f1d2c3b-0a9e-4e33-8c9d-d7a9c0e1f7q9"),
    ];
    let mut statuses = Vec::new();
    for (param, id) in ids {
        let (status, _, _) = get_json(&format!("{base}/api/profile?{param}{id}")).await;
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 404, 400, 404, 400]);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let mut output = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    assert!(
        output.contains("hmac-sha256:"),
        "the audit log is in the output"
    );
    assert!(output.contains("TRACE"), "the relay logged at trace");
    for needle in ["7Q9Z", "7q9z", "cust-", "7a9c0e1f"] {
        let line = output.lines().find(|line| line.contains(needle));
        assert!(line.is_none(), "{needle} in: {}", line.unwrap_or_default());
    }
}

/// Security headers on every answer, also those made below the relay's
/// handlers: the body limit's 413, and hyper's own answers to requests it
/// cannot parse (written straight to the socket).
#[tokio::test]
async fn answers_made_below_the_handlers_carry_the_security_headers_too() {
    let (upstream, seen) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await;
    let host = relay.url.trim_start_matches("http://").to_owned();
    let long_uri = format!("/api/profile?customer_user_id={}", "u".repeat(20 * 1024));
    let many_headers: String = (0..400)
        .map(|n| format!("X-Padding-{n}: {}\r\n", "p".repeat(40)))
        .collect();
    let cases: Vec<(&str, String, u16)> = vec![
        ("garbage request line", "NOT HTTP AT ALL\r\n\r\n".into(), 400),
        (
            "header line without colon",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nno colon here\r\n\r\n"),
            400,
        ),
        (
            "headers over the limit",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n{many_headers}\r\n"),
            431,
        ),
        ("a 20 KB URI", format!("GET {long_uri} HTTP/1.1\r\nHost: {host}\r\n\r\n"), 431),
        (
            "a body over the limit",
            format!(
                "POST /api/profile HTTP/1.1\r\nHost: {host}\r\nX-CSRF: 1\r\nContent-Length: 65536\r\n\r\n{}",
                "b".repeat(65536)
            ),
            413,
        ),
    ];
    for (name, request, status) in cases {
        let answer = raw_exchange(&relay.url, request.as_bytes(), Duration::from_secs(5)).await;
        let head = answer
            .split("\r\n\r\n")
            .next()
            .unwrap()
            .to_ascii_lowercase();
        assert_eq!(status_and_body(&answer).0, status, "{name}: {answer}");
        for header in [
            "content-security-policy: default-src 'none'",
            "x-content-type-options: nosniff",
            "x-frame-options: deny",
            "referrer-policy: no-referrer",
            "cross-origin-opener-policy: same-origin",
        ] {
            assert!(head.contains(header), "{name}: no {header} in\n{head}");
        }
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "none of them reached Adapty"
    );
}
