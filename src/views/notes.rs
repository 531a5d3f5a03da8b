//! The customer's notes, under the headline: each with who wrote it and
//! how long ago (the exact time on hover), its "check again on" day, and
//! Delete where this person may; then a box that adds one (Ctrl+Enter or
//! Cmd+Enter adds it too: the page's own key listener, `add_typed`).
//! `crate::notes` decides what each says.
//!
//! Written for weight as the change dialog is: the section's markup is one
//! constant string, each note a constant item whose values go in as text
//! (`browser::append`), never as markup, and the notes of the customer on
//! screen are in a plain cell, not a reactive value. After a note is added
//! or deleted they are read again. The history, which is drawn again
//! whenever the page's clock moves (the zone, the time, the notes read),
//! takes them from that cell and writes them again here (`redraw`).

use crate::browser;
use crate::events::Event;
use crate::format::Clock;
use crate::model::Loose;
use crate::notes;
use crate::transport::{self, Fetched};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::sync::Arc;

const SECTION: &str = "notes";
const LIST: &str = "note-list";
pub const TEXT: &str = "note-text";
const SAID: &str = "note-said";
const CHECK: &str = "note-check";
/// The start of a Delete button's ID; the note's ID follows.
const DELETE: &str = "delete-note-";

const MARKUP: &str = r#"<ul id="note-list"></ul><textarea id="note-text" rows="2" maxlength="1000" aria-label="New note" placeholder="Add a note (Ctrl+Enter)"></textarea><div class="actions"><label class="choice">Check again on <input type="date" id="note-check"></label><button type="button" class="secondary" id="note-add">Add note</button></div><p class="problem" id="note-said" role="status"></p>"#;

/// One note: who and when, its check-again day, Delete, its text.
const ITEM: &str = r#"<span class="muted"></span> <span></span> <button type="button" class="link">Delete</button><p class="note"></p>"#;

/// The notes of the customer on screen, and what they are read with.
struct Shown {
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    /// The page of notes as the relay answered it.
    page: Loose,
    actor: String,
}

thread_local! {
    static SHOWN: RefCell<Option<Shown>> = const { RefCell::new(None) };
}

/// A note to add or delete: the path, the body and the text typed.
type Change = (String, String, String);

/// The section: its box and list once the notes come (or could not), each
/// Delete and *Add note* handled here. Without the relay's store, a line
/// saying that notes need it.
pub fn notes_section(found: &Arc<Fetched>, clock: RwSignal<Clock>) -> impl IntoView {
    SHOWN.set(None);
    if !super::has_store() {
        return view! { <p class="muted" id=SECTION>"Notes need the relay's store."</p> }
            .into_any();
    }
    SHOWN.set(Some(Shown {
        found: found.clone(),
        clock,
        page: Loose::Null,
        actor: super::SESSION
            .get()
            .map(|session| session.actor.clone())
            .unwrap_or_default(),
    }));
    load(found.clone(), None);
    let on_click = found.clone();
    view! {
            <section class="notes" id=SECTION aria-label="Notes"
                on:click=move |event| {
                    let clicked = browser::clicked(&event);
                    if clicked == "note-add" {
                        add(&on_click);
                    } else if let Some(id) = clicked.strip_prefix(DELETE) {
                        let mut path = protocol::notes::delete_path(id);
                        if !on_click.app.id.is_empty() {
                            path = [&path, "?app=", &on_click.app.id].concat();
                        }
                        load(on_click.clone(), Some((path, String::new(), String::new())));
                    }
                }
    >
            </section>
        }
    .into_any()
}

/// Adds the note in the box, if there is text in it: *Add note*, or
/// Ctrl+Enter in the box (the page's own key listener).
pub fn add_typed() {
    if let Some(found) = SHOWN.with_borrow(|shown| Some(shown.as_ref()?.found.clone())) {
        add(&found);
    }
}

fn add(found: &Arc<Fetched>) {
    let text = browser::field_value(TEXT);
    if text.trim().is_empty() {
        return browser::focus(TEXT);
    }
    let body = notes::body(
        &found.app.id,
        &found.profile.profile_id,
        &text,
        &browser::field_value(CHECK),
    );
    // Cleared as it is sent, so that it is not sent twice; back if refused.
    browser::set_value(TEXT, "");
    let change = (protocol::path::NOTES.into(), body.to_json(), text);
    load(found.clone(), Some(change));
}

/// Sends `change`, if any, then reads the customer's notes and keeps them
/// if `found` is still the customer on screen. "Now" moves on, which
/// draws the history and the notes again, and a note just written reads
/// "just now". A refusal is said, and the text typed goes back in the box;
/// once added, its day is cleared too.
fn load(found: Arc<Fetched>, change: Option<Change>) {
    spawn_local(async move {
        if let Some((path, body, typed)) = change {
            browser::set_text(SAID, "");
            let done =
                transport::post(&path, body)
                    .await
                    .and_then(|(status, content_type, body)| {
                        notes::answered(status, content_type.as_deref(), &body)
                    });
            if let Err(why) = done {
                browser::set_text(SAID, &why.message());
                return browser::set_value(TEXT, &typed);
            }
            // Added: its day goes with it.
            if !typed.is_empty() {
                browser::set_value(CHECK, "");
            }
        } else {
            browser::set_html(SECTION, MARKUP);
        }
        let answer = transport::notes(&found.app.id, &found.profile.profile_id).await;
        let clock = SHOWN.with_borrow_mut(|shown| {
            let shown = shown
                .as_mut()
                .filter(|shown| Arc::ptr_eq(&shown.found, &found))?;
            match answer {
                Ok(page) => shown.page = page,
                Err(error) => browser::set_text(
                    SAID,
                    &["Notes could not be loaded (", &error.title(), ")."].concat(),
                ),
            }
            Some(shown.clock)
        });
        if let Some(clock) = clock {
            clock.update(|clock| clock.now = browser::clock(false).now);
        }
    });
}

/// Writes the notes into the list as `clock` reads them.
pub fn redraw(clock: &Clock) {
    browser::set_html(LIST, "");
    SHOWN.with_borrow(|shown| {
        let Some(shown) = shown else {
            return;
        };
        let admin = shown.found.app.can_delete_any_note;
        for note in notes::of_page(&shown.page) {
            let (by, exact) = notes::written(note, clock);
            let (check, due) = notes::check(note, clock).unwrap_or_default();
            let class = if due {
                "badge tone-warning"
            } else {
                "badge flag"
            };
            let delete = [DELETE, notes::field(note, "id")].concat();
            let hidden = |hide: bool| if hide { "hidden" } else { "" };
            let mine = notes::may_delete(note, &shown.actor, admin);
            let item = browser::append(
                LIST,
                "li",
                "",
                ITEM,
                &[
                    &[("textContent", &by), ("title", &exact)],
                    &[
                        ("textContent", &check),
                        ("className", class),
                        ("hidden", hidden(check.is_empty())),
                    ],
                    &[("id", &delete), ("hidden", hidden(!mine))],
                ],
            );
            let text = notes::text(note, clock);
            browser::append_linked_text(&item, &notes::pieces(&text));
        }
    });
}

/// The history's events with the notes among them.
pub fn among(events: Arc<[Event]>, clock: &Clock) -> Arc<[Event]> {
    SHOWN.with_borrow(|shown| match shown {
        Some(shown) if !notes::of_page(&shown.page).is_empty() => {
            notes::among(&events, notes::of_page(&shown.page), clock).into()
        }
        _ => events,
    })
}

/// How many notes the history has among its events.
pub fn count() -> usize {
    SHOWN.with_borrow(|shown| {
        shown
            .as_ref()
            .map_or(0, |shown| notes::of_page(&shown.page).len())
    })
}
