//! `POST /api/notes` and `POST /api/notes/{id}/delete`: support's notes on
//! a customer, kept in the relay's store (reading them is a store read,
//! `store_reads`). The checks of a change (Host, CSRF, identity, JSON, the
//! app, a person's hourly allowance, the audit log's health), a signed-in
//! author (never 'anonymous'), and an audit line that names the note and
//! its length, never its text. Only the author, or a person in the notes
//! admin role, deletes a note; its row then says who did, and when.

use super::call::Call;
use crate::audit::NoteEntry;
use crate::error::RelayError;
use crate::rules::change::check_content_type;
use crate::rules::notes::{self, NewNote};
use crate::store::notes::{NewNote as StoreNote, NoteOutcome};
use crate::store::Store;
use axum::body::Body;
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use protocol::param;
use std::sync::Arc;

pub async fn add(mut call: Call, headers: HeaderMap, body: Body) -> Response {
    let note_id = uuid::Uuid::new_v4().to_string();
    let read = async {
        let store = ready_store(&call)?;
        check_content_type(&headers)?;
        let body = axum::body::to_bytes(body, notes::MAX_BODY_BYTES)
            .await
            .map_err(|_| RelayError::BodyTooLarge(notes::MAX_BODY_BYTES))?;
        let (note, app) = NewNote::read(&body)?;
        Ok::<_, RelayError>((store, note, app))
    };
    let (store, note, app) = match read.await {
        Ok(read) => read,
        Err(error) => return refuse(&call, "note_add", None, None, error).await,
    };
    if let Err(error) = checks(&mut call, app.as_deref()) {
        return refuse(&call, "note_add", None, Some(&note.profile_id), error).await;
    }
    let app = call.app().cloned();
    if let Some(record) = erased(&store, app.as_deref(), &note.profile_id).await {
        return refuse(
            &call,
            "note_add",
            None,
            Some(&note.profile_id),
            RelayError::Erased(record),
        )
        .await;
    }
    let chars = note.text.chars().count();
    let asked = entry::<()>(
        &call,
        "note_add",
        Some(&note_id),
        Some(&note.profile_id),
        Some(chars),
        None,
    );
    if let Err(error) = before(&call, &asked).await {
        return refuse(
            &call,
            "note_add",
            Some(&note_id),
            Some(&note.profile_id),
            error,
        )
        .await;
    }
    let author = call.actor().unwrap_or_default().to_owned();
    let new = StoreNote {
        note_id: &note_id,
        profile_id: &note.profile_id,
        author: &author,
        text: &note.text,
        check_on: note.check_on.as_deref(),
        at_ms: Utc::now().timestamp_millis(),
    };
    let app_id = call.app_id().unwrap_or_default().to_owned();
    let result = match store.add_note(&app_id, &new).await {
        Ok(NoteOutcome::Done(note)) => Ok(note),
        Ok(_) => Err(RelayError::InvalidRequest(format!(
            "this customer has {} notes already, the most a customer may have; delete one first",
            protocol::notes::MAX_NOTES
        ))),
        Err(error) => {
            tracing::error!(%error, "a note could not be kept");
            Err(RelayError::StoreUnavailable)
        }
    };
    let line = entry(
        &call,
        "note_add",
        Some(&note_id),
        Some(&note.profile_id),
        Some(chars),
        Some(&result),
    );
    finish(&call, &line, result).await
}

pub async fn delete(
    mut call: Call,
    Path(note_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let read = || {
        let store = ready_store(&call)?;
        let note_id = uuid::Uuid::parse_str(&note_id)
            .map(|id| id.hyphenated().to_string())
            .map_err(|_| RelayError::InvalidRequest("no note has this ID".into()))?;
        let app = app_of(query.as_deref())?;
        Ok::<_, RelayError>((store, note_id, app))
    };
    let (store, note_id, app) = match read() {
        Ok(read) => read,
        Err(error) => return refuse(&call, "note_delete", None, None, error).await,
    };
    if let Err(error) = checks(&mut call, app.as_deref()) {
        return refuse(&call, "note_delete", Some(&note_id), None, error).await;
    }
    // Anyone's note, for a person in the app's notes admin role.
    let any = call
        .app()
        .and_then(|app| app.notes_admin_role.as_deref())
        .zip(call.caller().ok())
        .is_some_and(|(role, caller)| caller.has_role(role));
    let asked = entry::<()>(&call, "note_delete", Some(&note_id), None, None, None);
    if let Err(error) = before(&call, &asked).await {
        return refuse(&call, "note_delete", Some(&note_id), None, error).await;
    }
    let by = call.actor().unwrap_or_default().to_owned();
    let app_id = call.app_id().unwrap_or_default().to_owned();
    let at = Utc::now().timestamp_millis();
    let (result, profile_id) = match store.delete_note(&app_id, &note_id, &by, any, at).await {
        Ok((NoteOutcome::Done(note), profile_id)) => (Ok(note), profile_id),
        Ok((NoteOutcome::Unknown, profile_id)) => (
            Err(RelayError::InvalidRequest("no note has this ID in this app".into())),
            profile_id,
        ),
        Ok((NoteOutcome::AlreadyDeleted, profile_id)) => (
            Err(RelayError::InvalidRequest("this note is deleted already".into())),
            profile_id,
        ),
        Ok((NoteOutcome::NotYours(author), profile_id)) => (
            Err(RelayError::Forbidden(format!(
                "only its author ({author}) or a person in the notes admin role may delete this note"
            ))),
            profile_id,
        ),
        Ok((NoteOutcome::Full, profile_id)) => (Err(RelayError::Internal), profile_id),
        Err(error) => {
            tracing::error!(%error, "a note could not be deleted");
            (Err(RelayError::StoreUnavailable), None)
        }
    };
    let line = entry(
        &call,
        "note_delete",
        Some(&note_id),
        profile_id.as_deref(),
        None,
        Some(&result),
    );
    finish(&call, &line, result).await
}

/// The store, ready, and a signed-in author: a note by 'anonymous' says
/// nothing of who wrote it.
fn ready_store(call: &Call) -> Result<Arc<Store>, RelayError> {
    call.caller()?;
    let services = call.services();
    let store = services
        .store
        .clone()
        .ok_or(RelayError::StoreNotConfigured)?;
    if !services.identity.is_configured() {
        return Err(RelayError::Forbidden(
            "notes need to know who writes them, and this relay knows no one: the operator \
             sets --identity-header or --jwt-header"
                .into(),
        ));
    }
    Ok(store)
}

/// The app, the person's hourly allowance of notes, the audit log's health.
fn checks(call: &mut Call, app: Option<&str>) -> Result<(), RelayError> {
    call.pick_app(app)?;
    let actor = &call.caller()?.actor;
    call.services().apps.take_note(actor)?;
    call.audit_ready()
}

/// The line saying what is asked, before the store is written: if it
/// cannot be written, nothing is.
async fn before(call: &Call, line: &NoteEntry<'_>) -> Result<(), RelayError> {
    call.services().audit.record(line).await.map_err(|error| {
        tracing::error!(%error, "a note was refused: its audit line cannot be written");
        RelayError::AuditUnavailable
    })
}

/// The erasure the store remembers of this customer: no note is kept
/// about a customer who asked to be forgotten.
async fn erased(
    store: &Store,
    app: Option<&crate::apps::App>,
    profile_id: &str,
) -> Option<protocol::correction::ErasureRecord> {
    let app = app?;
    let id = app.erased_id(param::PROFILE_ID, profile_id);
    store.erasure_of(&app.id, &id).await.ok().flatten()
}

/// A delete's only parameter: `app`, at most once.
fn app_of(query: Option<&str>) -> Result<Option<String>, RelayError> {
    let mut app = None;
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if name != param::APP || app.replace(value.into_owned()).is_some() {
            return Err(RelayError::InvalidRequest(format!(
                "a note's deletion takes only {}, once",
                param::APP
            )));
        }
    }
    Ok(app)
}

/// A line of a note: `result` `None` is the line written before the store
/// is asked.
fn entry<'a, T>(
    call: &'a Call,
    action: &'static str,
    note_id: Option<&'a str>,
    profile_id: Option<&str>,
    text_chars: Option<usize>,
    result: Option<&Result<T, RelayError>>,
) -> NoteEntry<'a> {
    let (phase, outcome, status) = match result {
        None => ("asked", None, None),
        Some(Ok(_)) => ("done", Some("ok"), Some(200)),
        Some(Err(error)) => (
            "done",
            Some(error.code().as_str()),
            Some(error.status().as_u16()),
        ),
    };
    NoteEntry {
        phase,
        time: crate::audit::now(),
        request_id: call.request_id(),
        actor: call.actor(),
        app: call.app_id(),
        action,
        note_id,
        kind: profile_id.map(|_| param::PROFILE_ID),
        id: profile_id.map(|id| call.services().audit.id(id)),
        text_chars,
        outcome,
        status,
        latency_ms: call.elapsed_ms(),
    }
}

/// Refused before the store was asked.
async fn refuse(
    call: &Call,
    action: &'static str,
    note_id: Option<&str>,
    profile_id: Option<&str>,
    error: RelayError,
) -> Response {
    let result: Result<(), RelayError> = Err(error.clone());
    let line = NoteEntry {
        phase: "refused",
        ..entry(call, action, note_id, profile_id, None, Some(&result))
    };
    call.refused(&line, &error).await;
    count(call, action, error.code().as_str());
    error.into_response()
}

/// The line written, then the answer: the note as kept, or the error.
async fn finish(
    call: &Call,
    line: &NoteEntry<'_>,
    result: Result<protocol::notes::Note, RelayError>,
) -> Response {
    if let Err(error) = call.services().audit.record(line).await {
        tracing::error!(%error, "a note's answer was withheld: its audit line cannot be written");
        return RelayError::AuditUnavailable.into_response();
    }
    let outcome = result
        .as_ref()
        .err()
        .map_or("ok", |error| error.code().as_str());
    count(call, line.action, outcome);
    match result {
        // Names a person: no browser or proxy may keep a copy.
        Ok(note) => ([(header::CACHE_CONTROL, "no-store")], Json(note)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn count(call: &Call, action: &'static str, outcome: &'static str) {
    call.services()
        .metrics
        .change(call.app_id().unwrap_or_default(), action, outcome);
}
