//! Subscriptions and purchases as tables: newest first, sortable by purchase
//! date, filtered and paged by `listing`, so thousands of rows stay smooth.

use super::access::Badges;
use super::time::When;
use crate::explain;
use crate::format::{self, Clock};
use crate::listing::{self, Order, Page, Row};
use crate::transport::Fetched;
use leptos::prelude::*;
use std::sync::Arc;

/// Filter, sandbox toggle, order and page for one table, as one memoised page.
fn paged<T: Row + 'static>(
    items: impl Fn(&Fetched) -> &[T] + Send + Sync + 'static,
    found: Arc<Fetched>,
    filter: RwSignal<String>,
    hide_sandbox: RwSignal<bool>,
    order: RwSignal<Order>,
    page: RwSignal<usize>,
) -> Memo<Page> {
    // A new filter or order starts again at the first page.
    Effect::new(move |_| {
        filter.track();
        hide_sandbox.track();
        order.track();
        page.set(0);
    });
    Memo::new(move |_| {
        let view = listing::View {
            filter: filter.get(),
            hide_sandbox: hide_sandbox.get(),
            order: order.get(),
            page: page.get(),
        };
        listing::page(items(&found), &view)
    })
}

#[component]
pub fn Subscriptions(
    found: Arc<Fetched>,
    clock: Signal<Clock>,
    filter: RwSignal<String>,
    hide_sandbox: RwSignal<bool>,
) -> impl IntoView {
    let order = RwSignal::new(Order::NewestFirst);
    let page = RwSignal::new(0);
    let listing = paged(
        |f| &f.profile.subscriptions,
        found.clone(),
        filter,
        hide_sandbox,
        order,
        page,
    );
    let count = format::thousands(found.profile.subscriptions.len() as u64);
    let rows = move || {
        let clock = clock.get();
        listing.with(|listing| {
            listing
                .rows
                .iter()
                .map(|&index| {
                    let item = found.profile.subscriptions[index].clone();
                    let status = item.status(clock.now);
                    let offer = item.offer.as_ref().map(explain::offer_words).unwrap_or_else(|| "—".into());
                    let reason = item.cancellation_reason.as_deref().map(format::cancellation_reason);
                    view! {
                        <tr>
                            <td class="badges"><Badges status=status /></td>
                            <td>{format::store(&item.store)}</td>
                            <td><code>{item.store_product_id}</code></td>
                            <td>{item.store_base_plan_id.unwrap_or_else(|| "—".into())}</td>
                            <td>{offer}</td>
                            <td>{item.environment.unwrap_or_else(|| "—".into())}</td>
                            <td><When at=item.purchased_at clock=clock /></td>
                            <td><When at=item.originally_purchased_at clock=clock /></td>
                            <td><When at=item.expires_at clock=clock absent="never" /></td>
                            <td><When at=item.renewal_cancelled_at clock=clock /></td>
                            <td><When at=item.billing_issue_detected_at clock=clock absent="none" /></td>
                            <td>{if item.is_in_grace_period { "yes" } else { "no" }}</td>
                            <td>{reason.unwrap_or_else(|| "—".into())}</td>
                            <td><code>{item.store_transaction_id.unwrap_or_else(|| "—".into())}</code></td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="card" aria-labelledby="subscriptions-heading">
            <h2 id="subscriptions-heading">"Subscriptions " <span class="count">{count}</span></h2>
            <Pager listing=listing page=page noun="subscriptions" />
            <div class="table-wrap" hidden=move || listing.with(|l| l.matching == 0) tabindex="0" role="region" aria-label="Subscriptions table">
                <table>
                    <thead><tr>
                        <th scope="col">"State"</th><th scope="col">"Store"</th><th scope="col">"Product"</th>
                        <th scope="col">"Base plan"</th><th scope="col">"Offer"</th><th scope="col">"Environment"</th>
                        <SortHeader order=order />
                        <th scope="col">"Originally purchased"</th><th scope="col">"Expires"</th>
                        <th scope="col">"Renewal cancelled"</th><th scope="col">"Billing issue"</th>
                        <th scope="col">"Grace period"</th><th scope="col">"Cancellation reason"</th>
                        <th scope="col">"Transaction"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
pub fn Purchases(
    found: Arc<Fetched>,
    clock: Signal<Clock>,
    filter: RwSignal<String>,
    hide_sandbox: RwSignal<bool>,
) -> impl IntoView {
    let order = RwSignal::new(Order::NewestFirst);
    let page = RwSignal::new(0);
    let listing = paged(
        |f| &f.profile.non_subscriptions,
        found.clone(),
        filter,
        hide_sandbox,
        order,
        page,
    );
    let count = format::thousands(found.profile.non_subscriptions.len() as u64);
    let rows = move || {
        let clock = clock.get();
        listing.with(|listing| {
            listing
                .rows
                .iter()
                .map(|&index| {
                    let item = found.profile.non_subscriptions[index].clone();
                    let sandbox = crate::status::is_sandbox(item.environment.as_deref());
                    let marks = [
                        (item.is_refund, "Refunded", "badge tone-bad"),
                        (item.is_consumable, "Consumable", "badge flag"),
                        (sandbox, "Sandbox", "badge flag"),
                    ]
                    .into_iter()
                    .filter(|(set, _, _)| *set)
                    .map(|(_, label, class)| view! { <span class=class>{label}</span> })
                    .collect_view();
                    view! {
                        <tr class:refunded=item.is_refund>
                            <td>{format::store(&item.store)}</td>
                            <td><code>{item.store_product_id}</code></td>
                            <td>{item.store_base_plan_id.unwrap_or_else(|| "—".into())}</td>
                            <td>{item.environment.unwrap_or_else(|| "—".into())}</td>
                            <td><When at=item.purchased_at clock=clock /></td>
                            <td class="badges">{marks}</td>
                            <td><code>{item.store_transaction_id.unwrap_or_else(|| "—".into())}</code></td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="card" aria-labelledby="purchases-heading">
            <h2 id="purchases-heading">"Purchases " <span class="count">{count}</span></h2>
            <Pager listing=listing page=page noun="purchases" />
            <div class="table-wrap" hidden=move || listing.with(|l| l.matching == 0) tabindex="0" role="region" aria-label="Purchases table">
                <table>
                    <thead><tr>
                        <th scope="col">"Store"</th><th scope="col">"Product"</th><th scope="col">"Base plan"</th>
                        <th scope="col">"Environment"</th><SortHeader order=order /><th scope="col">"Marks"</th>
                        <th scope="col">"Transaction"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// The "Purchased" column header, which flips the order.
#[component]
fn SortHeader(order: RwSignal<Order>) -> impl IntoView {
    view! {
        <th scope="col" aria-sort=move || match order.get() {
            Order::NewestFirst => "descending",
            Order::OldestFirst => "ascending",
        }>
            <button type="button" class="sort" on:click=move |_| order.update(|o| *o = o.flipped())>
                "Purchased "
                {move || match order.get() {
                    Order::NewestFirst => "↓ newest first",
                    Order::OldestFirst => "↑ oldest first",
                }}
            </button>
        </th>
    }
}

/// "Showing 51–100 of 8,000 purchases", with previous and next.
#[component]
fn Pager(listing: Memo<Page>, page: RwSignal<usize>, noun: &'static str) -> impl IntoView {
    let summary = move || {
        listing.with(|listing| {
            let matching = format::thousands(listing.matching as u64);
            let total = format::thousands(listing.total as u64);
            let of = if listing.matching == listing.total {
                format!("{total} {noun}")
            } else {
                format!("{matching} matching of {total} {noun}")
            };
            match listing.range() {
                Some((first, last)) => format!(
                    "Showing {}–{} of {of}",
                    format::thousands(first as u64),
                    format::thousands(last as u64)
                ),
                None if listing.total == 0 => format!("No {noun}."),
                None => format!("No {noun} match ({total} in all)."),
            }
        })
    };
    let more_than_one = move || listing.with(|listing| listing.pages > 1);
    view! {
        <div class="pager">
            <span class="pager-summary" aria-live="polite">{summary}</span>
            <Show when=more_than_one>
                <button type="button" class="secondary" disabled=move || listing.with(|l| l.page == 0)
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
                <span class="muted">{move || listing.with(|l| format!("page {} of {}", l.page + 1, l.pages))}</span>
                <button type="button" class="secondary" disabled=move || listing.with(|l| l.page + 1 >= l.pages)
                    on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
            </Show>
        </div>
    }
}
