//! The steps a correction and an erasure share (an access change, older,
//! has the same steps in `change`): the relay's own ID of it, its audit
//! lines (`refused`, or `asked` before Adapty hears of it and `done` after),
//! the request ID claimed so that a repeat is never sent, the person's
//! hourly allowance, and the metrics.

use super::call::Call;
use super::replays::Claim;
use crate::adapty::identifiers;
use crate::adapty::Fetched;
use crate::apps::App;
use crate::audit::{self, ChangeEntry};
use crate::error::{Power, RelayError};
use crate::rules::change::check_content_type;
use crate::rules::correction::{AuditCorrection, Correction};
use crate::rules::lookup::Lookup;
use crate::store::ingest::Seen;
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// One correction or erasure on its way.
pub struct Write {
    power: Power,
    /// Made by the relay: its lines share it, and no other's have it.
    id: String,
}

/// The customer and the fields its lines name, once the body is checked.
pub struct Named<'a> {
    kind: &'static str,
    id: String,
    reason: &'a str,
    correction: Option<AuditCorrection<'a>>,
    /// An erasure's profile ID, once Adapty named it.
    pub profile_id: Option<String>,
}

impl Named<'_> {
    pub fn of_correction(correction: &Correction) -> Named<'_> {
        Named {
            correction: Some(correction.audit()),
            ..Named::of(&correction.customer, &correction.reason)
        }
    }

    pub fn of<'a>(customer: &Lookup, reason: &'a str) -> Named<'a> {
        Named {
            kind: customer.kind(),
            id: customer.id(),
            reason,
            correction: None,
            profile_id: None,
        }
    }
}

impl Write {
    pub fn new(power: Power) -> Write {
        Write {
            power,
            id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// A line of it: `phase` is `asked`, `done` or `refused`; only what
    /// had been checked by then is named.
    pub fn line<'a>(
        &'a self,
        call: &'a Call,
        named: Option<&'a Named<'a>>,
        phase: &'a str,
    ) -> ChangeEntry<'a> {
        let audit = &call.services().audit;
        ChangeEntry {
            time: audit::now(),
            change_id: &self.id,
            request_id: call.request_id(),
            actor: call.actor(),
            app: call.app_id(),
            action: self.power.name(),
            phase,
            kind: named.map(|named| named.kind),
            id: named.map(|named| audit.id(&named.id)),
            access_level_id: None,
            dates: None,
            reason: named.map(|named| named.reason),
            correction: named.and_then(|named| named.correction.clone()),
            profile_id: named.and_then(|named| named.profile_id.as_deref().map(|id| audit.id(id))),
            outcome: None,
            status: None,
            upstream_status: None,
            latency_ms: None,
        }
    }

    /// The checks before the body is read (the shared ones, a role that
    /// may use the power somewhere, JSON), then the body, whole, within
    /// `limit`.
    pub async fn body(
        &self,
        call: &Call,
        headers: &HeaderMap,
        body: Body,
        limit: usize,
    ) -> Result<Bytes, RelayError> {
        call.may_somewhere(self.power)?;
        check_content_type(headers)?;
        axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| RelayError::BodyTooLarge(limit))
    }

    /// The app the body names, if the caller may use the power in it and
    /// the audit log is writable.
    pub fn app(&self, call: &mut Call, asked: Option<&str>) -> Result<Arc<App>, RelayError> {
        let app = call.pick_app(asked)?;
        call.may_in(self.power, &app)?;
        call.audit_ready()?;
        Ok(app)
    }

    /// The request ID first (a repeat spends none of the allowance), then
    /// one use of the power from the person's hourly allowance and two calls
    /// of the app's quota (the profile read first, then the change).
    /// Dropped unsent, the claim is given back.
    pub fn claim<'c>(&self, call: &'c Call, app: &App) -> Result<Claim<'c>, RelayError> {
        let services = call.services();
        let actor = &call.caller()?.actor;
        let claim = services.replays.claim(actor, call.request_id())?;
        services.apps.take(self.power, app, actor)?;
        app.limits.check_quota()?;
        Ok(claim)
    }

    /// The profile as it is, read before the change: who exactly (both
    /// IDs), and what only it can say. Its refusal is written like any
    /// line of a call that reached Adapty: always, never left out.
    pub async fn read_first(
        &self,
        app: &App,
        customer: &Lookup,
    ) -> Result<(crate::adapty::Profile, Seen), (RelayError, Option<u16>)> {
        let current = app.upstream.fetch_profile(customer).await;
        let status = current.upstream_status;
        let profile = current.result.map_err(|error| (error, status))?;
        match identifiers::seen(&profile.bytes) {
            Some(seen) => Ok((profile, seen)),
            None => Err((
                RelayError::Upstream("Adapty answered with something that is not a profile".into()),
                status,
            )),
        }
    }

    /// The customer read first, by the profile ID Adapty gave (so the
    /// change reaches the profile audited, whatever happens meanwhile to
    /// the customer user ID); `asked` if Adapty gave no UUID.
    pub fn by_profile_id(seen: &Seen, asked: &Lookup) -> Lookup {
        Lookup::from_ids(None, Some(seen.profile_id.clone())).unwrap_or_else(|_| asked.clone())
    }

    /// Refused after the profile was read (Adapty was asked): the line is
    /// written whatever the client's share of refused lines.
    pub async fn refuse_read(
        &self,
        call: &Call,
        line: ChangeEntry<'_>,
        (error, upstream_status): (RelayError, Option<u16>),
    ) -> Response {
        let refused = ChangeEntry {
            upstream_status,
            ..refused_line(call, line, &error)
        };
        let _ = call.services().audit.record(&refused).await;
        count(call, self.power.name(), error.code().as_str());
        error.into_response()
    }

    /// Writes the line saying what is asked; if it cannot be written,
    /// nothing may be sent.
    pub async fn asked(&self, call: &Call, line: &ChangeEntry<'_>) -> Result<(), RelayError> {
        call.services().audit.record(line).await.map_err(|error| {
            tracing::error!(%error, "a change was refused: its audit line cannot be written");
            RelayError::AuditUnavailable
        })
    }

    /// Refused before anything was sent, naming what had been checked.
    pub async fn refuse_named(
        &self,
        call: &Call,
        named: Option<&Named<'_>>,
        error: RelayError,
    ) -> Response {
        self.refuse(call, self.line(call, named, "refused"), error)
            .await
    }

    /// Refused before anything was sent: the line of it, the count, the answer.
    pub async fn refuse(&self, call: &Call, line: ChangeEntry<'_>, error: RelayError) -> Response {
        let refused = refused_line(call, line, &error);
        call.refused(&refused, &error).await;
        count(call, self.power.name(), error.code().as_str());
        error.into_response()
    }

    /// Writes the line saying what came of it, and counts it.
    pub async fn done(&self, call: &Call, line: ChangeEntry<'_>, fetched: &Fetched) {
        let done = done_line(call, line, fetched);
        let _ = call.services().audit.record(&done).await;
        count(call, self.power.name(), outcome(&fetched.result));
    }
}

/// `line` as the line of a write refused before anything was sent: its
/// code, status and time taken (an access change's too).
pub fn refused_line<'a>(call: &Call, line: ChangeEntry<'a>, error: &RelayError) -> ChangeEntry<'a> {
    ChangeEntry {
        outcome: Some(error.code().as_str()),
        status: Some(error.status().as_u16()),
        latency_ms: Some(call.elapsed_ms()),
        ..line
    }
}

/// `line` as the line of what came of a write Adapty was asked (an access
/// change's too).
pub fn done_line<'a>(call: &Call, line: ChangeEntry<'a>, fetched: &Fetched) -> ChangeEntry<'a> {
    ChangeEntry {
        outcome: Some(outcome(&fetched.result)),
        status: Some(
            fetched
                .result
                .as_ref()
                .map_or_else(|e| e.status().as_u16(), |_| 200),
        ),
        upstream_status: fetched.upstream_status,
        latency_ms: Some(call.elapsed_ms()),
        ..line
    }
}

/// `ok`, or the error's code.
pub fn outcome<T>(result: &Result<T, RelayError>) -> &'static str {
    result
        .as_ref()
        .err()
        .map_or("ok", |error| error.code().as_str())
}

/// Counts a write by its action (`grant`, `revoke`, `edit`, `erase`).
pub fn count(call: &Call, action: &'static str, outcome: &'static str) {
    call.services()
        .metrics
        .change(call.app_id().unwrap_or_default(), action, outcome);
}
