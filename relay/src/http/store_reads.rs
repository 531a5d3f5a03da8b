//! `GET /api/search`, `GET /api/events` and `GET /api/notes`: what the
//! relay's store knows,
//! under a lookup's own checks (Host, CSRF, identity, the app, its rate
//! limits, the audit log's health) and audited like one, the search text
//! hashed with `--audit-hash-ids`. Adapty is not asked.

use super::call::Call;
use crate::audit;
use crate::error::RelayError;
use crate::rules::store_query::{EventsAsked, NotesAsked, Search};
use crate::store::Store;
use axum::extract::RawQuery;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::notes::NotesPage;
use std::sync::Arc;

pub async fn search(call: Call, RawQuery(query): RawQuery) -> Response {
    let asked = Search::from_query(query.as_deref());
    let id = asked.as_ref().ok().map(|(search, _)| search.text.clone());
    read(
        call,
        "search",
        id,
        asked,
        |store, app, search: Search| async move {
            let answer = store.search(&app, &search.text).await?;
            Ok(Json(answer).into_response())
        },
    )
    .await
}

pub async fn events(call: Call, RawQuery(query): RawQuery) -> Response {
    let asked = EventsAsked::from_query(query.as_deref());
    let id = asked
        .as_ref()
        .ok()
        .map(|(asked, _)| asked.profile_id.clone());
    read(
        call,
        "events",
        id,
        asked,
        |store, app, asked: EventsAsked| async move {
            let page = store
                .events(&app, &asked.profile_id, asked.before.as_ref())
                .await?;
            Ok(Json(page).into_response())
        },
    )
    .await
}

pub async fn notes(call: Call, RawQuery(query): RawQuery) -> Response {
    let asked = NotesAsked::from_query(query.as_deref());
    let id = asked
        .as_ref()
        .ok()
        .map(|(asked, _)| asked.profile_id.clone());
    read(
        call,
        "notes",
        id,
        asked,
        |store, app, asked: NotesAsked| async move {
            let notes = store.notes(&app, &asked.profile_id).await?;
            Ok(Json(NotesPage { notes }).into_response())
        },
    )
    .await
}

/// The checks, the store's answer and the audit line, for every read.
async fn read<T, F, Fut>(
    mut call: Call,
    kind: &'static str,
    id: Option<String>,
    asked: Result<(T, Option<String>), RelayError>,
    answer: F,
) -> Response
where
    F: FnOnce(Arc<Store>, String, T) -> Fut,
    Fut: std::future::Future<Output = Result<Response, crate::store::StoreError>>,
{
    let checked = call.caller().and_then(|_| {
        let store = call
            .services()
            .store
            .clone()
            .ok_or(RelayError::StoreNotConfigured)?;
        let (asked, app) = asked?;
        Ok((store, asked, app))
    });
    let ready = checked.and_then(|(store, asked, app)| {
        let app = call.pick_app(app.as_deref())?;
        app.limits.check_store_read(&call.caller()?.actor)?;
        call.audit_ready()?;
        Ok((store, asked, app))
    });
    let (store, asked, app) = match ready {
        Ok(ready) => ready,
        Err(error) => {
            let line = line(&call, kind, id.as_deref(), &error);
            call.refused(&line, &error).await;
            return finish(&call, Err(error));
        }
    };
    let result = answer(store, app.id.clone(), asked).await.map_err(|error| {
        tracing::error!(%error, kind, "the store could not be read");
        RelayError::StoreUnavailable
    });
    let entry = match &result {
        Ok(_) => call.read_entry(Some(kind), id.as_deref(), "ok", 200),
        Err(error) => line(&call, kind, id.as_deref(), error),
    };
    if let Err(error) = call.services().audit.record(&entry).await {
        tracing::error!(%error, "a store read's answer was withheld: its audit line cannot be written");
        return finish(&call, Err(RelayError::AuditUnavailable));
    }
    finish(&call, result)
}

fn finish(call: &Call, result: Result<Response, RelayError>) -> Response {
    let app = call.app_id().unwrap_or_default();
    match result {
        Ok(mut response) => {
            call.services().metrics.store_read(app, "ok");
            // About a customer: no browser or proxy keeps a copy.
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(error) => {
            call.services()
                .metrics
                .store_read(app, error.code().as_str());
            error.into_response()
        }
    }
}

/// The read's line: who asked, in which app, what, and what came of it.
fn line<'a>(
    call: &'a Call,
    kind: &'static str,
    id: Option<&str>,
    error: &RelayError,
) -> audit::Entry<'a> {
    call.read_entry(
        Some(kind),
        id,
        error.code().as_str(),
        error.status().as_u16(),
    )
}
