//! Which `Host` a request may name, against DNS rebinding: a page an admin
//! visits can point its own name at the relay's address, and the browser
//! then treats the relay as that page's origin. Such a request names the
//! attacker's host, so anything but the names the operator expects is
//! refused before identity, input or Adapty.

use crate::error::RelayError;
use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use url::Url;

/// The hosts (lower-case, with a port or without) a request may name.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    /// `name:port` pairs, and bare names that match on any port.
    exact: HashSet<String>,
    any_port: HashSet<String>,
}

impl AllowedHosts {
    /// The public origins' hosts (with their port, which may be left out
    /// when it is the scheme's default), the operator's extra hosts, and
    /// when listening on loopback, loopback's own names with the bound port.
    pub fn new(public_origins: &[Url], extra: &[Authority], listen: SocketAddr) -> AllowedHosts {
        let mut allowed = AllowedHosts::default();
        for origin in public_origins {
            let (Some(host), Some(port)) = (origin.host_str(), origin.port_or_known_default())
            else {
                continue;
            };
            allowed
                .exact
                .insert(format!("{host}:{port}").to_ascii_lowercase());
            if origin.port().is_none() {
                allowed.exact.insert(host.to_ascii_lowercase());
            }
        }
        for host in extra {
            match host.port_u16() {
                Some(_) => allowed.exact.insert(host.as_str().to_ascii_lowercase()),
                None => allowed.any_port.insert(host.host().to_ascii_lowercase()),
            };
        }
        if listen.ip().is_loopback() {
            let port = listen.port();
            for name in [
                listen.ip().to_string(),
                "127.0.0.1".into(),
                "localhost".into(),
                "[::1]".into(),
            ] {
                allowed.exact.insert(format!("{name}:{port}"));
                // On port 80 a client names the host without its port.
                if port == 80 {
                    allowed.exact.insert(name);
                }
            }
        }
        allowed
    }

    pub fn allows(&self, host: &str) -> bool {
        let Some(authority) = parse(host) else {
            return false;
        };
        let name = authority.host().to_ascii_lowercase();
        self.any_port.contains(&name)
            || self
                .exact
                .contains(&authority.as_str().to_ascii_lowercase())
    }
}

/// A host as a `Host` header names it: a name or address, and a numeric
/// port or none; no user info.
pub fn parse(host: &str) -> Option<Authority> {
    let authority: Authority = host.parse().ok()?;
    let has_port = authority.as_str().len() > authority.host().len();
    let port_ok = !has_port || authority.port_u16().is_some();
    (port_ok && !host.contains('@')).then_some(authority)
}

/// Refuses (421) a request whose host is not allowed; a request in
/// absolute form (`GET http://host/…`) is judged by that host, which then
/// replaces its `Host` header (RFC 9112, 3.2.2: the header is ignored), so
/// that every later check (the CSRF check's origin) reads the host judged
/// here. A request naming its host twice is refused too (RFC 9112, 3.2): a
/// proxy in front might route by the other one.
pub async fn check(
    State(allowed): State<Arc<AllowedHosts>>,
    mut request: Request,
    next: Next,
) -> Response {
    let mut named = request.headers().get_all(header::HOST).iter();
    let (first, second) = (named.next(), named.next());
    let absolute = request.uri().authority().cloned();
    let host = match (&absolute, second) {
        (_, Some(_)) => None,
        (Some(authority), _) => Some(authority.as_str()),
        (None, None) => first.and_then(|value| value.to_str().ok()),
    };
    match host {
        Some(host) if allowed.allows(host) => {
            if let Some(authority) = absolute {
                if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
                    request.headers_mut().insert(header::HOST, value);
                }
            }
            next.run(request).await
        }
        _ => {
            tracing::debug!(
                host = host.unwrap_or("(none)"),
                "refused a request for a host not served here"
            );
            RelayError::HostNotAllowed.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(origins: &[&str], extra: &[&str], listen: &str) -> AllowedHosts {
        let origins: Vec<Url> = origins.iter().map(|o| o.parse().unwrap()).collect();
        let extra: Vec<Authority> = extra.iter().map(|h| h.parse().unwrap()).collect();
        AllowedHosts::new(&origins, &extra, listen.parse().unwrap())
    }

    #[test]
    fn loopback_names_with_the_bound_port() {
        let hosts = allowed(&[], &[], "127.0.0.1:8080");
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LocalHost:8080",
            "[::1]:8080",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
        for host in [
            "127.0.0.1:8081",
            "localhost",
            "evil.example:8080",
            "evil.example",
            "",
            "127.0.0.1:8080@evil",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
        assert!(!allowed(&[], &[], "0.0.0.0:8080").allows("127.0.0.1:8080"));
        // On port 80 the port is left out by every client.
        let on_80 = allowed(&[], &[], "127.0.0.1:80");
        for host in ["127.0.0.1", "localhost", "127.0.0.1:80", "[::1]"] {
            assert!(on_80.allows(host), "{host}");
        }
        assert!(!on_80.allows("evil.example"));
    }

    #[test]
    fn public_origins_with_or_without_their_default_port() {
        let hosts = allowed(
            &["https://Lookup.example.com", "http://intra.example:8000"],
            &[],
            "10.0.0.5:8080",
        );
        for host in [
            "lookup.example.com",
            "lookup.example.com:443",
            "LOOKUP.example.com",
            "intra.example:8000",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
        for host in [
            "lookup.example.com:8443",
            "intra.example",
            "10.0.0.5:8080",
            "example.com",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
    }

    #[test]
    fn extra_hosts_with_a_port_or_on_any_port() {
        let hosts = allowed(&[], &["relay.internal", "10.0.0.5:8080"], "10.0.0.5:8080");
        for host in ["relay.internal", "relay.internal:9000", "10.0.0.5:8080"] {
            assert!(hosts.allows(host), "{host}");
        }
        for host in ["10.0.0.5", "10.0.0.5:80", "internal"] {
            assert!(!hosts.allows(host), "{host}");
        }
    }
}
