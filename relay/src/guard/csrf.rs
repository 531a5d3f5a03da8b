//! Only the panel's own script may call the API: a cross-site page can make a
//! browser send cookies (and so pass the SSO proxy), but it cannot add a
//! custom header without a CORS preflight the relay never grants.

use crate::error::RelayError;
use axum::http::{header, HeaderMap};
use protocol::{CSRF_HEADER, CSRF_VALUE};
use url::Url;

pub fn check(headers: &HeaderMap, public_origins: &[Url]) -> Result<(), RelayError> {
    let forbidden = |why: &str| Err(RelayError::Forbidden(why.to_owned()));
    if headers
        .get(CSRF_HEADER)
        .is_none_or(|value| value != CSRF_VALUE)
    {
        return forbidden("API calls must come from the panel (X-CSRF: 1 is missing)");
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        if site == "cross-site" || site == "same-site" {
            return forbidden("cross-site requests are not allowed");
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !is_own_origin(origin, headers, public_origins) {
            return forbidden("requests from another origin are not allowed");
        }
    }
    Ok(())
}

/// One of the configured public origins, or else the host the request was
/// sent to (as the proxy forwarded it).
fn is_own_origin(origin: &str, headers: &HeaderMap, public_origins: &[Url]) -> bool {
    if !public_origins.is_empty() {
        // Opaque origins ("null") do not parse, and match nothing.
        return Url::parse(origin).is_ok_and(|origin| {
            public_origins
                .iter()
                .any(|public| public.origin() == origin.origin())
        });
    }
    let Some(authority) = origin.split_once("://").map(|(_, rest)| rest) else {
        return false; // "null" and other opaque origins
    };
    let host = |name| {
        headers
            .get(name)
            .and_then(|value: &axum::http::HeaderValue| value.to_str().ok())
    };
    [host("x-forwarded-host"), host(header::HOST.as_str())]
        .into_iter()
        .flatten()
        .any(|own| own.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn origins(urls: &[&str]) -> Vec<Url> {
        urls.iter().map(|url| url.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_panels_own_calls_pass() {
        assert!(check(&headers(&[("x-csrf", "1")]), &[]).is_ok());
        let same_origin = headers(&[
            ("x-csrf", "1"),
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://lookup.example.com"),
            ("host", "lookup.example.com"),
        ]);
        assert!(check(&same_origin, &[]).is_ok());
        let proxied = headers(&[
            ("x-csrf", "1"),
            ("origin", "https://lookup.example.com"),
            ("host", "127.0.0.1:8080"),
        ]);
        let public = origins(&[
            "https://lookup.example.com",
            "https://other.example.com:8443",
        ]);
        assert!(check(&proxied, &public).is_ok());
        let second = headers(&[
            ("x-csrf", "1"),
            ("origin", "https://other.example.com:8443"),
        ]);
        assert!(check(&second, &public).is_ok(), "any of the public origins");
    }

    #[test]
    fn everything_else_is_forbidden() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[("x-csrf", "0")],
            &[("x-csrf", "1"), ("sec-fetch-site", "cross-site")],
            &[("x-csrf", "1"), ("sec-fetch-site", "same-site")],
            &[
                ("x-csrf", "1"),
                ("origin", "https://evil.example"),
                ("host", "lookup.example.com"),
            ],
            &[
                ("x-csrf", "1"),
                ("origin", "null"),
                ("host", "lookup.example.com"),
            ],
        ];
        for case in cases {
            assert!(
                matches!(check(&headers(case), &[]), Err(RelayError::Forbidden(_))),
                "{case:?}"
            );
        }
        let proxied = headers(&[
            ("x-csrf", "1"),
            ("origin", "https://evil.example"),
            ("host", "evil.example"),
        ]);
        assert!(check(&proxied, &origins(&["https://lookup.example.com"])).is_err());
    }
}
