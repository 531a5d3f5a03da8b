//! The panel's views. They only render: what a lookup means is decided in
//! `model`, `lookup`, `error` and `format`.

mod error;
mod profile;
mod search;

use crate::error::LookupError;
use crate::lookup::{IdKind, Lookup};
use crate::model::Profile;
use crate::transport::fetch_profile;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use wasm_bindgen::JsValue;
use web_sys::UrlSearchParams;

/// Where the page is: nothing asked yet, a lookup on its way, or its answer.
#[derive(Clone)]
enum Outcome {
    Idle,
    Loading(Lookup),
    Loaded(Arc<Profile>),
    Failed(Lookup, LookupError),
}

#[component]
pub fn App() -> impl IntoView {
    let from_url = lookup_in_url();
    let kind = RwSignal::new(from_url.as_ref().map_or(IdKind::CustomerUserId, |l| l.kind));
    let text = RwSignal::new(from_url.as_ref().map(|l| l.id.clone()).unwrap_or_default());
    let outcome = RwSignal::new(Outcome::Idle);
    // Only the newest lookup may show its answer, however the responses race.
    let newest = StoredValue::new(0_u64);

    let run = move |lookup: Lookup| {
        let ticket = newest.get_value() + 1;
        newest.set_value(ticket);
        outcome.set(Outcome::Loading(lookup.clone()));
        spawn_local(async move {
            let result = fetch_profile(&lookup).await;
            if newest.get_value() == ticket {
                outcome.set(match result {
                    Ok(profile) => Outcome::Loaded(Arc::new(profile)),
                    Err(error) => Outcome::Failed(lookup, error),
                });
            }
        });
    };
    let submit = Callback::new(move |()| {
        if let Some(lookup) = Lookup::from_input(kind.get_untracked(), &text.get_untracked()) {
            remember_in_url(&lookup);
            run(lookup);
        }
    });
    let retry = Callback::new(move |()| {
        if let Outcome::Failed(lookup, _) = outcome.get_untracked() {
            run(lookup);
        }
    });
    // The URL is the state: back and forward replay the lookup they name.
    let _ = window_event_listener(leptos::ev::popstate, move |_| match lookup_in_url() {
        Some(lookup) => {
            kind.set(lookup.kind);
            text.set(lookup.id.clone());
            run(lookup);
        }
        None => outcome.set(Outcome::Idle),
    });
    if let Some(lookup) = from_url {
        run(lookup);
    }
    let busy = Signal::derive(move || outcome.with(|o| matches!(o, Outcome::Loading(_))));

    view! {
        <header class="topbar">
            <span class="brand">"Adapty lookup"</span>
        </header>
        <main id="main">
            <search::LookupForm kind=kind text=text busy=busy on_submit=submit />
            <div class="result" aria-live="polite">
                {move || match outcome.get() {
                    Outcome::Idle => view! {
                        <p class="hint">"Enter a customer user ID or an Adapty profile ID to see what the customer has."</p>
                    }.into_any(),
                    Outcome::Loading(lookup) => view! {
                        <p class="loading" role="status">
                            "Looking up " {lookup.kind.label()} " " <code>{lookup.id}</code> "…"
                        </p>
                    }.into_any(),
                    Outcome::Loaded(profile) => view! { <profile::ProfileView profile=profile /> }.into_any(),
                    Outcome::Failed(_, error) => view! { <error::ErrorView error=error on_retry=retry /> }.into_any(),
                }}
            </div>
        </main>
    }
}

fn lookup_in_url() -> Option<Lookup> {
    let search = window().location().search().ok()?;
    let params = UrlSearchParams::new_with_str(&search).ok()?;
    Lookup::from_url(params.get("customer_user_id"), params.get("profile_id"))
}

/// Adds the lookup to the history, so it can be shared, reloaded and gone back to.
fn remember_in_url(lookup: &Lookup) {
    let Ok(params) = UrlSearchParams::new() else {
        return;
    };
    params.append(lookup.kind.param(), &lookup.id);
    let url = format!("?{}", String::from(params.to_string()));
    if window().location().search().ok().as_deref() != Some(url.as_str()) {
        let _ = window()
            .history()
            .and_then(|history| history.push_state_with_url(&JsValue::NULL, "", Some(&url)));
    }
}
