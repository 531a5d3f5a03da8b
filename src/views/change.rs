//! The dialog that grants, extends or revokes an access level: the choices,
//! the preview, the reason, the confirm button that names the action. A
//! native modal `<dialog>`: the page behind is inert, focus stays inside,
//! Escape cancels. What each choice means is decided in `crate::change`.
//!
//! Written for weight: one `<dialog>` element in the app, its fixed markup
//! one constant string per action (nothing from Adapty or the agent goes
//! into it), the few values that change written into it as text by ID. As
//! Leptos views with signals the same dialog weighed about 6 KB brotli
//! more (measured with `cargo xtask bench`; docs/performance.md), most of
//! the room left for the panel's next features.

use crate::browser;
use crate::change::{self, Action, Draft, Failure};
use crate::format::Clock;
use crate::lookup::{IdKind, Lookup};
use crate::model::AccessLevel;
use crate::transport::{send_change, Fetched};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

/// The zone the dialog's dates are in (who may change access comes with
/// each profile's app).
#[derive(Clone, Copy)]
pub struct Desk {
    pub clock: RwSignal<Clock>,
}

impl Desk {
    /// The button that opens the dialog for `action` on `found`'s access
    /// level `level` (its place and ID), or for a grant.
    pub fn button(
        self,
        found: &Arc<Fetched>,
        action: Action,
        level: Option<(usize, &str)>,
        id: String,
    ) -> impl IntoView {
        // Named in full, on a card too: "Extend premium".
        let label = match level {
            Some((_, level_id)) => format!("{} {level_id}", action.verb()),
            None => "Grant access".to_owned(),
        };
        let level = level.map(|(n, _)| n);
        let (found, opener) = (found.clone(), id.clone());
        view! {
            <button type="button" class="secondary" id=id
                on:click=move |_| open(Dialog {
                    action,
                    found: found.clone(),
                    level,
                    utc: self.clock.with_untracked(|clock| clock.utc),
                    opener: opener.clone(),
                    tried: Cell::new(false),
                    sending: Cell::new(false),
                    unknown: Cell::new(false),
                })>
                {label}
            </button>
        }
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
    browser::set_html(DIALOG, &markup(dialog.action));
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

/// The fixed markup of the dialog for `action`: constant text only. The
/// title, the customer, the access levels to choose from, the preview and
/// the problems are written in as text (`Dialog::fill`, `Dialog::refresh`).
fn markup(action: Action) -> String {
    let mut html = String::from(
        r#"<form><h2 id="change-title"></h2><p class="muted">Customer <code id="change-customer"></code></p><div class="fields">"#,
    );
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
    html += r#"<label for="change-reason">Reason (for the audit log)</label><textarea id="change-reason" rows="2" maxlength=""#;
    html += &protocol::reason::MAX_CHARS.to_string();
    html += r#""></textarea></div>"#;
    if action == Action::Revoke {
        // Its words depend on the level (a sandbox one costs nothing).
        html += r#"<p class="warning" id="change-warning" hidden></p>"#;
    }
    html += r#"<p id="change-preview" class="preview" aria-live="polite"></p><p id="change-problem" class="problem" role="alert"></p><div class="actions"><button id="change-confirm""#;
    // Revoking takes access away: its button looks like it.
    if action == Action::Revoke {
        html += r#" class="danger""#;
    }
    html + r#"></button><button id="change-again" hidden>Look up again</button><button class="secondary" id="change-cancel">Cancel</button></div></form>"#
}

/// The dialog's first field for `action`; Cancel is its last.
fn first_field(action: Action) -> &'static str {
    match action {
        Action::Grant => "change-level",
        Action::Extend => "change-length",
        Action::Revoke => "change-moment",
    }
}

/// One open dialog: what it is for, and where it stands.
struct Dialog {
    action: Action,
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

impl Dialog {
    fn level(&self) -> Option<&AccessLevel> {
        self.level
            .and_then(|n| self.found.profile.access_levels.get(n))
    }

    fn draft(&self) -> Draft {
        let mut fields = FIELDS.map(browser::field_value);
        if let Some(level) = self.level() {
            fields[0] = level.access_level_id.clone();
        }
        Draft::from_fields(self.action, fields)
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

    /// The values that come from Adapty, written in as text.
    fn fill(&self) {
        let profile = &self.found.profile;
        let title = match self.level() {
            Some(level) => format!("{} {}", self.action.verb(), level.access_level_id),
            None => "Grant access".to_owned(),
        };
        browser::set_text("change-title", &title);
        // The confirm button names the action.
        browser::set_text(CONFIRM, &title);
        browser::set_text(
            "change-customer",
            profile
                .customer_user_id
                .as_ref()
                .unwrap_or(&profile.profile_id),
        );
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
        let draft = self.draft();
        let preview = self
            .plan(&draft)
            .map_or_else(|problem| problem, |plan| plan.preview);
        browser::set_text("change-preview", &preview);
        if self.tried.get() && !self.unknown.get() {
            browser::set_text(PROBLEM, &draft.reason_problem().unwrap_or_default());
            browser::set_hidden(AGAIN, true);
        }
    }

    /// The customer, as the page shows them, to look up again.
    fn customer(&self) -> Lookup {
        let profile = &self.found.profile;
        match &profile.customer_user_id {
            Some(id) => Lookup {
                kind: IdKind::CustomerUserId,
                id: id.clone(),
                app: self.found.app.id.clone(),
            },
            None => Lookup {
                kind: IdKind::ProfileId,
                id: profile.profile_id.clone(),
                app: self.found.app.id.clone(),
            },
        }
    }

    fn set_sending(&self, sending: bool) {
        self.sending.set(sending);
        browser::set_disabled(CONFIRM, sending);
        browser::set_disabled(CANCEL, sending);
    }
}

/// The dialog, once in the app, empty until a button opens it. After a
/// change, `on_changed` gets the profile Adapty answered with and the
/// notice naming the change; after an unknown outcome, *Look up again*
/// gives `look_up` the customer.
pub fn dialog(
    on_changed: impl Fn(Fetched, String) + Copy + 'static,
    look_up: impl Fn(Lookup) + Copy + 'static,
) -> impl IntoView {
    let confirm = move |dialog: Rc<Dialog>| {
        dialog.tried.set(true);
        let draft = dialog.draft();
        if let Some(problem) = draft.reason_problem() {
            browser::set_text(PROBLEM, &problem);
            browser::focus("change-reason");
            return;
        }
        let Ok(plan) = dialog.plan(&draft) else {
            return;
        };
        browser::set_text(PROBLEM, "");
        dialog.set_sending(true);
        spawn_local(async move {
            match send_change(&plan).await {
                Ok(mut fetched) => {
                    close_quietly();
                    fetched.app = dialog.found.app.clone();
                    on_changed(fetched, plan.notice);
                }
                Err(why) => {
                    let unknown = why == Failure::OutcomeUnknown;
                    dialog.unknown.set(unknown);
                    dialog.set_sending(false);
                    // Sent once; sending it again blindly could apply it twice.
                    browser::set_disabled(CONFIRM, unknown);
                    browser::set_text(PROBLEM, &why.message());
                    browser::set_hidden(AGAIN, !unknown);
                }
            }
        });
    };
    view! {
        <dialog id=DIALOG aria-labelledby="change-title"
            on:input=|_| {
                if let Some(dialog) = current() {
                    dialog.refresh();
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
                let first = first_field(dialog.action);
                let (from, to) = if event.shift_key() {
                    (first, CANCEL)
                } else {
                    (CANCEL, first)
                };
                if event.key() == "Tab" && browser::focused_id() == from {
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
