//! `GET /api/session`: what the panel is told once at start, after the same
//! checks as a lookup (only the panel's own script, a signed-in person), and
//! without asking Adapty anything.

use crate::csrf;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Serialize)]
struct Session<'a> {
    /// Who the relay takes the caller to be, as the audit log names them.
    actor: &'a str,
    /// The "Open in Adapty" link, `{profile_id}` to be filled in; `null`
    /// when the operator set none.
    dashboard_profile_url: Option<&'a str>,
    /// Whether this person may grant, extend and revoke access levels here:
    /// changes are on, and they are in the role. The panel shows the actions
    /// only then; the change routes check it again on every call.
    can_change_access: bool,
}

pub async fn session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(error) = csrf::check(&headers, &state.public_origins) {
        return error.into_response();
    }
    match state.identity.caller(&headers).await {
        Ok(caller) => (
            // Names the person: no browser or proxy may keep a copy.
            [(header::CACHE_CONTROL, "no-store")],
            Json(Session {
                actor: &caller.actor.0,
                dashboard_profile_url: state.panel.dashboard_profile_url.as_deref(),
                can_change_access: state
                    .changes
                    .as_ref()
                    .is_some_and(|changes| caller.has_role(&changes.role)),
            }),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}
