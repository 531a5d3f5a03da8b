//! What the operator sets: flags, each with an environment equivalent.

use axum::http::HeaderValue;
use clap::Parser;
use reqwest::Url;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The secret key is deliberately not a command-line flag: every local user
/// can read a process's arguments. Pass it in the environment or, better, a file.
#[derive(Parser, Debug)]
#[command(
    name = "relay",
    version,
    about = "Adapty profile lookup relay: holds the secret key, serves the panel"
)]
pub struct Args {
    /// File holding the Adapty secret key (preferred over ADAPTY_API_KEY).
    #[arg(long, env = "ADAPTY_API_KEY_FILE")]
    pub api_key_file: Option<PathBuf>,

    /// Adapty's API base URL; https only, except to a loopback address.
    #[arg(long, env = "ADAPTY_API_BASE", default_value = "https://api.adapty.io")]
    pub api_base: String,

    /// Address to listen on.
    #[arg(long, env = "RELAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The built panel (Trunk's `dist/`).
    #[arg(long, env = "RELAY_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,

    /// Total time one lookup may spend on Adapty, in seconds.
    #[arg(long, env = "RELAY_UPSTREAM_TIMEOUT_SECS", default_value_t = 10)]
    pub upstream_timeout_secs: u64,

    /// Largest profile body accepted from Adapty, in bytes.
    #[arg(long, env = "RELAY_UPSTREAM_MAX_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub upstream_max_bytes: usize,

    /// Run against a built-in stand-in for Adapty with sample profiles; no key needed.
    #[arg(long)]
    pub demo: bool,
}

/// Everything the relay needs, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub static_dir: PathBuf,
    pub upstream: UpstreamConfig,
}

#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    pub base: Url,
    pub key: ApiKey,
    pub timeout: Duration,
    pub max_body_bytes: usize,
}

/// The `Authorization` value for Adapty, marked sensitive so that HTTP
/// libraries never log it, and with a `Debug` that shows nothing of it.
#[derive(Clone)]
pub struct ApiKey(HeaderValue);

impl ApiKey {
    pub fn new(secret: &str) -> Result<ApiKey, ConfigError> {
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(ConfigError::KeyEmpty);
        }
        // Never echo the value: the error only says what kind of problem it is.
        let mut value = HeaderValue::from_str(&format!("Api-Key {secret}"))
            .map_err(|_| ConfigError::KeyNotPrintable)?;
        value.set_sensitive(true);
        Ok(ApiKey(value))
    }

    pub fn authorization(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(redacted)")
    }
}

#[derive(Debug)]
pub enum ConfigError {
    KeyMissing,
    KeyEmpty,
    KeyNotPrintable,
    KeyFileUnreadable { path: PathBuf, reason: String },
    BaseUrlInvalid(String),
    BaseUrlNotHttps(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::KeyMissing => f.write_str(
                "no Adapty secret key: set ADAPTY_API_KEY_FILE (or --api-key-file) to a file holding it, \
                 or ADAPTY_API_KEY; or run with --demo to try the panel without one",
            ),
            ConfigError::KeyEmpty => f.write_str("the Adapty secret key is empty"),
            ConfigError::KeyNotPrintable => f.write_str(
                "the Adapty secret key contains characters that cannot go in an HTTP header",
            ),
            ConfigError::KeyFileUnreadable { path, reason } => {
                write!(f, "cannot read the key file {}: {reason}", path.display())
            }
            ConfigError::BaseUrlInvalid(url) => write!(f, "ADAPTY_API_BASE is not a URL: {url}"),
            ConfigError::BaseUrlNotHttps(url) => write!(
                f,
                "ADAPTY_API_BASE must use https (plain http is allowed only to loopback): {url}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Args {
    /// Resolves the key from the file or the environment; the file wins,
    /// since it keeps the secret out of the process environment.
    fn key(&self) -> Result<ApiKey, ConfigError> {
        if let Some(path) = &self.api_key_file {
            let secret =
                std::fs::read_to_string(path).map_err(|error| ConfigError::KeyFileUnreadable {
                    path: path.clone(),
                    reason: error.kind().to_string(),
                })?;
            return ApiKey::new(&secret);
        }
        match std::env::var("ADAPTY_API_KEY") {
            Ok(secret) => ApiKey::new(&secret),
            Err(_) => Err(ConfigError::KeyMissing),
        }
    }

    pub fn into_config(self) -> Result<Config, ConfigError> {
        let key = self.key()?;
        let base = self.api_base.clone();
        self.into_config_with(&base, key)
    }

    /// The same checks with a given upstream: demo mode points at its stand-in.
    pub fn into_config_with(self, base: &str, key: ApiKey) -> Result<Config, ConfigError> {
        Ok(Config {
            listen: self.listen,
            static_dir: self.static_dir,
            upstream: UpstreamConfig {
                base: checked_base_url(base)?,
                key,
                timeout: Duration::from_secs(self.upstream_timeout_secs.max(1)),
                max_body_bytes: self.upstream_max_bytes,
            },
        })
    }
}

/// https only: the key must never cross a network in clear text. Loopback
/// is the exception, for the demo stand-in and tests.
pub fn checked_base_url(base: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(base).map_err(|_| ConfigError::BaseUrlInvalid(base.to_owned()))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(ConfigError::BaseUrlInvalid(base.to_owned())),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(ConfigError::BaseUrlNotHttps(base.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let key = ApiKey::new("secret_live_abc123").unwrap();
        let config = UpstreamConfig {
            base: checked_base_url("https://api.adapty.io").unwrap(),
            key,
            timeout: Duration::from_secs(1),
            max_body_bytes: 1,
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("abc123"), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn keys_are_trimmed_and_checked() {
        assert!(ApiKey::new("  secret_live_x\n").is_ok());
        assert!(matches!(ApiKey::new(" \n"), Err(ConfigError::KeyEmpty)));
        assert!(matches!(
            ApiKey::new("a\u{7}b"),
            Err(ConfigError::KeyNotPrintable)
        ));
    }

    #[test]
    fn only_https_leaves_the_machine() {
        assert!(checked_base_url("https://api.adapty.io").is_ok());
        assert!(checked_base_url("http://127.0.0.1:9000").is_ok());
        assert!(checked_base_url("http://localhost:9000").is_ok());
        assert!(checked_base_url("http://[::1]:9000").is_ok());
        assert!(matches!(
            checked_base_url("http://api.adapty.io"),
            Err(ConfigError::BaseUrlNotHttps(_))
        ));
        assert!(matches!(
            checked_base_url("ftp://127.0.0.1"),
            Err(ConfigError::BaseUrlNotHttps(_))
        ));
        assert!(matches!(
            checked_base_url("not a url"),
            Err(ConfigError::BaseUrlInvalid(_))
        ));
    }
}
