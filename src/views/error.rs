//! The one view of a failed lookup: what happened and what to do next.

use crate::error::LookupError;
use leptos::prelude::*;

#[component]
pub fn ErrorView(error: LookupError, on_retry: Callback<()>) -> impl IntoView {
    let retry = error.can_retry().then(|| {
        view! {
            <button type="button" class="secondary" on:click=move |_| on_retry.run(())>
                "Try again"
            </button>
        }
    });
    view! {
        <section class="error" role="alert">
            <h2>{error.title()}</h2>
            <p>{error.advice()}</p>
            {retry}
        </section>
    }
}
