//! Request bodies, read whole before a request may take one of the slots
//! that lookups need, and within a deadline: a client that announces a body
//! and sends it slowly, or never, holds its own connection for a while and
//! nothing else.
//!
//! Only a change has a body; anything larger than a change's largest is
//! refused (413) as soon as that is known, without reading the rest.

use crate::error::RelayError;
use crate::rules::change;
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
    if announced.is_some_and(|length| length > change::MAX_BODY_BYTES as u64) {
        return RelayError::BodyTooLarge(change::MAX_BODY_BYTES).into_response();
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, change::MAX_BODY_BYTES);
    match tokio::time::timeout(deadline, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(error)) => too_large_or_broken(&error).into_response(),
        Err(_) => RelayError::BodyTimeout(deadline.as_secs()).into_response(),
    }
}

fn too_large_or_broken(error: &axum::Error) -> RelayError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return RelayError::BodyTooLarge(change::MAX_BODY_BYTES);
        }
        source = cause.source();
    }
    RelayError::InvalidRequest("the request body could not be read whole".into())
}
