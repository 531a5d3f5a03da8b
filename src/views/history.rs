//! Subscriptions and purchases as tables: newest first, sortable by purchase
//! (and expiry) date, narrowed by quick filters and the filter box, paged by
//! `listing`, so thousands of rows stay smooth. What each cell and row
//! detail says comes from `cells`; one component renders both tables.
//! Below 700 px each row is a card (style/main.css).

use super::cell::{write_cell, write_details};
use crate::browser;
use crate::cells::{Cell, Table};
use crate::format::{self, Clock};
use crate::listing::{self, Page, Quick, Row, Sort, SortKey};
use crate::model::Profile;
use crate::transport::Fetched;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wasm_bindgen::JsValue;

/// What one long table shows besides the shared filter box and sandbox
/// toggle. The profile holds it, so that a link from the history can bring
/// a row on screen (`show_row`).
///
/// Plain numbers, since every other kind of reactive value adds wasm: the
/// order as a number (`order`), and two places counted from one, 0
/// meaning none.
#[derive(Clone, Copy)]
pub struct TableView {
    /// The order, as a number (`order`).
    pub sort: RwSignal<usize>,
    /// Which quick filter is pressed: its place among the table's, plus one.
    pub chosen: RwSignal<usize>,
    pub page: RwSignal<usize>,
    /// The row a history link asked for, plus one: it opens.
    pub linked: RwSignal<usize>,
}

impl TableView {
    pub fn new() -> TableView {
        TableView {
            sort: RwSignal::new(0),
            chosen: RwSignal::new(0),
            page: RwSignal::new(0),
            linked: RwSignal::new(0),
        }
    }
}

/// One long table of the profile: its own sort, quick filter and page, the
/// shared filter and sandbox toggle (whoever changes what is shown sets the
/// page back to the first), and its page of rows.
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
    let listing: Listing = {
        let (found, quick) = (found.clone(), quick.clone());
        Arc::new(move || {
            let view = listing::View {
                filter: filter.get(),
                quick: chosen(&quick, shown.chosen.get()),
                hide_sandbox: hide_sandbox.get(),
                sort: order(shown.sort.get()),
                page: shown.page.get(),
            };
            listing::page((table.items)(&found.profile), &view, now)
        })
    };
    let rows: Rows = Arc::new(move |page: &Page| {
        let clock = clock.get();
        let items = (table.items)(&found.profile);
        page.rows
            .iter()
            .map(|&index| {
                let item = &items[index];
                let cells = (table.row)(item, &clock);
                (index, cells, (table.details)(item, &clock))
            })
            .collect()
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
        sort: order(shown.sort.get_untracked()),
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

/// The order a table's number stands for: by purchase date (0, 1), by
/// expiry (2, 3) or by a bulk check's state (4, 5), newest first when
/// even (0, the default, newest purchase first).
pub(super) fn order(number: usize) -> Sort {
    let key = match number / 2 {
        0 => SortKey::Purchased,
        1 => SortKey::Expires,
        _ => SortKey::State,
    };
    Sort {
        key,
        newest_first: number.is_multiple_of(2),
    }
}

/// The number of an order (`order`).
pub(super) fn number(sort: Sort) -> usize {
    let key = match sort.key {
        SortKey::Purchased => 0,
        SortKey::Expires => 1,
        SortKey::State => 2,
    };
    key * 2 + usize::from(!sort.newest_first)
}

/// The quick filter at `place` (counted from one) among `quick`, if any.
fn chosen(quick: &[(Quick, usize)], place: usize) -> Option<Quick> {
    let (filter, _) = quick.get(place.checked_sub(1)?)?;
    Some(filter.clone())
}

/// The card of one long table. Not generic, unlike `history`: it exists
/// once in the wasm for both tables.
///
/// Written for weight as the notes are: the card's frame is one constant
/// string, then everything in it is written with `browser` as text,
/// never markup, drawn again (`draw`) whenever what it shows changes, the
/// rows' open state in a plain cell (`CARDS`). One click listener on the
/// card serves every button and row. What stays on screen is kept and
/// changed in place (the summary is a live region; a pressed button
/// keeps focus); only the rows are written anew, focus given back.
#[allow(clippy::too_many_arguments)]
#[component]
pub(super) fn HistoryCard(
    title: &'static str,
    noun: &'static str,
    columns: &'static [&'static str],
    sortable: &'static [(usize, SortKey)],
    total: usize,
    quick: Arc<[(Quick, usize)]>,
    listing: Listing,
    shown: TableView,
    rows: Rows,
) -> impl IntoView {
    let TableView {
        sort,
        chosen,
        page,
        linked,
    } = shown;
    let words = Words {
        title,
        noun,
        columns,
        sortable,
    };
    // A new card (a new customer, a date passed) starts with its rows
    // closed, and what the card it replaces had still to draw is not drawn.
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    CARDS.with_borrow_mut(|cards| {
        cards.retain(|card| card.words.noun != noun);
        cards.push(Drawn {
            serial,
            words,
            total,
            quick,
            framed: false,
            opened: Vec::new(),
            linked: 0,
            rows: Vec::new(),
            at: 0,
            pages: 0,
        });
    });
    // Reads all that the card shows, so it runs again when any of it
    // changes; draws once the card is in the page (a microtask later,
    // still before the next frame and a history link's focus).
    let redraw = move || {
        let listing = listing();
        let drawing = Drawing {
            serial,
            sort: order(sort.get()),
            chosen: chosen.get(),
            linked: linked.get(),
            rows: rows(&listing),
            page: listing,
        };
        leptos::task::spawn_local(async move { draw(drawing) });
    };
    let on_click = move |event: leptos::ev::MouseEvent| {
        if browser::clicked_in(&event, "a[href]").is_some() {
            // A link in a cell (a bulk check's customer) opens, and only that.
        } else if let Some((row, _)) = browser::clicked_in(&event, "tr[id]") {
            // A click anywhere in a row, or its disclosure button (Enter
            // or Space: the button's click bubbles to the row).
            toggle(noun, &row);
        } else if let Some((_, place)) = browser::clicked_in(&event, "button.chip") {
            let pressed = chosen.get_untracked() == place + 1;
            chosen.set(if pressed { 0 } else { place + 1 });
            page.set(0);
        } else if let Some((label, _)) = browser::clicked_in(&event, ".pager button") {
            let (at, pages) = CARDS.with_borrow(|cards| {
                let card = cards.iter().find(|card| card.words.noun == noun);
                card.map_or((0, 0), |card| (card.at, card.pages))
            });
            page.set(match label.as_str() {
                "First" => 0,
                "Previous" => at.saturating_sub(1),
                "Next" => at + 1,
                _ => pages.saturating_sub(1),
            });
        } else if let Some((_, column)) = browser::clicked_in(&event, "button.sort")
            .and_then(|_| browser::clicked_in(&event, "th"))
        {
            if let Some(&(_, key)) = sortable.iter().find(|(sorted, _)| *sorted == column) {
                sort.set(number(order(sort.get_untracked()).by(key)));
                page.set(0);
            }
        }
    };
    view! {
        <section class="card" id=noun on:click=on_click>
            {redraw}
        </section>
    }
}

/// The page of rows on screen and how many there are; reading it tracks
/// the page, the order and the filters.
pub(super) type Listing = Arc<dyn Fn() -> Page + Send + Sync>;

/// The rows of a page (`Listing`), each with its index in the profile's
/// list, its cells and its detail; reading it tracks the clock.
pub(super) type Rows = Arc<dyn Fn(&Page) -> Vec<TableRow> + Send + Sync>;

/// A row's index in the profile's list, its cells and its detail.
pub(super) type TableRow = (usize, Vec<Cell>, Vec<(&'static str, Cell)>);

/// A table's own words: constants of `cells::Table`.
#[derive(Clone, Copy)]
struct Words {
    title: &'static str,
    noun: &'static str,
    columns: &'static [&'static str],
    sortable: &'static [(usize, SortKey)],
}

/// What one drawing of a card shows.
struct Drawing {
    /// The card's own number (`Drawn::serial`).
    serial: usize,
    /// The page of rows shown, as `listing` counts it.
    page: Page,
    sort: Sort,
    chosen: usize,
    linked: usize,
    rows: Vec<TableRow>,
}

/// A card as drawn, for a row's click to open or close it.
struct Drawn {
    /// Told apart from the card of the same noun it replaced.
    serial: usize,
    words: Words,
    total: usize,
    quick: Arc<[(Quick, usize)]>,
    /// Whether the card's frame, its quick filters and headers are written.
    framed: bool,
    /// The rows opened, by index in the profile's list: they stay open when
    /// the rows are drawn again (the page's time moving on, the zone).
    opened: Vec<usize>,
    /// The row a history link asked for, plus one: it is open.
    linked: usize,
    rows: Vec<TableRow>,
    /// The page shown (from 0) and how many there are, for the pagers.
    at: usize,
    pages: usize,
}

/// The number of the next card made.
static SERIAL: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The cards on screen. A plain cell: a reactive value would cost wasm.
    static CARDS: RefCell<Vec<Drawn>> = const { RefCell::new(Vec::new()) };
}

/// The frame of a card: heading, quick filters, summary, a pager above and
/// below the table. Constant markup; the words go in as text (`frame`).
const FRAME: &str = concat!(
    r#"<h2></h2><div class="quick" role="group"></div><p class="pager-summary" aria-live="polite"></p>"#,
    r#"<div class="pager"><button type="button" class="secondary">First</button><button type="button" class="secondary">Previous</button><span class="muted"></span><button type="button" class="secondary">Next</button><button type="button" class="secondary">Last</button></div>"#,
    r#"<div class="table-wrap" tabindex="0" role="region"><table><thead><tr></tr></thead><tbody></tbody></table></div>"#,
    r#"<div class="pager"><button type="button" class="secondary">First</button><button type="button" class="secondary">Previous</button><span class="muted"></span><button type="button" class="secondary">Next</button><button type="button" class="secondary">Last</button></div>"#,
);

/// The two pagers, above and below the table.
const PAGERS: [&str; 2] = [".pager", ".table-wrap + .pager"];

/// Writes the card as `drawing` reads, if it is on screen.
fn draw(drawing: Drawing) {
    let words = CARDS.with_borrow_mut(|cards| {
        let card = cards
            .iter_mut()
            .find(|card| card.serial == drawing.serial)?;
        card.linked = drawing.linked;
        card.rows = drawing.rows;
        (card.at, card.pages) = (drawing.page.page, drawing.page.pages);
        if !std::mem::replace(&mut card.framed, true) {
            frame(card.words, card.total, &card.quick);
        }
        Some(card.words)
    });
    let Some(words) = words else {
        return;
    };
    let noun = words.noun;
    browser::set(
        &browser::find(noun, ".pager-summary"),
        &[("textContent", &listing::summary(&drawing.page, noun))],
    );
    let Page { page, pages, .. } = drawing.page;
    let label = format!("Page {} of {}", page + 1, pages);
    let first = aria_bool(page == 0);
    let last = aria_bool(page + 1 >= pages);
    for pager in PAGERS {
        let pager = browser::find(noun, pager);
        browser::set(&pager, &[("hidden", aria_bool(pages < 2))]);
        let parts = [
            ("disabled", first),
            ("disabled", first),
            ("textContent", &label),
            ("disabled", last),
            ("disabled", last),
        ];
        for (part, property) in browser::children(&pager).iter().zip(parts) {
            browser::set(part, &[property]);
        }
    }
    browser::set(
        &browser::find(noun, ".table-wrap"),
        &[("hidden", aria_bool(drawing.page.matching == 0))],
    );
    let chips = browser::children(&browser::find(noun, ".quick"));
    for (place, chip) in chips.iter().enumerate() {
        let pressed = aria_bool(drawing.chosen == place + 1);
        browser::set(chip, &[("aria-pressed", pressed)]);
    }
    // A date column's header: pressed, it sorts by that date, newest
    // first, and pressed again, oldest first.
    let headers = browser::children(&browser::find(noun, "thead tr"));
    for &(column, key) in words.sortable {
        let (Some(header), Some(name)) = (headers.get(column), words.columns.get(column)) else {
            continue;
        };
        let (state, arrow) = match (drawing.sort.key == key, drawing.sort.newest_first) {
            (false, _) => ("none", ""),
            (true, true) => ("descending", " ↓"),
            (true, false) => ("ascending", " ↑"),
        };
        browser::set(header, &[("aria-sort", state)]);
        for button in browser::children(header) {
            browser::set(&button, &[("textContent", &[name, arrow].concat())]);
        }
    }
    draw_rows(noun);
}

/// Writes a card's frame: its heading, quick filters and headers.
fn frame(words: Words, total: usize, quick: &[(Quick, usize)]) {
    let Words {
        title,
        noun,
        columns,
        sortable,
    } = words;
    browser::set_html(noun, FRAME);
    let heading = browser::find(noun, "h2");
    let id = [noun, "-heading"].concat();
    browser::set(&browser::find(noun, ""), &[("aria-labelledby", &id)]);
    browser::set(
        &heading,
        &[("id", &id), ("textContent", &[title, " "].concat())],
    );
    count(&heading, total);
    let label = ["Quick filters for ", noun].concat();
    let chips = browser::find(noun, ".quick");
    browser::set(
        &chips,
        &[
            ("aria-label", &label),
            ("hidden", aria_bool(quick.is_empty())),
        ],
    );
    for (filter, total) in quick {
        let text = [filter.label().as_str(), " "].concat();
        let chip = browser::add(
            &chips,
            "button",
            &[
                ("type", "button"),
                ("class", "chip"),
                ("textContent", &text),
            ],
        );
        count(&chip, *total);
    }
    let label = [title, " table"].concat();
    browser::set(
        &browser::find(noun, ".table-wrap"),
        &[("aria-label", &label)],
    );
    let headers = browser::find(noun, "thead tr");
    for (column, name) in columns.iter().enumerate() {
        let sorts = sortable.iter().any(|&(sorted, _)| sorted == column);
        let text = if sorts { "" } else { name };
        let header = browser::add(&headers, "th", &[("scope", "col"), ("textContent", text)]);
        if sorts {
            browser::add(&header, "button", &[("type", "button"), ("class", "sort")]);
        }
    }
}

/// A count after a label: "Refunded 83".
fn count(parent: &JsValue, count: usize) {
    let text = format::thousands(count as u64);
    browser::add(
        parent,
        "span",
        &[("class", "count"), ("textContent", &text)],
    );
}

/// Writes a card's rows again, each with its detail if open. A row a
/// history link asked for starts open; its id (`events::Item::anchor`)
/// lets the link focus it. Focus in a row stays there.
fn draw_rows(noun: &'static str) {
    // A row of the other table keeps its focus anyway: focused again, as
    // it is, nothing changes.
    let focus = browser::focus_within("tr[id]");
    let body = browser::find(noun, "tbody");
    browser::set(&body, &[("textContent", "")]);
    CARDS.with_borrow(|cards| {
        let Some(card) = cards.iter().find(|card| card.words.noun == noun) else {
            return;
        };
        for (index, cells, details) in &card.rows {
            let open = is_open(card, *index);
            let id = format!("{noun}-{index}");
            let row = browser::add(&body, "tr", &[("id", &id), ("tabindex", "-1")]);
            for (place, (cell, label)) in cells.iter().zip(card.words.columns).enumerate() {
                let data = browser::add(&row, "td", &[("data-label", label)]);
                if place == 0 {
                    let disclosure = [
                        ("type", "button"),
                        ("class", "disclosure"),
                        ("aria-label", "Details"),
                        ("aria-expanded", aria_bool(open)),
                    ];
                    browser::add(&data, "button", &disclosure);
                }
                write_cell(&data, cell);
            }
            if open {
                detail(&row, card.words.columns, details);
            }
        }
    });
    if let Some((row, itself)) = focus {
        browser::focus_again(&row, if itself { "" } else { "button" });
    }
}

/// A row's detail, right after it, across all its columns.
fn detail(row: &JsValue, columns: &[&str], fields: &[(&str, Cell)]) {
    let detail = browser::add_after(row, "tr", &[("class", "row-detail")]);
    let span = columns.len().to_string();
    write_details(&browser::add(&detail, "td", &[("colspan", &span)]), fields);
}

fn is_open(card: &Drawn, index: usize) -> bool {
    card.opened.contains(&index) || card.linked == index + 1
}

/// Opens or closes the card's row with this ID (`purchases-12`). Nothing
/// else is drawn again, so focus stays where it is.
fn toggle(noun: &'static str, id: &str) {
    CARDS.with_borrow_mut(|cards| {
        let Some(card) = cards.iter_mut().find(|card| card.words.noun == noun) else {
            return;
        };
        let row = |(index, ..): &TableRow| format!("{noun}-{index}") == id;
        let Some(index) = card.rows.iter().position(row) else {
            return;
        };
        let (index, _, fields) = &card.rows[index];
        let index = *index;
        let open = !is_open(card, index);
        card.opened.retain(|&row| row != index);
        if open {
            card.opened.push(index);
        } else if card.linked == index + 1 {
            // Closed until the rows are drawn again, as before.
            card.linked = 0;
        }
        let expanded = ("aria-expanded", aria_bool(open));
        browser::set(&browser::find(id, "button"), &[expanded]);
        match open {
            true => detail(&browser::find(id, ""), card.words.columns, fields),
            false => browser::remove(&browser::find(noun, &["#", id, " + .row-detail"].concat())),
        }
    });
}

/// "true" or "false" for an ARIA state (and `browser::set`'s flags), as
/// one static string type.
fn aria_bool(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}
