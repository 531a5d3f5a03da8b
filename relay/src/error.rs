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
    MethodNotAllowed,
    ProfileNotFound,
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
}

impl RelayError {
    pub fn status(&self) -> StatusCode {
        match self {
            RelayError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            RelayError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            RelayError::Forbidden(_) => StatusCode::FORBIDDEN,
            RelayError::NotFound | RelayError::ProfileNotFound => StatusCode::NOT_FOUND,
            RelayError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            RelayError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            RelayError::RelayMisconfigured
            | RelayError::Upstream(_)
            | RelayError::UpstreamTooLarge => StatusCode::BAD_GATEWAY,
            RelayError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            RelayError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            RelayError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            RelayError::HostNotAllowed => StatusCode::MISDIRECTED_REQUEST,
        }
    }

    /// The stable code the panel keys off.
    pub fn code(&self) -> ErrorCode {
        match self {
            RelayError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            RelayError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            RelayError::Forbidden(_) => ErrorCode::Forbidden,
            RelayError::NotFound => ErrorCode::NotFound,
            RelayError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            RelayError::ProfileNotFound => ErrorCode::ProfileNotFound,
            RelayError::RelayMisconfigured => ErrorCode::RelayMisconfigured,
            RelayError::RateLimited { .. } => ErrorCode::RateLimited,
            RelayError::Upstream(_) => ErrorCode::UpstreamError,
            RelayError::UpstreamTooLarge => ErrorCode::UpstreamTooLarge,
            RelayError::UpstreamTimeout => ErrorCode::UpstreamTimeout,
            RelayError::Internal => ErrorCode::InternalError,
            RelayError::Busy { .. } => ErrorCode::Busy,
            RelayError::HostNotAllowed => ErrorCode::HostNotAllowed,
        }
    }

    pub fn message(&self) -> String {
        match self {
            RelayError::InvalidRequest(message)
            | RelayError::Unauthenticated(message)
            | RelayError::Forbidden(message)
            | RelayError::Upstream(message) => message.clone(),
            RelayError::NotFound => "no such API endpoint; the relay serves GET /api/profile".into(),
            RelayError::MethodNotAllowed => "only GET is allowed here".into(),
            RelayError::ProfileNotFound => "Adapty has no profile with this ID".into(),
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
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code().as_str(), "message": self.message()}});
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
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            RelayError::MethodNotAllowed => {
                headers.insert(header::ALLOW, HeaderValue::from_static("GET"));
            }
            _ => {}
        }
        response
    }
}
