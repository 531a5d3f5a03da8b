//! The relay over real sockets: a real client, the relay on a loopback port,
//! and either the demo stand-in or a recording upstream behind it.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use relay::config::{checked_base_url, ApiKey, Config, UpstreamConfig};
use relay::demo::{profiles, StandIn};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SEED: &str = include_str!("../../fixtures/seed.json");
const KEY: &str = "secret_live_TESTKEY_9f8e7d6c5b4a";
const SEED_USER: &str = profiles::SEED_CUSTOMER_USER_ID;

/// Serves `router` on a free loopback port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn static_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("relay-test-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!DOCTYPE html><title>panel</title>",
    )
    .unwrap();
    dir
}

async fn relay_to(upstream: &str, key: &str, timeout: Duration) -> String {
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        static_dir: static_dir(),
        upstream: UpstreamConfig {
            base: checked_base_url(upstream).unwrap(),
            key: ApiKey::new(key).unwrap(),
            timeout,
            max_body_bytes: 16 * 1024 * 1024,
        },
    };
    serve(relay::app(config)).await
}

/// An upstream that answers with the seed and remembers every request's headers.
async fn recording_upstream() -> (String, Arc<Mutex<Vec<HeaderMap>>>) {
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

/// An upstream whose every answer is fixed, counting how often it is asked.
async fn fixed_upstream(
    status: u16,
    body: &'static str,
    delay: Duration,
) -> (String, Arc<Mutex<usize>>) {
    let calls = Arc::new(Mutex::new(0));
    let count = calls.clone();
    let router = Router::new().fallback(move || {
        *count.lock().unwrap() += 1;
        async move {
            tokio::time::sleep(delay).await;
            (axum::http::StatusCode::from_u16(status).unwrap(), body)
        }
    });
    (serve(router).await, calls)
}

async fn get_json(url: &str) -> (u16, HeaderMap, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .header("X-CSRF", "1")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    (status, headers, json)
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not the relay's error shape: {body}"))
}

#[tokio::test]
async fn the_key_and_exactly_one_identity_header_arrive_upstream_and_no_browser_header_does() {
    let (upstream, seen) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY, Duration::from_secs(5)).await;

    let response = reqwest::Client::new()
        .get(format!("{relay}/api/profile?customer_user_id={SEED_USER}"))
        .header("X-CSRF", "1")
        .header("Cookie", "_oauth2_proxy=browser-session")
        .header("Authorization", "Bearer browser-token")
        .header("X-Forwarded-Email", "agent@example.com")
        .header("adapty-profile-id", "d8533a10-bcce-4e33-8c9d-88b05ac56559")
        .header("X-Custom-Browser", "leak-me")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = response.text().await.unwrap();
    assert_eq!(body, SEED, "the profile passes through unchanged");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let headers = &seen[0];
    assert_eq!(headers["authorization"], format!("Api-Key {KEY}"));
    assert_eq!(headers.get_all("authorization").iter().count(), 1);
    assert_eq!(headers["adapty-customer-user-id"], SEED_USER);
    assert!(
        headers.get("adapty-profile-id").is_none(),
        "exactly one identity header"
    );
    for browser_header in ["cookie", "x-forwarded-email", "x-custom-browser", "x-csrf"] {
        assert!(
            headers.get(browser_header).is_none(),
            "{browser_header} was copied upstream"
        );
    }
}

#[tokio::test]
async fn a_profile_id_lookup_sends_only_the_profile_id_header() {
    let (upstream, seen) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY, Duration::from_secs(5)).await;
    let (status, _, _) = get_json(&format!(
        "{relay}/api/profile?profile_id=D8533A10-BCCE-4E33-8C9D-88B05AC56559"
    ))
    .await;
    assert_eq!(status, 200);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0]["adapty-profile-id"],
        "d8533a10-bcce-4e33-8c9d-88b05ac56559"
    );
    assert!(seen[0].get("adapty-customer-user-id").is_none());
}

#[tokio::test]
async fn the_demo_stand_in_answers_through_the_relay() {
    let stand_in = StandIn::start(profiles::all(chrono::Utc::now()))
        .await
        .unwrap();
    let relay = relay_to(&stand_in.base_url, &stand_in.key, Duration::from_secs(5)).await;

    let (status, _, body) =
        get_json(&format!("{relay}/api/profile?customer_user_id={SEED_USER}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["subscriptions"][1]["store_product_id"],
        "weekly.premium.599"
    );

    let anonymous = profiles::ANONYMOUS_PROFILE_ID;
    let (status, _, body) = get_json(&format!("{relay}/api/profile?profile_id={anonymous}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["customer_user_id"], Value::Null);
}

#[tokio::test]
async fn adapty_404_is_profile_not_found() {
    let stand_in = StandIn::start(profiles::all(chrono::Utc::now()))
        .await
        .unwrap();
    let relay = relay_to(&stand_in.base_url, &stand_in.key, Duration::from_secs(5)).await;
    let (status, headers, body) =
        get_json(&format!("{relay}/api/profile?customer_user_id=nobody-here")).await;
    assert_eq!(status, 404);
    assert_eq!(error_code(&body), "profile_not_found");
    assert_eq!(headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_wrong_key_is_the_operators_problem_and_is_never_echoed() {
    let stand_in = StandIn::start(profiles::all(chrono::Utc::now()))
        .await
        .unwrap();
    let relay = relay_to(&stand_in.base_url, KEY, Duration::from_secs(5)).await;
    let (status, headers, body) =
        get_json(&format!("{relay}/api/profile?customer_user_id={SEED_USER}")).await;
    assert_eq!(status, 502, "not a 401: the admin's own sign-in is fine");
    assert_eq!(error_code(&body), "relay_misconfigured");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("operator"), "{message}");
    let everything = format!("{headers:?}{body}");
    assert!(!everything.contains(KEY) && !everything.contains(&stand_in.key));
}

#[tokio::test]
async fn the_key_appears_in_no_response() {
    let (upstream, _) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY, Duration::from_secs(5)).await;
    let (fails, _) = fixed_upstream(
        401,
        r#"{"errors":["Invalid API key"],"error_code":"unauthorized","status_code":401}"#,
        Duration::ZERO,
    )
    .await;
    let misconfigured = relay_to(&fails, KEY, Duration::from_secs(5)).await;
    let secret = KEY.trim_start_matches("secret_live_");
    let client = reqwest::Client::new();
    for url in [
        format!("{relay}/api/profile?customer_user_id={SEED_USER}"),
        format!("{relay}/api/profile?customer_user_id=%0A"),
        format!("{relay}/api/profile"),
        format!("{relay}/api/other"),
        format!("{relay}/healthz"),
        format!("{relay}/"),
        format!("{relay}/some/page"),
        format!("{misconfigured}/api/profile?customer_user_id={SEED_USER}"),
    ] {
        let response = client.get(&url).header("X-CSRF", "1").send().await.unwrap();
        let headers = format!("{:?}", response.headers());
        let body = response.text().await.unwrap();
        assert!(
            !headers.contains(secret) && !body.contains(secret),
            "key leaked at {url}"
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_without_calling_adapty() {
    let (upstream, calls) = fixed_upstream(200, SEED, Duration::ZERO).await;
    let relay = relay_to(&upstream, KEY, Duration::from_secs(5)).await;
    for (query, expected) in [
        ("", "give customer_user_id or profile_id"),
        (
            "customer_user_id=a&profile_id=d8533a10-bcce-4e33-8c9d-88b05ac56559",
            "not both",
        ),
        ("customer_user_id=a&customer_user_id=b", "more than once"),
        ("customer_user_id=a&extra=1", "unknown parameter"),
        ("customer_user_id=", "empty"),
        (
            "customer_user_id=a%0D%0AX-Injected:%201",
            "control character",
        ),
        ("profile_id=12345", "must be a UUID"),
        ("customer_user_id=%F0%9F%98%80", "non-ASCII"),
    ] {
        let (status, _, body) = get_json(&format!("{relay}/api/profile?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(error_code(&body), "invalid_request");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{query}: {message}");
    }
    assert_eq!(
        *calls.lock().unwrap(),
        0,
        "bad input must never reach Adapty"
    );
}

#[tokio::test]
async fn upstream_failures_are_distinct_errors() {
    let cases: [(u16, &'static str, u16, &str); 4] = [
        (500, "", 502, "upstream_error"),
        (200, "<html>maintenance</html>", 502, "upstream_error"),
        (
            200,
            r#"{"data": {"no_profile_here": 1}}"#,
            502,
            "upstream_error",
        ),
        (
            429,
            r#"{"error_code":"rate_limited","status_code":429}"#,
            429,
            "rate_limited",
        ),
    ];
    for (upstream_status, upstream_body, status, code) in cases {
        let (upstream, _) = fixed_upstream(upstream_status, upstream_body, Duration::ZERO).await;
        let relay = relay_to(&upstream, KEY, Duration::from_secs(5)).await;
        let (got_status, _, body) =
            get_json(&format!("{relay}/api/profile?customer_user_id=u")).await;
        assert_eq!(
            (got_status, error_code(&body)),
            (status, code),
            "upstream {upstream_status} {upstream_body}"
        );
    }
}

#[tokio::test]
async fn a_slow_upstream_is_a_timeout() {
    let (upstream, _) = fixed_upstream(200, SEED, Duration::from_secs(30)).await;
    let relay = relay_to(&upstream, KEY, Duration::from_secs(1)).await;
    let (status, _, body) = get_json(&format!("{relay}/api/profile?customer_user_id=u")).await;
    assert_eq!(status, 504);
    assert_eq!(error_code(&body), "upstream_timeout");
}

#[tokio::test]
async fn an_unreachable_upstream_is_an_upstream_error() {
    // Bind and drop to find a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let relay = relay_to(
        &format!("http://127.0.0.1:{port}"),
        KEY,
        Duration::from_secs(5),
    )
    .await;
    let (status, _, body) = get_json(&format!("{relay}/api/profile?customer_user_id=u")).await;
    assert_eq!(status, 502);
    assert_eq!(error_code(&body), "upstream_error");
}

#[tokio::test]
async fn the_panel_is_served_with_index_html_for_unknown_pages() {
    let (upstream, _) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY, Duration::from_secs(5)).await;
    for path in ["/", "/index.html", "/customers/42"] {
        let response = reqwest::get(format!("{relay}{path}")).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("<title>panel</title>"),
            "{path}"
        );
    }
    let (status, _, body) = get_json(&format!("{relay}/api/nothing")).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let response = reqwest::Client::new()
        .post(format!("{relay}/api/profile"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[test]
fn without_a_key_the_relay_refuses_to_start_and_says_why() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .env_remove("ADAPTY_API_KEY")
        .env_remove("ADAPTY_API_KEY_FILE")
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no Adapty secret key") && stderr.contains("ADAPTY_API_KEY_FILE"),
        "{stderr}"
    );
}

#[test]
fn a_key_file_is_read_and_plain_http_to_a_remote_host_is_refused() {
    let key_file = std::env::temp_dir().join(format!("relay-key-{}", std::process::id()));
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .env_remove("ADAPTY_API_KEY")
        .arg("--api-key-file")
        .arg(&key_file)
        .args([
            "--api-base",
            "http://api.adapty.io",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("must use https"), "{stderr}");
    assert!(
        !stderr.contains("TESTKEY"),
        "the key leaked into an error: {stderr}"
    );
}
