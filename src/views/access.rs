//! Access levels: one card each, with its state, flags and the sentence that
//! explains it.
//!
//! Written for weight as the notes are: the cards are drawn into the
//! section's constant markup (`profile::ProfileView`) with their values as
//! text, never markup, and drawn again when the clock or *Hide sandbox*
//! changes. *Extend*, *Revoke* and *Grant access* are plain buttons whose
//! clicks the profile reads (`profile::clicked`) by their IDs.

use super::cell::{write_cell, write_details};
use crate::browser;
use crate::cells::{self, Cell};
use crate::change::Action;
use crate::explain;
use crate::format::Clock;
use crate::model::AccessLevel;
use crate::status::{is_sandbox, State};
use crate::transport::Fetched;
use wasm_bindgen::JsValue;

/// The section's heading, written again with the cards.
const HEADING: &str = r#"<h2 id="access-heading">Access levels <span class="count"></span></h2>"#;

/// Draws the section: the count, a card for each level not hidden (or a
/// line saying why there is none), and *Grant access* when access changes
/// are offered to this person. What had focus in it has it again.
pub fn draw(found: &Fetched, clock: &Clock, hide_sandbox: bool) {
    let section = browser::get(&browser::by_id("access-heading"), "parentNode");
    let focused = browser::focused_id();
    browser::set_properties(&section, &[("innerHTML", HEADING)]);
    let levels = &found.profile.access_levels;
    browser::set_properties(
        &browser::get(&browser::by_id("access-heading"), "lastElementChild"),
        &[("textContent", &levels.len().to_string())],
    );
    let may_change = found.app.can_change_access;
    let mut list = JsValue::UNDEFINED;
    for (index, level) in levels.iter().enumerate() {
        if hide_sandbox && is_sandbox(level.effective_environment()) {
            continue;
        }
        if list.is_undefined() {
            list = browser::add_with_properties(&section, "div", &[("className", "access-levels")]);
        }
        card(&list, index, level, clock, may_change);
    }
    if list.is_undefined() {
        let why = if levels.is_empty() {
            "This customer has no access levels."
        } else {
            "Only sandbox access levels, hidden."
        };
        browser::add_with_properties(
            &section,
            "p",
            &[("className", "empty"), ("textContent", why)],
        );
    }
    if may_change {
        super::change::dialog_button(&section, "secondary", "grant-access", "Grant access");
    }
    // Written again, the element that had focus is a new one of the same ID.
    if !focused.is_empty() && browser::focused_id().is_empty() {
        browser::focus(&focused);
    }
}

/// `index` names the card (`events::Item::anchor`), for the history's
/// links and its *Extend* and *Revoke* buttons. Those buttons are there
/// where they can do something (not extending lifetime access, not
/// revoking what has ended).
fn card(list: &JsValue, index: usize, level: &AccessLevel, clock: &Clock, may_change: bool) {
    let status = level.status(clock.now);
    let state = status.state;
    let place = index.to_string();
    let card = browser::add_with_properties(
        list,
        "article",
        &[
            (
                "className",
                &["access-level ", status.tone().class()].concat(),
            ),
            ("id", &["access-level-", &place].concat()),
            ("tabIndex", "-1"),
        ],
    );
    let header = browser::add_with_properties(&card, "header", &[]);
    browser::add_with_properties(&header, "h3", &[("textContent", &level.access_level_id)]);
    write_cell(&header, &Cell::status(status));
    if may_change {
        let actions = browser::add_with_properties(&header, "div", &[("className", "actions")]);
        // Named in full, on a card too: "Extend premium".
        let button = |action: Action, prefix: &str| {
            let label = [action.verb(), " ", &level.access_level_id].concat();
            let id = [prefix, &place].concat();
            super::change::dialog_button(&actions, "secondary", &id, &label);
        };
        if !matches!(state, State::Lifetime | State::Unknown) {
            button(Action::Extend, "extend-");
        }
        if !matches!(state, State::Expired | State::Unknown) {
            button(Action::Revoke, "revoke-");
        }
    }
    browser::add_with_properties(
        &card,
        "p",
        &[
            ("className", "explain"),
            ("textContent", &explain::access_level(level, clock)),
        ],
    );
    write_details(&card, &cells::access_details(level, clock));
}
