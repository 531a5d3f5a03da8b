//! What the operator sees of requests: their IDs, their spans in the log,
//! the metrics by route, and health.

use crate::audit::AuditLog;
use crate::metrics::Metrics;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub const REQUEST_ID: &str = "x-request-id";

/// Healthy unless the audit log cannot be written (plain text, as before;
/// 503 tells a load balancer to send lookups elsewhere).
pub async fn healthz(audit: Arc<AuditLog>) -> Response {
    if audit.is_healthy() {
        "ok".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the audit log cannot be written; lookups and changes are refused",
        )
            .into_response()
    }
}

/// The API's routes as the log and the metrics name them.
const API_ROUTES: [&str; 4] = [
    protocol::path::PROFILE,
    protocol::path::SESSION,
    protocol::path::GRANT,
    protocol::path::REVOKE,
];

/// The span of a request in the relay's own log: method and path, never
/// the query (it names the customer), and for the API only the route.
pub fn request_span(request: &Request) -> tracing::Span {
    let path = request.uri().path();
    // Under a base path too: whatever follows /api/ is the route or hidden.
    let path = match path.find("/api/") {
        Some(at) if API_ROUTES.contains(&&path[at + 1..]) => path.to_owned(),
        Some(at) => format!("{}/api/…", &path[..at]),
        None => path.to_owned(),
    };
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::debug_span!("request", method = %request.method(), path, request_id)
}

/// A client's (or its proxy's) request ID is kept for the log and the
/// answer only when it is 1–64 characters of `[A-Za-z0-9._-]`; otherwise
/// it is dropped, and `SetRequestIdLayer` makes one.
pub async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = |id: &[u8]| {
        (1..=64).contains(&id.len())
            && id
                .iter()
                .all(|&byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte))
    };
    let headers = request.headers_mut();
    let mut ids = headers.get_all(REQUEST_ID).iter();
    let keep = ids.next().is_some_and(|id| usable(id.as_bytes())) && ids.next().is_none();
    if !keep {
        headers.remove(REQUEST_ID);
    }
    request
}

pub async fn render_metrics(State(services): State<super::Services>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        services.metrics.render(),
    )
        .into_response()
}

/// Counts every request by route template (never the raw path: IDs are
/// personal data and would explode the label set) and status.
pub async fn count_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = match request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().trim_start_matches('/'))
    {
        Some(protocol::path::PROFILE) => "/api/profile",
        Some(protocol::path::SESSION) => "/api/session",
        Some(protocol::path::GRANT) => "/api/access-level/grant",
        Some(protocol::path::REVOKE) => "/api/access-level/revoke",
        Some("healthz") => "/healthz",
        Some("metrics") => "/metrics",
        Some(_) => "/api/other",
        None => "static",
    };
    let response = next.run(request).await;
    metrics.request(route, response.status().as_u16());
    response
}
