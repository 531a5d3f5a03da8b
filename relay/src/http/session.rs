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
    /// Whether this person may change access in some app (the first app's
    /// right when there is one; kept for panels that predate `apps`).
    can_change_access: bool,
    /// The apps served, in the operator's order.
    apps: Vec<SessionApp<'a>>,
}

#[derive(Serialize)]
struct SessionApp<'a> {
    id: &'a str,
    name: &'a str,
    /// Whether this person may grant, extend and revoke access levels in
    /// this app: changes are on, and they are in its role. The panel shows
    /// the actions only then; the change routes check it again on every call.
    can_change_access: bool,
}

pub async fn session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(error) = csrf::check(&headers, &state.public_origins) {
        return error.into_response();
    }
    let caller = match state.identity.caller(&headers).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let apps = state.apps.current();
    let apps: Vec<SessionApp> = apps
        .iter()
        .map(|app| SessionApp {
            id: &app.id,
            name: &app.name,
            can_change_access: app
                .changes
                .as_ref()
                .is_some_and(|changes| caller.has_role(&changes.role)),
        })
        .collect();
    (
        // Names the person: no browser or proxy may keep a copy.
        [(header::CACHE_CONTROL, "no-store")],
        Json(Session {
            actor: &caller.actor.0,
            dashboard_profile_url: state.panel.dashboard_profile_url.as_deref(),
            can_change_access: apps.iter().any(|app| app.can_change_access),
            apps,
        }),
    )
        .into_response()
}
