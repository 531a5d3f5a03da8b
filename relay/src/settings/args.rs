//! The command line: every flag, each with an environment equivalent.

use clap::builder::RangedU64ValueParser;
use clap::Parser;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

/// Ceilings of the sizes an operator may set: beyond them the relay could
/// not keep count (its memory budget counts kibibytes in 32 bits).
const MAX_BODY_BYTES: u64 = 1 << 30;
const MAX_MEMORY_BYTES: u64 = 64 << 30;

/// The version, with the panel build the binary carries, if any.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(crate::built_panel::version);

/// The secret key is deliberately not a command-line flag: every local user
/// can read a process's arguments. Pass it in the environment or, better, a file.
#[derive(Parser, Debug)]
#[command(
    name = "relay",
    version = VERSION.as_str(),
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

    /// A folder with the built panel (Trunk's `dist/`), served instead of
    /// the one built into the relay; without either, `dist`.
    #[arg(long, env = "RELAY_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

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
              .range(crate::adapty::budget::FIRST_ROOM_BYTES as u64..=MAX_MEMORY_BYTES))]
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

    /// Let people in this role correct profiles (contact details, custom
    /// attributes); off without it. Needs an identity with roles, as
    /// --allow-access-changes does.
    #[arg(long, env = "RELAY_EDIT_ROLE")]
    pub edit_role: Option<String>,

    /// Profile corrections one person may make per hour.
    #[arg(long, env = "RELAY_EDITS_PER_HOUR", default_value = "30")]
    pub edits_per_hour: NonZeroU32,

    /// Let people in this role erase customers from Adapty for good (and
    /// from the store); off without it. Needs an identity with roles.
    #[arg(long, env = "RELAY_ERASE_ROLE")]
    pub erase_role: Option<String>,

    /// Erasures one person may make per hour.
    #[arg(long, env = "RELAY_ERASURES_PER_HOUR", default_value = "20")]
    pub erasures_per_hour: NonZeroU32,

    /// Let people in this role check many customers at once (a bulk run);
    /// off without it. Needs an identity with roles.
    #[arg(long, env = "RELAY_BULK_ROLE")]
    pub bulk_role: Option<String>,

    /// IDs one bulk run may check at most.
    #[arg(long, env = "RELAY_BULK_MAX_IDS", default_value_t = 5_000,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=20_000))]
    pub bulk_max_ids: usize,

    /// Bulk runs one person may start per hour.
    #[arg(long, env = "RELAY_BULK_RUNS_PER_HOUR", default_value = "20")]
    pub bulk_runs_per_hour: NonZeroU32,

    /// The role whose members may delete notes others wrote (an author may
    /// always delete their own).
    #[arg(long, env = "RELAY_NOTES_ADMIN_ROLE")]
    pub notes_admin_role: Option<String>,

    /// Notes one person may add or delete per hour.
    #[arg(long, env = "RELAY_NOTES_PER_HOUR", default_value = "60")]
    pub notes_per_hour: NonZeroU32,

    /// The store for search and Adapty's events: sqlite:PATH (one file,
    /// created if missing) or postgres://USER@HOST/DATABASE (several relays
    /// share one). Without it, search and the event feed are off.
    #[arg(long, env = "RELAY_STORE", hide_env_values = true)]
    pub store: Option<StoreText>,

    /// Days the store keeps events and customers not seen since; pruned daily.
    #[arg(long, env = "RELAY_STORE_RETENTION_DAYS", default_value_t = 400,
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub store_retention_days: u32,

    /// Address for Adapty's webhooks (POST /webhook/{app}), apart from the
    /// panel's: expose only this one to Adapty, without single sign-on.
    /// Needs --store.
    #[arg(long, env = "RELAY_WEBHOOK_LISTEN")]
    pub webhook_listen: Option<SocketAddr>,

    /// With one app: file holding the Authorization value of Adapty's
    /// production webhook (with --apps-file: webhook_secret_file per app).
    #[arg(long, env = "RELAY_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,

    /// With one app: file holding the Authorization value of Adapty's
    /// sandbox webhook.
    #[arg(long, env = "RELAY_WEBHOOK_SANDBOX_SECRET_FILE")]
    pub webhook_sandbox_secret_file: Option<PathBuf>,

    /// Run against a built-in stand-in for Adapty with sample profiles; no key
    /// needed. Without an identity setting every caller is the demo user,
    /// who may change access, correct profiles and erase customers.
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
    /// The store (--store).
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(clap::Subcommand, Debug)]
pub enum StoreCommand {
    /// Removes everything the store holds of one customer of one app (an
    /// erasure request); says how much.
    Purge {
        #[arg(long)]
        app: String,
        #[arg(long)]
        profile_id: String,
    },
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

/// `--store` as given: it may hold a password, so it is never shown
/// (`Debug`), and it is read (`StoreAddress::parse`) where its errors
/// are the relay's own, which never repeat it (clap's would).
#[derive(Clone)]
pub struct StoreText(pub String);

impl std::str::FromStr for StoreText {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<StoreText, Self::Err> {
        Ok(StoreText(text.to_owned()))
    }
}

impl std::fmt::Debug for StoreText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreText(***)")
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}
