//! The Adapty apps the relay serves, one secret key each: from the apps
//! file (`--apps-file`, read by `file`), or one app `default` from the
//! single-key flags.
//!
//! Each app has its own upstream client (its own key, never sent for
//! another app's request), its own rate limits (its own Adapty quota) and,
//! optionally, its own changes role. `SIGHUP` reads the file and the key
//! files again: the new set is built whole, then swapped in; on any error
//! the running set stays. A request keeps the app it started with to its end.

pub mod config;
pub mod file;
pub mod limits;
pub mod webhook_secret;

use crate::adapty::budget::Budget;
use crate::adapty::{Upstream, UpstreamConfig};
use crate::error::{Power, RelayError};
use crate::guard::identity::{Actor, Caller};
use crate::metrics::Metrics;
use config::{AppConfig, AppsConfig};
use hmac::{Hmac, Mac};
use limits::{HourlyAllowance, RateLimits};
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};

/// One app, ready to serve.
pub struct App {
    pub id: String,
    pub name: String,
    pub upstream: Upstream,
    /// Kept across reloads while the app's quotas stay the same.
    pub limits: Arc<RateLimits>,
    quotas: (NonZeroU32, NonZeroU32),
    /// Who may change access in this app; `None` when changes are off.
    pub changes_role: Option<String>,
    /// Who may correct profiles in this app; `None` when corrections are off.
    pub edit_role: Option<String>,
    /// Who may erase customers in this app; `None` when erasures are off.
    pub erase_role: Option<String>,
    /// Who may delete anyone's notes in this app (an author may always
    /// delete their own).
    pub notes_admin_role: Option<String>,
    /// Who may check many customers at once; `None` when bulk checks are off.
    pub bulk_role: Option<String>,
    /// What its webhook accepts (`webhook`); none set: no webhook.
    pub webhook: webhook_secret::WebhookSecrets,
    /// The key of `erased_id`'s hashes, derived from the app's Adapty key:
    /// the same in every relay of the app, useless for calling Adapty.
    erased_id_key: [u8; 32],
}

impl App {
    /// The role that may use `power` in this app; `None` when it is off.
    pub fn role(&self, power: Power) -> Option<&str> {
        match power {
            Power::Change => self.changes_role.as_deref(),
            Power::Edit => self.edit_role.as_deref(),
            Power::Erase => self.erase_role.as_deref(),
            Power::Bulk => self.bulk_role.as_deref(),
            Power::Note => None,
        }
    }

    /// Whether `caller` may use `power` in this app.
    pub fn may(&self, power: Power, caller: &Caller) -> bool {
        self.role(power).is_some_and(|role| caller.has_role(role))
    }

    /// A customer's ID as the store keeps it after an erasure: a keyed
    /// hash, which matches the same ID later and names no one by itself
    /// (`kind` is `customer_user_id` or `profile_id`).
    pub fn erased_id(&self, kind: &str, id: &str) -> String {
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(&self.erased_id_key).expect("any key length");
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Whether `caller` may grant, extend and revoke access in this app.
    pub fn may_change(&self, caller: &Caller) -> bool {
        self.may(Power::Change, caller)
    }
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

/// The apps, and what they share: kept to build the set again on `SIGHUP`.
pub struct Apps {
    current: RwLock<Arc<AppSet>>,
    config: AppsConfig,
    /// Each person's changes, corrections and erasures, each counted
    /// across apps and reloads.
    allowances: Vec<HourlyAllowance>,
    metrics: Arc<Metrics>,
    budget: Budget,
}

impl Apps {
    pub fn new(config: AppsConfig, metrics: Arc<Metrics>, budget: Budget) -> Apps {
        let mut apps = Apps {
            current: RwLock::new(Arc::new(AppSet { apps: Vec::new() })),
            allowances: [Power::Change, Power::Edit, Power::Erase, Power::Bulk]
                .into_iter()
                .filter_map(|power| {
                    let config = config.power(power)?;
                    Some(HourlyAllowance::new(power, config.per_person_per_hour))
                })
                .chain([HourlyAllowance::new(
                    Power::Note,
                    config.notes.per_person_per_hour,
                )])
                .collect(),
            config,
            metrics,
            budget,
        };
        let set = apps.build(&apps.config.apps, &AppSet { apps: Vec::new() });
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

    /// Takes one change from `actor`'s hourly allowance, and one call from
    /// `app`'s quota.
    pub fn take_change(&self, app: &App, actor: &Actor) -> Result<(), RelayError> {
        self.take(Power::Change, app, actor)
    }

    /// IDs one bulk run may check at most.
    pub fn max_bulk_ids(&self) -> usize {
        self.config.bulk_max_ids
    }

    /// Takes one bulk run from `actor`'s hourly allowance (its checks take
    /// from the app's quota one by one, as they go).
    pub fn take_run(&self, _app: &App, actor: &Actor) -> Result<(), RelayError> {
        match self
            .allowances
            .iter()
            .find(|one| one.power() == Power::Bulk)
        {
            Some(allowance) => allowance.take(actor),
            None => Err(RelayError::ChangesDisabled(Power::Bulk)),
        }
    }

    /// Takes one note added or deleted from `actor`'s hourly allowance
    /// (notes ask nothing of Adapty: no app quota).
    pub fn take_note(&self, actor: &Actor) -> Result<(), RelayError> {
        match self
            .allowances
            .iter()
            .find(|one| one.power() == Power::Note)
        {
            Some(allowance) => allowance.take(actor),
            None => Ok(()),
        }
    }

    /// Takes one use of `power` from `actor`'s hourly allowance, and one
    /// call from `app`'s quota.
    pub fn take(&self, power: Power, app: &App, actor: &Actor) -> Result<(), RelayError> {
        let Some(allowance) = self.allowances.iter().find(|one| one.power() == power) else {
            return Err(RelayError::ChangesDisabled(power));
        };
        allowance.take(actor)?;
        app.limits.check_quota()
    }

    /// Reads the apps file and its key files again and serves the new set;
    /// on any error the running set stays, and the error is logged. Without
    /// an apps file there is nothing to re-read.
    pub fn reload(&self) {
        let Some(path) = &self.config.file else {
            tracing::info!("SIGHUP: no --apps-file, nothing to reload");
            return;
        };
        match file::read(path, &self.config.defaults) {
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
                // An app's own role counts only where the power is on.
                let role = |power: Power, own: &Option<String>| {
                    let on = self.config.power(power)?;
                    Some(own.clone().unwrap_or_else(|| on.role.clone()))
                };
                let upstream = UpstreamConfig {
                    base: app.api_base.clone(),
                    key: app.key.clone(),
                    timeout: self.config.upstream.timeout,
                    max_body_bytes: self.config.upstream.max_body_bytes,
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
                    limits: kept.unwrap_or_else(|| Arc::new(RateLimits::new(quotas.0, quotas.1))),
                    quotas,
                    changes_role: role(Power::Change, &app.changes_role),
                    edit_role: role(Power::Edit, &app.edit_role),
                    erase_role: role(Power::Erase, &app.erase_role),
                    bulk_role: role(Power::Bulk, &app.bulk_role),
                    notes_admin_role: app
                        .notes_admin_role
                        .clone()
                        .or_else(|| self.config.notes.admin_role.clone()),
                    webhook: app.webhook.clone(),
                    erased_id_key: app.key.derive("adapty-lookup erased id v1"),
                })
            })
            .collect();
        AppSet { apps }
    }
}

#[cfg(test)]
mod tests {
    use super::config::{AppDefaults, PowerConfig, DEFAULT_APP_ID};
    use super::*;
    use crate::adapty::{ApiKey, UpstreamSettings};
    use std::num::NonZeroUsize;
    use std::time::Duration;

    fn per(count: u32) -> NonZeroU32 {
        NonZeroU32::new(count).unwrap()
    }

    fn defaults() -> AppDefaults {
        AppDefaults {
            api_base: "https://api.adapty.io".parse().unwrap(),
            per_person_per_minute: per(60),
            global_per_minute: per(600),
        }
    }

    fn template() -> AppConfig {
        defaults().app(DEFAULT_APP_ID, "Default app", ApiKey::new("k").unwrap())
    }

    fn apps(apps: Vec<AppConfig>, file: Option<std::path::PathBuf>, changes_per_hour: u32) -> Apps {
        let config = AppsConfig {
            apps,
            file,
            defaults: defaults(),
            upstream: UpstreamSettings {
                timeout: Duration::from_secs(1),
                max_body_bytes: NonZeroUsize::MIN,
            },
            changes: Some(PowerConfig {
                role: "leads".into(),
                per_person_per_hour: per(changes_per_hour),
            }),
            edits: None,
            erasures: None,
            bulk: None,
            bulk_max_ids: 5000,
            notes: super::config::NotesConfig {
                admin_role: None,
                per_person_per_hour: per(60),
            },
        };
        let budget = Budget::new(NonZeroUsize::new(1 << 20).unwrap());
        Apps::new(config, Arc::new(Metrics::default()), budget)
    }

    #[tokio::test]
    async fn a_reload_keeps_the_allowances_spent_unless_the_limits_change() {
        let dir = std::env::temp_dir().join(format!("relay-apps-reload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.key"), "secret_live_main\n").unwrap();
        let file = dir.join("apps.toml");
        std::fs::write(
            &file,
            "[[app]]\nid = \"main\"\nname = \"M\"\napi_key_file = \"main.key\"\nrate_limit_per_minute = 1\n",
        )
        .unwrap();
        let first = file::read(&file, &defaults()).unwrap();
        let apps = apps(first, Some(file.clone()), 30);
        let ann = Actor("ann@example.com".into());
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

    /// Issue 19, point 5: the hourly allowance is a person's, whatever the
    /// app; each app's quota still applies on top.
    #[test]
    fn a_persons_changes_are_counted_across_apps() {
        let kids = AppConfig {
            id: "kids".into(),
            global_per_minute: per(1),
            ..template()
        };
        let apps = apps(vec![template(), kids], None, 2);
        let set = apps.current();
        let (main, kids) = (
            set.pick(Some("default")).unwrap(),
            set.pick(Some("kids")).unwrap(),
        );
        let ann = Actor("ann@example.com".into());
        assert!(apps.take_change(&main, &ann).is_ok());
        assert!(apps.take_change(&kids, &ann).is_ok());
        for app in [&main, &kids] {
            assert!(
                matches!(
                    apps.take_change(app, &ann),
                    Err(RelayError::ChangesRateLimited {
                        power: Power::Change,
                        per_hour: 2,
                        ..
                    })
                ),
                "{}: two changes an hour, in all apps together",
                app.id
            );
        }
        let bob = Actor("bob@example.com".into());
        assert!(
            matches!(
                apps.take_change(&kids, &bob),
                Err(RelayError::RateLimited { .. })
            ),
            "the kids app's own quota of one a minute is spent"
        );
        assert!(apps.take_change(&main, &bob).is_ok());
    }

    #[test]
    fn one_app_needs_no_name_in_the_request_several_do() {
        let one = apps(vec![template()], None, 30);
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
        let two = apps(vec![template(), kids], None, 30);
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
