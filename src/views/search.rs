//! The lookup form: which app (when the relay serves several), what the
//! text is (one kind of ID, or, when the relay keeps a store, anything it
//! searches), the text, a button, and this tab's recent lookups for a
//! quick return; and the customers a search found, to pick from.

use crate::browser;
use crate::lookup::{IdKind, Lookup, SEARCH_CHOICE};
use crate::search::Choice;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::feed::SEARCH_LIMIT;
use std::sync::Arc;

/// The app picker's element ID: its value is the app a lookup asks.
pub const APP_PICKER: &str = "lookup-app";

#[component]
pub fn LookupForm(
    kind: RwSignal<IdKind>,
    text: RwSignal<String>,
    /// The search choice is taken: the text is searched, not looked up.
    searching: RwSignal<bool>,
    /// The relay keeps a store: the search choice is offered.
    store: RwSignal<bool>,
    busy: impl Fn() -> bool + Copy + Send + Sync + 'static,
    on_submit: impl Fn() + Copy + Send + Sync + 'static,
    recent: RwSignal<Vec<Lookup>>,
    on_pick: impl Fn(Lookup) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let kind_choice = move |value: IdKind, label: &'static str| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="id-kind"
                    value=value.param()
                    prop:checked=move || !searching.get() && kind.get() == value
                    on:change=move |_| {
                        kind.set(value);
                        searching.set(false);
                    }
                />
                {label}
            </label>
        }
    };
    let label = move || match (searching.get(), kind.get()) {
        (true, _) => "Email, transaction ID, customer user ID or profile ID",
        (false, IdKind::ProfileId) => "Adapty profile ID",
        (false, IdKind::CustomerUserId) => "Customer user ID",
    };
    view! {
        <form
            class="lookup"
            role="search"
            aria-label="Look up a customer"
            on:submit=move |event| {
                event.prevent_default();
                on_submit();
            }
        >
            // Filled, and shown when there are several apps, once the session is known:
            // a field as plain to see as the ID's, its label above it, as the kinds' is.
            // "Choose an app" shows only when a link named an app the relay does not serve.
            <label id="app-pick" class="app-pick" hidden>
                <span>"App"</span>
                <select id=APP_PICKER><option value="" disabled hidden>"Choose an app"</option></select>
            </label>
            <fieldset class="kinds">
                <legend>"Find the customer by"</legend>
                <label class="choice" hidden=move || !store.get()>
                    <input type="radio" name="id-kind" value=protocol::param::QUERY
                        prop:checked=move || searching.get() on:change=move |_| searching.set(true) />
                    {SEARCH_CHOICE}
                </label>
                {kind_choice(IdKind::CustomerUserId, "Customer user ID")}
                {kind_choice(IdKind::ProfileId, "Adapty profile ID")}
            </fieldset>
            <div class="query">
                <label for="lookup-id" class="visually-hidden">{label}</label>
                <input
                    id="lookup-id"
                    name="id"
                    type="search"
                    required
                    autocomplete="off"
                    spellcheck="false"
                    placeholder=move || match (searching.get(), kind.get()) {
                        (true, _) => "e.g. ann@example.com, or an order ID from a receipt",
                        (false, IdKind::CustomerUserId) => "e.g. 77B14FB4-FD2A-4D38-AA3A-4C433F79863C",
                        (false, IdKind::ProfileId) => "e.g. d8533a10-bcce-4e33-8c9d-88b05ac56559",
                    }
                    prop:value=move || text.get()
                    on:input=move |event| text.set(event_target_value(&event))
                />
                <button type="submit" disabled=busy>
                    {move || if busy() { "Looking up…" } else { "Look up" }}
                </button>
            </div>
        </form>
        <nav class="recent" aria-label="Recent lookups in this tab" hidden=move || recent.with(Vec::is_empty)>
            <span class="recent-title">"Recent:"</span>
            {move || {
                recent
                    .get()
                    .into_iter()
                    .map(|lookup| {
                        let title = format!("Look up {} {}", lookup.kind.label(), lookup.id);
                        // The app's ID before the customer's, when there are several
                        // (with one, the leading space is not shown).
                        let label = format!("{} {}", lookup.app, lookup.id);
                        view! {
                            <button type="button" class="link" title=title on:click=move |_| on_pick(lookup.clone())>
                                {label}
                            </button>
                        }
                    })
                    .collect_view()
            }}
        </nav>
    }
}

/// The customers a search found, most recently seen first: each a button
/// that opens them. Written as the notes are: constant markup, the
/// customers' details written in as text once it is on the page, one
/// click handler for the list.
#[component]
pub fn Matches(
    typed: String,
    choices: Arc<[Choice]>,
    on_pick: impl Fn(Lookup) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let heading = format!("{} customers match \u{201c}{typed}\u{201d}", choices.len());
    let shown = choices.clone();
    spawn_local(async move { fill(&heading, &shown) });
    view! {
        <section class="card" aria-labelledby="matches-heading">
            <h2 id="matches-heading" tabindex="-1"></h2>
            <p class="hint">"Pick the customer the ticket is about."</p>
            <ul class="matches" on:click=move |event| {
                let line = browser::get(&browser::button_of(&event), "parentNode");
                let mut place = 0;
                let mut before = browser::get(&line, "previousElementSibling");
                while before.is_object() {
                    place += 1;
                    before = browser::get(&before, "previousElementSibling");
                }
                if let (true, Some(choice)) = (line.is_object(), choices.get(place)) {
                    on_pick(choice.lookup.clone());
                }
            }></ul>
        </section>
    }
}

/// Writes the heading and each customer once the list is on the page.
fn fill(heading: &str, choices: &[Choice]) {
    browser::set_text("matches-heading", heading);
    // The store answers at most this many: there may be more.
    let more = match choices.len() >= SEARCH_LIMIT {
        true => " These are the most recently seen; there may be more: search by something more specific.",
        false => "",
    };
    let hint = browser::after("matches-heading");
    let text = ["Pick the customer the ticket is about.", more].concat();
    browser::set(&hint, &[("textContent", &text)]);
    let list = browser::get(&hint, "nextElementSibling");
    browser::set(&list, &[("innerHTML", "")]);
    for choice in choices {
        let line = browser::add(&list, "li", &[]);
        let button = browser::add(
            &line,
            "button",
            &[("type", "button"), ("className", "match")],
        );
        browser::add(
            &button,
            "span",
            &[("className", "match-email"), ("textContent", &choice.email)],
        );
        let customer = browser::add(&button, "span", &[("textContent", "Customer user ID: ")]);
        browser::add(
            &customer,
            "code",
            &[("textContent", &choice.customer_user_id)],
        );
        let seen = ["Last seen ", &choice.last_seen].concat();
        browser::add(
            &button,
            "span",
            &[("className", "muted"), ("textContent", &seen)],
        );
        let found = ["Found by ", &choice.matched, ", profile ID "].concat();
        let found = browser::add(
            &button,
            "span",
            &[("className", "muted"), ("textContent", &found)],
        );
        browser::add(&found, "code", &[("textContent", &choice.profile_id)]);
    }
}
