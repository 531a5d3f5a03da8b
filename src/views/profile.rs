//! A found profile: who it is and the headline, then what they have; the
//! page ages with it while it is open.

use super::access::AccessLevels;
use super::cell::cell_content;
use super::change::{Desk, What};
use super::events::{history_section, Follow};
use super::history::{history, show_row, TableView};
use super::notes::notes_section;
use crate::browser;
use crate::cells::{self, PURCHASES, SUBSCRIPTIONS};
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
use std::cell::Cell as StdCell;
use std::sync::Arc;

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
    // Answers change without a word while the page is open: they speak
    // when they arrive (the result is a live region), not every minute.
    view! {
        <article class="profile" aria-labelledby="result-heading" aria-live="off">
            <Summary found=found.clone() clock=clock age=age hide_sandbox=hide_sandbox
                dashboard=dashboard look_up=look_up />
            <div class="toolbar" role="group" aria-label="Filter the lists">
                <label class="filter">
                    <span>"Filter by ID, product, store, state or mark (e.g. refund, sandbox)"</span>
                    <input
                        type="search"
                        id="row-filter"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || filter.get()
                        on:input=move |event| {
                            filter.set(event_target_value(&event));
                            first_pages();
                        }
                    />
                </label>
                <label class="choice">
                    <input type="checkbox" id="hide-sandbox" prop:checked=move || hide_sandbox.get()
                        on:change=move |_| {
                            hide_sandbox.update(|hide| *hide = !*hide);
                            first_pages();
                        } />
                    "Hide sandbox"
                </label>
            </div>
            <AccessLevels found=found.clone() clock=clock hide_sandbox=hide_sandbox desk=desk />
            {lists}
            <Attributes found=found.clone() desk=desk />
            <RawJson found=found.clone() />
            {found.app.can_erase.then(|| desk.opener(&found, What::Erase, "Erase customer…", "erase-customer"))}
        </article>
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
        // Once the row is on screen: focus scrolls it into view.
        let anchor = item.anchor();
        request_animation_frame(move || browser::focus(&anchor));
    })
}

/// Who the customer is and the answer in a line. Only what changes with
/// the time, the zone or *Hide sandbox* is drawn again, so the buttons
/// keep focus while the page ages.
#[component]
fn Summary(
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    age: RwSignal<Clock>,
    hide_sandbox: RwSignal<bool>,
    dashboard: RwSignal<String>,
    look_up: impl Fn(Lookup) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let profile = &found.profile;
    let received = found.received;
    let headline = {
        let found = found.clone();
        move || explain::headline(&found.profile, &clock.get(), hide_sandbox.get())
    };
    let tone = {
        let headline = headline.clone();
        move || format!("headline {}", headline().tone.class())
    };
    let title = {
        let found = found.clone();
        move || {
            let headline = headline();
            // The tab's title follows the headline.
            browser::set_title(&handoff::tab_title(
                &found.profile,
                &headline,
                &found.app.name,
            ));
            headline.text
        }
    };
    // The clock of the data's age: the zone of the page, the moment of `age`.
    let aged = move || Clock {
        now: age.with(|age| age.now),
        ..clock.get()
    };
    let note = {
        let found = found.clone();
        move || freshness::note(&found.profile, received, &aged())
    };
    let fresh = {
        let note = note.clone();
        move || note().is_none()
    };
    let again = handoff::customer(profile, &found.app.id);
    let ticket = {
        let found = found.clone();
        let link = browser::page_address() + &handoff::panel_query(&again);
        Arc::new(move || {
            let profile = &found.profile;
            handoff::summary(
                profile,
                &found.app.name,
                &link,
                received,
                &clock.get_untracked(),
            )
        })
    };
    let open_in_adapty = {
        let id = profile.profile_id.clone();
        move || {
            dashboard.with(|dashboard| (!dashboard.is_empty()).then(|| {
                let href = handoff::dashboard_link(dashboard, &id);
                view! { <a class="button" href=href target="_blank" rel="noreferrer">"Open in Adapty"</a> }
            }))
            .into_any()
        }
    };
    let customer = match &profile.customer_user_id {
        Some(id) => {
            let copied = id.clone();
            view! { <code>{id.clone()}</code> <CopyButton text=Arc::new(move || copied.clone()) what="customer user ID" label="Copy" /> }.into_any()
        }
        None => view! { <span class="absent">"none (anonymous profile)"</span> }.into_any(),
    };
    let profile_id = profile.profile_id.clone();
    let (fetched_label, _) = cells::data_time(profile, received, &clock.get_untracked());
    let fetched = {
        let found = found.clone();
        move || cell_content(cells::data_time(&found.profile, received, &aged()).1)
    };
    view! {
        <section class="summary">
            <div id="stale" class="stale" role="status" hidden=fresh>
                <p>{move || note().unwrap_or_default()}</p>
                <button type="button" class="secondary" on:click=move |_| look_up(again.clone())>
                    "Look again"
                </button>
            </div>
            <p class="app-name" hidden=found.app.name.is_empty()>{found.app.name.clone()}</p>
            <h2 id="result-heading" tabindex="-1" class=tone>{title}</h2>
            <div class="actions handoff">
                <CopyButton text=ticket what="summary" label="Copy summary" />
                {open_in_adapty}
            </div>
            {notes_section(&found, clock)}
            <dl>
                <div><dt>"Customer user ID"</dt><dd>{customer}</dd></div>
                <div>
                    <dt>"Profile ID"</dt>
                    <dd><code>{profile_id.clone()}</code> <CopyButton text=Arc::new(move || profile_id.clone()) what="profile ID" label="Copy" /></dd>
                </div>
                <div><dt>"App ID"</dt><dd><code>{profile.app_id.clone()}</code></dd></div>
                <div><dt>"Total revenue"</dt><dd class="revenue">{format::usd(profile.total_revenue_usd)}</dd></div>
                <div><dt>{fetched_label}</dt><dd id="data-time">{fetched}</dd></div>
            </dl>
        </section>
    }
}

/// What a copy button puts on the clipboard, read when it is pressed.
type CopyText = Arc<dyn Fn() -> String + Send + Sync>;

#[component]
fn CopyButton(text: CopyText, what: &'static str, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button
            type="button"
            class="copy"
            // The name says what the button shows, "Copied" included
            // (WCAG 2.5.3: a spoken command must match the visible text).
            aria-label=move || if copied.get() { format!("Copied {what}") } else { format!("Copy {what}") }
            on:click=move |_| {
                browser::copy_to_clipboard(&text());
                copied.set(true);
                set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
            }
        >
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

/// The custom attributes, and what the relay's store knows of the
/// contact details Adapty keeps but never shows back; with the right,
/// *Edit* corrects both.
#[component]
fn Attributes(found: Arc<Fetched>, desk: Desk) -> impl IntoView {
    let attributes = &found.profile.custom_attributes;
    let may_edit = found.app.can_edit_profile;
    let seen = match &found.feed {
        Feed::Page(page) => page.email.clone(),
        _ => None,
    };
    (may_edit || seen.is_some() || !attributes.is_empty()).then(|| {
        let rows = attributes
            .iter()
            .map(|attribute| {
                let value = attribute.value.to_string();
                view! { <div><dt>{attribute.key.clone()}</dt><dd>{value}</dd></div> }
            })
            .collect_view();
        // Said only when known (a hidden empty slot is still an empty slot).
        let hidden = seen.is_none();
        let seen = seen.map_or_else(String::new, |email| {
            format!("Email, last seen in Adapty's events: {email}")
        });
        view! {
            <section class="card" aria-labelledby="attributes-heading">
                <h2 id="attributes-heading">"Custom attributes " <span class="count">{attributes.len()}</span></h2>
                <dl class="attributes">{rows}</dl>
                <p id="email-seen" hidden=hidden>{seen}</p>
                <p class="muted" hidden=!may_edit>"Adapty keeps the email, phone number and names, but never shows them back."</p>
                {may_edit.then(|| desk.opener(&found, What::Correct, "Edit attributes and contact details", "edit-profile"))}
            </section>
        }
    })
}

/// The exact response, shown only when opened: a big profile is megabytes.
#[component]
fn RawJson(found: Arc<Fetched>) -> impl IntoView {
    let open = RwSignal::new(false);
    let size = format::thousands(found.body.len() as u64);
    let file_name = format!("adapty-profile-{}.json", found.profile.profile_id);
    let body = found.clone();
    view! {
        <section class="card raw" aria-labelledby="raw-heading">
            <h2 id="raw-heading">"Raw response"</h2>
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| browser::download(&file_name, &found.body, "application/json")>
                    "Download JSON"
                </button>
                <span class="muted">{size} " bytes"</span>
            </div>
            <details on:toggle=move |_| open.set(true)>
                <summary>"Show the exact JSON from Adapty"</summary>
                {move || open.get().then(|| view! { <pre class="json">{body.body.clone()}</pre> })}
            </details>
        </section>
    }
}
