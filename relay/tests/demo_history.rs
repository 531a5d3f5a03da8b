//! Each demo customer's history exactly, as the panel derives it
//! (`adapty_lookup::events`) from the sample the stand-in serves, built and
//! read at one fixed moment. The panel's crate is plain Rust natively, so
//! this runs without a browser; the browser tests check how it is shown.

use adapty_lookup::events::{history, Event, Item, When};
use adapty_lookup::model::Envelope;
use chrono::{DateTime, Duration, Utc};
use relay::demo::profiles::{find, SAMPLES};
use serde_json::json;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
        .unwrap()
        .to_utc()
}

/// The sample's events as the panel reads its JSON.
fn events_of(param: &str, id: &str) -> Vec<Event> {
    let profile = find(param, id, now()).unwrap_or_else(|| panic!("no sample {id}"));
    let body = json!({ "data": profile }).to_string();
    history(&Envelope::parse(&body).unwrap(), now())
}

/// One event as compared here: how far from now, its sentence, its marks
/// and the item it links to.
type Told = (Duration, String, Vec<&'static str>, Item);

fn told(events: &[Event]) -> Vec<Told> {
    events
        .iter()
        .map(|event| {
            let When::At(at) = event.when else {
                panic!("the demo has no unreadable date: {event:?}")
            };
            (
                at - now(),
                event.text.clone(),
                event.marks(now()),
                // The profile's own events all link to their item.
                event.item.expect("an item"),
            )
        })
        .collect()
}

/// An expected event, as written below: from now, sentence, marks, item.
type Line<'a> = (Duration, &'a str, &'a [&'static str], Item);

fn expect(lines: &[Line]) -> Vec<Told> {
    lines
        .iter()
        .map(|(from_now, text, marks, item)| (*from_now, text.to_string(), marks.to_vec(), *item))
        .collect()
}

fn days(count: i64) -> Duration {
    Duration::days(count)
}

use Item::{AccessLevel, Purchase, Subscription};

#[test]
fn every_small_demo_customers_history_exactly() {
    let cases: &[(&str, &[Line])] = &[
        ("demo-play-store", &[
            (days(20), "premium access renews", &["Upcoming"], AccessLevel(0)),
            (days(20), "premium_monthly renews", &["Upcoming"], Subscription(0)),
            (days(-10), "Subscribed to premium_monthly (Play Store), with an introductory free trial offer (trial-7-days)", &[], Subscription(0)),
        ]),
        ("demo-expired", &[
            (days(-40), "premium access ended", &[], AccessLevel(0)),
            (days(-40), "monthly.premium.999 expired (the customer cancelled)", &[], Subscription(0)),
            (days(-45), "Auto-renew turned off for monthly.premium.999", &[], Subscription(0)),
            (days(-70), "Renewed monthly.premium.999", &[], Subscription(0)),
            (days(-100), "Subscribed to monthly.premium.999 (App Store)", &[], Subscription(0)),
        ]),
        ("demo-lifetime", &[
            (days(-400), "Bought lifetime.premium (App Store)", &[], Purchase(0)),
        ]),
        ("demo-sandbox", &[
            (Duration::minutes(3), "premium access renews", &["Upcoming", "Sandbox"], AccessLevel(0)),
            (Duration::minutes(3), "weekly.premium.599 renews", &["Upcoming", "Sandbox"], Subscription(0)),
            (Duration::hours(-2), "Subscribed to weekly.premium.599 (App Store)", &["Sandbox"], Subscription(0)),
        ]),
        ("demo-grace-period", &[
            (days(6), "premium access ends", &["Upcoming"], AccessLevel(0)),
            (days(6), "Grace period for monthly.premium.999 ends", &["Upcoming"], Subscription(0)),
            (days(-1), "Billing issue detected on monthly.premium.999", &[], Subscription(0)),
            (days(-31), "Subscribed to monthly.premium.999 (App Store)", &[], Subscription(0)),
        ]),
        ("demo-billing-issue", &[
            (days(2), "premium access ends", &["Upcoming"], AccessLevel(0)),
            (days(2), "premium_yearly expires", &["Upcoming"], Subscription(0)),
            (Duration::hours(-20), "Billing issue detected on premium_yearly", &[], Subscription(0)),
            (days(-363), "Subscribed to premium_yearly (Play Store)", &[], Subscription(0)),
        ]),
        ("demo-scheduled", &[
            (days(37), "premium access ends", &["Upcoming"], AccessLevel(0)),
            (days(7), "premium access is scheduled to start", &["Upcoming"], AccessLevel(0)),
        ]),
        ("demo-refunded", &[
            (days(-3), "premium access ended (refunded)", &[], AccessLevel(0)),
            (days(-3), "yearly.premium.4999 expired (refunded)", &[], Subscription(0)),
            (days(-3), "Auto-renew turned off for yearly.premium.4999", &[], Subscription(0)),
            (days(-15), "Bought remove_ads (App Store)", &["Refunded"], Purchase(0)),
            (days(-20), "Subscribed to yearly.premium.4999 (App Store)", &["Refunded"], Subscription(0)),
        ]),
        ("demo-custom-store", &[
            (days(25), "vip access renews", &["Upcoming"], AccessLevel(0)),
            (days(25), "vip_monthly expires (moved_to_partner_plan)", &["Upcoming"], Subscription(0)),
            (days(-5), "Subscribed to vip_monthly (acme_web_store), with a seasonal_sale half_price offer", &[], Subscription(0)),
        ]),
    ];
    for (id, expected) in cases {
        assert_eq!(
            told(&events_of("customer_user_id", id)),
            expect(expected),
            "{id}"
        );
    }
    assert_eq!(
        told(&events_of(
            "profile_id",
            "5e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
        )),
        expect(&[(
            days(-3),
            "Bought coins_100 (consumable, Stripe)",
            &[],
            Purchase(0)
        )]),
        "the anonymous customer, whose other lists are null"
    );
}

/// The seed is fixed in time: its dates are Adapty's own, years before now.
#[test]
fn the_seeds_history_as_served() {
    let events = events_of("customer_user_id", "77B14FB4-FD2A-4D38-AA3A-4C433F79863C");
    let lines: Vec<(String, &str, bool)> = events
        .iter()
        .map(|event| {
            let When::At(at) = event.when else { panic!() };
            (
                at.format("%Y-%m-%d %H:%M:%S").to_string(),
                event.text.as_str(),
                event.sandbox,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                "2025-01-10 11:34:40".to_owned(),
                "weekly.premium.599 expired",
                true
            ),
            (
                "2025-01-05 13:27:47".to_owned(),
                "Auto-renew turned off for unlimited.9999",
                true
            ),
            (
                "2024-12-24 11:13:04".to_owned(),
                "Subscribed to weekly.premium.599 (App Store)",
                true
            ),
            (
                "2024-12-24 10:50:23".to_owned(),
                "Subscribed to unlimited.9999 (App Store)",
                true
            ),
            (
                "2022-10-12 09:42:50".to_owned(),
                "Bought 1year.premium (App Store)",
                false
            ),
        ]
    );
}

#[test]
fn the_long_demo_customers_have_every_event_newest_first() {
    let many = told(&events_of("customer_user_id", "demo-many-purchases"));
    assert_eq!(many.len(), 60);
    // One purchase every third day from yesterday; every 17th from the 4th refunded.
    for (n, (from_now, text, marks, item)) in many.iter().enumerate() {
        assert_eq!(*from_now, days(-(n as i64 * 3 + 1)), "{text}");
        assert_eq!(*item, Purchase(n));
        assert_eq!(marks.contains(&"Refunded"), n % 17 == 3, "{n}: {text}");
    }

    let big = told(&events_of("customer_user_id", "demo-big"));
    // 8,000 purchases; 400 subscriptions, each bought and ended; premium's renewal.
    assert_eq!(big.len(), 8_801);
    assert_eq!(
        big[..4],
        expect(&[
            (
                days(20),
                "premium access renews",
                &["Upcoming"],
                AccessLevel(0)
            ),
            (
                days(20),
                "monthly.premium.999 renews",
                &["Upcoming"],
                Subscription(399)
            ),
            (
                Duration::hours(-1),
                "Bought coins_100 (consumable, Play Store)",
                &["Sandbox"],
                Purchase(0)
            ),
            (
                Duration::hours(-4),
                "Bought coins_500 (consumable, App Store)",
                &[],
                Purchase(1)
            ),
        ])[..]
    );
    assert!(big.windows(2).all(|pair| pair[0].0 >= pair[1].0));
    let sandbox = big
        .iter()
        .filter(|told| told.2.contains(&"Sandbox"))
        .count();
    // Every 100th purchase, and every 40th subscription's two events.
    assert_eq!(sandbox, 80 + 10 * 2);
    let last = big.last().unwrap();
    assert_eq!(
        (last.1.as_str(), last.3),
        (
            "Subscribed to monthly.premium.999 (Play Store)",
            Subscription(0)
        )
    );
    assert_eq!(SAMPLES.len(), 13, "a new sample needs its history here");
}
