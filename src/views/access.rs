//! Access levels: one card each, with its state, flags and the sentence that
//! explains it.

use super::cell::{cell_content, details_list};
use super::change::Desk;
use crate::cells::{self, Cell};
use crate::change::Action;
use crate::explain;
use crate::format::Clock;
use crate::model::AccessLevel;
use crate::status::{is_sandbox, State};
use crate::transport::Fetched;
use leptos::prelude::*;
use std::sync::Arc;

#[component]
pub fn AccessLevels(
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    hide_sandbox: RwSignal<bool>,
    /// Access changes: offered only to those the session allows.
    desk: Desk,
) -> impl IntoView {
    let total = found.profile.access_levels.len();
    let may_change = found.app.can_change_access.then_some(desk);
    let grant_for = found.clone();
    view! {
        <section class="card" aria-labelledby="access-heading">
            <h2 id="access-heading">"Access levels " <span class="count">{total}</span></h2>
            {move || {
                let clock = clock.get();
                let hide = hide_sandbox.get();
                let desk = may_change;
                let shown: Vec<_> = found
                    .profile
                    .access_levels
                    .iter()
                    .enumerate()
                    .filter(|(_, level)| !(hide && is_sandbox(level.effective_environment())))
                    .map(|(index, level)| access_level_card(index, level, &clock, desk.map(|desk| (desk, &found))))
                    .collect();
                if shown.is_empty() {
                    let why = if total == 0 { "This customer has no access levels." } else { "Only sandbox access levels, hidden." };
                    view! { <p class="empty">{why}</p> }.into_any()
                } else {
                    view! { <div class="access-levels">{shown}</div> }.into_any()
                }
            }}
            {may_change.map(|desk| desk.button(&grant_for, Action::Grant, None, "grant-access".into()))}
        </section>
    }
}

/// `index` names the card (`events::Item::anchor`), for the history's
/// links and its *Extend* and *Revoke* buttons. `desk` gives those buttons,
/// where they can do something (not extending lifetime access, not revoking
/// what has ended).
fn access_level_card(
    index: usize,
    level: &AccessLevel,
    clock: &Clock,
    desk: Option<(Desk, &Arc<Fetched>)>,
) -> impl IntoView {
    let status = level.status(clock.now);
    let actions = desk.map(|(desk, found)| {
        let state = status.state;
        let extend = (!matches!(state, State::Lifetime | State::Unknown)).then(|| {
            desk.button(
                found,
                Action::Extend,
                Some((index, &level.access_level_id)),
                format!("extend-{index}"),
            )
        });
        let revoke = (!matches!(state, State::Expired | State::Unknown)).then(|| {
            desk.button(
                found,
                Action::Revoke,
                Some((index, &level.access_level_id)),
                format!("revoke-{index}"),
            )
        });
        view! { <div class="actions">{extend}{revoke}</div> }
    });

    view! {
        <article class=format!("access-level {}", status.tone().class())
            id=format!("access-level-{index}") tabindex="-1">
            <header>
                <h3>{level.access_level_id.clone()}</h3>
                {cell_content(Cell::status(status))}
                {actions}
            </header>
            <p class="explain">{explain::access_level(level, clock)}</p>
            {details_list(cells::access_details(level, clock))}
        </article>
    }
}
