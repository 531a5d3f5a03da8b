//! The dialog that grants, extends or revokes an access level, corrects
//! the profile (contact details and custom attributes) or erases the
//! customer: the choices, the preview, the reason, the confirm button that
//! names the action. A native modal `<dialog>`: the page behind is inert,
//! focus stays inside, Escape cancels. What each choice means is decided
//! in `crate::change`, `crate::correction` and `crate::erasure`.
//!
//! Written for weight: one `<dialog>` element in the app, its fixed markup
//! one constant string per action (nothing from Adapty or the agent goes
//! into it), the few values that change written into it as text by ID. As
//! Leptos views with signals the same dialog weighed about 6 KB brotli
//! more (measured with `cargo xtask bench`; docs/performance.md), most of
//! the room left for the panel's next features.

use crate::browser;
use crate::change::{self, Action, Draft, Failure};
use crate::correction::{Correction, Edit};
use crate::erasure;
use crate::feed::Feed;
use crate::format::Clock;
use crate::handoff;
use crate::lookup::Lookup;
use crate::model::AccessLevel;
use crate::transport::{self, Fetched};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::correction::{field, Erased};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

/// The zone the dialog's dates are in (who may change access comes with
/// each profile's app).
#[derive(Clone, Copy)]
pub struct Desk {
    pub clock: RwSignal<Clock>,
}

/// What the dialog is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum What {
    Access(Action),
    /// Contact details and custom attributes.
    Correct,
    Erase,
}

impl Desk {
    /// Opens the dialog for `what` on `found` (for an access change, the
    /// level's place, if any), as the button `opener` asks: the profile's
    /// buttons are plain markup, their clicks read in one place
    /// (`profile::ProfileView`), lighter than a view each.
    pub fn open(self, found: &Arc<Fetched>, what: What, level: Option<usize>, opener: &str) {
        open(Dialog {
            what,
            found: found.clone(),
            level,
            utc: self.clock.with_untracked(|clock| clock.utc),
            opener: opener.into(),
            tried: Cell::new(false),
            sending: Cell::new(false),
            unknown: Cell::new(false),
        })
    }
}

thread_local! {
    /// The open dialog, if any. A plain cell: nothing renders from it, and
    /// a reactive value would cost wasm.
    static OPEN: RefCell<Option<Rc<Dialog>>> = const { RefCell::new(None) };
}

fn current() -> Option<Rc<Dialog>> {
    OPEN.with_borrow(Clone::clone)
}

/// Closes the dialog without its `close` handling (focus goes elsewhere).
fn close_quietly() {
    OPEN.take();
    browser::close_dialog(DIALOG);
}

/// Writes the dialog for `dialog` and shows it.
fn open(dialog: Dialog) {
    browser::set_html(DIALOG, &markup(dialog.what));
    dialog.fill();
    OPEN.set(Some(Rc::new(dialog)));
    browser::show_modal(DIALOG);
}

/// The dialog's fields, in `Draft::from_fields`'s order.
const FIELDS: [&str; 6] = [
    "change-level",
    "change-length",
    "change-until",
    "change-moment",
    "change-on",
    "change-reason",
];
const DIALOG: &str = "change-dialog";
const PROBLEM: &str = "change-problem";
const CONFIRM: &str = "change-confirm";
const CANCEL: &str = "change-cancel";
const AGAIN: &str = "change-again";
const REASON: &str = "change-reason";
/// A correction's rows of custom attributes, and its button that adds one.
const ROWS: &str = "fix-rows";
const ADD: &str = "fix-add";
/// An erasure's field for the customer's ID typed again.
const TYPED: &str = "erase-typed";

/// The fixed markup of the dialog for `what`: constant text only. The
/// title, the customer, the access levels to choose from, the attributes,
/// the preview and the problems are written in as text or values
/// (`Dialog::fill`, `Dialog::refresh`).
fn markup(what: What) -> String {
    let mut html = String::from(
        r#"<form><h2 id="change-title"></h2><p class="muted">Customer <code id="change-customer"></code></p>"#,
    );
    match what {
        What::Access(action) => html += &access_fields(action),
        What::Correct => {
            // Each contact field's ID is its name in the body (`field::CONTACT`).
            html += r#"<fieldset><legend>Contact details</legend><p class="muted">Adapty keeps them but never shows them back; a field left empty stays as it is.</p><div class="fields"><label for="email">Email</label><input id="email" inputmode="email" maxlength="254"><label for="phone_number">Phone number</label><input id="phone_number" inputmode="tel" maxlength="254"><label for="first_name">First name</label><input id="first_name" maxlength="254"><label for="last_name">Last name</label><input id="last_name" maxlength="254"></div></fieldset><fieldset><legend>Custom attributes</legend><div id="fix-rows"></div><button type="button" class="secondary" id="fix-add">Add an attribute</button></fieldset><div class="fields">"#;
        }
        What::Erase => {
            html += r#"<p class="warning">Adapty deletes this customer for good: it cannot be undone. Their history comes back only if the same store account buys or restores again.</p><p>The audit log keeps a record of the erasure: who, when and why (the ID hashed, if the relay hashes IDs).</p><div class="fields">"#;
        }
    }
    html += r#"<label for="change-reason">Reason (for the audit log)</label><textarea id="change-reason" rows="2" maxlength=""#;
    html += &protocol::reason::MAX_CHARS.to_string();
    html += r#""></textarea>"#;
    if what == What::Erase {
        html += r#"<label for="erase-typed">Type the ID shown above again to confirm</label><input id="erase-typed" autocomplete="off" autocapitalize="off" spellcheck="false">"#;
    }
    html += "</div>";
    if what == What::Access(Action::Revoke) {
        // Its words depend on the level (a sandbox one costs nothing).
        html += r#"<p class="warning" id="change-warning" hidden></p>"#;
    }
    html += r#"<p id="change-preview" class="preview" aria-live="polite"></p><p id="change-problem" class="problem" role="alert"></p><div class="actions"><button id="change-confirm""#;
    // Revoking takes access away, erasing the customer: their buttons look like it.
    if matches!(what, What::Access(Action::Revoke) | What::Erase) {
        html += r#" class="danger""#;
    }
    html + r#"></button><button id="change-again" hidden>Look up again</button><button class="secondary" id="change-cancel">Cancel</button></div></form>"#
}

/// An access change's fields before the reason, in an open `.fields`.
fn access_fields(action: Action) -> String {
    let mut html = String::from(r#"<div class="fields">"#);
    if action == Action::Grant {
        html += r#"<label for="change-level">Access level</label><input id="change-level" list="change-levels" autocomplete="off" spellcheck="false"><datalist id="change-levels"></datalist>"#;
    }
    if action != Action::Revoke {
        html += r#"<label for="change-length">"#;
        html += if action == Action::Extend {
            "Add to the current end"
        } else {
            "How long"
        };
        html += r#"</label><div class="pick"><select id="change-length"><option value="7">7 days</option><option value="30" selected>30 days</option><option value="year">1 year</option><option value="life">Lifetime</option><option value="date">Until a date</option></select><input type="date" id="change-until" aria-label="Access ends on"></div>"#;
    }
    if action != Action::Extend {
        let (label, later) = if action == Action::Revoke {
            ("Access ends", "At the end of a date")
        } else {
            ("Starting", "On a date")
        };
        for piece in [
            r#"<label for="change-moment">"#,
            label,
            r#"</label><div class="pick"><select id="change-moment"><option value="now">Now</option><option value="date">"#,
            later,
            r#"</option></select><input type="date" id="change-on" aria-label=""#,
            later,
            r#""></div>"#,
        ] {
            html += piece;
        }
    }
    html
}

/// A row of a correction's custom attributes (`browser::append_row`): its
/// key, its value and the button that removes it, the one without an ID
/// (`browser::clicked`).
const ROW: &str = r#"<input aria-label="Key" placeholder="key" autocomplete="off" spellcheck="false"><input aria-label="Value" placeholder="value" autocomplete="off"><button type="button" class="secondary">Remove</button>"#;

/// The dialog's first field for `what`; Cancel is its last.
fn first_field(what: What) -> &'static str {
    match what {
        What::Access(Action::Grant) => "change-level",
        What::Access(Action::Extend) => "change-length",
        What::Access(Action::Revoke) => "change-moment",
        What::Correct => field::EMAIL,
        What::Erase => REASON,
    }
}

/// One open dialog: what it is for, and where it stands.
struct Dialog {
    what: What,
    found: Arc<Fetched>,
    level: Option<usize>,
    utc: bool,
    /// The button that opened it, focused again when it closes unchanged.
    opener: String,
    /// Confirm was pressed: a missing reason is now said.
    tried: Cell<bool>,
    sending: Cell<bool>,
    /// The change was sent and its outcome is unknown: it cannot be sent
    /// again from this dialog, only looked up.
    unknown: Cell<bool>,
}

/// What a confirmed dialog sends, and what to say once it is done.
enum Sending {
    /// An access change and its notice.
    Change(String),
    /// A correction: its notice depends on Adapty's answer.
    Correct(Correction),
    Erase,
}

impl Dialog {
    fn level(&self) -> Option<&AccessLevel> {
        self.level
            .and_then(|n| self.found.profile.access_levels.get(n))
    }

    fn action(&self) -> Action {
        match self.what {
            What::Access(action) => action,
            _ => Action::Grant,
        }
    }

    fn draft(&self) -> Draft {
        let mut fields = FIELDS.map(browser::field_value);
        if let Some(level) = self.level() {
            fields[0] = level.access_level_id.clone();
        }
        Draft::from_fields(self.action(), fields)
    }

    fn plan(&self, draft: &Draft) -> Result<change::Plan, String> {
        draft
            .plan(
                &self.found.profile.profile_id,
                self.level(),
                &browser::clock(self.utc),
            )
            .map(|plan| plan.in_app(&self.found.app.id))
    }

    /// A correction's fields as they are.
    fn edit(&self) -> Edit {
        Edit {
            contact: field::CONTACT
                .iter()
                .map(|name| browser::field_value(name))
                .collect(),
            rows: browser::row_values(ROWS),
        }
    }

    /// A correction of the customer, with the reason as it is.
    fn correction(&self) -> Result<Correction, String> {
        self.edit().plan(
            &self.found.profile.custom_attributes,
            &self.customer(),
            &browser::field_value(REASON),
        )
    }

    /// The request (its path and JSON body) and what it is, or what is
    /// missing in a sentence.
    fn request(&self) -> Result<(&'static str, String, Sending), String> {
        Ok(match self.what {
            What::Access(_) => {
                let plan = self.plan(&self.draft())?;
                (
                    plan.path,
                    plan.body().to_json(),
                    Sending::Change(plan.notice),
                )
            }
            What::Correct => {
                let correction = self.correction()?;
                let body = correction.body.clone();
                (
                    protocol::path::PROFILE_UPDATE,
                    body,
                    Sending::Correct(correction),
                )
            }
            What::Erase => {
                let typed = browser::field_value(TYPED);
                let reason = browser::field_value(REASON);
                let body = erasure::body(&self.customer(), &reason, &typed)?;
                (
                    protocol::path::PROFILE_ERASE,
                    body.to_json(),
                    Sending::Erase,
                )
            }
        })
    }

    /// The values that come from Adapty, written in as text.
    fn fill(&self) {
        let profile = &self.found.profile;
        let customer = self.customer();
        let title = match (self.what, self.level()) {
            (What::Correct, _) => "Correct the profile".to_owned(),
            (What::Erase, _) => "Erase customer".to_owned(),
            (_, Some(level)) => format!("{} {}", self.action().verb(), level.access_level_id),
            _ => "Grant access".to_owned(),
        };
        browser::set_text("change-title", &title);
        // The confirm button names the action.
        browser::set_text(
            CONFIRM,
            if self.what == What::Correct {
                "Save"
            } else {
                &title
            },
        );
        browser::set_text("change-customer", &customer.id);
        for attribute in &profile.custom_attributes {
            browser::append_row(
                ROWS,
                ROW,
                [&attribute.key, &attribute.value.to_string()],
                false,
            );
        }
        let mut known: Vec<&str> = Vec::new();
        for level in &profile.access_levels {
            if !known.contains(&level.access_level_id.as_str()) {
                known.push(&level.access_level_id);
            }
        }
        browser::add_options("change-levels", &known);
        let warning = self
            .level()
            .and_then(|level| change::store_warning(level, browser::clock(self.utc).now));
        browser::set_text("change-warning", warning.unwrap_or_default());
        browser::set_hidden("change-warning", warning.is_none());
        self.refresh();
    }

    /// The preview, and once confirm was pressed, what is still missing.
    fn refresh(&self) {
        let preview = match self.what {
            What::Access(_) => self.plan(&self.draft()).map(|plan| plan.preview),
            What::Correct => self.correction().map(|correction| correction.preview),
            What::Erase => {
                // Confirm waits for the ID typed again, exactly.
                if !self.sending.get() && !self.unknown.get() {
                    let typed = browser::field_value(TYPED);
                    browser::set_disabled(CONFIRM, typed != self.customer().id);
                }
                Ok(String::new())
            }
        };
        browser::set_text("change-preview", &preview.unwrap_or_else(|problem| problem));
        if self.tried.get() && !self.unknown.get() {
            let reason = browser::field_value(REASON);
            browser::set_text(
                PROBLEM,
                &change::reason_problem(&reason).unwrap_or_default(),
            );
            browser::set_hidden(AGAIN, true);
        }
    }

    /// The customer, as the page shows them, to look up again.
    fn customer(&self) -> Lookup {
        handoff::customer(&self.found.profile, &self.found.app.id)
    }

    fn set_sending(&self, sending: bool) {
        self.sending.set(sending);
        browser::set_disabled(CONFIRM, sending);
        browser::set_disabled(CANCEL, sending);
    }
}

/// The dialog, once in the app, empty until a button opens it. After a
/// change or a correction, `on_changed` gets the profile Adapty answered
/// with and the notice naming the change; after an erasure, `on_erased`
/// gets the customer and what the relay did; after an unknown outcome,
/// *Look up again* gives `look_up` the customer.
pub fn dialog(
    on_changed: impl Fn(Fetched, String) + Copy + 'static,
    on_erased: impl Fn(Lookup, Erased) + Copy + 'static,
    look_up: impl Fn(Lookup) + Copy + 'static,
) -> impl IntoView {
    let confirm = move |dialog: Rc<Dialog>| {
        dialog.tried.set(true);
        if let Some(problem) = change::reason_problem(&browser::field_value(REASON)) {
            browser::set_text(PROBLEM, &problem);
            browser::focus(REASON);
            return;
        }
        let (path, body, sending) = match dialog.request() {
            Ok(request) => request,
            Err(problem) => return browser::set_text(PROBLEM, &problem),
        };
        browser::set_text(PROBLEM, "");
        dialog.set_sending(true);
        spawn_local(async move {
            let why = match transport::post(path, body).await {
                Ok((status, content_type, body)) => {
                    let content_type = content_type.as_deref();
                    match sending {
                        Sending::Erase => match erasure::read_answer(status, content_type, &body) {
                            Ok(erased) => {
                                close_quietly();
                                return on_erased(dialog.customer(), erased);
                            }
                            Err(why) => why,
                        },
                        sending => match change::read_answer(status, content_type, &body) {
                            Ok(profile) => {
                                close_quietly();
                                let notice = match sending {
                                    Sending::Correct(correction) => correction.notice(&profile),
                                    Sending::Change(notice) => notice,
                                    Sending::Erase => String::new(),
                                };
                                let fetched = Fetched {
                                    profile,
                                    body,
                                    app: dialog.found.app.clone(),
                                    received: browser::clock(false).now,
                                    feed: Feed::NotConnected,
                                };
                                return on_changed(fetched, notice);
                            }
                            Err(why) => why,
                        },
                    }
                }
                Err(why) => why,
            };
            let unknown = why == Failure::OutcomeUnknown;
            dialog.unknown.set(unknown);
            dialog.set_sending(false);
            // Sent once; sending it again blindly could apply it twice.
            browser::set_disabled(CONFIRM, unknown);
            browser::set_text(PROBLEM, &why.message());
            browser::set_hidden(AGAIN, !unknown);
        });
    };
    view! {
        <dialog id=DIALOG aria-labelledby="change-title"
            on:input=|_| {
                if let Some(dialog) = current() {
                    dialog.refresh();
                }
            }
            // A correction's buttons that add and remove rows: not submit
            // buttons, so that Enter in a field still confirms.
            on:click=|event| {
                let Some(dialog) = current() else {
                    return;
                };
                match browser::clicked(&event).as_str() {
                    ADD => browser::append_row(ROWS, ROW, ["", ""], true),
                    "remove" => {
                        browser::focus(ADD);
                        dialog.refresh();
                    }
                    _ => {}
                }
            }
            // Its three buttons submit the form; which one did decides. The
            // first, the default one that Enter presses, confirms.
            on:submit=move |event| {
                event.prevent_default();
                let Some(dialog) = current() else {
                    return;
                };
                match browser::submitter_id(&event).as_str() {
                    AGAIN => {
                        close_quietly();
                        look_up(dialog.customer());
                    }
                    CANCEL => browser::close_dialog(DIALOG),
                    _ if dialog.unknown.get() || dialog.sending.get() => {}
                    _ => confirm(dialog),
                }
            }
            // Tab from Cancel, the last, goes to the first field, and
            // Shift+Tab back: focus never leaves for the browser's own UI.
            on:keydown=|event: leptos::ev::KeyboardEvent| {
                let Some(dialog) = current() else {
                    return;
                };
                let first = first_field(dialog.what);
                let (from, to) = if event.shift_key() {
                    (first, CANCEL)
                } else {
                    (CANCEL, first)
                };
                // The key's code: WebKitGTK names Shift+Tab's key "Unidentified".
                if event.code() == "Tab" && browser::focused_id() == from {
                    event.prevent_default();
                    browser::focus(to);
                }
            }
            // Escape cancels, but not while the change is on its way.
            on:cancel=|event: leptos::ev::Event| {
                if current().is_some_and(|dialog| dialog.sending.get()) {
                    event.prevent_default();
                }
            }
            // Closed unchanged: back to the button that opened it.
            on:close=|_| {
                if let Some(dialog) = OPEN.take() {
                    browser::focus(&dialog.opener);
                }
            }>
        </dialog>
    }
}

/// A button that opens the change dialog (`Desk::open`, from the click
/// handler of the view it is in).
pub(super) fn dialog_button(parent: &wasm_bindgen::JsValue, class: &str, id: &str, label: &str) {
    browser::add_with_properties(
        parent,
        "button",
        &[
            ("type", "button"),
            ("className", class),
            ("id", id),
            ("textContent", label),
        ],
    );
}
