//! The path prefix the relay serves under (`--base-path /tools/adapty`),
//! for a proxy that routes by path but does not strip the prefix.
//!
//! The prefix is taken off before routing, so the relay's own routes stay
//! as they are; the bare prefix is redirected to itself with a slash (the
//! panel's links are relative to it); anything outside it is a 404, but for
//! `/healthz` and `/metrics`, which stay at the root too: health checkers
//! and scrapers usually reach the backend directly, not through the proxy.

use axum::extract::{Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::{header, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `/tools/adapty/` or `tools/adapty` as `/tools/adapty`; `/` (or nothing)
/// as no prefix. `None` when it is not a plain path.
pub fn normalized(base: &str) -> Option<Option<String>> {
    let base = base.trim();
    let base = base.strip_prefix('/').unwrap_or(base);
    let trimmed = base.strip_suffix('/').unwrap_or(base);
    if trimmed.is_empty() {
        return Some(None);
    }
    let plain = trimmed.split('/').all(|segment| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte))
    });
    plain.then(|| Some(format!("/{trimmed}")))
}

/// Routes a request under the prefix as if there were none.
pub async fn strip(State(base): State<Arc<str>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == &*base {
        // Built from the prefix and the query only, never from the Host.
        let query = request
            .uri()
            .query()
            .map_or(String::new(), |query| format!("?{query}"));
        return (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, format!("{base}/{query}"))],
        )
            .into_response();
    }
    let inner = match path.strip_prefix(&*base) {
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        _ if path == "/healthz" || path == "/metrics" => path.to_owned(),
        _ => {
            return (
                StatusCode::NOT_FOUND,
                [(header::CACHE_CONTROL, "no-store")],
                "not found\n",
            )
                .into_response()
        }
    };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{inner}?{query}"),
        None => inner,
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(path_and_query).ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths_are_normalized_or_refused() {
        for (given, expected) in [
            ("/", None),
            ("", None),
            ("/tools/adapty", Some("/tools/adapty")),
            ("tools/adapty/", Some("/tools/adapty")),
            ("/a-b_c.d~e", Some("/a-b_c.d~e")),
        ] {
            assert_eq!(
                normalized(given),
                Some(expected.map(str::to_owned)),
                "{given}"
            );
        }
        for bad in ["/a b", "/a?b", "/a#b", "/../x", "//x", "/a//b", "/ä"] {
            assert_eq!(normalized(bad), None, "{bad}");
        }
    }
}
