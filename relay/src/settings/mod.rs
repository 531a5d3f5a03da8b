//! What the operator sets, checked once at start: `args` (the flags),
//! the apps file (read by `apps::file`, and again on SIGHUP), and the
//! checks that say, before the relay serves anything, what is wrong.
//! Each module owns its own configuration type; this one only builds them.

mod args;
mod error;

pub use args::{Args, AuditCommand, Command, LogFormat, StoreCommand};
pub use error::ConfigError;

use crate::adapty::key::{self, ApiKey};
use crate::adapty::UpstreamSettings;
use crate::apps::config::{
    is_role_name, AppConfig, AppDefaults, AppsConfig, NotesConfig, PowerConfig, DEFAULT_APP_ID,
};
use crate::apps::file;
use crate::apps::webhook_secret::{WebhookSecret, WebhookSecrets};
use crate::audit::{AuditConfig, ChainSecret};
use crate::error::Power;
use crate::guard::identity::{Actor, Caller};
use crate::guard::{base_path, host, AccessConfig, JwtConfig};
use crate::remote_url;
use crate::server;
use crate::store::StoreAddress;
use axum::http::HeaderName;
use reqwest::Url;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

/// The demo's chain key: its Adapty key changes every start, so the chain
/// is keyed with this public value; a demo's log shows the chain's shape
/// but proves nothing.
const DEMO_CHAIN_SECRET: &str = "adapty-lookup demo audit chain (public)";

/// The demo's one person when no identity is configured: not "anonymous",
/// and in the changes role, so that `cargo xtask demo` shows the feature.
pub const DEMO_ACTOR: &str = "demo@adapty-lookup.local";
pub const DEMO_ROLE: &str = "demo-support";

/// Everything the relay needs, checked, in each part's own terms.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `/tools/adapty`, or `None` for the root.
    pub base_path: Option<String>,
    /// `--static-dir`; `None`: the panel built in, else `dist`.
    pub static_dir: Option<PathBuf>,
    pub apps: AppsConfig,
    pub access: AccessConfig,
    pub audit: AuditConfig,
    pub server: server::Limits,
    /// Bytes of Adapty's answers held at once, for all clients together.
    pub response_memory_bytes: NonZeroUsize,
    /// The panel's "Open in Adapty" link: https, with `{profile_id}` in it.
    pub dashboard_profile_url: Option<String>,
    /// `None`: no search, no event feed, no webhook.
    pub store: Option<StoreConfig>,
    /// Where Adapty's webhooks arrive (`--webhook-listen`); needs the store.
    pub webhook_listen: Option<SocketAddr>,
}

/// Where the store is and how long it keeps things.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub address: StoreAddress,
    pub retention_days: u32,
}

impl Args {
    /// Resolves the key from the file or the environment; the file wins,
    /// since it keeps the secret out of the process environment.
    fn key(&self) -> Result<ApiKey, ConfigError> {
        if let Some(path) = &self.api_key_file {
            return Ok(ApiKey::read(path)?);
        }
        match std::env::var("ADAPTY_API_KEY") {
            Ok(secret) => Ok(ApiKey::new(&secret)?),
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
            return Ok(ChainSecret(key::derive(secret, PURPOSE)));
        }
        if self.demo {
            return Ok(ChainSecret(key::derive(
                DEMO_CHAIN_SECRET.as_bytes(),
                PURPOSE,
            )));
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
        let access = self.access()?;
        if self.response_memory_bytes < self.upstream_max_bytes {
            return Err(ConfigError::MemoryBelowMaxBody);
        }
        let base_path = base_path::normalized(&self.base_path)
            .ok_or_else(|| ConfigError::BasePathInvalid(self.base_path.clone()))?;
        let changes = self.power(&access, Power::Change)?;
        let edits = self.power(&access, Power::Edit)?;
        let erasures = self.power(&access, Power::Erase)?;
        let bulk = self.power(&access, Power::Bulk)?;
        if let Some(role) = self
            .notes_admin_role
            .as_ref()
            .filter(|role| !is_role_name(role))
        {
            return Err(ConfigError::ChangesRoleInvalid(
                "--notes-admin-role",
                role.clone(),
            ));
        }
        let notes = NotesConfig {
            admin_role: self.notes_admin_role.clone(),
            per_person_per_hour: self.notes_per_hour,
        };
        // Said after what is wrong with the apps file, if anything is.
        let chain_key = self.audit_chain_secret(key.as_ref());
        let defaults = AppDefaults {
            api_base: remote_url::checked("ADAPTY_API_BASE", base)?,
            per_person_per_minute: self.rate_limit_per_minute,
            global_per_minute: self.global_rate_limit_per_minute,
        };
        let apps = match (&self.apps_file, key) {
            (Some(_), _) if self.demo => return Err(ConfigError::AppsFileWithDemo),
            (Some(_), _)
                if self.webhook_secret_file.is_some()
                    || self.webhook_sandbox_secret_file.is_some() =>
            {
                return Err(ConfigError::WebhookSecretWithAppsFile)
            }
            (Some(path), _) => file::read(path, &defaults)?,
            (None, Some(key)) => vec![AppConfig {
                webhook: self.webhook_secrets()?,
                ..defaults.app(DEFAULT_APP_ID, "Default app", key)
            }],
            (None, None) => return Err(ConfigError::KeyMissing),
        };
        let store = self
            .store
            .as_ref()
            .map(|text| {
                Ok::<_, ConfigError>(StoreConfig {
                    address: StoreAddress::parse(&text.0).map_err(ConfigError::Store)?,
                    retention_days: self.store_retention_days,
                })
            })
            .transpose()?;
        if self.webhook_listen.is_some() && store.is_none() {
            return Err(ConfigError::WebhookWithoutStore);
        }
        if self.webhook_listen == Some(self.listen) {
            return Err(ConfigError::WebhookOnPanelAddress);
        }
        Ok(Config {
            listen: self.listen,
            base_path,
            apps: AppsConfig {
                apps,
                file: self.apps_file,
                defaults,
                upstream: UpstreamSettings {
                    timeout: Duration::from_secs(self.upstream_timeout_secs),
                    max_body_bytes: at_least_one(self.upstream_max_bytes),
                },
                changes,
                edits,
                erasures,
                bulk,
                bulk_max_ids: self.bulk_max_ids,
                notes,
            },
            access,
            audit: AuditConfig {
                chain_key: chain_key?,
                path: self.audit_log,
                dir: self.audit_dir,
                hash_ids: self.audit_hash_ids,
                refused_per_minute: self.audit_refused_per_minute,
                refused_total_per_minute: self.audit_refused_total_per_minute,
            },
            dashboard_profile_url: self
                .dashboard_profile_url
                .as_deref()
                .map(checked_dashboard_url)
                .transpose()?,
            server: server::Limits {
                header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
                write_timeout: Duration::from_secs(self.write_timeout_secs),
                max_connections: at_least_one(self.max_connections),
                max_concurrent_requests: at_least_one(self.max_concurrent_requests),
            },
            response_memory_bytes: at_least_one(self.response_memory_bytes),
            static_dir: self.static_dir,
            store,
            webhook_listen: self.webhook_listen,
        })
    }

    /// The one app's webhook secrets, from their two flags.
    fn webhook_secrets(&self) -> Result<WebhookSecrets, ConfigError> {
        let read = |flag: &'static str, path: &Option<PathBuf>| {
            path.as_deref()
                .map(|path| {
                    WebhookSecret::read(path).map_err(|reason| ConfigError::WebhookSecretFile {
                        flag,
                        path: path.to_owned(),
                        reason,
                    })
                })
                .transpose()
        };
        Ok(WebhookSecrets {
            production: read("--webhook-secret-file", &self.webhook_secret_file)?,
            sandbox: read(
                "--webhook-sandbox-secret-file",
                &self.webhook_sandbox_secret_file,
            )?,
        })
    }

    /// Who may ask: the identity (a header, a verified token, or the demo's
    /// one person), the origins and the host names served.
    fn access(&self) -> Result<AccessConfig, ConfigError> {
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
                jwks_url: remote_url::checked("RELAY_JWKS_URL", url)?,
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
            .map(|host| host::parse(host).ok_or_else(|| ConfigError::HostInvalid(host.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        if !self.listen.ip().is_loopback() && public_origins.is_empty() && allowed_hosts.is_empty()
        {
            return Err(ConfigError::HostsUnknown(self.listen));
        }
        let identity_header = self.identity_header.as_deref().map(header).transpose()?;
        let roles_header = self.roles_header.as_deref().map(header).transpose()?;
        if roles_header.is_some() && jwt.is_some() {
            return Err(ConfigError::RolesHeaderWithJwt);
        }
        // Demo mode with no identity setting: the demo user, in every
        // power's role (the demo's own, or the one a flag names).
        let no_identity = identity_header.is_none() && jwt.is_none();
        let demo_caller = (self.demo && no_identity).then(|| {
            let mut roles = Vec::new();
            for role in [
                &self.changes_role,
                &self.edit_role,
                &self.erase_role,
                &self.bulk_role,
            ] {
                let role = role.clone().unwrap_or_else(|| DEMO_ROLE.into());
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
            Caller {
                actor: Actor(DEMO_ACTOR.into()),
                roles,
            }
        });
        Ok(AccessConfig {
            identity_header,
            roles_header,
            jwt,
            demo_caller,
            public_origins,
            allowed_hosts,
        })
    }

    /// Who may use `power`, if anyone: never 'anonymous', and roles only
    /// from where they can be trusted. The demo's one person may use every
    /// power.
    fn power(
        &self,
        access: &AccessConfig,
        power: Power,
    ) -> Result<Option<PowerConfig>, ConfigError> {
        let (on, role, per_hour, flag) = match power {
            Power::Change => (
                self.allow_access_changes,
                &self.changes_role,
                self.changes_per_hour,
                "--changes-role",
            ),
            Power::Edit => (
                self.edit_role.is_some(),
                &self.edit_role,
                self.edits_per_hour,
                "--edit-role",
            ),
            Power::Erase => (
                self.erase_role.is_some(),
                &self.erase_role,
                self.erasures_per_hour,
                "--erase-role",
            ),
            Power::Bulk => (
                self.bulk_role.is_some(),
                &self.bulk_role,
                self.bulk_runs_per_hour,
                "--bulk-role",
            ),
            // Notes have no role of their own: on with the store.
            Power::Note => return Ok(None),
        };
        let no_identity = access.identity_header.is_none() && access.jwt.is_none();
        let role = match (&access.demo_caller, on) {
            (Some(_), _) => role.clone().unwrap_or_else(|| DEMO_ROLE.into()),
            (None, false) => return Ok(None),
            (None, true) if no_identity => {
                return Err(ConfigError::ChangesWithoutIdentity(power.flag()))
            }
            (None, true) if access.jwt.is_none() && access.roles_header.is_none() => {
                return Err(ConfigError::ChangesWithoutRoles(power.flag()))
            }
            // `requires` in the parser makes the role present with the flag.
            (None, true) => role.clone().unwrap_or_default(),
        };
        if !is_role_name(&role) {
            return Err(ConfigError::ChangesRoleInvalid(flag, role));
        }
        Ok(Some(PowerConfig {
            role,
            per_person_per_hour: per_hour,
        }))
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
    use clap::Parser;

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
        let config = format!(
            "{:?}",
            parse(&[])
                .unwrap()
                .into_config_with("https://api.adapty.io", key)
                .unwrap()
        );
        assert!(!config.contains("abc123"), "{config}");
        assert!(config.contains("redacted"), "{config}");
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

    /// The store and the webhook: each mistake refused at start, saying
    /// what to do, and a secret file never quoted.
    #[test]
    fn the_webhook_needs_a_store_an_address_of_its_own_and_readable_secrets() {
        let key = || ApiKey::new("secret_live_store").unwrap();
        let config = |args: &[&str]| {
            parse(args)
                .unwrap()
                .into_config_with("https://api.adapty.io", key())
        };
        let refusal = |args: &[&str]| config(args).unwrap_err().to_string();
        assert!(refusal(&["--webhook-listen", "127.0.0.1:8081"]).contains("needs --store"));
        assert!(refusal(&["--store", "mysql://x/y"]).contains("sqlite:PATH"));
        // Never repeated, wherever it fails: it may hold a password.
        let said = refusal(&["--store", "postgres://relay:s3cret@db.internal/x?passwd=1"]);
        assert!(
            said.contains("passwd") && !said.contains("s3cret"),
            "{said}"
        );
        let said = refusal(&["--store", "postgres://relay:s3cret@db.internal/x"]);
        assert!(
            said.contains("verify-full") && !said.contains("s3cret"),
            "{said}"
        );
        let args = parse(&["--store", "postgres://relay:s3cret@127.0.0.1/x"]).unwrap();
        assert!(!format!("{args:?}").contains("s3cret"));
        assert!(refusal(&[
            "--store",
            "sqlite:/tmp/x.db",
            "--listen",
            "127.0.0.1:8080",
            "--webhook-listen",
            "127.0.0.1:8080"
        ])
        .contains("must differ"));
        let dir = std::env::temp_dir().join(format!("webhook-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let short = dir.join("short");
        std::fs::write(
            &short,
            "tiny-secret
",
        )
        .unwrap();
        let said = refusal(&["--webhook-secret-file", short.to_str().unwrap()]);
        assert!(
            said.contains("--webhook-secret-file") && said.contains("16 to 1024"),
            "{said}"
        );
        assert!(!said.contains("tiny-secret"), "{said}");
        let missing = dir.join("missing");
        let said = refusal(&["--webhook-sandbox-secret-file", missing.to_str().unwrap()]);
        assert!(said.contains("--webhook-sandbox-secret-file") && said.contains("cannot read"));
        let good = dir.join("good");
        std::fs::write(
            &good,
            "  production-secret-0123456789
",
        )
        .unwrap();
        let config = config(&[
            "--store",
            "sqlite:/tmp/x.db",
            "--webhook-listen",
            "127.0.0.1:8081",
            "--webhook-secret-file",
            good.to_str().unwrap(),
        ])
        .unwrap();
        let webhook = &config.apps.apps[0].webhook;
        assert!(webhook.accepts(b"production-secret-0123456789"));
        assert!(!webhook.accepts(b"  production-secret-0123456789\n"));
        assert_eq!(config.store.unwrap().retention_days, 400);
        let apps_file = dir.join("apps.toml");
        std::fs::write(&apps_file, "").unwrap();
        let both = parse(&[
            "--apps-file",
            apps_file.to_str().unwrap(),
            "--webhook-secret-file",
            good.to_str().unwrap(),
        ])
        .unwrap()
        .into_config_with("https://api.adapty.io", key())
        .unwrap_err()
        .to_string();
        assert!(both.contains("webhook_secret_file"), "{both}");
        let _ = std::fs::remove_dir_all(&dir);
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
        assert!(config(&[]).unwrap().unwrap().apps.changes.is_none());
        assert!(
            config(&["--identity-header", "X-Email", "--roles-header", "X-Groups"])
                .unwrap()
                .unwrap()
                .apps
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
            matches!(no_roles, ConfigError::ChangesWithoutRoles(_)),
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
        let changes = header_mode.apps.changes.unwrap();
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
                    ConfigError::ChangesRoleInvalid(..)
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
        assert_eq!(demo.apps.changes.unwrap().role, DEMO_ROLE);
        let behind_sso = parse(&["--demo", "--identity-header", "X-Email"])
            .unwrap()
            .into_config_with("http://127.0.0.1:9", ApiKey::new("k").unwrap())
            .unwrap();
        assert!(behind_sso.access.demo_caller.is_none());
        assert!(behind_sso.apps.changes.is_none());
    }

    /// Issue 22: corrections and erasures are off without their role, and
    /// their role needs an identity with roles, as access changes do; the
    /// demo's person has every role.
    #[test]
    fn corrections_and_erasures_need_their_role_and_an_identity_with_roles() {
        let config = |args: &[&str]| {
            parse(args)
                .unwrap()
                .into_config_with("https://api.adapty.io", ApiKey::new("k").unwrap())
        };
        let off = config(&["--identity-header", "X-Email", "--roles-header", "X-Groups"]).unwrap();
        assert!(off.apps.edits.is_none() && off.apps.erasures.is_none());
        for (flag, name) in [
            ("--edit-role", "--edit-role"),
            ("--erase-role", "--erase-role"),
        ] {
            let anonymous = config(&[flag, "team"]).unwrap_err();
            assert!(
                matches!(anonymous, ConfigError::ChangesWithoutIdentity(named) if named == name),
                "{anonymous:?}"
            );
            let no_roles = config(&["--identity-header", "X-Email", flag, "team"]).unwrap_err();
            assert!(
                matches!(no_roles, ConfigError::ChangesWithoutRoles(_)),
                "{no_roles:?}"
            );
            assert!(no_roles.to_string().contains(name), "{no_roles}");
            let bad = config(&[
                "--identity-header",
                "X-Email",
                "--roles-header",
                "X-Groups",
                flag,
                "a,b",
            ])
            .unwrap_err();
            assert!(
                bad.to_string().contains(&format!("{name} \"a,b\"")),
                "{bad}"
            );
        }
        let on = config(&[
            "--identity-header",
            "X-Email",
            "--roles-header",
            "X-Groups",
            "--edit-role",
            "editors",
            "--erase-role",
            "privacy",
            "--erasures-per-hour",
            "3",
        ])
        .unwrap();
        assert_eq!(on.apps.edits.unwrap().role, "editors");
        let erasures = on.apps.erasures.unwrap();
        assert_eq!(
            (erasures.role.as_str(), erasures.per_person_per_hour.get()),
            ("privacy", 3)
        );
        assert!(on.apps.changes.is_none(), "access changes stay off");
        let demo = parse(&["--demo", "--erase-role", "privacy"])
            .unwrap()
            .into_config_with("http://127.0.0.1:9", ApiKey::new("k").unwrap())
            .unwrap();
        assert_eq!(
            demo.access.demo_caller.unwrap().roles,
            [DEMO_ROLE, "privacy"]
        );
        assert_eq!(demo.apps.edits.unwrap().role, DEMO_ROLE);
        assert_eq!(demo.apps.erasures.unwrap().role, "privacy");
    }
}
