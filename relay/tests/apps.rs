//! Several Adapty apps behind one relay, over real sockets: each app's key
//! goes to its own Adapty only, an unknown app is refused before Adapty,
//! limits are per app, audit lines and the session name the app, and
//! SIGHUP reloads the apps file (a bad one is kept out).

mod common;

use common::*;
use relay::demo::profiles::KIDS_SAMPLES;
use relay::demo::StandIn;
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const EMAIL: &str = "X-Forwarded-Email";
const GROUPS: &str = "X-Forwarded-Groups";

/// A fresh folder for an apps file and its key files.
fn folder() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "relay-apps-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `main.key` and `kids.key` and an apps file serving `main` from
/// `main` and `kids` from `kids`, with `kids_extra` lines in kids' table.
fn apps_file(dir: &Path, main: &StandIn, kids: &StandIn, kids_extra: &str) -> PathBuf {
    std::fs::write(dir.join("main.key"), &main.key).unwrap();
    std::fs::write(dir.join("kids.key"), &kids.key).unwrap();
    let file = dir.join("apps.toml");
    std::fs::write(
        &file,
        format!(
            "[[app]]\nid = \"main\"\nname = \"Main app\"\napi_key_file = \"main.key\"\n\
             api_base = \"{}\"\n\n\
             [[app]]\nid = \"kids\"\nname = \"Kids app\"\napi_key_file = \"kids.key\"\n\
             api_base = \"{}\"\n{kids_extra}\n",
            main.base_url, kids.base_url
        ),
    )
    .unwrap();
    file
}

async fn stand_ins() -> (StandIn, StandIn) {
    let main = StandIn::start_samples().await.unwrap();
    let kids = StandIn::start_sample_set(KIDS_SAMPLES).await.unwrap();
    assert_ne!(main.key, kids.key);
    (main, kids)
}

async fn lookup(relay: &str, query: &str, who: &str) -> (u16, Value) {
    let (status, _, body) = get_json_with(
        &format!("{relay}/api/profile?{query}"),
        &[(EMAIL, who), (GROUPS, "leads")],
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn each_apps_key_reaches_its_own_adapty_only_and_an_unknown_app_reaches_none() {
    let (main, kids) = stand_ins().await;
    let dir = folder();
    let file = apps_file(&dir, &main, &kids, "");
    let file = file.display().to_string();
    // Nothing may reach this: an app left out of the file would go here.
    let (nowhere, nowhere_calls) = recording_upstream().await;
    let relay = start(config_with(
        &nowhere,
        "secret_live_never_used",
        &["--apps-file", &file, "--identity-header", EMAIL],
    ))
    .await;
    let ann = "ann@example.com";

    // Each stand-in knows only its own key (401 otherwise, which the relay
    // would answer 502 relay_misconfigured) and only its own customers.
    let (status, body) = lookup(&relay.url, "app=main&customer_user_id=demo-play-store", ann).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customer_user_id"], "demo-play-store");
    let (status, body) = lookup(&relay.url, "app=kids&customer_user_id=kids-family", ann).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customer_user_id"], "kids-family");
    let (status, body) = lookup(&relay.url, "app=main&customer_user_id=kids-family", ann).await;
    assert_eq!((status, error_code(&body)), (404, "profile_not_found"));
    let (status, body) = lookup(&relay.url, "app=kids&customer_user_id=demo-play-store", ann).await;
    assert_eq!((status, error_code(&body)), (404, "profile_not_found"));

    // Several apps: the app must be named, and be one of them.
    let (status, body) = lookup(&relay.url, "customer_user_id=demo-play-store", ann).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_request"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("give app: this relay serves several apps (main, kids)"),
        "{body}"
    );
    for unknown in ["app=nope", "app=", "app=MAIN", "app=default"] {
        let (status, body) = lookup(
            &relay.url,
            &format!("{unknown}&customer_user_id=demo-play-store"),
            ann,
        )
        .await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "unknown_app"),
            "{unknown}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("main, kids"),
            "{body}"
        );
    }
    assert!(nowhere_calls.lock().unwrap().is_empty());

    // The audit log names the app; an unknown one is no app at all.
    let audit = relay.audit_lines();
    let apps: Vec<&Value> = audit.iter().map(|line| &line["app"]).collect();
    assert_eq!(
        apps,
        [
            &json!("main"),
            &json!("kids"),
            &json!("main"),
            &json!("kids"),
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &Value::Null
        ],
        "{audit:?}"
    );
    assert_eq!(audit[1]["id"], "kids-family");
    assert_eq!(audit[5]["outcome"], "unknown_app");

    // And so do the metrics, with only the file's apps as labels.
    let metrics = metrics(&relay.url).await;
    for expected in [
        r#"relay_lookups_total{app="main",outcome="ok"} 1"#,
        r#"relay_lookups_total{app="kids",outcome="ok"} 1"#,
        r#"relay_lookups_total{app="main",outcome="profile_not_found"} 1"#,
        r#"relay_lookups_total{app="",outcome="unknown_app"} 4"#,
    ] {
        assert!(metrics.contains(expected), "no {expected} in\n{metrics}");
    }
    assert!(!metrics.contains("nope"), "{metrics}");
}

#[tokio::test]
async fn changes_go_to_the_named_apps_adapty_in_that_apps_role() {
    let (main, kids) = stand_ins().await;
    let dir = folder();
    let file = apps_file(&dir, &main, &kids, "changes_role = \"kids-leads\"");
    let file = file.display().to_string();
    let relay = start(changes_on(
        "http://127.0.0.1:9",
        "secret_live_never_used",
        &["--apps-file", &file],
    ))
    .await;
    let post = |body: Value, groups: &'static str| {
        let url = format!("{}/api/access-level/grant", relay.url);
        async move {
            let response = client()
                .post(url)
                .header("X-CSRF", "1")
                .header("Content-Type", "application/json")
                .header(EMAIL, "lead@example.com")
                .header(GROUPS, groups)
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str::<Value>(&text).unwrap())
        }
    };
    let grant = |app: Option<&str>, customer: &str| {
        let mut body = json!({"customer_user_id": customer, "access_level_id": "premium",
            "expires_at": "2099-01-01T00:00:00Z", "reason": "goodwill, ticket 4411"});
        if let Some(app) = app {
            body["app"] = json!(app);
        }
        body
    };

    let (status, body) = post(grant(Some("kids"), "kids-family"), "leads").await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "changes_not_allowed"),
        "{body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("kids-leads"));
    let (status, body) = post(grant(Some("kids"), "kids-family"), "kids-leads").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customer_user_id"], "kids-family");
    let (status, body) = post(grant(Some("main"), "demo-play-store"), "leads").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(kids.changes_received.load(Ordering::SeqCst), 1);
    assert_eq!(main.changes_received.load(Ordering::SeqCst), 1);

    let (status, body) = post(grant(Some("toys"), "demo-play-store"), "leads").await;
    assert_eq!((status, error_code(&body)), (400, "unknown_app"));
    let (status, body) = post(grant(None, "demo-play-store"), "leads").await;
    assert_eq!((status, error_code(&body)), (400, "invalid_request"));
    assert_eq!(
        main.changes_received.load(Ordering::SeqCst) + kids.changes_received.load(Ordering::SeqCst),
        2,
        "nothing more reached either Adapty"
    );

    // The session says, app by app, who may change what.
    let (_, _, session) = get_json_with(
        &format!("{}/api/session", relay.url),
        &[(EMAIL, "lead@example.com"), (GROUPS, "leads")],
    )
    .await;
    assert_eq!(
        session["apps"],
        json!([
            {"id": "main", "name": "Main app", "can_change_access": true,
             "can_edit_profile": false, "can_erase": false,
             "can_delete_any_note": false, "can_bulk_check": false},
            {"id": "kids", "name": "Kids app", "can_change_access": false,
             "can_edit_profile": false, "can_erase": false,
             "can_delete_any_note": false, "can_bulk_check": false}
        ])
    );

    let phases: Vec<(String, String)> = relay
        .audit_lines()
        .iter()
        .map(|line| (line["app"].to_string(), line["phase"].to_string()))
        .collect();
    let phases: Vec<(&str, &str)> = phases
        .iter()
        .map(|(app, phase)| (app.as_str(), phase.as_str()))
        .collect();
    assert_eq!(
        phases,
        [
            ("\"kids\"", "\"refused\""),
            ("\"kids\"", "\"asked\""),
            ("\"kids\"", "\"done\""),
            ("\"main\"", "\"asked\""),
            ("\"main\"", "\"done\""),
            ("null", "\"refused\""),
            ("null", "\"refused\""),
        ]
    );
}

#[tokio::test]
async fn rate_limits_are_per_person_per_app_and_for_each_app_as_a_whole() {
    let (main, kids) = stand_ins().await;
    let dir = folder();
    let file = apps_file(
        &dir,
        &main,
        &kids,
        "rate_limit_per_minute = 1\nglobal_rate_limit_per_minute = 2",
    );
    let file = file.display().to_string();
    let relay = start(config_with(
        "http://127.0.0.1:9",
        "secret_live_never_used",
        &[
            "--apps-file",
            &file,
            "--identity-header",
            EMAIL,
            "--rate-limit-per-minute",
            "100",
        ],
    ))
    .await;
    let kids_lookup = "app=kids&customer_user_id=kids-family";
    let main_lookup = "app=main&customer_user_id=demo-play-store";
    assert_eq!(lookup(&relay.url, kids_lookup, "ann").await.0, 200);
    let (status, body) = lookup(&relay.url, kids_lookup, "ann").await;
    assert_eq!((status, error_code(&body)), (429, "rate_limited"));
    // Ann's allowance in the main app is her own and untouched.
    for _ in 0..3 {
        assert_eq!(lookup(&relay.url, main_lookup, "ann").await.0, 200);
    }
    assert_eq!(lookup(&relay.url, kids_lookup, "bob").await.0, 200);
    // Two kids lookups a minute for everyone: the kids app's quota is spent,
    // the main app's is not.
    let (status, body) = lookup(&relay.url, kids_lookup, "carol").await;
    assert_eq!((status, error_code(&body)), (429, "rate_limited"));
    assert_eq!(lookup(&relay.url, main_lookup, "carol").await.0, 200);
}

#[tokio::test]
async fn an_apps_file_beside_a_single_key_or_a_bad_one_stops_the_start_saying_why() {
    let dir = folder();
    std::fs::write(dir.join("main.key"), "secret_live_abc").unwrap();
    let good = dir.join("apps.toml");
    std::fs::write(
        &good,
        "[[app]]\nid = \"main\"\nname = \"Main\"\napi_key_file = \"main.key\"\n",
    )
    .unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[app]]\nid = \"Main app\"\nname = \"Main\"\napi_key_file = \"main.key\"\n",
    )
    .unwrap();
    let run = |env: &[(&str, &str)], file: &Path| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_relay"));
        command
            .env_remove("ADAPTY_API_KEY")
            .env_remove("ADAPTY_API_KEY_FILE");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command
            .arg("--apps-file")
            .arg(file)
            .args(["--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // Both refused before the relay listens: nothing is left running.
    let (code, stderr) = run(&[("ADAPTY_API_KEY", "secret_live_xyz")], &good);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--apps-file") && stderr.contains("cannot be used with"),
        "{stderr}"
    );
    let (code, stderr) = run(&[], &bad);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("the id must be 1 to 32 of a-z, 0-9 and -"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret_live_abc"), "{stderr}");
    // No single key to derive the audit chain's secret from: it is asked for.
    let (code, stderr) = run(&[], &good);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--audit-chain-key-file"), "{stderr}");
}

/// The relay binary with `--apps-file`, its standard error collected as it comes.
struct Running {
    child: std::process::Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    fn start(file: &Path, audit_log: &Path) -> Running {
        let chain_key = file.with_file_name("audit-chain.key");
        std::fs::write(&chain_key, "a secret for the audit chain only").unwrap();
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
            .env_remove("ADAPTY_API_KEY")
            .env_remove("ADAPTY_API_KEY_FILE")
            .env("RUST_LOG", "info")
            .arg("--apps-file")
            .arg(file)
            .arg("--audit-log")
            .arg(audit_log)
            .arg("--audit-chain-key-file")
            .arg(&chain_key)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--static-dir")
            .arg(static_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let collected = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        Running {
            child,
            url: format!("http://127.0.0.1:{port}"),
            stderr,
        }
    }

    fn hang_up(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the relay is running"
        );
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (at most ten seconds) for the `nth` line of the log with `text`.
    async fn logged(&self, text: &str, nth: usize) {
        for _ in 0..200 {
            if self.stderr.lock().unwrap().matches(text).count() >= nth {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {text:?} in the log:\n{}", self.stderr.lock().unwrap());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn sighup_rotates_a_key_and_adds_an_app_and_a_bad_file_is_kept_out() {
    let (main, kids) = stand_ins().await;
    let dir = folder();
    // At first the main app's key file holds a key its Adapty refuses.
    std::fs::write(dir.join("main.key"), "secret_live_OLD_revoked_key").unwrap();
    let file = dir.join("apps.toml");
    let main_only = format!(
        "[[app]]\nid = \"main\"\nname = \"Main app\"\napi_key_file = \"main.key\"\napi_base = \"{}\"\n",
        main.base_url
    );
    std::fs::write(&file, &main_only).unwrap();
    let mut relay = Running::start(&file, &dir.join("audit.log"));
    relay.logged("relay listening", 1).await;
    let play_store = "customer_user_id=demo-play-store";

    let (status, body) = lookup(&relay.url, play_store, "ann").await;
    assert_eq!((status, error_code(&body)), (502, "relay_misconfigured"));

    // The key rotated, and a second app added: one SIGHUP takes both.
    apps_file(&dir, &main, &kids, "");
    relay.hang_up();
    relay.logged("apps file reloaded", 1).await;
    let (status, body) = lookup(&relay.url, &format!("app=main&{play_store}"), "ann").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = lookup(&relay.url, "app=kids&customer_user_id=kids-family", "ann").await;
    assert_eq!(status, 200);

    // A file with a mistake, then a missing key file: neither replaces
    // what runs, and the log says why, never with a key.
    std::fs::write(
        &file,
        main_only.replace("id = \"main\"", "id = \"main\"\nid = \"x\""),
    )
    .unwrap();
    relay.hang_up();
    relay.logged("not reloaded", 1).await;
    std::fs::write(&file, main_only.replace("main.key", "gone.key")).unwrap();
    relay.hang_up();
    relay.logged("not reloaded", 2).await;
    // A key written into the file itself, by mistake: never in the log.
    let inline = "secret_live_INLINE_4f1d";
    std::fs::write(
        &file,
        main_only.replace(
            "api_key_file = \"main.key\"",
            &format!("api_key = \"{inline}\""),
        ),
    )
    .unwrap();
    relay.hang_up();
    relay.logged("not reloaded", 3).await;
    let (status, _) = lookup(&relay.url, "app=kids&customer_user_id=kids-family", "ann").await;
    assert_eq!(status, 200, "the running apps stay");
    let (status, _) = lookup(&relay.url, &format!("app=main&{play_store}"), "ann").await;
    assert_eq!(status, 200);
    let log = relay.stderr.lock().unwrap().clone();
    assert!(log.contains("duplicate key"), "{log}");
    // The key file's path is what the file says, so it is not repeated either.
    assert!(
        log.contains("app \"main\": cannot read its api_key_file"),
        "{log}"
    );
    assert!(!log.contains("INLINE_4f1d"), "{log}");
    for key in [&main.key, &kids.key] {
        assert!(
            !log.contains(key.trim_start_matches("secret_demo_")),
            "{log}"
        );
    }
    assert!(!log.contains("OLD_revoked"), "{log}");
}

/// A lookup that started before a reload finishes with the app it started
/// with: its retry still carries the old key; the next lookup, the new one.
#[tokio::test]
async fn a_lookup_in_flight_during_a_reload_keeps_its_apps_key() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let arrived = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let upstream = {
        let (seen, arrived, release) = (seen.clone(), arrived.clone(), release.clone());
        axum::Router::new().route(
            "/api/v2/server-side-api/profile/",
            axum::routing::get(move |headers: axum::http::HeaderMap| {
                let (seen, arrived, release) = (seen.clone(), arrived.clone(), release.clone());
                async move {
                    let key = headers["authorization"].to_str().unwrap().to_owned();
                    let first = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(key);
                        seen.len() == 1
                    };
                    if first {
                        // Held until the test has reloaded, then a transient failure.
                        arrived.notify_one();
                        release.notified().await;
                        return (
                            axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            [("content-type", "application/json")],
                            "{}",
                        );
                    }
                    (
                        axum::http::StatusCode::OK,
                        [("content-type", "application/json")],
                        SEED,
                    )
                }
            }),
        )
    };
    let upstream = serve(upstream).await;
    let dir = folder();
    std::fs::write(dir.join("main.key"), "secret_live_old").unwrap();
    let file = dir.join("apps.toml");
    std::fs::write(
        &file,
        "[[app]]\nid = \"main\"\nname = \"Main app\"\napi_key_file = \"main.key\"\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let mut config = config_with(&upstream, "secret_live_never_used", &["--apps-file", &file]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    config.listen = listener.local_addr().unwrap();
    let url = format!("http://{}", config.listen);
    let limits = config.server.clone();
    let (router, reloadable) = relay::http::router(config, None, axum::Router::new()).unwrap();
    tokio::spawn(async move {
        relay::server::serve(listener, router, &limits, std::future::pending()).await
    });

    let in_flight = tokio::spawn(get_json(
        format!("{url}/api/profile?customer_user_id=u").leak(),
    ));
    arrived.notified().await;
    std::fs::write(dir.join("main.key"), "secret_live_new").unwrap();
    reloadable.apps.reload();
    release.notify_one();
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = get_json(&format!("{url}/api/profile?customer_user_id=u")).await;
    assert_eq!(status, 200);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "Api-Key secret_live_old",
            "Api-Key secret_live_old",
            "Api-Key secret_live_new"
        ]
    );
}
