//! The one view of a failed lookup: what happened and what to do next.

use crate::error::LookupError;
use crate::lookup::Lookup;
use leptos::prelude::*;

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
    view! {
        <section class="error" role="alert" aria-labelledby="error-title">
            <h2 id="error-title">{error.title()}</h2>
            <p>{error.advice()}</p>
            <div class="actions">{instead}{retry}{other}{in_apps}</div>
        </section>
    }
}
