//! The one view of a failed lookup: what happened and what to do next.

use super::SESSION;
use crate::elsewhere::{self, Answer};
use crate::error::LookupError;
use crate::handoff;
use crate::lookup::Lookup;
use crate::transport::fetch_profile;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn ErrorView(
    error: LookupError,
    lookup: Lookup,
    /// A lookup of this tab that found someone, its ID differing from this
    /// one's only by letter case.
    known: Option<Lookup>,
    on_retry: impl Fn() + Copy + Send + Sync + 'static,
    on_other: impl Fn(Lookup) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let retry = error.can_retry().then(|| {
        view! {
            <button type="button" class="secondary" on:click=move |_| on_retry()>
                "Try again"
            </button>
        }
    });
    // A profile ID pasted as a customer user ID (or the reverse) is the most
    // common "not found": offer the other reading in one click, when the ID
    // can be read that way.
    let other = matches!(error, LookupError::NotFound { .. })
        .then(|| lookup.as_other())
        .flatten()
        .map(|other| {
            let label = format!("Look up as {} instead", other.kind.label());
            view! {
                <button type="button" class="secondary" on:click=move |_| on_other(other.clone())>
                    {label}
                </button>
            }
        });
    // An ID with invisible characters: the same without them. An ID not
    // found that this tab found in another letter case: that one.
    let instead = match &error {
        LookupError::InvalidInput(_) => lookup.without_invisible(),
        LookupError::NotFound { .. } => known,
        _ => None,
    }
    .map(|instead| {
        let label = format!("Look up \u{201c}{}\u{201d} instead", instead.id);
        view! {
            <button type="button" class="secondary" on:click=move |_| on_other(instead.clone())>
                {label}
            </button>
        }
    });
    // An app the relay does not serve: each app it does, by name, in one click.
    let apps = match &error {
        LookupError::UnknownApp { apps, .. } => apps.clone(),
        _ => Vec::new(),
    };
    let in_apps = apps
        .into_iter()
        .map(|(app, name)| {
            let other = Lookup {
                app,
                ..lookup.clone()
            };
            view! {
                <button type="button" class="secondary" on:click=move |_| on_other(other.clone())>
                    {format!("Look up in {name}")}
                </button>
            }
        })
        .collect_view();
    let session = SESSION.get();
    let title = elsewhere::title(&error, elsewhere::app_name(session, &lookup));
    view! {
        <section class="error" role="alert" aria-labelledby="error-title">
            <h2 id="error-title">{title}</h2>
            // Where the customer is, before how to check the ID.
            {in_other_apps(elsewhere::other_apps(session, &lookup, &error), on_other)}
            <p>{error.advice()}</p>
            <div class="actions">{instead}{retry}{other}{in_apps}</div>
        </section>
    }
}

/// A customer not found here, asked for in each other app at once: each
/// line says what that app answered, and links to the customer there.
fn in_other_apps(
    others: Vec<(Lookup, String)>,
    on_other: impl Fn(Lookup) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let none = others.is_empty();
    let lines = others
        .into_iter()
        .map(|(other, name)| {
            let asked = other.clone();
            // Its `Answer`, by place in `Answer::ALL`.
            let said = RwSignal::new(Answer::Asking as usize);
            spawn_local(async move {
                let error = fetch_profile(&asked).await.err();
                // Gone when another lookup replaced this view: nothing to say.
                said.try_set(Answer::of(error.as_ref()) as usize);
            });
            let answer = move || Answer::ALL[said.get()];
            let kind = other.kind;
            let link = format!("{} in {name}", other.id);
            view! {
                <li>
                    {move || elsewhere::said(&name, kind, answer())} " "
                    <a href=handoff::panel_query(&other) hidden=move || answer() != Answer::Found
                        on:click=move |click| {
                            // The panel's own lookup, as the link's URL names it.
                            click.prevent_default();
                            on_other(other.clone());
                        }>{link}</a>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="elsewhere" hidden=none>{lines}</ul> }
}
