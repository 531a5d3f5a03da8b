//! Every way a lookup can fail, as the admin needs to hear it.
//!
//! The relay answers errors as `{"error": {"code", "message"}}`; this is the
//! panel's one error type, and `views::error` its one view.

use crate::lookup::{email_hint, IdKind, Lookup, README_SEARCH, SEARCH_CHOICE};
use crate::model::Loose;
use protocol::correction::{ErasureRecord, ERASED};
use protocol::ErrorCode;

#[derive(Debug, Clone, PartialEq)]
pub enum LookupError {
    /// The panel or the relay rejected the ID; the message says why.
    InvalidInput(String),
    NotFound {
        kind: IdKind,
        /// The ID has `@`: say how a customer is found by email.
        email: bool,
        /// Whether the relay's store was searched first, and what it said.
        search: Search,
    },
    /// Adapty refused the relay's key: the operator must fix it.
    RelayMisconfigured,
    RateLimited {
        retry_after_secs: Option<u64>,
    },
    /// The sign-in is gone: the SSO proxy answered instead of the relay (a
    /// redirect to its sign-in page, a bare 401 or 403, an HTML page), or
    /// the relay found no valid identity. Only signing in again helps.
    SignInExpired,
    Forbidden,
    /// Adapty failed or answered nonsense.
    UpstreamFailed(String),
    UpstreamTimeout,
    /// The browser could not reach the relay at all.
    Network(String),
    /// The browser says it has no network.
    Offline,
    /// The relay answered something the panel cannot read.
    Unexpected(String),
    /// The relay cannot write its audit log, so it looks nothing up.
    AuditUnavailable,
    /// The relay keeps no store: no search by email or transaction ID.
    SearchNotSetUp,
    /// The relay's store cannot be read just now.
    StoreUnavailable,
    /// Not found, and the relay's store remembers erasing the customer:
    /// when and by whom (`erasure::said` says it).
    Erased(ErasureRecord),
    /// A link named an app the relay does not serve (or none was chosen
    /// among several): nothing was asked, and no app is picked for the
    /// admin; `apps` are those to offer, as (ID, name).
    UnknownApp {
        asked: String,
        apps: Vec<(String, String)>,
    },
}

/// What the relay's store said before a lookup that found no one.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// The relay keeps no store: search by email or transaction ID is not
    /// set up.
    NotSetUp,
    /// It keeps one, but only the ID was asked (a kind of ID was chosen,
    /// or a link named it).
    NotAsked,
    /// Its store could not be read just now.
    Unavailable,
    /// `query` matched nothing; the store holds events since `since` (a
    /// date as the admin reads it), or none yet.
    Nothing {
        query: String,
        since: Option<String>,
    },
}

/// Added to "Check the ID for typos" for a customer user ID: the panel
/// cannot know whether another letter case would find someone, and Adapty
/// matches them exactly (a profile ID is hexadecimal, read either way).
fn case_hint(kind: IdKind) -> &'static str {
    match kind {
        IdKind::CustomerUserId => {
            " and letter case: customer user IDs are case-sensitive, so DEMO-1 and demo-1 are \
             different customers"
        }
        IdKind::ProfileId => "",
    }
}

/// The relay's error, for lookups and changes alike.
pub(crate) struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// Beside a lookup's `profile_not_found`: the erasure the relay's store
    /// remembers.
    pub erased: Option<ErasureRecord>,
}

/// The relay's error body, `{"error": {"code": …, "message": …}}`, or `None`
/// when the body is not the relay's JSON (a proxy in front of it answered).
pub(crate) fn relay_error(body: &str) -> Option<ErrorDetail> {
    let json: Loose = serde_json::from_str(body).ok()?;
    let error = json.get("error");
    let erased = error.get(ERASED);
    Some(ErrorDetail {
        code: error.get("code").text()?.to_owned(),
        message: error.get("message").text().unwrap_or_default().to_owned(),
        erased: erased.string("at").map(|at| ErasureRecord {
            at,
            by: erased.string("by").unwrap_or_default(),
        }),
    })
}

/// The relay answers JSON only: an HTML page where JSON was asked for is the
/// SSO proxy's sign-in page (a gateway's error page, 5xx, is not).
pub fn is_sign_in_page(status: u16, content_type: Option<&str>) -> bool {
    status < 500 && content_type.is_some_and(|value| value.trim_start().starts_with("text/html"))
}

impl LookupError {
    /// Reads a non-200 answer of the relay.
    pub fn from_relay(status: u16, body: &str, lookup: &Lookup, retry_after: Option<&str>) -> Self {
        let Some(error) = relay_error(body) else {
            // Not the relay's JSON: a proxy in front of it answered.
            return match status {
                401 | 403 => LookupError::SignInExpired,
                502..=504 => {
                    LookupError::Network(format!("the relay is unreachable (HTTP {status})"))
                }
                _ => LookupError::Unexpected(format!("HTTP {status} without an explanation")),
            };
        };
        let Some(code) = ErrorCode::parse(&error.code) else {
            // A newer relay's code: said as it is, for the team that runs it.
            return LookupError::Unexpected(format!("{} ({})", error.message, error.code));
        };
        // Exhaustive on purpose: a code added to `protocol` must be decided here.
        match code {
            // An app gone from the relay (a link from before a reload): the
            // message names the apps there are.
            ErrorCode::InvalidRequest | ErrorCode::UnknownApp => {
                LookupError::InvalidInput(error.message)
            }
            ErrorCode::ProfileNotFound if error.erased.is_some() => {
                LookupError::Erased(error.erased.unwrap_or_default())
            }
            ErrorCode::ProfileNotFound => LookupError::NotFound {
                kind: lookup.kind,
                email: lookup.id.contains('@'),
                search: Search::NotSetUp,
            },
            ErrorCode::StoreNotConfigured => LookupError::SearchNotSetUp,
            ErrorCode::StoreUnavailable => LookupError::StoreUnavailable,
            ErrorCode::RelayMisconfigured => LookupError::RelayMisconfigured,
            ErrorCode::AuditUnavailable => LookupError::AuditUnavailable,
            ErrorCode::RateLimited | ErrorCode::Busy => LookupError::RateLimited {
                retry_after_secs: retry_after.and_then(|value| value.trim().parse().ok()),
            },
            ErrorCode::Unauthenticated => LookupError::SignInExpired,
            ErrorCode::Forbidden | ErrorCode::HostNotAllowed => LookupError::Forbidden,
            ErrorCode::UpstreamTimeout => LookupError::UpstreamTimeout,
            ErrorCode::UpstreamError | ErrorCode::UpstreamTooLarge => {
                LookupError::UpstreamFailed(error.message)
            }
            // A bug in the relay: its message says so, and to tell the operator.
            ErrorCode::InternalError => LookupError::Unexpected(error.message),
            // The panel asks only for paths and methods that exist, and the
            // change codes answer changes only: one of these means panel and
            // relay are of different versions.
            ErrorCode::NotFound
            | ErrorCode::MethodNotAllowed
            | ErrorCode::ChangesDisabled
            | ErrorCode::ChangesNotAllowed
            | ErrorCode::OutcomeUnknown
            | ErrorCode::AccessLevelUnknown
            | ErrorCode::AccessLevelNotHeld
            | ErrorCode::RevokeAfterExpiry
            | ErrorCode::RevokeInPast => {
                LookupError::Unexpected(format!("{} ({})", error.message, error.code))
            }
        }
    }

    pub fn title(&self) -> String {
        match self {
            LookupError::InvalidInput(_) => "That ID cannot be looked up".into(),
            LookupError::NotFound {
                search: Search::Nothing { query, .. },
                ..
            } => format!("Nothing found for \u{201c}{query}\u{201d}"),
            LookupError::NotFound { kind, .. } => format!("No profile has this {}", kind.label()),
            LookupError::Erased(_) => "This customer was erased".into(),
            LookupError::RelayMisconfigured => "The lookup service is misconfigured".into(),
            LookupError::RateLimited { .. } => "Too many lookups right now".into(),
            LookupError::SignInExpired => "Your sign-in has expired".into(),
            LookupError::Forbidden => "The lookup service refused this request".into(),
            LookupError::UpstreamFailed(_) => "Adapty is not answering properly".into(),
            LookupError::UpstreamTimeout => "Adapty took too long to answer".into(),
            LookupError::Network(_) => "The lookup service cannot be reached".into(),
            LookupError::Offline => "You are offline".into(),
            LookupError::Unexpected(_) => "The answer could not be read".into(),
            LookupError::AuditUnavailable => "Lookups cannot be recorded right now".into(),
            LookupError::SearchNotSetUp => "Search is not set up".into(),
            LookupError::StoreUnavailable => "Search is unavailable right now".into(),
            LookupError::UnknownApp { asked, .. } if asked.is_empty() => {
                "Choose the app to look in".into()
            }
            LookupError::UnknownApp { asked, .. } => {
                format!("There is no app \u{201c}{asked}\u{201d} here")
            }
        }
    }

    /// What the admin can do next.
    pub fn advice(&self) -> String {
        match self {
            LookupError::InvalidInput(message) => {
                format!("{message}. Correct the ID and try again.")
            }
            LookupError::NotFound {
                kind,
                email,
                search,
            } => {
                let typos = format!("Check the ID for typos{}", case_hint(*kind));
                let other = format!(
                    "If you have the customer's {} instead, search by that: anonymous \
                     customers are only found by their profile ID.",
                    kind.other().label()
                );
                match search {
                    Search::NotSetUp if *email => format!("{typos}{}.", email_hint("@")),
                    Search::NotSetUp => format!("{typos}. {other}"),
                    Search::NotAsked => format!(
                        "{typos}. {other} To find the customer by email or transaction ID, \
                         choose \u{201c}{SEARCH_CHOICE}\u{201d} above."
                    ),
                    Search::Unavailable => format!(
                        "{typos}. Search by email and transaction ID could not be used just \
                         now (the relay's store cannot be read), so only the {} was looked \
                         up: try again in a moment.",
                        kind.label()
                    ),
                    Search::Nothing { since, .. } => {
                        let found = match since {
                            Some(date) => format!(
                                "Customers are found once they have an event after {date}, \
                                 or by their ID"
                            ),
                            None => "No events have arrived from Adapty yet, so customers are \
                                     found only by their ID"
                                .into(),
                        };
                        format!(
                            "No email, transaction ID, customer user ID or profile ID the relay \
                             knows is this. {found}: check it for typos and letter case \
                             (customer user IDs are case-sensitive)."
                        )
                    }
                }
            }
            LookupError::Erased(_) => "Adapty no longer has this customer. Their history \
                comes back only if the same store account buys or restores again."
                .into(),
            LookupError::RelayMisconfigured => {
                "This is not something you did: Adapty rejected the service's API key. \
                 Please tell the team that runs this tool."
                    .into()
            }
            LookupError::RateLimited {
                retry_after_secs: Some(seconds),
            } => format!("Try again in {seconds} seconds."),
            LookupError::RateLimited { .. } => "Wait a minute, then try again.".into(),
            LookupError::SignInExpired => {
                "Sign in again: the page reloads, and once you are signed in it repeats this lookup."
                    .into()
            }
            LookupError::Forbidden => "Reload the page and try again from this tab.".into(),
            LookupError::UpstreamFailed(detail) => {
                format!("{detail}. This is usually brief: try again in a moment.")
            }
            LookupError::UpstreamTimeout => "Try again in a moment.".into(),
            LookupError::Network(detail) => {
                format!("Check your connection or VPN, then try again ({detail}).")
            }
            LookupError::Offline => {
                "Your browser has no network connection. Reconnect, then try again.".into()
            }
            LookupError::Unexpected(detail) => {
                format!("{detail}. If it keeps happening, tell the team that runs this tool.")
            }
            LookupError::AuditUnavailable => "The audit log cannot be written; nothing was \
                looked up. Tell the team that runs this tool."
                .into(),
            LookupError::SearchNotSetUp => format!(
                "This relay keeps no record of Adapty's events, so customers are found only by \
                 their customer user ID or profile ID; {README_SEARCH}, says how to set search \
                 up. Find one of those IDs in Adapty's dashboard (Profiles), and look up that."
            ),
            LookupError::StoreUnavailable => "The relay's record of Adapty's events cannot be \
                read just now. Try again in a moment, or look the customer up by their \
                customer user ID or profile ID."
                .into(),
            LookupError::UnknownApp { asked, apps } => {
                let mut text = String::from(if asked.is_empty() {
                    "Nothing was looked up. "
                } else {
                    "The link may be old or mistyped; nothing was looked up. "
                });
                text += "Look this customer up in ";
                for (n, (_, name)) in apps.iter().enumerate() {
                    if n > 0 {
                        text += if n + 1 == apps.len() { " or " } else { ", " };
                    }
                    text += name;
                }
                text + ", or choose the app above."
            }
        }
    }

    /// This error, a "not found" saying what `search` said before it.
    pub fn searched(self, search: Search) -> LookupError {
        match self {
            LookupError::NotFound { kind, email, .. } => LookupError::NotFound {
                kind,
                email,
                search,
            },
            other => other,
        }
    }

    /// Whether pressing "Try again" unchanged can help.
    pub fn can_retry(&self) -> bool {
        !matches!(
            self,
            LookupError::InvalidInput(_)
                | LookupError::NotFound { .. }
                | LookupError::Erased(_)
                | LookupError::UnknownApp { .. }
                | LookupError::SearchNotSetUp
                | LookupError::RelayMisconfigured
                | LookupError::SignInExpired
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(id: &str) -> Lookup {
        Lookup::from_input(IdKind::CustomerUserId, id).unwrap()
    }

    fn relay(status: u16, code: &str) -> LookupError {
        let body =
            format!(r#"{{"error":{{"code":"{code}","message":"profile_id must be a UUID"}}}}"#);
        LookupError::from_relay(status, &body, &lookup("u1"), Some("30"))
    }

    #[test]
    fn an_unknown_app_is_named_and_the_apps_are_offered_by_name() {
        let apps = vec![
            ("main".to_owned(), "Main app".to_owned()),
            ("kids".to_owned(), "Kids app".to_owned()),
        ];
        let unknown = LookupError::UnknownApp {
            asked: "nosuch".into(),
            apps: apps.clone(),
        };
        assert_eq!(
            unknown.title(),
            "There is no app \u{201c}nosuch\u{201d} here"
        );
        assert_eq!(
            unknown.advice(),
            "The link may be old or mistyped; nothing was looked up. Look this customer up in \
             Main app or Kids app, or choose the app above."
        );
        assert!(!unknown.can_retry(), "the same app again cannot help");
        let none = LookupError::UnknownApp {
            asked: String::new(),
            apps,
        };
        assert_eq!(none.title(), "Choose the app to look in");
        assert!(none
            .advice()
            .starts_with("Nothing was looked up. Look this customer up in"));
    }

    /// Issue 22: a customer the relay's store remembers erasing is not
    /// "not found" to check for typos, but erased, with when and by whom.
    #[test]
    fn a_customer_the_relay_erased_is_said_to_be_erased() {
        let body = r#"{"error":{"code":"profile_not_found","message":"no profile has this customer user ID","erased":{"at":"2026-12-07T04:12:00Z","by":"ana@example.com"}}}"#;
        let error = LookupError::from_relay(404, body, &lookup("demo-scheduled"), None);
        assert_eq!(
            error,
            LookupError::Erased(ErasureRecord {
                at: "2026-12-07T04:12:00Z".into(),
                by: "ana@example.com".into(),
            })
        );
        assert_eq!(error.title(), "This customer was erased");
        assert_eq!(
            error.advice(),
            "Adapty no longer has this customer. Their history comes back only if the same \
             store account buys or restores again."
        );
        assert!(!error.can_retry());
        // Without the record (no store, or it forgot): an ordinary not-found.
        assert!(matches!(
            relay(404, "profile_not_found"),
            LookupError::NotFound { .. }
        ));
    }

    #[test]
    fn each_relay_code_is_its_own_error() {
        assert_eq!(
            relay(400, "invalid_request"),
            LookupError::InvalidInput("profile_id must be a UUID".into())
        );
        assert_eq!(
            relay(404, "profile_not_found"),
            LookupError::NotFound {
                kind: IdKind::CustomerUserId,
                email: false,
                search: Search::NotSetUp,
            }
        );
        let unindexed = relay(404, "store_not_configured");
        assert_eq!(unindexed, LookupError::SearchNotSetUp);
        assert_eq!(unindexed.title(), "Search is not set up");
        assert!(
            unindexed
                .advice()
                .contains("README, section \u{201c}Search and Adapty's events\u{201d}"),
            "{}",
            unindexed.advice()
        );
        assert!(
            !unindexed.can_retry(),
            "it stays off until the operator sets it up"
        );
        let unreadable = relay(503, "store_unavailable");
        assert_eq!(unreadable, LookupError::StoreUnavailable);
        assert_eq!(unreadable.title(), "Search is unavailable right now");
        assert!(unreadable.can_retry());
        assert_eq!(
            relay(502, "relay_misconfigured"),
            LookupError::RelayMisconfigured
        );
        let unaudited = relay(503, "audit_unavailable");
        assert_eq!(unaudited, LookupError::AuditUnavailable);
        assert_eq!(
            unaudited.advice(),
            "The audit log cannot be written; nothing was looked up. Tell the team that runs this tool."
        );
        assert_eq!(
            relay(429, "rate_limited"),
            LookupError::RateLimited {
                retry_after_secs: Some(30)
            }
        );
        assert_eq!(relay(504, "upstream_timeout"), LookupError::UpstreamTimeout);
        assert!(matches!(
            relay(502, "upstream_error"),
            LookupError::UpstreamFailed(_)
        ));
        assert!(matches!(
            relay(500, "something_new"),
            LookupError::Unexpected(_)
        ));
    }

    #[test]
    fn every_code_the_relay_can_send_is_understood() {
        for &code in ErrorCode::ALL {
            let error = relay(400, code.as_str());
            let expected_unexpected = matches!(
                code,
                ErrorCode::NotFound
                    | ErrorCode::MethodNotAllowed
                    | ErrorCode::InternalError
                    | ErrorCode::ChangesDisabled
                    | ErrorCode::ChangesNotAllowed
                    | ErrorCode::OutcomeUnknown
                    | ErrorCode::AccessLevelUnknown
                    | ErrorCode::AccessLevelNotHeld
                    | ErrorCode::RevokeAfterExpiry
                    | ErrorCode::RevokeInPast
            );
            assert_eq!(
                matches!(error, LookupError::Unexpected(_)),
                expected_unexpected,
                "{code:?} became {error:?}"
            );
        }
    }

    #[test]
    fn a_proxy_page_instead_of_relay_json_is_still_explained() {
        let gateway = LookupError::from_relay(502, "<html>Bad Gateway</html>", &lookup("u"), None);
        assert!(matches!(gateway, LookupError::Network(_)));
        for status in [401, 403] {
            let sso = LookupError::from_relay(status, "", &lookup("u"), None);
            assert_eq!(sso, LookupError::SignInExpired, "{status}");
        }
        assert_eq!(relay(401, "unauthenticated"), LookupError::SignInExpired);
        // The relay's own 403 (a cross-site call) is not about signing in.
        assert_eq!(relay(403, "forbidden"), LookupError::Forbidden);
        assert!(!LookupError::SignInExpired.can_retry());
    }

    #[test]
    fn not_found_suggests_the_other_kind_of_id() {
        let not_found = |kind| LookupError::NotFound {
            kind,
            email: false,
            search: Search::NotSetUp,
        };
        let advice = not_found(IdKind::CustomerUserId).advice();
        assert!(advice.contains("profile ID"), "{advice}");
        assert!(advice.contains("case-sensitive"), "{advice}");
        let advice = not_found(IdKind::ProfileId).advice();
        assert!(advice.contains("customer user ID"), "{advice}");
        assert!(
            !advice.contains("case"),
            "a profile ID reads either way: {advice}"
        );
        assert!(!advice.contains("email"), "{advice}");
    }

    #[test]
    fn an_email_that_is_not_a_customer_user_id_says_search_is_not_set_up() {
        let body = r#"{"error":{"code":"profile_not_found","message":"no profile"}}"#;
        let error = LookupError::from_relay(404, body, &lookup("ann@example.com"), None);
        assert_eq!(error.title(), "No profile has this customer user ID");
        assert_eq!(
            error.advice(),
            "Check the ID for typos and letter case: customer user IDs are case-sensitive, so \
             DEMO-1 and demo-1 are different customers. The panel cannot search by email here: \
             this relay keeps no record of Adapty's events (README, section \u{201c}Search and \
             Adapty's events\u{201d}). An email finds a customer only if the app uses emails as \
             its customer user IDs. Find the customer user ID or the profile ID in Adapty's \
             dashboard (Profiles) or in the app's own account screen, and look up that."
        );
    }

    fn not_found(search: Search) -> LookupError {
        LookupError::NotFound {
            kind: IdKind::CustomerUserId,
            email: false,
            search,
        }
    }

    #[test]
    fn a_search_that_found_nothing_says_what_was_searched_and_since_when() {
        let nothing = not_found(Search::Nothing {
            query: "ann@example.com".into(),
            since: Some("3 Nov 2026".into()),
        });
        assert_eq!(
            nothing.title(),
            "Nothing found for \u{201c}ann@example.com\u{201d}"
        );
        assert_eq!(
            nothing.advice(),
            "No email, transaction ID, customer user ID or profile ID the relay knows is this. \
             Customers are found once they have an event after 3 Nov 2026, or by their ID: \
             check it for typos and letter case (customer user IDs are case-sensitive)."
        );
        assert!(!nothing.can_retry());
        let empty = not_found(Search::Nothing {
            query: "ann@example.com".into(),
            since: None,
        });
        assert!(
            empty.advice().contains(
                "No events have arrived from Adapty yet, so customers are found only by their ID"
            ),
            "{}",
            empty.advice()
        );
    }

    #[test]
    fn what_search_said_is_kept_on_a_not_found_only() {
        let said = Search::Unavailable;
        assert_eq!(
            not_found(Search::NotSetUp).searched(said.clone()),
            not_found(said.clone())
        );
        assert_eq!(LookupError::Offline.searched(said), LookupError::Offline);
    }

    #[test]
    fn a_lookup_without_search_says_how_to_search_or_why_it_was_not_used() {
        let asked = not_found(Search::NotAsked).advice();
        assert!(
            asked.ends_with(
                "To find the customer by email or transaction ID, choose \u{201c}Email, \
                 transaction ID or ID\u{201d} above."
            ),
            "{asked}"
        );
        let down = not_found(Search::Unavailable).advice();
        assert!(
            down.contains("could not be used just now (the relay's store cannot be read), so only the customer user ID was looked up"),
            "{down}"
        );
        assert_eq!(
            not_found(Search::NotAsked).title(),
            "No profile has this customer user ID"
        );
    }

    #[test]
    fn misconfiguration_does_not_blame_the_admin_and_is_not_retryable() {
        let error = LookupError::RelayMisconfigured;
        assert!(error.advice().contains("not something you did"));
        assert!(!error.can_retry());
        assert!(LookupError::UpstreamTimeout.can_retry());
    }
}
