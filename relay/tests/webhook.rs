//! Adapty's webhook over real sockets: who may post, what is kept, what is
//! refused, and that nothing is lost while the store is away (a real
//! SQLite file, a real PostgreSQL cluster stopped in the middle).

mod common;

use common::*;
use relay::store::{Store, StoreAddress};
use serde_json::json;
use std::sync::Arc;
use testkit::postgres::Postgres;

const APP: &str = relay::apps::config::DEFAULT_APP_ID;
const PROFILE: &str = "7f1c2d3e-0000-4000-8000-000000000001";

fn event(id: &str, kind: &str, at: &str) -> String {
    json!({
        "profile_id": PROFILE,
        "customer_user_id": "ticket-user",
        "email": "Ana@Example.com",
        "event_type": kind,
        "event_datetime": at,
        "event_properties": {
            "profile_event_id": id,
            "store": "app_store",
            "environment": "Production",
            "transaction_id": format!("tx-{id}"),
            "original_transaction_id": "otx-1",
            "price_local": 9.99,
            "currency": "EUR",
            "profile_ip_address": "10.1.2.3"
        }
    })
    .to_string()
}

async fn stored_events(store: &Store) -> Vec<String> {
    store
        .events(APP, PROFILE, None)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|event| event.id)
        .collect()
}

async fn relay_with(store: Arc<Store>) -> (Relay, String) {
    start_stored(config("http://127.0.0.1:9", KEY), store).await
}

fn counted(metrics: &str, outcome: &str) -> u64 {
    let line = format!("relay_webhook_events_total{{app=\"{APP}\",outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&line))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn only_the_apps_two_secrets_may_post_and_a_refusal_writes_nothing() {
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let (relay, webhook) = relay_with(store.clone()).await;
        let body = event(
            "e-prod",
            "subscription_started",
            "2026-12-01T10:00:00.000000+0000",
        );
        assert_eq!(
            post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), &body)
                .await
                .0,
            200
        );
        let sandbox = event(
            "e-sandbox",
            "subscription_started",
            "2026-12-01T10:00:01.000000+0000",
        );
        assert_eq!(
            post_webhook(&webhook, APP, Some(WEBHOOK_SANDBOX_SECRET), &sandbox)
                .await
                .0,
            200
        );
        for (authorization, what) in [
            (None, "missing"),
            (Some("wrong-secret-0123456789"), "wrong"),
            (
                Some(&format!("Bearer {WEBHOOK_SECRET}") as &str),
                "with a scheme added",
            ),
            (Some(&WEBHOOK_SECRET[1..]), "a prefix cut"),
        ] {
            let refused = event(&format!("e-{what}"), "x", "2026-12-01T10:00:00Z");
            let (status, answer) = post_webhook(&webhook, APP, authorization, &refused).await;
            assert_eq!(status, 401, "{what}");
            assert!(
                answer["error"].as_str().unwrap().contains("Authorization"),
                "{answer}"
            );
        }
        assert_eq!(stored_events(&store).await, ["e-sandbox", "e-prod"]);
        // Another app's path, a path that is not the webhook, another method:
        // 404, never a hint that something is there.
        let client = client();
        for (method, path) in [
            ("POST", "/webhook/nosuch"),
            ("GET", &format!("/webhook/{APP}") as &str),
            ("POST", "/api/profile"),
            ("GET", "/metrics"),
            ("GET", "/"),
        ] {
            let response = client
                .request(method.parse().unwrap(), format!("{webhook}{path}"))
                .header("authorization", WEBHOOK_SECRET)
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404, "{method} {path}");
        }
        // And the panel's listener has no webhook: an event posted there is
        // not kept.
        let there = event("e-panel", "x", "2026-12-01T10:00:00Z");
        post_webhook(&relay.url, APP, Some(WEBHOOK_SECRET), &there).await;
        assert_eq!(stored_events(&store).await, ["e-sandbox", "e-prod"]);
        let metrics = metrics(&relay.url).await;
        assert_eq!(counted(&metrics, "accepted"), 2);
        assert_eq!(counted(&metrics, "unauthorized"), 4);
        // Nobody looked anything up: the audit log has no line of it.
        assert!(relay.audit_lines().is_empty(), "{:?}", relay.audit_lines());
    }
}

#[tokio::test]
async fn an_app_without_a_secret_has_no_webhook() {
    let (store, _) = sqlite_store().await;
    let mut config = config("http://127.0.0.1:9", KEY);
    config.apps.apps[0].webhook = Default::default();
    let (_, running) =
        relay::http::router(config, Some(store.clone()), axum::Router::new()).unwrap();
    let router =
        relay::webhook::router(running.apps.clone(), store.clone(), running.metrics.clone());
    let webhook = serve(router).await;
    let body = event("e1", "x", "2026-12-01T10:00:00Z");
    assert_eq!(
        post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), &body)
            .await
            .0,
        404
    );
    assert!(stored_events(&store).await.is_empty());
}

#[tokio::test]
async fn verification_is_answered_as_adapty_expects() {
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let (_relay, webhook) = relay_with(store.clone()).await;
        let (status, answer) = post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), "{}").await;
        assert_eq!((status, answer), (200, json!({})));
        let (status, answer) = post_webhook(
            &webhook,
            APP,
            Some(WEBHOOK_SECRET),
            r#"{"adapty_check":"c-123"}"#,
        )
        .await;
        assert_eq!(
            (status, answer),
            (200, json!({"adapty_check_response": "c-123"}))
        );
        // Unauthenticated, a check is refused like anything else.
        assert_eq!(post_webhook(&webhook, APP, None, "{}").await.0, 401);
        assert!(stored_events(&store).await.is_empty());
    }
}

#[tokio::test]
async fn a_duplicate_is_answered_200_and_kept_once_and_order_is_the_events_own() {
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let (relay, webhook) = relay_with(store.clone()).await;
        let later = event(
            "e-later",
            "subscription_renewed",
            "2026-12-02T10:00:00.000000+0000",
        );
        let earlier = event(
            "e-earlier",
            "subscription_started",
            "2026-11-02T10:00:00.000000+0000",
        );
        for body in [&later, &earlier, &later, &later] {
            assert_eq!(
                post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), body)
                    .await
                    .0,
                200
            );
        }
        assert_eq!(stored_events(&store).await, ["e-later", "e-earlier"]);
        let metrics = metrics(&relay.url).await;
        assert_eq!(counted(&metrics, "accepted"), 2);
        assert_eq!(counted(&metrics, "duplicate"), 2);
        // What is kept is what the panel shows, and not the customer's IP address.
        let page = store.events(APP, PROFILE, None).await.unwrap();
        let kept = serde_json::to_string(&page).unwrap();
        assert!(!kept.contains("10.1.2.3"), "{kept}");
        assert_eq!(page.events[0].currency.as_deref(), Some("EUR"));
    }
}

#[tokio::test]
async fn what_is_not_an_event_is_refused_with_a_reason_and_counted() {
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let (relay, webhook) = relay_with(store.clone()).await;
        let too_large = format!(
            r#"{{"profile_id":"{PROFILE}","padding":"{}"}}"#,
            "x".repeat(1024 * 1024)
        );
        for (body, status, says) in [
            ("{not json", 400, "not JSON"),
            ("[1,2]", 400, "not a JSON object"),
            (
                r#"{"event_type":"subscription_started"}"#,
                400,
                "profile_id",
            ),
            (&too_large as &str, 413, "1 MiB"),
        ] {
            let (got, answer) = post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), body).await;
            assert_eq!(got, status, "{answer}");
            assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
        }
        assert!(stored_events(&store).await.is_empty());
        let metrics = metrics(&relay.url).await;
        assert_eq!(counted(&metrics, "malformed"), 2);
        assert_eq!(counted(&metrics, "no_profile_id"), 1);
        assert_eq!(counted(&metrics, "too_large"), 1);
    }
}

/// Events sent while the store is away get 503; sent again (as Adapty does
/// for 24 hours) once it is back, every one is kept.
async fn nothing_is_lost_while_the_store_is_away(
    store: Arc<Store>,
    take_away: impl FnOnce(),
    bring_back: impl FnOnce(),
) {
    let (_relay, webhook) = relay_with(store.clone()).await;
    let before = event("e-before", "subscription_started", "2026-12-01T10:00:00Z");
    assert_eq!(
        post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), &before)
            .await
            .0,
        200
    );
    take_away();
    let during: Vec<String> = (0..3)
        .map(|n| {
            event(
                &format!("e-during-{n}"),
                "subscription_renewed",
                &format!("2026-12-0{}T10:00:00Z", n + 2),
            )
        })
        .collect();
    for body in &during {
        let (status, answer) = post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), body).await;
        assert_eq!(status, 503, "{answer}");
    }
    bring_back();
    for body in &during {
        assert_eq!(
            post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), body)
                .await
                .0,
            200
        );
    }
    assert_eq!(
        stored_events(&store).await,
        ["e-during-2", "e-during-1", "e-during-0", "e-before"]
    );
}

#[tokio::test]
async fn postgres_stopped_mid_run_answers_503_and_loses_nothing() {
    let postgres = Postgres::start();
    let store = Arc::new(
        Store::open(&StoreAddress::parse(&postgres.url()).unwrap())
            .await
            .unwrap(),
    );
    nothing_is_lost_while_the_store_is_away(store, || postgres.stop(), || postgres.start_again())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_file_answers_503_and_loses_nothing() {
    // The tests run as root, for whom no file is unwritable: another
    // connection's exclusive lock on the database is what makes it so.
    use sqlx::Connection;
    let (store, path) = sqlite_store().await;
    let mut locker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let (lock, locked) = tokio::sync::oneshot::channel::<()>();
    let (unlock, unlocked) = tokio::sync::oneshot::channel::<()>();
    let (taken, is_taken) = std::sync::mpsc::channel::<()>();
    let (released, is_released) = std::sync::mpsc::channel::<()>();
    let holder = tokio::spawn(async move {
        lock_until(&mut locker, locked, unlocked, taken)
            .await
            .unwrap();
        let _ = released.send(());
    });
    // Each returns once the lock is taken, or given back.
    let take_away = move || {
        let _ = lock.send(());
        is_taken.recv().unwrap();
    };
    let bring_back = move || {
        let _ = unlock.send(());
        is_released.recv().unwrap();
    };
    nothing_is_lost_while_the_store_is_away(store, take_away, bring_back).await;
    holder.await.unwrap();
}

async fn lock_until(
    connection: &mut sqlx::SqliteConnection,
    lock: tokio::sync::oneshot::Receiver<()>,
    unlock: tokio::sync::oneshot::Receiver<()>,
    taken: std::sync::mpsc::Sender<()>,
) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    let _ = lock.await;
    connection.execute("BEGIN EXCLUSIVE").await?;
    let _ = taken.send(());
    let _ = unlock.await;
    connection.execute("ROLLBACK").await?;
    Ok(())
}

#[tokio::test]
async fn one_apps_secret_opens_only_its_own_webhook_and_its_customers_stay_its_own() {
    use relay::apps::webhook_secret::{WebhookSecret, WebhookSecrets};
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let mut config = config("http://127.0.0.1:9", KEY);
        let mut kids = config.apps.apps[0].clone();
        kids.id = "kids".into();
        kids.name = "Kids app".into();
        kids.webhook = WebhookSecrets {
            production: Some(WebhookSecret::new("kids-production-0123456789").unwrap()),
            sandbox: None,
        };
        config.apps.apps.push(kids);
        let (relay, webhook) = start_stored(config, store.clone()).await;
        let body = event("e-kids", "subscription_started", "2026-12-01T10:00:00Z");
        // The main app's secret does not open the kids app's webhook, nor
        // the kids app's the main app's.
        assert_eq!(
            post_webhook(&webhook, "kids", Some(WEBHOOK_SECRET), &body)
                .await
                .0,
            401
        );
        assert_eq!(
            post_webhook(&webhook, APP, Some("kids-production-0123456789"), &body)
                .await
                .0,
            401
        );
        assert_eq!(
            post_webhook(&webhook, "kids", Some("kids-production-0123456789"), &body)
                .await
                .0,
            200
        );
        // Kept for the kids app only: the main app neither finds nor lists it.
        let search = |app: &str| format!("{}/api/search?app={app}&q=ana%40example.com", relay.url);
        let (_, _, in_kids) = get_json(&search("kids")).await;
        assert_eq!(in_kids["matches"][0]["profile_id"], PROFILE, "{in_kids}");
        let (_, _, in_main) = get_json(&search(APP)).await;
        assert_eq!(in_main["matches"], json!([]), "{in_main}");
        let events = |app: &str| format!("{}/api/events?app={app}&profile_id={PROFILE}", relay.url);
        let (_, _, main_events) = get_json(&events(APP)).await;
        assert_eq!(main_events["events"], json!([]));
        let (_, _, kids_events) = get_json(&events("kids")).await;
        assert_eq!(kids_events["events"][0]["id"], "e-kids");
    }
}
