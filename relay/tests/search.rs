//! `GET /api/search` and `GET /api/events` over real sockets, under the
//! checks of a lookup; what lookups and changes add to the store; the
//! binary's store across a restart, and `relay store purge`.

mod common;

use common::*;
use relay::demo::webhooks::WebhookTarget;
use relay::demo::StandIn;
use serde_json::{json, Value};

const APP: &str = relay::apps::config::DEFAULT_APP_ID;
const PROFILE: &str = "7f1c2d3e-0000-4000-8000-000000000001";
const ANA: &[(&str, &str)] = &[(EMAIL, "ana@example.com"), (GROUPS, "leads")];

fn event(id: &str, email: &str) -> String {
    json!({
        "profile_id": PROFILE, "customer_user_id": "ticket-user", "email": email,
        "event_type": "subscription_started", "event_datetime": "2026-12-01T10:00:00.000000+0000",
        "event_properties": {"profile_event_id": id, "transaction_id": "GPA.3345-1234-5678-90123"}
    })
    .to_string()
}

#[tokio::test]
async fn without_a_store_search_and_events_say_how_to_set_them_up() {
    let (upstream, _) = recording_upstream().await;
    let relay = relay_to(&upstream, KEY).await;
    for path in [
        "api/search?q=ana%40example.com",
        &format!("api/events?profile_id={PROFILE}"),
    ] {
        let (status, _, body) = get_json(&format!("{}/{path}", relay.url)).await;
        assert_eq!(
            (status, error_code(&body)),
            (404, "store_not_configured"),
            "{path}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("--store") && message.contains("README"),
            "{message}"
        );
    }
    let (_, _, session) = get_json(&format!("{}/api/session", relay.url)).await;
    assert_eq!(session["store"], false);
}

#[tokio::test]
async fn search_and_events_need_the_panels_header_and_a_signed_in_person() {
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let config = config_with("http://127.0.0.1:9", KEY, &["--identity-header", EMAIL]);
        let (relay, _) = start_stored(config, store).await;
        for path in [
            "api/search?q=x",
            &format!("api/events?profile_id={PROFILE}"),
        ] {
            let url = format!("{}/{path}", relay.url);
            // Without the panel's header: another site's page.
            let response = client()
                .get(&url)
                .header(EMAIL, "ana@example.com")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{path}");
            // Without a person: not signed in.
            let (status, _, body) = get_json(&url).await;
            assert_eq!(
                (status, error_code(&body)),
                (401, "unauthenticated"),
                "{path}"
            );
            let (status, _, body) = get_json_with(&url, ANA).await;
            assert_eq!(status, 200, "{path}: {body}");
        }
        let (_, _, session) = get_json_with(&format!("{}/api/session", relay.url), ANA).await;
        assert_eq!(session["store"], true);
        // A query the store could never match is refused with the reason.
        let (status, _, body) =
            get_json_with(&format!("{}/api/search?q=%20", relay.url), ANA).await;
        assert_eq!((status, error_code(&body)), (400, "invalid_request"));
        let (status, _, body) = get_json_with(
            &format!("{}/api/events?profile_id={PROFILE}&before=nope", relay.url),
            ANA,
        )
        .await;
        assert_eq!((status, error_code(&body)), (400, "invalid_request"));
    }
}

#[tokio::test]
async fn an_email_from_the_webhook_finds_the_customer_and_the_search_is_audited_hashed() {
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let config = config_with(
            "http://127.0.0.1:9",
            KEY,
            &["--identity-header", EMAIL, "--audit-hash-ids"],
        );
        let (relay, webhook) = start_stored(config, store).await;
        let (status, _) = post_webhook(
            &webhook,
            APP,
            Some(WEBHOOK_SECRET),
            &event("e1", "Ana.Customer@Mail.example"),
        )
        .await;
        assert_eq!(status, 200);
        for (query, matched) in [
            ("ana.customer%40mail.example", "email"),
            ("ANA.CUSTOMER%40MAIL.EXAMPLE", "email"),
            ("GPA.3345-1234-5678-90123", "transaction_id"),
            ("ticket-user", "customer_user_id"),
        ] {
            let (status, headers, body) =
                get_json_with(&format!("{}/api/search?q={query}", relay.url), ANA).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(headers["cache-control"], "no-store");
            let matches = body["matches"].as_array().unwrap();
            assert_eq!(matches.len(), 1, "{query}: {body}");
            assert_eq!(matches[0]["profile_id"], PROFILE);
            assert_eq!(matches[0]["matched"], matched);
            assert_eq!(matches[0]["email"], "ana.customer@mail.example");
            assert_eq!(matches[0]["customer_user_id"], "ticket-user");
            assert!(body["indexed_since"].is_string());
        }
        let (_, _, nothing) = get_json_with(
            &format!("{}/api/search?q=someone%40else.example", relay.url),
            ANA,
        )
        .await;
        assert_eq!(nothing["matches"], json!([]));
        // Audited like a lookup: who, which app, what (hashed), the outcome.
        let lines = relay.audit_lines();
        let searches: Vec<&Value> = lines
            .iter()
            .filter(|line| line["kind"] == "search")
            .collect();
        assert_eq!(searches.len(), 5);
        for line in &searches {
            assert_eq!(line["actor"], "ana@example.com");
            assert_eq!(line["outcome"], "ok");
            assert!(
                line["id"].as_str().unwrap().starts_with("hmac-sha256:"),
                "{line}"
            );
        }
        let text = std::fs::read_to_string(relay.audit_log.as_ref().unwrap()).unwrap();
        assert!(!text.to_lowercase().contains("ana.customer"), "{text}");
    }
}

#[tokio::test]
async fn a_lookup_indexes_the_customers_transactions_off_its_path() {
    for backend in BACKENDS {
        let stand_in = StandIn::start_samples().await.unwrap();
        let (store, _guard) = open_store(backend).await;
        let (relay, _) = start_stored(config(&stand_in.base_url, &stand_in.key), store).await;
        let (status, _, _) = get_json(&format!(
            "{}/api/profile?customer_user_id=demo-expired",
            relay.url
        ))
        .await;
        assert_eq!(status, 200);
        // Written after the answer left: found within moments.
        let mut found = Value::Null;
        for _ in 0..50 {
            let (_, _, body) =
                get_json(&format!("{}/api/search?q=2000000900000001", relay.url)).await;
            if !body["matches"].as_array().unwrap().is_empty() {
                found = body;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            found["matches"][0]["profile_id"],
            "1c3d9a6f-7b2e-4c8f-8d4a-3e5f7a9b1c2d"
        );
        assert_eq!(found["matches"][0]["matched"], "original_transaction_id");
        assert_eq!(found["matches"][0]["customer_user_id"], "demo-expired");
    }
}

#[tokio::test]
async fn the_feed_has_adaptys_events_and_supports_changes_with_author_and_reason() {
    for backend in BACKENDS {
        let stand_in = StandIn::start_samples().await.unwrap();
        let (store, _guard) = open_store(backend).await;
        let (relay, webhook) =
            start_stored(changes_on(&stand_in.base_url, &stand_in.key, &[]), store).await;
        stand_in
            .send_webhooks_to(WebhookTarget {
                url: format!("{webhook}/webhook/{APP}"),
                authorization: WEBHOOK_SECRET.into(),
            })
            .await;
        let expired = "1c3d9a6f-7b2e-4c8f-8d4a-3e5f7a9b1c2d";
        let (_, _, found) = get_json_with(
            &format!("{}/api/search?q=expired%40example.com", relay.url),
            ANA,
        )
        .await;
        assert_eq!(found["matches"][0]["profile_id"], expired, "{found}");

        let expires = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        let response = client()
            .post(format!("{}/api/access-level/grant", relay.url))
            .header("X-CSRF", "1")
            .header(EMAIL, "ana@example.com")
            .header(GROUPS, "leads")
            .header("content-type", "application/json")
            .body(
                json!({"profile_id": expired, "access_level_id": "premium",
                       "expires_at": expires, "reason": "Refund dispute #4411, goodwill"})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        // The stand-in tells the webhook of the grant a moment later.
        let mut page = Value::Null;
        for _ in 0..50 {
            let (_, _, body) = get_json_with(
                &format!("{}/api/events?profile_id={expired}", relay.url),
                ANA,
            )
            .await;
            let updates = body["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|event| event["type"] == "access_level_updated")
                .count();
            if updates == 2 {
                page = body;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let events = page["events"]
            .as_array()
            .expect("the grant's access_level_updated arrived");
        let staff = events
            .iter()
            .find(|event| event["source"] == "relay")
            .unwrap();
        assert_eq!(staff["type"], "grant");
        assert_eq!(staff["staff"]["author"], "ana@example.com");
        assert_eq!(staff["staff"]["reason"], "Refund dispute #4411, goodwill");
        assert_eq!(staff["staff"]["outcome"], "ok");
        assert_eq!(staff["staff"]["access_level_id"], "premium");
        let kinds: Vec<&str> = events
            .iter()
            .map(|event| event["type"].as_str().unwrap())
            .collect();
        for kind in [
            "subscription_started",
            "subscription_renewed",
            "subscription_expired",
        ] {
            assert!(kinds.contains(&kind), "{kinds:?}");
        }
        // Newest first: the grant and its update before the store's history.
        let times: Vec<&str> = events
            .iter()
            .map(|event| event["at"].as_str().unwrap())
            .collect();
        let mut sorted = times.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted);
        assert!(events
            .iter()
            .all(|event| event["source"] == "adapty" || event["source"] == "relay"));
    }
}

#[tokio::test]
async fn the_binary_keeps_its_store_across_a_restart_and_purges_one_customer() {
    let (upstream, _) = recording_upstream().await;
    let dir = static_dir();
    let store = format!("sqlite:{}", dir.join("store.db").display());
    let secret_file = dir.join("webhook.secret");
    std::fs::write(&secret_file, format!("{WEBHOOK_SECRET}\n")).unwrap();
    let webhook_port = free_port();
    let flags = [
        "--store",
        &store,
        "--webhook-listen",
        &format!("127.0.0.1:{webhook_port}"),
        "--webhook-secret-file",
        secret_file.to_str().unwrap(),
    ];
    let port = free_port();
    let audit = dir.join("audit.log");
    let mut relay = spawn_binary(&upstream, port, &audit, &flags).await;
    let webhook = format!("http://127.0.0.1:{webhook_port}");
    assert_eq!(
        post_webhook(
            &webhook,
            APP,
            Some(WEBHOOK_SECRET),
            &event("e1", "kept@example.com")
        )
        .await
        .0,
        200
    );
    relay.kill().unwrap();
    relay.wait().unwrap();

    let mut relay = spawn_binary(&upstream, port, &audit, &flags).await;
    let search = format!("http://127.0.0.1:{port}/api/search?q=kept%40example.com");
    let (_, _, body) = get_json(&search).await;
    assert_eq!(body["matches"][0]["profile_id"], PROFILE, "{body}");
    relay.kill().unwrap();
    relay.wait().unwrap();

    let purge = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
        .args([
            "--store",
            &store,
            "store",
            "purge",
            "--app",
            APP,
            "--profile-id",
        ])
        .arg(PROFILE.to_uppercase())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&purge.stdout);
    assert!(
        purge.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&purge.stderr)
    );
    assert!(said.contains("1 events"), "{said}");
    let mut relay = spawn_binary(&upstream, port, &audit, &flags).await;
    let (_, _, body) = get_json(&search).await;
    assert_eq!(body["matches"], json!([]), "{body}");
    relay.kill().unwrap();
    relay.wait().unwrap();
}

#[test]
fn the_store_password_is_shown_neither_in_help_nor_in_a_refusal() {
    let secret = "postgres://relay:Pa55w0rd-secret@db.internal/lookup";
    for args in [
        &["--help"][..],
        &["--store", "postgres://relay:Pa55w0rd-secret@db.internal/x"],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
            .env("RELAY_STORE", secret)
            .env("ADAPTY_API_KEY", KEY)
            .args(args)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!said.contains("Pa55w0rd"), "{args:?}: {said}");
        assert!(
            said.contains("RELAY_STORE") || said.contains("verify-full"),
            "{said}"
        );
    }
}

#[tokio::test]
async fn a_store_away_at_start_stops_neither_lookups_nor_the_relay_and_is_used_once_back() {
    let postgres = testkit::postgres::Postgres::start();
    postgres.stop();
    let (upstream, _) = recording_upstream().await;
    let dir = static_dir();
    let port = free_port();
    let url = postgres.url();
    let mut relay = spawn_binary(&upstream, port, &dir.join("audit.log"), &["--store", &url]).await;
    let base = format!("http://127.0.0.1:{port}");
    let (status, _, _) =
        get_json(&format!("{base}/api/profile?customer_user_id={SEED_USER}")).await;
    assert_eq!(status, 200, "a lookup waits for no store");
    let (status, _, body) = get_json(&format!("{base}/api/search?q=x")).await;
    assert_eq!((status, error_code(&body)), (503, "store_unavailable"));
    postgres.start_again();
    let mut answered = 0;
    for _ in 0..100 {
        let (status, _, _) = get_json(&format!("{base}/api/search?q=x")).await;
        if status == 200 {
            answered = status;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(answered, 200, "the store was not used once back");
    relay.kill().unwrap();
    relay.wait().unwrap();
}

#[tokio::test]
async fn store_reads_spend_no_lookups_and_have_an_allowance_of_their_own() {
    let (upstream, _) = recording_upstream().await;
    let (store, _) = sqlite_store().await;
    let config = config_with(
        &upstream,
        KEY,
        &[
            "--rate-limit-per-minute",
            "2",
            "--global-rate-limit-per-minute",
            "2",
        ],
    );
    let (relay, _) = start_stored(config, store).await;
    let search = format!("{}/api/search?q=x", relay.url);
    // Four reads a minute for each lookup: eight, and none of them a lookup.
    for n in 0..8 {
        let (status, _, body) = get_json(&search).await;
        assert_eq!(status, 200, "read {n}: {body}");
    }
    let (status, headers, body) = get_json(&search).await;
    assert_eq!((status, error_code(&body)), (429, "rate_limited"));
    assert!(headers.contains_key("retry-after"));
    let lookup = format!("{}/api/profile?customer_user_id={SEED_USER}", relay.url);
    for _ in 0..2 {
        assert_eq!(
            get_json(&lookup).await.0,
            200,
            "lookups are untouched by reads"
        );
    }
    assert_eq!(get_json(&lookup).await.0, 429);
}
