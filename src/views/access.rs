//! Access levels: one card each, with its state, flags and the sentence that
//! explains it.

use super::time::When;
use crate::explain;
use crate::format::{self, Clock};
use crate::model::AccessLevel;
use crate::status::{is_sandbox, Status};
use crate::transport::Fetched;
use leptos::prelude::*;
use std::sync::Arc;

#[component]
pub fn AccessLevels(
    found: Arc<Fetched>,
    clock: Signal<Clock>,
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
                    .filter(|level| !(hide && is_sandbox(level.environment.as_deref())))
                    .map(|level| view! { <AccessLevelCard level=level.clone() clock=clock /> })
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

#[component]
pub fn Badges(status: Status) -> impl IntoView {
    let flags = status
        .flags
        .labels()
        .into_iter()
        .map(|label| view! { <span class="badge flag">{label}</span> })
        .collect_view();
    view! {
        <span class=format!("badge state {}", status.tone().class())>{status.state.label()}</span>
        {flags}
    }
}

#[component]
fn AccessLevelCard(level: AccessLevel, clock: Clock) -> impl IntoView {
    let status = level.status(clock.now);
    let sentence = explain::access_level(&level, &clock);
    let offer = level.offer.as_ref().map(explain::offer_words);
    view! {
        <article class=format!("access-level {}", status.tone().class())>
            <header>
                <h3>{level.access_level_id.clone()}</h3>
                <Badges status=status />
            </header>
            <p class="explain">{sentence}</p>
            <dl class="details">
                <div><dt>"Store"</dt><dd>{format::store(&level.store)}</dd></div>
                <div><dt>"Product"</dt><dd><code>{level.store_product_id.clone()}</code></dd></div>
                {level.store_base_plan_id.clone().map(|plan| view! { <div><dt>"Base plan"</dt><dd><code>{plan}</code></dd></div> })}
                {offer.map(|offer| view! { <div><dt>"Offer"</dt><dd>{offer}</dd></div> })}
                <div><dt>"Starts"</dt><dd><When at=level.starts_at.clone() clock=clock absent="at purchase" /></dd></div>
                <div><dt>"Purchased"</dt><dd><When at=level.purchased_at.clone() clock=clock /></dd></div>
                <div><dt>"Originally purchased"</dt><dd><When at=level.originally_purchased_at.clone() clock=clock /></dd></div>
                <div><dt>"Expires"</dt><dd><When at=level.expires_at.clone() clock=clock absent="never (lifetime)" /></dd></div>
                <div><dt>"Renewal cancelled"</dt><dd><When at=level.renewal_cancelled_at.clone() clock=clock /></dd></div>
                <div><dt>"Billing issue"</dt><dd><When at=level.billing_issue_detected_at.clone() clock=clock absent="none" /></dd></div>
                <div><dt>"Transaction"</dt><dd><code>{level.store_transaction_id.clone().unwrap_or_else(|| "—".into())}</code></dd></div>
                <div><dt>"Environment"</dt><dd>{level.environment.clone().unwrap_or_else(|| "not given".into())}</dd></div>
            </dl>
        </article>
    }
}
