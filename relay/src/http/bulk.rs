//! `POST /api/bulk`: many customers checked in one run, answered as NDJSON
//! as results come (`protocol::bulk`). The checks of a change (Host, CSRF,
//! identity, the role, JSON, the list's rules, a person's runs an hour),
//! then a start line in the audit log, one line per customer, and an end.
//!
//! The run keeps within the app's Adapty budget: all runs of an app
//! together take at most half of it, one check at a time, spread over the
//! minute, and each check waits for room in the whole budget too, so
//! interactive lookups keep the other half. Adapty's 429 pauses the run for
//! as long as it asks. When the browser goes away (or cancels), the run
//! stops at once: no further call to Adapty starts.

use super::call::Call;
use super::Services;
use crate::apps::App;
use crate::audit::BulkEntry;
use crate::error::{Power, RelayError};
use crate::rules::bulk::{self, BulkList};
use crate::rules::change::check_content_type;
use crate::rules::lookup::Lookup;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use protocol::bulk::{line, status, Checked, End, Start};
use protocol::param;
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Lines written ahead of a slow reader: a few, so that a browser that
/// stops reading stops the run soon after.
const LINES_AHEAD: usize = 8;
/// How often one ID is tried again after Adapty's 429, each time after the
/// wait it asked for (at most `LONGEST_PAUSE`).
const RATE_LIMITED_TRIES: u32 = 3;
const LONGEST_PAUSE: Duration = Duration::from_secs(60);
/// How long a line may wait for a reader that takes nothing.
const STALLED_READER: Duration = Duration::from_secs(60);
/// How long a found customer's line waits for their last event from the
/// store: a slow store must not stretch a run that keeps to Adapty's pace.
const LAST_EVENT_WAIT: Duration = Duration::from_secs(1);

pub async fn run(mut call: Call, headers: HeaderMap, body: Body) -> Response {
    let run_id = uuid::Uuid::new_v4().to_string();
    let read = async {
        call.may_somewhere(Power::Bulk)?;
        check_content_type(&headers)?;
        let body = axum::body::to_bytes(body, bulk::MAX_BODY_BYTES)
            .await
            .map_err(|_| RelayError::BodyTooLarge(bulk::MAX_BODY_BYTES))?;
        let max = call.services().apps.max_bulk_ids();
        BulkList::read(&body, max)
    };
    let (list, app) = match read.await {
        Ok(read) => read,
        Err(error) => return refuse(&call, &run_id, None, error).await,
    };
    let ready = call.pick_app(app.as_deref()).and_then(|app| {
        call.may_in(Power::Bulk, &app)?;
        call.services().apps.take_run(&app, &call.caller()?.actor)?;
        call.audit_ready()?;
        Ok(app)
    });
    let app = match ready {
        Ok(app) => app,
        Err(error) => return refuse(&call, &run_id, Some(&list.reason), error).await,
    };
    let start = BulkEntry {
        reason: Some(&list.reason),
        count: Some(list.ids.len()),
        ..entry(&call, &run_id, "start")
    };
    if let Err(error) = call.services().audit.record(&start).await {
        tracing::error!(%error, "a bulk run was refused: its audit line cannot be written");
        return refuse(
            &call,
            &run_id,
            Some(&list.reason),
            RelayError::AuditUnavailable,
        )
        .await;
    }
    call.services().metrics.bulk_run(&app.id, "started");
    let first = Start {
        kind: line::START.into(),
        run_id: run_id.clone(),
        count: list.ids.len(),
        duplicates: list.duplicates,
        blanks: list.blanks,
        per_minute: app.limits.bulk_per_minute(),
    };
    let (sender, receiver) = mpsc::channel::<Bytes>(LINES_AHEAD);
    let _ = sender.try_send(ndjson(&first));
    let run = Run {
        services: call.services().clone(),
        app,
        run_id,
        request_id: call.request_id().to_owned(),
        actor: call.actor().unwrap_or_default().to_owned(),
        sender,
        store_failed: Default::default(),
    };
    tokio::spawn(run.check_all(list.ids));
    let stream = tokio_stream::wrappers::ReceiverStream::new(receiver)
        .map(Ok::<_, std::convert::Infallible>);
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            // Personal data: no browser or proxy may keep a copy.
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

use tokio_stream::StreamExt;

/// One run on its way, apart from the request that started it.
struct Run {
    services: Services,
    app: Arc<App>,
    run_id: String,
    request_id: String,
    actor: String,
    sender: mpsc::Sender<Bytes>,
    /// The store could not say a last event once: it is not asked again
    /// in this run (one warning, not one per customer).
    store_failed: std::sync::atomic::AtomicBool,
}

/// What one ID came to.
struct Outcome {
    /// One of `status`: the line's, the audit line's and the metric's.
    status: &'static str,
    checked: Checked,
    profile: Option<Bytes>,
    /// The customer's newest event from Adapty's webhooks, as the store
    /// keeps it, when it does.
    last_event: Option<String>,
    /// The customer as the audit line names them.
    customer: Option<Lookup>,
}

impl Run {
    async fn check_all(self, ids: Vec<String>) {
        let mut end = End {
            kind: line::END.into(),
            ..End::default()
        };
        for (index, id) in ids.into_iter().enumerate() {
            let checked = tokio::select! {
                // The browser went away, or cancelled: no further call.
                () = self.sender.closed() => None,
                outcome = self.check(index, &id) => Some(outcome),
            };
            let Some(outcome) = checked else {
                end.cancelled = true;
                break;
            };
            match outcome.status {
                status::FOUND => end.found += 1,
                status::NOT_FOUND => end.not_found += 1,
                status::INVALID => end.invalid += 1,
                status::AMBIGUOUS => end.ambiguous += 1,
                _ => end.failed += 1,
            }
            if !self.audit_check(&outcome).await {
                end.cancelled = true;
                break;
            }
            self.services
                .metrics
                .bulk_check(&self.app.id, outcome.status);
            let line = match &outcome.profile {
                Some(profile) => {
                    found_line(&outcome.checked, outcome.last_event.as_deref(), profile)
                }
                None => ndjson(&outcome.checked),
            };
            // A reader that stays connected but takes nothing ends the run too.
            let sent = tokio::time::timeout(STALLED_READER, self.sender.send(line)).await;
            if !matches!(sent, Ok(Ok(()))) {
                end.cancelled = true;
                break;
            }
        }
        let line = BulkEntry {
            counts: Some(&end),
            outcome: Some(if end.cancelled {
                "cancelled"
            } else {
                "completed"
            }),
            ..self.entry("end")
        };
        let _ = self.services.audit.record(&line).await;
        let outcome = if end.cancelled {
            "cancelled"
        } else {
            "completed"
        };
        self.services.metrics.bulk_run(&self.app.id, outcome);
        let _ = self.sender.send(ndjson(&end)).await;
    }

    /// One ID: read through the store's index (an email, a transaction
    /// ID), or as a profile ID, or as a customer user ID; then Adapty, in
    /// the run's turn.
    async fn check(&self, index: usize, id: &str) -> Outcome {
        let mut checked = Checked {
            kind: line::CHECKED.into(),
            index,
            id: id.to_owned(),
            ..Checked::default()
        };
        let candidates = match self.read_id(id).await {
            Ok(candidates) => candidates,
            Err((result, why)) => {
                checked.status = result.into();
                checked.error = Some(why);
                return Outcome {
                    status: result,
                    checked,
                    profile: None,
                    last_event: None,
                    customer: None,
                };
            }
        };
        // Each way the ID may name a customer, until one is found.
        let mut result = Err(RelayError::ProfileNotFound);
        let mut customer = None;
        for (candidate, matched) in candidates {
            result = self.fetch(&candidate).await;
            checked.matched = Some(matched);
            customer = Some(candidate);
            if !matches!(result, Err(RelayError::ProfileNotFound)) {
                break;
            }
        }
        let mut last_event = None;
        let (status, profile) = match result {
            Ok(profile) => {
                super::staff::index_lookup(&self.services, &self.app.id, &profile);
                last_event = self.last_event(&profile.bytes).await;
                (status::FOUND, Some(profile.bytes))
            }
            Err(RelayError::ProfileNotFound) => (status::NOT_FOUND, None),
            Err(error) => {
                checked.error = Some(error.message());
                (status::FAILED, None)
            }
        };
        checked.status = status.into();
        Outcome {
            status,
            checked,
            profile,
            last_event,
            customer,
        }
    }

    /// The found customer's newest event from Adapty's webhooks, when the
    /// store has one; a store that cannot say (or not within a second) is
    /// no reason to fail the ID, and is not asked again in this run.
    async fn last_event(&self, profile: &[u8]) -> Option<String> {
        use std::sync::atomic::Ordering;
        if self.store_failed.load(Ordering::Relaxed) {
            return None;
        }
        let store = self.services.store.as_ref()?;
        let profile_id = crate::adapty::identifiers::profile_id(profile)?;
        let read = store.last_adapty_event(&self.app.id, &profile_id);
        let error = match tokio::time::timeout(LAST_EVENT_WAIT, read).await {
            Ok(Ok(event)) => return event,
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {LAST_EVENT_WAIT:?}"),
        };
        self.store_failed.store(true, Ordering::Relaxed);
        tracing::warn!(
            %error,
            "a bulk run reads no more last events: the store could not say one"
        );
        None
    }

    /// One customer from Adapty, in the run's turn; after Adapty's 429,
    /// again once the wait it asked for is over.
    async fn fetch(&self, customer: &Lookup) -> Result<crate::adapty::Profile, RelayError> {
        let mut tries = 0;
        loop {
            tries += 1;
            self.app.limits.bulk_turn().await;
            let fetched = self.app.upstream.fetch_profile_once(customer).await;
            match fetched.result {
                Err(RelayError::RateLimited { retry_after_secs }) if tries < RATE_LIMITED_TRIES => {
                    let wait =
                        Duration::from_secs(retry_after_secs.unwrap_or(5)).min(LONGEST_PAUSE);
                    tracing::warn!(
                        wait_secs = wait.as_secs(),
                        "Adapty asked a bulk run to wait"
                    );
                    tokio::time::sleep(wait).await;
                }
                result => return result,
            }
        }
    }

    /// The customers an ID may name, in the order to try them, and how
    /// each was read; or the result and why it cannot be looked up. The
    /// store's index decides when it knows the ID; a UUID is a profile ID,
    /// or else a customer user ID of that shape (Adapty's own example is).
    async fn read_id(&self, id: &str) -> Result<Vec<(Lookup, String)>, (&'static str, String)> {
        if let Some(store) = &self.services.store {
            match store.search(&self.app.id, id).await {
                Ok(answer) => match answer.matches.as_slice() {
                    [] => {}
                    [one] => {
                        let customer = Lookup::from_ids(None, Some(one.profile_id.clone()))
                            .map_err(|error| (status::FAILED, error.message()))?;
                        return Ok(vec![(customer, one.matched.clone())]);
                    }
                    several => {
                        return Err((
                            status::AMBIGUOUS,
                            format!(
                                "{} customers have this; find the one meant by search",
                                several.len()
                            ),
                        ))
                    }
                },
                Err(error) => tracing::warn!(%error, "a bulk run could not ask the store's index"),
            }
        }
        let mut candidates = Vec::new();
        if let Ok(customer) = Lookup::from_ids(None, Some(id.to_owned())) {
            candidates.push((customer, param::PROFILE_ID.to_owned()));
        }
        match Lookup::from_ids(Some(id.to_owned()), None) {
            Ok(customer) => candidates.push((customer, param::CUSTOMER_USER_ID.to_owned())),
            Err(error) if candidates.is_empty() => return Err((status::INVALID, error.message())),
            Err(_) => {}
        }
        Ok(candidates)
    }

    /// The customer's line; `false` when it cannot be written, which ends
    /// the run (nothing is checked unrecorded).
    async fn audit_check(&self, outcome: &Outcome) -> bool {
        let line = BulkEntry {
            kind: outcome.customer.as_ref().map(Lookup::kind),
            id: outcome
                .customer
                .as_ref()
                .map(|customer| self.services.audit.id(&customer.id())),
            outcome: Some(outcome.status),
            ..self.entry("check")
        };
        match self.services.audit.record(&line).await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, "a bulk run stopped: its audit line cannot be written");
                false
            }
        }
    }

    fn entry<'a>(&'a self, phase: &'a str) -> BulkEntry<'a> {
        BulkEntry {
            request_id: &self.request_id,
            actor: Some(&self.actor),
            app: Some(&self.app.id),
            ..BulkEntry::new(&self.run_id, phase)
        }
    }
}

fn entry<'a>(call: &'a Call, run_id: &'a str, phase: &'a str) -> BulkEntry<'a> {
    BulkEntry {
        request_id: call.request_id(),
        actor: call.actor(),
        app: call.app_id(),
        ..BulkEntry::new(run_id, phase)
    }
}

/// Refused before the run started.
async fn refuse(call: &Call, run_id: &str, reason: Option<&str>, error: RelayError) -> Response {
    let line = BulkEntry {
        reason,
        outcome: Some(error.code().as_str()),
        ..entry(call, run_id, "refused")
    };
    call.refused(&line, &error).await;
    call.services()
        .metrics
        .bulk_run(call.app_id().unwrap_or_default(), error.code().as_str());
    error.into_response()
}

/// One line of NDJSON.
fn ndjson(value: &impl Serialize) -> Bytes {
    let mut line = serde_json::to_vec(value).expect("a line always serializes");
    line.push(b'\n');
    Bytes::from(line)
}

/// A found ID's line: its fields, the store's last event (its JSON as a
/// string, so that no key of it can be taken for the profile's) and
/// Adapty's profile, passed through, last (`protocol::bulk::PROFILE`).
fn found_line(checked: &Checked, last_event: Option<&str>, profile: &Bytes) -> Bytes {
    #[derive(Serialize)]
    struct Found<'a> {
        #[serde(flatten)]
        checked: &'a Checked,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_event: Option<&'a str>,
        profile: &'a RawValue,
    }
    // One line: a line break is never inside a JSON string (it would be
    // escaped), so Adapty's pretty-printed answer loses only white space.
    let flat: Vec<u8> = profile
        .iter()
        .copied()
        .filter(|byte| !matches!(byte, b'\n' | b'\r'))
        .collect();
    match serde_json::from_slice::<&RawValue>(&flat) {
        Ok(raw) => ndjson(&Found {
            checked,
            last_event,
            profile: raw,
        }),
        // Checked as JSON when it arrived: cannot happen, and is no reason
        // to drop the line.
        Err(_) => ndjson(checked),
    }
}
