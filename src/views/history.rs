//! Subscriptions and purchases as tables: newest first, sortable by purchase
//! (and expiry) date, narrowed by quick filters and the filter box, paged by
//! `listing`, so thousands of rows stay smooth. What each cell and row
//! detail says comes from `cells`; one component renders both tables.
//! Below 700 px each row is a card (style/main.css).

use super::cell::{cell_content, details_list};
use crate::cells::{Cell, Table};
use crate::format::{self, Clock};
use crate::listing::{self, Page, Quick, Row, Sort, SortKey};
use crate::transport::Fetched;
use leptos::prelude::*;
use std::sync::Arc;

/// One long table of the profile: its own sort and quick filter, the shared
/// filter, sandbox toggle and page (whoever changes what is shown sets the
/// page back to the first), and one memoised page of rows.
pub fn history<T: Row + Send + Sync + 'static>(
    table: &'static Table<T>,
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    filter: RwSignal<String>,
    hide_sandbox: RwSignal<bool>,
    page: RwSignal<usize>,
) -> impl IntoView {
    // "Now" is the moment the profile arrived; the zone toggle keeps it.
    let now = clock.get_untracked().now;
    let items = (table.items)(&found.profile);
    let quick: Arc<[(Quick, usize)]> = listing::quick_filters(items, now).into();
    let total = items.len();
    let sort = RwSignal::new(Sort::default());
    // Which quick filter is pressed: its place in `quick`, plus one; 0 for none.
    let chosen = RwSignal::new(0usize);
    let listing = {
        let (found, quick) = (found.clone(), quick.clone());
        Memo::new(move |_| {
            let view = listing::View {
                filter: filter.get(),
                quick: chosen
                    .get()
                    .checked_sub(1)
                    .map(|index| quick[index].0.clone()),
                hide_sandbox: hide_sandbox.get(),
                sort: sort.get(),
                page: page.get(),
            };
            listing::page((table.items)(&found.profile), &view, now)
        })
    };
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
        <HistoryCard title=table.title noun=table.noun columns=table.columns sortable=table.sortable
            total=total quick=quick chosen=chosen listing=listing sort=sort page=page rows=rows />
    }
}

/// The card of one long table. Not generic, unlike `history`: its view
/// exists once in the wasm for both tables.
#[component]
fn HistoryCard(
    title: &'static str,
    noun: &'static str,
    columns: &'static [&'static str],
    sortable: &'static [(usize, SortKey)],
    total: usize,
    quick: Arc<[(Quick, usize)]>,
    chosen: RwSignal<usize>,
    listing: Memo<Page>,
    sort: RwSignal<Sort>,
    page: RwSignal<usize>,
    rows: Rows,
) -> impl IntoView {
    let quick_buttons = quick
        .iter()
        .enumerate()
        .map(|(index, (filter, count))| {
            let pressed = move || chosen.get() == index + 1;
            view! {
                <button type="button" class="chip" aria-pressed=move || aria_bool(pressed())
                    on:click=move |_| {
                        chosen.set(if pressed() { 0 } else { index + 1 });
                        page.set(0);
                    }>
                    {filter.label()} " " <span class="count">{format::thousands(*count as u64)}</span>
                </button>
            }
        })
        .collect_view();
    view! {
        <section class="card" id=noun aria-labelledby=format!("{noun}-heading")>
            <h2 id=format!("{noun}-heading")>
                {title} " " <span class="count">{format::thousands(total as u64)}</span>
            </h2>
            <div class="quick" role="group" aria-label=format!("Quick filters for {noun}") hidden=quick.is_empty()>
                {quick_buttons}
            </div>
            <p class="pager-summary" aria-live="polite">
                {move || listing.with(|listing| listing::summary(listing, noun))}
            </p>
            <Pager listing=listing page=page />
            <HistoryTable title=title columns=columns sortable=sortable
                listing=listing sort=sort page=page rows=rows />
            <Pager listing=listing page=page />
        </section>
    }
}

/// The cells of the rows on screen, each with its detail; reading it tracks
/// the page, the order, the filters and the clock.
type Rows = Arc<dyn Fn() -> Vec<(Vec<Cell>, Vec<(&'static str, Cell)>)> + Send + Sync>;

#[component]
fn HistoryTable(
    title: &'static str,
    columns: &'static [&'static str],
    sortable: &'static [(usize, SortKey)],
    listing: Memo<Page>,
    sort: RwSignal<Sort>,
    page: RwSignal<usize>,
    rows: Rows,
) -> impl IntoView {
    let headers = columns
        .iter()
        .enumerate()
        .map(
            |(index, name)| match sortable.iter().find(|(column, _)| *column == index) {
                Some(&(_, key)) => {
                    view! { <SortHeader name=name key=key sort=sort page=page /> }.into_any()
                }
                None => view! { <th scope="col">{*name}</th> }.into_any(),
            },
        )
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
                                    aria-expanded=move || aria_bool(open.get())></button>
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
        <div class="table-wrap" hidden=move || listing.with(|l| l.matching == 0) tabindex="0" role="region"
            aria-label=format!("{title} table")>
            <table>
                <thead><tr>{headers}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

/// A date column's header: pressed, it sorts by that date, newest first,
/// and pressed again, oldest first.
#[component]
fn SortHeader(
    name: &'static str,
    key: SortKey,
    sort: RwSignal<Sort>,
    page: RwSignal<usize>,
) -> impl IntoView {
    let state = move || {
        let sort = sort.get();
        match (sort.key == key, sort.newest_first) {
            (false, _) => ("none", ""),
            (true, true) => ("descending", " ↓"),
            (true, false) => ("ascending", " ↑"),
        }
    };
    view! {
        <th scope="col" aria-sort=move || state().0>
            <button type="button" class="sort" on:click=move |_| {
                sort.update(|sort| *sort = sort.by(key));
                page.set(0);
            }>
                {name} {move || state().1}
            </button>
        </th>
    }
}

/// First, previous, "Page 2 of 160", next and last; only when there is more
/// than one page.
#[component]
fn Pager(listing: Memo<Page>, page: RwSignal<usize>) -> impl IntoView {
    view! {
        <div class="pager" hidden=move || listing.with(|l| l.pages < 2)>
            {pager_button("First", listing, page, |l| l.page > 0, |_| 0)}
            {pager_button("Previous", listing, page, |l| l.page > 0, |l| l.page - 1)}
            <span class="muted">{move || listing.with(|l| format!("Page {} of {}", l.page + 1, l.pages))}</span>
            {pager_button("Next", listing, page, |l| l.page + 1 < l.pages, |l| l.page + 1)}
            {pager_button("Last", listing, page, |l| l.page + 1 < l.pages, |l| l.pages - 1)}
        </div>
    }
}

/// One pager button: plain function pointers, so all four share one body.
fn pager_button(
    label: &'static str,
    listing: Memo<Page>,
    page: RwSignal<usize>,
    enabled: fn(&Page) -> bool,
    target: fn(&Page) -> usize,
) -> impl IntoView {
    view! {
        <button type="button" class="secondary" disabled=move || !listing.with(enabled)
            on:click=move |_| page.set(listing.with_untracked(target))>{label}</button>
    }
}

/// "true" or "false" for an ARIA state, as one static string type.
fn aria_bool(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}
