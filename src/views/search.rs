//! The lookup form: which kind of ID, the ID, and a button.

use crate::lookup::IdKind;
use leptos::prelude::*;

#[component]
pub fn LookupForm(
    kind: RwSignal<IdKind>,
    text: RwSignal<String>,
    busy: Signal<bool>,
    on_submit: Callback<()>,
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
            on:submit=move |event| {
                event.prevent_default();
                on_submit.run(());
            }
        >
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
                <button type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Looking up…" } else { "Look up" }}
                </button>
            </div>
        </form>
    }
}
