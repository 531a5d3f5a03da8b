//! The relay over real sockets: a real client, the relay on a loopback port,
//! and either the demo stand-in or a recording upstream behind it.

mod common;

use common::*;
use relay::demo::{profiles, StandIn};
use serde_json::Value;

#[tokio::test]
async fn the_key_and_exactly_one_identity_header_arrive_upstream_and_no_browser_header_does() {
    let (upstream, seen) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await.url;

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
    let relay = relay_to(&upstream, KEY).await.url;
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
    let relay = relay_to(&stand_in.base_url, &stand_in.key).await.url;

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
    let relay = relay_to(&stand_in.base_url, &stand_in.key).await.url;
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
    let relay = relay_to(&stand_in.base_url, KEY).await.url;
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
    let relay = relay_to(&upstream, KEY).await.url;
    let (fails, _) = raw_upstream(vec![http(
        "401 Unauthorized",
        "",
        r#"{"errors":["Invalid API key"],"error_code":"unauthorized","status_code":401}"#,
    )])
    .await;
    let misconfigured = relay_to(&fails, KEY).await.url;
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
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = relay_to(&upstream, KEY).await.url;
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
        calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "bad input must never reach Adapty"
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_an_upstream_error() {
    // Bind and drop to find a port nothing listens on.
    let port = free_port();
    let relay = relay_to(&format!("http://127.0.0.1:{port}"), KEY).await.url;
    let (status, _, body) = get_json(&format!("{relay}/api/profile?customer_user_id=u")).await;
    assert_eq!(status, 502);
    assert_eq!(error_code(&body), "upstream_error");
}

#[tokio::test]
async fn the_panel_is_served_with_index_html_for_unknown_pages() {
    let (upstream, _) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await.url;
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

#[test]
fn listening_beyond_loopback_without_host_names_refuses_to_start_and_says_why() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .env("ADAPTY_API_KEY", KEY)
        .env_remove("RELAY_PUBLIC_ORIGIN")
        .env_remove("RELAY_ALLOWED_HOSTS")
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--public-origin")
            && stderr.contains("--allowed-host")
            && stderr.contains("DNS rebinding"),
        "{stderr}"
    );
}

/// HEAD is a method like any other but GET: refused, and Adapty is not asked.
#[tokio::test]
async fn head_and_every_method_but_get_are_405_and_never_reach_adapty() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = relay_to(&upstream, KEY).await.url;
    for method in ["HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let response = reqwest::Client::new()
            .request(
                method.parse().unwrap(),
                format!("{relay}/api/profile?customer_user_id=u"),
            )
            .header("X-CSRF", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "GET", "{method}");
    }
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// The panel's files are regular files inside the static folder; a path
/// that names a file (it has an extension) is that file or a 404 nobody
/// keeps, never the page; the page is for paths without an extension.
#[tokio::test]
async fn only_the_panels_own_files_are_served_and_a_missing_one_is_a_404_kept_nowhere() {
    let (upstream, _) = recording_upstream().await;
    let config = config(&upstream, KEY);
    let dir = config.static_dir.clone().expect("the tests' panel folder");
    let outside = std::env::temp_dir().join(format!("relay-outside-{}.txt", std::process::id()));
    std::fs::write(&outside, "a secret beside the panel").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(dir.join("main-0123456789abcdef.css"), dir.join("alias.css"))
        .unwrap();
    std::fs::write(dir.join(".env"), "SECRET=1").unwrap();
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/config"), "[core]").unwrap();
    std::fs::create_dir_all(dir.join("snippets.d")).unwrap();
    let relay = start(config).await.url;

    let page = "<title>panel</title>";
    for (path, status, cache, body) in [
        ("/", 200, "no-cache", Some(page)),
        ("/customers/42", 200, "no-cache", Some(page)),
        // Looks like a hashed asset but names no file: the page, kept by no one for long.
        ("/x-0123456789abcdef", 200, "no-cache", Some(page)),
        ("/a/b-0123456789abcdef_bg", 200, "no-cache", Some(page)),
        (
            "/main-0123456789abcdef.css",
            200,
            "public, max-age=31536000, immutable",
            Some("body"),
        ),
        ("/alias.css", 200, "no-cache", Some("body")),
        ("/missing-0123456789abcdef.js", 404, "no-store", None),
        ("/missing.css", 404, "no-store", None),
        ("/favicon.ico", 404, "no-store", None),
        ("/leak.txt", 404, "no-store", None),
        ("/.env", 404, "no-store", None),
        ("/%2eenv", 404, "no-store", None),
        ("/.git/config", 404, "no-store", None),
        ("/snippets.d", 404, "no-store", None),
    ] {
        let response = reqwest::get(format!("{relay}{path}")).await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(response.headers()["cache-control"], cache, "{path}");
        let text = response.text().await.unwrap();
        assert!(
            !text.contains("secret") && !text.contains("SECRET"),
            "{path}: {text}"
        );
        match body {
            Some(expected) => assert!(text.contains(expected), "{path}: {text}"),
            None => assert!(!text.contains(page), "{path} must not be the page"),
        }
    }
}

/// A new panel deployed under a running relay runs: the policy of the page
/// allows the inline start-up script of the index.html being served.
#[tokio::test]
async fn the_page_policy_follows_the_index_html_served_so_a_redeploy_needs_no_restart() {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let (upstream, _) = recording_upstream().await;
    let config = config(&upstream, KEY);
    let dir = config.static_dir.clone().expect("the tests' panel folder");
    let relay = start(config).await.url;
    let hash = |script: &str| {
        let digest = Sha256::digest(script.as_bytes());
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    };
    let policy = |path: &'static str| {
        let relay = relay.clone();
        async move {
            let response = reqwest::get(format!("{relay}{path}")).await.unwrap();
            response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert!(policy("/").await.contains(&hash("start();")));

    std::fs::write(
        dir.join("index.html"),
        "<!DOCTYPE html><title>panel v2</title><script type=\"module\">start(2);</script>",
    )
    .unwrap();
    for path in ["/", "/index.html", "/customers/42"] {
        let csp = policy(path).await;
        assert!(csp.contains(&hash("start(2);")), "{path}: {csp}");
        assert!(!csp.contains(&hash("start();")), "{path}: {csp}");
    }
    for path in [
        "/api/profile?customer_user_id=u",
        "/main-0123456789abcdef.css",
        "/healthz",
    ] {
        let csp = policy(path).await;
        assert!(
            !csp.contains("sha256-"),
            "{path}: no script runs from it: {csp}"
        );
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
    }
}

/// Under a path prefix, without help from the proxy: the panel, the API,
/// health and metrics under it (the last two at the root too), the bare
/// prefix redirected to itself with a slash, nothing outside it.
#[tokio::test]
async fn the_relay_serves_under_a_base_path_and_redirects_the_bare_prefix() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &["--base-path", "tools/adapty/"],
    ))
    .await
    .url;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| {
        client
            .get(format!("{relay}{path}"))
            .header("X-CSRF", "1")
            .send()
    };

    for (path, location) in [
        ("/tools/adapty", "/tools/adapty/"),
        (
            "/tools/adapty?customer_user_id=x%20y",
            "/tools/adapty/?customer_user_id=x%20y",
        ),
    ] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status(), 308, "{path}");
        assert_eq!(response.headers()["location"], location, "{path}");
        assert!(response.headers().contains_key("content-security-policy"));
    }
    let page = get("/tools/adapty/").await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<title>panel</title>"));
    let profile = get("/tools/adapty/api/profile?customer_user_id=u")
        .await
        .unwrap();
    assert_eq!(profile.status(), 200);
    assert_eq!(profile.headers()["cache-control"], "no-store");
    assert_eq!(profile.text().await.unwrap(), SEED);
    let asset = get("/tools/adapty/main-0123456789abcdef.css")
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    for path in [
        "/tools/adapty/healthz",
        "/healthz",
        "/tools/adapty/metrics",
        "/metrics",
    ] {
        assert_eq!(get(path).await.unwrap().status(), 200, "{path}");
    }
    for path in [
        "/",
        "/api/profile?customer_user_id=u",
        "/tools/adaptyx",
        "/tools",
    ] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(
            response.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}
