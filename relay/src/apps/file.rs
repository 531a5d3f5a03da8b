//! The apps file (`--apps-file`): `[[app]]` tables, each naming its key
//! file. Read at start and again on `SIGHUP`.
//!
//! Its errors name the file, the line and the app, and never quote what
//! the file says: an operator may have written a key into it by mistake,
//! and errors reach logs that many people read.

use super::config::{is_role_name, AppConfig, AppDefaults};
use super::webhook_secret::{WebhookSecret, WebhookSecrets};
use crate::adapty::key::{ApiKey, KeyError};
use crate::remote_url;
use serde::Deserialize;
use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

const ID_MAX_CHARS: usize = 32;

/// The file as written.
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
    edit_role: Option<String>,
    erase_role: Option<String>,
    notes_admin_role: Option<String>,
    bulk_role: Option<String>,
    rate_limit_per_minute: Option<NonZeroU32>,
    global_rate_limit_per_minute: Option<NonZeroU32>,
    /// Files with the `Authorization` values of the app's production and
    /// sandbox webhooks.
    webhook_secret_file: Option<PathBuf>,
    webhook_sandbox_secret_file: Option<PathBuf>,
}

/// What is wrong with the apps file, never what it says.
#[derive(Debug)]
pub struct FileError {
    pub path: PathBuf,
    pub reason: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the apps file {}: {}", self.path.display(), self.reason)
    }
}

/// Reads and checks the apps file. `defaults` gives what an app leaves out
/// (the API base, the limits); key files named by a relative path are read
/// beside the apps file.
pub fn read(path: &Path, defaults: &AppDefaults) -> Result<Vec<AppConfig>, FileError> {
    let error = |reason: String| FileError {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.kind().to_string()))?;
    let file: AppsFile = toml::from_str(&text).map_err(|e| error(unquoted(&e, &text)))?;
    if file.app.is_empty() {
        return Err(error(
            "it names no app; add an [[app]] table with id, name and api_key_file".into(),
        ));
    }
    let mut apps: Vec<AppConfig> = Vec::with_capacity(file.app.len());
    for (number, entry) in (1..).zip(file.app) {
        let id = entry.id;
        // An ID is named only once it is known to be one.
        let in_app = |reason: String| match is_app_id(&id) {
            true => error(format!("app {id:?}: {reason}")),
            false => error(format!("app number {number}: {reason}")),
        };
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
        // The path is what the file says: not repeated, in case it is a key.
        let key = ApiKey::read(&key_path).map_err(|e| match e {
            KeyError::FileUnreadable { reason, .. } => {
                in_app(format!("cannot read its api_key_file: {reason}"))
            }
            other => in_app(other.to_string()),
        })?;
        let api_base = match entry.api_base {
            Some(base) => remote_url::checked("api_base", &base).map_err(|e| in_app(e.rule()))?,
            None => defaults.api_base.clone(),
        };
        for (field, role) in [
            ("changes_role", &entry.changes_role),
            ("edit_role", &entry.edit_role),
            ("erase_role", &entry.erase_role),
            ("notes_admin_role", &entry.notes_admin_role),
            ("bulk_role", &entry.bulk_role),
        ] {
            if role.as_deref().is_some_and(|role| !is_role_name(role)) {
                return Err(in_app(format!(
                    "{field} is not a role name (not empty, no comma, no spaces around it)"
                )));
            }
        }
        let mut webhook = WebhookSecrets::default();
        for (field, file, secret) in [
            (
                "webhook_secret_file",
                &entry.webhook_secret_file,
                &mut webhook.production,
            ),
            (
                "webhook_sandbox_secret_file",
                &entry.webhook_sandbox_secret_file,
                &mut webhook.sandbox,
            ),
        ] {
            if let Some(file) = file {
                let secret_path = path.parent().unwrap_or(Path::new(".")).join(file);
                *secret = Some(
                    WebhookSecret::read(&secret_path)
                        .map_err(|reason| in_app(format!("its {field}: {reason}")))?,
                );
            }
        }
        apps.push(AppConfig {
            webhook,
            name: entry.name.trim().to_owned(),
            api_base,
            key,
            changes_role: entry.changes_role,
            edit_role: entry.edit_role,
            erase_role: entry.erase_role,
            notes_admin_role: entry.notes_admin_role,
            bulk_role: entry.bulk_role,
            per_person_per_minute: entry
                .rate_limit_per_minute
                .unwrap_or(defaults.per_person_per_minute),
            global_per_minute: entry
                .global_rate_limit_per_minute
                .unwrap_or(defaults.global_per_minute),
            id,
        });
    }
    Ok(apps)
}

/// The fields an `[[app]]` table may have.
const FIELDS: &str = "id, name, api_key_file, api_base, changes_role, edit_role, erase_role, \
                      notes_admin_role, bulk_role, rate_limit_per_minute, global_rate_limit_per_minute, webhook_secret_file, \
                      webhook_sandbox_secret_file";

/// The parser's complaint with its line, without the snippet of the file
/// it would show and without anything it quotes of the file: the message
/// is cut where a quote or backtick begins (a quoted value, or a key as
/// written, may hold anything, escaped quotes included). Only a missing
/// field is named: its name comes from this code, not from the file.
fn unquoted(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim();
    let said = if message.starts_with("missing field ") {
        message.to_owned()
    } else if message.starts_with("unknown field") {
        format!("unknown field; an [[app]] takes {FIELDS}")
    } else {
        // serde's own ending (`, expected a nonzero u32`) is the code's words,
        // after whatever it quoted: the last one is kept.
        let expected = message
            .rfind(", expected ")
            .map(|at| &message[at..])
            .filter(|tail| !tail.contains(['"', '`', '\'']))
            .unwrap_or_default();
        match message.find(['"', '`', '\'']) {
            Some(quote) => format!("{} …{expected}", message[..quote].trim_end()),
            None => message.to_owned(),
        }
    };
    let said: String = said
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match error.span() {
        Some(span) => {
            let line = text.as_bytes()[..span.start.min(text.len())]
                .iter()
                .filter(|&&byte| byte == b'\n')
                .count()
                + 1;
            format!("line {line}: {said}")
        }
        None => said,
    }
}

fn is_app_id(id: &str) -> bool {
    (1..=ID_MAX_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> AppDefaults {
        AppDefaults {
            api_base: remote_url::checked("ADAPTY_API_BASE", "https://api.adapty.io").unwrap(),
            per_person_per_minute: NonZeroU32::new(60).unwrap(),
            global_per_minute: NonZeroU32::new(600).unwrap(),
        }
    }

    /// A folder with key files `main.key` and `empty.key`, and an apps file.
    pub fn folder(apps_file: &str) -> PathBuf {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "relay-apps-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.key"), "secret_live_main_abc\n").unwrap();
        std::fs::write(dir.join("empty.key"), "\n").unwrap();
        std::fs::write(dir.join("apps.toml"), apps_file).unwrap();
        dir.join("apps.toml")
    }

    fn read_text(apps_file: &str) -> Result<Vec<AppConfig>, String> {
        read(&folder(apps_file), &defaults()).map_err(|error| error.to_string())
    }

    #[test]
    fn an_apps_file_is_read_with_defaults_for_what_it_leaves_out() {
        let apps = read_text(
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
    fn each_app_has_its_own_webhook_secrets_read_beside_the_file() {
        let path = folder(
            r#"
            [[app]]
            id = "main"
            name = "Main app"
            api_key_file = "main.key"
            webhook_secret_file = "hook.secret"
            webhook_sandbox_secret_file = "hook-sandbox.secret"

            [[app]]
            id = "kids"
            name = "Kids app"
            api_key_file = "main.key"
            "#,
        );
        let dir = path.parent().unwrap();
        std::fs::write(dir.join("hook.secret"), "main-production-0123456789\n").unwrap();
        std::fs::write(dir.join("hook-sandbox.secret"), "main-sandbox-0123456789").unwrap();
        let apps = read(&path, &defaults()).unwrap();
        assert!(apps[0].webhook.accepts(b"main-production-0123456789"));
        assert!(apps[0].webhook.accepts(b"main-sandbox-0123456789"));
        assert!(
            !apps[1].webhook.is_set(),
            "an app without secrets has no webhook"
        );
        std::fs::write(dir.join("hook.secret"), "short\n").unwrap();
        let error = read(&path, &defaults()).unwrap_err().to_string();
        assert!(
            error.contains("\"main\"") && error.contains("webhook_secret_file"),
            "{error}"
        );
        assert!(!error.contains("short"), "{error}");
    }

    #[test]
    fn a_bad_apps_file_is_refused_saying_what_is_wrong_and_never_the_key() {
        let app = |fields: &str| format!("[[app]]\n{fields}\n");
        for (file, expected) in [
            ("", "names no app"),
            ("[[app]]\nid = \"main\"", "missing field `name`"),
            (
                &app("id = \"main\"\nname = \"M\"\napi_key_file = \"main.key\"\ncolour = 1"),
                "line 5: unknown field; an [[app]] takes id, name, api_key_file",
            ),
            (
                &app("id = \"Main\"\nname = \"M\"\napi_key_file = \"main.key\""),
                "app number 1: the id must be 1 to 32 of a-z, 0-9 and -",
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
                "cannot read its api_key_file: entity not found",
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
            let error = read_text(file).unwrap_err();
            assert!(error.contains(expected), "{file:?}: {error}");
            assert!(error.contains("apps.toml"), "{error}");
            assert!(!error.contains("secret_live_main_abc"), "{error}");
        }
    }

    /// Issue 19, point 8: a key written into the file itself, wherever the
    /// parser stops, is never quoted back.
    #[test]
    fn a_key_written_into_the_apps_file_is_never_quoted_in_its_errors() {
        let key = "secret_live_inline_QX7";
        let app = |fields: &str| format!("[[app]]\nid = \"main\"\nname = \"M\"\n{fields}\n");
        for file in [
            app(&format!("api_key = \"{key}\"")),
            app(&format!("api_key_file = \"{key}\"")),
            app(&format!("api_key_file = {key}")),
            app(&format!(
                "api_key_file = \"main.key\"\nrate_limit_per_minute = \"{key}\""
            )),
            app(&format!(
                "api_key_file = \"main.key\"\napi_base = \"https://x:{key}@api.adapty.io\" x"
            )),
            app(&format!(
                "api_key_file = \"main.key\"\napi_base = \"http://u:{key}@api.adapty.io\""
            )),
            app(&format!(
                "api_key_file = \"main.key\"\nchanges_role = \"{key},x\""
            )),
            format!("[[app]]\nid = \"{key}\"\nname = \"M\"\napi_key_file = \"main.key\"\n"),
            format!("{key}\n"),
            // Found by review: an escaped quote inside a value, a backtick in a key.
            app(&format!(
                "api_key_file = \"main.key\"\nrate_limit_per_minute = \"x\\\"{key}\""
            )),
            app(&format!("api_key_file = \"main.key\"\n\"note`{key}\" = 1")),
            app(&format!(
                "api_key_file = \"main.key\"\nrate_limit_per_minute = {key}"
            )),
            app(&format!(
                "api_key_file = \"main.key\"\nrate_limit_per_minute = '{key}'"
            )),
            app(&format!(
                "api_key_file = \"main.key\"\nname = \"again {key}\""
            )),
            format!("[[app]]\nid = \"main\"\nname = '''{key}\n"),
        ] {
            let error = read_text(&file).unwrap_err();
            assert!(!error.contains("QX7"), "{file:?}: {error}");
            assert!(error.contains("apps.toml"), "{error}");
        }
        let error =
            read_text(&app(&format!("api_key_file = \"main.key\"\n{key} = 1"))).unwrap_err();
        assert!(
            error.contains("line 5") && !error.contains("QX7"),
            "{error}"
        );
        assert!(
            error.contains("unknown field; an [[app]] takes id"),
            "{error}"
        );
    }
}
