//! `POST /api/access-level/grant` and `/revoke`: the checks, the line
//! saying what is asked (written before Adapty hears of it; if it cannot
//! be written, nothing is sent), Adapty, and the line saying what came of
//! it. A change is never sent twice: not on a failure (see `adapty`), and
//! not when its request ID was sent already (see `replays`).

use super::answers;
use super::call::{self, Call};
use super::staff;
use super::writes;
use crate::audit::{self, ChangeEntry};
use crate::error::{Power, RelayError};
use crate::rules::change::{self, Action, Change};
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

pub async fn grant(call: Call, headers: HeaderMap, body: Body) -> Response {
    change_access(call, Action::Grant, headers, body).await
}

pub async fn revoke(call: Call, headers: HeaderMap, body: Body) -> Response {
    change_access(call, Action::Revoke, headers, body).await
}

async fn change_access(mut call: Call, action: Action, headers: HeaderMap, body: Body) -> Response {
    let change_id = uuid::Uuid::new_v4().to_string();
    let read = read(&call, action, &headers, body).await;
    let (change, app) = match read {
        Ok(read) => read,
        Err(error) => return refuse(call, &change_id, action, None, error).await,
    };
    let ready = call.pick_app(app.as_deref()).and_then(|app| {
        call.may_in(Power::Change, &app)?;
        Ok(app)
    });
    let app = match ready {
        Ok(app) => app,
        Err(error) => return refuse(call, &change_id, action, Some(&change), error).await,
    };
    let calls = call.services().calls.clone();
    call::to_the_end(&calls, async move {
        let line = |phase| line(&call, &change_id, action, Some(&change), phase);
        let services = call.services();
        let actor = &call.caller().expect("checked above").actor;
        // The request ID first: a repeat spends none of the allowance.
        let claim = services
            .replays
            .claim(actor, call.request_id())
            .and_then(|claim| services.apps.take_change(&app, actor).map(|()| claim));
        let claim = match claim {
            Ok(claim) => claim,
            Err(error) => return refuse_in(&call, action, line("refused"), error).await,
        };
        if let Err(error) = services.audit.record(&line("asked")).await {
            tracing::error!(%error, "a change was refused: its audit line cannot be written");
            let error = RelayError::AuditUnavailable;
            return refuse_in(&call, action, line("refused"), error).await;
        }
        let fetched = app.upstream.change_access(&change).await;
        // Held through the call, so a repeat sent meanwhile is refused too;
        // given back only when nothing reached Adapty.
        if !fetched.nothing_sent() {
            claim.keep();
        }
        let outcome = writes::outcome(&fetched.result);
        let done = writes::done_line(&call, line("done"), &fetched);
        let _ = services.audit.record(&done).await;
        // After the audit line, and bounded: the store shows the change to
        // the next agent, but never holds up its answer for long.
        if !fetched.nothing_sent() {
            let record = staff::record_change(
                services,
                &app.id,
                &change_id,
                &actor.0,
                &change,
                &fetched.result,
            );
            if tokio::time::timeout(staff::RECORD_DEADLINE, record)
                .await
                .is_err()
            {
                tracing::error!(
                    change_id,
                    "a change is not in the store's feed: the store did not answer in time"
                );
            }
        }
        let response = answers::profile(fetched.result);
        writes::count(&call, action.name(), outcome);
        response
    })
    .await
}

/// The checks before the body names the app: the shared ones, a role that
/// may change access somewhere, JSON, and the body's own rules.
async fn read(
    call: &Call,
    action: Action,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Change, Option<String>), RelayError> {
    call.may_somewhere(Power::Change)?;
    change::check_content_type(headers)?;
    // Read whole already, within its deadline and size (see `bodies`).
    let body = axum::body::to_bytes(body, change::MAX_BODY_BYTES)
        .await
        .map_err(|_| RelayError::BodyTooLarge(change::MAX_BODY_BYTES))?;
    Change::read(action, &body, chrono::Utc::now())
}

/// Refused before anything was sent.
async fn refuse(
    call: Call,
    change_id: &str,
    action: Action,
    change: Option<&Change>,
    error: RelayError,
) -> Response {
    let line = line(&call, change_id, action, change, "refused");
    refuse_in(&call, action, line, error).await
}

async fn refuse_in(
    call: &Call,
    action: Action,
    line: ChangeEntry<'_>,
    error: RelayError,
) -> Response {
    let refused = writes::refused_line(call, line, &error);
    call.refused(&refused, &error).await;
    writes::count(call, action.name(), error.code().as_str());
    error.into_response()
}

/// A line of the change: `phase` is `asked`, `done` or `refused`; only what
/// had been checked by then is named.
fn line<'a>(
    call: &'a Call,
    change_id: &'a str,
    action: Action,
    change: Option<&'a Change>,
    phase: &'a str,
) -> ChangeEntry<'a> {
    ChangeEntry {
        time: audit::now(),
        change_id,
        request_id: call.request_id(),
        actor: call.actor(),
        app: call.app_id(),
        action: action.name(),
        phase,
        kind: change.map(|change| change.customer.kind()),
        id: change.map(|change| call.services().audit.id(&change.customer.id())),
        access_level_id: change.map(|change| change.access_level_id.as_str()),
        dates: change.map(Change::audit_dates),
        reason: change.map(|change| change.reason.as_str()),
        correction: None,
        profile_id: None,
        outcome: None,
        status: None,
        upstream_status: None,
        latency_ms: None,
    }
}
