//! Bulk runs over real sockets (issue 24): off unless their role is set,
//! NDJSON results in the list's order, the app's budget held (half of it at
//! most, calls spread over the minute), a browser that goes away stops the
//! run, and the audit log's start, one line per customer, and end.

mod common;

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use common::*;
use relay::demo::StandIn;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BULK: &str = "api/bulk";
const LEAD: &[(&str, &str)] = &[(EMAIL, "lead@example.com"), (GROUPS, "support, bulk")];
const AGENT: &[(&str, &str)] = &[(EMAIL, "agent@example.com"), (GROUPS, "support")];

fn bulk_on(upstream: &str, key: &str, extra: &[&str]) -> relay::settings::Config {
    let mut args = vec![
        "--identity-header",
        EMAIL,
        "--roles-header",
        GROUPS,
        "--bulk-role",
        "bulk",
    ];
    args.extend(extra);
    config_with(upstream, key, &args)
}

fn request(relay: &Relay, body: &Value, who: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let mut request = client()
        .post(format!("{}/{BULK}", relay.url))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .body(body.to_string());
    for (name, value) in who {
        request = request.header(*name, *value);
    }
    request
}

/// The whole answer, one JSON value a line.
async fn run(relay: &Relay, body: &Value, who: &[(&str, &str)]) -> (u16, Vec<Value>) {
    let response = request(relay, body, who).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let lines = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    (status, lines)
}

/// An upstream that answers the seed for every customer but `nobody`, and
/// notes when each call came.
async fn timed_upstream() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let router = Router::new().route(
        "/api/v2/server-side-api/profile/",
        get(move |headers: HeaderMap| {
            seen.lock().unwrap().push(Instant::now());
            let nobody = headers
                .get("adapty-customer-user-id")
                .is_some_and(|id| id == "nobody");
            async move {
                if nobody {
                    (
                        axum::http::StatusCode::NOT_FOUND,
                        r#"{"errors":[],"error_code":"profile_does_not_exist","status_code":404}"#,
                    )
                } else {
                    (axum::http::StatusCode::OK, SEED)
                }
            }
        }),
    );
    (serve(router).await, calls)
}

#[tokio::test]
async fn bulk_runs_are_off_without_their_role_and_only_for_people_in_it() {
    let (upstream, calls) = timed_upstream().await;
    let body = json!({"reason": "store outage", "ids": ["a"]});
    let off = start(config_with(
        &upstream,
        KEY,
        &["--identity-header", EMAIL, "--roles-header", GROUPS],
    ))
    .await;
    let (status, lines) = run(&off, &body, LEAD).await;
    assert_eq!(status, 403);
    assert_eq!(lines[0]["error"]["code"], "changes_disabled");
    assert!(lines[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--bulk-role"));
    let on = start(bulk_on(&upstream, KEY, &[])).await;
    let (status, lines) = run(&on, &body, AGENT).await;
    assert_eq!(
        (status, &lines[0]["error"]["code"]),
        (403, &json!("changes_not_allowed"))
    );
    assert!(calls.lock().unwrap().is_empty(), "nothing reached Adapty");
    let (_, _, lead) = get_json_with(&format!("{}/api/session", on.url), LEAD).await;
    assert_eq!(lead["apps"][0]["can_bulk_check"], true);
    let (_, _, agent) = get_json_with(&format!("{}/api/session", on.url), AGENT).await;
    assert_eq!(agent["apps"][0]["can_bulk_check"], false);
    // The list's own rules, before anything is asked.
    let many: Vec<String> = (0..4).map(|i| format!("u{i}")).collect();
    let small = start(bulk_on(&upstream, KEY, &["--bulk-max-ids", "3"])).await;
    let (status, lines) = run(&small, &json!({"reason": "audit", "ids": many}), LEAD).await;
    assert_eq!(status, 400);
    assert!(lines[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 3 IDs; this list has 4"));
    // The panel is told the limit, to refuse a longer list before sending.
    let (_, _, session) = get_json_with(&format!("{}/api/session", small.url), LEAD).await;
    assert_eq!(session["bulk_max_ids"], 3);
}

#[tokio::test]
async fn a_run_answers_each_id_in_order_and_audits_start_each_customer_and_end() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let relay = start(bulk_on(&stand_in.base_url, &stand_in.key, &[])).await;
    let ids = json!([
        SEED_USER,
        "demo-play-store",
        "",
        "nobody-at-all",
        "é-not-ascii",
        "demo-play-store",
        "d8533a10-bcce-4e33-8c9d-88b05ac56559"
    ]);
    let (status, lines) = run(
        &relay,
        &json!({"reason": "refund wave 12", "ids": ids}),
        LEAD,
    )
    .await;
    assert_eq!(status, 200, "{lines:?}");
    let start = &lines[0];
    assert_eq!(start["type"], "start");
    assert_eq!(
        (&start["count"], &start["duplicates"], &start["blanks"]),
        (&json!(5), &json!(1), &json!(1))
    );
    let checked: Vec<&Value> = lines
        .iter()
        .filter(|line| line["type"] == "checked")
        .collect();
    let summary: Vec<(u64, &str, &str)> = checked
        .iter()
        .map(|line| {
            (
                line["index"].as_u64().unwrap(),
                line["id"].as_str().unwrap(),
                line["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, SEED_USER, "found"),
            (1, "demo-play-store", "found"),
            (2, "nobody-at-all", "not_found"),
            (3, "é-not-ascii", "invalid"),
            (4, "d8533a10-bcce-4e33-8c9d-88b05ac56559", "found"),
        ]
    );
    assert_eq!(
        checked[1]["profile"]["data"]["customer_user_id"],
        "demo-play-store"
    );
    assert_eq!(checked[4]["matched"], "profile_id");
    assert!(checked[3]["error"].as_str().unwrap().contains("non-ASCII"));
    let end = lines.last().unwrap();
    assert_eq!(end["type"], "end");
    assert_eq!(
        (
            &end["found"],
            &end["not_found"],
            &end["invalid"],
            &end["cancelled"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(false))
    );

    let audit = relay.audit_lines();
    let run: Vec<&Value> = audit
        .iter()
        .filter(|line| line["action"] == "bulk")
        .collect();
    let phases: Vec<&str> = run
        .iter()
        .map(|line| line["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        ["start", "check", "check", "check", "check", "check", "end"]
    );
    assert!(run.iter().all(|line| line["run_id"] == start["run_id"]));
    assert_eq!(run[0]["reason"], "refund wave 12");
    assert_eq!(run[0]["count"], 5);
    assert_eq!(run[1]["id"], SEED_USER);
    assert_eq!(run[6]["outcome"], "completed");
    assert_eq!(run[6]["counts"]["found"], 3);
    let metrics = metrics(&relay.url).await;
    assert!(
        metrics.contains(r#"relay_bulk_runs_total{app="default",outcome="completed"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"relay_bulk_customers_checked_total{app="default",outcome="found"} 3"#),
        "{metrics}"
    );
}

/// At a budget of 600 a minute, the runs take 300, one every 200 ms.
#[tokio::test]
async fn a_run_keeps_to_half_the_apps_budget_spread_over_the_minute() {
    let (upstream, calls) = timed_upstream().await;
    let relay = start(bulk_on(
        &upstream,
        KEY,
        &["--global-rate-limit-per-minute", "600"],
    ))
    .await;
    let ids: Vec<String> = (0..6).map(|i| format!("user-{i}")).collect();
    let (status, lines) = run(&relay, &json!({"reason": "beta audit", "ids": ids}), LEAD).await;
    assert_eq!(status, 200);
    assert_eq!(lines[0]["per_minute"], 300);
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 6);
    for pair in calls.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(180),
            "calls {gap:?} apart: faster than 300 a minute"
        );
    }
}

#[tokio::test]
async fn a_browser_that_goes_away_stops_the_run() {
    let (upstream, calls) = timed_upstream().await;
    // 60 a minute: one check a second.
    let relay = start(bulk_on(
        &upstream,
        KEY,
        &["--global-rate-limit-per-minute", "120"],
    ))
    .await;
    let ids: Vec<String> = (0..50).map(|i| format!("user-{i}")).collect();
    let mut response = request(&relay, &json!({"reason": "outage check", "ids": ids}), LEAD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    while seen.matches('\n').count() < 3 {
        let chunk = response.chunk().await.unwrap().expect("more lines");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(response);
    let at_drop = calls.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = calls.lock().unwrap().len();
    assert!(
        after <= at_drop + 1,
        "{at_drop} calls when the browser left, {after} after"
    );
    let end = relay
        .audit_lines()
        .into_iter()
        .find(|line| line["phase"] == "end")
        .expect("an end line");
    assert_eq!(end["outcome"], "cancelled");
    assert!(metrics(&relay.url)
        .await
        .contains(r#"relay_bulk_runs_total{app="default",outcome="cancelled"} 1"#));
}

/// With a store, a found customer's line carries their newest event from
/// Adapty's webhooks, as a JSON string (no key of it, `profile` among
/// Adapty's own, can be taken for the line's); a customer the store has
/// no event for carries none.
#[tokio::test]
async fn a_found_customers_line_carries_their_last_adapty_event_from_the_store() {
    const SEED_PROFILE: &str = "d8533a10-bcce-4e33-8c9d-88b05ac56559";
    let event = |id: &str, kind: &str, at: &str| {
        json!({
            "profile_id": SEED_PROFILE, "customer_user_id": SEED_USER,
            "event_type": kind, "event_datetime": at,
            "event_properties": {"profile_event_id": id, "vendor_product_id": "weekly.premium.599"},
            "a": 1, "profile": {"x": 1}
        })
        .to_string()
    };
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let stand_in = StandIn::start_samples().await.unwrap();
        let (relay, webhook) =
            start_stored(bulk_on(&stand_in.base_url, &stand_in.key, &[]), store).await;
        for (id, kind, at) in [
            (
                "e-new",
                "subscription_renewed",
                "2026-12-01T10:00:00.000000+0000",
            ),
            (
                "e-old",
                "subscription_started",
                "2026-11-01T10:00:00.000000+0000",
            ),
        ] {
            let app = relay::apps::config::DEFAULT_APP_ID;
            let (status, body) =
                post_webhook(&webhook, app, Some(WEBHOOK_SECRET), &event(id, kind, at)).await;
            assert_eq!(status, 200, "{body}");
        }
        let body = json!({"reason": "refund wave 12", "ids": [SEED_USER, "demo-play-store"]});
        let text = request(&relay, &body, LEAD)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let lines: Vec<&str> = text
            .lines()
            .filter(|line| line.contains("\"checked\""))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let seed: Value = serde_json::from_str(lines[0]).unwrap();
        let stored = seed[protocol::bulk::LAST_EVENT].as_str().expect("a string");
        let last: Value = serde_json::from_str(stored).unwrap();
        assert_eq!(
            (&last["type"], &last["at"], &last["source"]),
            (
                &json!("subscription_renewed"),
                &json!("2026-12-01T10:00:00Z"),
                &json!("adapty")
            ),
            "{backend:?}: {seed}"
        );
        // The profile's key is there once: the line splits where the panel cuts it.
        let key = format!(",\"{}\":", protocol::bulk::PROFILE);
        assert_eq!(lines[0].matches(&key).count(), 1, "{}", lines[0]);
        let other: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(other["status"], "found");
        assert!(other.get(protocol::bulk::LAST_EVENT).is_none(), "{other}");
    }
}

/// A store that cannot answer fails no ID: each is still checked at
/// Adapty, its line without a last event.
#[tokio::test]
async fn a_store_that_cannot_answer_fails_no_id() {
    let (store, _guard) = open_store(Backend::Sqlite).await;
    let stand_in = StandIn::start_samples().await.unwrap();
    let (relay, _) = start_stored(
        bulk_on(&stand_in.base_url, &stand_in.key, &[]),
        store.clone(),
    )
    .await;
    store.close().await;
    let body = json!({"reason": "refund wave 12", "ids": [SEED_USER, "demo-play-store"]});
    let (status, lines) = run(&relay, &body, LEAD).await;
    assert_eq!(status, 200, "{lines:?}");
    let checked: Vec<&Value> = lines
        .iter()
        .filter(|line| line["type"] == "checked")
        .collect();
    assert_eq!(checked.len(), 2, "{lines:?}");
    for line in checked {
        assert_eq!(line["status"], "found", "{line}");
        assert!(line.get(protocol::bulk::LAST_EVENT).is_none(), "{line}");
    }
}
