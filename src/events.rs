//! The customer's history: what happened, and when, derived from the dates
//! of the profile (Adapty's server-side profile returns no events; with
//! the relay's store, `feed::merge` adds Adapty's own and support's).
//!
//! The rules, item by item:
//!
//! - **Subscription**: *subscribed* at `originally_purchased_at` (with its
//!   offer when it was bought then); *renewed* at `purchased_at` when that is
//!   later (with its offer); *auto-renew turned off* at
//!   `renewal_cancelled_at`; *billing issue detected* at
//!   `billing_issue_detected_at`; at `expires_at`, *grace period ends* while
//!   in one, else *renews* (upcoming, when it renews on its own: active, no
//!   cancellation reason, billing issue or auto-renew turned off), *expires* (upcoming
//!   otherwise) or *expired*, with the cancellation reason.
//! - **Purchase** (non-subscription): *bought* at `purchased_at`, said as a
//!   consumable where it is one.
//! - **Access level**: *starts* at `starts_at` (*scheduled* while upcoming)
//!   and *renews* (upcoming, when it renews on its own, as above, and
//!   support did not grant it) or *ends* at `expires_at` (none for
//!   lifetime access).
//! - **Refunds** (cancellation reason `refund`, `is_refund`): the profile
//!   has no refund date, so none is invented. A refunded subscription or
//!   access level is dated where the profile dates it, by its end at
//!   `expires_at` ("… expired (refunded)"); the purchase event of every
//!   refunded item is marked refunded, the one-time purchase's only so.
//! - An instant after now is **upcoming**. Events of sandbox items are
//!   marked; an access level without `environment` takes its purchase's
//!   (`environment::linked`). A date that cannot be read is kept verbatim; its
//!   events come last, never dropped.
//!
//! Order: newest first (upcoming ones above the others), then unreadable
//! dates. Of events at the same instant the later fact comes first (an
//! expiry above the auto-renew turned off that led to it).
//!
//! `timeline` lays the events out as the History section shows them: by day
//! in the admin's zone, upcoming above the now line, the first
//! [`FIRST_SHOWN`] until all are asked for.

use crate::explain::offer_words;
use crate::format::{self, Clock};
use crate::model::{AccessLevel, NonSubscription, Profile, Subscription, Timestamp};
use crate::status::is_sandbox;
use chrono::{DateTime, Utc};

/// Which row of the profile an event belongs to: the index in its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    AccessLevel(usize),
    Subscription(usize),
    Purchase(usize),
}

impl Item {
    /// The id of the page element an event links to: the access level's
    /// card, or the table row (`{noun}-{index}`, as `views::history` names it).
    pub fn anchor(self) -> String {
        match self {
            Item::AccessLevel(index) => format!("access-level-{index}"),
            Item::Subscription(index) => format!("subscriptions-{index}"),
            Item::Purchase(index) => format!("purchases-{index}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum When {
    At(DateTime<Utc>),
    /// Adapty's spelling, verbatim.
    Unreadable(String),
}

/// Who tells of an event: the profile's dates, Adapty's own record of it
/// (its webhook event, alone or with the profile's), or support, through
/// the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Profile,
    Adapty,
    Support,
}

/// What an event tells, so that the same fact from the profile and from
/// Adapty's events is told once (`feed::merge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    Subscribed,
    Renewed,
    AutoRenewOff,
    BillingIssue,
    Expired,
    Bought,
    AccessEnded,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub when: When,
    /// A short sentence without the date: "Renewed weekly.premium.599".
    pub text: String,
    /// What it links to, when it is on the page.
    pub item: Option<Item>,
    pub sandbox: bool,
    /// The item's purchase was refunded (a mark, not a dated event).
    pub refunded: bool,
    pub source: Source,
    /// A second line: Adapty's event type and fields verbatim, or what
    /// came of support's change; empty when there is nothing more.
    pub detail: String,
    pub fact: Fact,
}

impl Event {
    pub fn is_upcoming(&self, now: DateTime<Utc>) -> bool {
        matches!(self.when, When::At(at) if at > now)
    }

    /// Its marks in words, so that none is told by colour alone.
    pub fn marks(&self, now: DateTime<Utc>) -> Vec<&'static str> {
        let mut marks = Vec::new();
        if self.is_upcoming(now) {
            marks.push("Upcoming");
        }
        if self.refunded {
            marks.push("Refunded");
        }
        if self.sandbox {
            marks.push("Sandbox");
        }
        match self.source {
            Source::Profile => {}
            Source::Adapty => marks.push("Adapty"),
            Source::Support => marks.push("Support"),
        }
        marks
    }
}

/// Every event of the profile, newest first, unreadable dates last.
pub fn history(profile: &Profile, now: DateTime<Utc>) -> Vec<Event> {
    let mut events = Vec::new();
    for (index, subscription) in profile.subscriptions.iter().enumerate() {
        subscription_events(subscription, Item::Subscription(index), now, &mut events);
    }
    for (index, purchase) in profile.non_subscriptions.iter().enumerate() {
        purchase_event(purchase, Item::Purchase(index), &mut events);
    }
    for (index, level) in profile.access_levels.iter().enumerate() {
        let mut own = Vec::new();
        access_level_events(level, Item::AccessLevel(index), now, &mut own);
        // An access level repeats facts of its subscription: the same
        // sentence at the same instant is one event, the subscription's.
        own.retain(|event| {
            !events
                .iter()
                .any(|other| other.when == event.when && other.text == event.text)
        });
        events.append(&mut own);
    }
    sort(events, true)
}

/// Newest first, unreadable dates last; of two at one instant, the one
/// made later first (`later_first`: the order facts are made in is the
/// order they happened) or the one given first (a list already sorted
/// keeps its order).
pub fn sort(events: Vec<Event>, later_first: bool) -> Vec<Event> {
    // Sorted on plain (key, place) pairs, as `listing` sorts rows: the same
    // small sort in the wasm. Unreadable dates get the largest key: last.
    let count = events.len();
    let slot = |place: usize| {
        if later_first {
            count - 1 - place
        } else {
            place
        }
    };
    let mut keyed: Vec<(i64, usize)> = events
        .iter()
        .enumerate()
        .map(|(place, event)| {
            let key = match event.when {
                When::At(at) => -at.timestamp_micros(),
                When::Unreadable(_) => i64::MAX,
            };
            (key, slot(place))
        })
        .collect();
    keyed.sort_unstable();
    let mut slots: Vec<Option<Event>> = events.into_iter().map(Some).collect();
    keyed
        .into_iter()
        .filter_map(|(_, place)| slots[slot(place)].take())
        .collect()
}

/// Collects events of one item, each with the item's marks.
struct Events<'a> {
    out: &'a mut Vec<Event>,
    item: Item,
    sandbox: bool,
}

impl Events<'_> {
    /// An event at `when`, if there is one, told by `words` joined. Joined
    /// rather than `format!`ted: the sentences cost less wasm so.
    fn push(&mut self, when: Option<&Timestamp>, words: &[&str], refunded: bool, fact: Fact) {
        let when = match when {
            None => return,
            Some(Timestamp::At(at)) => When::At(*at),
            Some(Timestamp::Unreadable(raw)) => When::Unreadable(raw.clone()),
        };
        self.out.push(Event {
            when,
            text: words.concat(),
            item: Some(self.item),
            sandbox: self.sandbox,
            refunded,
            source: Source::Profile,
            detail: String::new(),
            fact,
        });
    }

    /// What a subscription and the access level it grants both tell.
    fn payment_facts(
        &mut self,
        name: &str,
        cancelled: Option<&Timestamp>,
        issue: Option<&Timestamp>,
    ) {
        self.push(
            cancelled,
            &["Auto-renew turned off for ", name],
            false,
            Fact::AutoRenewOff,
        );
        self.push(
            issue,
            &["Billing issue detected on ", name],
            false,
            Fact::BillingIssue,
        );
    }
}

fn is_upcoming(value: Option<&Timestamp>, now: DateTime<Utc>) -> bool {
    matches!(value, Some(Timestamp::At(at)) if *at > now)
}

fn subscription_events(
    subscription: &Subscription,
    item: Item,
    now: DateTime<Utc>,
    out: &mut Vec<Event>,
) {
    let name = subscription.store_product_id.as_str();
    let reason = subscription.cancellation_reason.as_deref();
    let refunded = reason == Some("refund");
    let mut events = Events {
        out,
        item,
        sandbox: is_sandbox(subscription.environment.as_deref()),
    };
    let offer = subscription
        .offer
        .as_ref()
        .map(|offer| [", with ", &offer_words(offer)].concat())
        .unwrap_or_default();
    let first = subscription
        .originally_purchased_at
        .as_ref()
        .or(subscription.purchased_at.as_ref());
    let renewed = match (first, subscription.purchased_at.as_ref()) {
        (Some(Timestamp::At(first)), Some(Timestamp::At(latest))) => latest > first,
        (Some(first), Some(latest)) => first != latest,
        _ => false,
    };
    // "Subscribed to weekly.premium.599 (App Store)"
    let store = format::store(&subscription.store);
    let subscribed = ["Subscribed to ", name, " (", &store, ")"];
    if renewed {
        events.push(first, &subscribed, false, Fact::Subscribed);
        let latest = subscription.purchased_at.as_ref();
        events.push(latest, &["Renewed ", name, &offer], refunded, Fact::Renewed);
    } else {
        let words = [&subscribed.concat(), offer.as_str()];
        events.push(first, &words, refunded, Fact::Subscribed);
    }
    events.payment_facts(
        name,
        subscription.renewal_cancelled_at.as_ref(),
        subscription.billing_issue_detected_at.as_ref(),
    );
    let expires = subscription.expires_at.as_ref();
    let upcoming = is_upcoming(expires, now);
    // An upcoming end of what renews on its own is a renewal, as the
    // headline says ("renews automatically"), not an end.
    // One with a cancellation reason was cancelled, whatever else it says.
    let renews = upcoming && reason.is_none() && subscription.status(now).renews();
    let end = match (subscription.is_in_grace_period && upcoming, upcoming) {
        (true, _) => ["Grace period for ", name, " ends"],
        (false, true) if renews => ["", name, " renews"],
        (false, true) => ["", name, " expires"],
        (false, false) => ["", name, " expired"],
    };
    let why = match reason {
        None => String::new(),
        Some("refund") => " (refunded)".into(),
        Some(reason) => [" (", &format::cancellation_reason(reason), ")"].concat(),
    };
    let fact = if upcoming { Fact::Other } else { Fact::Expired };
    events.push(expires, &[&end.concat(), &why], false, fact);
}

fn purchase_event(purchase: &NonSubscription, item: Item, out: &mut Vec<Event>) {
    let mut events = Events {
        out,
        item,
        sandbox: is_sandbox(purchase.environment.as_deref()),
    };
    let consumable = if purchase.is_consumable {
        "consumable, "
    } else {
        ""
    };
    let words = [
        "Bought ",
        &purchase.store_product_id,
        " (",
        consumable,
        &format::store(&purchase.store),
        ")",
    ];
    let bought = purchase.purchased_at.as_ref();
    events.push(bought, &words, purchase.is_refund, Fact::Bought);
}

fn access_level_events(level: &AccessLevel, item: Item, now: DateTime<Utc>, out: &mut Vec<Event>) {
    let id = level.access_level_id.as_str();
    let mut events = Events {
        out,
        item,
        sandbox: is_sandbox(level.effective_environment()),
    };
    let starts = level.starts_at.as_ref();
    let start = if is_upcoming(starts, now) {
        " access is scheduled to start"
    } else {
        " access started"
    };
    events.push(starts, &[id, start], false, Fact::Other);
    // The same facts as the subscription behind it, when there is one;
    // `history` keeps one of two identical events.
    events.payment_facts(
        &level.store_product_id,
        level.renewal_cancelled_at.as_ref(),
        level.billing_issue_detected_at.as_ref(),
    );
    let expires = level.expires_at.as_ref();
    // Access support granted ends on its date: nothing renews it.
    let renews = level.cancellation_reason.is_none()
        && level.by_support.is_none()
        && level.status(now).renews();
    let (end, fact) = if is_upcoming(expires, now) && renews {
        (" access renews", Fact::Other)
    } else if is_upcoming(expires, now) {
        (" access ends", Fact::Other)
    } else {
        (" access ended", Fact::AccessEnded)
    };
    let refunded = level.cancellation_reason.as_deref() == Some("refund");
    let why = if refunded { " (refunded)" } else { "" };
    events.push(expires, &[id, end, why], false, fact);
}

/// How many events the History section shows until all are asked for.
pub const FIRST_SHOWN: usize = 20;

/// One day of the History section.
#[derive(Debug)]
pub struct Day<'a> {
    /// `10 Jan 2025` as the admin reads dates (their zone, or UTC);
    /// "Unreadable dates" for the last group.
    pub label: String,
    /// Each event with its time of day (`20:34`, `11:34 UTC`), or with its
    /// date verbatim when that cannot be read.
    pub events: Vec<(String, &'a Event)>,
}

/// The events as the History section lays them out.
#[derive(Debug)]
pub struct Timeline<'a> {
    /// Above the now line, by day, the latest first.
    pub upcoming: Vec<Day<'a>>,
    /// Below it, by day, then the unreadable dates.
    pub past: Vec<Day<'a>>,
    /// Events on screen, of `total` to show.
    pub shown: usize,
    pub total: usize,
    /// Sandbox events kept out by *Hide sandbox*.
    pub hidden: usize,
}

/// The first `limit` events (newest first, as `history` orders them) by
/// day, sandbox ones left out when hidden.
pub fn timeline<'a>(
    events: &'a [Event],
    clock: &Clock,
    hide_sandbox: bool,
    limit: usize,
) -> Timeline<'a> {
    let mut timeline = Timeline {
        upcoming: Vec::new(),
        past: Vec::new(),
        shown: 0,
        total: 0,
        hidden: 0,
    };
    for event in events {
        if hide_sandbox && event.sandbox {
            timeline.hidden += 1;
            continue;
        }
        timeline.total += 1;
        if timeline.shown == limit {
            continue;
        }
        timeline.shown += 1;
        let (label, time) = match &event.when {
            When::At(at) => (clock.date(*at), clock.time(*at)),
            When::Unreadable(raw) => ("Unreadable dates".to_owned(), raw.clone()),
        };
        let days = if event.is_upcoming(clock.now) {
            &mut timeline.upcoming
        } else {
            &mut timeline.past
        };
        match days.last_mut() {
            Some(day) if day.label == label => day.events.push((time, event)),
            _ => days.push(Day {
                label,
                events: vec![(time, event)],
            }),
        }
    }
    timeline
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;

    const SEED: &str = include_str!("../fixtures/seed.json");

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn summary(events: &[Event]) -> Vec<(String, String)> {
        events
            .iter()
            .map(|event| {
                let when = match &event.when {
                    When::At(at) => format::iso(*at),
                    When::Unreadable(raw) => raw.clone(),
                };
                (when, event.text.clone())
            })
            .collect()
    }

    #[test]
    fn the_seeds_history_exactly() {
        let profile = Envelope::parse(SEED).unwrap();
        let events = history(&profile, at("2025-01-07T00:00:00Z"));
        let expected = [
            ("2025-01-10T11:34:40Z", "weekly.premium.599 renews"),
            (
                "2025-01-05T13:27:47Z",
                "Auto-renew turned off for unlimited.9999",
            ),
            (
                "2024-12-24T11:13:04Z",
                "Subscribed to weekly.premium.599 (App Store)",
            ),
            (
                "2024-12-24T10:50:23Z",
                "Subscribed to unlimited.9999 (App Store)",
            ),
            ("2022-10-12T09:42:50Z", "Bought 1year.premium (App Store)"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(when, text)| (when.to_string(), text.to_string()))
            .collect();
        assert_eq!(summary(&events), expected);
        assert!(events[0].is_upcoming(at("2025-01-07T00:00:00Z")));
        assert!(!events[1].is_upcoming(at("2025-01-07T00:00:00Z")));
        // Both subscriptions are sandbox, and so is premium, which takes the
        // environment of its product's purchases; the one-time purchase is not.
        let marks: Vec<Vec<&str>> = events
            .iter()
            .map(|event| event.marks(at("2025-01-07T00:00:00Z")))
            .collect();
        assert_eq!(
            marks,
            [
                vec!["Upcoming", "Sandbox"],
                vec!["Sandbox"],
                vec!["Sandbox"],
                vec!["Sandbox"],
                vec![]
            ]
        );
        let items: Vec<Item> = events.iter().filter_map(|event| event.item).collect();
        assert_eq!(
            items,
            [
                Item::Subscription(1),
                Item::AccessLevel(0),
                Item::Subscription(1),
                Item::Subscription(0),
                Item::Purchase(0)
            ]
        );
    }

    fn parse(body: &str) -> Profile {
        Envelope::parse(body).unwrap()
    }

    #[test]
    fn a_renewal_a_billing_issue_and_a_grace_period_in_order() {
        let profile = parse(
            r#"{"data":{"profile_id":"p","subscriptions":[{
                "store":"play_store","store_product_id":"monthly","environment":"Production",
                "originally_purchased_at":"2026-09-01T10:00:00+00:00",
                "purchased_at":"2026-11-01T10:00:00+00:00",
                "offer":{"category":"promotional","type":"pay_as_you_go","id":"winter"},
                "billing_issue_detected_at":"2026-11-27T08:00:00+0000",
                "is_in_grace_period":true,
                "expires_at":"2026-12-04T10:00:00+00:00"}]}}"#,
        );
        let now = at("2026-11-28T12:00:00Z");
        let events = history(&profile, now);
        let texts: Vec<&str> = events.iter().map(|event| event.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Grace period for monthly ends",
                "Billing issue detected on monthly",
                "Renewed monthly, with a promotional pay as you go offer (winter)",
                "Subscribed to monthly (Play Store)",
            ]
        );
        let upcoming: Vec<bool> = events.iter().map(|event| event.is_upcoming(now)).collect();
        assert_eq!(upcoming, [true, false, false, false]);
        assert!(events.iter().all(|event| !event.sandbox));
    }

    #[test]
    fn a_first_purchase_carries_its_offer_and_an_ending_its_reason() {
        let profile = parse(
            r#"{"data":{"profile_id":"p","subscriptions":[{
                "store":"app_store","store_product_id":"weekly",
                "originally_purchased_at":"2026-10-01T10:00:00+00:00",
                "purchased_at":"2026-10-01T10:00:00+00:00",
                "offer":{"offer_category":"introductory","offer_type":"free_trial","offer_id":null},
                "renewal_cancelled_at":"2026-10-03T10:00:00+00:00",
                "cancellation_reason":"voluntarily_cancelled",
                "expires_at":"2026-10-08T10:00:00+00:00"}]}}"#,
        );
        let texts: Vec<String> = history(&profile, at("2026-11-28T12:00:00Z"))
            .into_iter()
            .map(|event| event.text)
            .collect();
        assert_eq!(
            texts,
            [
                "weekly expired (the customer cancelled)",
                "Auto-renew turned off for weekly",
                "Subscribed to weekly (App Store), with an introductory free trial offer",
            ]
        );
    }

    #[test]
    fn refunds_are_marked_on_the_purchase_and_never_dated() {
        let profile = parse(
            r#"{"data":{"profile_id":"p",
                "access_levels":[{"access_level_id":"premium","store":"app_store",
                    "store_product_id":"yearly","cancellation_reason":"refund",
                    "expires_at":"2026-11-25T10:00:00+00:00"}],
                "subscriptions":[{"store":"app_store","store_product_id":"yearly",
                    "originally_purchased_at":"2026-11-01T10:00:00+00:00",
                    "purchased_at":"2026-11-01T10:00:00+00:00",
                    "cancellation_reason":"refund","expires_at":"2026-11-25T10:00:00+00:00"}],
                "non_subscriptions":[{"store":"stripe","store_product_id":"coins_100",
                    "purchased_at":"2026-11-02T10:00:00+00:00","is_refund":true,"is_consumable":true}]}}"#,
        );
        let events = history(&profile, at("2026-11-28T12:00:00Z"));
        let marked: Vec<(&str, bool)> = events
            .iter()
            .map(|event| (event.text.as_str(), event.refunded))
            .collect();
        assert_eq!(
            marked,
            [
                ("premium access ended (refunded)", false),
                ("yearly expired (refunded)", false),
                ("Bought coins_100 (consumable, Stripe)", true),
                ("Subscribed to yearly (App Store)", true),
            ]
        );
        assert_eq!(events[2].marks(at("2026-11-28T12:00:00Z")), ["Refunded"]);
    }

    #[test]
    fn of_two_facts_at_one_instant_the_later_comes_first() {
        // Refunded: auto-renew off and the end at the same instant, repeated
        // by the access level, whose copy of the auto-renew fact is one event.
        let profile = parse(
            r#"{"data":{"profile_id":"p",
                "access_levels":[{"access_level_id":"premium","store":"app_store",
                    "store_product_id":"yearly","cancellation_reason":"refund",
                    "renewal_cancelled_at":"2026-11-25T10:00:00+00:00",
                    "expires_at":"2026-11-25T10:00:00+00:00"}],
                "subscriptions":[{"store":"app_store","store_product_id":"yearly",
                    "environment":"Production",
                    "originally_purchased_at":"2026-11-01T10:00:00+00:00",
                    "renewal_cancelled_at":"2026-11-25T10:00:00+00:00",
                    "cancellation_reason":"refund","expires_at":"2026-11-25T10:00:00+00:00"}]}}"#,
        );
        let events = history(&profile, at("2026-11-28T12:00:00Z"));
        let told: Vec<(&str, Item)> = events
            .iter()
            .map(|event| (event.text.as_str(), event.item.unwrap()))
            .collect();
        assert_eq!(
            told,
            [
                ("premium access ended (refunded)", Item::AccessLevel(0)),
                ("yearly expired (refunded)", Item::Subscription(0)),
                ("Auto-renew turned off for yearly", Item::Subscription(0)),
                ("Subscribed to yearly (App Store)", Item::Subscription(0)),
            ]
        );
    }

    #[test]
    fn each_item_links_to_its_card_or_its_tables_row() {
        use crate::cells::{PURCHASES, SUBSCRIPTIONS};
        assert_eq!(Item::AccessLevel(0).anchor(), "access-level-0");
        assert_eq!(
            Item::Subscription(12).anchor(),
            format!("{}-12", SUBSCRIPTIONS.noun)
        );
        assert_eq!(
            Item::Purchase(7999).anchor(),
            format!("{}-7999", PURCHASES.noun)
        );
    }

    #[test]
    fn access_that_starts_later_is_scheduled_and_lifetime_access_never_ends() {
        let profile = parse(
            r#"{"data":{"profile_id":"p","access_levels":[
                {"access_level_id":"premium","store":"adapty","store_product_id":"granted",
                 "starts_at":"2026-12-05T00:00:00+00:00","expires_at":"2027-01-05T00:00:00+00:00"},
                {"access_level_id":"vip","store":"app_store","store_product_id":"lifetime",
                 "starts_at":"2025-01-01T00:00:00+00:00","expires_at":null}]}}"#,
        );
        let now = at("2026-11-28T12:00:00Z");
        let events = history(&profile, now);
        let texts: Vec<&str> = events.iter().map(|event| event.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "premium access ends",
                "premium access is scheduled to start",
                "vip access started",
            ]
        );
        assert_eq!(events[2].item, Some(Item::AccessLevel(1)));
    }

    #[test]
    fn an_upcoming_end_of_what_renews_is_a_renewal_of_what_was_cancelled_an_end() {
        let level = |id: &str, product: &str, cancelled: &str| {
            format!(
                r#"{{"access_level_id":"{id}","store":"play_store","store_product_id":"{product}",
                   "starts_at":"2026-11-01T00:00:00+00:00","expires_at":"2026-12-10T00:00:00+00:00",
                   "renewal_cancelled_at":{cancelled}}}"#
            )
        };
        let subscription = |product: &str, cancelled: &str| {
            format!(
                r#"{{"store":"play_store","store_product_id":"{product}",
                   "purchased_at":"2026-11-10T00:00:00+00:00",
                   "expires_at":"2026-12-10T00:00:00+00:00","renewal_cancelled_at":{cancelled}}}"#
            )
        };
        let cancelled = r#""2026-11-20T00:00:00+00:00""#;
        let profile = parse(&format!(
            r#"{{"data":{{"profile_id":"p","access_levels":[{},{}],"subscriptions":[{},{}]}}}}"#,
            level("premium", "monthly", "null"),
            level("extra", "extra.monthly", cancelled),
            subscription("monthly", "null"),
            subscription("extra.monthly", cancelled),
        ));
        let events = history(&profile, at("2026-11-28T12:00:00Z"));
        let upcoming: Vec<&str> = events
            .iter()
            .filter(|event| event.is_upcoming(at("2026-11-28T12:00:00Z")))
            .map(|event| event.text.as_str())
            .collect();
        assert_eq!(
            upcoming,
            [
                "extra access ends",
                "premium access renews",
                "extra.monthly expires",
                "monthly renews",
            ]
        );
        // Once past, an end is an end whatever renewed.
        let later = history(&profile, at("2026-12-11T00:00:00Z"));
        assert!(later
            .iter()
            .any(|event| event.text == "premium access ended"));
        assert!(later.iter().any(|event| event.text == "monthly expired"));
    }

    #[test]
    fn unreadable_dates_come_last_verbatim_and_null_lists_have_no_events() {
        let profile = parse(
            r#"{"data":{"profile_id":"p","access_levels":null,"subscriptions":null,
                "non_subscriptions":[
                    {"store":"app_store","store_product_id":"a","purchased_at":"yesterday-ish"},
                    {"store":"app_store","store_product_id":"b","purchased_at":"2026-01-01T00:00:00+00:00"},
                    {"store":"app_store","store_product_id":"c","purchased_at":null}]}}"#,
        );
        let events = history(&profile, at("2026-11-28T12:00:00Z"));
        assert_eq!(
            summary(&events),
            [
                (
                    "2026-01-01T00:00:00Z".to_owned(),
                    "Bought b (App Store)".to_owned()
                ),
                (
                    "yesterday-ish".to_owned(),
                    "Bought a (App Store)".to_owned()
                ),
            ]
        );
        let empty = parse(
            r#"{"data":{"profile_id":"p","access_levels":null,"subscriptions":null,"non_subscriptions":null}}"#,
        );
        assert!(history(&empty, at("2026-11-28T12:00:00Z")).is_empty());
    }

    /// Each day's label and its times, from the History's layout.
    fn days(days: &[Day]) -> Vec<(String, Vec<String>)> {
        days.iter()
            .map(|day| {
                let times = day.events.iter().map(|(time, _)| time.clone()).collect();
                (day.label.clone(), times)
            })
            .collect()
    }

    fn strings(days: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        days.iter()
            .map(|(day, times)| {
                let times = times.iter().map(|time| time.to_string()).collect();
                (day.to_string(), times)
            })
            .collect()
    }

    #[test]
    fn days_follow_the_admins_zone_or_utc_and_upcoming_ones_are_above_now() {
        let profile = Envelope::parse(SEED).unwrap();
        let now = at("2025-01-07T00:00:00Z");
        let events = history(&profile, now);
        // Tokyo, UTC+9: 10:50 and 11:13 UTC on 24 Dec are the evening there.
        let tokyo = Clock {
            now,
            offset_minutes: |_| 9 * 60,
            utc: false,
            absolute: false,
        };
        let laid_out = timeline(&events, &tokyo, false, FIRST_SHOWN);
        assert_eq!(
            days(&laid_out.upcoming),
            strings(&[("10 Jan 2025", &["20:34"])])
        );
        assert_eq!(
            days(&laid_out.past),
            strings(&[
                ("5 Jan 2025", &["22:27"]),
                ("24 Dec 2024", &["20:13", "19:50"]),
                ("12 Oct 2022", &["18:42"]),
            ])
        );
        assert_eq!((laid_out.shown, laid_out.total, laid_out.hidden), (5, 5, 0));
        let utc = timeline(&events, &Clock::in_utc(now), false, FIRST_SHOWN);
        assert_eq!(
            days(&utc.past)[1],
            strings(&[("24 Dec 2024", &["11:13 UTC", "10:50 UTC"])])[0]
        );
        // Years later, nothing is upcoming.
        let later = timeline(
            &events,
            &Clock::in_utc(at("2026-11-28T12:00:00Z")),
            false,
            FIRST_SHOWN,
        );
        assert!(later.upcoming.is_empty());
        assert_eq!(later.past[0].label, "10 Jan 2025");
    }

    #[test]
    fn hide_sandbox_leaves_the_seeds_one_real_purchase() {
        let profile = Envelope::parse(SEED).unwrap();
        let now = at("2025-01-07T00:00:00Z");
        let events = history(&profile, now);
        let real = timeline(&events, &Clock::in_utc(now), true, FIRST_SHOWN);
        assert!(real.upcoming.is_empty());
        assert_eq!(
            days(&real.past),
            strings(&[("12 Oct 2022", &["09:42 UTC"])])
        );
        assert_eq!(
            real.past[0].events[0].1.text,
            "Bought 1year.premium (App Store)"
        );
        assert_eq!((real.shown, real.total, real.hidden), (1, 1, 4));
    }

    #[test]
    fn an_unreadable_date_is_the_last_group_with_its_text_as_time() {
        let profile = parse(
            r#"{"data":{"profile_id":"p","non_subscriptions":[
                {"store":"app_store","store_product_id":"a","purchased_at":"yesterday-ish"},
                {"store":"app_store","store_product_id":"b","purchased_at":"2026-01-01T00:00:00+00:00"}]}}"#,
        );
        let events = history(&profile, at("2026-11-28T12:00:00Z"));
        let laid_out = timeline(
            &events,
            &Clock::in_utc(at("2026-11-28T12:00:00Z")),
            false,
            FIRST_SHOWN,
        );
        assert_eq!(
            days(&laid_out.past),
            strings(&[
                ("1 Jan 2026", &["00:00 UTC"]),
                ("Unreadable dates", &["yesterday-ish"]),
            ])
        );
        assert!(laid_out.past[1].events[0]
            .1
            .marks(at("2026-11-28T12:00:00Z"))
            .is_empty());
    }

    #[test]
    fn thousands_of_purchases_are_all_there_newest_first() {
        let purchases: Vec<String> = (0..8000)
            .map(|n| {
                format!(
                    r#"{{"store":"app_store","store_product_id":"coins_{n}","is_consumable":true,
                        "purchased_at":"{}"}}"#,
                    format::iso(at("2020-01-01T00:00:00Z") + chrono::Duration::hours(n))
                )
            })
            .collect();
        let body = format!(
            r#"{{"data":{{"profile_id":"p","non_subscriptions":[{}]}}}}"#,
            purchases.join(",")
        );
        let events = history(&parse(&body), at("2026-11-28T12:00:00Z"));
        assert_eq!(events.len(), 8000);
        assert_eq!(events[0].item, Some(Item::Purchase(7999)));
        assert_eq!(events[7999].item, Some(Item::Purchase(0)));
        assert!(events
            .windows(2)
            .all(|pair| match (&pair[0].when, &pair[1].when) {
                (When::At(newer), When::At(older)) => newer >= older,
                _ => false,
            }));
        // The History shows the first 20, all of them on request.
        let clock = Clock::in_utc(at("2026-11-28T12:00:00Z"));
        let first = timeline(&events, &clock, false, FIRST_SHOWN);
        assert_eq!((first.shown, first.total), (20, 8000));
        let shown: Vec<&Event> = first
            .past
            .iter()
            .flat_map(|day| day.events.iter().map(|(_, event)| *event))
            .collect();
        assert_eq!(shown.len(), 20);
        assert_eq!(shown[19].item, Some(Item::Purchase(7980)));
        let all = timeline(&events, &clock, false, usize::MAX);
        assert_eq!((all.shown, all.total), (8000, 8000));
        // An hour apart: 24 a day, 334 days.
        assert_eq!(all.past.len(), 334);
    }

    #[test]
    fn access_support_granted_ends_on_its_date_and_never_renews() {
        let now = at("2026-11-28T12:00:00Z");
        let mut profile = parse(
            r#"{"data":{"profile_id":"p","access_levels":[
                {"access_level_id":"premium","store":"adapty","store_product_id":"granted.premium",
                 "expires_at":"2026-12-28T12:00:00+00:00"}]}}"#,
        );
        let texts = |profile: &Profile| -> Vec<String> {
            history(profile, now)
                .into_iter()
                .map(|event| event.text)
                .collect()
        };
        assert_eq!(texts(&profile), ["premium access renews"]);
        profile.access_levels[0].by_support = Some(crate::model::StaffChange {
            revoked: false,
            author: "alice@example.com".into(),
            reason: "goodwill".into(),
            at: now,
        });
        assert_eq!(texts(&profile), ["premium access ends"]);
    }
}
