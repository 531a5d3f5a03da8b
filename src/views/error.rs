//! The one view of a failed lookup: what happened and what to do next.
//!
//! Written for weight as the notes are: constant markup, the sentences,
//! the buttons' labels and the other apps' answers written in as text once
//! it is on the page, and one click handler for every button and link.

use super::SESSION;
use crate::browser;
use crate::elsewhere::{self, Answer};
use crate::error::LookupError;
use crate::handoff;
use crate::lookup::Lookup;
use crate::transport::fetch_profile;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use wasm_bindgen::JsValue;

/// What the view offers: its buttons (a lookup, or *Try again* for none)
/// and the other apps asked, in their order on the page.
struct Offers {
    buttons: Vec<(String, Option<Lookup>)>,
    others: Vec<(Lookup, String)>,
}

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
    let mut buttons = Vec::new();
    // An ID with invisible characters: the same without them. An ID not
    // found that this tab found in another letter case: that one.
    let instead = match &error {
        LookupError::InvalidInput(_) => lookup.without_invisible(),
        LookupError::NotFound { .. } => known,
        _ => None,
    };
    if let Some(instead) = instead {
        let label = format!("Look up \u{201c}{}\u{201d} instead", instead.id);
        buttons.push((label, Some(instead)));
    }
    if error.can_retry() {
        buttons.push(("Try again".into(), None));
    }
    // A profile ID pasted as a customer user ID (or the reverse) is the most
    // common "not found": offer the other reading in one click, when the ID
    // can be read that way.
    let other = matches!(error, LookupError::NotFound { .. })
        .then(|| lookup.as_other())
        .flatten();
    if let Some(other) = other {
        let label = format!("Look up as {} instead", other.kind.label());
        buttons.push((label, Some(other)));
    }
    // An app the relay does not serve: each app it does, by name, in one click.
    if let LookupError::UnknownApp { apps, .. } = &error {
        for (app, name) in apps {
            let other = Lookup {
                app: app.clone(),
                ..lookup.clone()
            };
            buttons.push((format!("Look up in {name}"), Some(other)));
        }
    }
    let session = SESSION.get();
    let title = elsewhere::title(&error, elsewhere::app_name(session, &lookup));
    let offers = Arc::new(Offers {
        buttons,
        // Where the customer is, before how to check the ID.
        others: elsewhere::other_apps(session, &lookup, &error),
    });
    let shown = offers.clone();
    spawn_local(async move { fill(&title, &error.advice(), &shown) });
    view! {
        <section class="error" role="alert" aria-labelledby="error-title"
            on:click=move |event| {
                let button = browser::button_of(&event);
                if let Some((_, lookup)) = offers.buttons.get(place(&button)) {
                    match lookup {
                        Some(lookup) => on_other(lookup.clone()),
                        None => on_retry(),
                    }
                    return;
                }
                // A link to the customer in another app: the panel's own
                // lookup, as the link's URL names it.
                let target: JsValue = event.target().map(JsValue::from).unwrap_or_default();
                if browser::property(&target, "tagName") == "A" {
                    event.prevent_default();
                    let line = browser::get(&target, "parentNode");
                    if let Some((other, _)) = offers.others.get(place(&line)) {
                        on_other(other.clone());
                    }
                }
            }>
            <h2 id="error-title"></h2>
            <ul class="elsewhere" hidden></ul>
            <p></p>
            <div class="actions"></div>
        </section>
    }
}

/// The element's place among its parent's; past any list when it is none.
pub(super) fn place(element: &JsValue) -> usize {
    if !element.is_object() {
        return usize::MAX;
    }
    let mut place = 0;
    let mut before = browser::get(element, "previousElementSibling");
    while before.is_object() {
        place += 1;
        before = browser::get(&before, "previousElementSibling");
    }
    place
}

/// Writes the view once it is on the page, and asks each other app for the
/// customer at once: each line says what that app answered, and links to
/// the customer there.
fn fill(title: &str, advice: &str, offers: &Offers) {
    browser::set_text("error-title", title);
    let others = browser::after("error-title");
    let text = browser::get(&others, "nextElementSibling");
    browser::set_properties(&text, &[("textContent", advice)]);
    let actions = browser::get(&text, "nextElementSibling");
    // Another failure shows in these same elements.
    browser::set_properties(&actions, &[("innerHTML", "")]);
    browser::set_properties(&others, &[("innerHTML", "")]);
    for (label, _) in &offers.buttons {
        browser::add_with_properties(
            &actions,
            "button",
            &[
                ("type", "button"),
                ("className", "secondary"),
                ("textContent", label),
            ],
        );
    }
    let hidden = if offers.others.is_empty() {
        "hidden"
    } else {
        ""
    };
    browser::set_properties(&others, &[("hidden", hidden)]);
    for (other, name) in &offers.others {
        let kind = other.kind;
        let asking = elsewhere::said(name, kind, Answer::Asking) + " ";
        let line = browser::add_with_properties(&others, "li", &[("textContent", &asking)]);
        let said = browser::get(&line, "firstChild");
        let link = browser::add_with_properties(
            &line,
            "a",
            &[
                ("href", &handoff::panel_query(other)),
                ("hidden", "hidden"),
                ("textContent", &[&other.id, " in ", name].concat()),
            ],
        );
        let (asked, name) = (other.clone(), name.clone());
        // Gone when another lookup replaced this view: nothing is seen.
        spawn_local(async move {
            let error = fetch_profile(&asked).await.err();
            let answer = Answer::of(error.as_ref());
            let text = elsewhere::said(&name, kind, answer) + " ";
            browser::set_properties(&said, &[("data", &text)]);
            let hidden = if answer == Answer::Found {
                ""
            } else {
                "hidden"
            };
            browser::set_properties(&link, &[("hidden", hidden)]);
        });
    }
}
