//! Which rows of a long table are on screen: filtered by product or
//! transaction ID, sandbox hidden on request, sorted by purchase date, one
//! page at a time, so a customer with 8,000 purchases stays smooth.

use crate::format::thousands;
use crate::model::{NonSubscription, Subscription, Timestamp};
use crate::status::is_sandbox;
use chrono::{DateTime, Utc};

pub const PAGE_SIZE: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    NewestFirst,
    OldestFirst,
}

impl Order {
    pub fn flipped(self) -> Order {
        match self {
            Order::NewestFirst => Order::OldestFirst,
            Order::OldestFirst => Order::NewestFirst,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    /// Part of a product, base plan or transaction ID; ASCII case does not matter.
    pub filter: String,
    pub hide_sandbox: bool,
    pub order: Order,
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
    fn ids(&self) -> [Option<&str>; 4];
    fn environment(&self) -> Option<&str>;
}

fn instant(value: &Option<Timestamp>) -> Option<DateTime<Utc>> {
    value.as_ref().and_then(Timestamp::instant)
}

impl Row for Subscription {
    fn purchased(&self) -> Option<DateTime<Utc>> {
        instant(&self.purchased_at)
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
}

impl Row for NonSubscription {
    fn purchased(&self) -> Option<DateTime<Utc>> {
        instant(&self.purchased_at)
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
}

pub fn page<T: Row>(items: &[T], view: &View) -> Page {
    let needle = view.filter.trim().to_ascii_lowercase();
    let shown = |item: &T| {
        !(view.hide_sandbox && is_sandbox(item.environment()))
            && (needle.is_empty()
                || item
                    .ids()
                    .into_iter()
                    .flatten()
                    .any(|id| id.to_ascii_lowercase().contains(&needle)))
    };
    // Sorted on plain (key, index) pairs: one small sort for every kind of
    // row, stable because the index breaks ties in Adapty's order. Undated
    // rows get the largest key, so they go last in either order.
    let mut keyed: Vec<(i64, usize)> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| shown(item))
        .map(|(index, item)| {
            let key = match (item.purchased(), view.order) {
                (Some(at), Order::NewestFirst) => -at.timestamp_micros(),
                (Some(at), Order::OldestFirst) => at.timestamp_micros(),
                (None, _) => i64::MAX,
            };
            (key, index)
        })
        .collect();
    keyed.sort_unstable();
    let matching = keyed.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = view.page.min(pages - 1);
    let rows = keyed
        .into_iter()
        .skip(page * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|(_, index)| index)
        .collect();
    Page {
        rows,
        matching,
        total: items.len(),
        page,
        pages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;

    fn purchases(count: usize) -> Vec<NonSubscription> {
        let items: Vec<String> = (0..count)
            .map(|n| {
                format!(
                    r#"{{"store":"app_store","store_product_id":"{}","store_transaction_id":"tx{n}",
                    "purchased_at":"2024-01-01T00:{:02}:{:02}+00:00","environment":"{}"}}"#,
                    if n % 2 == 0 {
                        "coins_100"
                    } else {
                        "remove_ads"
                    },
                    n / 60 % 60,
                    n % 60,
                    if n % 10 == 0 { "Sandbox" } else { "Production" }
                )
            })
            .collect();
        let body = format!(
            r#"{{"data":{{"profile_id":"p","non_subscriptions":[{}]}}}}"#,
            items.join(",")
        );
        Envelope::parse(&body).unwrap().non_subscriptions
    }

    #[test]
    fn newest_first_by_default_and_flippable() {
        let items = purchases(5);
        assert_eq!(page(&items, &View::default()).rows, [4, 3, 2, 1, 0]);
        let oldest = View {
            order: Order::OldestFirst,
            ..View::default()
        };
        assert_eq!(page(&items, &oldest).rows, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn pages_of_fifty_with_counts() {
        let items = purchases(8000);
        let first = page(&items, &View::default());
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
        );
        assert_eq!(last.page, 159, "clamped to the last page");
        assert_eq!(last.range(), Some((7951, 8000)));
    }

    #[test]
    fn filter_by_product_or_transaction_and_hide_sandbox() {
        let items = purchases(100);
        let ads = page(
            &items,
            &View {
                filter: "REMOVE".into(),
                ..View::default()
            },
        );
        assert_eq!(ads.matching, 50);
        let one = page(
            &items,
            &View {
                filter: " tx42 ".into(),
                ..View::default()
            },
        );
        assert_eq!(one.rows, [42]);
        let production = page(
            &items,
            &View {
                hide_sandbox: true,
                ..View::default()
            },
        );
        assert_eq!(production.matching, 90);
        let none = page(
            &items,
            &View {
                filter: "nothing".into(),
                ..View::default()
            },
        );
        assert_eq!((none.matching, none.range(), none.pages), (0, None, 1));
    }

    #[test]
    fn the_summary_says_what_is_shown() {
        let items = purchases(8000);
        assert_eq!(
            summary(&page(&items, &View::default()), "purchases"),
            "Showing 1–50 of 8,000 purchases"
        );
        let filtered = View {
            filter: "tx42".into(),
            ..View::default()
        };
        assert_eq!(
            summary(&page(&items, &filtered), "purchases"),
            "Showing 1–50 of 111 matching of 8,000 purchases"
        );
        let none = View {
            filter: "nothing".into(),
            ..View::default()
        };
        assert_eq!(
            summary(&page(&items, &none), "purchases"),
            "No purchases match (8,000 in all)."
        );
        assert_eq!(
            summary(&page(&purchases(0), &View::default()), "purchases"),
            "No purchases."
        );
    }

    #[test]
    fn undated_rows_go_last_in_either_order() {
        let body = r#"{"data":{"profile_id":"p","non_subscriptions":[
            {"store_product_id":"a"},
            {"store_product_id":"b","purchased_at":"2024-01-01T00:00:00+00:00"},
            {"store_product_id":"c","purchased_at":"2024-02-01T00:00:00+00:00"}]}}"#;
        let items = Envelope::parse(body).unwrap().non_subscriptions;
        assert_eq!(page(&items, &View::default()).rows, [2, 1, 0]);
        let oldest = View {
            order: Order::OldestFirst,
            ..View::default()
        };
        assert_eq!(page(&items, &oldest).rows, [1, 2, 0]);
    }
}
