//! What the relay's store answers: a search for the customer a ticket
//! names (`GET api/search`, [`SearchAnswer`]) and one customer's events,
//! Adapty's and the relay's own, newest first (`GET api/events`,
//! [`EventsPage`]). The relay writes them and the panel reads them, both
//! from these types.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many matches a search answers at most.
pub const SEARCH_LIMIT: usize = 20;
/// How many events one page holds at most.
pub const EVENTS_PAGE: usize = 50;

/// `{"matches": [...], "indexed_since": "2026-01-01T00:00:00Z" | null}`:
/// exact matches only, the most recently seen first. `indexed_since` is the
/// oldest event the store holds for the app (`null`: none yet), so that a
/// search that finds nothing can say since when customers can be found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchAnswer {
    pub matches: Vec<SearchMatch>,
    pub indexed_since: Option<String>,
}

/// One customer the search found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchMatch {
    pub profile_id: String,
    #[serde(default)]
    pub customer_user_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Which of the customer's identifiers equals the query: one of [`matched`].
    pub matched: String,
    /// When the store last saw this customer (an event, or a lookup), RFC 3339.
    pub last_seen_at: String,
}

/// The values of [`SearchMatch::matched`]: what the store indexes.
pub mod matched {
    pub const EMAIL: &str = "email";
    pub const TRANSACTION_ID: &str = "transaction_id";
    pub const ORIGINAL_TRANSACTION_ID: &str = "original_transaction_id";
    pub const CUSTOMER_USER_ID: &str = "customer_user_id";
    pub const PROFILE_ID: &str = "profile_id";
    pub const ALL: &[&str] = &[
        EMAIL,
        TRANSACTION_ID,
        ORIGINAL_TRANSACTION_ID,
        CUSTOMER_USER_ID,
        PROFILE_ID,
    ];
}

/// `{"events": [...], "next": CURSOR | null, "email": … | null}`: one page, newest first;
/// `next` is the `before` parameter of the following page.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EventsPage {
    pub events: Vec<FeedEvent>,
    pub next: Option<String>,
    /// The email Adapty's events last gave for this customer (the only
    /// way to see it: Adapty's API never shows it back); `null` when none.
    pub email: Option<String>,
}

/// The values of [`FeedEvent::source`].
pub mod source {
    /// Sent by Adapty's webhook.
    pub const ADAPTY: &str = "adapty";
    /// A change the relay itself sent (support's grant or revoke).
    pub const RELAY: &str = "relay";
}

/// The values of [`FeedEvent::kind`] for the relay's own changes.
pub mod staff_kind {
    pub const GRANT: &str = "grant";
    pub const REVOKE: &str = "revoke";
}

/// One event: Adapty's (its fields as Adapty sent them, the ones the panel
/// shows) or the relay's own change (`staff`). Every field but the first
/// four may be absent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FeedEvent {
    /// Unique within the app: Adapty's `profile_event_id`, or the relay's
    /// request ID.
    pub id: String,
    /// One of [`source`].
    pub source: String,
    /// Adapty's `event_type`, verbatim (an app may rename them), or one of
    /// [`staff_kind`].
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened, RFC 3339 (Adapty's `event_datetime`; the time the
    /// relay sent the change).
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Adapty's `vendor_product_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchased_at: Option<String>,
    /// Adapty's `subscription_expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_local: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proceeds_local: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proceeds_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_duration: Option<String>,
    /// The fields of `access_level_updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_level: Option<AccessLevelUpdate>,
    /// Fields this version does not know, each as the JSON Adapty sent:
    /// shown verbatim, never dropped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, String>,
    /// The relay's own change: who, why, and what came of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<StaffAction>,
}

/// What `access_level_updated` says of the access level after the event.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessLevelUpdate {
    pub access_level_id: Option<String>,
    pub is_active: Option<bool>,
    pub will_renew: Option<bool>,
    pub is_lifetime: Option<bool>,
    pub is_refund: Option<bool>,
    pub is_in_grace_period: Option<bool>,
    pub activated_at: Option<String>,
    pub renewed_at: Option<String>,
    pub expires_at: Option<String>,
    pub billing_issue_detected_at: Option<String>,
}

/// A grant or revoke the relay sent for this customer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StaffAction {
    /// Who, as the audit log names them (the SSO identity).
    pub author: String,
    pub reason: String,
    /// `ok`, or the error code the change ended with (`outcome_unknown`:
    /// it may or may not have reached Adapty).
    pub outcome: String,
    pub access_level_id: String,
    /// A grant's new start and end (`null` end: lifetime).
    pub starts_at: Option<String>,
    pub expires_at: Option<String>,
    /// A revoke's date (`null`: now).
    pub revoke_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adapty_event_reads_back_and_leaves_out_what_it_lacks() {
        let event = FeedEvent {
            id: "e1".into(),
            source: source::ADAPTY.into(),
            kind: "subscription_renewed".into(),
            at: "2026-01-01T00:00:00Z".into(),
            price_local: Some(4.99),
            other: BTreeMap::from([("new_field".into(), "[1,2]".into())]),
            ..FeedEvent::default()
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"id":"e1","source":"adapty","type":"subscription_renewed","at":"2026-01-01T00:00:00Z","price_local":4.99,"other":{"new_field":"[1,2]"}}"#
        );
        assert_eq!(serde_json::from_str::<FeedEvent>(&json).unwrap(), event);
    }

    #[test]
    fn a_search_answer_without_fields_reads_as_empty() {
        assert_eq!(
            serde_json::from_str::<SearchAnswer>("{}").unwrap(),
            SearchAnswer::default()
        );
    }
}
