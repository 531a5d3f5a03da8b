//! The relay's HTTP surface: the profile read, a health check, and the panel.

use crate::config::Config;
use crate::error::RelayError;
use crate::lookup::Lookup;
use crate::upstream::Upstream;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use std::sync::Arc;
use std::time::Instant;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    upstream: Arc<Upstream>,
}

/// The whole relay as a router; `main` and the tests serve it on a socket.
pub fn app(config: Config) -> Router {
    let state = AppState {
        upstream: Arc::new(Upstream::new(config.upstream)),
    };
    let api = Router::new()
        .route("/api/profile", get(profile).fallback(method_not_allowed))
        .route("/api/{*rest}", any(api_not_found))
        // Personal data: no browser or proxy may keep a copy.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state);

    let index = config.static_dir.join("index.html");
    let panel = ServeDir::new(&config.static_dir).fallback(ServeFile::new(index));

    Router::new()
        .merge(api)
        .route("/healthz", get(|| async { "ok" }))
        .fallback_service(panel)
        .layer(TraceLayer::new_for_http())
}

async fn profile(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let started = Instant::now();
    let result = match Lookup::from_query(query.as_deref()) {
        Ok(lookup) => state.upstream.fetch_profile(&lookup).await,
        Err(error) => Err(error),
    };
    let outcome = result.as_ref().map_or_else(RelayError::code, |_| "ok");
    tracing::info!(
        outcome,
        latency_ms = started.elapsed().as_millis() as u64,
        "lookup"
    );
    match result {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn method_not_allowed() -> RelayError {
    RelayError::MethodNotAllowed
}

async fn api_not_found() -> RelayError {
    RelayError::NotFound
}
