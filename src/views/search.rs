//! The lookup form: which app (when the relay serves several), which kind
//! of ID, the ID, a button, and this tab's recent lookups for a quick return.

use crate::lookup::{IdKind, Lookup};
use leptos::prelude::*;

/// The app picker's element ID: its value is the app a lookup asks.
pub const APP_PICKER: &str = "lookup-app";

#[component]
pub fn LookupForm(
    kind: RwSignal<IdKind>,
    text: RwSignal<String>,
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
                    prop:checked=move || kind.get() == value
                    on:change=move |_| kind.set(value)
                />
                {label}
            </label>
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
                {kind_choice(IdKind::CustomerUserId, "Customer user ID")}
                {kind_choice(IdKind::ProfileId, "Adapty profile ID")}
            </fieldset>
            <div class="query">
                <label for="lookup-id" class="visually-hidden">
                    {move || if kind.get() == IdKind::ProfileId { "Adapty profile ID" } else { "Customer user ID" }}
                </label>
                <input
                    id="lookup-id"
                    name="id"
                    type="search"
                    required
                    autocomplete="off"
                    spellcheck="false"
                    placeholder=move || match kind.get() {
                        IdKind::CustomerUserId => "e.g. 77B14FB4-FD2A-4D38-AA3A-4C433F79863C",
                        IdKind::ProfileId => "e.g. d8533a10-bcce-4e33-8c9d-88b05ac56559",
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
