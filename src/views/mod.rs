//! The panel's views. They only render: what a lookup means is decided in
//! `model`, `status`, `explain`, `listing`, `error` and `format`.

mod access;
mod bulk;

pub use bulk::BulkPage;
mod cell;
mod change;
mod error;
mod events;
mod history;
mod notes;
mod profile;
mod search;

use crate::browser;
use crate::erasure;
use crate::error::{LookupError, Search};
use crate::handoff;
use crate::lookup::{invisible_characters, remember, IdKind, Lookup};
use crate::search::{self as find, Choice, Next};
use crate::session;
use crate::transport::{self, add_feed, fetch_profile, fetch_session, Fetched};
use change::Desk;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::correction::Erased;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Where the page is: nothing asked yet, a search or a lookup on its way,
/// several customers to pick from, or the answer.
#[derive(Clone)]
enum Outcome {
    Idle,
    /// What is on its way ("Looking up customer user ID ", "Searching for
    /// "), and the ID or text asked.
    Loading(String, String),
    Picking(String, Arc<[Choice]>),
    Loaded(Arc<Fetched>),
    /// Whether it was a search (*Try again* searches again), and what failed.
    Failed(Lookup, LookupError, bool),
}

/// Whether the relay keeps a store: search, and Adapty's events.
fn has_store() -> bool {
    SESSION.get().is_some_and(|session| session.store)
}

/// Only the newest lookup may show its answer, however the responses race.
/// A plain counter: the page has one App, and a reactive value would cost wasm.
static NEWEST_LOOKUP: AtomicU64 = AtomicU64::new(0);

/// The session, once it came: the apps, and where this person may change
/// access. Set once at start and only read after; no reactive value, for
/// the same reason as above.
static SESSION: OnceLock<protocol::session::Session> = OnceLock::new();

/// The whole panel: the search, and the customer found. ("App" means an
/// Adapty app everywhere else.)
#[component]
pub fn Panel() -> impl IntoView {
    let from_url = browser::lookup_in_url();
    let kind = RwSignal::new(from_url.as_ref().map_or(IdKind::CustomerUserId, |l| l.kind));
    let text = RwSignal::new(from_url.as_ref().map(|l| l.id.clone()).unwrap_or_default());
    let outcome = RwSignal::new(Outcome::Idle);
    let recent = RwSignal::new(browser::recent_lookups());
    // Read when a profile arrives, so every "in 3 days" on screen is
    // relative to the same moment; the zone toggle keeps that moment.
    let clock = RwSignal::new(browser::clock(false));

    // The operator's "Open in Adapty" link template; empty when there is none.
    let dashboard = RwSignal::new(String::new());
    let desk = Desk { clock };
    // The last change made, named above the profile it changed.
    let notice = RwSignal::new(String::new());

    // The SSO session ended: said above whatever is on screen, which stays.
    let signed_out = RwSignal::new(false);
    // The relay keeps a store; the form's choice to search it is taken.
    let store = RwSignal::new(false);
    let searching = RwSignal::new(false);

    // A lookup by ID. `keep_form`: it came from a search, whose text stays
    // in the form; `searched`: what that search said, for a "not found".
    let run_as = move |mut lookup: Lookup, keep_form: bool, searched: Option<Search>| {
        let ticket = NEWEST_LOOKUP.fetch_add(1, Ordering::Relaxed) + 1;
        let shown = outcome.get_untracked();
        notice.set(String::new());
        let started = SESSION.get();
        lookup.app = started
            .map(|s| session::app_for(s, &lookup.app))
            .unwrap_or_default();
        // An app the relay does not serve is not asked: the picker shows
        // "Choose an app" (its value "") rather than another app.
        let app_known = started.map_or(Ok(()), |s| session::check_app(s, &lookup.app));
        browser::set_value(
            search::APP_PICKER,
            if app_known.is_ok() { &lookup.app } else { "" },
        );
        if !keep_form {
            searching.set(false);
            kind.set(lookup.kind);
            text.set(lookup.id.clone());
        }
        // Until a profile names the tab again.
        browser::set_title(handoff::IDLE_TITLE);
        // What the panel can tell is wrong never goes to the relay.
        if let Err(why) = app_known {
            outcome.set(Outcome::Failed(lookup, why, false));
            return;
        }
        if let Err(why) = lookup.check() {
            outcome.set(Outcome::Failed(
                lookup,
                LookupError::InvalidInput(why),
                false,
            ));
            return;
        }
        let doing = ["Looking up ", lookup.kind.label(), " "].concat();
        outcome.set(Outcome::Loading(doing, lookup.id.clone()));
        spawn_local(async move {
            let result = fetch_profile(&lookup).await;
            if NEWEST_LOOKUP.load(Ordering::Relaxed) != ticket {
                return;
            }
            match result {
                Ok(mut fetched) => {
                    fetched.app = started
                        .map(|s| session::app(s, &lookup.app))
                        .unwrap_or_default();
                    // Support's changes decide what the cards say: the
                    // profile waits for them, so no wrong story shows first.
                    add_feed(&mut fetched, has_store()).await;
                    if NEWEST_LOOKUP.load(Ordering::Relaxed) != ticket {
                        return;
                    }
                    signed_out.set(false);
                    recent.update(|list| *list = remember(list, &lookup));
                    browser::store_recent_lookups(&recent.get_untracked());
                    clock.set(browser::clock(clock.get_untracked().utc));
                    outcome.set(Outcome::Loaded(Arc::new(fetched)));
                    // Keyboard and screen-reader users land on the answer.
                    request_animation_frame(|| {
                        browser::focus("result-heading");
                        // After this frame is painted, the page takes input again.
                        set_timeout(|| browser::mark("lookup:ready"), std::time::Duration::ZERO);
                    });
                }
                Err(LookupError::SignInExpired) => {
                    signed_out.set(true);
                    // A profile already on screen stays; sign-in repeats the lookup.
                    outcome.set(match shown {
                        Outcome::Loaded(found) => Outcome::Loaded(found),
                        _ => Outcome::Idle,
                    });
                    request_animation_frame(|| browser::focus("sign-in-again"));
                }
                Err(error) => {
                    // Erased: when and by whom, in the admin's zone.
                    if let LookupError::Erased(record) = &error {
                        notice.set(erasure::said(record, &clock.get_untracked()));
                    }
                    let searched = searched.unwrap_or(if has_store() {
                        Search::NotAsked
                    } else {
                        Search::NotSetUp
                    });
                    outcome.set(Outcome::Failed(lookup, error.searched(searched), false));
                }
            }
        });
    };
    let run = move |lookup: Lookup| run_as(lookup, false, None);
    let open = move |lookup: Lookup| {
        browser::push_url(&lookup);
        run(lookup);
    };
    // A customer the search found, the form keeping what was typed.
    let open_found = move |lookup: Lookup, searched: Option<Search>| {
        browser::push_url(&lookup);
        run_as(lookup, true, searched);
    };
    // A search of the relay's store for an email, a transaction ID or an ID.
    let search = move |typed: String, app: String| {
        let ticket = NEWEST_LOOKUP.fetch_add(1, Ordering::Relaxed) + 1;
        notice.set(String::new());
        browser::set_title(handoff::IDLE_TITLE);
        let app = SESSION
            .get()
            .map(|s| session::app_for(s, &app))
            .unwrap_or_default();
        let asked = Lookup {
            kind: IdKind::CustomerUserId,
            id: typed.clone(),
            app: app.clone(),
        };
        let wrong = SESSION
            .get()
            .map_or(Ok(()), |s| session::check_app(s, &app));
        // Invisible characters would be searched with the text: said first.
        let wrong = wrong.and_then(|()| match invisible_characters(&typed).is_empty() {
            true => Ok(()),
            false => asked.check().map_err(LookupError::InvalidInput),
        });
        if let Err(why) = wrong {
            outcome.set(Outcome::Failed(asked, why, false));
            return;
        }
        outcome.set(Outcome::Loading("Searching for ".into(), typed.clone()));
        spawn_local(async move {
            let answer = transport::search(&app, &typed).await;
            if NEWEST_LOOKUP.load(Ordering::Relaxed) != ticket {
                return;
            }
            let next = match answer {
                Ok(answer) => find::next(answer, &typed, &app, &clock.get_untracked()),
                Err(error) => match find::without_search(&error, &typed, &app) {
                    Some(next) => next,
                    None if error == LookupError::SignInExpired => {
                        signed_out.set(true);
                        outcome.set(Outcome::Idle);
                        request_animation_frame(|| browser::focus("sign-in-again"));
                        return;
                    }
                    None => {
                        outcome.set(Outcome::Failed(asked, error, true));
                        return;
                    }
                },
            };
            signed_out.set(false);
            match next {
                Next::Open(lookup) => open_found(lookup, None),
                Next::Pick(choices) => {
                    outcome.set(Outcome::Picking(typed, choices.into()));
                    request_animation_frame(|| browser::focus("matches-heading"));
                }
                Next::LookUp(Some(lookup), searched) => open_found(lookup, Some(searched)),
                Next::LookUp(None, searched) => {
                    let email = typed.contains('@');
                    let error = LookupError::NotFound {
                        kind: IdKind::CustomerUserId,
                        email,
                        search: searched,
                    };
                    outcome.set(Outcome::Failed(asked, error, false));
                }
            }
        });
    };
    let submit = move || {
        if let Some(lookup) = Lookup::from_input(kind.get_untracked(), &text.get_untracked()) {
            let lookup = Lookup {
                app: browser::field_value(search::APP_PICKER),
                ..lookup
            };
            // "Choose an app" still shown among several: no app is picked
            // for the admin (a link without one still means the first).
            if lookup.app.is_empty() {
                if let Some(Err(why)) = SESSION.get().map(|s| session::check_app(s, "")) {
                    outcome.set(Outcome::Failed(lookup, why, false));
                    return;
                }
            }
            // An email is never a profile ID: searched whatever kind is chosen.
            if store.get_untracked()
                && (searching.get_untracked() || find::looks_like_email(&lookup.id))
            {
                search(lookup.id, lookup.app);
                return;
            }
            open(lookup);
        }
    };
    let retry = move || match outcome.get_untracked() {
        Outcome::Failed(asked, _, true) => search(asked.id, asked.app),
        Outcome::Failed(lookup, _, false) => run(lookup),
        _ => {}
    };

    // The URL is the state: back and forward replay the lookup they name.
    let _ = window_event_listener(
        leptos::ev::popstate,
        move |_| match browser::lookup_in_url() {
            Some(lookup) => run(lookup),
            None => {
                text.set(String::new());
                outcome.set(Outcome::Idle);
                browser::set_title(handoff::IDLE_TITLE);
            }
        },
    );
    // `/` jumps to the search field from anywhere but another field;
    // Ctrl+Enter (Cmd+Enter) in a note's box adds it.
    let _ = window_event_listener(leptos::ev::keydown, |event| {
        if event.key() == "Enter"
            && (event.ctrl_key() || event.meta_key())
            && browser::focused_id() == notes::TEXT
        {
            event.prevent_default();
            notes::add_typed();
        } else if event.key() == "/"
            && !event.ctrl_key()
            && !event.meta_key()
            && !browser::typing_in_a_field()
        {
            event.prevent_default();
            browser::focus("lookup-id");
        }
    });
    // The session first: a link's lookup needs to know the apps.
    spawn_local(async move {
        let found = fetch_session().await;
        if let Some(link) = &found.dashboard_profile_url {
            dashboard.set(link.clone());
        }
        // The picker only when there is a choice.
        browser::add_apps(search::APP_PICKER, &found.apps);
        browser::set_hidden("app-pick", found.apps.len() < 2);
        // Only those with the bulk role see the Bulk check page exists.
        browser::set_hidden(
            "bulk-link",
            !found.apps.iter().any(|app| app.can_bulk_check),
        );
        // With a store, the form searches unless a link named the ID.
        store.set(found.store);
        searching.set(found.store && from_url.is_none());
        let _ = SESSION.set(found);
        if let Some(lookup) = from_url {
            run(lookup);
        }
    });
    request_animation_frame(|| browser::mark("panel:ready"));
    let busy = move || outcome.with(|o| matches!(o, Outcome::Loading(..)));

    // A change made shows the profile Adapty answered with, and says so.
    let changed = move |mut fetched: Fetched, said: String| {
        let ticket = NEWEST_LOOKUP.load(Ordering::Relaxed);
        spawn_local(async move {
            // The change just made is among the events: its card says so.
            add_feed(&mut fetched, has_store()).await;
            if NEWEST_LOOKUP.load(Ordering::Relaxed) != ticket {
                return;
            }
            // "Now" is the moment of the answer, as after a lookup: a revoke
            // that ended access a moment ago reads as ended.
            clock.set(browser::clock(clock.get_untracked().utc));
            fetched.received = clock.get_untracked().now;
            outcome.set(Outcome::Loaded(Arc::new(fetched)));
            notice.set(said);
            request_animation_frame(|| browser::focus("change-notice"));
        });
    };

    // An erasure: nothing of the profile stays on screen; the page says
    // what a later lookup will say, and the notice who did it and when.
    let erased = move |customer: Lookup, erased: Erased| {
        // A lookup still on its way must not show the profile again.
        NEWEST_LOOKUP.fetch_add(1, Ordering::Relaxed);
        browser::set_title(handoff::IDLE_TITLE);
        notice.set(erasure::result(&erased, &clock.get_untracked()));
        let record = LookupError::Erased(erasure::record(&erased));
        outcome.set(Outcome::Failed(customer, record, false));
        request_animation_frame(|| browser::focus("change-notice"));
    };

    view! {
        <header class="topbar">
            <span class="brand">"Adapty lookup"</span>
            <a id="bulk-link" href="bulk" hidden>"Bulk check"</a>
            <label class="utc-toggle">
                <input type="checkbox" id="utc-toggle" prop:checked=move || clock.with(|c| c.utc)
                    on:change=move |_| clock.update(|c| c.utc = !c.utc) />
                "Times in UTC"
            </label>
        </header>
        <main id="main">
            <search::LookupForm kind=kind text=text searching=searching store=store busy=busy
                on_submit=submit recent=recent on_pick=open />
            <section id="sign-in-expired" class="signed-out" role="alert" aria-labelledby="sign-in-title"
                hidden=move || !signed_out.get()>
                <h2 id="sign-in-title">{LookupError::SignInExpired.title()}</h2>
                <p>{LookupError::SignInExpired.advice()}</p>
                <div class="actions">
                    // Reloading the page's URL goes through the proxy's sign-in
                    // and back to this lookup.
                    <button type="button" id="sign-in-again" on:click=|_| browser::reload()>
                        "Sign in again"
                    </button>
                </div>
            </section>
            <p id="change-notice" class="notice" role="status" tabindex="-1"
                hidden=move || notice.with(String::is_empty)>{move || notice.get()}</p>
            {change::dialog(changed, erased, run)}
            <div class="result" aria-live="polite">
                {move || match outcome.get() {
                    Outcome::Idle => view! {
                        <p class="hint">
                            {move || if store.get() {
                                "Enter the customer's email, a transaction ID, their customer user ID or Adapty profile ID. "
                            } else {
                                "Enter a customer user ID, or an Adapty profile ID for anonymous customers. "
                            }}
                            "Press " <kbd>"/"</kbd> " to search from anywhere."
                        </p>
                    }.into_any(),
                    Outcome::Loading(doing, asked) => view! {
                        <p class="loading" role="status">
                            <span class="spinner" aria-hidden="true"></span>
                            {doing} <code>{asked}</code> "…"
                        </p>
                    }.into_any(),
                    Outcome::Picking(typed, choices) => view! {
                        <search::Matches typed=typed choices=choices
                            on_pick=move |lookup| open_found(lookup, None) />
                    }.into_any(),
                    Outcome::Loaded(found) => view! { <profile::ProfileView found=found clock=clock dashboard=dashboard desk=desk look_up=run /> }.into_any(),
                    Outcome::Failed(lookup, error, _) => {
                        let known = recent.with_untracked(|list| lookup.same_but_case(list));
                        view! {
                            <error::ErrorView error=error lookup=lookup known=known on_retry=retry on_other=open />
                        }.into_any()
                    }
                }}
            </div>
        </main>
    }
}
