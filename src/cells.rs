//! What each table row and detail list shows, cell by cell, in plain Rust.
//!
//! The views render any list of cells with one small component, which keeps
//! the wasm small (one rendering path instead of one per column) and lets
//! every cell's content be tested natively.

use crate::explain;
use crate::format::{self, exact_utc, iso, Clock};
use crate::listing::SortKey;
use crate::model::{AccessLevel, NonSubscription, Profile, Subscription, Timestamp};
use crate::status::Status;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cell {
    pub text: String,
    /// A second, quieter line: the relative time of a date.
    pub detail: Option<String>,
    /// A date's machine-readable instant, and its exact UTC on hover.
    pub instant: Option<(String, String)>,
    /// Identifiers are shown in a monospace face.
    pub code: bool,
    /// Where the text links to, in a new tab (a bulk check's customer).
    pub link: Option<String>,
    pub badges: Vec<Badge>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Badge {
    pub label: &'static str,
    pub class: &'static str,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }

    pub fn code(text: impl Into<String>) -> Cell {
        Cell {
            code: true,
            ..Cell::text(text)
        }
    }

    /// An optional value, with what its absence means.
    pub fn or(value: Option<&String>, absent: &str) -> Cell {
        Cell::text(value.map_or(absent, String::as_str))
    }

    pub fn code_or(value: Option<&String>, absent: &str) -> Cell {
        match value {
            Some(value) => Cell::code(value.clone()),
            None => Cell::text(absent),
        }
    }

    /// A date in the admin's zone with its relative time and exact instant.
    pub fn when(value: Option<&Timestamp>, clock: &Clock, absent: &str) -> Cell {
        match value {
            None => Cell::text(absent),
            Some(Timestamp::Unreadable(raw)) => Cell::text(raw.clone()),
            Some(Timestamp::At(at)) => Cell {
                text: clock.date_time(*at),
                detail: Some(clock.relative(*at)),
                instant: Some((iso(*at), exact_utc(*at))),
                ..Cell::default()
            },
        }
    }

    /// Production or sandbox as a badge; another environment verbatim.
    pub fn environment(value: Option<&String>, absent: &str) -> Cell {
        let badge = |label, class| Cell {
            badges: vec![Badge { label, class }],
            ..Cell::default()
        };
        match value.map(String::as_str) {
            Some(env) if env.eq_ignore_ascii_case("production") => {
                badge("Production", "env-production")
            }
            Some(env) if env.eq_ignore_ascii_case("sandbox") => badge("Sandbox", "flag"),
            other => Cell::text(other.unwrap_or(absent)),
        }
    }

    /// The state badge and the flags of an access level or subscription.
    pub fn status(status: Status) -> Cell {
        let mut badges = vec![Badge {
            label: status.state.label(),
            class: status.tone().class(),
        }];
        badges.extend(status.flags.labels().into_iter().map(|label| Badge {
            label,
            class: "flag",
        }));
        Cell {
            badges,
            ..Cell::default()
        }
    }
}

/// When the data is from, label and value: Adapty's `timestamp` when it can
/// be the time of its answer (`Profile::produced_at`), else the moment the
/// panel `received` the answer, saying why. Its relative time is to
/// `clock.now`, which moves on while the page is open.
pub fn data_time(
    profile: &Profile,
    received: DateTime<Utc>,
    clock: &Clock,
) -> (&'static str, Cell) {
    match profile.produced_at(received) {
        Some(at) => (
            "Data as of",
            Cell::when(Some(&Timestamp::At(at)), clock, ""),
        ),
        None => (
            "Received",
            Cell {
                detail: Some(format::no_adapty_time(profile.timestamp)),
                ..Cell::when(Some(&Timestamp::At(received)), clock, "")
            },
        ),
    }
}

/// One of the long tables: where its rows come from and what each shows.
/// The columns are the ones an agent reads first; the rest of a row opens
/// in its detail.
pub struct Table<T: 'static> {
    pub title: &'static str,
    /// The rows in words, for counts: "subscriptions", "purchases".
    pub noun: &'static str,
    pub columns: &'static [&'static str],
    /// The columns that sort the table, and by which date.
    pub sortable: &'static [(usize, SortKey)],
    pub items: fn(&Profile) -> &[T],
    pub row: fn(&T, &Clock) -> Vec<Cell>,
    pub details: fn(&T, &Clock) -> Vec<(&'static str, Cell)>,
}

pub const SUBSCRIPTIONS: Table<Subscription> = Table {
    title: "Subscriptions",
    noun: "subscriptions",
    columns: &[
        "State",
        "Product",
        "Store",
        "Purchased",
        "Expires",
        "Environment",
    ],
    sortable: &[(3, SortKey::Purchased), (4, SortKey::Expires)],
    items: |profile| &profile.subscriptions,
    row: subscription_row,
    details: subscription_details,
};

pub const PURCHASES: Table<NonSubscription> = Table {
    title: "Purchases",
    noun: "purchases",
    columns: &["State", "Product", "Store", "Purchased", "Environment"],
    sortable: &[(3, SortKey::Purchased)],
    items: |profile| &profile.non_subscriptions,
    row: purchase_row,
    details: purchase_details,
};

pub fn subscription_row(item: &Subscription, clock: &Clock) -> Vec<Cell> {
    vec![
        Cell::status(item.status(clock.now)),
        Cell::code(item.store_product_id.clone()),
        Cell::text(format::store(&item.store)),
        Cell::when(item.purchased_at.as_ref(), clock, "—"),
        Cell::when(item.expires_at.as_ref(), clock, "never"),
        Cell::environment(item.environment.as_ref(), "—"),
    ]
}

pub fn subscription_details(item: &Subscription, clock: &Clock) -> Vec<(&'static str, Cell)> {
    let reason = item
        .cancellation_reason
        .as_deref()
        .map(format::cancellation_reason);
    vec![
        (
            "Base plan",
            Cell::code_or(item.store_base_plan_id.as_ref(), "—"),
        ),
        (
            "Offer",
            Cell::text(
                item.offer
                    .as_ref()
                    .map_or_else(|| "—".into(), explain::offer_words),
            ),
        ),
        (
            "Originally purchased",
            Cell::when(item.originally_purchased_at.as_ref(), clock, "—"),
        ),
        (
            "Renewal cancelled",
            Cell::when(item.renewal_cancelled_at.as_ref(), clock, "—"),
        ),
        (
            "Billing issue",
            Cell::when(item.billing_issue_detected_at.as_ref(), clock, "none"),
        ),
        (
            "Grace period",
            Cell::text(if item.is_in_grace_period { "yes" } else { "no" }),
        ),
        ("Cancellation reason", Cell::or(reason.as_ref(), "—")),
        (
            "Transaction",
            Cell::code_or(item.store_transaction_id.as_ref(), "—"),
        ),
        (
            "Original transaction",
            Cell::code_or(item.store_original_transaction_id.as_ref(), "—"),
        ),
    ]
}

pub fn purchase_row(item: &NonSubscription, clock: &Clock) -> Vec<Cell> {
    let state = if item.is_refund {
        Badge {
            label: "Refunded",
            class: "tone-bad",
        }
    } else {
        Badge {
            label: "Purchased",
            class: "tone-good",
        }
    };
    let mut badges = vec![state];
    if item.is_consumable {
        badges.push(Badge {
            label: "Consumable",
            class: "flag",
        });
    }
    vec![
        Cell {
            badges,
            ..Cell::default()
        },
        Cell::code(item.store_product_id.clone()),
        Cell::text(format::store(&item.store)),
        Cell::when(item.purchased_at.as_ref(), clock, "—"),
        Cell::environment(item.environment.as_ref(), "—"),
    ]
}

pub fn purchase_details(item: &NonSubscription, _: &Clock) -> Vec<(&'static str, Cell)> {
    vec![
        (
            "Base plan",
            Cell::code_or(item.store_base_plan_id.as_ref(), "—"),
        ),
        (
            "Consumable",
            Cell::text(if item.is_consumable { "yes" } else { "no" }),
        ),
        (
            "Transaction",
            Cell::code_or(item.store_transaction_id.as_ref(), "—"),
        ),
        (
            "Original transaction",
            Cell::code_or(item.store_original_transaction_id.as_ref(), "—"),
        ),
        ("Purchase ID", Cell::code_or(item.purchase_id.as_ref(), "—")),
    ]
}

/// An access level's details, label by label.
pub fn access_details(level: &AccessLevel, clock: &Clock) -> Vec<(&'static str, Cell)> {
    let mut fields = vec![
        ("Store", Cell::text(format::store(&level.store))),
        ("Product", Cell::code(level.store_product_id.clone())),
    ];
    if let Some(plan) = &level.store_base_plan_id {
        fields.push(("Base plan", Cell::code(plan.clone())));
    }
    if let Some(offer) = &level.offer {
        fields.push(("Offer", Cell::text(explain::offer_words(offer))));
    }
    fields.extend([
        (
            "Starts",
            Cell::when(level.starts_at.as_ref(), clock, "at purchase"),
        ),
        (
            "Purchased",
            Cell::when(level.purchased_at.as_ref(), clock, "—"),
        ),
        (
            "Originally purchased",
            Cell::when(level.originally_purchased_at.as_ref(), clock, "—"),
        ),
        (
            "Expires",
            Cell::when(level.expires_at.as_ref(), clock, "never (lifetime)"),
        ),
        (
            "Renewal cancelled",
            Cell::when(level.renewal_cancelled_at.as_ref(), clock, "—"),
        ),
        (
            "Billing issue",
            Cell::when(level.billing_issue_detected_at.as_ref(), clock, "none"),
        ),
        (
            "Transaction",
            Cell::code_or(level.store_transaction_id.as_ref(), "—"),
        ),
        (
            "Environment",
            match &level.linked_environment {
                Some((environment, link)) => Cell {
                    detail: Some(link.words().into()),
                    ..Cell::environment(Some(environment), "")
                },
                None => Cell::environment(level.environment.as_ref(), "not given"),
            },
        ),
    ]);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;
    use chrono::{TimeZone, Utc};

    fn clock() -> Clock {
        Clock::in_utc(Utc.with_ymd_and_hms(2025, 1, 7, 12, 0, 0).unwrap())
    }

    fn seed() -> crate::model::Profile {
        Envelope::parse(include_str!("../fixtures/seed.json")).unwrap()
    }

    fn labels(details: &[(&'static str, Cell)]) -> Vec<&'static str> {
        details.iter().map(|(label, _)| *label).collect()
    }

    #[test]
    fn a_subscription_row_has_the_first_columns_and_its_detail_the_rest() {
        let item = &seed().subscriptions[1];
        let row = subscription_row(item, &clock());
        assert_eq!(row.len(), SUBSCRIPTIONS.columns.len());
        let sorted_by = |table: &Table<_>| -> Vec<&str> {
            table
                .sortable
                .iter()
                .map(|(column, _)| table.columns[*column])
                .collect()
        };
        assert_eq!(sorted_by(&SUBSCRIPTIONS), ["Purchased", "Expires"]);
        assert_eq!(row[0].badges[0].label, "Active");
        assert_eq!(row[0].badges[1].label, "Sandbox");
        assert_eq!(row[1], Cell::code("weekly.premium.599"));
        assert_eq!(row[2].text, "App Store");
        let expires = &row[4];
        assert_eq!(expires.text, "10 Jan 2025, 11:34 UTC");
        assert_eq!(expires.detail.as_deref(), Some("in 3 days"));
        assert_eq!(
            expires.instant,
            Some((
                "2025-01-10T11:34:40Z".into(),
                "2025-01-10 11:34:40 UTC".into()
            ))
        );
        assert_eq!(row[5].badges[0].label, "Sandbox");
        let details = subscription_details(item, &clock());
        assert_eq!(
            labels(&details),
            [
                "Base plan",
                "Offer",
                "Originally purchased",
                "Renewal cancelled",
                "Billing issue",
                "Grace period",
                "Cancellation reason",
                "Transaction",
                "Original transaction"
            ]
        );
        assert_eq!(details[5].1.text, "no");
        assert_eq!(details[7].1, Cell::code("2000000825768152"));
    }

    #[test]
    fn a_purchase_row_states_refunds_and_consumables() {
        let mut purchase = seed().non_subscriptions[0].clone();
        let badges = |purchase: &NonSubscription| -> Vec<&str> {
            purchase_row(purchase, &clock())[0]
                .badges
                .iter()
                .map(|b| b.label)
                .collect()
        };
        assert_eq!(badges(&purchase), ["Purchased"]);
        purchase.is_refund = true;
        purchase.is_consumable = true;
        assert_eq!(badges(&purchase), ["Refunded", "Consumable"]);
        assert_eq!(PURCHASES.columns[PURCHASES.sortable[0].0], "Purchased");
        assert_eq!(
            purchase_row(&purchase, &clock()).len(),
            PURCHASES.columns.len()
        );
        let details = purchase_details(&purchase, &clock());
        assert_eq!(
            labels(&details),
            [
                "Base plan",
                "Consumable",
                "Transaction",
                "Original transaction",
                "Purchase ID"
            ]
        );
        assert_eq!(
            details[4].1,
            Cell::code("7a5f9a7d-e236-33e6-96d8-53a3c59c5562")
        );
    }

    #[test]
    fn the_datas_time_is_adaptys_or_when_the_panel_received_it() {
        let received = clock().now;
        let (label, cell) = data_time(&seed(), received, &clock());
        assert_eq!(label, "Data as of");
        assert_eq!(cell.text, "4 Dec 2024, 15:02 UTC");
        assert_eq!(cell.detail.as_deref(), Some("34 days ago"));
        // The page stays open: its age grows, its time stays.
        let later = Clock {
            now: received + chrono::Duration::days(2),
            ..clock()
        };
        let (_, cell) = data_time(&seed(), received, &later);
        assert_eq!(cell.detail.as_deref(), Some("36 days ago"));
        // Adapty's reference example: `"timestamp": 0` is not 1 Jan 1970.
        let example =
            Envelope::parse(include_str!("../fixtures/profile-response-example.json")).unwrap();
        let (label, cell) = data_time(&example, received, &later);
        assert_eq!(label, "Received");
        assert_eq!(cell.text, "7 Jan 2025, 12:00 UTC");
        assert_eq!(
            cell.detail.as_deref(),
            Some("Adapty's own time cannot be right (timestamp 0)")
        );
        assert_eq!(
            cell.instant,
            Some((
                "2025-01-07T12:00:00Z".into(),
                "2025-01-07 12:00:00 UTC".into()
            ))
        );
        let anonymous = Envelope::parse(r#"{"data":{"profile_id":"p"}}"#).unwrap();
        let (label, cell) = data_time(&anonymous, received, &clock());
        assert_eq!(label, "Received");
        assert_eq!(
            cell.detail.as_deref(),
            Some("Adapty sent no time of its own")
        );
    }

    #[test]
    fn environments_are_badges_and_unknown_ones_text() {
        let env = |value: &str| Cell::environment(Some(&value.to_owned()), "—");
        assert_eq!(env("Production").badges[0].label, "Production");
        assert_eq!(env("Sandbox").badges[0].label, "Sandbox");
        assert_eq!(env("Staging"), Cell::text("Staging"));
        assert_eq!(
            Cell::environment(None, "not given"),
            Cell::text("not given")
        );
    }

    #[test]
    fn access_details_name_absences() {
        let details = access_details(&seed().access_levels[0], &clock());
        let expires = details
            .iter()
            .find(|(label, _)| *label == "Expires")
            .unwrap();
        assert_eq!(expires.1.text, "never (lifetime)");
        let environment = |level: &AccessLevel| {
            access_details(level, &clock())
                .into_iter()
                .find(|(label, _)| *label == "Environment")
                .unwrap()
                .1
        };
        let mut premium = seed().access_levels[0].clone();
        let linked = environment(&premium);
        assert_eq!(linked.badges[0].label, "Sandbox");
        assert_eq!(
            linked.detail.as_deref(),
            Some("not given by Adapty; from the purchases of the same product")
        );
        premium.linked_environment = None;
        assert_eq!(environment(&premium).text, "not given");
        assert!(
            !details.iter().any(|(label, _)| *label == "Offer"),
            "no offer, no row"
        );
    }
}
