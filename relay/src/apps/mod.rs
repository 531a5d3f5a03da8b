//! The Adapty apps the relay serves, one secret key each: from the apps
//! file (`--apps-file`), or one app `default` from the single-key flags.
//!
//! Each app has its own upstream client (its own key, never sent for
//! another app's request), its own rate limits (its own Adapty quota) and,
//! optionally, its own changes role. `SIGHUP` reads the file and the key
//! files again: the new set is built whole, then swapped in; on any error
//! the running set stays. A request keeps the app it started with to its end.

use crate::budget::Budget;
use crate::config::{
    checked_url, ApiKey, ChangesConfig, ConfigError, Limits, UpstreamConfig, UpstreamSettings,
};
use crate::error::RelayError;
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::upstream::Upstream;
use reqwest::Url;
use serde::Deserialize;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The app of the single-key configuration.
pub const DEFAULT_APP_ID: &str = "default";
const ID_MAX_CHARS: usize = 32;

/// One app as configured, checked; its key read.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `[a-z0-9-]{1,32}`: in URLs, audit lines and metric labels.
    pub id: String,
    /// Shown in the panel.
    pub name: String,
    pub api_base: Url,
    pub key: ApiKey,
    /// Replaces `--changes-role` for this app.
    pub changes_role: Option<String>,
    /// Lookups one person may make per minute in this app.
    pub per_person_per_minute: NonZeroU32,
    /// Lookups (and changes) the relay may make per minute in this app.
    pub global_per_minute: NonZeroU32,
}

/// What an app of the apps file leaves out, from the flags.
#[derive(Debug, Clone)]
pub struct AppDefaults {
    pub api_base: Url,
    pub per_person_per_minute: NonZeroU32,
    pub global_per_minute: NonZeroU32,
}

impl AppDefaults {
    /// An app with these defaults.
    pub fn app(&self, id: &str, name: &str, key: ApiKey) -> AppConfig {
        AppConfig {
            id: id.into(),
            name: name.into(),
            api_base: self.api_base.clone(),
            key,
            changes_role: None,
            per_person_per_minute: self.per_person_per_minute,
            global_per_minute: self.global_per_minute,
        }
    }
}

/// The file as written: `[[app]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppsFile {
    #[serde(default)]
    app: Vec<AppEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppEntry {
    id: String,
    name: String,
    api_key_file: PathBuf,
    /// Adapty's API base for this app; `--api-base` when left out.
    api_base: Option<String>,
    changes_role: Option<String>,
    rate_limit_per_minute: Option<NonZeroU32>,
    global_rate_limit_per_minute: Option<NonZeroU32>,
}

/// Reads and checks the apps file. `template` gives what an app leaves out
/// (the API base, the limits); key files named by a relative path are read
/// beside the apps file. Errors name the file and the app, never a key.
pub fn read_file(path: &Path, template: &AppDefaults) -> Result<Vec<AppConfig>, ConfigError> {
    let error = |reason: String| ConfigError::AppsFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.kind().to_string()))?;
    let file: AppsFile = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
    if file.app.is_empty() {
        return Err(error(
            "it names no app; add an [[app]] table with id, name and api_key_file".into(),
        ));
    }
    let mut apps: Vec<AppConfig> = Vec::with_capacity(file.app.len());
    for entry in file.app {
        let id = entry.id;
        let in_app = |reason: String| error(format!("app {id:?}: {reason}"));
        if !is_app_id(&id) {
            return Err(in_app(format!(
                "the id must be 1 to {ID_MAX_CHARS} of a-z, 0-9 and -"
            )));
        }
        if apps.iter().any(|app| app.id == id) {
            return Err(in_app("the id is used twice".into()));
        }
        if entry.name.trim().is_empty() {
            return Err(in_app("the name is empty".into()));
        }
        let key_path = path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&entry.api_key_file);
        let key = read_key(&key_path).map_err(|e| in_app(e.to_string()))?;
        let api_base = match entry.api_base {
            Some(base) => checked_url("api_base", &base).map_err(|e| in_app(e.to_string()))?,
            None => template.api_base.clone(),
        };
        if let Some(role) = &entry.changes_role {
            checked_role(role).map_err(|e| in_app(e.to_string()))?;
        }
        apps.push(AppConfig {
            name: entry.name.trim().to_owned(),
            api_base,
            key,
            changes_role: entry.changes_role,
            per_person_per_minute: entry
                .rate_limit_per_minute
                .unwrap_or(template.per_person_per_minute),
            global_per_minute: entry
                .global_rate_limit_per_minute
                .unwrap_or(template.global_per_minute),
            id,
        });
    }
    Ok(apps)
}

fn is_app_id(id: &str) -> bool {
    (1..=ID_MAX_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// A key file's content as a key; the error says what is wrong, never the content.
pub fn read_key(path: &Path) -> Result<ApiKey, ConfigError> {
    let secret = std::fs::read_to_string(path).map_err(|error| ConfigError::KeyFileUnreadable {
        path: path.to_owned(),
        reason: error.kind().to_string(),
    })?;
    ApiKey::new(&secret)
}

/// A role name as a header or claim lists it: not empty, no comma, no
/// spaces around it.
pub fn checked_role(role: &str) -> Result<(), ConfigError> {
    if role.is_empty() || role.contains(',') || role.trim() != role {
        return Err(ConfigError::ChangesRoleInvalid(role.to_owned()));
    }
    Ok(())
}

/// One app, ready to serve.
pub struct App {
    pub id: String,
    pub name: String,
    pub upstream: Upstream,
    /// Kept across reloads while the app's quotas stay the same.
    pub limits: Arc<RateLimits>,
    quotas: (NonZeroU32, NonZeroU32),
    /// `None` when access changes are off.
    pub changes: Option<ChangesConfig>,
}

/// The apps served now, in the file's order.
pub struct AppSet {
    apps: Vec<Arc<App>>,
}

impl AppSet {
    pub fn iter(&self) -> impl Iterator<Item = &Arc<App>> {
        self.apps.iter()
    }

    /// The app a request names: required with several apps, optional with one.
    pub fn pick(&self, asked: Option<&str>) -> Result<Arc<App>, RelayError> {
        let ids = || {
            self.apps
                .iter()
                .map(|app| app.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (asked, self.apps.as_slice()) {
            (None, [only]) => Ok(only.clone()),
            (None, _) => Err(RelayError::InvalidRequest(format!(
                "give {}: this relay serves several apps ({})",
                protocol::param::APP,
                ids()
            ))),
            (Some(asked), _) => self
                .apps
                .iter()
                .find(|app| app.id == asked)
                .cloned()
                .ok_or_else(|| {
                    RelayError::UnknownApp(format!(
                        "this relay serves no app of that ID; its apps are {}",
                        ids()
                    ))
                }),
        }
    }
}

/// What every app shares, kept to build the set again on `SIGHUP`.
pub struct Apps {
    current: RwLock<Arc<AppSet>>,
    file: Option<PathBuf>,
    /// What an app of the file leaves out.
    template: AppDefaults,
    upstream: UpstreamSettings,
    limits: Limits,
    changes: Option<ChangesConfig>,
    metrics: Arc<Metrics>,
    budget: Budget,
}

impl Apps {
    pub fn new(config: &crate::Config, metrics: Arc<Metrics>, budget: Budget) -> Apps {
        let mut apps = Apps {
            current: RwLock::new(Arc::new(AppSet { apps: Vec::new() })),
            file: config.apps_file.clone(),
            template: config.app_defaults.clone(),
            upstream: config.upstream.clone(),
            limits: config.limits.clone(),
            changes: config.changes.clone(),
            metrics,
            budget,
        };
        let set = apps.build(&config.apps, &AppSet { apps: Vec::new() });
        apps.current = RwLock::new(Arc::new(set));
        apps
    }

    /// The set as it is now; a request holds on to it until it ends.
    pub fn current(&self) -> Arc<AppSet> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reads the apps file and its key files again and serves the new set;
    /// on any error the running set stays, and the error is logged. Without
    /// an apps file there is nothing to re-read.
    pub fn reload(&self) {
        let Some(file) = &self.file else {
            tracing::info!("SIGHUP: no --apps-file, nothing to reload");
            return;
        };
        match read_file(file, &self.template) {
            Ok(configs) => {
                let set = self.build(&configs, &self.current());
                let ids: Vec<&str> = configs.iter().map(|app| app.id.as_str()).collect();
                tracing::info!(apps = ?ids, "SIGHUP: apps file reloaded");
                *self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(set);
            }
            Err(error) => {
                tracing::error!(%error, "SIGHUP: apps file not reloaded; the running apps stay")
            }
        }
    }

    /// The apps of `configs`; an app of `running` with the same ID and
    /// quotas keeps its rate limits, so a reload gives no one a fresh allowance.
    fn build(&self, configs: &[AppConfig], running: &AppSet) -> AppSet {
        let apps = configs
            .iter()
            .map(|app| {
                let limits = Limits {
                    per_actor_per_minute: app.per_person_per_minute,
                    global_per_minute: app.global_per_minute,
                    ..self.limits.clone()
                };
                let changes = self.changes.as_ref().map(|changes| ChangesConfig {
                    role: app.changes_role.clone().unwrap_or(changes.role.clone()),
                    ..changes.clone()
                });
                let upstream = UpstreamConfig {
                    base: app.api_base.clone(),
                    key: app.key.clone(),
                    timeout: self.upstream.timeout,
                    max_body_bytes: self.upstream.max_body_bytes,
                };
                let quotas = (app.per_person_per_minute, app.global_per_minute);
                let kept = running
                    .iter()
                    .find(|old| old.id == app.id && old.quotas == quotas)
                    .map(|old| old.limits.clone());
                Arc::new(App {
                    id: app.id.clone(),
                    name: app.name.clone(),
                    upstream: Upstream::new(upstream, self.metrics.clone(), self.budget.clone()),
                    limits: kept
                        .unwrap_or_else(|| Arc::new(RateLimits::new(&limits, changes.as_ref()))),
                    quotas,
                    changes,
                })
            })
            .collect();
        AppSet { apps }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> AppDefaults {
        AppDefaults {
            api_base: checked_url("ADAPTY_API_BASE", "https://api.adapty.io").unwrap(),
            per_person_per_minute: NonZeroU32::new(60).unwrap(),
            global_per_minute: NonZeroU32::new(600).unwrap(),
        }
    }

    fn template() -> AppConfig {
        defaults().app(DEFAULT_APP_ID, "Default app", ApiKey::new("k").unwrap())
    }

    /// A folder with key files `main.key` and `empty.key`, and an apps file.
    fn folder(apps_file: &str) -> PathBuf {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "relay-apps-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.key"), "secret_live_main_abc\n").unwrap();
        std::fs::write(dir.join("empty.key"), "\n").unwrap();
        std::fs::write(dir.join("apps.toml"), apps_file).unwrap();
        dir.join("apps.toml")
    }

    fn read(apps_file: &str) -> Result<Vec<AppConfig>, String> {
        read_file(&folder(apps_file), &defaults()).map_err(|error| error.to_string())
    }

    #[test]
    fn an_apps_file_is_read_with_defaults_for_what_it_leaves_out() {
        let apps = read(
            r#"
            [[app]]
            id = "main"
            name = "Main app"
            api_key_file = "main.key"

            [[app]]
            id = "kids-2"
            name = " Kids app "
            api_key_file = "main.key"
            api_base = "http://127.0.0.1:9"
            changes_role = "kids-leads"
            rate_limit_per_minute = 5
            global_rate_limit_per_minute = 50
            "#,
        )
        .unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(
            (apps[0].id.as_str(), apps[0].name.as_str()),
            ("main", "Main app")
        );
        assert_eq!(apps[0].api_base.as_str(), "https://api.adapty.io/");
        assert_eq!(apps[0].per_person_per_minute.get(), 60);
        assert_eq!(apps[0].changes_role, None);
        assert_eq!(apps[1].name, "Kids app");
        assert_eq!(apps[1].api_base.as_str(), "http://127.0.0.1:9/");
        assert_eq!(apps[1].changes_role.as_deref(), Some("kids-leads"));
        assert_eq!(
            (
                apps[1].per_person_per_minute.get(),
                apps[1].global_per_minute.get()
            ),
            (5, 50)
        );
        assert_eq!(
            apps[0].key.authorization(),
            "Api-Key secret_live_main_abc",
            "the key file's content, trimmed"
        );
    }

    #[test]
    fn a_bad_apps_file_is_refused_saying_what_is_wrong_and_never_the_key() {
        let app = |fields: &str| format!("[[app]]\n{fields}\n");
        for (file, expected) in [
            ("", "names no app"),
            ("[[app]]\nid = \"main\"", "missing field `name`"),
            (
                &app("id = \"main\"\nname = \"M\"\napi_key_file = \"main.key\"\ncolour = 1"),
                "unknown field `colour`",
            ),
            (
                &app("id = \"Main\"\nname = \"M\"\napi_key_file = \"main.key\""),
                "app \"Main\": the id must be 1 to 32 of a-z, 0-9 and -",
            ),
            (
                &app("id = \"\"\nname = \"M\"\napi_key_file = \"main.key\""),
                "the id must be",
            ),
            (
                &app(&format!("id = \"{}\"\nname = \"M\"\napi_key_file = \"main.key\"", "a".repeat(33))),
                "the id must be",
            ),
            (
                &(app("id = \"main\"\nname = \"M\"\napi_key_file = \"main.key\"")
                    + &app("id = \"main\"\nname = \"N\"\napi_key_file = \"main.key\"")),
                "app \"main\": the id is used twice",
            ),
            (
                &app("id = \"main\"\nname = \"  \"\napi_key_file = \"main.key\""),
                "the name is empty",
            ),
            (
                &app("id = \"main\"\nname = \"M\"\napi_key_file = \"nowhere.key\""),
                "cannot read the key file",
            ),
            (
                &app("id = \"main\"\nname = \"M\"\napi_key_file = \"empty.key\""),
                "the Adapty secret key is empty",
            ),
            (
                &app("id = \"main\"\nname = \"M\"\napi_key_file = \"main.key\"\napi_base = \"http://api.adapty.io\""),
                "must use https",
            ),
            (
                &app("id = \"main\"\nname = \"M\"\napi_key_file = \"main.key\"\nchanges_role = \"a,b\""),
                "is not a role name",
            ),
            (
                &app("id = \"main\"\nname = \"M\"\napi_key_file = \"main.key\"\nrate_limit_per_minute = 0"),
                "nonzero",
            ),
        ] {
            let error = read(file).unwrap_err();
            assert!(error.contains(expected), "{file:?}: {error}");
            assert!(error.contains("apps.toml"), "{error}");
            assert!(!error.contains("secret_live_main_abc"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_reload_keeps_the_allowances_spent_unless_the_limits_change() {
        let file = folder(
            "[[app]]\nid = \"main\"\nname = \"M\"\napi_key_file = \"main.key\"\nrate_limit_per_minute = 1\n",
        );
        let args = <crate::config::Args as clap::Parser>::try_parse_from([
            "relay".as_ref(),
            "--apps-file".as_ref(),
            file.as_os_str(),
        ])
        .unwrap();
        let config = args
            .into_config_with("https://api.adapty.io", ApiKey::new("k").unwrap())
            .unwrap();
        let apps = Apps::new(
            &config,
            Arc::new(Metrics::default()),
            Budget::new(std::num::NonZeroUsize::new(1 << 20).unwrap()),
        );
        let ann = crate::identity::Actor("ann@example.com".into());
        let check = || apps.current().pick(None).unwrap().limits.check(&ann);
        assert!(check().is_ok());
        assert!(check().is_err(), "one a minute");
        apps.reload();
        assert!(check().is_err(), "a reload is no fresh allowance");
        std::fs::write(
            &file,
            std::fs::read_to_string(&file)
                .unwrap()
                .replace("= 1", "= 2"),
        )
        .unwrap();
        apps.reload();
        assert!(check().is_ok(), "new limits, counted afresh");
    }

    #[test]
    fn one_app_needs_no_name_in_the_request_several_do() {
        let metrics = Arc::new(Metrics::default());
        let budget = Budget::new(std::num::NonZeroUsize::new(1 << 20).unwrap());
        let config = |apps: Vec<AppConfig>| {
            let args = <crate::config::Args as clap::Parser>::try_parse_from(["relay"]).unwrap();
            let mut config = args
                .into_config_with("https://api.adapty.io", ApiKey::new("k").unwrap())
                .unwrap();
            config.apps = apps;
            config
        };
        let one = Apps::new(&config(vec![template()]), metrics.clone(), budget.clone());
        assert_eq!(one.current().pick(None).unwrap().id, DEFAULT_APP_ID);
        assert_eq!(
            one.current().pick(Some("default")).unwrap().id,
            DEFAULT_APP_ID
        );
        assert!(matches!(
            one.current().pick(Some("main")),
            Err(RelayError::UnknownApp(_))
        ));
        let kids = AppConfig {
            id: "kids".into(),
            ..template()
        };
        let two = Apps::new(&config(vec![template(), kids]), metrics, budget);
        assert_eq!(two.current().pick(Some("kids")).unwrap().id, "kids");
        let Err(RelayError::InvalidRequest(missing)) = two.current().pick(None) else {
            panic!("several apps need the app named");
        };
        assert!(missing.contains("default, kids"), "{missing}");
        let Err(RelayError::UnknownApp(unknown)) = two.current().pick(Some("nope")) else {
            panic!("an unknown app is refused");
        };
        assert!(unknown.contains("default, kids"), "{unknown}");
    }
}
