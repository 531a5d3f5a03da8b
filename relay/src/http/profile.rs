//! `GET /api/profile`: one customer's profile, as Adapty sends it. The
//! checks in the order that fails cheapest, then Adapty; every call that
//! reached Adapty is written to the audit log before its answer leaves.

use super::answers;
use super::call::{self, Call};
use crate::adapty::Profile;
use crate::audit;
use crate::error::RelayError;
use crate::rules::lookup::Lookup;
use axum::extract::RawQuery;
use axum::response::Response;

pub async fn profile(mut call: Call, RawQuery(query): RawQuery) -> Response {
    let asked = call
        .caller()
        .and_then(|_| Lookup::from_query(query.as_deref()));
    let (lookup, app) = match asked {
        Ok(asked) => asked,
        Err(error) => return refuse(call, None, error).await,
    };
    let ready = call.pick_app(app.as_deref()).and_then(|app| {
        app.limits.check(&call.caller()?.actor)?;
        call.audit_ready()?;
        Ok(app)
    });
    let app = match ready {
        Ok(app) => app,
        Err(error) => return refuse(call, Some(&lookup), error).await,
    };
    let calls = call.services().calls.clone();
    call::to_the_end(&calls, async move {
        let fetched = app.upstream.fetch_profile(&lookup).await;
        let mut result = fetched.result;
        if let Ok(profile) = &result {
            super::staff::index_lookup(call.services(), &app.id, profile);
        }
        if let Err(RelayError::ProfileNotFound) = result {
            if let Some(record) = erasure_of(call.services(), &app, &lookup).await {
                result = Err(RelayError::Erased(record));
            }
        }
        let line = line(&call, Some(&lookup), &result, fetched.upstream_status);
        if let Err(error) = call.services().audit.record(&line).await {
            tracing::error!(%error, "a lookup's answer was withheld: its audit line cannot be written");
            result = Err(RelayError::AuditUnavailable);
        }
        answer(&call, result)
    })
    .await
}

/// What a lookup of a customer Adapty does not know waits, at most, for
/// the store to say whether it was erased.
const ERASURE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// The erasure the store remembers of a customer Adapty does not know;
/// `None` without a store, or when it cannot say.
async fn erasure_of(
    services: &super::Services,
    app: &crate::apps::App,
    lookup: &Lookup,
) -> Option<protocol::correction::ErasureRecord> {
    let store = services.store.as_ref()?;
    let id = app.erased_id(lookup.kind(), &lookup.id());
    // Short: a store that hangs must not hold up a "not found" for long.
    let asked = tokio::time::timeout(ERASURE_DEADLINE, store.erasure_of(&app.id, &id)).await;
    match asked.unwrap_or_else(|_| Err(crate::store::StoreError("no answer in time".into()))) {
        Ok(record) => record,
        Err(error) => {
            tracing::warn!(%error, "whether a customer not found was erased is unknown");
            None
        }
    }
}

/// Refused before Adapty was asked.
async fn refuse(call: Call, lookup: Option<&Lookup>, error: RelayError) -> Response {
    let line = line(&call, lookup, &Err(error.clone()), None);
    call.refused(&line, &error).await;
    answer(&call, Err(error))
}

fn answer(call: &Call, result: Result<Profile, RelayError>) -> Response {
    let outcome = result
        .as_ref()
        .map_or_else(|error| error.code().as_str(), |_| "ok");
    call.services()
        .metrics
        .lookup(call.app_id().unwrap_or_default(), outcome);
    answers::profile(result)
}

/// The lookup's line: who asked, in which app, for whom, and what came of it.
fn line<'a>(
    call: &'a Call,
    lookup: Option<&Lookup>,
    result: &Result<Profile, RelayError>,
    upstream_status: Option<u16>,
) -> audit::Entry<'a> {
    let (outcome, status) = match result {
        Ok(_) => ("ok", 200),
        Err(error) => (error.code().as_str(), error.status().as_u16()),
    };
    let id = lookup.map(Lookup::id);
    audit::Entry {
        upstream_status,
        ..call.read_entry(lookup.map(Lookup::kind), id.as_deref(), outcome, status)
    }
}
