//! What the relay tells the panel at start, `GET api/session`
//! ([`crate::path::SESSION`]): who is signed in, the dashboard link, the
//! apps, and where this person may change access. The relay writes it and
//! the panel reads it, both from these types.

use serde::{Deserialize, Serialize};

/// `{"actor": "...", "dashboard_profile_url": "https://…/{profile_id}" | null,
/// "can_change_access": bool, "apps": [{"id", "name", "can_change_access",
/// "can_edit_profile", "can_erase", "can_delete_any_note", "can_bulk_check"},
/// …], "store": bool, "bulk_max_ids": number}`.
///
/// A field left out reads as its default (no link, no changes, no apps), so
/// a panel and a relay one version apart still agree.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    /// Who the relay says is signed in (the SSO identity).
    pub actor: String,
    /// A link to the profile in Adapty's dashboard, with `{profile_id}` where
    /// the ID goes; `null` when the operator set none.
    pub dashboard_profile_url: Option<String>,
    /// Whether this person may change access in at least one app.
    pub can_change_access: bool,
    /// The relay's apps (one Adapty key each), in the operator's order.
    pub apps: Vec<SessionApp>,
    /// Whether the relay keeps a store: search by email or transaction ID,
    /// and Adapty's events beside support's changes ([`crate::feed`]).
    pub store: bool,
    /// The most IDs a bulk run may check (`--bulk-max-ids`); 0 from a
    /// relay that does not say, when the panel assumes the default.
    pub bulk_max_ids: usize,
}

/// One of the relay's apps. Its ID and name are required: an app without
/// them is not this protocol's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SessionApp {
    /// What a lookup's `app` parameter and a change's `app` field name.
    pub id: String,
    /// What the panel shows.
    pub name: String,
    /// Whether this person may change access in this app.
    #[serde(default)]
    pub can_change_access: bool,
    /// Whether this person may correct profiles in this app.
    #[serde(default)]
    pub can_edit_profile: bool,
    /// Whether this person may erase customers in this app.
    #[serde(default)]
    pub can_erase: bool,
    /// Whether this person may delete notes others wrote in this app
    /// (anyone may add notes, and delete their own, when `store` is on).
    #[serde(default)]
    pub can_delete_any_note: bool,
    /// Whether this person may check many customers at once in this app.
    #[serde(default)]
    pub can_bulk_check: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_reads_back_as_itself() {
        let session = Session {
            actor: "ana@example.com".into(),
            dashboard_profile_url: Some("https://app.adapty.io/profiles/{profile_id}".into()),
            can_change_access: true,
            apps: vec![
                SessionApp {
                    id: "main".into(),
                    name: "Main app".into(),
                    can_change_access: true,
                    can_edit_profile: true,
                    can_erase: false,
                    can_delete_any_note: false,
                    can_bulk_check: false,
                },
                SessionApp {
                    id: "kids".into(),
                    name: "Kids app".into(),
                    can_change_access: false,
                    can_edit_profile: false,
                    can_erase: true,
                    can_delete_any_note: false,
                    can_bulk_check: false,
                },
            ],
            store: false,
            bulk_max_ids: 5000,
        };
        let json = serde_json::to_string(&session).unwrap();
        assert_eq!(
            json,
            r#"{"actor":"ana@example.com","dashboard_profile_url":"https://app.adapty.io/profiles/{profile_id}","can_change_access":true,"apps":[{"id":"main","name":"Main app","can_change_access":true,"can_edit_profile":true,"can_erase":false,"can_delete_any_note":false,"can_bulk_check":false},{"id":"kids","name":"Kids app","can_change_access":false,"can_edit_profile":false,"can_erase":true,"can_delete_any_note":false,"can_bulk_check":false}],"store":false,"bulk_max_ids":5000}"#
        );
        assert_eq!(serde_json::from_str::<Session>(&json).unwrap(), session);
    }

    #[test]
    fn no_link_is_null_and_missing_fields_are_their_defaults() {
        let json = serde_json::to_string(&Session::default()).unwrap();
        assert_eq!(
            json,
            r#"{"actor":"","dashboard_profile_url":null,"can_change_access":false,"apps":[],"store":false,"bulk_max_ids":0}"#
        );
        assert_eq!(
            serde_json::from_str::<Session>(r#"{"actor":"a","extra":1}"#).unwrap(),
            Session {
                actor: "a".into(),
                ..Session::default()
            }
        );
        assert!(serde_json::from_str::<Session>(r#"{"apps":[{"id":"main"}]}"#).is_err());
        assert!(serde_json::from_str::<Session>(r#"{"can_change_access":"yes"}"#).is_err());
    }
}
