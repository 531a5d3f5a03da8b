//! The security headers every answer carries: a strict Content-Security-
//! Policy (the panel's page brings its own, allowing its start-up script),
//! no sniffing, no referrer, no framing; and how to keep it. The HTTP
//! layer adds them to the relay's answers, the connection to hyper's own.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// A strict Content-Security-Policy that still lets the panel run: its wasm
/// (`'wasm-unsafe-eval'`) and, on its page, the inline start-up script
/// Trunk writes into index.html, allowed by its hash (`'sha256-…'`, each
/// after a space). Without hashes, no script but the panel's own files.
pub fn policy(script_hashes: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{script_hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

static STRICT_POLICY: std::sync::LazyLock<HeaderValue> =
    std::sync::LazyLock::new(|| HeaderValue::try_from(policy("")).expect("the policy is ASCII"));

/// The headers every answer carries besides its policy and caching.
pub const HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Headers every response gets. The page brings its own policy; every
/// other answer gets the strict one. An answer that says how to keep it is
/// left so (the API's no-store, the panel's files); any other is revalidated.
pub async fn add(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, STRICT_POLICY.clone());
    }
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}
