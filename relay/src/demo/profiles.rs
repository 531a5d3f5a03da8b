//! The demo's sample customers. Each covers a part of the contract. Their
//! dates are relative to `now`, which the stand-in sets to the moment of
//! each response, so that every sample keeps its story (active stays
//! active, "expired 40 days ago" stays 40 days ago) however long the demo
//! runs.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

/// The profile of Adapty's own documentation example, unchanged.
pub const SEED: &str = include_str!("../../../fixtures/seed.json");
pub const SEED_CUSTOMER_USER_ID: &str = "77B14FB4-FD2A-4D38-AA3A-4C433F79863C";
pub const ANONYMOUS_PROFILE_ID: &str = "5e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/// A sample to try: what it shows, how to look it up, and how it is built.
pub struct Sample {
    pub about: &'static str,
    /// How the demo advertises it: `customer_user_id` or `profile_id`, and the ID.
    pub param: &'static str,
    pub id: &'static str,
    /// Every sample is also found by its profile ID, as in Adapty.
    pub profile_id: &'static str,
    /// The profile as of `now`.
    pub build: fn(DateTime<Utc>) -> Value,
}

impl Sample {
    /// The email address the demo gives this customer: what a ticket
    /// would hold. The kids app's two customers share a parent's address,
    /// so a search for it finds two.
    pub fn email(&self) -> String {
        if self.id.starts_with("kids-") {
            return "parent@example.com".into();
        }
        if self.param == "profile_id" {
            return "anonymous.buyer@example.com".into();
        }
        if self.id == SEED_CUSTOMER_USER_ID {
            return "docs.example@example.com".into();
        }
        format!("{}@example.com", self.id.trim_start_matches("demo-"))
    }
}

const BY_USER: &str = "customer_user_id";

/// Every sample the stand-in serves, in the order the demo lists them
/// (the start-up banner and README's table are this list).
pub const SAMPLES: &[Sample] = &[
    Sample {
        about: "Adapty's documentation example",
        param: BY_USER,
        id: SEED_CUSTOMER_USER_ID,
        profile_id: "d8533a10-bcce-4e33-8c9d-88b05ac56559",
        build: |_| seed(),
    },
    Sample {
        about: "Play Store, base plan, free-trial offer",
        param: BY_USER,
        id: "demo-play-store",
        profile_id: "0b2c8f5e-6a1d-4b7e-9c3f-2d4e6f8a0b1c",
        build: play_store,
    },
    Sample {
        about: "Expired and cancelled (`+0000` dates)",
        param: BY_USER,
        id: "demo-expired",
        profile_id: "1c3d9a6f-7b2e-4c8f-8d4a-3e5f7a9b1c2d",
        build: expired,
    },
    Sample {
        about: "Lifetime purchase",
        param: BY_USER,
        id: "demo-lifetime",
        profile_id: "2d4eab7a-8c3f-4d9a-9e5b-4f6a8b0c2d3e",
        build: lifetime,
    },
    Sample {
        about: "Sandbox only",
        param: BY_USER,
        id: "demo-sandbox",
        profile_id: "3e5fbc8b-9d4a-4eab-af6c-5a7b9c1d3e4f",
        build: sandbox,
    },
    Sample {
        about: "Anonymous (`null` arrays)",
        param: "profile_id",
        id: ANONYMOUS_PROFILE_ID,
        profile_id: ANONYMOUS_PROFILE_ID,
        build: anonymous,
    },
    Sample {
        about: "Many purchases, refunds, consumables",
        param: BY_USER,
        id: "demo-many-purchases",
        profile_id: "4f6acd9c-0e5b-4fbc-b07d-6b8c0d2e4f5a",
        build: many_purchases,
    },
    Sample {
        about: "Billing grace period",
        param: BY_USER,
        id: "demo-grace-period",
        profile_id: "5a7bdeac-1f6c-4acd-8c8e-7c9d1e3f5a6b",
        build: grace_period,
    },
    Sample {
        about: "Billing issue, still active",
        param: BY_USER,
        id: "demo-billing-issue",
        profile_id: "6b8cefbd-2a7d-4bde-9d9f-8d0e2f4a6b7c",
        build: billing_issue,
    },
    Sample {
        about: "Access scheduled to start next week",
        param: BY_USER,
        id: "demo-scheduled",
        profile_id: "7c9df0ce-3b8e-4cef-ae0a-9e1f3a5b7c8d",
        build: scheduled,
    },
    Sample {
        about: "Refunded",
        param: BY_USER,
        id: "demo-refunded",
        profile_id: "8d0e01df-4c9f-4d0a-bf1b-0f2a4b6c8d9e",
        build: refunded,
    },
    Sample {
        about: "Custom store, unknown values, no environment",
        param: BY_USER,
        id: "demo-custom-store",
        profile_id: "9e1f12e0-5d0a-4e1b-8c2c-1a3b5c7d9e0f",
        build: custom_store,
    },
    Sample {
        about: "8,000 purchases and 400 subscriptions (2.9 MB)",
        param: BY_USER,
        id: "demo-big",
        profile_id: "0f2a23f1-6e1b-4f2c-9d3d-2b4c6d8e0f1a",
        build: big,
    },
];

/// The demo's second app ("Kids app"): customers of its own, none of
/// which the first app knows, and the other way round.
pub const KIDS_SAMPLES: &[Sample] = &[
    Sample {
        about: "Kids app: family plan, renews next month",
        param: BY_USER,
        id: "kids-family",
        profile_id: "a1b2c3d4-0001-4a5b-8c6d-7e8f9a0b1c2d",
        build: kids_family,
    },
    Sample {
        about: "Kids app: free trial ended, no access",
        param: BY_USER,
        id: "kids-trial-ended",
        profile_id: "a1b2c3d4-0002-4a5b-8c6d-7e8f9a0b1c2d",
        build: kids_trial_ended,
    },
];

/// The sample looked up by `param` = `id`, as of `now`.
pub fn find(param: &str, id: &str, now: DateTime<Utc>) -> Option<Value> {
    find_in(SAMPLES, param, id, now)
}

/// The sample of `samples` looked up by `param` = `id`, as of `now`.
pub fn find_in(samples: &[Sample], param: &str, id: &str, now: DateTime<Utc>) -> Option<Value> {
    samples
        .iter()
        .find(|sample| {
            (sample.param == param && sample.id == id)
                || (param == "profile_id" && sample.profile_id == id)
        })
        .map(|sample| (sample.build)(now))
}

/// Every sample as of `now`.
pub fn all(now: DateTime<Utc>) -> Vec<Value> {
    SAMPLES.iter().map(|sample| (sample.build)(now)).collect()
}

fn seed() -> Value {
    let seed: Value = serde_json::from_str(SEED).expect("the seed fixture is valid JSON");
    seed["data"].clone()
}

/// Adapty writes `+00:00`; some samples use `+0000` on purpose, as Adapty also does.
fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

fn iso_no_colon(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// An access level and the subscription behind it, from a few facts.
struct Plan<'a> {
    store: &'a str,
    product: &'a str,
    bought: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
    renewal_cancelled: Option<DateTime<Utc>>,
    billing_issue: Option<DateTime<Utc>>,
    grace: bool,
    reason: Option<&'a str>,
    environment: &'a str,
}

impl Plan<'_> {
    fn access_level(&self, transaction: &str) -> Value {
        json!({
            "access_level_id": "premium", "store": self.store, "store_product_id": self.product,
            "store_base_plan_id": null, "store_transaction_id": transaction,
            "store_original_transaction_id": transaction, "offer": null, "starts_at": null,
            "purchased_at": iso(self.bought), "originally_purchased_at": iso(self.bought),
            "expires_at": self.expires.map(iso), "renewal_cancelled_at": self.renewal_cancelled.map(iso),
            "billing_issue_detected_at": self.billing_issue.map(iso), "is_in_grace_period": self.grace,
            "cancellation_reason": self.reason, "environment": self.environment
        })
    }

    fn subscription(&self, transaction: &str) -> Value {
        let mut subscription = self.access_level(transaction);
        let object = subscription.as_object_mut().expect("an object");
        object.remove("access_level_id");
        object.remove("starts_at");
        subscription
    }
}

fn with_plan(mut p: Value, plan: &Plan, transaction: &str) -> Value {
    p["access_levels"] = json!([plan.access_level(transaction)]);
    p["subscriptions"] = json!([plan.subscription(transaction)]);
    p
}

fn grace_period(now: DateTime<Utc>) -> Value {
    let plan = Plan {
        store: "app_store",
        product: "monthly.premium.999",
        bought: now - Duration::days(31),
        expires: Some(now + Duration::days(6)),
        renewal_cancelled: None,
        billing_issue: Some(now - Duration::days(1)),
        grace: true,
        reason: None,
        environment: "Production",
    };
    with_plan(
        profile(
            "5a7bdeac-1f6c-4acd-8c8e-7c9d1e3f5a6b",
            Some("demo-grace-period"),
            9.99,
            now,
        ),
        &plan,
        "2000000500000005",
    )
}

fn billing_issue(now: DateTime<Utc>) -> Value {
    let plan = Plan {
        store: "play_store",
        product: "premium_yearly",
        bought: now - Duration::days(363),
        expires: Some(now + Duration::days(2)),
        renewal_cancelled: None,
        billing_issue: Some(now - Duration::hours(20)),
        grace: false,
        reason: None,
        environment: "Production",
    };
    with_plan(
        profile(
            "6b8cefbd-2a7d-4bde-9d9f-8d0e2f4a6b7c",
            Some("demo-billing-issue"),
            39.99,
            now,
        ),
        &plan,
        "GPA.3312-5555-0000-11111",
    )
}

/// Access granted through Adapty that starts next week, e.g. a promised extension.
fn scheduled(now: DateTime<Utc>) -> Value {
    let mut p = profile(
        "7c9df0ce-3b8e-4cef-ae0a-9e1f3a5b7c8d",
        Some("demo-scheduled"),
        0.0,
        now,
    );
    p["access_levels"] = json!([{
        "access_level_id": "premium", "store": "adapty", "store_product_id": "granted.premium",
        "store_base_plan_id": null, "store_transaction_id": null, "store_original_transaction_id": null,
        "offer": null, "starts_at": iso(now + Duration::days(7)), "purchased_at": iso(now - Duration::hours(1)),
        "originally_purchased_at": iso(now - Duration::hours(1)), "expires_at": iso(now + Duration::days(37)),
        "renewal_cancelled_at": null, "billing_issue_detected_at": null, "is_in_grace_period": false,
        "cancellation_reason": null
    }]);
    p
}

fn refunded(now: DateTime<Utc>) -> Value {
    let plan = Plan {
        store: "app_store",
        product: "yearly.premium.4999",
        bought: now - Duration::days(20),
        expires: Some(now - Duration::days(3)),
        renewal_cancelled: Some(now - Duration::days(3)),
        billing_issue: None,
        grace: false,
        reason: Some("refund"),
        environment: "Production",
    };
    let mut p = with_plan(
        profile(
            "8d0e01df-4c9f-4d0a-bf1b-0f2a4b6c8d9e",
            Some("demo-refunded"),
            0.0,
            now,
        ),
        &plan,
        "2000000400000004",
    );
    p["non_subscriptions"] = json!([{
        "purchase_id": "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b", "store": "app_store",
        "store_product_id": "remove_ads", "store_base_plan_id": null,
        "store_transaction_id": "2000000400000009", "store_original_transaction_id": "2000000400000009",
        "purchased_at": iso(now - Duration::days(15)), "environment": "Production",
        "is_refund": true, "is_consumable": false
    }]);
    p
}

/// A custom store and values Adapty may add later: shown verbatim, never an error.
fn custom_store(now: DateTime<Utc>) -> Value {
    let mut p = profile(
        "9e1f12e0-5d0a-4e1b-8c2c-1a3b5c7d9e0f",
        Some("demo-custom-store"),
        5.0,
        now,
    );
    p["access_levels"] = json!([{
        "access_level_id": "vip", "store": "acme_web_store", "store_product_id": "vip_monthly",
        "store_base_plan_id": null, "store_transaction_id": "acme-7781", "store_original_transaction_id": "acme-7781",
        "offer": {"category": "seasonal_sale", "type": "half_price", "id": null},
        "starts_at": null, "purchased_at": iso_no_colon(now - Duration::days(5)),
        "originally_purchased_at": iso_no_colon(now - Duration::days(5)),
        "expires_at": iso_no_colon(now + Duration::days(25)), "renewal_cancelled_at": null,
        "billing_issue_detected_at": null, "is_in_grace_period": false,
        "cancellation_reason": null, "loyalty_tier": "gold"
    }]);
    p["subscriptions"] = json!([{
        "store": "acme_web_store", "store_product_id": "vip_monthly", "store_base_plan_id": null,
        "store_transaction_id": "acme-7781", "store_original_transaction_id": "acme-7781",
        "offer": {"offer_category": "seasonal_sale", "offer_type": "half_price", "offer_id": null},
        "environment": "Staging", "purchased_at": iso_no_colon(now - Duration::days(5)),
        "originally_purchased_at": iso_no_colon(now - Duration::days(5)),
        "expires_at": iso_no_colon(now + Duration::days(25)), "renewal_cancelled_at": null,
        "billing_issue_detected_at": null, "is_in_grace_period": false,
        "cancellation_reason": "moved_to_partner_plan"
    }]);
    p["custom_attributes"] =
        json!([{"key": "partner", "value": "acme"}, {"key": "seats", "value": 3}]);
    p
}

/// The size issue's measuring stick: 8,000 purchases and 400 subscriptions.
fn big(now: DateTime<Utc>) -> Value {
    let mut p = profile(
        "0f2a23f1-6e1b-4f2c-9d3d-2b4c6d8e0f1a",
        Some("demo-big"),
        4321.5,
        now,
    );
    let subscriptions: Vec<Value> = (0..400i64)
        .map(|n| {
            // The last renewal is 10 days old: premium is active.
            let bought = now - Duration::days(30 * (399 - n) + 10);
            let plan = Plan {
                store: if n % 3 == 0 {
                    "play_store"
                } else {
                    "app_store"
                },
                product: [
                    "monthly.premium.999",
                    "weekly.premium.599",
                    "premium_yearly",
                ][(n % 3) as usize],
                bought,
                expires: Some(bought + Duration::days(30)),
                renewal_cancelled: None,
                billing_issue: None,
                grace: false,
                reason: (n % 50 == 7).then_some("voluntarily_cancelled"),
                environment: if n % 40 == 0 { "Sandbox" } else { "Production" },
            };
            plan.subscription(&format!("2000000{n:09}"))
        })
        .collect();
    p["access_levels"] = json!([subscriptions.last().cloned().map(|mut last| {
        last["access_level_id"] = json!("premium");
        last["starts_at"] = Value::Null;
        last
    })]);
    p["subscriptions"] = Value::Array(subscriptions);
    let purchases: Vec<Value> = (0..8000i64)
        .map(|n| {
            let product = ["coins_100", "coins_500", "remove_ads", "hint_pack"][(n % 4) as usize];
            json!({
                "purchase_id": format!("7f000000-0000-4000-9000-{n:012}"),
                "store": if n % 5 == 0 { "play_store" } else { "app_store" },
                "store_product_id": product, "store_base_plan_id": null,
                "store_transaction_id": format!("4000{n:08}"),
                "store_original_transaction_id": format!("4000{n:08}"),
                "purchased_at": iso(now - Duration::hours(n * 3 + 1)),
                "environment": if n % 100 == 0 { "Sandbox" } else { "Production" },
                "is_refund": n % 97 == 5,
                "is_consumable": product != "remove_ads"
            })
        })
        .collect();
    p["non_subscriptions"] = Value::Array(purchases);
    p
}

fn profile(
    profile_id: &str,
    customer_user_id: Option<&str>,
    revenue: f64,
    now: DateTime<Utc>,
) -> Value {
    json!({
        "app_id": "14c3d333-2f3a-455a-aa86-ef83dff6913b",
        "profile_id": profile_id,
        "customer_user_id": customer_user_id,
        "total_revenue_usd": revenue,
        "segment_hash": "8f45ebc2a9d1c3b0",
        "timestamp": now.timestamp_millis(),
        "custom_attributes": [],
        "access_levels": [],
        "subscriptions": [],
        "non_subscriptions": [],
    })
}

fn play_store(now: DateTime<Utc>) -> Value {
    let bought = now - Duration::days(10);
    let expires = now + Duration::days(20);
    let mut p = profile(
        "0b2c8f5e-6a1d-4b7e-9c3f-2d4e6f8a0b1c",
        Some("demo-play-store"),
        14.99,
        now,
    );
    // The `offer_*` spelling here, the short one on the subscription: Adapty uses both.
    p["access_levels"] = json!([{
        "access_level_id": "premium", "store": "play_store",
        "store_product_id": "premium_monthly", "store_base_plan_id": "monthly-autorenew",
        "store_transaction_id": "GPA.3383-4497-1234-56789", "store_original_transaction_id": "GPA.3383-4497-1234-56789",
        "offer": {"offer_category": "introductory", "offer_type": "free_trial", "offer_id": "trial-7-days"},
        "starts_at": null, "purchased_at": iso(bought), "originally_purchased_at": iso(bought),
        "expires_at": iso(expires), "renewal_cancelled_at": null, "billing_issue_detected_at": null,
        "is_in_grace_period": false, "cancellation_reason": null, "environment": "Production"
    }]);
    p["subscriptions"] = json!([{
        "store": "play_store", "store_product_id": "premium_monthly", "store_base_plan_id": "monthly-autorenew",
        "store_transaction_id": "GPA.3383-4497-1234-56789", "store_original_transaction_id": "GPA.3383-4497-1234-56789",
        "offer": {"category": "introductory", "type": "free_trial", "id": "trial-7-days"},
        "environment": "Production", "purchased_at": iso(bought), "originally_purchased_at": iso(bought),
        "expires_at": iso(expires), "renewal_cancelled_at": null, "billing_issue_detected_at": null,
        "is_in_grace_period": false, "cancellation_reason": null
    }]);
    p["custom_attributes"] =
        json!([{"key": "plan_source", "value": "onboarding"}, {"key": "sessions", "value": 42}]);
    p
}

fn expired(now: DateTime<Utc>) -> Value {
    let bought = now - Duration::days(100);
    let renewed = now - Duration::days(70);
    let expired = now - Duration::days(40);
    let cancelled = now - Duration::days(45);
    let mut p = profile(
        "1c3d9a6f-7b2e-4c8f-8d4a-3e5f7a9b1c2d",
        Some("demo-expired"),
        19.98,
        now,
    );
    p["access_levels"] = json!([{
        "access_level_id": "premium", "store": "app_store", "store_product_id": "monthly.premium.999",
        "store_base_plan_id": null, "store_transaction_id": "2000000900000002",
        "store_original_transaction_id": "2000000900000001", "offer": null, "starts_at": null,
        "purchased_at": iso_no_colon(renewed), "originally_purchased_at": iso_no_colon(bought),
        "expires_at": iso_no_colon(expired), "renewal_cancelled_at": iso_no_colon(cancelled),
        "billing_issue_detected_at": null, "is_in_grace_period": false,
        "cancellation_reason": "voluntarily_cancelled", "environment": "Production"
    }]);
    p["subscriptions"] = json!([{
        "store": "app_store", "store_product_id": "monthly.premium.999", "store_base_plan_id": null,
        "store_transaction_id": "2000000900000002", "store_original_transaction_id": "2000000900000001",
        "offer": null, "environment": "Production",
        "purchased_at": iso_no_colon(renewed), "originally_purchased_at": iso_no_colon(bought),
        "expires_at": iso_no_colon(expired), "renewal_cancelled_at": iso_no_colon(cancelled),
        "billing_issue_detected_at": null, "is_in_grace_period": false,
        "cancellation_reason": "voluntarily_cancelled"
    }]);
    p
}

/// The kids app's own App ID: two apps never share one.
const KIDS_APP_ID: &str = "5b7e1f02-9c4d-4e8a-b3f6-0a2d4c6e8f10";

/// A kids app's level: App Store, `family`, from `bought` to `expires`.
fn kids_level(bought: DateTime<Utc>, expires: DateTime<Utc>, transaction: &str) -> Value {
    json!({
        "access_level_id": "family", "store": "app_store", "store_product_id": "family.monthly",
        "store_base_plan_id": null, "store_transaction_id": transaction,
        "store_original_transaction_id": transaction, "offer": null, "starts_at": null,
        "purchased_at": iso(bought), "originally_purchased_at": iso(bought),
        "expires_at": iso(expires), "renewal_cancelled_at": null, "billing_issue_detected_at": null,
        "is_in_grace_period": false, "cancellation_reason": null, "environment": "Production"
    })
}

fn kids_family(now: DateTime<Utc>) -> Value {
    let mut p = profile(KIDS_SAMPLES[0].profile_id, Some("kids-family"), 7.99, now);
    p["app_id"] = json!(KIDS_APP_ID);
    let level = kids_level(
        now - Duration::days(3),
        now + Duration::days(27),
        "3000000100000001",
    );
    p["subscriptions"] = json!([level.clone()]);
    p["access_levels"] = json!([level]);
    p
}

fn kids_trial_ended(now: DateTime<Utc>) -> Value {
    let mut p = profile(
        KIDS_SAMPLES[1].profile_id,
        Some("kids-trial-ended"),
        0.0,
        now,
    );
    p["app_id"] = json!(KIDS_APP_ID);
    let mut level = kids_level(
        now - Duration::days(10),
        now - Duration::days(3),
        "3000000200000001",
    );
    level["offer"] =
        json!({"offer_category": "introductory", "offer_type": "free_trial", "offer_id": null});
    level["renewal_cancelled_at"] = json!(iso(now - Duration::days(5)));
    level["cancellation_reason"] = json!("voluntarily_cancelled");
    p["subscriptions"] = json!([level.clone()]);
    p["access_levels"] = json!([level]);
    p
}

fn lifetime(now: DateTime<Utc>) -> Value {
    let bought = now - Duration::days(400);
    let mut p = profile(
        "2d4eab7a-8c3f-4d9a-9e5b-4f6a8b0c2d3e",
        Some("demo-lifetime"),
        49.99,
        now,
    );
    p["access_levels"] = json!([{
        "access_level_id": "premium", "store": "app_store", "store_product_id": "lifetime.premium",
        "store_base_plan_id": null, "store_transaction_id": "2000000700000007",
        "store_original_transaction_id": "2000000700000007", "offer": null, "starts_at": null,
        "purchased_at": iso(bought), "originally_purchased_at": iso(bought), "expires_at": null,
        "renewal_cancelled_at": null, "billing_issue_detected_at": null, "is_in_grace_period": false,
        "cancellation_reason": null
    }]);
    p["non_subscriptions"] = json!([{
        "purchase_id": "9b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "store": "app_store",
        "store_product_id": "lifetime.premium", "store_base_plan_id": null,
        "store_transaction_id": "2000000700000007", "store_original_transaction_id": "2000000700000007",
        "purchased_at": iso(bought), "environment": "Production", "is_refund": false, "is_consumable": false
    }]);
    p
}

fn sandbox(now: DateTime<Utc>) -> Value {
    let bought = now - Duration::hours(2);
    let expires = now + Duration::minutes(3);
    let mut p = profile(
        "3e5fbc8b-9d4a-4eab-af6c-5a7b9c1d3e4f",
        Some("demo-sandbox"),
        0.0,
        now,
    );
    p["access_levels"] = json!([{
        "access_level_id": "premium", "store": "app_store", "store_product_id": "weekly.premium.599",
        "store_base_plan_id": null, "store_transaction_id": "2000000600000006",
        "store_original_transaction_id": "2000000600000001", "offer": null, "starts_at": null,
        "purchased_at": iso(bought), "originally_purchased_at": iso(bought), "expires_at": iso(expires),
        "renewal_cancelled_at": null, "billing_issue_detected_at": null, "is_in_grace_period": false,
        "cancellation_reason": null, "environment": "Sandbox"
    }]);
    p["subscriptions"] = json!([{
        "store": "app_store", "store_product_id": "weekly.premium.599", "store_base_plan_id": null,
        "store_transaction_id": "2000000600000006", "store_original_transaction_id": "2000000600000001",
        "offer": null, "environment": "Sandbox", "purchased_at": iso(bought),
        "originally_purchased_at": iso(bought), "expires_at": iso(expires), "renewal_cancelled_at": null,
        "billing_issue_detected_at": null, "is_in_grace_period": false, "cancellation_reason": null
    }]);
    p
}

/// Never identified by the app: no customer user ID, and `null` arrays.
fn anonymous(now: DateTime<Utc>) -> Value {
    let mut p = profile(ANONYMOUS_PROFILE_ID, None, 0.0, now);
    p["access_levels"] = Value::Null;
    p["subscriptions"] = Value::Null;
    p["custom_attributes"] = Value::Null;
    p["non_subscriptions"] = json!([{
        "purchase_id": "8a0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d", "store": "stripe",
        "store_product_id": "coins_100", "store_base_plan_id": null,
        "store_transaction_id": "pi_3Nx1demo", "store_original_transaction_id": "pi_3Nx1demo",
        "purchased_at": iso(now - Duration::days(3)), "environment": "Production",
        "is_refund": false, "is_consumable": true
    }]);
    p
}

fn many_purchases(now: DateTime<Utc>) -> Value {
    let mut p = profile(
        "4f6acd9c-0e5b-4fbc-b07d-6b8c0d2e4f5a",
        Some("demo-many-purchases"),
        123.45,
        now,
    );
    let purchases: Vec<Value> = (0..60)
        .map(|n| {
            let product = ["coins_100", "coins_500", "remove_ads", "hint_pack"][n % 4];
            json!({
                "purchase_id": format!("7f000000-0000-4000-8000-{n:012}"),
                "store": if n % 5 == 0 { "play_store" } else { "app_store" },
                "store_product_id": product, "store_base_plan_id": null,
                "store_transaction_id": format!("300021095{n:05}"),
                "store_original_transaction_id": format!("300021095{n:05}"),
                "purchased_at": iso(now - Duration::days(n as i64 * 3 + 1)),
                "environment": "Production",
                "is_refund": n % 17 == 3,
                "is_consumable": product != "remove_ads"
            })
        })
        .collect();
    p["non_subscriptions"] = Value::Array(purchases);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_big_profile_is_the_size_the_budgets_speak_of() {
        let big = big(Utc::now());
        assert_eq!(big["non_subscriptions"].as_array().unwrap().len(), 8000);
        assert_eq!(big["subscriptions"].as_array().unwrap().len(), 400);
        let bytes = serde_json::to_vec(&json!({ "data": big })).unwrap().len();
        assert!((2_500_000..4_500_000).contains(&bytes), "{bytes} bytes");
    }

    #[test]
    fn every_sample_is_found_by_its_advertised_id_and_ids_are_unique() {
        let now = Utc::now();
        assert_eq!(SAMPLES.len(), 13);
        for sample in SAMPLES {
            let profile = find(sample.param, sample.id, now).unwrap();
            assert_eq!(
                profile[sample.param].as_str(),
                Some(sample.id),
                "{}",
                sample.id
            );
            let by_profile_id = find("profile_id", sample.profile_id, now).unwrap();
            assert_eq!(
                by_profile_id["profile_id"].as_str(),
                Some(sample.profile_id),
                "{}",
                sample.id
            );
            let same = SAMPLES
                .iter()
                .filter(|other| other.param == sample.param && other.id == sample.id)
                .count();
            assert_eq!(same, 1, "{} is advertised twice", sample.id);
        }
        assert_eq!(find("customer_user_id", "nobody", now), None);
        for sample in KIDS_SAMPLES {
            let profile = find_in(KIDS_SAMPLES, sample.param, sample.id, now).unwrap();
            assert_eq!(profile[sample.param].as_str(), Some(sample.id));
            let by_profile_id = find_in(KIDS_SAMPLES, "profile_id", sample.profile_id, now);
            assert_eq!(by_profile_id.unwrap()["profile_id"], sample.profile_id);
            assert_eq!(
                find(sample.param, sample.id, now),
                None,
                "only the kids app has it"
            );
        }
        assert_eq!(all(now).len(), SAMPLES.len());
    }

    #[test]
    fn dates_follow_the_moment_asked() {
        let earlier = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let later = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let expiry = |now| {
            let profile = find("customer_user_id", "demo-sandbox", now).unwrap();
            let expires = profile["access_levels"][0]["expires_at"]
                .as_str()
                .unwrap()
                .to_owned();
            DateTime::parse_from_rfc3339(&expires).unwrap().to_utc() - now
        };
        assert_eq!(expiry(earlier), Duration::minutes(3));
        assert_eq!(expiry(later), Duration::minutes(3));
    }

    /// README's sample table is this list, row for row.
    #[test]
    fn readme_lists_every_sample() {
        let readme = include_str!("../../../README.md");
        for sample in SAMPLES.iter().chain(KIDS_SAMPLES) {
            let by = match sample.param {
                "profile_id" => "profile ID",
                _ => "customer user ID",
            };
            let email = sample.email();
            let row = format!("| {} | {by} | `{}` | `{email}` |", sample.about, sample.id);
            assert!(readme.contains(&row), "README lacks the row {row}");
        }
    }
}
