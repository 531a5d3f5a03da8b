//! Every failure the relay reports, mapped in one place to one JSON shape:
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! Messages are written for the admin reading them in the panel. None of them
//! ever carries the key or anything Adapty could echo of it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use protocol::ErrorCode;
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub enum RelayError {
    /// The admin's request is malformed; the message says how.
    InvalidRequest(String),
    /// No valid SSO identity came with the request.
    Unauthenticated(String),
    /// A cross-site request, or one not made by the panel.
    Forbidden(String),
    NotFound,
    /// With the one method the path takes.
    MethodNotAllowed(&'static str),
    ProfileNotFound,
    /// Adapty has no such profile, and the relay's store remembers erasing it.
    Erased(protocol::correction::ErasureRecord),
    /// Adapty rejected the relay's key: the operator's problem, never the admin's.
    RelayMisconfigured,
    RateLimited {
        retry_after_secs: Option<u64>,
    },
    /// Adapty failed or answered something that is not a profile.
    Upstream(String),
    UpstreamTooLarge,
    UpstreamTimeout,
    /// The relay is at its limit (connections, memory): try again shortly.
    Busy {
        retry_after_secs: u64,
    },
    /// The request names a host this relay does not serve (DNS rebinding).
    HostNotAllowed,
    /// A bug: a handler panicked. The panic is logged, never shown.
    Internal,
    /// A body beyond the relay's limit (413), which it names in bytes.
    BodyTooLarge(usize),
    /// A body that did not arrive within this many seconds (408).
    BodyTimeout(u64),
    /// A change sent again with a request ID this person used for a change
    /// in the last minutes (409); nothing was sent again.
    DuplicateChange(String),
    /// A change's body that is not JSON by its Content-Type (415).
    NotJson,
    /// This power is off in this relay (or in the app).
    ChangesDisabled(Power),
    /// Not in the role named.
    ChangesNotAllowed(Power, String),
    /// The person's allowance of this power this hour is spent.
    ChangesRateLimited {
        power: Power,
        per_hour: u32,
        retry_after_secs: u64,
    },
    /// The audit log cannot be written: no change is made unrecorded.
    AuditUnavailable,
    /// Sent to Adapty, answer unknown; the cause, e.g. "Adapty did not answer in time".
    OutcomeUnknown(String),
    AccessLevelUnknown(String),
    AccessLevelNotHeld(String),
    RevokeAfterExpiry,
    RevokeInPast,
    /// No app of the ID asked; the message names the apps served.
    UnknownApp(String),
    /// Search and events need `--store`.
    StoreNotConfigured,
    /// The store cannot be read or written just now.
    StoreUnavailable,
}

/// What a person may do to a customer beyond looking: each is off unless
/// the operator names its role, and each has an hourly allowance per person.
/// Named here because a refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Power {
    /// Grant, extend and revoke access levels.
    Change,
    /// Correct a profile's contact details and custom attributes.
    Edit,
    /// Erase a customer from Adapty.
    Erase,
    /// Add or delete a note on a customer (on with the store, for anyone
    /// who may look customers up).
    Note,
    /// Check many customers at once (a run a use).
    Bulk,
}

impl Power {
    /// As audit lines and metrics name it.
    pub fn name(self) -> &'static str {
        match self {
            Power::Change => "change",
            Power::Edit => "edit",
            Power::Erase => "erase",
            Power::Note => "note",
            Power::Bulk => "bulk",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Power::Change => "access changes",
            Power::Edit => "profile corrections",
            Power::Erase => "erasures",
            Power::Note => "notes added or deleted",
            Power::Bulk => "bulk checks",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Power::Change => "change their access",
            Power::Edit => "correct their profiles",
            Power::Erase => "erase them",
            Power::Note => "delete others' notes",
            Power::Bulk => "check many customers at once",
        }
    }

    /// The flag that turns it on.
    pub fn flag(self) -> &'static str {
        match self {
            Power::Change => "--allow-access-changes",
            Power::Edit => "--edit-role",
            Power::Erase => "--erase-role",
            Power::Note => "--store",
            Power::Bulk => "--bulk-role",
        }
    }
}

impl RelayError {
    pub fn status(&self) -> StatusCode {
        match self {
            RelayError::InvalidRequest(_)
            | RelayError::AccessLevelUnknown(_)
            | RelayError::AccessLevelNotHeld(_)
            | RelayError::RevokeAfterExpiry
            | RelayError::RevokeInPast
            | RelayError::UnknownApp(_) => StatusCode::BAD_REQUEST,
            RelayError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            RelayError::Forbidden(_)
            | RelayError::ChangesDisabled(_)
            | RelayError::ChangesNotAllowed(..) => StatusCode::FORBIDDEN,
            RelayError::NotFound
            | RelayError::ProfileNotFound
            | RelayError::Erased(_)
            | RelayError::StoreNotConfigured => StatusCode::NOT_FOUND,
            RelayError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            RelayError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RelayError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            RelayError::DuplicateChange(_) => StatusCode::CONFLICT,
            RelayError::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RelayError::RateLimited { .. } | RelayError::ChangesRateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            RelayError::RelayMisconfigured
            | RelayError::Upstream(_)
            | RelayError::UpstreamTooLarge => StatusCode::BAD_GATEWAY,
            RelayError::UpstreamTimeout | RelayError::OutcomeUnknown(_) => {
                StatusCode::GATEWAY_TIMEOUT
            }
            RelayError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            RelayError::Busy { .. }
            | RelayError::AuditUnavailable
            | RelayError::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            RelayError::HostNotAllowed => StatusCode::MISDIRECTED_REQUEST,
        }
    }

    /// The stable code the panel keys off.
    pub fn code(&self) -> ErrorCode {
        match self {
            RelayError::InvalidRequest(_)
            | RelayError::BodyTooLarge(_)
            | RelayError::BodyTimeout(_)
            | RelayError::NotJson
            | RelayError::DuplicateChange(_) => ErrorCode::InvalidRequest,
            RelayError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            RelayError::Forbidden(_) => ErrorCode::Forbidden,
            RelayError::NotFound => ErrorCode::NotFound,
            RelayError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            RelayError::ProfileNotFound | RelayError::Erased(_) => ErrorCode::ProfileNotFound,
            RelayError::RelayMisconfigured => ErrorCode::RelayMisconfigured,
            RelayError::RateLimited { .. } | RelayError::ChangesRateLimited { .. } => {
                ErrorCode::RateLimited
            }
            RelayError::Upstream(_) => ErrorCode::UpstreamError,
            RelayError::UpstreamTooLarge => ErrorCode::UpstreamTooLarge,
            RelayError::UpstreamTimeout => ErrorCode::UpstreamTimeout,
            RelayError::Internal => ErrorCode::InternalError,
            RelayError::AuditUnavailable => ErrorCode::AuditUnavailable,
            RelayError::Busy { .. } => ErrorCode::Busy,
            RelayError::HostNotAllowed => ErrorCode::HostNotAllowed,
            RelayError::ChangesDisabled(_) => ErrorCode::ChangesDisabled,
            RelayError::ChangesNotAllowed(..) => ErrorCode::ChangesNotAllowed,
            RelayError::OutcomeUnknown(_) => ErrorCode::OutcomeUnknown,
            RelayError::AccessLevelUnknown(_) => ErrorCode::AccessLevelUnknown,
            RelayError::AccessLevelNotHeld(_) => ErrorCode::AccessLevelNotHeld,
            RelayError::RevokeAfterExpiry => ErrorCode::RevokeAfterExpiry,
            RelayError::RevokeInPast => ErrorCode::RevokeInPast,
            RelayError::UnknownApp(_) => ErrorCode::UnknownApp,
            RelayError::StoreNotConfigured => ErrorCode::StoreNotConfigured,
            RelayError::StoreUnavailable => ErrorCode::StoreUnavailable,
        }
    }

    pub fn message(&self) -> String {
        match self {
            RelayError::InvalidRequest(message)
            | RelayError::Unauthenticated(message)
            | RelayError::Forbidden(message)
            | RelayError::Upstream(message)
            | RelayError::UnknownApp(message) => message.clone(),
            RelayError::NotFound => "no such API endpoint; the relay serves GET /api/profile, \
                GET /api/session, GET /api/search, GET /api/events, \
                POST /api/access-level/grant, POST /api/access-level/revoke, \
                POST /api/profile/update, POST /api/profile/erase, GET and POST /api/notes \
                and POST /api/notes/{id}/delete"
                .into(),
            RelayError::MethodNotAllowed(method) => format!("only {method} is allowed here"),
            RelayError::ProfileNotFound => "Adapty has no profile with this ID".into(),
            RelayError::Erased(record) => format!(
                "Adapty has no profile with this ID: this customer was erased on {} by {}",
                record.at, record.by
            ),
            RelayError::RelayMisconfigured => {
                "Adapty rejected the relay's API key; the operator must check the relay's configuration".into()
            }
            RelayError::RateLimited { .. } => "too many lookups; try again shortly".into(),
            RelayError::UpstreamTooLarge => {
                "Adapty's answer is larger than the relay accepts (RELAY_UPSTREAM_MAX_BYTES)".into()
            }
            RelayError::UpstreamTimeout => "Adapty did not answer in time".into(),
            RelayError::Busy { .. } => "the relay is busy; try again shortly".into(),
            RelayError::HostNotAllowed => {
                "this relay does not serve the host this request names (Host header); \
                 the operator can add it with --public-origin or --allowed-host"
                    .into()
            }
            RelayError::Internal => {
                "the relay failed on this request; the operator will find it in its log".into()
            }
            RelayError::BodyTooLarge(limit) => {
                format!("the request body is larger than the {limit} bytes the relay accepts")
            }
            RelayError::DuplicateChange(message) => message.clone(),
            RelayError::BodyTimeout(seconds) => {
                format!("the request body did not arrive within {seconds} seconds")
            }
            RelayError::NotJson => {
                "send the body as JSON, with the header Content-Type: application/json".into()
            }
            RelayError::ChangesDisabled(power) => format!(
                "{} are turned off in this relay; the operator turns them on with {}",
                power.noun(),
                power.flag()
            ),
            RelayError::ChangesNotAllowed(power, role) => format!(
                "you may look customers up but not {}: that needs the role {role:?}; ask the \
                 team that runs this tool",
                power.verb()
            ),
            RelayError::ChangesRateLimited {
                power,
                per_hour,
                retry_after_secs,
            } => format!(
                "too many {}: at most {per_hour} an hour per person; the next is possible in {} \
                 minutes",
                power.noun(),
                retry_after_secs.div_ceil(60)
            ),
            RelayError::AuditUnavailable => {
                "the relay cannot write its audit log, so nothing was looked up or changed; tell \
                 the team that runs this tool (the relay's log says why)"
                    .into()
            }
            RelayError::OutcomeUnknown(cause) => format!(
                "{cause}: the change may or may not have been applied — look the customer up again"
            ),
            RelayError::AccessLevelUnknown(id) => format!(
                "this app has no access level {id:?} in Adapty; check its spelling (IDs are \
                 case-sensitive)"
            ),
            RelayError::AccessLevelNotHeld(id) => {
                format!("the customer has no {id:?} access level to revoke")
            }
            RelayError::RevokeAfterExpiry => {
                "the revoke date is later than the access level's current end: it ends sooner by \
                 itself; choose an earlier date, or revoke now"
                    .into()
            }
            RelayError::RevokeInPast => {
                "Adapty takes the revoke date to be in the past; choose a later date, or revoke now"
                    .into()
            }
            RelayError::StoreNotConfigured => {
                "search by email or transaction ID and Adapty's events need the relay's store, \
                 which is not set up here (--store and --webhook-listen; README: \"Search and \
                 Adapty's events\"); look customers up by their ID"
                    .into()
            }
            RelayError::StoreUnavailable => {
                "the relay's store cannot be reached just now; look customers up by their ID, \
                 or try again shortly"
                    .into()
            }
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code().as_str(), "message": self.message()}});
        if let RelayError::Erased(record) = &self {
            body["error"][protocol::correction::ERASED] = json!({"at": record.at, "by": record.by});
        }
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        // It may be about a customer: no browser or proxy keeps a copy.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match self {
            RelayError::RateLimited {
                retry_after_secs: Some(seconds),
            }
            | RelayError::Busy {
                retry_after_secs: seconds,
            }
            | RelayError::ChangesRateLimited {
                retry_after_secs: seconds,
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            RelayError::MethodNotAllowed(method) => {
                headers.insert(header::ALLOW, HeaderValue::from_static(method));
            }
            _ => {}
        }
        response
    }
}
