//! One API call on its way through the checks: who is calling, and whether
//! they may. The same for every API handler.
//!
//! axum builds a `Call` before the handler runs, with the checks every call
//! shares: only the panel's own script (`csrf`), and who is asking, in which
//! roles (`identity`); the Host was checked by a layer before. The handler
//! then asks for the rest (the app, the right to change access, the audit
//! log's health), each a method, and whatever step refuses, `refused`
//! writes the line of it with all that was known by then. Once Adapty is
//! to be asked, `to_the_end` runs the rest whether or not the client waits.

use super::observe::REQUEST_ID;
use super::Services;
use crate::apps::App;
use crate::audit::Line;
use crate::error::{Power, RelayError};
use crate::guard::csrf;
use crate::guard::identity::Caller;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

pub struct Call {
    services: Services,
    /// The connection's address: refused lines are shared out by it until
    /// a person is named.
    client: IpAddr,
    request_id: String,
    started: Instant,
    /// Who is asking, or why the call is refused before anything else.
    caller: Result<Caller, RelayError>,
    /// The app the call names, once known.
    app: Option<Arc<App>>,
}

impl FromRequestParts<Services> for Call {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Services,
    ) -> Result<Call, Infallible> {
        let headers = &parts.headers;
        let caller = match csrf::check(headers, &services.public_origins) {
            Ok(()) => services.identity.caller(headers).await,
            Err(error) => Err(error),
        };
        Ok(Call {
            services: services.clone(),
            client: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip()),
            // Set by the request ID layer before any handler runs.
            request_id: headers
                .get(REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            started: Instant::now(),
            caller,
            app: None,
        })
    }
}

impl Call {
    pub fn services(&self) -> &Services {
        &self.services
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Who is asking; the error when the shared checks refused the call.
    pub fn caller(&self) -> Result<&Caller, RelayError> {
        self.caller.as_ref().map_err(Clone::clone)
    }

    /// The person, as the audit log names them, once known.
    pub fn actor(&self) -> Option<&str> {
        self.caller
            .as_ref()
            .ok()
            .map(|caller| caller.actor.0.as_str())
    }

    /// The app the call names (required when the relay serves several),
    /// kept to the end of the call whatever a reload swaps in meanwhile.
    pub fn pick_app(&mut self, asked: Option<&str>) -> Result<Arc<App>, RelayError> {
        let app = self.services.apps.current().pick(asked)?;
        Ok(self.app.insert(app).clone())
    }

    /// The app, once known.
    pub fn app(&self) -> Option<&Arc<App>> {
        self.app.as_ref()
    }

    /// The app's ID, once known.
    pub fn app_id(&self) -> Option<&str> {
        self.app.as_ref().map(|app| app.id.as_str())
    }

    /// Whether the caller may use `power` in some app: asked before a
    /// body is read, which names the app.
    pub fn may_somewhere(&self, power: Power) -> Result<(), RelayError> {
        let caller = self.caller()?;
        let apps = self.services.apps.current();
        let mut roles = apps.iter().filter_map(|app| app.role(power));
        let Some(first) = roles.next() else {
            return Err(RelayError::ChangesDisabled(power));
        };
        if caller.has_role(first) || roles.any(|role| caller.has_role(role)) {
            Ok(())
        } else {
            Err(RelayError::ChangesNotAllowed(power, first.to_owned()))
        }
    }

    /// Whether the caller may use `power` in `app`.
    pub fn may_in(&self, power: Power, app: &App) -> Result<(), RelayError> {
        let caller = self.caller()?;
        match app.role(power) {
            None => Err(RelayError::ChangesDisabled(power)),
            Some(_) if app.may(power, caller) => Ok(()),
            Some(role) => Err(RelayError::ChangesNotAllowed(power, role.to_owned())),
        }
    }

    /// The audit line of a read (a lookup, a search, an events page): who
    /// asked, in which app, about what (`id` hashed as the log is set
    /// to), with `outcome` and `status`.
    pub fn read_entry(
        &self,
        kind: Option<&'static str>,
        id: Option<&str>,
        outcome: &'static str,
        status: u16,
    ) -> crate::audit::Entry<'_> {
        crate::audit::Entry {
            time: crate::audit::now(),
            request_id: self.request_id(),
            actor: self.actor(),
            app: self.app_id(),
            kind,
            id: id.map(|id| self.services.audit.id(id)),
            outcome,
            status,
            upstream_status: None,
            latency_ms: self.elapsed_ms(),
            truncated: false,
        }
    }

    /// Adapty is not asked while the audit log is known to fail: the line
    /// could not be written after its answer anyway.
    pub fn audit_ready(&self) -> Result<(), RelayError> {
        match self.services.audit.is_healthy() {
            true => Ok(()),
            false => Err(RelayError::AuditUnavailable),
        }
    }

    /// Writes the line of a call refused before Adapty was asked: within
    /// this client's share of such lines, except a refusal for want of the
    /// audit log, which is the attempt that may find it writable again.
    pub async fn refused(&self, line: &impl Line, error: &RelayError) {
        if *error == RelayError::AuditUnavailable {
            let _ = self.services.audit.record(line).await;
            return;
        }
        // Behind an SSO proxy every client has the proxy's address.
        let actor = self
            .actor()
            .filter(|_| self.services.identity.is_configured());
        self.services.audit.record_refused(line, self.client, actor);
    }
}

/// Runs what follows once Adapty is to be asked (the call, its audit line,
/// the answer) to its end, whether or not the client is still there: axum
/// drops a handler whose client has gone, but not a task it spawned. The
/// task holds one of `calls`' slots (so clients that leave cannot start
/// more calls to Adapty than the relay handles requests at once), and
/// shutdown waits for it (`Running::finish`).
pub async fn to_the_end(
    calls: &Calls,
    work: impl Future<Output = Response> + Send + 'static,
) -> Response {
    let Ok(slot) = calls.slots.clone().acquire_owned().await else {
        return RelayError::Internal.into_response();
    };
    let task = calls.tracker.spawn(async move {
        let response = work.await;
        drop(slot);
        response
    });
    match task.await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "a call to Adapty failed inside the relay");
            RelayError::Internal.into_response()
        }
    }
}

/// The calls to Adapty under way, each finished whatever its client does.
#[derive(Clone)]
pub struct Calls {
    slots: Arc<Semaphore>,
    tracker: TaskTracker,
}

impl Calls {
    pub fn new(at_once: usize) -> Calls {
        Calls {
            slots: Arc::new(Semaphore::new(at_once)),
            tracker: TaskTracker::new(),
        }
    }

    /// Waits, up to `within`, for the calls under way to finish and write
    /// their lines; says how many were cut off.
    pub async fn finish(&self, within: Duration) {
        self.tracker.close();
        if tokio::time::timeout(within, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                calls = self.tracker.len(),
                "calls to Adapty still running at shutdown were cut off"
            );
        }
    }
}
