//! The relay's own answers: a profile as Adapty sent it, every error as the
//! one JSON shape, a panic as a plain 500, and the methods a path takes.

use crate::adapty::budget::HeldBody;
use crate::adapty::Profile;
use crate::error::RelayError;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A profile as Adapty sent it, or the error.
pub fn profile(result: Result<Profile, RelayError>) -> Response {
    match result {
        Ok(profile) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                // Personal data: no browser or proxy may keep a copy.
                (header::CACHE_CONTROL, "no-store"),
            ],
            HeldBody::body(profile.bytes, profile.reservation),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// A panic fails its own request only: logged for the operator, answered
/// as a plain 500; the panic's text may hold anything and is not shown.
pub fn panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = text, "a request handler panicked");
    RelayError::Internal.into_response()
}

pub async fn get_only() -> RelayError {
    RelayError::MethodNotAllowed("GET")
}

pub async fn post_only() -> RelayError {
    RelayError::MethodNotAllowed("POST")
}

pub async fn get_or_post() -> RelayError {
    RelayError::MethodNotAllowed("GET, POST")
}

pub async fn api_not_found() -> RelayError {
    RelayError::NotFound
}
