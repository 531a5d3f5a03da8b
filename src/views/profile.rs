//! A found profile: who it is and the headline, then what they have; the
//! page ages with it while it is open.
//!
//! Written for weight as the notes are: the profile's own markup (the
//! summary, the access levels, the attributes, the raw response) is
//! constant, its values go in as text (`browser::add`, `browser::set`),
//! never as markup, once it is on the page and again when the clock, the
//! data's age, *Hide sandbox* or the dashboard link change; its buttons'
//! clicks are read in one place (`clicked`). Only the filter, the history
//! and the long tables are Leptos views with signals.

use super::access;
use super::change::{Desk, What};
use super::events::{history_section, Follow};
use super::history::{history, show_row, TableView};
use super::notes::notes_section;
use crate::browser;
use crate::cells::{self, PURCHASES, SUBSCRIPTIONS};
use crate::change::Action;
use crate::events::Item;
use crate::explain;
use crate::feed::Feed;
use crate::format::{self, Clock};
use crate::freshness;
use crate::handoff;
use crate::lookup::Lookup;
use crate::transport::Fetched;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::Cell as StdCell;
use std::sync::Arc;
use wasm_bindgen::JsValue;

/// The customer user ID's value, its text written in; and the line
/// that says there is none.
const CUSTOMER: &str = r#"<code></code><button type="button" class="copy" aria-label="Copy customer user ID">Copy</button>"#;
const ANONYMOUS: &str = r#"<span class="absent">none (anonymous profile)</span>"#;

/// How often the page looks at the time. Cheap (one comparison) unless
/// something it shows reads differently by then; a few seconds late is
/// unseen in phrases of whole minutes.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);

/// `clock` is only read below the app: it is passed as the app's own
/// `RwSignal` because every other wrapper type would add wasm. While the
/// profile is shown, its `now` moves on whenever a date the profile shows
/// reads differently (`freshness`). `look_up` looks the customer up again.
#[component]
pub fn ProfileView(
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    dashboard: RwSignal<String>,
    desk: Desk,
    look_up: impl Fn(Lookup) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    // Shared by the lists below, and kept while the zone toggles or a
    // date passes.
    let filter = RwSignal::new(String::new());
    let hide_sandbox = RwSignal::new(false);
    // Each long table's order, quick filter and page. A new filter starts
    // them again at the first page.
    let (subscriptions, purchases) = (TableView::new(), TableView::new());
    let first_pages = move || {
        subscriptions.page.set(0);
        purchases.page.set(0);
    };
    // The present for the data's age and the note that it is old: moves
    // on each time they read differently, so every minute at first. Kept
    // as a clock and a count, kinds of reactive value the panel has anyway
    // (each new kind adds wasm).
    let age = RwSignal::new(clock.get_untracked());
    // How many of the profile's dates have passed: what is laid out once
    // for a moment (the history's events, the quick filters) is laid out
    // again when one more has, and only then.
    let turns = RwSignal::new(freshness::passed(&found.profile, clock.get_untracked().now));
    keep_time(found.clone(), clock, age, turns);
    let lists = {
        let found = found.clone();
        move || {
            // Read to be drawn again when it changes (`get`, not `track`,
            // which would add its own code for this kind of signal).
            let _passed = turns.get();
            // "Now" is the latest moment a date passed; the zone toggle keeps it.
            let now = clock.get_untracked().now;
            view! {
                {history_section(found.clone(), clock, hide_sandbox, follow(found.clone(), now, filter, hide_sandbox, subscriptions, purchases))}
                {history(&SUBSCRIPTIONS, found.clone(), clock, filter, hide_sandbox, subscriptions)}
                {history(&PURCHASES, found.clone(), clock, filter, hide_sandbox, purchases)}
            }
            // One kind of view redrawn: lighter in the wasm than this one's own.
            .into_any()
        }
    };
    // The summary and the access levels, drawn again when what they read
    // changes; the first time, once they are on the page.
    let summary = {
        let found = found.clone();
        let mut first = true;
        move || {
            let (now, aged, hide, link) =
                (clock.get(), age.get(), hide_sandbox.get(), dashboard.get());
            let found = found.clone();
            on_page(&mut first, move |first| {
                draw(&found, &now, &aged, hide, &link, first)
            });
        }
    };
    let levels = {
        let found = found.clone();
        let mut first = true;
        move || {
            let (now, hide) = (clock.get(), hide_sandbox.get());
            let found = found.clone();
            on_page(&mut first, move |_| access::draw(&found, &now, hide));
        }
    };
    let attributes = {
        let seen = matches!(&found.feed, Feed::Page(page) if page.email.is_some());
        found.app.can_edit_profile || seen || !found.profile.custom_attributes.is_empty()
    };
    let on_click = {
        let found = found.clone();
        move |event: web_sys::MouseEvent| clicked(&found, desk, clock, &look_up, &event)
    };
    // Answers change without a word while the page is open: they speak
    // when they arrive (the result is a live region), not every minute.
    view! {
        <article class="profile" aria-labelledby="result-heading" aria-live="off" on:click=on_click
            on:input=move |event| {
                let target: JsValue = event.target().map(JsValue::from).unwrap_or_default();
                if browser::property(&target, "id") == "row-filter" {
                    filter.set(browser::property(&target, "value"));
                    first_pages();
                }
            }
            on:change=move |event| {
                let target: JsValue = event.target().map(JsValue::from).unwrap_or_default();
                if browser::property(&target, "id") == "hide-sandbox" {
                    hide_sandbox.update(|hide| *hide = !*hide);
                    first_pages();
                }
            }>
            <section class="summary">
                <div id="stale" class="stale" role="status" hidden>
                    <p></p>
                    <button type="button" class="secondary">"Look again"</button>
                </div>
                <p class="app-name" hidden></p>
                <h2 id="result-heading" tabindex="-1"></h2>
                <div class="actions handoff">
                    // The name says what the button shows, "Copied" included
                    // (WCAG 2.5.3: a spoken command must match the visible text).
                    <button type="button" class="copy" aria-label="Copy summary">"Copy summary"</button>
                </div>
                {notes_section(&found, clock)}
                <dl>
                    <div><dt>"Customer user ID"</dt><dd></dd></div>
                    <div>
                        <dt>"Profile ID"</dt>
                        <dd><code></code><button type="button" class="copy" aria-label="Copy profile ID">"Copy"</button></dd>
                    </div>
                    <div><dt>"App ID"</dt><dd><code></code></dd></div>
                    <div><dt>"Total revenue"</dt><dd class="revenue"></dd></div>
                    <div><dt></dt><dd id="data-time"></dd></div>
                </dl>
            </section>
            // Its fields are written from their signals where those change
            // elsewhere (`follow`, `fill`), their events read on the article.
            <div class="toolbar" role="group" aria-label="Filter the lists">
                <label class="filter">
                    <span>"Filter by ID, product, store, state or mark (e.g. refund, sandbox)"</span>
                    <input type="search" id="row-filter" autocomplete="off" spellcheck="false" />
                </label>
                <label class="choice">
                    <input type="checkbox" id="hide-sandbox" />
                    "Hide sandbox"
                </label>
            </div>
            <section class="card" aria-labelledby="access-heading">
                <h2 id="access-heading">"Access levels " <span class="count"></span></h2>
            </section>
            {lists}
            {attributes.then(|| view! {
                <section class="card" aria-labelledby="attributes-heading">
                    <h2 id="attributes-heading">"Custom attributes " <span class="count"></span></h2>
                    <dl class="attributes"></dl>
                    <p id="email-seen" hidden></p>
                    <p class="muted" hidden>"Adapty keeps the email, phone number and names, but never shows them back."</p>
                </section>
            })}
            // The exact response, shown only when opened: a big profile is megabytes.
            <section class="card raw" aria-labelledby="raw-heading">
                <h2 id="raw-heading">"Raw response"</h2>
                <div class="actions">
                    <button type="button" class="secondary">"Download JSON"</button>
                    <span class="muted"></span>
                </div>
                <details><summary>"Show the exact JSON from Adapty"</summary></details>
            </section>
            {summary}
            {levels}
        </article>
    }
}

/// Runs `draw` now, or, its first time, once the view built with it is on
/// the page: its elements are found by ID, and until then the IDs are the
/// previous profile's, if any. `draw` is told whether it is the first time.
pub(super) fn on_page(first: &mut bool, draw: impl FnOnce(bool) + 'static) {
    if std::mem::take(first) {
        spawn_local(async move { draw(true) });
    } else {
        draw(false);
    }
}

/// Looks at the time every `HEARTBEAT` while the profile is shown, and
/// moves `clock` on when the profile reads differently (counting in
/// `turns` the dates that have passed), `age` when the data's age or the
/// note does (`freshness`).
fn keep_time(
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    age: RwSignal<Clock>,
    turns: RwSignal<usize>,
) {
    let received = found.received;
    let data_time = found.profile.produced_at(received).unwrap_or(received);
    let start = clock.get_untracked().now;
    let next_turn = StdCell::new(freshness::next_turn(&found.profile, start));
    let next_age = StdCell::new(freshness::next_age_change(data_time, received, start));
    let beat = set_interval_with_handle(
        move || {
            let now = browser::clock(false).now;
            let turned = next_turn.get().is_some_and(|at| now >= at);
            if turned {
                clock.update(|clock| clock.now = now);
                next_turn.set(freshness::next_turn(&found.profile, now));
                let passed = freshness::passed(&found.profile, now);
                if passed != turns.get_untracked() {
                    turns.set(passed);
                }
            }
            if turned || now >= next_age.get() {
                age.update(|age| age.now = now);
                next_age.set(freshness::next_age_change(data_time, received, now));
            }
        },
        HEARTBEAT,
    );
    on_cleanup(move || {
        if let Ok(beat) = beat {
            beat.clear();
        }
    });
}

/// An event's link brings its row or card on screen and focuses it.
fn follow(
    found: Arc<Fetched>,
    now: DateTime<Utc>,
    filter: RwSignal<String>,
    hide_sandbox: RwSignal<bool>,
    subscriptions: TableView,
    purchases: TableView,
) -> Follow {
    Arc::new(move |item: Item| {
        let profile = &found.profile;
        match item {
            Item::Subscription(index) => show_row(
                &SUBSCRIPTIONS,
                profile,
                now,
                index,
                filter,
                hide_sandbox,
                subscriptions,
                purchases,
            ),
            Item::Purchase(index) => show_row(
                &PURCHASES,
                profile,
                now,
                index,
                filter,
                hide_sandbox,
                purchases,
                subscriptions,
            ),
            Item::AccessLevel(_) => {}
        }
        // The toolbar shows what `show_row` set.
        show_toolbar(&filter.get_untracked(), hide_sandbox.get_untracked());
        // Once the row is on screen: focus scrolls it into view.
        let anchor = item.anchor();
        request_animation_frame(move || browser::focus(&anchor));
    })
}

/// Writes the filter and *Hide sandbox* into the toolbar.
fn show_toolbar(filter: &str, hide_sandbox: bool) {
    browser::set_value("row-filter", filter);
    let hide = if hide_sandbox { "true" } else { "" };
    browser::set_properties(&browser::by_id("hide-sandbox"), &[("checked", hide)]);
}

/// Who the customer is and the answer in a line: the headline, the
/// tab's title, the note that the data is old, its age and the dashboard
/// link are written again each time; the rest, and the profile's other
/// constant parts, only the `first` time. Only text changes, so the
/// buttons keep focus while the page ages.
fn draw(
    found: &Fetched,
    clock: &Clock,
    age: &Clock,
    hide_sandbox: bool,
    dashboard: &str,
    first: bool,
) {
    let profile = &found.profile;
    let received = found.received;
    if first {
        fill(found, clock);
    }
    let headline = explain::headline(profile, clock, hide_sandbox);
    // The tab's title follows the headline.
    browser::set_title(&handoff::tab_title(profile, &headline, &found.app.name));
    browser::set_properties(
        &browser::by_id("result-heading"),
        &[
            ("className", &["headline ", headline.tone.class()].concat()),
            ("textContent", &headline.text),
        ],
    );
    // The clock of the data's age: the zone of the page, the moment of `age`.
    let aged = Clock {
        now: age.now,
        ..*clock
    };
    let note = freshness::note(profile, received, &aged);
    browser::set_hidden("stale", note.is_none());
    let stale = browser::by_id("stale");
    browser::set_properties(
        &browser::get(&stale, "firstElementChild"),
        &[("textContent", &note.unwrap_or_default())],
    );
    browser::set_html("data-time", "");
    super::cell::write_cell(
        &browser::by_id("data-time"),
        &cells::data_time(profile, received, &aged).1,
    );
    // Once there is a dashboard link, and only once.
    let handoff = browser::after("result-heading");
    let linked = browser::get(&handoff, "childElementCount").as_f64() != Some(1.0);
    if !dashboard.is_empty() && !linked {
        browser::add_with_properties(
            &handoff,
            "a",
            &[
                ("className", "button"),
                (
                    "href",
                    &handoff::dashboard_link(dashboard, &profile.profile_id),
                ),
                ("target", "_blank"),
                ("rel", "noreferrer"),
                ("textContent", "Open in Adapty"),
            ],
        );
    }
}

/// What does not change while the profile is shown: the app's name, the
/// IDs and the revenue, the custom attributes, the raw response's size,
/// *Edit* and *Erase* where this person may.
fn fill(found: &Fetched, clock: &Clock) {
    let profile = &found.profile;
    let name = &found.app.name;
    browser::set_properties(
        &browser::after("stale"),
        &[
            ("textContent", name),
            ("hidden", if name.is_empty() { "hidden" } else { "" }),
        ],
    );
    // A change made shows its profile in these same elements, its lists
    // unfiltered.
    show_toolbar("", false);
    // The IDs, the revenue and the data's time, in the summary's list.
    let text =
        |element: &JsValue, text: &str| browser::set_properties(element, &[("textContent", text)]);
    let next = |element: &JsValue| browser::get(element, "nextElementSibling");
    let value = |row: &JsValue| browser::get(row, "lastElementChild");
    let first = |element: &JsValue| browser::get(element, "firstElementChild");
    let customer = first(&browser::after("notes"));
    let id = value(&customer);
    match &profile.customer_user_id {
        Some(customer_user_id) => {
            browser::set_properties(&id, &[("innerHTML", CUSTOMER)]);
            text(&first(&id), customer_user_id);
        }
        None => browser::set_properties(&id, &[("innerHTML", ANONYMOUS)]),
    }
    let profile_id = next(&customer);
    text(&first(&value(&profile_id)), &profile.profile_id);
    let app_id = next(&profile_id);
    text(&first(&value(&app_id)), &profile.app_id);
    let revenue = next(&app_id);
    text(&value(&revenue), &format::usd(profile.total_revenue_usd));
    let (fetched, _) = cells::data_time(profile, found.received, clock);
    text(&first(&next(&revenue)), fetched);

    attributes(found);
    let size = format::thousands(found.body.len() as u64) + " bytes";
    let actions = browser::after("raw-heading");
    browser::set_properties(
        &browser::get(&actions, "lastElementChild"),
        &[("textContent", &size)],
    );
    // Closed, or open without the previous JSON, as before the change.
    browser::set_properties(
        &browser::get(&actions, "nextElementSibling"),
        &[(
            "innerHTML",
            "<summary>Show the exact JSON from Adapty</summary>",
        )],
    );
    if found.app.can_erase && !browser::by_id("erase-customer").is_object() {
        let article = browser::get(&browser::get(&actions, "parentNode"), "parentNode");
        // Erasing cannot be undone: its button looks like it.
        super::change::dialog_button(&article, "danger", "erase-customer", "Erase customer…");
    }
}

/// The custom attributes, and what the relay's store knows of the
/// contact details Adapty keeps but never shows back; with the right,
/// *Edit* corrects both. Their section is there only when it has
/// something to say (`ProfileView`).
fn attributes(found: &Fetched) {
    let attributes = &found.profile.custom_attributes;
    let heading = browser::by_id("attributes-heading");
    if !heading.is_object() {
        return;
    }
    browser::set_properties(
        &browser::get(&heading, "lastElementChild"),
        &[("textContent", &attributes.len().to_string())],
    );
    let list = browser::after("attributes-heading");
    browser::set_properties(&list, &[("innerHTML", "")]);
    for attribute in attributes {
        let row = browser::add_with_properties(&list, "div", &[]);
        browser::add_with_properties(&row, "dt", &[("textContent", &attribute.key)]);
        browser::add_with_properties(&row, "dd", &[("textContent", &attribute.value.to_string())]);
    }
    // Said only when known (a hidden empty slot is still an empty slot).
    let seen = match &found.feed {
        Feed::Page(page) => page.email.as_deref(),
        _ => None,
    };
    let said = seen.map(|email| ["Email, last seen in Adapty's events: ", email].concat());
    browser::set_text("email-seen", said.as_deref().unwrap_or_default());
    browser::set_hidden("email-seen", said.is_none());
    let may_edit = found.app.can_edit_profile;
    let muted = browser::after("email-seen");
    browser::set_properties(&muted, &[("hidden", if may_edit { "" } else { "hidden" })]);
    if may_edit && !browser::by_id("edit-profile").is_object() {
        let section = browser::get(&muted, "parentNode");
        super::change::dialog_button(
            &section,
            "secondary",
            "edit-profile",
            "Edit attributes and contact details",
        );
    }
}

/// A click in the profile: on one of its buttons (the change dialog's,
/// a copy, *Look again*, *Download JSON*), or on the raw response's
/// summary, which shows the JSON the first time it opens.
fn clicked(
    found: &Arc<Fetched>,
    desk: Desk,
    clock: RwSignal<Clock>,
    look_up: &dyn Fn(Lookup),
    event: &web_sys::MouseEvent,
) {
    let target: JsValue = event.target().map(JsValue::from).unwrap_or_default();
    if browser::property(&target, "tagName") == "SUMMARY" {
        let details = browser::get(&target, "parentNode");
        if browser::get(&details, "childElementCount").as_f64() == Some(1.0) {
            browser::add_with_properties(
                &details,
                "pre",
                &[("className", "json"), ("textContent", &found.body)],
            );
        }
        return;
    }
    let button = browser::button_of(event);
    let id = browser::property(&button, "id");
    let level = |prefix: &str| id.strip_prefix(prefix)?.parse::<usize>().ok();
    let change = match id.as_str() {
        "grant-access" => Some((What::Access(Action::Grant), None)),
        "edit-profile" => Some((What::Correct, None)),
        "erase-customer" => Some((What::Erase, None)),
        _ => match (level("extend-"), level("revoke-")) {
            (Some(index), _) => Some((What::Access(Action::Extend), Some(index))),
            (_, Some(index)) => Some((What::Access(Action::Revoke), Some(index))),
            _ => None,
        },
    };
    if let Some((what, level)) = change {
        return desk.open(found, what, level, &id);
    }
    let profile = &found.profile;
    let again = || handoff::customer(profile, &found.app.id);
    let name = browser::property(&button, "ariaLabel");
    let copy = name.strip_prefix("Copy ").or(name.strip_prefix("Copied "));
    if let Some(what) = copy {
        let text = match what {
            "summary" => {
                let link = browser::page_address() + &handoff::panel_query(&again());
                let clock = clock.get_untracked();
                handoff::summary(profile, &found.app.name, &link, found.received, &clock)
            }
            "profile ID" => profile.profile_id.clone(),
            _ => profile.customer_user_id.clone().unwrap_or_default(),
        };
        browser::copy_to_clipboard(&text);
        let label = if what == "summary" {
            "Copy summary"
        } else {
            "Copy"
        };
        let [copied, name] = [["Copied ", what].concat(), ["Copy ", what].concat()];
        browser::set_properties(
            &button,
            &[("aria-label", &copied), ("textContent", "Copied")],
        );
        set_timeout(
            move || {
                browser::set_properties(&button, &[("aria-label", &name), ("textContent", label)])
            },
            std::time::Duration::from_secs(2),
        );
        return;
    }
    match browser::property(&button, "textContent").as_str() {
        "Look again" => look_up(again()),
        "Download JSON" => {
            let file_name = ["adapty-profile-", &profile.profile_id, ".json"].concat();
            browser::download(&file_name, &found.body, "application/json");
        }
        _ => {}
    }
}
