//! `GET /api/session` over a real socket: what the panel learns at start,
//! behind the same checks as a lookup, and never a call to Adapty. (Who may
//! change access is in `change.rs`.)

mod common;

use common::*;

#[tokio::test]
async fn the_session_names_the_actor_and_the_dashboard_link_without_asking_adapty() {
    let (upstream, seen) = recording_upstream().await;
    let mut config = config(&upstream, KEY);
    config.access.identity_header = Some("x-forwarded-email".try_into().unwrap());
    config.dashboard_profile_url = Some("https://app.adapty.io/profiles/{profile_id}".into());
    let relay = start(config).await;
    let url = format!("{}/api/session", relay.url);

    let (status, headers, body) =
        get_json_with(&url, &[("X-Forwarded-Email", "agent@example.com")]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(
        body,
        serde_json::json!({
            "actor": "agent@example.com",
            "dashboard_profile_url": "https://app.adapty.io/profiles/{profile_id}",
            "can_change_access": false,
            "apps": [{"id": "default", "name": "Default app", "can_change_access": false, "can_edit_profile": false, "can_erase": false,
             "can_delete_any_note": false, "can_bulk_check": false}],
            "store": false,
            "bulk_max_ids": 5000
        })
    );

    // The same checks as a lookup: a signed-in person, the panel's own script.
    let (status, _, body) = get_json(&url).await;
    assert_eq!((status, error_code(&body)), (401, "unauthenticated"));
    let response = client()
        .get(&url)
        .header("X-Forwarded-Email", "agent@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "no X-CSRF header");
    let response = client()
        .post(&url)
        .header("X-CSRF", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(seen.lock().unwrap().is_empty(), "Adapty was never asked");
    assert!(
        relay.audit_lines().is_empty(),
        "a session is not a lookup: nothing to audit"
    );
}

#[tokio::test]
async fn without_the_setting_the_link_is_null() {
    let relay = relay_to("http://127.0.0.1:9", KEY).await;
    let (status, _, body) = get_json(&format!("{}/api/session", relay.url)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({"actor": "anonymous", "dashboard_profile_url": null, "can_change_access": false,
            "apps": [{"id": "default", "name": "Default app", "can_change_access": false, "can_edit_profile": false, "can_erase": false,
             "can_delete_any_note": false, "can_bulk_check": false}],
            "store": false, "bulk_max_ids": 5000})
    );
}
