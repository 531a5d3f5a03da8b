//! Subscriptions and purchases as tables: newest first, sortable by purchase
//! (and expiry) date, narrowed by quick filters and the filter box, paged by
//! `listing`, so thousands of rows stay smooth. What each cell and row
//! detail says comes from `cells`; one component renders both tables.
//! Below 700 px each row is a card (style/main.css).

use super::cell::{cell_content, details_list};
use crate::cells::{Cell, Table};
use crate::format::{self, Clock};
use crate::listing::{self, Page, Quick, Row, Sort, SortKey};
use crate::model::Profile;
use crate::transport::Fetched;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use std::sync::{Arc, Mutex};

/// What one long table shows besides the shared filter box and sandbox
/// toggle. The profile holds it, so that a link from the history can bring
/// a row on screen (`show_row`).
///
/// Two places are counted from one, 0 meaning none: plain numbers, since
/// every other kind of reactive value adds wasm.
#[derive(Clone, Copy)]
pub struct TableView {
    pub sort: RwSignal<Sort>,
    /// Which quick filter is pressed: its place among the table's, plus one.
    pub chosen: RwSignal<usize>,
    pub page: RwSignal<usize>,
    /// The row a history link asked for, plus one: it opens.
    pub linked: RwSignal<usize>,
}

impl TableView {
    pub fn new() -> TableView {
        TableView {
            sort: RwSignal::new(Sort::default()),
            chosen: RwSignal::new(0),
            page: RwSignal::new(0),
            linked: RwSignal::new(0),
        }
    }
}

/// One long table of the profile: its own sort, quick filter and page, the
/// shared filter and sandbox toggle (whoever changes what is shown sets the
/// page back to the first), and one memoised page of rows.
pub fn history<T: Row + Send + Sync + 'static>(
    table: &'static Table<T>,
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    filter: RwSignal<String>,
    hide_sandbox: RwSignal<bool>,
    shown: TableView,
) -> impl IntoView {
    // "Now" is the moment the profile arrived; the zone toggle keeps it.
    let now = clock.get_untracked().now;
    let items = (table.items)(&found.profile);
    let quick: Arc<[(Quick, usize)]> = listing::quick_filters(items, now).into();
    let total = items.len();
    let listing = {
        let (found, quick) = (found.clone(), quick.clone());
        Memo::new(move |_| {
            let view = listing::View {
                filter: filter.get(),
                quick: chosen(&quick, shown.chosen.get()),
                hide_sandbox: hide_sandbox.get(),
                sort: shown.sort.get(),
                page: shown.page.get(),
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
                    let cells = (table.row)(item, &clock);
                    (index, cells, (table.details)(item, &clock))
                })
                .collect()
        })
    });
    view! {
        <HistoryCard title=table.title noun=table.noun columns=table.columns sortable=table.sortable
            total=total quick=quick listing=listing shown=shown rows=rows />
    }
}

/// Brings row `index` of `table` on screen for a history link: clears what
/// hides it, goes to its page and opens it (`listing::reveal`). A change of
/// the shared filters sends `other` table back to its first page, as a new
/// filter does.
#[allow(clippy::too_many_arguments)]
pub fn show_row<T: Row>(
    table: &Table<T>,
    profile: &Profile,
    now: DateTime<Utc>,
    index: usize,
    filter: RwSignal<String>,
    hide_sandbox: RwSignal<bool>,
    shown: TableView,
    other: TableView,
) {
    let items = (table.items)(profile);
    // The same list `history` offers, counted again on this one click.
    let quick = listing::quick_filters(items, now);
    let current = listing::View {
        filter: filter.get_untracked(),
        quick: chosen(&quick, shown.chosen.get_untracked()),
        hide_sandbox: hide_sandbox.get_untracked(),
        sort: shown.sort.get_untracked(),
        page: shown.page.get_untracked(),
    };
    let wanted = listing::reveal(items, &current, now, index);
    if wanted.filter != current.filter || wanted.hide_sandbox != current.hide_sandbox {
        filter.set(wanted.filter);
        hide_sandbox.set(wanted.hide_sandbox);
        other.page.set(0);
    }
    if wanted.quick != current.quick {
        shown.chosen.set(0);
    }
    shown.page.set(wanted.page);
    shown.linked.set(index + 1);
}

/// The quick filter at `place` (counted from one) among `quick`, if any.
fn chosen(quick: &[(Quick, usize)], place: usize) -> Option<Quick> {
    let (filter, _) = quick.get(place.checked_sub(1)?)?;
    Some(filter.clone())
}

/// The card of one long table. Not generic, unlike `history`: its view
/// exists once in the wasm for both tables.
#[component]
pub(super) fn HistoryCard(
    title: &'static str,
    noun: &'static str,
    columns: &'static [&'static str],
    sortable: &'static [(usize, SortKey)],
    total: usize,
    quick: Arc<[(Quick, usize)]>,
    listing: Memo<Page>,
    shown: TableView,
    rows: Rows,
) -> impl IntoView {
    let TableView {
        sort,
        chosen,
        page,
        linked,
    } = shown;
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
            <HistoryTable title=title noun=noun columns=columns sortable=sortable
                listing=listing sort=sort page=page linked=linked rows=rows />
            <Pager listing=listing page=page />
        </section>
    }
}

/// The rows on screen, each with its index in the profile's list, its
/// cells and its detail; reading it tracks the page, the order, the
/// filters and the clock.
type Rows = Arc<dyn Fn() -> Vec<(usize, Vec<Cell>, Vec<(&'static str, Cell)>)> + Send + Sync>;

#[allow(clippy::too_many_arguments)]
#[component]
fn HistoryTable(
    title: &'static str,
    noun: &'static str,
    columns: &'static [&'static str],
    sortable: &'static [(usize, SortKey)],
    listing: Memo<Page>,
    sort: RwSignal<Sort>,
    page: RwSignal<usize>,
    linked: RwSignal<usize>,
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
    // A row a history link asked for starts open; its id
    // (`events::Item::anchor`) lets the link focus it. Rows opened stay
    // open when the rows are drawn again (the page's time moving on, the
    // zone): kept by index in a plain list, not another kind of signal.
    let opened: Arc<Mutex<Vec<usize>>> = Arc::default();
    let body = move || {
        let linked = linked.get();
        rows()
            .into_iter()
            .map(|(index, row, details)| {
                let was_open = opened.lock().is_ok_and(|list| list.contains(&index));
                let open = RwSignal::new(was_open || linked == index + 1);
                let opened = opened.clone();
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
                    <tr id=format!("{noun}-{index}") tabindex="-1"
                        on:click=move |_| {
                            open.update(|open| *open = !*open);
                            if let Ok(mut list) = opened.lock() {
                                list.retain(|&row| row != index);
                                if open.get_untracked() {
                                    list.push(index);
                                }
                            }
                        }>{cells}</tr>
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
