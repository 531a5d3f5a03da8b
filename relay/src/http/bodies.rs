//! Request bodies, read whole before a request may take one of the slots
//! that lookups need, and within a deadline: a client that announces a body
//! and sends it slowly, or never, holds its own connection for a while and
//! nothing else.
//!
//! Only a change, a correction or an erasure has a body; anything larger
//! than the largest its path takes is refused (413) as soon as that is
//! known, without reading the rest.

use crate::error::RelayError;
use crate::rules::{bulk, change, correction, notes};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Reads the body of any request that has one, within `deadline` (the
/// time a client may take for its headers too), then passes the request on
/// with the body in memory.
pub async fn read_whole(
    State(deadline): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let chunked = request.headers().contains_key(header::TRANSFER_ENCODING);
    if announced.unwrap_or(0) == 0 && !chunked {
        return next.run(request).await;
    }
    let limit = largest_body(request.uri().path());
    if announced.is_some_and(|length| length > limit as u64) {
        return RelayError::BodyTooLarge(limit).into_response();
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, limit);
    match tokio::time::timeout(deadline, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(error)) => too_large_or_broken(&error, limit).into_response(),
        Err(_) => RelayError::BodyTimeout(deadline.as_secs()).into_response(),
    }
}

/// The largest body a path takes: a correction's, a note's, or a change's
/// (the largest of the others).
fn largest_body(path: &str) -> usize {
    match path.strip_prefix('/') {
        Some(protocol::path::PROFILE_UPDATE) => correction::MAX_BODY_BYTES,
        Some(protocol::path::NOTES) => notes::MAX_BODY_BYTES,
        Some(protocol::path::BULK) => bulk::MAX_BODY_BYTES,
        _ => change::MAX_BODY_BYTES,
    }
}

fn too_large_or_broken(error: &axum::Error, limit: usize) -> RelayError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return RelayError::BodyTooLarge(limit);
        }
        source = cause.source();
    }
    RelayError::InvalidRequest("the request body could not be read whole".into())
}
