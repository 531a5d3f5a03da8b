//! Where the relay may send requests (an app's Adapty, the JWKS): https
//! only, so that the key, and the trust in identities, never cross a
//! network in clear text; plain http only to loopback, for the demo's
//! stand-in and tests.

use std::fmt;
use std::net::IpAddr;
use url::Url;

/// The setting's name, and what was given.
#[derive(Debug)]
pub enum UrlError {
    Invalid(&'static str, String),
    NotHttps(&'static str, String),
}

/// `given` as a URL the relay may call, named by its `setting` in errors.
pub fn checked(setting: &'static str, given: &str) -> Result<Url, UrlError> {
    let invalid = || UrlError::Invalid(setting, given.to_owned());
    let url = Url::parse(given).map_err(|_| invalid())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(invalid()),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(UrlError::NotHttps(setting, given.to_owned())),
    }
}

impl UrlError {
    /// What is wrong, without the value given (for the apps file, whose
    /// content is never quoted).
    pub fn rule(&self) -> String {
        match self {
            UrlError::Invalid(setting, _) => format!("{setting} is not a URL"),
            UrlError::NotHttps(setting, _) => {
                format!("{setting} must use https (plain http is allowed only to loopback)")
            }
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Invalid(setting, url) => write!(f, "{setting} is not a URL: {url}"),
            UrlError::NotHttps(setting, url) => write!(
                f,
                "{setting} {url} must use https (plain http is allowed only to loopback)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_leaves_the_machine() {
        let check = |url| checked("ADAPTY_API_BASE", url);
        assert!(check("https://api.adapty.io").is_ok());
        assert!(check("http://127.0.0.1:9000").is_ok());
        assert!(check("http://localhost:9000").is_ok());
        assert!(check("http://[::1]:9000").is_ok());
        assert!(matches!(
            check("http://api.adapty.io"),
            Err(UrlError::NotHttps(..))
        ));
        assert!(matches!(
            check("ftp://127.0.0.1"),
            Err(UrlError::NotHttps(..))
        ));
        assert!(matches!(check("not a url"), Err(UrlError::Invalid(..))));
    }
}
