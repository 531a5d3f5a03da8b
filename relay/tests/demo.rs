//! The demo's stand-in over real sockets: each answer's dates are relative
//! to that answer, not to the moment the demo started; changes stay.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use relay::demo::StandIn;

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

#[tokio::test]
async fn every_answer_builds_its_sample_as_of_its_own_moment() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let relay = relay_to(&stand_in.base_url, &stand_in.key).await;
    let url = format!("{}/api/profile?customer_user_id=demo-sandbox", relay.url);
    let mut produced = Vec::new();
    for _ in 0..2 {
        // Apart from the start and from each other, so that dates fixed at
        // the start would show.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let before = Utc::now() - Duration::milliseconds(1);
        let (status, _, body) = get_json(&url).await;
        let after = Utc::now();
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        let at = DateTime::from_timestamp_millis(data["timestamp"].as_i64().unwrap()).unwrap();
        assert!(
            before <= at && at <= after,
            "the answer's time {at} is not the moment it was asked ({before} to {after})"
        );
        // The sample's story: bought two hours ago, renewing in three minutes.
        let level = &data["access_levels"][0];
        let expires = instant(level["expires_at"].as_str().unwrap());
        let bought = instant(level["purchased_at"].as_str().unwrap());
        let asked = instant(data["subscriptions"][0]["expires_at"].as_str().unwrap());
        assert_eq!(expires, asked);
        assert!(
            (expires - at - Duration::minutes(3))
                .num_milliseconds()
                .abs()
                <= 1
        );
        assert!((at - bought - Duration::hours(2)).num_milliseconds().abs() <= 1);
        produced.push(at);
    }
    assert!(produced[1] - produced[0] >= Duration::milliseconds(300));
}

#[tokio::test]
async fn every_sample_is_served_and_an_unknown_id_is_not_found() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let relay = relay_to(&stand_in.base_url, &stand_in.key).await;
    for sample in relay::demo::profiles::SAMPLES {
        let url = format!("{}/api/profile?{}={}", relay.url, sample.param, sample.id);
        let (status, _, body) = get_json(&url).await;
        assert_eq!(status, 200, "{}: {body}", sample.id);
        assert_eq!(body["data"][sample.param], sample.id);
        // Found by its profile ID too, as Adapty finds every profile.
        let url = format!("{}/api/profile?profile_id={}", relay.url, sample.profile_id);
        let (status, _, body) = get_json(&url).await;
        assert_eq!(status, 200, "{}: {body}", sample.profile_id);
        assert_eq!(body["data"]["profile_id"], sample.profile_id);
    }
    let (status, _, body) = get_json(&format!(
        "{}/api/profile?customer_user_id=nobody",
        relay.url
    ))
    .await;
    assert_eq!((status, error_code(&body)), (404, "profile_not_found"));
}

/// `relay --demo` shows access changes: its one person may make them, and
/// the stand-in keeps them, so the next lookup shows them.
#[tokio::test]
async fn in_the_demo_a_grant_and_a_revoke_show_in_the_next_lookup() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let relay = start(config_with(&stand_in.base_url, &stand_in.key, &["--demo"])).await;
    let (status, _, session) = get_json(&format!("{}/api/session", relay.url)).await;
    assert_eq!(status, 200);
    assert_eq!(session["actor"], "demo@adapty-lookup.local");
    assert_eq!(session["can_change_access"], true);

    let lookup = format!("{}/api/profile?customer_user_id=demo-expired", relay.url);
    let premium = |body: &serde_json::Value| {
        body["data"]["access_levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|level| level["access_level_id"] == "premium")
            .cloned()
            .unwrap()
    };
    let in_30_days = Utc::now() + Duration::days(30);
    let post = |path: &str, body: serde_json::Value| {
        client()
            .post(format!("{}/{path}", relay.url))
            .header("X-CSRF", "1")
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };
    let granted = post(
        "api/access-level/grant",
        serde_json::json!({"customer_user_id": "demo-expired", "access_level_id": "premium",
            "expires_at": in_30_days.to_rfc3339(), "reason": "goodwill"}),
    )
    .await
    .unwrap();
    assert_eq!(granted.status(), 200);
    // Later, and again: the grant stays for the life of the process.
    for _ in 0..2 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (_, _, body) = get_json(&lookup).await;
        let expires = instant(premium(&body)["expires_at"].as_str().unwrap());
        assert!((expires - in_30_days).num_seconds().abs() <= 1, "{expires}");
    }

    let revoked = post(
        "api/access-level/revoke",
        serde_json::json!({"customer_user_id": "demo-expired", "access_level_id": "premium",
            "reason": "granted by mistake"}),
    )
    .await
    .unwrap();
    assert_eq!(revoked.status(), 200);
    let (_, _, body) = get_json(&lookup).await;
    let ended = instant(premium(&body)["expires_at"].as_str().unwrap());
    assert!(
        ended <= Utc::now() && Utc::now() - ended < Duration::seconds(5),
        "{ended}"
    );
    // Another customer's premium is untouched.
    let (_, _, other) = get_json(&format!(
        "{}/api/profile?customer_user_id=demo-play-store",
        relay.url
    ))
    .await;
    let expires = instant(premium(&other)["expires_at"].as_str().unwrap());
    assert!(expires > Utc::now() + Duration::days(19));
    assert_eq!(
        stand_in
            .changes_received
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    let audit = relay.audit_lines();
    assert!(audit
        .iter()
        .filter(|line| line.get("action").is_some())
        .all(|line| line["actor"] == "demo@adapty-lookup.local"));
}
