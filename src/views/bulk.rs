//! The Bulk check page (`/bulk`, `?app=` for another app): the list, the
//! reason, the run's progress with pause, resume and cancel, the results in
//! the profile's table card, and the CSV export. What it all means is
//! decided in `crate::bulk`.
//!
//! Written for weight, as the change dialog is: the form and the progress
//! are one constant markup string, their values written in as text by ID,
//! one handler for each kind of event; the run lives in a plain cell, and
//! one counter draws the results again (the table card, `listing`, reused).

use super::history::{number, order, HistoryCard, Listing, Rows, TableView};
use crate::browser;
use crate::bulk::{self, Phase, Run};
use crate::change::{self, Failure};
use crate::listing::{self, Sort, SortKey};
use crate::session;
use crate::transport;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

thread_local! {
    /// The run, if any: written as lines come, read when drawn.
    static RUN: RefCell<Run> = const { RefCell::new(Run::NONE) };
    /// The app's ID and name once the session says this person may check.
    /// The app a run asks (empty with one app), and its ID and name for
    /// the export (the one app's, with one).
    static APP: RefCell<(String, String, String)> =
        const { RefCell::new((String::new(), String::new(), String::new())) };
    /// Which request is the current one: lines of an ended one are dropped.
    static REQUEST: Cell<u32> = const { Cell::new(0) };
    /// The most IDs a run may check, as the session says.
    static MOST: Cell<usize> = const { Cell::new(bulk::MAX_IDS) };
    /// When the results were last drawn, in milliseconds.
    static DRAWN: Cell<f64> = const { Cell::new(0.0) };
    /// The quick filters the results offered when last drawn.
    static OFFERED: RefCell<Vec<listing::Quick>> = const { RefCell::new(Vec::new()) };
    /// A CSV file's records, while its column is being picked.
    static FILE: RefCell<Vec<Vec<String>>> = const { RefCell::new(Vec::new()) };
}

/// While a run goes, the results are drawn at most this often (the
/// counts on every line): 5,000 rows sorted again on every line would not be.
const DRAW_EVERY_MS: f64 = 500.0;

/// Constant markup only: nothing from the list, the relay or the person.
const MARKUP: &str = r#"<section class="card bulk"><h2 id="bulk-heading">Bulk check</h2><p class="app-name" id="bulk-app"></p><p id="bulk-denied" class="problem" hidden></p><div id="bulk-form" class="fields" hidden><label for="bulk-ids">IDs, one a line or separated by commas or spaces</label><textarea id="bulk-ids" rows="8"></textarea><label for="bulk-file">Or a CSV file, chosen or dropped here</label><input type="file" id="bulk-file" accept=".csv,.txt"><label for="bulk-column" id="bulk-column-label" hidden>Column</label><select id="bulk-column" hidden></select><span></span><p id="bulk-count" class="muted" aria-live="polite"></p><label for="bulk-reason">Reason (for the audit log)</label><textarea id="bulk-reason" rows="2"></textarea></div><p id="bulk-problem" class="problem" role="alert"></p><div class="actions"><button type="button" id="bulk-start" hidden>Check</button><button type="button" id="bulk-pause" class="secondary" hidden>Pause</button><button type="button" id="bulk-resume" hidden>Resume</button><button type="button" id="bulk-cancel" class="secondary" hidden>Cancel</button><button type="button" id="bulk-export" class="secondary" hidden>Export CSV</button></div><progress id="bulk-bar" value="0" max="1" hidden></progress><p id="bulk-progress" role="status"></p></section><div class="toolbar"><label class="filter"><span>Filter by ID, state, access level or store</span><input type="search" id="bulk-filter"></label></div>"#;

#[component]
pub fn BulkPage() -> impl IntoView {
    // One counter: the results are drawn again when it moves.
    let drawn = RwSignal::new(0_usize);
    let filter = RwSignal::new(String::new());
    // By state, then in the list's order.
    let shown = TableView {
        sort: RwSignal::new(number(Sort {
            key: SortKey::State,
            newest_first: false,
        })),
        chosen: RwSignal::new(0),
        page: RwSignal::new(0),
        linked: RwSignal::new(0),
    };
    browser::set_title("Bulk check · Adapty lookup");

    spawn_local(async {
        // The page is mounted by now: its fixed markup goes in first.
        browser::set_html("bulk-page", MARKUP);
        let found = transport::fetch_session().await;
        let app = session::app_for(&found, &browser::app_in_url());
        let rights = session::app(&found, &app);
        let refused = match session::check_app(&found, &app) {
            Err(error) => Some(error.title()),
            Ok(()) if !rights.can_bulk_check => Some(
                "You may not check many customers at once in this app: ask for the bulk role."
                    .into(),
            ),
            Ok(()) => None,
        };
        browser::set_text("bulk-app", &rights.name);
        browser::set_text("bulk-denied", refused.as_deref().unwrap_or_default());
        browser::set_hidden("bulk-denied", refused.is_none());
        browser::set_hidden("bulk-form", refused.is_some());
        browser::set_hidden("bulk-start", refused.is_some());
        // With one app the request names none, but the export still does.
        let named = found.apps.iter().find(|known| known.id == app);
        let (id, name) = named
            .or(found.apps.first())
            .map(|known| (known.id.clone(), known.name.clone()))
            .unwrap_or_default();
        APP.set((app, id, name));
        MOST.set(bulk::most_ids(found.bulk_max_ids));
    });

    // Leaving mid-run asks first: the run would end with the page.
    let _ = window_event_listener(leptos::ev::beforeunload, |event| {
        if RUN.with_borrow(|run| run.phase == Phase::Running) {
            event.prevent_default();
            event.set_return_value("");
        }
    });

    let on_click = move |event: leptos::ev::MouseEvent| match browser::clicked(&event).as_str() {
        "bulk-start" => start(drawn),
        "bulk-resume" => send(drawn),
        "bulk-pause" => stop(Phase::Paused, drawn),
        "bulk-cancel" => stop(Phase::Cancelled, drawn),
        "bulk-export" => export(),
        _ => {}
    };
    // One handler for every field: `input` comes from file fields and
    // pickers too.
    let on_input = move |event: leptos::ev::Event| match browser::clicked(&event).as_str() {
        "bulk-ids" => {
            count();
        }
        "bulk-file" => read_file(event),
        "bulk-column" => pick_column(),
        "bulk-filter" => {
            filter.set(browser::field_value("bulk-filter"));
            shown.page.set(0);
        }
        _ => {}
    };

    // The page's moment and zone: dates in the rows read from it.
    let clock = browser::clock(false);
    let now = clock.now;
    let listing: Listing = Arc::new(move || {
        drawn.get();
        RUN.with_borrow(|run| {
            // The pressed quick filter among those the card offers, as the
            // results last counted them (not counted again for each page).
            let chosen = shown.chosen.get().checked_sub(1);
            let quick = chosen.and_then(|n| OFFERED.with_borrow(|offered| offered.get(n).cloned()));
            let view = listing::View {
                filter: filter.get(),
                quick,
                hide_sandbox: false,
                sort: order(shown.sort.get()),
                page: shown.page.get(),
            };
            listing::page(&run.rows, &view, now)
        })
    });
    let panel = browser::lookup_page_address();
    let results = move || {
        drawn.get();
        let (total, quick): (usize, Arc<[(listing::Quick, usize)]>) = RUN.with_borrow(|run| {
            (
                run.rows.len(),
                listing::quick_filters(&run.rows, now).into(),
            )
        });
        // New quick filters come as rows do: the pressed one is kept.
        let place = OFFERED.with_borrow(|before| {
            listing::pressed_again(before, shown.chosen.get_untracked(), &quick)
        });
        if place != shown.chosen.get_untracked() {
            shown.chosen.set(place);
        }
        OFFERED.set(quick.iter().map(|(q, _)| q.clone()).collect());
        let panel = panel.clone();
        let rows: Rows = Arc::new(move |page: &listing::Page| {
            let app = APP.with_borrow(|(_, _, name)| name.clone());
            RUN.with_borrow(|run| {
                page.rows
                    .iter()
                    .map(|&n| {
                        let row = &run.rows[n];
                        (
                            n,
                            bulk::cells(row, &clock, &panel),
                            bulk::details(row, &app),
                        )
                    })
                    .collect()
            })
        });
        // One kind of view drawn again, as the profile's lists are.
        if total == 0 {
            return ().into_any();
        }
        view! {
            <HistoryCard title="Results" noun="results" columns=&bulk::COLUMNS
                sortable=&[(1, SortKey::State), (3, SortKey::Expires), (5, SortKey::Purchased)]
                total=total quick=quick listing=listing.clone() shown=shown rows=rows />
        }
        .into_any()
    };

    // The handlers are on the form's part only: `browser::clicked` takes
    // a button without an ID for a row's *Remove*, as the table's are not.
    view! {
        <header class="topbar">
            <span class="brand">"Adapty lookup"</span>
            <a href="./">"Look up a customer"</a>
        </header>
        <main id="main">
            <div id="bulk-page" on:click=on_click on:input=on_input></div>
            {results}
        </main>
    }
}
/// What the paste box holds comes to, said under it.
fn count() -> bulk::Pasted {
    let pasted = bulk::read_pasted(&browser::field_value("bulk-ids"));
    let words = bulk::pasted_words(&pasted, MOST.get());
    browser::set_text("bulk-count", words.as_deref().unwrap_or_else(|why| why));
    pasted
}

/// A chosen or dropped file: its column picked (the one named like an
/// ID), and its values in the paste box.
fn read_file(event: leptos::ev::Event) {
    spawn_local(async move {
        let Some(text) = browser::file_text(&event).await else {
            return;
        };
        let records = bulk::read_csv(&text);
        let (names, pick) = bulk::columns(&records);
        let choices: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), n.as_str())).collect();
        browser::set_html("bulk-column", "");
        browser::add_choices("bulk-column", &choices);
        browser::set_value("bulk-column", &names[pick]);
        browser::set_hidden("bulk-column", names.len() < 2);
        browser::set_hidden("bulk-column-label", names.len() < 2);
        FILE.set(records);
        pick_column();
    });
}

fn pick_column() {
    // By its name (of two columns of one name, the first).
    let picked = browser::field_value("bulk-column");
    let text = FILE.with_borrow(|records| {
        let (names, _) = bulk::columns(records);
        let index = names.iter().position(|name| *name == picked);
        bulk::column(records, index.unwrap_or_default())
    });
    browser::set_value("bulk-ids", &text);
    count();
}

/// *Check*: the list and the reason checked here first, then the run.
fn start(drawn: RwSignal<usize>) {
    let pasted = count();
    let reason = browser::field_value("bulk-reason");
    let problem = match bulk::pasted_words(&pasted, MOST.get()) {
        Err(why) => Some(why),
        Ok(_) => change::reason_problem(&reason),
    };
    browser::set_text("bulk-problem", problem.as_deref().unwrap_or_default());
    if problem.is_some() {
        return;
    }
    let app = APP.with_borrow(|(app, _, _)| app.clone());
    RUN.set(Run::new(&app, pasted.ids, &reason));
    send(drawn);
}

/// Sends the IDs left (all of them at first), and takes the lines as
/// they come.
fn send(drawn: RwSignal<usize>) {
    let request = REQUEST.get() + 1;
    REQUEST.set(request);
    browser::set_text("bulk-problem", "");
    let body = RUN.with_borrow_mut(|run| {
        let ids = run.send();
        run.body(ids)
    });
    show(drawn);
    spawn_local(async move {
        let wanted = move || REQUEST.get() == request;
        let sent = transport::bulk(body, wanted, |lines| {
            if !wanted() {
                return;
            }
            let now = browser::clock(false).now;
            RUN.with_borrow_mut(|run| {
                for line in lines.lines() {
                    run.take(line, now);
                }
            });
            show_progress();
            let at = js_sys::Date::now();
            // Drawn again, the table would take the focus and the open
            // rows of someone reading it: it waits until they leave it.
            let reading = browser::focus_within("#results").is_some();
            if (at - DRAWN.get() >= DRAW_EVERY_MS && !reading)
                || RUN.with_borrow(|run| run.phase == Phase::Done)
            {
                DRAWN.set(at);
                drawn.update(|n| *n += 1);
            }
        })
        .await;
        if REQUEST.get() != request {
            return;
        }
        // Ended without its last line, and not by this page: resumable;
        // refused before anything was checked: as before the run.
        let broke = RUN.with_borrow_mut(|run| {
            let broke = run.phase == Phase::Running;
            if broke {
                run.phase = match (&sent, run.rows.is_empty()) {
                    (Err(_), true) => Phase::Ready,
                    _ => Phase::Paused,
                };
            }
            broke
        });
        let problem = match sent {
            // Its message speaks of a change; nothing changes here.
            Err(Failure::OutcomeUnknown) => {
                "The relay did not answer: Resume checks the IDs left.".into()
            }
            Err(failure) => failure.message(),
            Ok(()) if broke => {
                "The answer broke off before the run ended: Resume checks the IDs left.".into()
            }
            Ok(()) => String::new(),
        };
        browser::set_text("bulk-problem", &problem);
        show(drawn);
    });
}

/// *Pause* or *Cancel*: the request ends, and the relay stops the run;
/// the results stay.
fn stop(phase: Phase, drawn: RwSignal<usize>) {
    RUN.with_borrow_mut(|run| run.phase = phase);
    REQUEST.set(REQUEST.get() + 1);
    transport::stop_bulk();
    show(drawn);
}

fn export() {
    let (_, id, name) = APP.with_borrow(Clone::clone);
    let text = RUN.with_borrow(|run| bulk::csv(run, if name.is_empty() { &id } else { &name }));
    let file = bulk::file_name(&id, browser::clock(true).now);
    browser::download(&file, &text, "text/csv;charset=utf-8");
}

/// The buttons and the progress for where the run is, and the results.
fn show(drawn: RwSignal<usize>) {
    let phase = RUN.with_borrow(|run| run.phase);
    let ended = matches!(phase, Phase::Ready | Phase::Done | Phase::Cancelled);
    browser::set_hidden("bulk-start", !ended);
    browser::set_hidden("bulk-pause", phase != Phase::Running);
    browser::set_hidden("bulk-resume", phase != Phase::Paused);
    browser::set_hidden("bulk-cancel", ended);
    browser::set_hidden("bulk-export", phase == Phase::Ready);
    show_progress();
    drawn.update(|n| *n += 1);
}

fn show_progress() {
    let (words, counts) = RUN.with_borrow(|run| (run.progress_words(), run.counts()));
    browser::set_hidden("bulk-bar", false);
    browser::set_property("bulk-bar", "max", &counts.total.to_string());
    browser::set_value("bulk-bar", &counts.done.to_string());
    browser::set_text("bulk-progress", &words);
}
