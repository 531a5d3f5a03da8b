//! `POST /api/profile/erase`: a customer erased from Adapty for good, and
//! from the relay's store. The same steps as an access change (`change`):
//! the checks, the line saying what is asked (before Adapty hears of it),
//! Adapty, the line saying what came of it; never sent twice. The profile
//! is read first, for its two IDs: the store forgets the customer by
//! either, and keeps the one fact of the erasure (who, when, the IDs
//! hashed) so that a later lookup can say so.

use super::call::{self, Call};
use super::writes::{Named, Write};
use super::Services;
use crate::apps::App;
use crate::error::{Power, RelayError};
use crate::rules::erasure::{self, Erasure};
use crate::rules::lookup::Lookup;
use crate::store::erasure::Erased as StoreErased;
use crate::store::ingest::Seen;
use axum::body::Body;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use protocol::correction::{Erased, StoreErasure};
use protocol::param;

pub async fn erase(mut call: Call, headers: HeaderMap, body: Body) -> Response {
    let write = Write::new(Power::Erase);
    let body = write
        .body(&call, &headers, body, erasure::MAX_BODY_BYTES)
        .await;
    let (erasure, app) = match body.and_then(|body| Erasure::read(&body)) {
        Ok(read) => read,
        Err(error) => return write.refuse_named(&call, None, error).await,
    };
    let app = match write.app(&mut call, app.as_deref()) {
        Ok(app) => app,
        Err(error) => {
            let named = Named::of(&erasure.customer, &erasure.reason);
            return write.refuse_named(&call, Some(&named), error).await;
        }
    };
    let calls = call.services().calls.clone();
    call::to_the_end(&calls, async move {
        let mut named = Named::of(&erasure.customer, &erasure.reason);
        let claim = match write.claim(&call, &app) {
            Ok(claim) => claim,
            Err(error) => return write.refuse_named(&call, Some(&named), error).await,
        };
        // Who exactly: both IDs, for the store and the erasure's record.
        let seen = match write.read_first(&app, &erasure.customer).await {
            Ok((_, seen)) => seen,
            Err(refused) => {
                let line = write.line(&call, Some(&named), "refused");
                return write.refuse_read(&call, line, refused).await;
            }
        };
        named.profile_id = Some(seen.profile_id.clone());
        let line = |phase| write.line(&call, Some(&named), phase);
        if let Err(error) = write.asked(&call, &line("asked")).await {
            return write.refuse(&call, line("refused"), error).await;
        }
        // By the profile ID read and audited, whatever happens meanwhile to
        // the customer user ID.
        let customer = Write::by_profile_id(&seen, &erasure.customer);
        let fetched = app.upstream.erase_profile(&customer).await;
        if !fetched.nothing_sent() {
            claim.keep();
        }
        write.done(&call, line("done"), &fetched).await;
        // To the second: the answer and the store's record say the same time.
        let at = Utc::now().trunc_subsecs(0);
        let actor = call.actor().unwrap_or_default().to_owned();
        let refused = match &fetched.result {
            Ok(_) => false,
            // Maybe erased, or erased meanwhile: the store forgets the
            // customer all the same, or a second erasure (which finds no
            // profile to read) could never clear it.
            Err(RelayError::OutcomeUnknown(_) | RelayError::ProfileNotFound) => false,
            Err(_) => true,
        };
        let store = match refused {
            true => None,
            false => forget(call.services(), &app, &erasure.customer, &seen, at, &actor).await,
        };
        if let Err(error) = fetched.result {
            return error.into_response();
        }
        let erased = Erased {
            erased_at: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            erased_by: actor,
            store,
        };
        // Names a person: no browser or proxy may keep a copy.
        ([(header::CACHE_CONTROL, "no-store")], Json(erased)).into_response()
    })
    .await
}

/// The hashes an erasure is remembered by: each ID the customer had, and
/// the one it was asked by.
pub fn erased_ids(app: &App, asked: &Lookup, seen: &Seen) -> Vec<String> {
    let mut ids = vec![
        app.erased_id(param::PROFILE_ID, &seen.profile_id),
        app.erased_id(asked.kind(), &asked.id()),
    ];
    if let Some(customer_user_id) = &seen.customer_user_id {
        ids.push(app.erased_id(param::CUSTOMER_USER_ID, customer_user_id));
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The store forgets the customer Adapty has just erased; what it says of
/// that, or `None` without a store. A store that fails costs the agent a
/// sentence, never the erasure, which is done.
async fn forget(
    services: &Services,
    app: &App,
    asked: &Lookup,
    seen: &Seen,
    at: DateTime<Utc>,
    actor: &str,
) -> Option<StoreErasure> {
    let store = services.store.as_ref()?;
    let ids = erased_ids(app, asked, seen);
    let erased = StoreErased {
        profile_id: &seen.profile_id,
        customer_user_id: seen.customer_user_id.as_deref(),
        id_hashes: &ids,
        at_ms: at.timestamp_millis(),
        by: actor,
    };
    Some(match store.erase(&app.id, &erased).await {
        Ok(forgotten) => StoreErasure {
            cleared: true,
            events: forgotten.events,
            index_rows: forgotten.index_rows,
            notes: forgotten.notes,
            message: None,
        },
        Err(error) => {
            tracing::error!(%error, "an erased customer is still in the store");
            StoreErasure {
                cleared: false,
                message: Some(format!(
                    "the relay's store could not forget this customer ({error}); the operator \
                     runs: relay store purge --app {} --profile-id {}",
                    app.id, seen.profile_id
                )),
                ..StoreErasure::default()
            }
        }
    })
}
