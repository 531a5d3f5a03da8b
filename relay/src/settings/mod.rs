//! What the operator sets: flags, each with an environment equivalent.

use crate::apps::{AppConfig, AppDefaults, DEFAULT_APP_ID};
use crate::identity::{Actor, Caller};
use axum::http::uri::Authority;
use axum::http::{HeaderName, HeaderValue};
use clap::builder::RangedU64ValueParser;
use clap::Parser;
use reqwest::Url;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::num::{NonZeroU32, NonZeroUsize};

/// Ceilings of the sizes an operator may set: beyond them the relay could
/// not keep count (its memory budget counts kibibytes in 32 bits).
const MAX_BODY_BYTES: u64 = 1 << 30;
const MAX_MEMORY_BYTES: u64 = 64 << 30;
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

    /// TOML file naming several Adapty apps, each with its own key file
    /// (instead of --api-key-file / ADAPTY_API_KEY); re-read on SIGHUP.
    #[arg(long, env = "RELAY_APPS_FILE")]
    pub apps_file: Option<PathBuf>,

    /// Adapty's API base URL; https only, except to a loopback address.
    #[arg(long, env = "ADAPTY_API_BASE", default_value = "https://api.adapty.io")]
    pub api_base: String,

    /// Address to listen on.
    #[arg(long, env = "RELAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The path prefix to serve the panel and the API under
    /// (/tools/adapty); the bare prefix redirects to it with a slash.
    #[arg(long, env = "RELAY_BASE_PATH", default_value = "/")]
    pub base_path: String,

    /// The built panel (Trunk's `dist/`).
    #[arg(long, env = "RELAY_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,

    /// Total time one lookup may spend on Adapty, in seconds.
    #[arg(long, env = "RELAY_UPSTREAM_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub upstream_timeout_secs: u64,

    /// Largest profile body accepted from Adapty, in bytes (at most 1 GiB).
    #[arg(long, env = "RELAY_UPSTREAM_MAX_BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_BODY_BYTES))]
    pub upstream_max_bytes: usize,

    /// Header carrying the signed-in user's identity, set by the SSO proxy
    /// (e.g. X-Forwarded-Email from oauth2-proxy); API calls without it get 401.
    #[arg(long, env = "RELAY_IDENTITY_HEADER")]
    pub identity_header: Option<String>,

    /// Header carrying a signed JWT assertion (Cf-Access-Jwt-Assertion,
    /// x-goog-iap-jwt-assertion, X-Pomerium-Jwt-Assertion, or Authorization
    /// with `Bearer`); needs --jwks-url, --jwt-audience and --jwt-issuer.
    #[arg(long, env = "RELAY_JWT_HEADER", requires_all = ["jwks_url", "jwt_audience", "jwt_issuer"])]
    pub jwt_header: Option<String>,

    /// Where the proxy publishes its signing keys (JWKS).
    #[arg(long, env = "RELAY_JWKS_URL")]
    pub jwks_url: Option<String>,

    /// The `aud` the assertion must carry.
    #[arg(long, env = "RELAY_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// The `iss` the assertion must carry.
    #[arg(long, env = "RELAY_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// The panel's public origin (https://lookup.example.com); repeatable,
    /// or comma-separated in the environment. Requests must name its host
    /// (DNS rebinding guard) and cross-site checks compare Origin against it.
    #[arg(long, env = "RELAY_PUBLIC_ORIGIN", value_delimiter = ',')]
    pub public_origin: Vec<String>,

    /// Another Host clients may name (`name` on any port, or `name:port`),
    /// e.g. what a proxy sends; repeatable, or comma-separated in the environment.
    #[arg(long, env = "RELAY_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_host: Vec<String>,

    /// Audit log file (one JSON line per lookup); standard output when unset.
    /// SIGHUP reopens it (after logrotate moved it).
    #[arg(long, env = "RELAY_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,

    /// Folder for one audit file a day instead, audit-YYYY-MM-DD.jsonl (UTC),
    /// switching at the first line after midnight.
    #[arg(long, env = "RELAY_AUDIT_DIR", conflicts_with = "audit_log")]
    pub audit_dir: Option<PathBuf>,

    /// File holding the secret that keys the audit log's chain; by default
    /// it is derived from the Adapty key (a fixed, public one in --demo).
    #[arg(long, env = "RELAY_AUDIT_CHAIN_KEY_FILE")]
    pub audit_chain_key_file: Option<PathBuf>,

    /// Write a keyed hash of each looked-up ID to the audit log instead of the ID.
    #[arg(long, env = "RELAY_AUDIT_HASH_IDS")]
    pub audit_hash_ids: bool,

    /// Refused calls (before Adapty) audited per client a minute (a person
    /// once named, else an address, IPv6 by /64); the rest are counted in
    /// one line a minute.
    #[arg(long, env = "RELAY_AUDIT_REFUSED_PER_MINUTE", default_value = "60")]
    pub audit_refused_per_minute: NonZeroU32,

    /// Refused calls audited a minute for all clients together; the rest
    /// are counted in one line.
    #[arg(
        long,
        env = "RELAY_AUDIT_REFUSED_TOTAL_PER_MINUTE",
        default_value = "600"
    )]
    pub audit_refused_total_per_minute: NonZeroU32,

    /// Lookups one person may make per minute.
    #[arg(long, env = "RELAY_RATE_LIMIT_PER_MINUTE", default_value = "60")]
    pub rate_limit_per_minute: NonZeroU32,

    /// Lookups the whole relay may make per minute, to protect the app's
    /// shared Adapty quota.
    #[arg(
        long,
        env = "RELAY_GLOBAL_RATE_LIMIT_PER_MINUTE",
        default_value = "600"
    )]
    pub global_rate_limit_per_minute: NonZeroU32,

    /// Time a client may take to send its request headers (slowloris guard).
    #[arg(long, env = "RELAY_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_read_timeout_secs: u64,

    /// Time a write to a client may wait for the client to read; then the
    /// connection and the answer it holds are dropped (slow readers).
    #[arg(long, env = "RELAY_WRITE_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub write_timeout_secs: u64,

    /// Open client connections; beyond them a connection gets only
    /// /healthz, or 503 for anything else.
    #[arg(long, env = "RELAY_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections: usize,

    /// Bytes of Adapty's answers held in memory at once, for all clients
    /// together; at least --upstream-max-bytes. Beyond it a lookup gets 503.
    #[arg(long, env = "RELAY_RESPONSE_MEMORY_BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = RangedU64ValueParser::<usize>::new()
              .range(crate::budget::FIRST_ROOM_BYTES as u64..=MAX_MEMORY_BYTES))]
    pub response_memory_bytes: usize,

    /// Requests handled at once; more wait.
    #[arg(long, env = "RELAY_MAX_CONCURRENT_REQUESTS", default_value_t = 256,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub max_concurrent_requests: usize,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "RELAY_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Link to a profile in Adapty's dashboard, shown in the panel as "Open in
    /// Adapty": an https URL with {profile_id} where the profile's ID goes,
    /// e.g. 'https://app.adapty.io/…/profiles/{profile_id}'.
    #[arg(long, env = "RELAY_DASHBOARD_PROFILE_URL")]
    pub dashboard_profile_url: Option<String>,

    /// Let people in --changes-role grant, extend and revoke access levels
    /// (off by default). Needs an identity (--identity-header with
    /// --roles-header, or --jwt-header).
    #[arg(long, env = "RELAY_ALLOW_ACCESS_CHANGES", requires = "changes_role")]
    pub allow_access_changes: bool,

    /// The role (group) whose members may change access, e.g. `support-leads`.
    #[arg(long, env = "RELAY_CHANGES_ROLE")]
    pub changes_role: Option<String>,

    /// Header with the signed-in user's roles, comma-separated, set by the
    /// SSO proxy (e.g. oauth2-proxy's X-Forwarded-Groups); with --identity-header.
    #[arg(long, env = "RELAY_ROLES_HEADER")]
    pub roles_header: Option<String>,

    /// In JWT mode, the claim with the user's roles: a string
    /// (comma-separated) or an array of strings.
    #[arg(long, env = "RELAY_ROLES_CLAIM", default_value = "groups")]
    pub roles_claim: String,

    /// Access changes one person may make per hour.
    #[arg(long, env = "RELAY_CHANGES_PER_HOUR", default_value = "30")]
    pub changes_per_hour: NonZeroU32,

    /// Run against a built-in stand-in for Adapty with sample profiles; no key
    /// needed. Without an identity setting every caller is the demo user,
    /// who may change access.
    #[arg(long)]
    pub demo: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What the relay can do besides serving.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Checks the chain of audit files (in the order written) and names the
    /// first line where it breaks; the chain key is read as the relay reads it.
    Verify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// The demo's chain key: its Adapty key changes every start, so the chain
/// is keyed with this public value; a demo's log shows the chain's shape
/// but proves nothing.
const DEMO_CHAIN_SECRET: &str = "adapty-lookup demo audit chain (public)";

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the relay needs, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `/tools/adapty`, or `None` for the root.
    pub base_path: Option<String>,
    pub static_dir: PathBuf,
    /// The Adapty apps served, at least one: from `apps_file`, or the one
    /// app `default` of the single-key flags.
    pub apps: Vec<AppConfig>,
    /// Re-read on `SIGHUP`; `None` with the single-key flags.
    pub apps_file: Option<PathBuf>,
    /// What an app of the apps file leaves out.
    pub app_defaults: AppDefaults,
    pub upstream: UpstreamSettings,
    pub access: AccessConfig,
    pub audit: AuditConfig,
    pub limits: Limits,
    pub panel: PanelConfig,
    /// `None`: access changes are off, and both change routes answer 403.
    pub changes: Option<ChangesConfig>,
}

/// Who may grant, extend and revoke access levels, and how often.
#[derive(Debug, Clone)]
pub struct ChangesConfig {
    /// Only callers in this role.
    pub role: String,
    pub per_person_per_hour: NonZeroU32,
}

/// The demo's one person when no identity is configured: not "anonymous",
/// and in the changes role, so that `cargo xtask demo` shows the feature.
pub const DEMO_ACTOR: &str = "demo@adapty-lookup.local";
pub const DEMO_ROLE: &str = "demo-support";

/// What the panel is told about this deployment (`GET /api/session`).
#[derive(Debug, Clone, Default)]
pub struct PanelConfig {
    /// Checked: https, with `{profile_id}` in it.
    pub dashboard_profile_url: Option<String>,
}

/// Who may ask: the SSO identity, the cross-site rules and the hosts served.
#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    pub identity_header: Option<HeaderName>,
    /// The roles beside `identity_header` (never with `jwt`: a plain header
    /// next to a verified token would be the weaker of the two).
    pub roles_header: Option<HeaderName>,
    pub jwt: Option<JwtConfig>,
    /// Demo mode without an identity setting: every caller is this one.
    pub demo_caller: Option<Caller>,
    pub public_origins: Vec<Url>,
    pub allowed_hosts: Vec<Authority>,
}

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub header: HeaderName,
    pub jwks_url: Url,
    pub audience: String,
    pub issuer: String,
    /// The claim that lists the person's roles.
    pub roles_claim: String,
    /// How soon an unknown key ID may make the relay fetch the JWKS again
    /// (a minute; not a flag, the tests shorten it).
    pub refetch_after: Duration,
    /// How long a fetched set is trusted before it is fetched again (ten
    /// minutes; not a flag, the tests shorten it).
    pub max_age: Duration,
}

#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub path: Option<PathBuf>,
    /// One file a day in this folder (never with `path`).
    pub dir: Option<PathBuf>,
    /// Keys the chain of lines (see `audit::chain`).
    pub chain_key: ChainSecret,
    pub hash_ids: bool,
    pub refused_per_minute: NonZeroU32,
    pub refused_total_per_minute: NonZeroU32,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub per_actor_per_minute: NonZeroU32,
    pub global_per_minute: NonZeroU32,
    pub header_read_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: NonZeroUsize,
    pub response_memory_bytes: NonZeroUsize,
    pub max_concurrent_requests: NonZeroUsize,
}

/// How any app's Adapty is asked.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub timeout: Duration,
    pub max_body_bytes: NonZeroUsize,
}

/// How one app's Adapty is asked.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    pub base: Url,
    pub key: ApiKey,
    pub timeout: Duration,
    pub max_body_bytes: NonZeroUsize,
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

    /// A secret derived from the key for another purpose (the audit log's
    /// ID hashes and chain): stable across restarts, useless for calling Adapty.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        derive(self.0.as_bytes(), purpose)
    }
}

/// The audit chain's secret, with a `Debug` that shows nothing of it.
#[derive(Clone)]
pub struct ChainSecret(pub [u8; 32]);

impl fmt::Debug for ChainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainSecret(redacted)")
    }
}

fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
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
    KeyFileUnreadable {
        path: PathBuf,
        reason: String,
    },
    ChainKeyFileUnreadable {
        path: PathBuf,
        reason: String,
    },
    ChainKeyEmpty,
    /// The setting's name, and what was given.
    UrlInvalid(&'static str, String),
    UrlNotHttps(&'static str, String),
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
    ChangesWithoutIdentity,
    /// Access changes on in identity-header mode, with no roles header.
    ChangesWithoutRoles,
    RolesHeaderWithJwt,
    ChangesRoleInvalid(String),
    /// The apps file cannot be read, or says something wrong.
    AppsFile {
        path: PathBuf,
        reason: String,
    },
    /// `--apps-file` beside a single key.
    AppsFileWithKey,
    AppsFileWithDemo,
    /// `--apps-file` without `--audit-chain-key-file`.
    AppsFileWithoutChainKey,
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
            ConfigError::ChainKeyFileUnreadable { path, reason } => write!(
                f,
                "cannot read the audit chain key file {}: {reason}",
                path.display()
            ),
            ConfigError::ChainKeyEmpty => f.write_str("the audit chain key file is empty"),
            ConfigError::UrlInvalid(setting, url) => write!(f, "{setting} is not a URL: {url}"),
            ConfigError::UrlNotHttps(setting, url) => write!(
                f,
                "{setting} {url} must use https (plain http is allowed only to loopback)"
            ),
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
            ConfigError::ChangesWithoutIdentity => f.write_str(
                "--allow-access-changes needs to know who asks, and never lets 'anonymous' \
                 change access: set --identity-header with --roles-header, or --jwt-header \
                 (roles from the claim --roles-claim)",
            ),
            ConfigError::ChangesWithoutRoles => f.write_str(
                "--allow-access-changes with --identity-header needs --roles-header, the header \
                 in which the proxy passes the user's roles (e.g. X-Forwarded-Groups)",
            ),
            ConfigError::RolesHeaderWithJwt => f.write_str(
                "--roles-header cannot be used with --jwt-header: roles must come from the \
                 verified token (--roles-claim), or anyone who reaches the relay directly with \
                 a valid token could claim any role",
            ),
            ConfigError::AppsFile { path, reason } => {
                write!(f, "the apps file {}: {reason}", path.display())
            }
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
            ConfigError::ChangesRoleInvalid(role) => write!(
                f,
                "--changes-role {role:?} is not a role name (not empty, no comma, no spaces around it)"
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
            return crate::apps::read_key(path);
        }
        match std::env::var("ADAPTY_API_KEY") {
            Ok(secret) => ApiKey::new(&secret),
            Err(_) => Err(ConfigError::KeyMissing),
        }
    }

    /// The audit chain's secret: from --audit-chain-key-file, else the
    /// demo's public one, else derived from the Adapty key (`api_key`).
    pub fn audit_chain_secret(&self, api_key: Option<&ApiKey>) -> Result<ChainSecret, ConfigError> {
        const PURPOSE: &str = "adapty-lookup audit chain v1";
        if let Some(path) = &self.audit_chain_key_file {
            let secret =
                std::fs::read(path).map_err(|error| ConfigError::ChainKeyFileUnreadable {
                    path: path.clone(),
                    reason: error.kind().to_string(),
                })?;
            let secret = secret.trim_ascii();
            if secret.is_empty() {
                return Err(ConfigError::ChainKeyEmpty);
            }
            return Ok(ChainSecret(derive(secret, PURPOSE)));
        }
        if self.demo {
            return Ok(ChainSecret(derive(DEMO_CHAIN_SECRET.as_bytes(), PURPOSE)));
        }
        match api_key {
            Some(key) => Ok(ChainSecret(key.derive(PURPOSE))),
            None if self.apps_file.is_some() => Err(ConfigError::AppsFileWithoutChainKey),
            None => Ok(ChainSecret(self.key()?.derive(PURPOSE))),
        }
    }

    pub fn into_config(self) -> Result<Config, ConfigError> {
        let base = self.api_base.clone();
        if self.apps_file.is_some() {
            if self.api_key_file.is_some() || std::env::var_os("ADAPTY_API_KEY").is_some() {
                return Err(ConfigError::AppsFileWithKey);
            }
            return self.checked(&base, None);
        }
        let key = self.key()?;
        self.checked(&base, Some(key))
    }

    /// The same checks with a given upstream: demo mode points at its
    /// stand-in. With `--apps-file`, `key` is not used (each app has its
    /// own) and `base` is the API base of apps that name none.
    pub fn into_config_with(self, base: &str, key: ApiKey) -> Result<Config, ConfigError> {
        self.checked(base, Some(key))
    }

    fn checked(self, base: &str, key: Option<ApiKey>) -> Result<Config, ConfigError> {
        let header = |name: &str| {
            HeaderName::try_from(name).map_err(|_| ConfigError::HeaderNameInvalid(name.to_owned()))
        };
        let jwt = match (
            &self.jwt_header,
            &self.jwks_url,
            &self.jwt_audience,
            &self.jwt_issuer,
        ) {
            (Some(name), Some(url), Some(audience), Some(issuer)) => Some(JwtConfig {
                header: header(name)?,
                jwks_url: checked_url("RELAY_JWKS_URL", url)?,
                audience: audience.clone(),
                issuer: issuer.clone(),
                roles_claim: self.roles_claim.clone(),
                refetch_after: Duration::from_secs(60),
                max_age: Duration::from_secs(600),
            }),
            _ => None,
        };
        let public_origins = self
            .public_origin
            .iter()
            .map(|origin| checked_origin(origin))
            .collect::<Result<Vec<_>, _>>()?;
        let allowed_hosts = self
            .allowed_host
            .iter()
            .map(|host| {
                crate::host::parse(host).ok_or_else(|| ConfigError::HostInvalid(host.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if self.response_memory_bytes < self.upstream_max_bytes {
            return Err(ConfigError::MemoryBelowMaxBody);
        }
        if !self.listen.ip().is_loopback() && public_origins.is_empty() && allowed_hosts.is_empty()
        {
            return Err(ConfigError::HostsUnknown(self.listen));
        }
        let base_path = crate::base_path::normalized(&self.base_path)
            .ok_or_else(|| ConfigError::BasePathInvalid(self.base_path.clone()))?;
        let identity_header = self.identity_header.as_deref().map(header).transpose()?;
        let roles_header = self.roles_header.as_deref().map(header).transpose()?;
        if roles_header.is_some() && jwt.is_some() {
            return Err(ConfigError::RolesHeaderWithJwt);
        }
        let no_identity = identity_header.is_none() && jwt.is_none();
        // Demo mode with no identity setting: the demo user, allowed to change access.
        let demo_caller = (self.demo && no_identity).then(|| {
            let role = self
                .changes_role
                .clone()
                .unwrap_or_else(|| DEMO_ROLE.into());
            Caller {
                actor: Actor(DEMO_ACTOR.into()),
                roles: vec![role],
            }
        });
        let changes = match (&demo_caller, self.allow_access_changes) {
            (Some(demo), _) => Some(demo.roles[0].clone()),
            (None, false) => None,
            (None, true) if no_identity => return Err(ConfigError::ChangesWithoutIdentity),
            (None, true) if jwt.is_none() && roles_header.is_none() => {
                return Err(ConfigError::ChangesWithoutRoles)
            }
            // `requires` in the parser makes the role present with the flag.
            (None, true) => self.changes_role.clone(),
        };
        let changes = changes
            .map(|role| {
                crate::apps::checked_role(&role)?;
                Ok(ChangesConfig {
                    role,
                    per_person_per_hour: self.changes_per_hour,
                })
            })
            .transpose()?;
        // Said after what is wrong with the apps file, if anything is.
        let chain_key = self.audit_chain_secret(key.as_ref());
        let app_defaults = AppDefaults {
            api_base: checked_base_url(base)?,
            per_person_per_minute: self.rate_limit_per_minute,
            global_per_minute: self.global_rate_limit_per_minute,
        };
        let apps = match (&self.apps_file, key) {
            (Some(_), _) if self.demo => return Err(ConfigError::AppsFileWithDemo),
            (Some(path), _) => crate::apps::read_file(path, &app_defaults)?,
            (None, Some(key)) => vec![app_defaults.app(DEFAULT_APP_ID, "Default app", key)],
            (None, None) => return Err(ConfigError::KeyMissing),
        };
        let chain_key = chain_key?;
        Ok(Config {
            listen: self.listen,
            base_path,
            static_dir: self.static_dir,
            apps,
            apps_file: self.apps_file,
            app_defaults,
            upstream: UpstreamSettings {
                timeout: Duration::from_secs(self.upstream_timeout_secs),
                max_body_bytes: at_least_one(self.upstream_max_bytes),
            },
            access: AccessConfig {
                identity_header,
                roles_header,
                jwt,
                demo_caller,
                public_origins,
                allowed_hosts,
            },
            audit: AuditConfig {
                chain_key,
                path: self.audit_log,
                dir: self.audit_dir,
                hash_ids: self.audit_hash_ids,
                refused_per_minute: self.audit_refused_per_minute,
                refused_total_per_minute: self.audit_refused_total_per_minute,
            },
            panel: PanelConfig {
                dashboard_profile_url: self
                    .dashboard_profile_url
                    .as_deref()
                    .map(checked_dashboard_url)
                    .transpose()?,
            },
            limits: Limits {
                per_actor_per_minute: self.rate_limit_per_minute,
                global_per_minute: self.global_rate_limit_per_minute,
                header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
                write_timeout: Duration::from_secs(self.write_timeout_secs),
                max_connections: at_least_one(self.max_connections),
                response_memory_bytes: at_least_one(self.response_memory_bytes),
                max_concurrent_requests: at_least_one(self.max_concurrent_requests),
            },
            changes,
        })
    }
}

/// An origin as browsers send it: http(s), a host, nothing after.
fn checked_origin(origin: &str) -> Result<Url, ConfigError> {
    let invalid = || ConfigError::OriginInvalid(origin.to_owned());
    let url = Url::parse(origin).map_err(|_| invalid())?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
        return Err(invalid());
    }
    Ok(url)
}

/// The parser's ranges start at 1; this only carries that into the type.
fn at_least_one(value: usize) -> NonZeroUsize {
    NonZeroUsize::new(value).unwrap_or(NonZeroUsize::MIN)
}

/// https only: the key (and, for the JWKS, the trust in identities) must
/// never cross a network in clear text. Loopback is the exception, for the
/// demo stand-in and tests.
pub fn checked_base_url(base: &str) -> Result<Url, ConfigError> {
    checked_url("ADAPTY_API_BASE", base)
}

/// The same rule for any URL the relay calls, named by its setting in errors.
pub fn checked_url(setting: &'static str, given: &str) -> Result<Url, ConfigError> {
    let invalid = || ConfigError::UrlInvalid(setting, given.to_owned());
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
        _ => Err(ConfigError::UrlNotHttps(setting, given.to_owned())),
    }
}

/// The dashboard link template: https, and `{profile_id}` where the ID goes
/// (checked with an ID in its place, as the panel will fill it).
pub fn checked_dashboard_url(template: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::DashboardUrlInvalid(template.to_owned());
    if !template.contains("{profile_id}") {
        return Err(invalid());
    }
    let example = template.replace("{profile_id}", "d8533a10-bcce-4e33-8c9d-88b05ac56559");
    match Url::parse(&example) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() => Ok(template.to_owned()),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_link_must_be_https_with_a_place_for_the_profile_id() {
        let good = "https://app.adapty.io/overview/profiles/{profile_id}?tab=events";
        assert_eq!(checked_dashboard_url(good).unwrap(), good);
        for bad in [
            "https://app.adapty.io/profiles/",
            "http://app.adapty.io/profiles/{profile_id}",
            "app.adapty.io/profiles/{profile_id}",
            "ftp://app.adapty.io/{profile_id}",
            "{profile_id}",
        ] {
            let error = checked_dashboard_url(bad).unwrap_err().to_string();
            assert!(
                error.contains("https URL with {profile_id} in it"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let key = ApiKey::new("secret_live_abc123").unwrap();
        let config = UpstreamConfig {
            base: checked_base_url("https://api.adapty.io").unwrap(),
            key: key.clone(),
            timeout: Duration::from_secs(1),
            max_body_bytes: NonZeroUsize::MIN,
        };
        let app = format!(
            "{:?}",
            parse(&[])
                .unwrap()
                .into_config_with("https://api.adapty.io", key)
                .unwrap()
        );
        assert!(!app.contains("abc123"), "{app}");
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

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("relay").chain(args.iter().copied()))
    }

    /// The chain's key: derived from the Adapty key for its own purpose (not
    /// the ID hashes' key), or from its file; the demo's is fixed; one
    /// audit destination at a time.
    #[test]
    fn the_audit_chain_key_is_its_own_and_one_audit_destination_is_given() {
        let key = ApiKey::new("secret_live_chain").unwrap();
        let derived = parse(&[]).unwrap().audit_chain_secret(Some(&key)).unwrap();
        assert_eq!(derived.0, key.derive("adapty-lookup audit chain v1"));
        assert_ne!(derived.0, key.derive("adapty-lookup audit id hash v1"));
        let file = std::env::temp_dir().join(format!("chain-key-{}", std::process::id()));
        std::fs::write(&file, "a long random secret\n").unwrap();
        let flag = file.display().to_string();
        let from_file = parse(&["--audit-chain-key-file", &flag])
            .unwrap()
            .audit_chain_secret(Some(&key))
            .unwrap();
        assert_ne!(from_file.0, derived.0);
        std::fs::write(&file, " \n").unwrap();
        let empty = parse(&["--audit-chain-key-file", &flag])
            .unwrap()
            .audit_chain_secret(Some(&key));
        assert!(matches!(empty, Err(ConfigError::ChainKeyEmpty)));
        let demo = |key: &str| {
            parse(&["--demo"])
                .unwrap()
                .audit_chain_secret(Some(&ApiKey::new(key).unwrap()))
                .unwrap()
                .0
        };
        assert_eq!(
            demo("stand-in-1"),
            demo("stand-in-2"),
            "the demo's key changes"
        );
        assert!(format!("{derived:?}").contains("redacted"));
        let both = parse(&["--audit-log", "a.jsonl", "--audit-dir", "logs"]);
        assert!(both
            .unwrap_err()
            .to_string()
            .contains("cannot be used with"));
    }

    /// Bounds live in the parser, so a zero is refused with the flag's name,
    /// never silently raised to 1 or checked again by hand.
    #[test]
    fn zeros_are_refused_by_the_parser_naming_the_flag() {
        for flag in [
            "--upstream-timeout-secs",
            "--upstream-max-bytes",
            "--rate-limit-per-minute",
            "--global-rate-limit-per-minute",
            "--header-read-timeout-secs",
            "--max-concurrent-requests",
            "--max-connections",
            "--write-timeout-secs",
            "--response-memory-bytes",
            "--audit-refused-per-minute",
            "--changes-per-hour",
        ] {
            let error = parse(&[flag, "0"]).expect_err(flag).to_string();
            assert!(error.contains(flag), "{error}");
        }
    }

    #[test]
    fn a_bad_url_is_named_by_its_own_setting() {
        let error = parse(&[
            "--jwt-header",
            "authorization",
            "--jwks-url",
            "not a url",
            "--jwt-audience",
            "a",
            "--jwt-issuer",
            "i",
        ])
        .unwrap()
        .into_config_with("https://api.adapty.io", ApiKey::new("k").unwrap())
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("RELAY_JWKS_URL is not a URL"), "{error}");
    }

    /// Counts and sizes have a floor and a ceiling: a value the parser takes
    /// must work, never panic at start or refuse every lookup.
    #[test]
    fn counts_and_sizes_are_bounded_both_ways() {
        let huge = "18446744073709551615";
        for (flag, least, most) in [
            ("--upstream-max-bytes", "1", "1073741824"),
            ("--max-connections", "1", "1000000"),
            ("--max-concurrent-requests", "1", "100000"),
            ("--response-memory-bytes", "262144", "68719476736"),
        ] {
            assert!(parse(&[flag, least]).is_ok(), "{flag} {least}");
            assert!(parse(&[flag, most]).is_ok(), "{flag} {most}");
            for beyond in [huge, "1e9", "lots"] {
                let error = parse(&[flag, beyond]).expect_err(flag).to_string();
                assert!(error.contains(flag), "{error}");
            }
        }
        // Less room than one lookup reserves would refuse every lookup.
        let error = parse(&["--response-memory-bytes", "262143"])
            .expect_err("below one lookup's room")
            .to_string();
        assert!(error.contains("262144"), "{error}");
    }

    /// Durations have a ceiling too: the relay adds them to the clock.
    #[test]
    fn timeouts_beyond_their_range_are_refused() {
        for flag in ["--upstream-timeout-secs", "--header-read-timeout-secs"] {
            let error = parse(&[flag, "18446744073709551615"]).expect_err(flag);
            assert!(error.to_string().contains("1..=600"), "{error}");
        }
    }

    #[test]
    fn beyond_loopback_the_relay_must_know_its_host_names() {
        let config = |args: &[&str]| {
            parse(args)
                .unwrap()
                .into_config_with("https://api.adapty.io", ApiKey::new("k").unwrap())
        };
        let error = config(&["--listen", "0.0.0.0:8080"])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--public-origin")
                && error.contains("--allowed-host")
                && error.contains("DNS rebinding"),
            "{error}"
        );
        assert!(config(&["--listen", "127.0.0.1:8080"]).is_ok());
        assert!(config(&["--listen", "[::1]:8080"]).is_ok());
        assert!(config(&[
            "--listen",
            "0.0.0.0:8080",
            "--allowed-host",
            "relay.internal:8080"
        ])
        .is_ok());
        let both = config(&[
            "--listen",
            "0.0.0.0:8080",
            "--public-origin",
            "https://a.example.com",
            "--public-origin",
            "https://b.example.com",
        ])
        .unwrap();
        assert_eq!(both.access.public_origins.len(), 2);
        for bad in [
            "lookup.example.com",
            "https://a.example.com/panel",
            "ftp://a.example.com",
            "null",
        ] {
            assert!(
                matches!(
                    config(&["--public-origin", bad]),
                    Err(ConfigError::OriginInvalid(_))
                ),
                "{bad}"
            );
        }
        for bad in ["a b", "user@host", "host:port"] {
            assert!(
                matches!(
                    config(&["--allowed-host", bad]),
                    Err(ConfigError::HostInvalid(_))
                ),
                "{bad}"
            );
        }
    }

    /// Off unless asked for; never for 'anonymous'; roles from a header only
    /// beside a plain identity header, from the token in JWT mode.
    #[test]
    fn access_changes_are_off_by_default_and_need_a_role_and_an_identity() {
        let config = |args: &[&str]| {
            parse(args).map(|args| {
                args.into_config_with("https://api.adapty.io", ApiKey::new("k").unwrap())
            })
        };
        let jwt = [
            "--jwt-header",
            "Authorization",
            "--jwks-url",
            "https://idp.example.com/jwks",
            "--jwt-audience",
            "a",
            "--jwt-issuer",
            "https://idp.example.com",
        ];
        assert!(config(&[]).unwrap().unwrap().changes.is_none());
        assert!(
            config(&["--identity-header", "X-Email", "--roles-header", "X-Groups"])
                .unwrap()
                .unwrap()
                .changes
                .is_none()
        );

        let error = config(&["--allow-access-changes"]).unwrap_err().to_string();
        assert!(error.contains("--changes-role"), "{error}");
        let anonymous = config(&["--allow-access-changes", "--changes-role", "leads"])
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(
            anonymous.contains("never lets 'anonymous'") && anonymous.contains("--identity-header"),
            "{anonymous}"
        );
        let no_roles = config(&[
            "--allow-access-changes",
            "--changes-role",
            "leads",
            "--identity-header",
            "X-Email",
        ])
        .unwrap()
        .unwrap_err();
        assert!(
            matches!(no_roles, ConfigError::ChangesWithoutRoles),
            "{no_roles}"
        );
        let header_mode = config(&[
            "--allow-access-changes",
            "--changes-role",
            "leads",
            "--identity-header",
            "X-Email",
            "--roles-header",
            "X-Forwarded-Groups",
            "--changes-per-hour",
            "5",
        ])
        .unwrap()
        .unwrap();
        let changes = header_mode.changes.unwrap();
        assert_eq!(
            (changes.role.as_str(), changes.per_person_per_hour.get()),
            ("leads", 5)
        );
        assert_eq!(
            header_mode.access.roles_header.unwrap(),
            "x-forwarded-groups"
        );

        let mut jwt_mode = vec!["--allow-access-changes", "--changes-role", "leads"];
        jwt_mode.extend(jwt);
        let jwt_config = config(&jwt_mode).unwrap().unwrap();
        assert_eq!(jwt_config.access.jwt.unwrap().roles_claim, "groups");
        jwt_mode.extend(["--roles-header", "X-Groups"]);
        assert!(matches!(
            config(&jwt_mode).unwrap().unwrap_err(),
            ConfigError::RolesHeaderWithJwt
        ));
        for bad in ["", " leads", "a,b"] {
            assert!(
                matches!(
                    config(&["--demo", "--changes-role", bad])
                        .unwrap()
                        .unwrap_err(),
                    ConfigError::ChangesRoleInvalid(_)
                ),
                "{bad:?}"
            );
        }
    }

    /// The demo shows the feature: its one person may change access; with
    /// a real identity setting, the usual rules hold.
    #[test]
    fn the_demo_user_may_change_access() {
        let demo = parse(&["--demo"])
            .unwrap()
            .into_config_with("http://127.0.0.1:9", ApiKey::new("k").unwrap())
            .unwrap();
        let caller = demo.access.demo_caller.unwrap();
        assert_eq!(caller.actor.0, DEMO_ACTOR);
        assert_eq!(caller.roles, [DEMO_ROLE]);
        assert_eq!(demo.changes.unwrap().role, DEMO_ROLE);
        let behind_sso = parse(&["--demo", "--identity-header", "X-Email"])
            .unwrap()
            .into_config_with("http://127.0.0.1:9", ApiKey::new("k").unwrap())
            .unwrap();
        assert!(behind_sso.access.demo_caller.is_none());
        assert!(behind_sso.changes.is_none());
    }

    #[test]
    fn only_https_leaves_the_machine() {
        assert!(checked_base_url("https://api.adapty.io").is_ok());
        assert!(checked_base_url("http://127.0.0.1:9000").is_ok());
        assert!(checked_base_url("http://localhost:9000").is_ok());
        assert!(checked_base_url("http://[::1]:9000").is_ok());
        assert!(matches!(
            checked_base_url("http://api.adapty.io"),
            Err(ConfigError::UrlNotHttps(..))
        ));
        assert!(matches!(
            checked_base_url("ftp://127.0.0.1"),
            Err(ConfigError::UrlNotHttps(..))
        ));
        assert!(matches!(
            checked_base_url("not a url"),
            Err(ConfigError::UrlInvalid(..))
        ));
    }
}
