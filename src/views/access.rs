//! Access levels: one card each, with its state, flags and the sentence that
//! explains it.

use super::cell::{cell_content, details_list};
use crate::cells::{self, Cell};
use crate::explain;
use crate::format::Clock;
use crate::model::AccessLevel;
use crate::status::is_sandbox;
use crate::transport::Fetched;
use leptos::prelude::*;
use std::sync::Arc;

#[component]
pub fn AccessLevels(
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    hide_sandbox: RwSignal<bool>,
) -> impl IntoView {
    let total = found.profile.access_levels.len();
    view! {
        <section class="card" aria-labelledby="access-heading">
            <h2 id="access-heading">"Access levels " <span class="count">{total}</span></h2>
            {move || {
                let clock = clock.get();
                let hide = hide_sandbox.get();
                let shown: Vec<_> = found
                    .profile
                    .access_levels
                    .iter()
                    .enumerate()
                    .filter(|(_, level)| !(hide && is_sandbox(level.effective_environment())))
                    .map(|(index, level)| access_level_card(index, level, &clock))
                    .collect();
                if shown.is_empty() {
                    let why = if total == 0 { "This customer has no access levels." } else { "Only sandbox access levels, hidden." };
                    view! { <p class="empty">{why}</p> }.into_any()
                } else {
                    view! { <div class="access-levels">{shown}</div> }.into_any()
                }
            }}
        </section>
    }
}

/// `index` names the card (`events::Item::anchor`), for the history's links.
fn access_level_card(index: usize, level: &AccessLevel, clock: &Clock) -> impl IntoView {
    let status = level.status(clock.now);

    view! {
        <article class=format!("access-level {}", status.tone().class())
            id=format!("access-level-{index}") tabindex="-1">
            <header>
                <h3>{level.access_level_id.clone()}</h3>
                {cell_content(Cell::status(status))}
            </header>
            <p class="explain">{explain::access_level(level, clock)}</p>
            {details_list(cells::access_details(level, clock))}
        </article>
    }
}
