//! The demo's webhook events: what Adapty would have sent for each sample
//! customer's story, and an `access_level_updated` for each grant and
//! revoke the stand-in makes. Posted to the demo relay's own webhook
//! listener, so they go through the real receiver into the real store.

use super::profiles::Sample;
use crate::webhook::event::adapty_time;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// At most this many purchases and subscriptions a sample tells of, the
/// most recent (the big one has 8,000 and 400): enough to page through,
/// few enough that the demo starts at once.
const MAX_PURCHASE_EVENTS: usize = 40;
const MAX_SUBSCRIPTION_STORIES: usize = 40;

/// Where a stand-in sends its events: the webhook URL of its app and the
/// `Authorization` value the receiver expects.
#[derive(Clone)]
pub struct WebhookTarget {
    pub url: String,
    pub authorization: String,
}

/// Every event of `sample`'s story as of `now`, oldest first.
pub fn story(sample: &Sample, now: DateTime<Utc>) -> Vec<Value> {
    let profile = (sample.build)(now);
    let email = sample.email();
    let mut events = Vec::new();
    let list = |name: &str| profile[name].as_array().cloned().unwrap_or_default();
    let mut subscriptions = list("subscriptions");
    subscriptions
        .sort_by_key(|subscription| subscription["purchased_at"].as_str().and_then(adapty_time));
    let skip = subscriptions.len().saturating_sub(MAX_SUBSCRIPTION_STORIES);
    for subscription in subscriptions.into_iter().skip(skip) {
        let trial = subscription["offer"]["offer_type"] == "free_trial"
            || subscription["offer"]["type"] == "free_trial";
        let sandbox = subscription["environment"] == "Sandbox";
        let started = if trial {
            "trial_started"
        } else {
            "subscription_started"
        };
        let mut add = |kind: &str, at: &Value| {
            if at.is_string() {
                events.push(event(
                    &profile,
                    &email,
                    kind,
                    at,
                    &subscription,
                    !sandbox && !trial,
                ));
            }
        };
        add(started, &subscription["originally_purchased_at"]);
        if subscription["purchased_at"] != subscription["originally_purchased_at"] {
            add("subscription_renewed", &subscription["purchased_at"]);
        }
        add(
            "subscription_renewal_cancelled",
            &subscription["renewal_cancelled_at"],
        );
        add(
            "billing_issue_detected",
            &subscription["billing_issue_detected_at"],
        );
        if subscription["is_refund"] == true {
            add("subscription_refunded", &subscription["purchased_at"]);
        }
        let expires = subscription["expires_at"].as_str().and_then(adapty_time);
        if expires.is_some_and(|expires| expires < now) {
            add(
                if trial {
                    "trial_expired"
                } else {
                    "subscription_expired"
                },
                &subscription["expires_at"],
            );
        }
    }
    let mut purchases = list("non_subscriptions");
    purchases.sort_by_key(|purchase| purchase["purchased_at"].as_str().and_then(adapty_time));
    let skip = purchases.len().saturating_sub(MAX_PURCHASE_EVENTS);
    for purchase in purchases.into_iter().skip(skip) {
        let paid = purchase["environment"] != "Sandbox";
        let at = purchase["purchased_at"].clone();
        events.push(event(
            &profile,
            &email,
            "non_subscription_purchase",
            &at,
            &purchase,
            paid,
        ));
        if purchase["is_refund"] == true {
            events.push(event(
                &profile,
                &email,
                "non_subscription_purchase_refunded",
                &at,
                &purchase,
                paid,
            ));
        }
    }
    for level in list("access_levels") {
        let at = [&level["purchased_at"], &level["starts_at"]]
            .into_iter()
            .filter_map(|at| at.as_str().and_then(adapty_time))
            .max();
        if let Some(at) = at {
            events.push(access_level_updated(&profile, &email, &level, at, now));
        }
    }
    events.sort_by_key(|event| event["event_datetime"].as_str().and_then(adapty_time));
    events
}

/// The `access_level_updated` Adapty sends when a level changes, here
/// for a level as the stand-in now has it.
pub fn access_level_updated(
    profile: &Value,
    email: &str,
    level: &Value,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Value {
    let expires = level["expires_at"].as_str().and_then(adapty_time);
    let starts = level["starts_at"].as_str().and_then(adapty_time);
    let active = expires.is_none_or(|expires| expires > now) && starts.is_none_or(|s| s <= now);
    let mut payload = event(
        profile,
        email,
        "access_level_updated",
        &json!(adapty_date(at)),
        level,
        false,
    );
    let properties = payload["event_properties"]
        .as_object_mut()
        .expect("built above");
    properties.insert("access_level_id".into(), level["access_level_id"].clone());
    properties.insert("is_active".into(), json!(active));
    properties.insert(
        "will_renew".into(),
        json!(
            active
                && level["renewal_cancelled_at"].is_null()
                && level["store"] != "adapty"
                && expires.is_some()
        ),
    );
    properties.insert("is_lifetime".into(), json!(expires.is_none()));
    properties.insert("is_refund".into(), json!(false));
    properties.insert(
        "is_in_grace_period".into(),
        level["is_in_grace_period"].clone(),
    );
    properties.insert(
        "activated_at".into(),
        level["originally_purchased_at"].clone(),
    );
    properties.insert("renewed_at".into(), level["purchased_at"].clone());
    properties.insert("expires_at".into(), level["expires_at"].clone());
    properties.insert(
        "billing_issue_detected_at".into(),
        level["billing_issue_detected_at"].clone(),
    );
    payload
}

/// One event in Adapty's shape, about `item` (a subscription, purchase or
/// access level of the profile). Its ID is derived from what it is about,
/// so the same story sent again is stored once.
fn event(profile: &Value, email: &str, kind: &str, at: &Value, item: &Value, paid: bool) -> Value {
    let transaction = &item["store_transaction_id"];
    let seed = format!(
        "{}|{kind}|{transaction}|{at}|{}",
        profile["profile_id"], item["access_level_id"]
    );
    let digest = Sha256::digest(seed.as_bytes());
    let event_id = uuid::Builder::from_random_bytes(digest[..16].try_into().expect("16 bytes"))
        .into_uuid()
        .to_string();
    let mut properties = Map::new();
    let mut put = |name: &str, value: Value| {
        if !value.is_null() {
            properties.insert(name.into(), value);
        }
    };
    put("profile_event_id", json!(event_id));
    put("profile_id", profile["profile_id"].clone());
    put("store", item["store"].clone());
    put("environment", item["environment"].clone());
    put("vendor_product_id", item["store_product_id"].clone());
    put("base_plan_id", item["store_base_plan_id"].clone());
    put("transaction_id", transaction.clone());
    put(
        "original_transaction_id",
        item["store_original_transaction_id"].clone(),
    );
    put("purchase_date", item["purchased_at"].clone());
    put("subscription_expires_at", item["expires_at"].clone());
    put("cancellation_reason", item["cancellation_reason"].clone());
    put("event_datetime", at.clone());
    if paid && kind != "subscription_renewal_cancelled" && kind != "subscription_expired" {
        put("currency", json!("USD"));
        put("price_usd", json!(9.99));
        put("price_local", json!(9.99));
        put("proceeds_usd", json!(8.49));
        put("proceeds_local", json!(8.49));
    }
    json!({
        "profile_id": profile["profile_id"],
        "customer_user_id": profile["customer_user_id"],
        "email": email,
        "event_type": kind,
        "event_datetime": at,
        "event_api_version": 1,
        "event_properties": properties,
    })
}

/// Adapty's date format: `2024-11-15T10:45:36.181000+0000`.
pub fn adapty_date(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string()
}

/// Posts `events` to `target`, one at a time as Adapty does; a refusal is
/// logged (the demo goes on without that event).
pub async fn send(client: &reqwest::Client, target: &WebhookTarget, events: &[Value]) {
    for event in events {
        let sent = client
            .post(&target.url)
            .header("authorization", &target.authorization)
            .header("content-type", "application/json")
            .body(event.to_string())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                tracing::warn!(status = %response.status(), "the demo's webhook refused an event")
            }
            Err(error) => tracing::warn!(%error, "the demo's webhook could not be reached"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::profiles::{KIDS_SAMPLES, SAMPLES};
    use super::*;

    #[test]
    fn every_sample_has_an_email_and_a_story_the_receiver_reads() {
        let now = Utc::now();
        for sample in SAMPLES.iter().chain(KIDS_SAMPLES) {
            assert!(sample.email().contains('@'));
            let story = story(sample, now);
            for payload in &story {
                let body = serde_json::to_vec(payload).unwrap();
                match crate::webhook::event::read(
                    &body,
                    now,
                    crate::apps::webhook_secret::Environment::Production,
                )
                .unwrap()
                {
                    crate::webhook::event::Payload::Event(incoming) => {
                        assert_eq!(incoming.customer.profile_id, sample.profile_id);
                        assert_eq!(
                            incoming.customer.email.as_deref(),
                            Some(sample.email().as_str())
                        );
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
        let expired = SAMPLES.iter().find(|s| s.id == "demo-expired").unwrap();
        let kinds: Vec<String> = story(expired, now)
            .iter()
            .map(|e| e["event_type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            kinds,
            [
                "subscription_started",
                "subscription_renewed",
                "access_level_updated",
                "subscription_renewal_cancelled",
                "subscription_expired"
            ]
        );
    }
}
