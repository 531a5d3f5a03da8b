//! The demo's stand-in over real sockets: each answer's dates are relative
//! to that answer, not to the moment the demo started.

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
