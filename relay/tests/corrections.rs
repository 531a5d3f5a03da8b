//! Profile corrections and erasures over real sockets (issue 22): off
//! unless their role is set, only for people in it, only the panel's own
//! JSON, every rule checked before Adapty with the field named, never
//! repeated once sent, two audit lines around each, an hourly allowance of
//! their own; an erasure clears the store and a later lookup says who
//! erased the customer and when.

mod common;

use common::*;
use relay::demo::StandIn;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;

const UPDATE: &str = "api/profile/update";
const ERASE: &str = "api/profile/erase";
const APP: &str = relay::apps::config::DEFAULT_APP_ID;
const PROFILE: &str = "7f1c2d3e-0000-4000-8000-0000000000e1";
const CUSTOMER: &str = "ticket-user";

/// A support lead in the roles that may correct and erase.
const LEAD: &[(&str, &str)] = &[
    (EMAIL, "lead@example.com"),
    (GROUPS, "support, editors, erasers"),
];
/// An agent who may only look.
const AGENT: &[(&str, &str)] = &[(EMAIL, "agent@example.com"), (GROUPS, "support")];

/// Header mode with corrections for `editors` and erasures for `erasers`.
fn both_on(upstream: &str, key: &str, extra: &[&str]) -> relay::settings::Config {
    let mut args = vec![
        "--identity-header",
        EMAIL,
        "--roles-header",
        GROUPS,
        "--edit-role",
        "editors",
        "--erase-role",
        "erasers",
    ];
    args.extend(extra);
    config_with(upstream, key, &args)
}

fn profile(attributes: usize) -> Value {
    let custom: Vec<Value> = (0..attributes)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    json!({
        "app_id": "14c3d333-2f3a-455a-aa86-ef83dff6913b", "profile_id": PROFILE,
        "customer_user_id": CUSTOMER, "total_revenue_usd": 0, "segment_hash": "x",
        "timestamp": 1733324566777_i64, "custom_attributes": custom,
        "access_levels": [], "subscriptions": [], "non_subscriptions": []
    })
}

fn correction() -> Value {
    json!({"customer_user_id": CUSTOMER, "reason": "ticket 8812: wrong plan hint",
           "custom_attributes": {"plan_hint": "gold"}})
}

fn erasure() -> Value {
    json!({"customer_user_id": CUSTOMER, "confirm": CUSTOMER, "reason": "GDPR request 12"})
}

async fn post_json(
    relay: &Relay,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = client()
        .post(format!("{}/{path}", relay.url))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn both_are_off_by_default_and_nothing_reaches_adapty() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &["--identity-header", EMAIL, "--roles-header", GROUPS],
    ))
    .await;
    for (path, body, flag) in [
        (UPDATE, correction(), "--edit-role"),
        (ERASE, erasure(), "--erase-role"),
    ] {
        let (status, answer) = post_json(&relay, path, &body, LEAD).await;
        assert_eq!(
            (status, error_code(&answer)),
            (403, "changes_disabled"),
            "{path}"
        );
        assert!(message(&answer).contains(flag), "{answer}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let (_, _, session) = get_json_with(&format!("{}/api/session", relay.url), LEAD).await;
    assert_eq!(session["apps"][0]["can_edit_profile"], false);
    assert_eq!(session["apps"][0]["can_erase"], false);
}

#[tokio::test]
async fn only_people_in_the_role_and_only_the_panels_json() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(both_on(&upstream, KEY, &[])).await;
    for (path, body, role, words) in [
        (UPDATE, correction(), "editors", "correct their profiles"),
        (ERASE, erasure(), "erasers", "erase them"),
    ] {
        let (status, answer) = post_json(&relay, path, &body, AGENT).await;
        assert_eq!(
            (status, error_code(&answer)),
            (403, "changes_not_allowed"),
            "{path}"
        );
        assert!(
            message(&answer).contains(role) && message(&answer).contains(words),
            "{answer}"
        );
        // Without the panel's header: another site's form.
        let response = client()
            .post(format!("{}/{path}", relay.url))
            .header("Content-Type", "application/json")
            .header(EMAIL, "lead@example.com")
            .header(GROUPS, "editors, erasers")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        // Not JSON.
        let response = client()
            .post(format!("{}/{path}", relay.url))
            .header("X-CSRF", "1")
            .header("Content-Type", "text/plain")
            .header(EMAIL, "lead@example.com")
            .header(GROUPS, "editors, erasers")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{path}");
        // Another method.
        let response = client()
            .get(format!("{}/{path}", relay.url))
            .header("X-CSRF", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{path}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing reached Adapty");
    let (_, _, lead) = get_json_with(&format!("{}/api/session", relay.url), LEAD).await;
    assert_eq!(
        (
            &lead["apps"][0]["can_edit_profile"],
            &lead["apps"][0]["can_erase"]
        ),
        (&json!(true), &json!(true))
    );
    let (_, _, agent) = get_json_with(&format!("{}/api/session", relay.url), AGENT).await;
    assert_eq!(
        (
            &agent["apps"][0]["can_edit_profile"],
            &agent["apps"][0]["can_erase"]
        ),
        (&json!(false), &json!(false))
    );
}

#[tokio::test]
async fn every_rule_is_checked_before_adapty_with_the_field_named() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(both_on(&upstream, KEY, &[])).await;
    let with = |base: Value, extra: Value| {
        let mut body = base;
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let cases = [
        (
            UPDATE,
            with(correction(), json!({"custom_attributes": {"bad key": "x"}})),
            "custom_attributes: the key \"bad key\" may hold only letters",
        ),
        (
            UPDATE,
            with(
                correction(),
                json!({"custom_attributes": {"k".repeat(31): "x"}}),
            ),
            "must be 1 to 30 characters",
        ),
        (
            UPDATE,
            with(
                correction(),
                json!({"custom_attributes": {"k": "v".repeat(51)}}),
            ),
            "the value of \"k\" must be at most 50 characters",
        ),
        (
            UPDATE,
            with(correction(), json!({"custom_attributes": {"k": {"a": 1}}})),
            "must be a string, a number, or null",
        ),
        (
            UPDATE,
            with(correction(), json!({"email": "ann at example.com"})),
            "email is not an email address",
        ),
        (
            UPDATE,
            with(correction(), json!({"phone_number": "ring me"})),
            "phone_number must be digits",
        ),
        (
            UPDATE,
            with(correction(), json!({"first_name": 7})),
            "first_name must be a string, or null",
        ),
        (
            UPDATE,
            json!({"customer_user_id": CUSTOMER, "reason": "ticket 1"}),
            "nothing to correct",
        ),
        (
            UPDATE,
            with(correction(), json!({"reason": "no"})),
            "reason must have at least 3 visible characters",
        ),
        (
            UPDATE,
            with(correction(), json!({"gender": "f"})),
            "unknown field `gender`",
        ),
        (
            ERASE,
            with(erasure(), json!({"confirm": "ticket-usr"})),
            "confirm does not repeat the customer's ID exactly",
        ),
        (
            ERASE,
            json!({"customer_user_id": CUSTOMER, "reason": "GDPR 1"}),
            "type the customer's ID again",
        ),
        (
            ERASE,
            with(erasure(), json!({"profile_id": PROFILE})),
            "not both",
        ),
        (
            ERASE,
            with(erasure(), json!({"reason": " "})),
            "reason must have at least 3",
        ),
    ];
    for (path, body, expected) in cases {
        let (status, answer) = post_json(&relay, path, &body, LEAD).await;
        assert_eq!(
            (status, error_code(&answer)),
            (400, "invalid_request"),
            "{body}: {answer}"
        );
        assert!(
            message(&answer).contains(expected),
            "{body}: {}",
            message(&answer)
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing reached Adapty");
    let audit = relay.audit_lines();
    assert!(
        audit.iter().all(|line| line["phase"] == "refused"),
        "only refusals: {audit:?}"
    );
}

/// The count after the change is checked against the profile as it is:
/// the profile is read, and the correction never sent.
#[tokio::test]
async fn at_most_thirty_attributes_after_a_correction() {
    let stand_in = StandIn::start(vec![profile(29)]).await.unwrap();
    let relay = start(both_on(&stand_in.base_url, &stand_in.key, &[])).await;
    let mut two_more = correction();
    two_more["custom_attributes"] = json!({"a": "1", "b": 2});
    let (status, answer) = post_json(&relay, UPDATE, &two_more, LEAD).await;
    assert_eq!(
        (status, error_code(&answer)),
        (400, "invalid_request"),
        "{answer}"
    );
    assert!(
        message(&answer).contains("would have 31 custom attributes"),
        "{answer}"
    );
    assert_eq!(stand_in.changes_received.load(Ordering::SeqCst), 0);
    two_more["custom_attributes"] = json!({"a": "1", "b": 2, "k0": null});
    let (status, answer) = post_json(&relay, UPDATE, &two_more, LEAD).await;
    assert_eq!(status, 200, "one removed, two added: 30 {answer}");
    let keys: Vec<&str> = answer["data"]["custom_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 30);
    assert!(keys.contains(&"a") && keys.contains(&"b") && !keys.contains(&"k0"));
}

#[tokio::test]
async fn a_correction_is_answered_with_the_profile_kept_and_audited_without_contact_values() {
    let stand_in = StandIn::start(vec![profile(1)]).await.unwrap();
    let relay = start(both_on(&stand_in.base_url, &stand_in.key, &[])).await;
    let body = json!({"customer_user_id": CUSTOMER, "reason": "ticket 8812",
        "email": "new.address@example.com", "custom_attributes": {"plan_hint": "gold", "k0": null}});
    let (status, answer) = post_json(&relay, UPDATE, &body, LEAD).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["data"]["custom_attributes"],
        json!([{"key": "plan_hint", "value": "gold"}])
    );
    // A new lookup shows it.
    let (status, _, looked_up) = get_json_with(
        &format!("{}/api/profile?customer_user_id={CUSTOMER}", relay.url),
        LEAD,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        looked_up["data"]["custom_attributes"],
        answer["data"]["custom_attributes"]
    );
    let audit = relay.audit_lines();
    let edits: Vec<&Value> = audit
        .iter()
        .filter(|line| line["action"] == "edit")
        .collect();
    assert_eq!(
        edits
            .iter()
            .map(|line| line["phase"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["asked", "done"]
    );
    assert_eq!(edits[0]["change_id"], edits[1]["change_id"]);
    assert_eq!(edits[1]["outcome"], "ok");
    assert_eq!(edits[0]["actor"], "lead@example.com");
    assert_eq!(edits[0]["reason"], "ticket 8812");
    assert_eq!(
        edits[0]["correction"],
        json!({"contact": ["email"], "custom_attributes": [["k0", null], ["plan_hint", "gold"]]})
    );
    let text = std::fs::read_to_string(relay.audit_log.as_ref().unwrap()).unwrap();
    assert!(
        !text.contains("new.address"),
        "a contact value stays out of the log"
    );
}

/// A correction or erasure that may have reached Adapty is never sent again,
/// and the agent is told to look the customer up.
#[tokio::test]
async fn neither_is_repeated_once_it_may_have_reached_adapty() {
    for (path, body) in [(UPDATE, correction()), (ERASE, erasure())] {
        let faults = [
            ("a reset after reading the request", Raw::Reset),
            (
                "no answer in time",
                Raw::SendThenStall(Vec::new(), Duration::from_secs(10)),
            ),
            ("a 503", http("503 Service Unavailable", "", "")),
        ];
        for (name, fault) in faults {
            let seed = SEED.replace("77B14FB4-FD2A-4D38-AA3A-4C433F79863C", CUSTOMER);
            let (upstream, calls) = raw_upstream(vec![ok_json(&seed), fault, ok_json(&seed)]).await;
            let relay = start(both_on(&upstream, KEY, &["--upstream-timeout-secs", "1"])).await;
            let (status, answer) = post_json(&relay, path, &body, LEAD).await;
            assert_eq!(
                (status, error_code(&answer)),
                (504, "outcome_unknown"),
                "{path}, {name}: {answer}"
            );
            assert!(
                message(&answer).contains("look the customer up again"),
                "{answer}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(
                calls.load(Ordering::SeqCst),
                2,
                "{path}, {name}: the profile read, then the change sent once"
            );
            let phases: Vec<String> = relay
                .audit_lines()
                .iter()
                .map(|line| format!("{} {}", line["phase"], line["outcome"]))
                .collect();
            assert_eq!(
                phases,
                ["\"asked\" null", "\"done\" \"outcome_unknown\""],
                "{path}, {name}: asked before it was sent, then what came of it"
            );
        }
    }
}

#[tokio::test]
async fn erasures_have_an_hourly_allowance_of_their_own() {
    let stand_in = StandIn::start(vec![profile(0)]).await.unwrap();
    let relay = start(both_on(
        &stand_in.base_url,
        &stand_in.key,
        &["--erasures-per-hour", "1"],
    ))
    .await;
    let (status, answer) = post_json(&relay, ERASE, &erasure(), LEAD).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post_json(&relay, ERASE, &erasure(), LEAD).await;
    assert_eq!(
        (status, error_code(&answer)),
        (429, "rate_limited"),
        "{answer}"
    );
    assert!(
        message(&answer).contains("too many erasures: at most 1 an hour"),
        "{answer}"
    );
    // Corrections are counted apart.
    let other = StandIn::start(vec![profile(0)]).await.unwrap();
    let relay = start(both_on(
        &other.base_url,
        &other.key,
        &["--erasures-per-hour", "1"],
    ))
    .await;
    let (status, _) = post_json(&relay, UPDATE, &correction(), LEAD).await;
    assert_eq!(status, 200);
    let (status, _) = post_json(&relay, ERASE, &erasure(), LEAD).await;
    assert_eq!(status, 200);
}

/// The end to end at the relay: Adapty's events in the store, the
/// erasure, the store empty of the customer, and a lookup's 404 that says
/// who erased them and when; on both stores.
#[tokio::test]
async fn an_erasure_clears_the_store_and_a_later_lookup_says_who_erased_whom() {
    for backend in BACKENDS {
        let stand_in = StandIn::start(vec![profile(0)]).await.unwrap();
        let (store, _guard) = open_store(backend).await;
        let config = both_on(&stand_in.base_url, &stand_in.key, &[]);
        let (relay, webhook) = start_stored(config, store.clone()).await;
        for id in ["e1", "e2"] {
            let event = json!({
                "profile_id": PROFILE, "customer_user_id": CUSTOMER, "email": "gone@example.com",
                "event_type": "subscription_started",
                "event_datetime": "2026-12-01T10:00:00.000000+0000",
                "event_properties": {"profile_event_id": id, "transaction_id": "GPA.1-2-3"}
            });
            let (status, _) =
                post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), &event.to_string()).await;
            assert_eq!(status, 200, "{backend:?}");
        }
        let search = format!("{}/api/search?q=gone%40example.com", relay.url);
        let (_, _, found) = get_json_with(&search, LEAD).await;
        assert_eq!(
            found["matches"].as_array().unwrap().len(),
            1,
            "{backend:?}: {found}"
        );

        let note = json!({"profile_id": PROFILE, "text": "asked for erasure by email"});
        let (status, _) = post_json(&relay, "api/notes", &note, LEAD).await;
        assert_eq!(status, 200);

        // Erased by the customer user ID, confirmed.
        let (status, answer) = post_json(&relay, ERASE, &erasure(), LEAD).await;
        assert_eq!(status, 200, "{backend:?}: {answer}");
        assert_eq!(answer["erased_by"], "lead@example.com");
        assert!(answer["erased_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(answer["store"]["cleared"], true, "{answer}");
        assert_eq!(answer["store"]["events"], 2, "{answer}");
        assert_eq!(answer["store"]["notes"], 1, "{answer}");
        assert!(
            answer["store"]["index_rows"].as_u64().unwrap() >= 3,
            "{answer}"
        );

        // Nothing of the customer is found any more.
        let (_, _, found) = get_json_with(&search, LEAD).await;
        assert_eq!(found["matches"], json!([]), "{backend:?}");
        let events = format!("{}/api/events?profile_id={PROFILE}", relay.url);
        let (_, _, page) = get_json_with(&events, LEAD).await;
        assert_eq!(page["events"], json!([]), "{backend:?}: {page}");
        let notes = format!("{}/api/notes?profile_id={PROFILE}", relay.url);
        let (_, _, page) = get_json_with(&notes, LEAD).await;
        assert_eq!(page["notes"], json!([]), "{backend:?}: {page}");

        // By either ID, a lookup says who erased the customer and when.
        for query in [
            format!("customer_user_id={CUSTOMER}"),
            format!("profile_id={PROFILE}"),
        ] {
            let (status, _, body) =
                get_json_with(&format!("{}/api/profile?{query}", relay.url), AGENT).await;
            assert_eq!(
                (status, error_code(&body)),
                (404, "profile_not_found"),
                "{query}"
            );
            assert_eq!(body["error"]["erased"]["by"], "lead@example.com", "{body}");
            assert_eq!(body["error"]["erased"]["at"], answer["erased_at"], "{body}");
            assert!(message(&body).contains("erased on"), "{body}");
        }
        // No note is kept about a customer who asked to be forgotten.
        let (status, body) = post_json(&relay, "api/notes", &note, LEAD).await;
        assert_eq!(
            (status, error_code(&body)),
            (404, "profile_not_found"),
            "{body}"
        );
        assert_eq!(body["error"]["erased"]["by"], "lead@example.com");

        // Another customer not found is just not found.
        let (_, _, body) = get_json_with(
            &format!("{}/api/profile?customer_user_id=nobody", relay.url),
            AGENT,
        )
        .await;
        assert_eq!(body["error"].get("erased"), None, "{body}");

        // The audit: asked before, done after, the profile ID found named.
        let erases: Vec<Value> = relay
            .audit_lines()
            .into_iter()
            .filter(|line| line["action"] == "erase")
            .collect();
        assert_eq!(erases.len(), 2, "{erases:?}");
        assert_eq!(
            (erases[0]["phase"].as_str(), erases[1]["phase"].as_str()),
            (Some("asked"), Some("done"))
        );
        assert_eq!(erases[0]["profile_id"], PROFILE);
        assert_eq!(erases[0]["reason"], "GDPR request 12");
        assert_eq!(erases[1]["outcome"], "ok");
    }
}

#[tokio::test]
async fn an_erasure_of_a_customer_adapty_does_not_know_erases_nothing() {
    let stand_in = StandIn::start(vec![profile(0)]).await.unwrap();
    let relay = start(both_on(&stand_in.base_url, &stand_in.key, &[])).await;
    let body = json!({"customer_user_id": "nobody", "confirm": "nobody", "reason": "GDPR 77"});
    let (status, answer) = post_json(&relay, ERASE, &body, LEAD).await;
    assert_eq!(
        (status, error_code(&answer)),
        (404, "profile_not_found"),
        "{answer}"
    );
    assert_eq!(
        stand_in.changes_received.load(Ordering::SeqCst),
        0,
        "no DELETE sent"
    );
}

/// An erasure whose outcome is unknown (Adapty may have erased the
/// customer) clears the store all the same: a second erasure would find no
/// profile to read, and could never clear it.
#[tokio::test]
async fn an_erasure_of_unknown_outcome_still_clears_the_store() {
    const SEED_PROFILE: &str = "d8533a10-bcce-4e33-8c9d-88b05ac56559";
    let seed = SEED.replace("77B14FB4-FD2A-4D38-AA3A-4C433F79863C", CUSTOMER);
    let (upstream, calls) = raw_upstream(vec![ok_json(&seed), Raw::Reset]).await;
    let (store, _guard) = open_store(Backend::Sqlite).await;
    let config = both_on(&upstream, KEY, &["--upstream-timeout-secs", "1"]);
    let (relay, webhook) = start_stored(config, store).await;
    let event = json!({
        "profile_id": SEED_PROFILE, "customer_user_id": CUSTOMER, "email": "maybe@example.com",
        "event_type": "subscription_started", "event_datetime": "2026-12-01T10:00:00.000000+0000",
        "event_properties": {"profile_event_id": "u1"}
    });
    let (status, _) = post_webhook(&webhook, APP, Some(WEBHOOK_SECRET), &event.to_string()).await;
    assert_eq!(status, 200);
    let (status, answer) = post_json(&relay, ERASE, &erasure(), LEAD).await;
    assert_eq!(
        (status, error_code(&answer)),
        (504, "outcome_unknown"),
        "{answer}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "read, then the erasure once"
    );
    let search = format!("{}/api/search?q=maybe%40example.com", relay.url);
    let (_, _, found) = get_json_with(&search, LEAD).await;
    assert_eq!(found["matches"], json!([]), "{found}");
}
