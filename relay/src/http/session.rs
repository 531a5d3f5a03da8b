//! `GET /api/session`: what the panel is told once at start, after the same
//! checks as a lookup (only the panel's own script, a signed-in person), and
//! without asking Adapty anything. Its shape is `protocol::session`'s.

use super::call::Call;
use crate::error::Power;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::session::{Session, SessionApp};

pub async fn session(call: Call) -> Response {
    let caller = match call.caller() {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let apps: Vec<SessionApp> = call
        .services()
        .apps
        .current()
        .iter()
        .map(|app| SessionApp {
            id: app.id.clone(),
            name: app.name.clone(),
            can_change_access: app.may_change(caller),
            can_edit_profile: app.may(Power::Edit, caller),
            can_erase: app.may(Power::Erase, caller),
            can_bulk_check: app.may(Power::Bulk, caller),
            can_delete_any_note: app
                .notes_admin_role
                .as_deref()
                .is_some_and(|role| caller.has_role(role)),
        })
        .collect();
    let session = Session {
        actor: caller.actor.0.clone(),
        dashboard_profile_url: call
            .services()
            .dashboard_profile_url
            .as_deref()
            .map(str::to_owned),
        can_change_access: apps.iter().any(|app| app.can_change_access),
        apps,
        store: call.services().store.is_some(),
        bulk_max_ids: call.services().apps.max_bulk_ids(),
    };
    // Names the person: no browser or proxy may keep a copy.
    ([(header::CACHE_CONTROL, "no-store")], Json(session)).into_response()
}
