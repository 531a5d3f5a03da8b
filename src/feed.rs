//! Adapty's events and support's changes, from the relay's store (`GET
//! api/events`, newest first, a page at a time), merged into the history
//! the profile's dates give (`events::history`) so that no fact is told
//! twice.
//!
//! The rules:
//!
//! - **Adapty's event of a fact the profile tells** (a start, a renewal,
//!   auto-renew turned off, a billing issue, an expiry, a purchase) is one
//!   entry with it: the profile's sentence and link, marked *Adapty*, with
//!   Adapty's type and fields below. The same fact: the same product and
//!   either the same transaction (a renewal's or purchase's own, a start's
//!   or expiry's original) or an instant within [`SAME_MOMENT`].
//! - **Support's change** is an entry of its own: who, why, and whether it
//!   went through. The `access_level_updated` it caused is not shown again
//!   (`support::is_echo`), nor, after a revoke "now", the profile's "access
//!   ended" at that moment.
//! - **Every other event of Adapty's** is an entry marked *Adapty*: a
//!   sentence for each type Adapty documents, and an unknown type (an app
//!   may rename them) named verbatim; fields this version does not know
//!   (`other`) are listed verbatim.
//! - Sandbox events are marked, as the profile's are.

use crate::error::LookupError;
use crate::events::{self, Event, Fact, Item, Source, When};
use crate::format;
use crate::lookup::README_SEARCH;
use crate::model::{Loose, Profile, Timestamp};
use crate::status::is_sandbox;
use crate::support::{self, REVOKE_SLACK};
use chrono::{DateTime, Duration, Utc};
use protocol::feed::{source, staff_kind, AccessLevelUpdate, EventsPage, FeedEvent, StaffAction};
use std::collections::BTreeMap;

/// How far apart the profile's date and Adapty's event of one fact may be.
pub const SAME_MOMENT: Duration = Duration::minutes(5);

/// The relay's events for the customer shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// The relay keeps no store.
    NotConnected,
    /// The newest page.
    Page(EventsPage),
    /// It could not be read.
    Failed(LookupError),
}

/// A page of the store's events in protocol's shape, read from its JSON
/// field by field: serde's derive for these types would weigh about 10 KB
/// of the panel's wasm. A field missing or of another type is absent.
pub fn read_page(json: &Loose) -> EventsPage {
    EventsPage {
        events: json.get("events").items().iter().map(read_event).collect(),
        next: json.string("next"),
        email: json.string("email"),
    }
}

/// A stored event's moment and sentence, in the History's words (a bulk
/// run's "last event"); `None` for anything without a readable moment.
pub fn moment_and_sentence(json: &Loose) -> Option<(DateTime<Utc>, String)> {
    let event = read_event(json);
    Some((instant(Some(&event.at))?, sentence(&event)))
}

fn read_event(json: &Loose) -> FeedEvent {
    let update = json.get("access_level");
    let staff = json.get("staff");
    FeedEvent {
        id: json.string("id").unwrap_or_default(),
        source: json.string("source").unwrap_or_default(),
        kind: json.string("type").unwrap_or_default(),
        at: json.string("at").unwrap_or_default(),
        environment: json.string("environment"),
        store: json.string("store"),
        product: json.string("product"),
        base_plan_id: json.string("base_plan_id"),
        transaction_id: json.string("transaction_id"),
        original_transaction_id: json.string("original_transaction_id"),
        purchased_at: json.string("purchased_at"),
        expires_at: json.string("expires_at"),
        currency: json.string("currency"),
        price_local: json.number("price_local"),
        proceeds_local: json.number("proceeds_local"),
        price_usd: json.number("price_usd"),
        proceeds_usd: json.number("proceeds_usd"),
        cancellation_reason: json.string("cancellation_reason"),
        trial_duration: json.string("trial_duration"),
        access_level: matches!(update, Loose::Object(_)).then(|| AccessLevelUpdate {
            access_level_id: update.string("access_level_id"),
            is_active: update.flag("is_active"),
            will_renew: update.flag("will_renew"),
            is_lifetime: update.flag("is_lifetime"),
            is_refund: update.flag("is_refund"),
            is_in_grace_period: update.flag("is_in_grace_period"),
            activated_at: update.string("activated_at"),
            renewed_at: update.string("renewed_at"),
            expires_at: update.string("expires_at"),
            billing_issue_detected_at: update.string("billing_issue_detected_at"),
        }),
        other: {
            // Inserted one by one: collecting would sort them first, with
            // a sort of its own in the wasm.
            let mut other = BTreeMap::new();
            if let Loose::Object(fields) = json.get("other") {
                for (name, value) in fields {
                    let value = value
                        .text()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    other.insert(name.clone(), value);
                }
            }
            other
        },
        staff: matches!(staff, Loose::Object(_)).then(|| StaffAction {
            author: staff.string("author").unwrap_or_default(),
            reason: staff.string("reason").unwrap_or_default(),
            outcome: staff.string("outcome").unwrap_or_default(),
            access_level_id: staff.string("access_level_id").unwrap_or_default(),
            starts_at: staff.string("starts_at"),
            expires_at: staff.string("expires_at"),
            revoke_at: staff.string("revoke_at"),
        }),
    }
}

/// Said once above a history without Adapty's events.
pub fn note(feed: &Feed) -> String {
    match feed {
        Feed::NotConnected => format!(
            "Adapty's own events are not connected: this history is derived from the profile's \
             dates ({README_SEARCH}, says how to connect them)."
        ),
        Feed::Failed(error) => unavailable(error),
        Feed::Page(_) => String::new(),
    }
}

/// Why Adapty's events are missing: "Adapty's events could not be loaded
/// (Search is unavailable right now): …".
pub fn unavailable(error: &LookupError) -> String {
    format!(
        "Adapty's events could not be loaded ({}): this history is derived from the profile's \
         dates.",
        error.title()
    )
}

/// `derived` (the profile's history) with `feed`'s events, newest first.
/// The events are borrowed, from however many pages came.
pub fn merge(profile: &Profile, derived: Vec<Event>, feed: &[&FeedEvent]) -> Vec<Event> {
    let mut events = derived;
    let changes: Vec<_> = feed
        .iter()
        .filter_map(|event| {
            let (action, at) = support::staff(event)?;
            Some((action, event.kind == staff_kind::REVOKE, at))
        })
        .collect();
    for event in feed {
        if event.source == source::RELAY {
            events.push(staff_event(profile, event));
            continue;
        }
        let echo = changes
            .iter()
            .any(|&(action, revoked, at)| support::is_echo(event, action, revoked, at));
        if echo {
            continue;
        }
        let fact = fact_of(&event.kind);
        let twin = events.iter_mut().find(|told| {
            told.source == Source::Profile
                && fact != Fact::Other
                && told.fact == fact
                && event.product.as_deref() == name_of(profile, told)
                && (same_transaction(profile, told, event) || same_moment(told, event))
        });
        match twin {
            Some(told) => {
                told.source = Source::Adapty;
                told.detail = detail(event);
            }
            None => events.push(adapty_event(profile, event, fact)),
        }
    }
    // A revoke "now" ended the access: its entry says so.
    for &(action, revoked, at) in &changes {
        if revoked && action.revoke_at.is_none() && action.outcome == support::OK {
            events.retain(|told| {
                !(told.source == Source::Profile
                    && told.fact == Fact::AccessEnded
                    && name_of(profile, told) == Some(action.access_level_id.as_str())
                    && matches!(told.when, When::At(end) if (end - at).abs() <= REVOKE_SLACK))
            });
        }
    }
    // The profile's history is in order: of two at one instant, it keeps
    // its own, and the feed's follow it.
    events::sort(events, false)
}

/// What the profile's entry is about, as Adapty's events name it: the
/// product of its row, or for an access level's end, the level's ID.
fn name_of<'a>(profile: &'a Profile, told: &Event) -> Option<&'a str> {
    let name = match (told.item?, told.fact) {
        (Item::Subscription(index), _) => &profile.subscriptions.get(index)?.store_product_id,
        (Item::Purchase(index), _) => &profile.non_subscriptions.get(index)?.store_product_id,
        (Item::AccessLevel(index), Fact::AccessEnded) => {
            &profile.access_levels.get(index)?.access_level_id
        }
        (Item::AccessLevel(index), _) => &profile.access_levels.get(index)?.store_product_id,
    };
    Some(name)
}

/// The fact an Adapty event type tells, when the profile tells it too.
fn fact_of(kind: &str) -> Fact {
    match kind {
        "subscription_started" | "trial_started" => Fact::Subscribed,
        "subscription_renewed" | "trial_converted" => Fact::Renewed,
        "subscription_renewal_cancelled" | "trial_renewal_cancelled" => Fact::AutoRenewOff,
        "billing_issue_detected" => Fact::BillingIssue,
        "subscription_expired" | "trial_expired" => Fact::Expired,
        "non_subscription_purchase" => Fact::Bought,
        _ => Fact::Other,
    }
}

fn instant(text: Option<&String>) -> Option<DateTime<Utc>> {
    text.and_then(|text| support::instant(text))
}

/// Whether Adapty's event names the transaction the profile's entry is of.
fn same_transaction(profile: &Profile, told: &Event, event: &FeedEvent) -> bool {
    let equal = |ours: &Option<String>, theirs: &Option<String>| {
        ours.is_some() && ours.as_deref() == theirs.as_deref()
    };
    match (told.item, told.fact) {
        (Some(Item::Subscription(index)), Fact::Renewed) => equal(
            &profile.subscriptions[index].store_transaction_id,
            &event.transaction_id,
        ),
        (Some(Item::Subscription(index)), Fact::Subscribed | Fact::Expired) => equal(
            &profile.subscriptions[index].store_original_transaction_id,
            &event.original_transaction_id,
        ),
        (Some(Item::Purchase(index)), Fact::Bought) => equal(
            &profile.non_subscriptions[index].store_transaction_id,
            &event.transaction_id,
        ),
        _ => false,
    }
}

/// Whether Adapty's event happened when the profile's entry did: its own
/// time, or the purchase or expiry date it carries.
fn same_moment(told: &Event, event: &FeedEvent) -> bool {
    let When::At(at) = told.when else {
        return false;
    };
    let dated = match told.fact {
        Fact::Subscribed | Fact::Renewed | Fact::Bought => event.purchased_at.as_ref(),
        Fact::Expired => event.expires_at.as_ref(),
        _ => None,
    };
    [Some(&event.at), dated]
        .into_iter()
        .filter_map(instant)
        .any(|when| (when - at).abs() <= SAME_MOMENT)
}

/// An instant of the relay's as the history places it.
pub fn when(at: &str) -> When {
    match Timestamp::parse(at) {
        Timestamp::At(at) => When::At(at),
        Timestamp::Unreadable(raw) => When::Unreadable(raw),
    }
}

fn access_level_card(profile: &Profile, id: &str) -> Option<Item> {
    let index = profile
        .access_levels
        .iter()
        .position(|level| level.access_level_id == id)?;
    Some(Item::AccessLevel(index))
}

/// The row or card an Adapty event is about, when it is on the page: its
/// access level, or the subscription or purchase of its transaction or,
/// failing that, of its product.
fn item_of(profile: &Profile, event: &FeedEvent) -> Option<Item> {
    if let Some(id) = event
        .access_level
        .as_ref()
        .and_then(|update| update.access_level_id.as_deref())
    {
        return access_level_card(profile, id);
    }
    let product = event.product.as_deref()?;
    let original = event.original_transaction_id.as_deref();
    let transaction = event.transaction_id.as_deref();
    let subscriptions = &profile.subscriptions;
    let purchases = &profile.non_subscriptions;
    let by_original = original.and_then(|original| {
        subscriptions
            .iter()
            .position(|item| item.store_original_transaction_id.as_deref() == Some(original))
    });
    let by_transaction = transaction.and_then(|transaction| {
        purchases
            .iter()
            .position(|item| item.store_transaction_id.as_deref() == Some(transaction))
    });
    by_original
        .map(Item::Subscription)
        .or(by_transaction.map(Item::Purchase))
        .or_else(|| {
            let index = subscriptions
                .iter()
                .position(|item| item.store_product_id == product)?;
            Some(Item::Subscription(index))
        })
        .or_else(|| {
            let index = purchases
                .iter()
                .position(|item| item.store_product_id == product)?;
            Some(Item::Purchase(index))
        })
}

/// The environment of the row or card `item`, as its own events are marked.
fn environment_of(profile: &Profile, item: Item) -> Option<&str> {
    match item {
        Item::AccessLevel(index) => profile.access_levels.get(index)?.effective_environment(),
        Item::Subscription(index) => profile.subscriptions.get(index)?.environment.as_deref(),
        Item::Purchase(index) => profile.non_subscriptions.get(index)?.environment.as_deref(),
    }
}

/// An event of Adapty's that the profile does not tell; one without an
/// environment (`access_level_updated` has none) takes its item's.
fn adapty_event(profile: &Profile, event: &FeedEvent, fact: Fact) -> Event {
    let item = item_of(profile, event);
    let environment = event
        .environment
        .as_deref()
        .or_else(|| environment_of(profile, item?));
    Event {
        when: when(&event.at),
        text: sentence(event),
        item,
        sandbox: is_sandbox(environment),
        refunded: false,
        source: Source::Adapty,
        detail: detail(event),
        fact,
    }
}

/// "Renewed weekly.premium.599", one for each type Adapty documents; an
/// unknown one named as Adapty sent it.
fn sentence(event: &FeedEvent) -> String {
    let product = event.product.as_deref().unwrap_or("a product");
    let store = event
        .store
        .as_deref()
        .map(|store| [" (", &format::store(store), ")"].concat())
        .unwrap_or_default();
    let reason = match event.cancellation_reason.as_deref() {
        None => String::new(),
        Some("refund") => " (refunded)".into(),
        Some(reason) => [" (", &format::cancellation_reason(reason), ")"].concat(),
    };
    let words: &[&str] = match event.kind.as_str() {
        "subscription_started" => &["Subscribed to ", product, &store],
        "subscription_renewed" => &["Renewed ", product],
        "subscription_renewal_cancelled" => &["Auto-renew turned off for ", product],
        "subscription_renewal_reactivated" => &["Auto-renew turned back on for ", product],
        "subscription_expired" => &[product, " expired", &reason],
        "subscription_paused" => &[product, " paused"],
        "subscription_deferred" => &[product, "'s renewal deferred"],
        "non_subscription_purchase" => &["Bought ", product, &store],
        "trial_started" => &["Free trial of ", product, " started", &store],
        "trial_converted" => &["Free trial of ", product, " converted to paid"],
        "trial_renewal_cancelled" => &["Auto-renew turned off in the free trial of ", product],
        "trial_renewal_reactivated" => {
            &["Auto-renew turned back on in the free trial of ", product]
        }
        "trial_expired" => &["Free trial of ", product, " expired", &reason],
        "entered_grace_period" => &["Grace period started for ", product],
        "billing_issue_detected" => &["Billing issue detected on ", product],
        "subscription_refunded" => &[product, " refunded"],
        "non_subscription_purchase_refunded" => &["Purchase of ", product, " refunded"],
        "access_level_updated" => {
            let update = event.access_level.clone().unwrap_or_default();
            let id = update
                .access_level_id
                .as_deref()
                .unwrap_or("An access level");
            let now = match (update.is_active, update.is_lifetime) {
                (Some(true), Some(true)) => ": active for life",
                (Some(true), _) => ": active",
                (Some(false), _) => ": no access",
                (None, _) => "",
            };
            return [id, " access updated", now].concat();
        }
        other => {
            let about = event
                .product
                .as_deref()
                .map(|product| [" (", product, ")"].concat())
                .unwrap_or_default();
            return ["Adapty event \u{201c}", other, "\u{201d}", &about].concat();
        }
    };
    words.concat()
}

/// Adapty's type and the fields the sentence leaves out, verbatim where
/// the panel cannot say them better: "subscription_renewed · 4.99 USD ·
/// proceeds 4.24 USD · transaction 1000000123".
fn detail(event: &FeedEvent) -> String {
    let mut parts = vec![event.kind.clone()];
    // serde_json's float writer, in the wasm anyway: core's `Display for
    // f64` would add its own ~10 KB.
    let number = |value: f64| serde_json::to_string(&value).unwrap_or_default();
    let money = |amount: Option<f64>, usd: Option<f64>| match (amount, &event.currency, usd) {
        (Some(amount), Some(currency), _) => {
            Some([number(amount), " ".into(), currency.clone()].concat())
        }
        (_, _, Some(usd)) => Some([number(usd), " USD".into()].concat()),
        _ => None,
    };
    if let Some(price) = money(event.price_local, event.price_usd) {
        parts.push(price);
    }
    if let Some(proceeds) = money(event.proceeds_local, event.proceeds_usd) {
        parts.push(format!("proceeds {proceeds}"));
    }
    let labelled = [
        ("base plan ", &event.base_plan_id),
        ("trial ", &event.trial_duration),
        ("transaction ", &event.transaction_id),
    ];
    for (label, value) in labelled {
        if let Some(value) = value {
            parts.push(format!("{label}{value}"));
        }
    }
    if event.original_transaction_id != event.transaction_id {
        if let Some(original) = &event.original_transaction_id {
            parts.push(format!("original transaction {original}"));
        }
    }
    if let Some(update) = &event.access_level {
        let flags = [
            (update.will_renew == Some(true), "renews"),
            (update.will_renew == Some(false), "won't renew"),
            (update.is_refund == Some(true), "refund"),
            (update.is_in_grace_period == Some(true), "grace period"),
            (update.billing_issue_detected_at.is_some(), "billing issue"),
        ];
        for (set, flag) in flags {
            if set {
                parts.push(flag.into());
            }
        }
        if let Some(end) = &update.expires_at {
            parts.push(format!("expires_at {end}"));
        }
    }
    for (name, value) in &event.other {
        parts.push(format!("{name}: {value}"));
    }
    parts.join(" \u{b7} ")
}

/// Support's change: who, why, and whether it went through.
fn staff_event(profile: &Profile, event: &FeedEvent) -> Event {
    let action = event.staff.clone().unwrap_or_default();
    let id = action.access_level_id.as_str();
    let who = [
        action.author.as_str(),
        ", reason \u{201c}",
        &action
            .reason
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        "\u{201d}",
    ]
    .concat();
    let (noun, verb) = match event.kind.as_str() {
        staff_kind::GRANT => ("grant", "granted"),
        staff_kind::REVOKE => ("revoke", "revoked"),
        other => (other, other),
    };
    let (text, detail) = match action.outcome.as_str() {
        support::OK => (
            [id, " ", verb, " by support: ", &who].concat(),
            String::new(),
        ),
        "outcome_unknown" => (
            [
                "Support's ",
                noun,
                " of ",
                id,
                " may not have been applied: ",
                &who,
            ]
            .concat(),
            "The relay got no answer from Adapty: look the customer up again to see whether \
             it was applied."
                .into(),
        ),
        refused => (
            ["Support's ", noun, " of ", id, " was not applied: ", &who].concat(),
            ["Refused: ", refused].concat(),
        ),
    };
    Event {
        when: when(&event.at),
        text,
        item: access_level_card(profile, id),
        sandbox: false,
        refunded: false,
        source: Source::Support,
        detail,
        fact: Fact::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;
    use crate::support::tests::{adapty, grant, now, revoke, updated};
    use protocol::feed::AccessLevelUpdate;

    /// A renewed App Store subscription of `monthly.premium` and the
    /// `premium` it grants, ended a minute ago (as after a revoke).
    fn profile() -> Profile {
        Envelope::parse(
            r#"{"data":{"profile_id":"p",
                "access_levels":[{"access_level_id":"premium","store":"app_store",
                    "store_product_id":"monthly.premium","expires_at":"2026-11-28T11:59:00Z"}],
                "subscriptions":[{"store":"app_store","store_product_id":"monthly.premium",
                    "store_transaction_id":"t2","store_original_transaction_id":"t1",
                    "originally_purchased_at":"2026-09-28T12:00:00Z",
                    "purchased_at":"2026-10-28T12:00:00Z",
                    "expires_at":"2026-12-28T12:00:00Z"}],
                "non_subscriptions":[{"store":"app_store","store_product_id":"coins_100",
                    "store_transaction_id":"c1","purchased_at":"2026-11-01T12:00:00Z"}]}}"#,
        )
        .unwrap()
    }

    fn merged(feed: &[FeedEvent]) -> Vec<Event> {
        let profile = profile();
        let feed: Vec<&FeedEvent> = feed.iter().collect();
        merge(&profile, events::history(&profile, now()), &feed)
    }

    fn told(events: &[Event]) -> Vec<(String, Source)> {
        events
            .iter()
            .map(|event| (event.text.clone(), event.source))
            .collect()
    }

    fn at(text: &str) -> FeedEvent {
        FeedEvent {
            at: text.into(),
            ..adapty("", 0)
        }
    }

    #[test]
    fn a_fact_the_profile_tells_is_one_entry_marked_as_adaptys() {
        let renewed = FeedEvent {
            kind: "subscription_renewed".into(),
            transaction_id: Some("t2".into()),
            original_transaction_id: Some("t1".into()),
            // Adapty's time differs from the profile's: the transaction decides.
            at: "2026-10-28T13:30:00.000000+0000".into(),
            price_local: Some(4.99),
            currency: Some("USD".into()),
            proceeds_local: Some(4.24),
            ..at("")
        };
        let started = FeedEvent {
            kind: "subscription_started".into(),
            ..at("2026-09-28T12:01:00Z")
        };
        let bought = FeedEvent {
            kind: "non_subscription_purchase".into(),
            product: Some("coins_100".into()),
            transaction_id: Some("c1".into()),
            ..at("2026-11-01T12:00:00Z")
        };
        let events = merged(&[bought, renewed, started]);
        assert_eq!(
            told(&events),
            [
                ("monthly.premium renews".into(), Source::Profile),
                ("premium access ended".into(), Source::Profile),
                ("Bought coins_100 (App Store)".into(), Source::Adapty),
                ("Renewed monthly.premium".into(), Source::Adapty),
                (
                    "Subscribed to monthly.premium (App Store)".into(),
                    Source::Adapty
                ),
            ]
        );
        assert_eq!(
            events[3].detail,
            "subscription_renewed \u{b7} 4.99 USD \u{b7} proceeds 4.24 USD \u{b7} transaction \
             t2 \u{b7} original transaction t1"
        );
        assert_eq!(events[3].item, Some(Item::Subscription(0)));
        assert_eq!(events[3].marks(now()), ["Adapty"]);
    }

    #[test]
    fn the_same_kind_of_fact_at_another_time_or_of_another_product_is_its_own_entry() {
        let older = FeedEvent {
            kind: "subscription_renewed".into(),
            transaction_id: Some("t0".into()),
            ..at("2026-09-28T12:00:00Z")
        };
        let elsewhere = FeedEvent {
            kind: "subscription_renewed".into(),
            product: Some("other.product".into()),
            ..at("2026-10-28T12:00:00Z")
        };
        let events = merged(&[elsewhere, older]);
        let adaptys: Vec<(&str, Option<Item>)> = events
            .iter()
            .filter(|event| event.source == Source::Adapty)
            .map(|event| (event.text.as_str(), event.item))
            .collect();
        assert_eq!(
            adaptys,
            [
                ("Renewed other.product", None),
                ("Renewed monthly.premium", Some(Item::Subscription(0))),
            ]
        );
        assert!(events.iter().any(
            |event| event.text == "Renewed monthly.premium" && event.source == Source::Profile
        ));
    }

    #[test]
    fn unknown_types_and_fields_are_shown_verbatim() {
        let renamed = FeedEvent {
            kind: "my_renamed_event".into(),
            other: BTreeMap::from([
                ("paywall_name".into(), "\"Spring\"".into()),
                ("new_field".into(), "[1,2]".into()),
            ]),
            environment: Some("Sandbox".into()),
            ..at("2026-11-20T10:00:00Z")
        };
        let events = merged(&[renamed]);
        let event = events
            .iter()
            .find(|event| event.source == Source::Adapty)
            .unwrap();
        assert_eq!(
            event.text,
            "Adapty event \u{201c}my_renamed_event\u{201d} (monthly.premium)"
        );
        assert_eq!(
            event.detail,
            "my_renamed_event \u{b7} new_field: [1,2] \u{b7} paywall_name: \"Spring\""
        );
        assert_eq!(event.marks(now()), ["Sandbox", "Adapty"]);
        // Every documented type has its own sentence.
        for kind in [
            "subscription_started",
            "subscription_renewed",
            "subscription_renewal_cancelled",
            "subscription_renewal_reactivated",
            "subscription_expired",
            "subscription_paused",
            "subscription_deferred",
            "non_subscription_purchase",
            "trial_started",
            "trial_converted",
            "trial_renewal_cancelled",
            "trial_renewal_reactivated",
            "trial_expired",
            "entered_grace_period",
            "billing_issue_detected",
            "subscription_refunded",
            "non_subscription_purchase_refunded",
            "access_level_updated",
        ] {
            let text = sentence(&FeedEvent {
                kind: kind.into(),
                ..adapty("", 0)
            });
            assert!(!text.contains("Adapty event"), "{kind}: {text}");
        }
        // An unreadable time is kept, and goes last.
        let odd = merged(&[at("yesterday")]);
        assert_eq!(
            odd.last().unwrap().when,
            When::Unreadable("yesterday".into())
        );
    }

    #[test]
    fn a_grant_and_the_update_it_caused_are_one_entry_with_its_author() {
        // Dated by Adapty a moment before the relay recorded the grant.
        let echo = updated(-3, true, Some(grant().staff.unwrap().expires_at.unwrap()));
        let events = merged(&[echo, grant()]);
        let supports: Vec<&Event> = events
            .iter()
            .filter(|event| event.source != Source::Profile)
            .collect();
        assert_eq!(supports.len(), 1, "{events:#?}");
        assert_eq!(
            supports[0].text,
            "premium granted by support: alice@example.com, reason \u{201c}goodwill, ticket \
             4411\u{201d}"
        );
        assert_eq!(supports[0].marks(now()), ["Support"]);
        assert_eq!(supports[0].item, Some(Item::AccessLevel(0)));
        assert_eq!(supports[0].detail, "");
        // Another update of the level is Adapty's own entry.
        let other = updated(-1, true, None);
        let events = merged(&[other, grant()]);
        assert!(events
            .iter()
            .any(|event| event.text == "premium access updated: active"
                && event.source == Source::Adapty));
    }

    #[test]
    fn a_revoke_now_is_the_entry_for_the_access_it_ended() {
        let events = merged(&[revoke()]);
        let texts: Vec<&str> = events.iter().map(|event| event.text.as_str()).collect();
        assert!(
            texts.contains(&"premium revoked by support: alice@example.com, reason \u{201c}goodwill, ticket 4411\u{201d}"),
            "{texts:?}"
        );
        assert!(!texts.contains(&"premium access ended"), "{texts:?}");
    }

    #[test]
    fn a_change_that_did_not_go_through_says_so() {
        let mut unknown = grant();
        unknown.staff.as_mut().unwrap().outcome = "outcome_unknown".into();
        let mut refused = revoke();
        refused.staff.as_mut().unwrap().outcome = "access_level_not_held".into();
        let events = merged(&[refused, unknown]);
        let supports: Vec<(&str, &str)> = events
            .iter()
            .filter(|event| event.source == Source::Support)
            .map(|event| (event.text.as_str(), event.detail.as_str()))
            .collect();
        assert_eq!(
            supports,
            [
                (
                    "Support's revoke of premium was not applied: alice@example.com, reason \
                     \u{201c}goodwill, ticket 4411\u{201d}",
                    "Refused: access_level_not_held"
                ),
                (
                    "Support's grant of premium may not have been applied: alice@example.com, \
                     reason \u{201c}goodwill, ticket 4411\u{201d}",
                    "The relay got no answer from Adapty: look the customer up again to see \
                     whether it was applied."
                ),
            ]
        );
        // Refused: the profile's end of access stays.
        assert!(events
            .iter()
            .any(|event| event.text == "premium access ended"));
    }

    #[test]
    fn an_access_level_update_reads_as_a_sentence_with_its_fields() {
        let update = FeedEvent {
            access_level: Some(AccessLevelUpdate {
                access_level_id: Some("vip".into()),
                is_active: Some(true),
                is_lifetime: Some(true),
                will_renew: Some(false),
                ..AccessLevelUpdate::default()
            }),
            kind: "access_level_updated".into(),
            ..at("2026-11-20T10:00:00Z")
        };
        assert_eq!(sentence(&update), "vip access updated: active for life");
        assert_eq!(detail(&update), "access_level_updated \u{b7} won't renew");
    }

    #[test]
    fn without_the_store_or_its_answer_one_line_says_why() {
        assert_eq!(
            note(&Feed::NotConnected),
            "Adapty's own events are not connected: this history is derived from the profile's \
             dates (README, section \u{201c}Search and Adapty's events\u{201d}, says how to \
             connect them)."
        );
        assert_eq!(
            note(&Feed::Failed(LookupError::StoreUnavailable)),
            "Adapty's events could not be loaded (Search is unavailable right now): this \
             history is derived from the profile's dates."
        );
        assert_eq!(note(&Feed::Page(EventsPage::default())), "");
    }

    #[test]
    fn a_page_as_the_relay_writes_it_reads_back_whole() {
        let event = FeedEvent {
            id: "e1".into(),
            source: source::ADAPTY.into(),
            kind: "access_level_updated".into(),
            at: "2026-11-28T10:00:00Z".into(),
            environment: Some("Production".into()),
            store: Some("app_store".into()),
            product: Some("monthly.premium".into()),
            base_plan_id: Some("b1".into()),
            transaction_id: Some("t2".into()),
            original_transaction_id: Some("t1".into()),
            purchased_at: Some("2026-11-28T09:59:00Z".into()),
            expires_at: Some("2026-12-28T09:59:00Z".into()),
            currency: Some("EUR".into()),
            price_local: Some(4.99),
            proceeds_local: Some(4.2415),
            price_usd: Some(5.5),
            proceeds_usd: Some(4.0),
            cancellation_reason: Some("voluntarily_cancelled".into()),
            trial_duration: Some("7 days".into()),
            access_level: Some(AccessLevelUpdate {
                access_level_id: Some("premium".into()),
                is_active: Some(true),
                will_renew: Some(false),
                is_lifetime: Some(false),
                is_refund: Some(false),
                is_in_grace_period: Some(false),
                activated_at: Some("2026-01-01T00:00:00Z".into()),
                renewed_at: Some("2026-11-28T09:59:00Z".into()),
                expires_at: Some("2026-12-28T09:59:00Z".into()),
                billing_issue_detected_at: None,
            }),
            other: BTreeMap::from([("new_field".into(), "[1,2]".into())]),
            staff: None,
        };
        let staff = grant();
        let page = EventsPage {
            events: vec![event, staff],
            next: Some("cursor".into()),
            email: Some("ann@example.com".into()),
        };
        let json: Loose = serde_json::from_str(&serde_json::to_string(&page).unwrap()).unwrap();
        assert_eq!(read_page(&json), page);
        assert_eq!(read_page(&Loose::Null), EventsPage::default());
        assert_eq!(
            detail(&page.events[0]),
            "access_level_updated \u{b7} 4.99 EUR \u{b7} proceeds 4.2415 EUR \u{b7} base plan b1 \
             \u{b7} trial 7 days \u{b7} transaction t2 \u{b7} original transaction t1 \u{b7} \
             won't renew \u{b7} expires_at 2026-12-28T09:59:00Z \u{b7} new_field: [1,2]"
        );
    }

    #[test]
    fn the_profiles_order_of_two_facts_at_one_instant_stays() {
        // The level and its subscription renew at one instant: the level first.
        let renewing = Envelope::parse(
            r#"{"data":{"profile_id":"p",
                "access_levels":[{"access_level_id":"premium","store":"app_store",
                    "store_product_id":"monthly.premium","expires_at":"2026-12-28T12:00:00Z"}],
                "subscriptions":[{"store":"app_store","store_product_id":"monthly.premium",
                    "purchased_at":"2026-11-28T11:00:00Z","expires_at":"2026-12-28T12:00:00Z"}]}}"#,
        )
        .unwrap();
        let derived = events::history(&renewing, now());
        let texts = |events: &[Event]| -> Vec<String> {
            events.iter().map(|event| event.text.clone()).collect()
        };
        assert_eq!(
            texts(&derived)[..2],
            ["premium access renews", "monthly.premium renews"]
        );
        assert_eq!(
            texts(&merge(&renewing, derived.clone(), &[])),
            texts(&derived)
        );
    }

    #[test]
    fn an_event_without_an_environment_takes_its_items() {
        let mut sandboxed = profile();
        sandboxed.access_levels[0].environment = Some("Sandbox".into());
        let update = FeedEvent {
            environment: None,
            ..updated(-60, true, None)
        };
        let events = merge(&sandboxed, Vec::new(), &[&update]);
        assert_eq!(events[0].marks(now()), ["Sandbox", "Adapty"]);
        let events = merge(&profile(), Vec::new(), &[&update]);
        assert_eq!(events[0].marks(now()), ["Adapty"]);
    }
}
