//! A point in time as the admin reads it: their zone (or UTC), how long ago,
//! and the exact UTC instant on hover.

use crate::format::{exact_utc, Clock};
use crate::model::Timestamp;
use leptos::prelude::*;

#[component]
pub fn When(
    at: Option<Timestamp>,
    clock: Clock,
    /// What a missing date means here: "never", "lifetime", "—".
    #[prop(default = "—")]
    absent: &'static str,
) -> impl IntoView {
    match at {
        None => view! { <span class="absent">{absent}</span> }.into_any(),
        Some(Timestamp::Unreadable(raw)) => {
            view! { <span class="unreadable" title="Adapty sent this date in a form the panel cannot read">{raw}</span> }.into_any()
        }
        Some(Timestamp::At(at)) => view! {
            <time datetime=at.to_rfc3339() title=exact_utc(at)>
                {clock.date_time(at)}
                <span class="relative">{clock.relative(at)}</span>
            </time>
        }
        .into_any(),
    }
}
