//! The lookup form: which app (when the relay serves several), what the
//! text is (one kind of ID, or, when the relay keeps a store, anything it
//! searches), the text, a button, and this tab's recent lookups for a
//! quick return; and the customers a search found, to pick from.

use super::profile::on_page;
use crate::browser;
use crate::lookup::{IdKind, Lookup};
use crate::search::Choice;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::feed::SEARCH_LIMIT;
use std::sync::Arc;
use wasm_bindgen::JsValue;

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
    // The form's state written into its constant markup, the first time
    // once it is on the page; the recent lookups likewise.
    let state = {
        let mut first = true;
        move || {
            let (searching, kind, store, busy) = (searching.get(), kind.get(), store.get(), busy());
            let text = text.get();
            on_page(&mut first, move |_| {
                draw(searching, kind, store, busy, &text)
            });
        }
    };
    let recent_lookups = {
        let mut first = true;
        move || {
            let list = recent.get();
            on_page(&mut first, move |_| draw_recent(&list));
        }
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
            // A kind chosen (the app picker's changes are read at submit).
            on:change=move |event| {
                let target: JsValue = event.target().map(JsValue::from).unwrap_or_default();
                if browser::property(&target, "name") != "id-kind" {
                    return;
                }
                let chosen = browser::property(&target, "value");
                for choice in [IdKind::CustomerUserId, IdKind::ProfileId] {
                    if chosen == choice.param() {
                        kind.set(choice);
                    }
                }
                searching.set(chosen == protocol::param::QUERY);
            }
            on:input=move |event| {
                let target: JsValue = event.target().map(JsValue::from).unwrap_or_default();
                if browser::property(&target, "id") == "lookup-id" {
                    text.set(browser::property(&target, "value"));
                }
            }
        >
            // Filled, and shown when there are several apps, once the session is known:
            // a field as plain to see as the ID's, its label above it, as the kinds' is.
            // "Choose an app" shows only when a link named an app the relay does not serve.
            // The select's ID is APP_PICKER.
            <label id="app-pick" class="app-pick" hidden>
                <span>"App"</span>
                <select id="lookup-app"><option value="" disabled hidden>"Choose an app"</option></select>
            </label>
            // Literals, for constant markup: each choice's value is its
            // `IdKind::param` or `param::QUERY`, the search's label `SEARCH_CHOICE`.
            <fieldset class="kinds">
                <legend>"Find the customer by"</legend>
                <label class="choice" hidden>
                    <input type="radio" name="id-kind" value="q" />
                    "Email, transaction ID or ID"
                </label>
                <label class="choice">
                    <input type="radio" name="id-kind" value="customer_user_id" />
                    "Customer user ID"
                </label>
                <label class="choice">
                    <input type="radio" name="id-kind" value="profile_id" />
                    "Adapty profile ID"
                </label>
            </fieldset>
            <div class="query">
                <label for="lookup-id" class="visually-hidden"></label>
                <input id="lookup-id" name="id" type="search" required autocomplete="off" spellcheck="false" />
                <button type="submit">"Look up"</button>
            </div>
        </form>
        <nav class="recent" aria-label="Recent lookups in this tab" hidden
            on:click=move |event| {
                // After the title, the buttons in the list's order.
                let place = super::error::place(&browser::button_of(&event));
                if let Some(lookup) = recent.with_untracked(|list| list.get(place.wrapping_sub(1)).cloned()) {
                    on_pick(lookup);
                }
            }>
            <span class="recent-title">"Recent:"</span>
        </nav>
        {state}
        {recent_lookups}
    }
}

/// The form as its signals say: which kind is chosen, whether the search
/// is offered, the field's label, placeholder and text, and the button
/// while a lookup is on its way.
fn draw(searching: bool, kind: IdKind, store: bool, busy: bool, text: &str) {
    let flag = |on: bool| if on { "true" } else { "" };
    let field = browser::by_id("lookup-id");
    let (label, placeholder) = match (searching, kind) {
        (true, _) => (
            "Email, transaction ID, customer user ID or profile ID",
            "e.g. ann@example.com, or an order ID from a receipt",
        ),
        (false, IdKind::CustomerUserId) => (
            "Customer user ID",
            "e.g. 77B14FB4-FD2A-4D38-AA3A-4C433F79863C",
        ),
        (false, IdKind::ProfileId) => (
            "Adapty profile ID",
            "e.g. d8533a10-bcce-4e33-8c9d-88b05ac56559",
        ),
    };
    browser::set_properties(&field, &[("placeholder", placeholder)]);
    // Only when it differs: typing is not interrupted.
    if browser::property(&field, "value") != text {
        browser::set_properties(&field, &[("value", text)]);
    }
    let label_of = browser::get(&field, "previousElementSibling");
    browser::set_properties(&label_of, &[("textContent", label)]);
    browser::set_properties(
        &browser::get(&field, "nextElementSibling"),
        &[
            ("disabled", flag(busy)),
            ("textContent", if busy { "Looking up…" } else { "Look up" }),
        ],
    );
    let kinds = browser::after("app-pick");
    let search = browser::get(
        &browser::get(&kinds, "firstElementChild"),
        "nextElementSibling",
    );
    browser::set_properties(&search, &[("hidden", flag(!store))]);
    let customer = browser::get(&search, "nextElementSibling");
    let profile = browser::get(&customer, "nextElementSibling");
    for (choice, checked) in [
        (search, searching),
        (customer, !searching && kind == IdKind::CustomerUserId),
        (profile, !searching && kind == IdKind::ProfileId),
    ] {
        browser::set_properties(
            &browser::get(&choice, "firstElementChild"),
            &[("checked", flag(checked))],
        );
    }
}

/// This tab's recent lookups, each a button; none, no list.
fn draw_recent(recent: &[Lookup]) {
    let form = browser::get(&browser::by_id("app-pick"), "parentNode");
    let nav = browser::get(&form, "nextElementSibling");
    browser::set_properties(
        &nav,
        &[
            ("hidden", if recent.is_empty() { "true" } else { "" }),
            ("innerHTML", r#"<span class="recent-title">Recent:</span>"#),
        ],
    );
    for lookup in recent {
        let title = ["Look up ", lookup.kind.label(), " ", &lookup.id].concat();
        // The app's ID before the customer's, when there are several
        // (with one, the leading space is not shown).
        let label = [&lookup.app, " ", &lookup.id].concat();
        browser::add_with_properties(
            &nav,
            "button",
            &[
                ("type", "button"),
                ("className", "link"),
                ("title", &title),
                ("textContent", &label),
            ],
        );
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
                if let Some(choice) = choices.get(super::error::place(&line)) {
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
    browser::set_properties(&hint, &[("textContent", &text)]);
    let list = browser::get(&hint, "nextElementSibling");
    browser::set_properties(&list, &[("innerHTML", "")]);
    for choice in choices {
        let line = browser::add_with_properties(&list, "li", &[]);
        let button = browser::add_with_properties(
            &line,
            "button",
            &[("type", "button"), ("className", "match")],
        );
        browser::add_with_properties(
            &button,
            "span",
            &[("className", "match-email"), ("textContent", &choice.email)],
        );
        let customer =
            browser::add_with_properties(&button, "span", &[("textContent", "Customer user ID: ")]);
        browser::add_with_properties(
            &customer,
            "code",
            &[("textContent", &choice.customer_user_id)],
        );
        let seen = ["Last seen ", &choice.last_seen].concat();
        browser::add_with_properties(
            &button,
            "span",
            &[("className", "muted"), ("textContent", &seen)],
        );
        let found = ["Found by ", &choice.matched, ", profile ID "].concat();
        let found = browser::add_with_properties(
            &button,
            "span",
            &[("className", "muted"), ("textContent", &found)],
        );
        browser::add_with_properties(&found, "code", &[("textContent", &choice.profile_id)]);
    }
}
