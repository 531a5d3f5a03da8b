//! Which rows of a long table are on screen: narrowed by a quick filter
//! and by the filter box (IDs, store, states and marks), sandbox hidden on
//! request, sorted by purchase or expiry date, one page at a time, so a
//! customer with 8,000 purchases stays smooth; and which view brings a
//! given row on screen when the history links to it.

use crate::format::{self, thousands};
use crate::model::{NonSubscription, Subscription, Timestamp};
use crate::status::is_sandbox;
use chrono::{DateTime, Utc};

pub const PAGE_SIZE: usize = 50;

/// The date a table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Purchased,
    Expires,
    /// `Row::rank`: a bulk check's results by what each came to.
    State,
}

/// Newest first by purchase date unless the admin chose otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub newest_first: bool,
}

impl Default for Sort {
    fn default() -> Sort {
        Sort {
            key: SortKey::Purchased,
            newest_first: true,
        }
    }
}

impl Sort {
    /// A column's header was pressed: its own order flips, another column
    /// starts newest first.
    pub fn by(self, key: SortKey) -> Sort {
        Sort {
            key,
            newest_first: self.key != key || !self.newest_first,
        }
    }
}

/// A one-press narrowing of a table, offered with its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quick {
    Active,
    Refunded,
    Sandbox,
    /// Adapty's store code.
    Store(String),
    /// `Row::state`: what a bulk check's ID came to.
    State(&'static str),
}

impl Quick {
    pub fn label(&self) -> String {
        match self {
            Quick::Active => "Active".into(),
            Quick::Refunded => "Refunded".into(),
            Quick::Sandbox => "Sandbox".into(),
            Quick::Store(code) => format::store(code),
            Quick::State(state) => (*state).into(),
        }
    }

    fn admits(&self, item: &dyn Row, now: DateTime<Utc>) -> bool {
        match self {
            Quick::Active => item.marks(now).contains(&"Active"),
            Quick::Refunded => item.marks(now).contains(&"Refunded"),
            Quick::Sandbox => is_sandbox(item.environment()),
            Quick::Store(code) => item.store() == code,
            Quick::State(state) => item.state() == Some(state),
        }
    }
}

/// The quick filters worth offering, with how many rows each keeps: Active,
/// Refunded, Sandbox, then one per store in order of appearance; only those
/// that narrow the list (some rows, not all).
pub fn quick_filters<T: Row>(items: &[T], now: DateTime<Utc>) -> Vec<(Quick, usize)> {
    quick_filters_of(&rows(items), now)
}

/// Where the pressed quick filter is among those `offered` now, counted
/// from one (0: none), from its `place` among those offered `before`:
/// filters come as rows do (a bulk check's), so the one pressed is found
/// again by what it filters, or let go once it is no longer offered.
pub fn pressed_again(before: &[Quick], place: usize, offered: &[(Quick, usize)]) -> usize {
    let Some(pressed) = place.checked_sub(1).and_then(|n| before.get(n)) else {
        return 0;
    };
    offered
        .iter()
        .position(|(quick, _)| quick == pressed)
        .map_or(0, |n| n + 1)
}

/// The rows as trait objects: the listing's code then exists once in the
/// wasm, not once per kind of row.
fn rows<T: Row>(items: &[T]) -> Vec<&dyn Row> {
    items.iter().map(|item| item as &dyn Row).collect()
}

fn quick_filters_of(items: &[&dyn Row], now: DateTime<Utc>) -> Vec<(Quick, usize)> {
    let mut offered = vec![Quick::Active, Quick::Refunded, Quick::Sandbox];
    for item in items {
        let state = item.state().map(Quick::State);
        let store = (!item.store().is_empty()).then(|| Quick::Store(item.store().to_owned()));
        for quick in [state, store].into_iter().flatten() {
            if !offered.contains(&quick) {
                offered.push(quick);
            }
        }
    }
    offered
        .into_iter()
        .map(|quick| {
            let count = items
                .iter()
                .filter(|item| quick.admits(**item, now))
                .count();
            (quick, count)
        })
        .filter(|(_, count)| *count > 0 && *count < items.len())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    /// Words that must each appear, ASCII case aside, in an ID, the store,
    /// the environment, or a state or mark ("refund", "consumable", "expired").
    pub filter: String,
    pub quick: Option<Quick>,
    pub hide_sandbox: bool,
    pub sort: Sort,
    /// Zero-based; clamped to the pages there are.
    pub page: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Indices into the full list, in display order.
    pub rows: Vec<usize>,
    /// Rows that pass the filter, on all pages.
    pub matching: usize,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
}

impl Page {
    /// "Rows 51–100 of 8,000" as (first, last) one-based, or `None` when empty.
    pub fn range(&self) -> Option<(usize, usize)> {
        (!self.rows.is_empty()).then(|| {
            let first = self.page * PAGE_SIZE + 1;
            (first, first + self.rows.len() - 1)
        })
    }
}

/// "Showing 51–100 of 8,000 purchases", or why nothing shows.
pub fn summary(page: &Page, noun: &str) -> String {
    let total = thousands(page.total as u64);
    let of = if page.matching == page.total {
        format!("{total} {noun}")
    } else {
        format!(
            "{} matching of {total} {noun}",
            thousands(page.matching as u64)
        )
    };
    match page.range() {
        Some((first, last)) => format!(
            "Showing {}–{} of {of}",
            thousands(first as u64),
            thousands(last as u64)
        ),
        None if page.total == 0 => format!("No {noun}."),
        None => format!("No {noun} match ({total} in all)."),
    }
}

/// What a row offers to the listing.
pub trait Row {
    fn purchased(&self) -> Option<DateTime<Utc>>;
    /// Purchases never expire.
    fn expires(&self) -> Option<DateTime<Utc>>;
    fn ids(&self) -> [Option<&str>; 4];
    fn environment(&self) -> Option<&str>;
    fn store(&self) -> &str;
    /// Its state and marks in the words of its badges: "Active", "Refunded", …
    fn marks(&self, now: DateTime<Utc>) -> Vec<&'static str>;
    /// A state offered as a quick filter of its own (a bulk check's).
    fn state(&self) -> Option<&'static str> {
        None
    }
    /// Its place when sorted by state.
    fn rank(&self) -> i64 {
        0
    }
}

fn instant(value: &Option<Timestamp>) -> Option<DateTime<Utc>> {
    value.as_ref().and_then(Timestamp::instant)
}

impl Row for Subscription {
    fn purchased(&self) -> Option<DateTime<Utc>> {
        instant(&self.purchased_at)
    }
    fn expires(&self) -> Option<DateTime<Utc>> {
        instant(&self.expires_at)
    }
    fn ids(&self) -> [Option<&str>; 4] {
        [
            Some(&self.store_product_id),
            self.store_base_plan_id.as_deref(),
            self.store_transaction_id.as_deref(),
            self.store_original_transaction_id.as_deref(),
        ]
    }
    fn environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }
    fn store(&self) -> &str {
        &self.store
    }
    fn marks(&self, now: DateTime<Utc>) -> Vec<&'static str> {
        let status = self.status(now);
        let mut marks = status.flags.labels();
        marks.push(status.state.label());
        marks
    }
}

impl Row for NonSubscription {
    fn purchased(&self) -> Option<DateTime<Utc>> {
        instant(&self.purchased_at)
    }
    fn expires(&self) -> Option<DateTime<Utc>> {
        None
    }
    fn ids(&self) -> [Option<&str>; 4] {
        [
            Some(&self.store_product_id),
            self.store_transaction_id.as_deref(),
            self.store_original_transaction_id.as_deref(),
            self.purchase_id.as_deref(),
        ]
    }
    fn environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }
    fn store(&self) -> &str {
        &self.store
    }
    fn marks(&self, _: DateTime<Utc>) -> Vec<&'static str> {
        let mut marks = vec![if self.is_refund {
            "Refunded"
        } else {
            "Purchased"
        }];
        if self.is_consumable {
            marks.push("Consumable");
        }
        if is_sandbox(self.environment()) {
            marks.push("Sandbox");
        }
        marks
    }
}

/// `needle` (one word of the filter, lower case) in `haystack`, ASCII case aside.
fn contains(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

fn matches(item: &dyn Row, words: &[String], now: DateTime<Utc>) -> bool {
    if words.is_empty() {
        return true;
    }
    let store = format::store(item.store());
    let mut fields: Vec<&str> = item.marks(now);
    fields.extend_from_slice(&[item.store(), &store, item.environment().unwrap_or_default()]);
    fields.extend(item.ids().into_iter().flatten());
    words
        .iter()
        .all(|word| fields.iter().any(|field| contains(field, word)))
}

pub fn page<T: Row>(items: &[T], view: &View, now: DateTime<Utc>) -> Page {
    page_of(&rows(items), view, now)
}

fn page_of(items: &[&dyn Row], view: &View, now: DateTime<Utc>) -> Page {
    let shown = order(items, view, now);
    let matching = shown.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = view.page.min(pages - 1);
    let rows = shown
        .into_iter()
        .skip(page * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    Page {
        rows,
        matching,
        total: items.len(),
        page,
        pages,
    }
}

fn words(filter: &str) -> Vec<String> {
    filter
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The indices of the rows `view` shows, on all pages, in its order.
fn order(items: &[&dyn Row], view: &View, now: DateTime<Utc>) -> Vec<usize> {
    let words = words(&view.filter);
    let shown = |item: &dyn Row| {
        !(view.hide_sandbox && is_sandbox(item.environment()))
            && view
                .quick
                .as_ref()
                .is_none_or(|quick| quick.admits(item, now))
            && matches(item, &words, now)
    };
    // Sorted on plain (key, index) pairs: one small sort for every kind of
    // row, stable because the index breaks ties in Adapty's order. Undated
    // rows get the largest key, so they go last in either order.
    let mut keyed: Vec<(i64, usize)> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| shown(**item))
        .map(|(index, item)| {
            let key = match view.sort.key {
                SortKey::Purchased => item.purchased(),
                SortKey::Expires => item.expires(),
                SortKey::State => None,
            }
            .map(|at| at.timestamp_micros())
            .or((view.sort.key == SortKey::State).then(|| item.rank()));
            let key = match (key, view.sort.newest_first) {
                (Some(key), true) => -key,
                (Some(key), false) => key,
                (None, _) => i64::MAX,
            };
            (key, index)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, index)| index).collect()
}

/// The view that brings row `index` on screen, for a link from the
/// history: `view` without whichever of the filter box, the quick filter and
/// sandbox hiding keeps the row out, in the same order, on the row's page.
pub fn reveal<T: Row>(items: &[T], view: &View, now: DateTime<Utc>, index: usize) -> View {
    reveal_of(&rows(items), view, now, index)
}

fn reveal_of(items: &[&dyn Row], view: &View, now: DateTime<Utc>, index: usize) -> View {
    let mut wanted = view.clone();
    let Some(&item) = items.get(index) else {
        return wanted;
    };
    if !matches(item, &words(&view.filter), now) {
        wanted.filter.clear();
    }
    if view
        .quick
        .as_ref()
        .is_some_and(|quick| !quick.admits(item, now))
    {
        wanted.quick = None;
    }
    if view.hide_sandbox && is_sandbox(item.environment()) {
        wanted.hide_sandbox = false;
    }
    let place = order(items, &wanted, now)
        .iter()
        .position(|&shown| shown == index)
        .unwrap_or_default();
    wanted.page = place / PAGE_SIZE;
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 7, 12, 0, 0).unwrap()
    }

    /// Shaped as the demo's 8,000-purchase customer: every 97th refunded
    /// (from the 5th), every 100th sandbox, every 5th on the Play Store,
    /// three products in four consumable.
    fn purchases(count: usize) -> Vec<NonSubscription> {
        let items: Vec<String> = (0..count)
            .map(|n| {
                format!(
                    r#"{{"store":"{}","store_product_id":"{}","store_transaction_id":"tx{n}",
                    "purchased_at":"2024-01-01T{:02}:{:02}:{:02}+00:00","environment":"{}",
                    "is_refund":{},"is_consumable":{}}}"#,
                    if n % 5 == 0 {
                        "play_store"
                    } else {
                        "app_store"
                    },
                    ["coins_100", "coins_500", "remove_ads", "hint_pack"][n % 4],
                    n / 3600,
                    n / 60 % 60,
                    n % 60,
                    if n % 100 == 0 {
                        "Sandbox"
                    } else {
                        "Production"
                    },
                    n % 97 == 5,
                    n % 4 != 2,
                )
            })
            .collect();
        let body = format!(
            r#"{{"data":{{"profile_id":"p","non_subscriptions":[{}]}}}}"#,
            items.join(",")
        );
        Envelope::parse(&body).unwrap().non_subscriptions
    }

    fn view(filter: &str) -> View {
        View {
            filter: filter.into(),
            ..View::default()
        }
    }

    fn matching(items: &[NonSubscription], view: &View) -> usize {
        page(items, view, now()).matching
    }

    #[test]
    fn newest_first_by_default_and_flippable() {
        let items = purchases(5);
        assert_eq!(page(&items, &View::default(), now()).rows, [4, 3, 2, 1, 0]);
        let oldest = View {
            sort: Sort::default().by(SortKey::Purchased),
            ..View::default()
        };
        assert_eq!(page(&items, &oldest, now()).rows, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_header_flips_its_own_order_and_another_starts_newest_first() {
        let sort = Sort::default();
        assert!(!sort.by(SortKey::Purchased).newest_first);
        let expires = sort.by(SortKey::Expires);
        assert_eq!(
            (expires.key, expires.newest_first),
            (SortKey::Expires, true)
        );
        assert!(!expires.by(SortKey::Expires).newest_first);
        assert_eq!(
            expires.by(SortKey::Expires).by(SortKey::Purchased),
            Sort::default()
        );
    }

    #[test]
    fn subscriptions_sort_by_expiry_both_ways() {
        let body = r#"{"data":{"profile_id":"p","subscriptions":[
            {"store_product_id":"a","purchased_at":"2024-03-01T00:00:00+00:00","expires_at":"2024-04-01T00:00:00+00:00"},
            {"store_product_id":"b","purchased_at":"2024-02-01T00:00:00+00:00","expires_at":"2025-02-01T00:00:00+00:00"},
            {"store_product_id":"c","purchased_at":"2024-01-01T00:00:00+00:00"}]}}"#;
        let items = Envelope::parse(body).unwrap().subscriptions;
        let by = |newest_first| View {
            sort: Sort {
                key: SortKey::Expires,
                newest_first,
            },
            ..View::default()
        };
        assert_eq!(page(&items, &by(true), now()).rows, [1, 0, 2]);
        assert_eq!(page(&items, &by(false), now()).rows, [0, 1, 2]);
        assert_eq!(page(&items, &View::default(), now()).rows, [0, 1, 2]);
    }

    #[test]
    fn pages_of_fifty_with_counts() {
        let items = purchases(8000);
        let first = page(&items, &View::default(), now());
        assert_eq!(
            (first.rows.len(), first.matching, first.total, first.pages),
            (50, 8000, 8000, 160)
        );
        assert_eq!(first.range(), Some((1, 50)));
        let last = page(
            &items,
            &View {
                page: 999,
                ..View::default()
            },
            now(),
        );
        assert_eq!(last.page, 159, "clamped to the last page");
        assert_eq!(last.range(), Some((7951, 8000)));
    }

    #[test]
    fn filter_by_product_or_transaction_and_hide_sandbox() {
        let items = purchases(100);
        assert_eq!(matching(&items, &view("REMOVE")), 25);
        assert_eq!(page(&items, &view(" tx42 "), now()).rows, [42]);
        let production = View {
            hide_sandbox: true,
            ..View::default()
        };
        assert_eq!(matching(&items, &production), 99);
        let none = page(&items, &view("nothing"), now());
        assert_eq!((none.matching, none.range(), none.pages), (0, None, 1));
    }

    #[test]
    fn the_filter_box_matches_states_marks_and_stores() {
        let items = purchases(8000);
        assert_eq!(matching(&items, &view("refund")), 83);
        assert_eq!(matching(&items, &view("Consumable")), 6000);
        assert_eq!(matching(&items, &view("sandbox")), 80);
        assert_eq!(matching(&items, &view("play store")), 1600);
        assert_eq!(matching(&items, &view("play_store refunded")), 17);
        let body = r#"{"data":{"profile_id":"p","subscriptions":[
            {"store_product_id":"a","expires_at":"2024-04-01T00:00:00+00:00"},
            {"store_product_id":"b","expires_at":"2025-02-01T00:00:00+00:00","renewal_cancelled_at":"2025-01-01T00:00:00+00:00"},
            {"store_product_id":"c","expires_at":"2025-02-01T00:00:00+00:00","cancellation_reason":"refund"}]}}"#;
        let subscriptions = Envelope::parse(body).unwrap().subscriptions;
        let found = |filter| page(&subscriptions, &view(filter), now()).rows;
        assert_eq!(found("expired"), [0]);
        assert_eq!(found("active"), [1, 2]);
        assert_eq!(found("auto-renew"), [1]);
        assert_eq!(found("refund"), [2]);
    }

    #[test]
    fn quick_filters_of_the_8000_purchases_with_counts() {
        let items = purchases(8000);
        let offered = quick_filters(&items, now());
        let labels: Vec<(String, usize)> = offered
            .iter()
            .map(|(quick, count)| (quick.label(), *count))
            .collect();
        assert_eq!(
            labels,
            [
                ("Refunded".into(), 83),
                ("Sandbox".into(), 80),
                ("Play Store".into(), 1600),
                ("App Store".into(), 6400)
            ],
            "Active keeps none of the purchases, so it is not offered"
        );
        for (quick, count) in offered {
            let chosen = View {
                quick: Some(quick),
                ..View::default()
            };
            assert_eq!(matching(&items, &chosen), count);
        }
        let refunded_on_play = View {
            quick: Some(Quick::Refunded),
            filter: "play".into(),
            ..View::default()
        };
        assert_eq!(matching(&items, &refunded_on_play), 17);
    }

    #[test]
    fn a_pressed_quick_filter_is_found_again_by_what_it_filters() {
        let before = [Quick::State("Not found")];
        let offered = [
            (Quick::Sandbox, 1),
            (Quick::State("Not found"), 3),
            (Quick::State("Has access"), 2),
        ];
        assert_eq!(pressed_again(&before, 1, &offered), 2, "moved one place on");
        assert_eq!(pressed_again(&before, 0, &offered), 0, "none pressed");
        assert_eq!(
            pressed_again(&before, 1, &offered[..1]),
            0,
            "no longer offered"
        );
        assert_eq!(pressed_again(&[], 1, &offered), 0);
    }

    #[test]
    fn a_quick_filter_that_keeps_every_row_is_not_offered() {
        let items = purchases(3);
        let labels: Vec<String> = quick_filters(&items, now())
            .iter()
            .map(|(quick, _)| quick.label())
            .collect();
        assert_eq!(labels, ["Sandbox", "Play Store", "App Store"]);
        assert!(quick_filters(&purchases(1), now()).is_empty());
    }

    #[test]
    fn the_summary_says_what_is_shown() {
        let items = purchases(8000);
        let summary_of = |view: &View| summary(&page(&items, view, now()), "purchases");
        assert_eq!(
            summary_of(&View::default()),
            "Showing 1–50 of 8,000 purchases"
        );
        assert_eq!(
            summary_of(&view("tx42")),
            "Showing 1–50 of 111 matching of 8,000 purchases"
        );
        assert_eq!(
            summary_of(&view("nothing")),
            "No purchases match (8,000 in all)."
        );
        assert_eq!(
            summary(&page(&purchases(0), &View::default(), now()), "purchases"),
            "No purchases."
        );
    }

    #[test]
    fn a_link_finds_its_rows_page_in_the_current_order() {
        let items = purchases(8000);
        // Newest first, purchase 0 is the last row of the last page.
        let wanted = reveal(&items, &View::default(), now(), 0);
        assert_eq!(
            wanted,
            View {
                page: 159,
                ..View::default()
            }
        );
        assert!(page(&items, &wanted, now()).rows.contains(&0));
        let oldest_first = View {
            sort: Sort::default().by(SortKey::Purchased),
            page: 7,
            ..View::default()
        };
        let wanted = reveal(&items, &oldest_first, now(), 120);
        assert_eq!((wanted.page, wanted.sort), (2, oldest_first.sort));
        assert_eq!(page(&items, &wanted, now()).rows[20], 120);
    }

    #[test]
    fn a_link_clears_only_the_filters_that_hide_its_row() {
        let items = purchases(8000);
        // Purchase 102 is refunded, on the App Store, in production.
        let narrowed = View {
            filter: "refund".into(),
            quick: Some(Quick::Store("play_store".into())),
            hide_sandbox: true,
            ..View::default()
        };
        let wanted = reveal(&items, &narrowed, now(), 102);
        assert_eq!(
            (wanted.filter.as_str(), &wanted.quick, wanted.hide_sandbox),
            ("refund", &None, true)
        );
        assert!(page(&items, &wanted, now()).rows.contains(&102));
        let by_word = reveal(&items, &view("tx42"), now(), 7);
        assert_eq!(by_word.filter, "");
        // Purchase 100 is sandbox.
        let hidden = View {
            hide_sandbox: true,
            ..View::default()
        };
        let wanted = reveal(&items, &hidden, now(), 100);
        assert!(!wanted.hide_sandbox);
        assert!(page(&items, &wanted, now()).rows.contains(&100));
        // A row the profile does not have changes nothing.
        assert_eq!(reveal(&items, &narrowed, now(), 9000), narrowed);
    }

    #[test]
    fn undated_rows_go_last_in_either_order() {
        let body = r#"{"data":{"profile_id":"p","non_subscriptions":[
            {"store_product_id":"a"},
            {"store_product_id":"b","purchased_at":"2024-01-01T00:00:00+00:00"},
            {"store_product_id":"c","purchased_at":"2024-02-01T00:00:00+00:00"}]}}"#;
        let items = Envelope::parse(body).unwrap().non_subscriptions;
        assert_eq!(page(&items, &View::default(), now()).rows, [2, 1, 0]);
        let oldest = View {
            sort: Sort::default().by(SortKey::Purchased),
            ..View::default()
        };
        assert_eq!(page(&items, &oldest, now()).rows, [1, 2, 0]);
    }
}
