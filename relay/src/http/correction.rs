//! `POST /api/profile/update`: a correction of a customer's contact details
//! and custom attributes. The same steps as an access change (`change`):
//! the checks, the line saying what is asked (before Adapty hears of it),
//! Adapty, the line saying what came of it; never sent twice. One step
//! more: the profile as it is, read first, for the rule only it can check
//! (at most 30 custom attributes after the change).

use super::answers;
use super::call::{self, Call};
use super::writes::{Named, Write};
use crate::adapty::identifiers;
use crate::error::{Power, RelayError};
use crate::rules::correction::{self, Correction};
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;

pub async fn correct(mut call: Call, headers: HeaderMap, body: Body) -> Response {
    let write = Write::new(Power::Edit);
    let body = write
        .body(&call, &headers, body, correction::MAX_BODY_BYTES)
        .await;
    let (correction, app) = match body.and_then(|body| Correction::read(&body)) {
        Ok(read) => read,
        Err(error) => return write.refuse_named(&call, None, error).await,
    };
    let app = match write.app(&mut call, app.as_deref()) {
        Ok(app) => app,
        Err(error) => {
            let named = Named::of_correction(&correction);
            return write.refuse_named(&call, Some(&named), error).await;
        }
    };
    let calls = call.services().calls.clone();
    call::to_the_end(&calls, async move {
        let named = Named::of_correction(&correction);
        let line = |phase| write.line(&call, Some(&named), phase);
        let claim = match write.claim(&call, &app) {
            Ok(claim) => claim,
            Err(error) => return write.refuse(&call, line("refused"), error).await,
        };
        // The profile as it is now: the count after the change needs it.
        let read = write.read_first(&app, &correction.customer).await;
        let checked = read.and_then(|(profile, seen)| {
            let keys = identifiers::attribute_keys(&profile.bytes).ok_or((
                RelayError::Upstream(
                    "Adapty's profile has custom attributes it cannot read".into(),
                ),
                None,
            ))?;
            correction
                .count_after(&keys)
                .map_err(|error| (error, None))?;
            Ok(seen)
        });
        let seen = match checked {
            Ok(seen) => seen,
            Err(refused) => return write.refuse_read(&call, line("refused"), refused).await,
        };
        if let Err(error) = write.asked(&call, &line("asked")).await {
            return write.refuse(&call, line("refused"), error).await;
        }
        // The profile read, by its profile ID: the one audited, whatever
        // happens meanwhile to the customer user ID.
        let customer = Write::by_profile_id(&seen, &correction.customer);
        let fetched = app.upstream.correct_profile(&correction, &customer).await;
        if !fetched.nothing_sent() {
            claim.keep();
        }
        write.done(&call, line("done"), &fetched).await;
        if let Ok(profile) = &fetched.result {
            super::staff::index_lookup(call.services(), &app.id, profile);
        }
        answers::profile(fetched.result)
    })
    .await
}
