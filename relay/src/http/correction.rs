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
use crate::rules::change::check_content_type;
use crate::rules::correction::{self, Correction};
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;

pub async fn correct(mut call: Call, headers: HeaderMap, body: Body) -> Response {
    let write = Write::new(Power::Edit);
    let (correction, app) = match read(&call, &headers, body).await {
        Ok(read) => read,
        Err(error) => {
            return write
                .refuse(&call, write.line(&call, None, "refused"), error)
                .await
        }
    };
    let ready = call.pick_app(app.as_deref()).and_then(|app| {
        call.may_in(Power::Edit, &app)?;
        call.audit_ready()?;
        Ok(app)
    });
    let app = match ready {
        Ok(app) => app,
        Err(error) => {
            let named = Named::of_correction(&correction);
            return write
                .refuse(&call, write.line(&call, Some(&named), "refused"), error)
                .await;
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
        let current = app.upstream.fetch_profile(&correction.customer).await;
        let checked = current.result.and_then(|profile| {
            let keys = identifiers::attribute_keys(&profile.bytes).unwrap_or_default();
            correction.count_after(&keys)
        });
        if let Err(error) = checked {
            return write.refuse(&call, line("refused"), error).await;
        }
        if let Err(error) = write.asked(&call, &line("asked")).await {
            return write.refuse(&call, line("refused"), error).await;
        }
        let fetched = app.upstream.correct_profile(&correction).await;
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

/// The checks before the body names the app: the shared ones, a role that
/// may correct profiles somewhere, JSON, and the body's own rules.
async fn read(
    call: &Call,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Correction, Option<String>), RelayError> {
    call.may_somewhere(Power::Edit)?;
    check_content_type(headers)?;
    let body = axum::body::to_bytes(body, correction::MAX_BODY_BYTES)
        .await
        .map_err(|_| RelayError::BodyTooLarge(correction::MAX_BODY_BYTES))?;
    Correction::read(&body)
}
