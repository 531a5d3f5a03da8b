//! Only the panel's own script may call the API: a cross-site page can make a
//! browser send cookies (and so pass the SSO proxy), but it cannot add a
//! custom header without a CORS preflight the relay never grants.
//!
//! Every header read here is read whole, by allow-list, never by a list of
//! what to refuse (a spelling the list missed would pass):
//! - each must be given at most once (a second `Origin` or `Sec-Fetch-Site`
//!   could be the one a proxy or the browser meant), and as ASCII text;
//!   spaces and tabs around a value are dropped, and words are compared
//!   without regard to case;
//! - `X-CSRF` must be `1`;
//! - `Sec-Fetch-Site`, when present, must be `same-origin` or `none` (a
//!   request the person made themselves); anything else (`cross-site`,
//!   `same-site`, a value no browser sends) is refused;
//! - `Origin`, when present, must be exactly an origin (`scheme://host[:port]`,
//!   nothing after it) and one of `--public-origin`, or without those the
//!   host the request was sent to (`Host`, which `host::check` allowed).
//!   `X-Forwarded-Host` decides nothing: any client can send it, and no
//!   proxy is declared trusted to set it.
use crate::error::RelayError;
use axum::http::{header, HeaderMap};
use protocol::{CSRF_HEADER, CSRF_VALUE};
use url::Url;

pub fn check(headers: &HeaderMap, public_origins: &[Url]) -> Result<(), RelayError> {
    let forbidden = |why: &str| Err(RelayError::Forbidden(why.to_owned()));
    match one(headers, CSRF_HEADER) {
        Ok(Some(value)) if value == CSRF_VALUE => {}
        Ok(_) => return forbidden("API calls must come from the panel (X-CSRF: 1 is missing)"),
        Err(Twice) => return forbidden("API calls must come from the panel (X-CSRF given twice)"),
    }
    match one(headers, "sec-fetch-site") {
        Ok(None) => {}
        Ok(Some(site))
            if site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none") => {}
        Ok(Some(_)) => return forbidden("cross-site requests are not allowed"),
        Err(Twice) => {
            return forbidden("cross-site requests are not allowed (Sec-Fetch-Site given twice)")
        }
    }
    match one(headers, header::ORIGIN.as_str()) {
        Ok(None) => {}
        Ok(Some(origin)) if is_own_origin(origin, headers, public_origins) => {}
        Ok(Some(_)) => return forbidden("requests from another origin are not allowed"),
        Err(Twice) => {
            return forbidden("requests from another origin are not allowed (Origin given twice)")
        }
    }
    Ok(())
}

/// A header given more than once.
struct Twice;

/// The header's one value, without spaces and tabs around it; a value
/// that is not ASCII text reads as `""`, which nothing allows.
fn one<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Twice> {
    let mut values = headers.get_all(name).iter();
    let (first, second) = (values.next(), values.next());
    if second.is_some() {
        return Err(Twice);
    }
    Ok(first.map(|value| value.to_str().unwrap_or_default().trim_matches([' ', '\t'])))
}

/// `origin` spelled exactly as an origin (any case), and one of the
/// configured public origins, or else the host the request was sent to.
fn is_own_origin(origin: &str, headers: &HeaderMap, public_origins: &[Url]) -> bool {
    let Some(origin) = parse_origin(origin) else {
        return false; // "null", opaque origins, and anything that is not an origin
    };
    if !public_origins.is_empty() {
        return public_origins
            .iter()
            .any(|public| public.origin() == origin.origin());
    }
    // Exactly one Host (`host::check` refuses two, and puts an absolute
    // form's authority there): the name and port the client connected to.
    let mut hosts = headers.get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return false;
    };
    let Some(host) = host.to_str().ok().and_then(super::host::parse) else {
        return false;
    };
    let (Some(name), Some(port)) = (origin.host_str(), origin.port_or_known_default()) else {
        return false;
    };
    // A Host without a port names the scheme's default one.
    let default_port = if origin.scheme() == "https" { 443 } else { 80 };
    host.host().eq_ignore_ascii_case(name) && host.port_u16().unwrap_or(default_port) == port
}

/// An `Origin` value as browsers send it: `http(s)://host[:port]` and
/// nothing else (no path, user, query, or a port that is the default).
fn parse_origin(value: &str) -> Option<Url> {
    let url = Url::parse(value).ok()?;
    let exact = matches!(url.scheme(), "http" | "https")
        && url
            .origin()
            .ascii_serialization()
            .eq_ignore_ascii_case(value);
    exact.then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn origins(urls: &[&str]) -> Vec<Url> {
        urls.iter().map(|url| url.parse().unwrap()).collect()
    }

    /// Every pair as its own header line: a name given twice is there twice.
    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn forbidden(pairs: &[(&'static str, &'static str)], public: &[Url]) -> bool {
        matches!(
            check(&headers(pairs), public),
            Err(RelayError::Forbidden(_))
        )
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

    /// Each header once, allowed values only, any case; `X-Forwarded-Host`
    /// never decides the origin.
    #[test]
    fn headers_given_twice_or_spelled_otherwise_are_forbidden() {
        const OWN: (&str, &str) = ("host", "lookup.example.com");
        let cases: &[&[(&str, &str)]] = &[
            // Given twice: only the first was read.
            &[
                ("x-csrf", "1"),
                OWN,
                ("origin", "https://lookup.example.com"),
                ("origin", "https://evil.example"),
            ],
            &[
                ("x-csrf", "1"),
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-site", "cross-site"),
            ],
            &[("x-csrf", "1"), ("x-csrf", "1")],
            &[("x-csrf", "1, 1")],
            // Another case, another spelling, another word.
            &[("x-csrf", "1"), ("sec-fetch-site", "Cross-Site")],
            &[("x-csrf", "1"), ("sec-fetch-site", "SAME-SITE")],
            &[("x-csrf", "1"), ("sec-fetch-site", " cross-site ")],
            &[
                ("x-csrf", "1"),
                ("sec-fetch-site", "cross-site, same-origin"),
            ],
            &[
                ("x-csrf", "1"),
                ("sec-fetch-site", "same-origin, cross-site"),
            ],
            &[("x-csrf", "1"), ("sec-fetch-site", "")],
            &[("x-csrf", "1"), ("sec-fetch-site", "crosssite")],
            // X-Forwarded-Host is anyone's to send.
            &[
                ("x-csrf", "1"),
                ("origin", "http://evil.example"),
                ("x-forwarded-host", "evil.example"),
                OWN,
            ],
            &[
                ("x-csrf", "1"),
                ("origin", "http://evil.example"),
                ("x-forwarded-host", "evil.example"),
            ],
            // Not an origin, or not this one.
            &[
                ("x-csrf", "1"),
                OWN,
                ("origin", "https://lookup.example.com/"),
            ],
            &[
                ("x-csrf", "1"),
                OWN,
                ("origin", "https://lookup.example.com/x"),
            ],
            &[
                ("x-csrf", "1"),
                OWN,
                ("origin", "https://a@lookup.example.com"),
            ],
            &[
                ("x-csrf", "1"),
                OWN,
                ("origin", "https://lookup.example.com:8443"),
            ],
            &[
                ("x-csrf", "1"),
                OWN,
                ("origin", "https://lookup.example.com.evil.example"),
            ],
            &[("x-csrf", "1"), OWN, ("origin", "lookup.example.com")],
            &[("x-csrf", "1"), OWN, ("origin", "ftp://lookup.example.com")],
            &[
                ("x-csrf", "1"),
                OWN,
                ("origin", "https://lookup.example.com https://evil.example"),
            ],
            &[("x-csrf", "1"), OWN, ("origin", "")],
            &[("x-csrf", "1"), ("origin", "https://lookup.example.com")],
            &[
                ("x-csrf", "1"),
                ("host", "lookup.example.com"),
                ("host", "evil.example"),
                ("origin", "https://evil.example"),
            ],
        ];
        for case in cases {
            assert!(forbidden(case, &[]), "{case:?}");
        }
        let public = origins(&["https://lookup.example.com"]);
        assert!(forbidden(
            &[
                ("x-csrf", "1"),
                ("origin", "https://lookup.example.com"),
                ("origin", "https://evil.example"),
            ],
            &public
        ));
        assert!(forbidden(
            &[("x-csrf", "1"), ("origin", "https://lookup.example.com/")],
            &public
        ));
    }

    #[test]
    fn allowed_values_pass_in_any_case_and_with_spaces_around() {
        let cases: &[&[(&str, &str)]] = &[
            &[("x-csrf", " 1 ")],
            &[("x-csrf", "1"), ("sec-fetch-site", "Same-Origin")],
            &[("x-csrf", "1"), ("sec-fetch-site", " same-origin\t")],
            &[("x-csrf", "1"), ("sec-fetch-site", "none")],
            &[("x-csrf", "1"), ("sec-fetch-site", "NONE")],
            &[
                ("x-csrf", "1"),
                ("host", "LOOKUP.example.com"),
                ("origin", "HTTPS://Lookup.Example.COM"),
            ],
            &[
                ("x-csrf", "1"),
                ("host", "lookup.example.com:443"),
                ("origin", "https://lookup.example.com"),
            ],
            &[
                ("x-csrf", "1"),
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080"),
            ],
            &[
                ("x-csrf", "1"),
                ("host", "[::1]:8080"),
                ("origin", "http://[::1]:8080"),
            ],
        ];
        for case in cases {
            assert!(check(&headers(case), &[]).is_ok(), "{case:?}");
        }
        let public = origins(&["https://lookup.example.com"]);
        assert!(check(
            &headers(&[("x-csrf", "1"), ("origin", "https://LOOKUP.example.com")]),
            &public
        )
        .is_ok());
    }
}
