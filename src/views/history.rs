//! Subscriptions and purchases as tables: newest first, sortable by purchase
//! date, filtered and paged by `listing`, so thousands of rows stay smooth.
//! What each cell and row detail says comes from `cells`; one component
//! renders both tables. Below 700 px each row is a card (style/main.css).

use super::cell::{cell_content, details_list};
use crate::cells::{Cell, Table};
use crate::format::{self, Clock};
use crate::listing::{self, Order, Page, Row};
use crate::transport::Fetched;
use leptos::prelude::*;
use std::sync::Arc;

/// One long table of the profile: its own order, the shared filter, sandbox
/// toggle and page (whoever changes the filter or the toggle sets the page
/// back to the first), and one memoised page of rows.
pub fn history<T: Row + Send + Sync + 'static>(
    table: &'static Table<T>,
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    filter: RwSignal<String>,
    hide_sandbox: RwSignal<bool>,
    page: RwSignal<usize>,
) -> impl IntoView {
    let order = RwSignal::new(Order::NewestFirst);
    let listing = {
        let found = found.clone();
        Memo::new(move |_| {
            let view = listing::View {
                filter: filter.get(),
                hide_sandbox: hide_sandbox.get(),
                order: order.get(),
                page: page.get(),
            };
            listing::page((table.items)(&found.profile), &view)
        })
    };
    let total = (table.items)(&found.profile).len();
    let rows: Rows = Arc::new(move || {
        let clock = clock.get();
        let items = (table.items)(&found.profile);
        listing.with(|listing| {
            listing
                .rows
                .iter()
                .map(|&index| {
                    let item = &items[index];
                    ((table.row)(item, &clock), (table.details)(item, &clock))
                })
                .collect()
        })
    });
    view! {
        <HistoryTable title=table.title noun=table.noun total=total columns=table.columns
            sort_column=table.sort_column listing=listing order=order page=page rows=rows />
    }
}

/// The cells of the rows on screen, each with its detail; reading it tracks
/// the page, the order, the filter and the clock.
type Rows = Arc<dyn Fn() -> Vec<(Vec<Cell>, Vec<(&'static str, Cell)>)> + Send + Sync>;

#[component]
fn HistoryTable(
    title: &'static str,
    noun: &'static str,
    total: usize,
    columns: &'static [&'static str],
    sort_column: usize,
    listing: Memo<Page>,
    order: RwSignal<Order>,
    page: RwSignal<usize>,
    rows: Rows,
) -> impl IntoView {
    let heading = format!("{noun}-heading");
    let labelled_by = heading.clone();
    let headers = columns
        .iter()
        .enumerate()
        .map(|(index, name)| {
            if index == sort_column {
                view! { <SortHeader order=order page=page /> }.into_any()
            } else {
                view! { <th scope="col">{*name}</th> }.into_any()
            }
        })
        .collect_view();
    // A row opens its detail on a click anywhere in it, or with the
    // disclosure button in its first cell (Enter or Space: the button's
    // click bubbles to the row). Each row keeps its own open state, so
    // opening one re-renders nothing else and focus stays where it is.
    let body = move || {
        rows()
            .into_iter()
            .map(|(row, details)| {
                let open = RwSignal::new(false);
                let cells = row
                    .into_iter()
                    .zip(columns)
                    .enumerate()
                    .map(|(index, (cell, label))| {
                        let disclosure = (index == 0).then(|| {
                            view! {
                                <button type="button" class="disclosure" aria-label="Details"
                                    aria-expanded=move || open.get().to_string()></button>
                            }
                        });
                        view! { <td data-label=*label>{disclosure}{cell_content(cell)}</td> }
                    })
                    .collect_view();
                view! {
                    <tr on:click=move |_| open.update(|open| *open = !*open)>{cells}</tr>
                    {move || open.get().then(|| view! {
                        <tr class="row-detail">
                            <td colspan=columns.len()>{details_list(details.clone())}</td>
                        </tr>
                    })}
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=heading>{title} " " <span class="count">{format::thousands(total as u64)}</span></h2>
            <Pager listing=listing page=page noun=noun />
            <div class="table-wrap" hidden=move || listing.with(|l| l.matching == 0) tabindex="0" role="region"
                aria-label=format!("{title} table")>
                <table>
                    <thead><tr>{headers}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        </section>
    }
}

/// The "Purchased" column header, which flips the order.
#[component]
fn SortHeader(order: RwSignal<Order>, page: RwSignal<usize>) -> impl IntoView {
    let newest = move || order.get() == Order::NewestFirst;
    view! {
        <th scope="col" aria-sort=move || if newest() { "descending" } else { "ascending" }>
            <button type="button" class="sort" on:click=move |_| {
                order.update(|o| *o = o.flipped());
                page.set(0);
            }>
                {move || if newest() { "Purchased ↓ newest first" } else { "Purchased ↑ oldest first" }}
            </button>
        </th>
    }
}

/// "Showing 51–100 of 8,000 purchases", with previous and next.
#[component]
fn Pager(listing: Memo<Page>, page: RwSignal<usize>, noun: &'static str) -> impl IntoView {
    let summary = move || listing.with(|listing| listing::summary(listing, noun));
    let more_than_one = move || listing.with(|listing| listing.pages > 1);
    view! {
        <div class="pager">
            <span class="pager-summary" aria-live="polite">{summary}</span>
            <span class="pager-pages" hidden=move || !more_than_one()>
                <button type="button" class="secondary" disabled=move || listing.with(|l| l.page == 0)
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
                <span class="muted">{move || listing.with(|l| format!("page {} of {}", l.page + 1, l.pages))}</span>
                <button type="button" class="secondary" disabled=move || listing.with(|l| l.page + 1 >= l.pages)
                    on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
            </span>
        </div>
    }
}
