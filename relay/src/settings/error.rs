//! Why the relay refuses to start: each error names the flag and says what
//! to do, and never quotes a secret.

use crate::adapty::key::KeyError;
use crate::apps::file::FileError;
use crate::remote_url::UrlError;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug)]
pub enum ConfigError {
    KeyMissing,
    Key(KeyError),
    ChainKeyFileUnreadable {
        path: PathBuf,
        reason: String,
    },
    ChainKeyEmpty,
    Url(UrlError),
    HeaderNameInvalid(String),
    DashboardUrlInvalid(String),
    OriginInvalid(String),
    BasePathInvalid(String),
    HostInvalid(String),
    /// Room for answers smaller than the largest answer accepted.
    MemoryBelowMaxBody,
    /// Listening beyond loopback without knowing the names clients use.
    HostsUnknown(SocketAddr),
    /// Access changes on, with no way to know who asks.
    /// A power (its flag named) on without an identity.
    ChangesWithoutIdentity(&'static str),
    /// A power (its flag named) on in identity-header mode, with no roles header.
    ChangesWithoutRoles(&'static str),
    RolesHeaderWithJwt,
    /// A role flag (named) whose value is not a role name.
    ChangesRoleInvalid(&'static str, String),
    /// The apps file cannot be read, or says something wrong.
    AppsFile(FileError),
    /// `--apps-file` beside a single key.
    AppsFileWithKey,
    AppsFileWithDemo,
    /// `--apps-file` without `--audit-chain-key-file`.
    AppsFileWithoutChainKey,
    /// `--store` that is not one, with what would be (never what it says).
    Store(String),
    WebhookWithoutStore,
    WebhookOnPanelAddress,
    /// The single-app secret flags beside `--apps-file`.
    WebhookSecretWithAppsFile,
    WebhookSecretFile {
        flag: &'static str,
        path: PathBuf,
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::KeyMissing => f.write_str(
                "no Adapty secret key: set ADAPTY_API_KEY_FILE (or --api-key-file) to a file holding it, \
                 or ADAPTY_API_KEY; or run with --demo to try the panel without one",
            ),
            ConfigError::Key(error) => error.fmt(f),
            ConfigError::ChainKeyFileUnreadable { path, reason } => write!(
                f,
                "cannot read the audit chain key file {}: {reason}",
                path.display()
            ),
            ConfigError::ChainKeyEmpty => f.write_str("the audit chain key file is empty"),
            ConfigError::Url(error) => error.fmt(f),
            ConfigError::HeaderNameInvalid(name) => write!(f, "not a valid HTTP header name: {name:?}"),
            ConfigError::DashboardUrlInvalid(url) => write!(
                f,
                "RELAY_DASHBOARD_PROFILE_URL must be an https URL with {{profile_id}} in it, \
                 e.g. https://app.adapty.io/profiles/{{profile_id}}: {url}"
            ),
            ConfigError::OriginInvalid(origin) => write!(
                f,
                "--public-origin {origin:?} is not an origin such as https://lookup.example.com \
                 (scheme and host, no path)"
            ),
            ConfigError::BasePathInvalid(base) => write!(
                f,
                "--base-path {base:?} is not a plain path such as /tools/adapty \
                 (letters, digits, - . _ ~ between slashes)"
            ),
            ConfigError::HostInvalid(host) => write!(
                f,
                "--allowed-host {host:?} is not a host name or host:port"
            ),
            ConfigError::MemoryBelowMaxBody => f.write_str(
                "--response-memory-bytes must be at least --upstream-max-bytes, \
                 or the largest answer accepted could never be held",
            ),
            ConfigError::HostsUnknown(listen) => write!(
                f,
                "listening on {listen}, beyond loopback, the relay must know the host names \
                 clients use to reach it, and refuses every other (against DNS rebinding): set \
                 --public-origin (RELAY_PUBLIC_ORIGIN) to the panel's public URL, or \
                 --allowed-host (RELAY_ALLOWED_HOSTS) to each Host your proxy sends"
            ),
            ConfigError::ChangesWithoutIdentity(flag) => write!(
                f,
                "{flag} needs to know who asks, and never lets 'anonymous' change a customer: \
                 set --identity-header with --roles-header, or --jwt-header (roles from the \
                 claim --roles-claim)",
            ),
            ConfigError::ChangesWithoutRoles(flag) => write!(
                f,
                "{flag} with --identity-header needs --roles-header, the header in which the \
                 proxy passes the user's roles (e.g. X-Forwarded-Groups)",
            ),
            ConfigError::RolesHeaderWithJwt => f.write_str(
                "--roles-header cannot be used with --jwt-header: roles must come from the \
                 verified token (--roles-claim), or anyone who reaches the relay directly with \
                 a valid token could claim any role",
            ),
            ConfigError::AppsFile(error) => error.fmt(f),
            ConfigError::AppsFileWithKey => f.write_str(
                "--apps-file (RELAY_APPS_FILE) names every app's key file, so it cannot be used \
                 with --api-key-file (ADAPTY_API_KEY_FILE) or ADAPTY_API_KEY: it would be unclear \
                 which key serves which app; keep one of the two",
            ),
            ConfigError::AppsFileWithDemo => f.write_str(
                "--demo makes its own two apps with stand-in keys; leave --apps-file out to try it",
            ),
            ConfigError::AppsFileWithoutChainKey => f.write_str(
                "with --apps-file the audit chain needs its own secret: set \
                 --audit-chain-key-file (RELAY_AUDIT_CHAIN_KEY_FILE) to a file holding one; \
                 there is no single Adapty key to derive it from, and an app's key may be \
                 rotated while its old lines must still verify",
            ),
            ConfigError::Store(reason) => f.write_str(reason),
            ConfigError::WebhookWithoutStore => f.write_str(
                "--webhook-listen needs --store (RELAY_STORE): the webhook's events are kept \
                 there; e.g. --store sqlite:/var/lib/adapty-lookup/store.db",
            ),
            ConfigError::WebhookOnPanelAddress => f.write_str(
                "--webhook-listen must differ from --listen: the webhook's address is the one \
                 exposed to Adapty without single sign-on, the panel's never is",
            ),
            ConfigError::WebhookSecretWithAppsFile => f.write_str(
                "--webhook-secret-file and --webhook-sandbox-secret-file are for one app; with \
                 --apps-file give each app webhook_secret_file and webhook_sandbox_secret_file",
            ),
            ConfigError::WebhookSecretFile { flag, path, reason } => {
                write!(f, "{flag} {}: {reason}", path.display())
            }
            ConfigError::ChangesRoleInvalid(flag, role) => write!(
                f,
                "{flag} {role:?} is not a role name (not empty, no comma, no spaces around it)"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<KeyError> for ConfigError {
    fn from(error: KeyError) -> ConfigError {
        ConfigError::Key(error)
    }
}

impl From<UrlError> for ConfigError {
    fn from(error: UrlError) -> ConfigError {
        ConfigError::Url(error)
    }
}

impl From<FileError> for ConfigError {
    fn from(error: FileError) -> ConfigError {
        ConfigError::AppsFile(error)
    }
}
