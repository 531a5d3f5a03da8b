//! The ways Adapty fails in the browser tests, as scripts for the raw TCP
//! upstream the relay's own tests use too.

use std::time::Duration;
use testkit::{http, Raw};

pub fn wrong_key() -> Raw {
    http(
        "401 Unauthorized",
        "Content-Type: application/json\r\n",
        r#"{"errors":["Invalid API key"],"error_code":"unauthorized","status_code":401}"#,
    )
}

pub fn rate_limited() -> Raw {
    http(
        "429 Too Many Requests",
        "Content-Type: application/json\r\nRetry-After: 30\r\n",
        r#"{"errors":["Too many requests"],"error_code":"rate_limited","status_code":429}"#,
    )
}

pub fn down() -> Raw {
    http(
        "503 Service Unavailable",
        "Content-Type: text/html\r\n",
        "<html><body>Service Unavailable</body></html>",
    )
}

/// Reads the request and never answers.
pub fn stall() -> Raw {
    Raw::SendThenStall(Vec::new(), Duration::from_secs(60))
}

/// A proper answer: `body` as JSON.
pub fn ok(body: &str) -> Raw {
    testkit::ok_json(body)
}
