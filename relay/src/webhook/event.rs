//! What Adapty's webhook sends, read into what the store keeps: the fields
//! the panel shows, the identifiers search finds a customer by, and every
//! field this version does not know, verbatim. Device data, IP addresses,
//! attributions and user attributes are documented, not shown, and dropped.
//! Every field is optional (Adapty sends nulls and leaves fields out); only
//! a profile ID is required.

use crate::apps::webhook_secret::Environment;
use crate::store::ingest::{Incoming, Seen};
use chrono::{DateTime, Utc};
use protocol::feed::{matched, source, AccessLevelUpdate, FeedEvent};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Longer than any ID Adapty or a store issues: not indexed, not shown.
const MAX_ID_CHARS: usize = 256;
/// How far past its arrival an event's own time is believed: a clock
/// that far ahead (or a forged date) would otherwise sort first forever
/// and outlive every pruning.
const MAX_AHEAD_MS: i64 = 24 * 60 * 60 * 1000;

/// What one POST is.
#[derive(Debug)]
pub enum Payload {
    /// Adapty checks the URL when it is saved: `{}`, or the older
    /// `{"adapty_check": "…"}` expecting `{"adapty_check_response": "…"}`.
    Verification(Option<String>),
    Event(Box<Incoming>),
}

/// Why a body is refused (400), said to Adapty's dashboard and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotJson,
    NotAnObject,
    NoProfileId,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NotJson => "the body is not JSON",
            Refusal::NotAnObject => "the body is not a JSON object",
            Refusal::NoProfileId => {
                "the event names no profile_id (a string of at most 256 characters)"
            }
        }
    }

    /// The metric's outcome label.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::NotJson => "malformed",
            Refusal::NotAnObject => "malformed",
            Refusal::NoProfileId => "no_profile_id",
        }
    }
}

/// Top-level fields that are documented and not kept.
const TOP_DROPPED: &[&str] = &[
    "event_api_version",
    "idfv",
    "idfa",
    "advertising_id",
    "user_agent",
    "profile_install_datetime",
    "profiles_sharing_access_level",
    "attributions",
    "user_attributes",
    "integration_ids",
    "play_store_purchase_token",
];
const TOP_READ: &[&str] = &[
    "profile_id",
    "customer_user_id",
    "email",
    "event_type",
    "event_datetime",
    "event_properties",
];

/// `event_properties` that are documented and not kept (revenue details,
/// paywall and cohort data, the customer's country and IP address).
const PROPERTIES_DROPPED: &[&str] = &[
    "original_purchase_date",
    "event_datetime",
    "net_revenue_usd",
    "net_revenue_local",
    "tax_amount_usd",
    "tax_amount_local",
    "consecutive_payments",
    "rate_after_first_year",
    "store_offer_category",
    "store_offer_discount_type",
    "promotional_offer_id",
    "paywall_name",
    "paywall_revision",
    "variation_id",
    "developer_id",
    "ab_test_name",
    "cohort_name",
    "profile_id",
    "profile_event_id",
    "profile_country",
    "store_country",
    "profile_ip_address",
    "profile_has_access_level",
    "profile_total_revenue_usd",
    "active_introductory_offer_type",
    "active_promotional_offer_id",
    "active_promotional_offer_type",
];
const PROPERTIES_READ: &[&str] = &[
    "store",
    "environment",
    "vendor_product_id",
    "base_plan_id",
    "transaction_id",
    "original_transaction_id",
    "purchase_date",
    "subscription_expires_at",
    "currency",
    "price_usd",
    "price_local",
    "proceeds_usd",
    "proceeds_local",
    "cancellation_reason",
    "trial_duration",
    "access_level_id",
    "is_active",
    "will_renew",
    "is_lifetime",
    "is_refund",
    "is_in_grace_period",
    "activated_at",
    "renewed_at",
    "expires_at",
    "billing_issue_detected_at",
];

/// Reads one POST that came with `sent_to`'s secret: an event of the
/// sandbox webhook is a sandbox event, whatever its body says.
pub fn read(
    body: &[u8],
    received: DateTime<Utc>,
    sent_to: Environment,
) -> Result<Payload, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Refusal::NotJson)?;
    let Value::Object(top) = value else {
        return Err(Refusal::NotAnObject);
    };
    if top.is_empty() {
        return Ok(Payload::Verification(None));
    }
    if let Some(check) = top.get("adapty_check") {
        if top.len() == 1 {
            return Ok(Payload::Verification(Some(
                text(Some(check)).unwrap_or_default(),
            )));
        }
    }
    let empty = Map::new();
    let properties = match top.get("event_properties") {
        Some(Value::Object(properties)) => properties,
        _ => &empty,
    };
    let profile_id = id(top.get("profile_id"))
        .or_else(|| id(properties.get("profile_id")))
        .ok_or(Refusal::NoProfileId)?;
    // As lookups name it, so the feed of a looked-up profile finds it.
    let profile_id =
        uuid::Uuid::parse_str(&profile_id).map_or(profile_id, |uuid| uuid.hyphenated().to_string());
    let happened = time(top.get("event_datetime"))
        .or_else(|| time(properties.get("event_datetime")))
        .unwrap_or(received);
    // Adapty's own ID when it sends one; else the body's hash, which its
    // retries (the same bytes) share.
    let key = id(properties.get("profile_event_id"))
        .unwrap_or_else(|| format!("sha256:{:x}", Sha256::digest(body)));
    let field = |name: &str| properties.get(name);
    let access_level = field("access_level_id").map(|_| AccessLevelUpdate {
        access_level_id: text(field("access_level_id")),
        is_active: field("is_active").and_then(Value::as_bool),
        will_renew: field("will_renew").and_then(Value::as_bool),
        is_lifetime: field("is_lifetime").and_then(Value::as_bool),
        is_refund: field("is_refund").and_then(Value::as_bool),
        is_in_grace_period: field("is_in_grace_period").and_then(Value::as_bool),
        activated_at: shown_time(field("activated_at")),
        renewed_at: shown_time(field("renewed_at")),
        expires_at: shown_time(field("expires_at")),
        billing_issue_detected_at: shown_time(field("billing_issue_detected_at")),
    });
    let mut other = std::collections::BTreeMap::new();
    for (name, value) in &top {
        if !TOP_READ.contains(&name.as_str()) && !TOP_DROPPED.contains(&name.as_str()) {
            other.insert(name.clone(), value.to_string());
        }
    }
    for (name, value) in properties {
        if !PROPERTIES_READ.contains(&name.as_str()) && !PROPERTIES_DROPPED.contains(&name.as_str())
        {
            other.insert(format!("event_properties.{name}"), value.to_string());
        }
    }
    let transaction_id = id(field("transaction_id"));
    let original_transaction_id = id(field("original_transaction_id"));
    let event = FeedEvent {
        id: key,
        source: source::ADAPTY.into(),
        kind: text(top.get("event_type")).unwrap_or_default(),
        at: crate::store::rfc3339(happened.timestamp_millis()),
        environment: match sent_to {
            Environment::Sandbox => Some(sent_to.name().to_owned()),
            Environment::Production => text(field("environment")),
        },
        store: text(field("store")),
        product: text(field("vendor_product_id")),
        base_plan_id: text(field("base_plan_id")),
        transaction_id: transaction_id.clone(),
        original_transaction_id: original_transaction_id.clone(),
        purchased_at: shown_time(field("purchase_date")),
        expires_at: shown_time(field("subscription_expires_at")),
        currency: text(field("currency")),
        price_local: number(field("price_local")),
        proceeds_local: number(field("proceeds_local")),
        price_usd: number(field("price_usd")),
        proceeds_usd: number(field("proceeds_usd")),
        cancellation_reason: text(field("cancellation_reason")),
        trial_duration: text(field("trial_duration")),
        access_level,
        other,
        staff: None,
    };
    let transactions = [
        (matched::TRANSACTION_ID, transaction_id),
        (matched::ORIGINAL_TRANSACTION_ID, original_transaction_id),
    ]
    .into_iter()
    .filter_map(|(kind, value)| Some((kind, value?)))
    .collect();
    Ok(Payload::Event(Box::new(Incoming {
        at_ms: happened
            .timestamp_millis()
            .min(received.timestamp_millis() + MAX_AHEAD_MS),
        event,
        customer: Seen {
            profile_id,
            customer_user_id: id(top.get("customer_user_id")),
            email: id(top.get("email")).filter(|email| email.contains('@')),
            transactions,
        },
    })))
}

/// A string, or a number or boolean as written (Adapty's own example sends
/// a documented integer as a string, so the reverse is expected too).
/// Blank is absent.
fn text(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// An identifier: text, not too long to be one.
fn id(value: Option<&Value>) -> Option<String> {
    text(value).filter(|id| id.chars().count() <= MAX_ID_CHARS)
}

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok().filter(|n: &f64| n.is_finite()),
        _ => None,
    }
}

fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    adapty_time(&text(value)?)
}

/// Adapty's dates (`2024-11-15T10:45:36.181000+0000`), or RFC 3339.
pub fn adapty_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// A date as RFC 3339 when it reads as one, else as Adapty wrote it.
fn shown_time(value: Option<&Value>) -> Option<String> {
    time(value)
        .map(|time| crate::store::rfc3339(time.timestamp_millis()))
        .or_else(|| text(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../fixtures/webhook-subscription-started.json");

    fn received() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn event(body: &str) -> Incoming {
        match read(body.as_bytes(), received(), Environment::Production).unwrap() {
            Payload::Event(incoming) => *incoming,
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn adaptys_example_is_read_into_what_the_panel_shows_and_nothing_private() {
        let incoming = event(EXAMPLE);
        let shown = &incoming.event;
        assert_eq!(shown.kind, "subscription_started");
        assert_eq!(shown.at, "2000-01-31T00:00:00Z");
        assert_eq!(shown.id, "00000000-0000-0000-0000-000000000000");
        assert_eq!(shown.store.as_deref(), Some("play_store"));
        assert_eq!(shown.environment.as_deref(), Some("Production"));
        assert_eq!(shown.product.as_deref(), Some("onemonth_no_trial"));
        assert_eq!(shown.price_local, Some(4.99));
        assert_eq!(shown.proceeds_usd, Some(4.2315));
        assert_eq!(shown.currency.as_deref(), Some("USD"));
        assert_eq!(
            shown.purchased_at.as_deref(),
            Some("2024-11-15T10:45:36.181Z")
        );
        assert!(shown.other.is_empty(), "{:?}", shown.other);
        let kept = serde_json::to_string(shown).unwrap();
        for private in [
            "10.10.1.1",
            "ExampleUserAgent",
            "Fluffy",
            "appsflyer",
            "val1",
            "AR",
        ] {
            assert!(!kept.contains(private), "{private} kept: {kept}");
        }
        assert_eq!(
            incoming.customer.email.as_deref(),
            Some("john.doe@company.com")
        );
        assert_eq!(
            incoming.customer.customer_user_id.as_deref(),
            Some("UserIdInYourSystem")
        );
        assert_eq!(incoming.customer.transactions.len(), 2);
    }

    #[test]
    fn unknown_types_and_fields_are_kept_verbatim() {
        let incoming = event(
            r#"{"profile_id":"p","event_type":"my_renamed_event","future":{"a":[1]},
                "event_properties":{"brand_new":"x","price_local":"3.50","paywall_revision":"1"}}"#,
        );
        assert_eq!(incoming.event.kind, "my_renamed_event");
        assert_eq!(incoming.event.other["future"], r#"{"a":[1]}"#);
        assert_eq!(incoming.event.other["event_properties.brand_new"], r#""x""#);
        assert_eq!(incoming.event.price_local, Some(3.5));
        // No time, no ID: received now, known by the body's hash.
        assert_eq!(incoming.event.at, "2026-12-07T00:00:00Z");
        assert!(incoming.event.id.starts_with("sha256:"));
    }

    #[test]
    fn verification_and_what_is_refused() {
        assert!(matches!(
            read(b"{}", received(), Environment::Production),
            Ok(Payload::Verification(None))
        ));
        assert!(matches!(
            read(br#"{"adapty_check":"abc"}"#, received(), Environment::Production),
            Ok(Payload::Verification(Some(check))) if check == "abc"
        ));
        assert_eq!(
            read(b"{", received(), Environment::Production).unwrap_err(),
            Refusal::NotJson
        );
        assert_eq!(
            read(b"[]", received(), Environment::Production).unwrap_err(),
            Refusal::NotAnObject
        );
        for no_profile in [
            r#"{"event_type":"x"}"#,
            r#"{"profile_id":null}"#,
            r#"{"profile_id":"  "}"#,
            r#"{"profile_id":{"a":1}}"#,
        ] {
            assert_eq!(
                read(no_profile.as_bytes(), received(), Environment::Production).unwrap_err(),
                Refusal::NoProfileId,
                "{no_profile}"
            );
        }
        let long = format!(r#"{{"profile_id":"{}"}}"#, "p".repeat(257));
        assert_eq!(
            read(long.as_bytes(), received(), Environment::Production).unwrap_err(),
            Refusal::NoProfileId
        );
        // The profile ID inside the properties is enough.
        assert_eq!(
            event(r#"{"event_properties":{"profile_id":"q"}}"#)
                .customer
                .profile_id,
            "q"
        );
    }

    #[test]
    fn the_sandbox_webhooks_events_are_sandbox_events_and_dates_ahead_are_held_back() {
        let body = r#"{"profile_id":"p","event_type":"subscription_started",
            "event_datetime":"2036-01-01T00:00:00.000000+0000",
            "event_properties":{"environment":"Production"}}"#;
        let Ok(Payload::Event(sandbox)) = read(body.as_bytes(), received(), Environment::Sandbox)
        else {
            panic!("not an event")
        };
        assert_eq!(sandbox.event.environment.as_deref(), Some("Sandbox"));
        // Shown as sent, ordered and pruned as if it came a day after arriving.
        assert_eq!(sandbox.event.at, "2036-01-01T00:00:00Z");
        assert_eq!(
            sandbox.at_ms,
            received().timestamp_millis() + 24 * 60 * 60 * 1000
        );
        assert_eq!(event(body).event.environment.as_deref(), Some("Production"));
    }

    #[test]
    fn access_level_updated_brings_its_fields() {
        let incoming = event(
            r#"{"profile_id":"p","event_type":"access_level_updated",
                "event_datetime":"2026-12-01T10:00:00.000000+0000",
                "event_properties":{"access_level_id":"premium","is_active":true,
                "will_renew":false,"expires_at":"2027-01-01T00:00:00.000000+0000"}}"#,
        );
        let level = incoming.event.access_level.unwrap();
        assert_eq!(level.access_level_id.as_deref(), Some("premium"));
        assert_eq!(level.is_active, Some(true));
        assert_eq!(level.will_renew, Some(false));
        assert_eq!(level.expires_at.as_deref(), Some("2027-01-01T00:00:00Z"));
    }
}
