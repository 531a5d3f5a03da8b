//! A customer not found in the app asked, looked for in the relay's other
//! apps. With several apps, "No profile has this ID" is only half the
//! answer: the not-found names the app it searched, and says which other
//! app has the customer, with a link there. The other apps are asked
//! through the same relay API as any lookup (each is audited and counted
//! against that app's limits).

use crate::error::LookupError;
use crate::lookup::{IdKind, Lookup};
use protocol::session::Session;

/// What one other app answered, or that it has not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Asking,
    Found,
    Missing,
    /// It could not be asked (rate limited, down, …): nothing is known.
    Failed,
}

impl Answer {
    /// Each answer by its place: the page keeps it as a number, a kind of
    /// reactive value it has anyway (each new kind adds wasm).
    pub const ALL: [Answer; 4] = [
        Answer::Asking,
        Answer::Found,
        Answer::Missing,
        Answer::Failed,
    ];

    /// From a lookup's outcome: found, or the error it failed with.
    pub fn of(error: Option<&LookupError>) -> Answer {
        match error {
            None => Answer::Found,
            Some(LookupError::NotFound { .. } | LookupError::Erased(_)) => Answer::Missing,
            Some(_) => Answer::Failed,
        }
    }
}

/// The app `lookup` asked, by name: empty when the relay serves one (or
/// the session is unknown).
pub fn app_name<'a>(session: Option<&'a Session>, lookup: &Lookup) -> &'a str {
    session
        .filter(|session| session.apps.len() > 1)
        .and_then(|session| session.apps.iter().find(|app| app.id == lookup.app))
        .map_or("", |app| app.name.as_str())
}

/// The same ID in each of the session's other apps, with the app's name,
/// in the operator's order; none unless `error` is a not-found among
/// several apps.
pub fn other_apps(
    session: Option<&Session>,
    lookup: &Lookup,
    error: &LookupError,
) -> Vec<(Lookup, String)> {
    let Some(session) = session else {
        return Vec::new();
    };
    if !matches!(error, LookupError::NotFound { .. }) || app_name(Some(session), lookup).is_empty()
    {
        return Vec::new();
    }
    session
        .apps
        .iter()
        .filter(|app| app.id != lookup.app)
        .map(|app| {
            let other = Lookup {
                app: app.id.clone(),
                ..lookup.clone()
            };
            (other, app.name.clone())
        })
        .collect()
}

/// The error's title, with the app it searched when a not-found has one
/// to name: "No profile has this customer user ID in Main app".
pub fn title(error: &LookupError, app: &str) -> String {
    match error {
        LookupError::NotFound { .. } if !app.is_empty() => format!("{} in {app}", error.title()),
        _ => error.title(),
    }
}

/// What is said of another app, `app` by name, for an ID of `kind`.
pub fn said(app: &str, kind: IdKind, answer: Answer) -> String {
    let kind = kind.label();
    match answer {
        Answer::Asking => format!("Looking for this {kind} in {app}…"),
        Answer::Found => format!("{app} has a customer with this {kind}:"),
        Answer::Missing => format!("{app} has none either."),
        Answer::Failed => format!("{app} could not be asked just now; choose it above to try."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::session::SessionApp;

    fn session(apps: &[(&str, &str)]) -> Session {
        Session {
            apps: apps
                .iter()
                .map(|(id, name)| SessionApp {
                    id: (*id).into(),
                    name: (*name).into(),
                    can_change_access: false,
                    ..SessionApp::default()
                })
                .collect(),
            ..Session::default()
        }
    }

    fn in_app(app: &str, id: &str) -> Lookup {
        Lookup {
            app: app.into(),
            ..Lookup::from_input(IdKind::CustomerUserId, id).unwrap()
        }
    }

    const NOT_FOUND: LookupError = LookupError::NotFound {
        kind: IdKind::CustomerUserId,
        email: false,
        search: crate::error::Search::NotSetUp,
    };

    #[test]
    fn a_not_found_among_several_apps_names_the_app_and_asks_the_others() {
        let three = session(&[("main", "Main app"), ("kids", "Kids app"), ("pro", "Pro")]);
        let lookup = in_app("main", "kids-family");
        assert_eq!(app_name(Some(&three), &lookup), "Main app");
        assert_eq!(
            title(&NOT_FOUND, app_name(Some(&three), &lookup)),
            "No profile has this customer user ID in Main app"
        );
        assert_eq!(
            other_apps(Some(&three), &lookup, &NOT_FOUND),
            [
                (in_app("kids", "kids-family"), "Kids app".to_owned()),
                (in_app("pro", "kids-family"), "Pro".to_owned())
            ]
        );
        // Any other failure: nothing else to ask, the title as it was.
        let timeout = LookupError::UpstreamTimeout;
        assert!(other_apps(Some(&three), &lookup, &timeout).is_empty());
        assert_eq!(title(&timeout, "Main app"), timeout.title());
    }

    #[test]
    fn with_one_app_a_not_found_is_as_it_was() {
        let one = session(&[("default", "Default app")]);
        let lookup = in_app("", "u1");
        assert_eq!(app_name(Some(&one), &lookup), "");
        assert_eq!(
            title(&NOT_FOUND, ""),
            "No profile has this customer user ID"
        );
        assert!(other_apps(Some(&one), &lookup, &NOT_FOUND).is_empty());
        assert!(
            other_apps(None, &lookup, &NOT_FOUND).is_empty(),
            "no session"
        );
    }

    #[test]
    fn each_other_app_is_said_as_it_answers() {
        let kind = IdKind::CustomerUserId;
        assert_eq!(
            said("Kids app", kind, Answer::Asking),
            "Looking for this customer user ID in Kids app…"
        );
        assert_eq!(
            said("Kids app", kind, Answer::of(None)),
            "Kids app has a customer with this customer user ID:"
        );
        assert_eq!(
            said("Kids app", kind, Answer::of(Some(&NOT_FOUND))),
            "Kids app has none either."
        );
        let limited = LookupError::RateLimited {
            retry_after_secs: Some(3),
        };
        assert_eq!(Answer::of(Some(&limited)), Answer::Failed);
        assert!(said("Kids app", kind, Answer::Failed).starts_with("Kids app could not be asked"));
        for (place, answer) in Answer::ALL.into_iter().enumerate() {
            assert_eq!(answer as usize, place, "{answer:?} is kept by its place");
        }
    }
}
