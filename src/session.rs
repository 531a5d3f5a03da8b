//! What the relay tells the panel at start (`GET api/session`, the shape
//! in `protocol::session`): read leniently, and which app a lookup asks.
//!
//! Read into protocol's own types, as the relay writes them, field by field
//! through `Loose` as every other answer of the relay's: serde's derive
//! weighed 1.5 KB brotli of the panel. What protocol writes reads back
//! whole (`what_protocol_writes_is_read_back_whole`), so the two cannot
//! drift apart unseen.

use crate::error::LookupError;
use crate::model::Loose;
use protocol::session::{Session, SessionApp};

/// The session's body. A body not of protocol's shape (a field of another
/// type, an app without its ID or name) is no session: no apps, no link,
/// no changes. A field left out or `null` is its default. A link without
/// a place for the profile's ID is no link.
pub fn read(body: &str) -> Session {
    let mut session = serde_json::from_str(body)
        .ok()
        .and_then(|json: Loose| session(&json))
        .unwrap_or_default();
    session
        .dashboard_profile_url
        .take_if(|url| !url.contains("{profile_id}"));
    session
}

/// Field `name`: `Some(None)` when absent, `None` when of another type.
fn text(json: &Loose, name: &str) -> Option<Option<String>> {
    match json.get(name) {
        Loose::Null => Some(None),
        Loose::Text(text) => Some(Some(text.clone())),
        _ => None,
    }
}

/// Field `name`, `false` when absent; `None` when of another type.
fn flag(json: &Loose, name: &str) -> Option<bool> {
    match json.get(name) {
        Loose::Null => Some(false),
        Loose::Bool(value) => Some(*value),
        _ => None,
    }
}

fn session(json: &Loose) -> Option<Session> {
    let apps = match json.get("apps") {
        Loose::Null => Vec::new(),
        Loose::List(apps) => apps
            .iter()
            .map(|app| {
                Some(SessionApp {
                    id: text(app, "id")??,
                    name: text(app, "name")??,
                    can_change_access: flag(app, "can_change_access")?,
                    can_edit_profile: flag(app, "can_edit_profile")?,
                    can_erase: flag(app, "can_erase")?,
                    can_delete_any_note: flag(app, "can_delete_any_note")?,
                    can_bulk_check: flag(app, "can_bulk_check")?,
                })
            })
            .collect::<Option<_>>()?,
        _ => return None,
    };
    Some(Session {
        actor: text(json, "actor")?.unwrap_or_default(),
        dashboard_profile_url: text(json, "dashboard_profile_url")?,
        can_change_access: flag(json, "can_change_access")?,
        apps,
        store: flag(json, "store")?,
        bulk_max_ids: match json.get("bulk_max_ids") {
            Loose::Null => 0,
            // A count: a fraction, a sign or an exponent is not one.
            Loose::Number(digits) => digits.parse().ok()?,
            _ => return None,
        },
    })
}

/// The app a lookup asks: none when the relay serves one app (its URLs
/// stay as they were), the first when a link names none.
pub fn app_for(session: &Session, asked: &str) -> String {
    match &session.apps[..] {
        [first, _, ..] if asked.is_empty() => first.id.clone(),
        [_, _, ..] => asked.into(),
        _ => String::new(),
    }
}

/// Whether a lookup may ask `app` (as `app_for` gave it): with several
/// apps, only one of them, never one picked for the admin; else the
/// error that names it and offers the apps by name.
pub fn check_app(session: &Session, app: &str) -> Result<(), LookupError> {
    if session.apps.len() < 2 || session.apps.iter().any(|known| known.id == app) {
        return Ok(());
    }
    Err(LookupError::UnknownApp {
        asked: app.into(),
        apps: session
            .apps
            .iter()
            .map(|known| (known.id.clone(), known.name.clone()))
            .collect(),
    })
}

/// The app of this ID, named only when there are several; with one (ID
/// empty), nameless, with the session's right to change access and the
/// one listed app's rights to correct and erase.
pub fn app(session: &Session, id: &str) -> SessionApp {
    if let Some(app) = session.apps.iter().find(|app| app.id == id) {
        return app.clone();
    }
    let only = match &session.apps[..] {
        [only] if id.is_empty() => only.clone(),
        _ => SessionApp::default(),
    };
    SessionApp {
        id: id.into(),
        name: String::new(),
        can_change_access: id.is_empty() && session.can_change_access,
        ..only
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_gives_the_dashboard_link_and_the_right_to_change_or_nothing() {
        let body = r#"{"actor":"a@b.c","dashboard_profile_url":"https://x.test/{profile_id}","can_change_access":true}"#;
        assert_eq!(
            read(body),
            Session {
                actor: "a@b.c".into(),
                dashboard_profile_url: Some("https://x.test/{profile_id}".into()),
                can_change_access: true,
                apps: Vec::new(),
                store: false,
                bulk_max_ids: 0,
            }
        );
        // What the session offers: nothing, whoever it names.
        let offers = |session: Session| {
            (
                session.dashboard_profile_url,
                session.can_change_access,
                session.apps,
            )
        };
        for nothing in [
            r#"{"actor":"a","dashboard_profile_url":null,"can_change_access":false}"#,
            r#"{"actor":"a"}"#,
            r#"{"dashboard_profile_url":"https://x.test/no-place-for-the-id"}"#,
            r#"{"can_change_access":"yes"}"#,
            r#"{"apps":[{"id":"main"}]}"#,
            "<html>",
            "",
        ] {
            assert_eq!(
                offers(read(nothing)),
                (None, false, Vec::new()),
                "{nothing}"
            );
        }
    }

    #[test]
    fn what_protocol_writes_is_read_back_whole() {
        let session = Session {
            actor: "ana@example.com".into(),
            dashboard_profile_url: Some("https://x.test/{profile_id}".into()),
            can_change_access: true,
            apps: vec![
                SessionApp {
                    id: "main".into(),
                    name: "Main app".into(),
                    can_change_access: true,
                    can_edit_profile: true,
                    ..SessionApp::default()
                },
                SessionApp {
                    id: "kids".into(),
                    name: "Kids app".into(),
                    can_erase: true,
                    can_delete_any_note: true,
                    can_bulk_check: true,
                    ..SessionApp::default()
                },
            ],
            store: true,
            bulk_max_ids: 1200,
        };
        let written = serde_json::to_string(&session).unwrap();
        assert_eq!(read(&written), session);
        assert_eq!(
            read(&serde_json::to_string(&Session::default()).unwrap()),
            Session::default()
        );
    }

    /// The relay writes protocol's shape; anything else offers nothing
    /// rather than part of what it says.
    #[test]
    fn a_session_not_of_protocols_shape_offers_nothing() {
        for body in [
            r#"{"can_change_access":true,"apps":[{"id":"main","name":"Main app"},{"name":"No ID"}]}"#,
            r#"{"can_change_access":true,"apps":[{"id":"x","name":7}]}"#,
            r#"{"can_change_access":true,"apps":{}}"#,
            r#"{"can_change_access":true,"bulk_max_ids":-1}"#,
            r#"{"can_change_access":true,"bulk_max_ids":2.5}"#,
            r#"{"can_change_access":true,"bulk_max_ids":"5000"}"#,
        ] {
            assert_eq!(read(body), Session::default(), "{body}");
        }
    }

    #[test]
    fn several_apps_are_named_and_one_app_is_as_if_there_were_none() {
        let one = read(
            r#"{"can_change_access":true,"apps":[{"id":"default","name":"Default app","can_change_access":true}]}"#,
        );
        assert_eq!(app_for(&one, ""), "", "one app: URLs stay as they were");
        assert_eq!(app_for(&one, "default"), "");
        let only = app(&one, "");
        assert_eq!((only.name.as_str(), only.can_change_access), ("", true));
        // Its rights to correct and erase are the one listed app's.
        assert!(!only.can_edit_profile && !only.can_erase);
        let editor = read(
            r#"{"apps":[{"id":"default","name":"Default app","can_edit_profile":true,"can_erase":true}]}"#,
        );
        let rights = app(&editor, "");
        assert_eq!(
            (
                rights.id.as_str(),
                rights.name.as_str(),
                rights.can_change_access
            ),
            ("", "", false)
        );
        assert!(rights.can_edit_profile && rights.can_erase);

        let two = read(
            r#"{"can_change_access":true,"apps":[
                {"id":"main","name":"Main app","can_change_access":true},
                {"id":"kids","name":"Kids app","can_change_access":false}]}"#,
        );
        assert_eq!(app_for(&two, ""), "main", "a link from before names none");
        assert_eq!(app_for(&two, "kids"), "kids");
        assert_eq!(
            app_for(&two, "gone"),
            "gone",
            "the relay says it is unknown"
        );
        let kids = app(&two, "kids");
        assert_eq!(
            (kids.name.as_str(), kids.can_change_access),
            ("Kids app", false)
        );
        assert!(app(&two, "main").can_change_access);
        let gone = app(&two, "gone");
        assert_eq!((gone.name.as_str(), gone.can_change_access), ("", false));
        let rights = read(
            r#"{"apps":[{"id":"main","name":"Main app","can_erase":true},
                {"id":"kids","name":"Kids app","can_edit_profile":true}]}"#,
        );
        let (main, kids) = (app(&rights, "main"), app(&rights, "kids"));
        assert_eq!((main.can_edit_profile, main.can_erase), (false, true));
        assert_eq!((kids.can_edit_profile, kids.can_erase), (true, false));
        let nowhere = app(&rights, "");
        assert!(
            !nowhere.can_edit_profile && !nowhere.can_erase,
            "among several, no app's rights"
        );

        // A link's unknown app is not asked, and none is picked instead.
        assert_eq!(check_app(&two, "kids"), Ok(()));
        assert_eq!(
            check_app(&two, "nosuch"),
            Err(LookupError::UnknownApp {
                asked: "nosuch".into(),
                apps: vec![
                    ("main".into(), "Main app".into()),
                    ("kids".into(), "Kids app".into())
                ],
            })
        );
        assert!(
            matches!(check_app(&two, ""), Err(LookupError::UnknownApp { asked, .. }) if asked.is_empty()),
            "the form sent with no app chosen"
        );
        assert_eq!(check_app(&one, ""), Ok(()), "one app: nothing to choose");
        assert_eq!(check_app(&Session::default(), "kids"), Ok(()));

        // No session (it failed): nothing to pick, nothing to change.
        assert_eq!(app_for(&Session::default(), "kids"), "");
        assert_eq!(app(&Session::default(), ""), SessionApp::default());
    }
}
