//! Adapty's webhook: `POST /webhook/{app}` on a listener of its own
//! (`--webhook-listen`), the one address operators expose to Adapty, never
//! behind single sign-on. It answers that path and nothing else (404).
//!
//! In the order that fails cheapest: the app must have a webhook secret
//! (else 404), the `Authorization` header must be one of its two values
//! (401), the body at most 1 MiB (413) and an event Adapty could send
//! (400). An event is committed to the store before the 200 that stops
//! Adapty's retries; a duplicate answers 200 and is kept once; a store
//! that cannot write answers 503, and Adapty tries again for 24 hours.
//! Nobody looked anything up: no audit line. `/metrics` counts each
//! outcome per app.

pub mod event;

use crate::apps::Apps;
use crate::metrics::Metrics;
use crate::store::ingest::Recorded;
use crate::store::Store;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use event::Payload;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// Larger than any event Adapty sends (a few kilobytes).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A body slower than this holds a connection for nothing.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Adapty sends a few events at once; more wait.
const AT_ONCE: usize = 64;

#[derive(Clone)]
struct Receiver {
    apps: Arc<Apps>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    unauthorized_said: Arc<OncePerMinute>,
}

/// A log line that may be said once a minute at most.
#[derive(Default)]
struct OncePerMinute(std::sync::Mutex<Option<std::time::Instant>>);

impl OncePerMinute {
    fn ready(&self) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.is_none_or(|at| at.elapsed() >= Duration::from_secs(60));
        if due {
            *last = Some(std::time::Instant::now());
        }
        due
    }
}

/// The webhook listener's whole router.
pub fn router(apps: Arc<Apps>, store: Arc<Store>, metrics: Arc<Metrics>) -> Router {
    let receiver = Receiver {
        apps,
        store,
        metrics,
        unauthorized_said: Arc::default(),
    };
    Router::new()
        .route("/webhook/{app}", post(receive).fallback(not_found))
        .fallback(not_found)
        .with_state(receiver)
        .layer(CatchPanicLayer::custom(|_| {
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the relay failed on this event",
            )
        }))
        .layer(GlobalConcurrencyLimitLayer::new(AT_ONCE))
        .layer(TraceLayer::new_for_http())
}

async fn receive(
    State(receiver): State<Receiver>,
    app: Result<Path<String>, axum::extract::rejection::PathRejection>,
    request: Request,
) -> Response {
    let apps = receiver.apps.current();
    let app = app
        .ok()
        .and_then(|Path(id)| apps.iter().find(|app| app.id == id).cloned())
        .filter(|app| app.webhook.is_set());
    let Some(app) = app else {
        receiver.metrics.webhook("", "unknown_app");
        return not_found().await;
    };
    let count = |outcome: &'static str| receiver.metrics.webhook(&app.id, outcome);
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    let Some(environment) = app.webhook.which(authorization) else {
        count("unauthorized");
        // Adapty does not send again after a 401: a secret typed wrong in
        // its dashboard loses events, so the operator must hear of it
        // (once a minute at most: anyone may post here).
        if receiver.unauthorized_said.ready() {
            tracing::warn!(
                app = %app.id,
                "a webhook post with a wrong or missing Authorization was refused; if it was \
                 Adapty, its events are lost until the secret in its dashboard matches"
            );
        }
        return answer(
            StatusCode::UNAUTHORIZED,
            "the Authorization header is not this app's webhook secret",
        );
    };
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err((status, reason)) => {
            count(if status == StatusCode::PAYLOAD_TOO_LARGE {
                "too_large"
            } else {
                "unreadable"
            });
            return answer(status, reason);
        }
    };
    let now = chrono::Utc::now();
    let incoming = match event::read(&body, now, environment) {
        Ok(Payload::Verification(check)) => {
            count("verification");
            let body = match check {
                Some(check) => json!({"adapty_check_response": check}),
                None => json!({}),
            };
            return (StatusCode::OK, Json(body)).into_response();
        }
        Ok(Payload::Event(incoming)) => incoming,
        Err(refusal) => {
            count(refusal.label());
            return answer(StatusCode::BAD_REQUEST, refusal.reason());
        }
    };
    match receiver
        .store
        .record(&app.id, &incoming, now.timestamp_millis())
        .await
    {
        Ok(Recorded::New) => {
            count("accepted");
            (StatusCode::OK, Json(json!({}))).into_response()
        }
        Ok(Recorded::Duplicate) => {
            count("duplicate");
            (StatusCode::OK, Json(json!({"duplicate": true}))).into_response()
        }
        Err(error) => {
            count("store_unavailable");
            tracing::error!(app = %app.id, %error, "a webhook event could not be stored; Adapty will send it again");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay cannot store the event just now; send it again later",
            )
        }
    }
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, (StatusCode, &'static str)> {
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(error)) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            Err(match too_large {
                true => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the body is larger than 1 MiB",
                ),
                false => (StatusCode::BAD_REQUEST, "the body could not be read"),
            })
        }
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            "the body did not arrive within 10 seconds",
        )),
    }
}

async fn not_found() -> Response {
    answer(
        StatusCode::NOT_FOUND,
        "this address takes only POST /webhook/APP for an app with a webhook secret",
    )
}

fn answer(status: StatusCode, reason: &str) -> Response {
    (status, Json(json!({"error": reason}))).into_response()
}
