//! A found profile: who it is and the headline, then what they have.

use super::access::AccessLevels;
use super::cell::cell_content;
use super::change::Desk;
use super::events::{history_section, Follow};
use super::history::{history, show_row, TableView};
use crate::browser;
use crate::cells::{self, PURCHASES, SUBSCRIPTIONS};
use crate::events::{self, Item};
use crate::explain;
use crate::format::{self, Clock};
use crate::handoff;
use crate::transport::Fetched;
use leptos::prelude::*;
use std::sync::Arc;

/// `clock` is only read below the app: it is passed as the app's own
/// `RwSignal` because every other wrapper type would add wasm.
#[component]
pub fn ProfileView(
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    dashboard: RwSignal<String>,
    desk: Desk,
) -> impl IntoView {
    // Shared by the lists below, and kept while the zone toggles.
    let filter = RwSignal::new(String::new());
    let hide_sandbox = RwSignal::new(false);
    // Each long table's order, quick filter and page. A new filter starts
    // them again at the first page.
    let (subscriptions, purchases) = (TableView::new(), TableView::new());
    let first_pages = move || {
        subscriptions.page.set(0);
        purchases.page.set(0);
    };
    // "Now" is the moment the profile arrived; the zone toggle keeps it.
    let now = clock.get_untracked().now;
    let history_events = events::history(&found.profile, now).into();
    // An event's link brings its row or card on screen and focuses it.
    let follow: Follow = {
        let found = found.clone();
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
    };
    let summary = found.clone();
    view! {
        <article class="profile" aria-labelledby="result-heading">
            {move || view! {
                <Summary found=summary.clone() clock=clock.get() hide_sandbox=hide_sandbox.get()
                    dashboard=dashboard.get() />
            }}
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
            {history_section(history_events, clock, hide_sandbox, follow)}
            {history(&SUBSCRIPTIONS, found.clone(), clock, filter, hide_sandbox, subscriptions)}
            {history(&PURCHASES, found.clone(), clock, filter, hide_sandbox, purchases)}
            <Attributes found=found.clone() />
            <RawJson found=found />
        </article>
    }
}

#[component]
fn Summary(
    found: Arc<Fetched>,
    clock: Clock,
    hide_sandbox: bool,
    dashboard: String,
) -> impl IntoView {
    let profile = &found.profile;
    let headline = explain::headline(profile, &clock, hide_sandbox);
    // The tab's title follows the headline, as this summary does.
    browser::set_title(&handoff::tab_title(profile, &headline, &found.app.name));
    let open_in_adapty = (!dashboard.is_empty()).then(|| {
        let href = handoff::dashboard_link(&dashboard, &profile.profile_id);
        view! { <a class="button" href=href target="_blank" rel="noreferrer">"Open in Adapty"</a> }
    });
    let customer = match &profile.customer_user_id {
        Some(id) => view! { <code>{id.clone()}</code> <CopyButton text=id.clone() what="customer user ID" label="Copy" /> }.into_any(),
        None => view! { <span class="absent">"none (anonymous profile)"</span> }.into_any(),
    };
    let (fetched_label, fetched) = cells::data_time(profile, &clock);
    let fetched = cell_content(fetched);
    view! {
        <section class="summary">
            <p class="app-name" hidden=found.app.name.is_empty()>{found.app.name.clone()}</p>
            <h2 id="result-heading" tabindex="-1" class=format!("headline {}", headline.tone.class())>{headline.text}</h2>
            <div class="actions handoff">
                <CopyButton text=handoff::summary(profile, &clock) what="summary" label="Copy summary" />
                {open_in_adapty}
            </div>
            <dl>
                <div><dt>"Customer user ID"</dt><dd>{customer}</dd></div>
                <div>
                    <dt>"Profile ID"</dt>
                    <dd><code>{profile.profile_id.clone()}</code> <CopyButton text=profile.profile_id.clone() what="profile ID" label="Copy" /></dd>
                </div>
                <div><dt>"App ID"</dt><dd><code>{profile.app_id.clone()}</code></dd></div>
                <div><dt>"Total revenue"</dt><dd class="revenue">{format::usd(profile.total_revenue_usd)}</dd></div>
                <div><dt>{fetched_label}</dt><dd>{fetched}</dd></div>
            </dl>
        </section>
    }
}

#[component]
fn CopyButton(text: String, what: &'static str, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button
            type="button"
            class="copy"
            // The name says what the button shows, "Copied" included
            // (WCAG 2.5.3: a spoken command must match the visible text).
            aria-label=move || if copied.get() { format!("Copied {what}") } else { format!("Copy {what}") }
            on:click=move |_| {
                browser::copy_to_clipboard(&text);
                copied.set(true);
                set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
            }
        >
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

#[component]
fn Attributes(found: Arc<Fetched>) -> impl IntoView {
    let attributes = &found.profile.custom_attributes;
    (!attributes.is_empty()).then(|| {
        let rows = attributes
            .iter()
            .map(|attribute| {
                let value = attribute.value.to_string();
                view! { <div><dt>{attribute.key.clone()}</dt><dd>{value}</dd></div> }
            })
            .collect_view();
        view! {
            <section class="card" aria-labelledby="attributes-heading">
                <h2 id="attributes-heading">"Custom attributes " <span class="count">{attributes.len()}</span></h2>
                <dl class="attributes">{rows}</dl>
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
                <button type="button" class="secondary" on:click=move |_| browser::download(&file_name, &found.body)>
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
