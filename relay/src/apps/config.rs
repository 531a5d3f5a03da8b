//! The apps as configured: each app's own settings, what an app of the
//! apps file leaves out, and what every app shares.

use super::webhook_secret::WebhookSecrets;
use crate::adapty::{ApiKey, UpstreamSettings};
use crate::error::Power;
use std::num::NonZeroU32;
use std::path::PathBuf;
use url::Url;

/// The app of the single-key configuration.
pub const DEFAULT_APP_ID: &str = "default";

/// Everything about the apps, checked: the apps served now and what a
/// reload needs to build them again.
#[derive(Debug, Clone)]
pub struct AppsConfig {
    /// At least one: from `file`, or the one app `default` of the single-key flags.
    pub apps: Vec<AppConfig>,
    /// Re-read on `SIGHUP`; `None` with the single-key flags.
    pub file: Option<PathBuf>,
    /// What an app of the file leaves out.
    pub defaults: AppDefaults,
    pub upstream: UpstreamSettings,
    /// `None`: access changes are off, and both change routes answer 403.
    pub changes: Option<PowerConfig>,
    /// `None`: profile corrections are off (`--edit-role`).
    pub edits: Option<PowerConfig>,
    /// `None`: erasures are off (`--erase-role`).
    pub erasures: Option<PowerConfig>,
    /// `None`: bulk checks are off (`--bulk-role`); the allowance counts runs.
    pub bulk: Option<PowerConfig>,
    /// IDs one bulk run may check at most.
    pub bulk_max_ids: usize,
    /// Notes: who may delete anyone's, and how many one person may add or
    /// delete an hour.
    pub notes: NotesConfig,
}

/// Notes, on with the store for anyone who may look customers up.
#[derive(Debug, Clone)]
pub struct NotesConfig {
    /// Who may delete a note someone else wrote (an app may name its own).
    pub admin_role: Option<String>,
    pub per_person_per_hour: NonZeroU32,
}

impl AppsConfig {
    /// How `power` is configured, if it is on.
    pub fn power(&self, power: Power) -> Option<&PowerConfig> {
        match power {
            Power::Change => self.changes.as_ref(),
            Power::Edit => self.edits.as_ref(),
            Power::Erase => self.erasures.as_ref(),
            Power::Bulk => self.bulk.as_ref(),
            Power::Note => None,
        }
    }
}

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
    /// Replaces `--edit-role` for this app.
    pub edit_role: Option<String>,
    /// Replaces `--erase-role` for this app.
    pub erase_role: Option<String>,
    /// Replaces `--notes-admin-role` for this app.
    pub notes_admin_role: Option<String>,
    /// Replaces `--bulk-role` for this app.
    pub bulk_role: Option<String>,
    /// Lookups one person may make per minute in this app.
    pub per_person_per_minute: NonZeroU32,
    /// Lookups (and changes) the relay may make per minute in this app.
    pub global_per_minute: NonZeroU32,
    /// What its webhook accepts; none set: it has no webhook.
    pub webhook: WebhookSecrets,
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
            edit_role: None,
            erase_role: None,
            notes_admin_role: None,
            bulk_role: None,
            per_person_per_minute: self.per_person_per_minute,
            global_per_minute: self.global_per_minute,
            webhook: WebhookSecrets::default(),
        }
    }
}

/// Who may use a power (grant, extend and revoke; correct; erase), and how often.
#[derive(Debug, Clone)]
pub struct PowerConfig {
    /// Only callers in this role (an app may name its own).
    pub role: String,
    /// Uses one person may make an hour, in all apps together.
    pub per_person_per_hour: NonZeroU32,
}

/// A role name as a header or claim lists it: not empty, no comma, no
/// spaces around it.
pub fn is_role_name(role: &str) -> bool {
    !role.is_empty() && !role.contains(',') && role.trim() == role
}
