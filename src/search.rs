//! Finding the customer from what a ticket holds: the relay's store is
//! searched (`GET api/search`) for an email, a transaction ID or an ID,
//! and its answer decides what the panel does next.
//!
//! The rules:
//!
//! - **One match** opens that customer: by the customer user ID when that
//!   is what matched (the URL keeps what was typed), else by the profile ID.
//! - **Several** are listed to pick from: email, customer user ID, last seen.
//! - **None**: the text is looked up as an ID when it can be one (a
//!   lower-case UUID as a profile ID, as Adapty writes them; anything else
//!   the panel can ask as a customer user ID), and if that finds no one
//!   either, the panel says what was searched and since when the store
//!   holds events. An email is never a profile ID, but some apps use
//!   emails as customer user IDs.
//! - **Search not possible** (no store after all, or it cannot be read):
//!   the same lookup of the text as an ID, and a "not found" says why
//!   search did not help.

use crate::error::{LookupError, Search};
use crate::format::Clock;
use crate::lookup::{IdKind, Lookup};
use crate::model::{Loose, Timestamp};
use protocol::feed::{matched, SearchAnswer, SearchMatch};

/// Whether `text` reads as an email address: one `@` with something on
/// both sides, the domain with a dot, no spaces.
pub fn looks_like_email(text: &str) -> bool {
    match text.trim().split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !text.trim().contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The store's answer in protocol's shape, read from its JSON field by
/// field (serde's derive would weigh more of the panel's wasm).
pub fn read_answer(json: &Loose) -> SearchAnswer {
    SearchAnswer {
        matches: json
            .get("matches")
            .items()
            .iter()
            .map(|found| SearchMatch {
                profile_id: found.string("profile_id").unwrap_or_default(),
                customer_user_id: found.string("customer_user_id"),
                email: found.string("email"),
                matched: found.string("matched").unwrap_or_default(),
                last_seen_at: found.string("last_seen_at").unwrap_or_default(),
            })
            .collect(),
        indexed_since: json.string("indexed_since"),
    }
}

/// What a search's answer leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// One customer: look them up.
    Open(Lookup),
    /// Several: the admin picks one.
    Pick(Vec<Choice>),
    /// No one: look the text up as an ID when it can be one (`None`: it
    /// cannot), and if that finds no one either, say `search`.
    LookUp(Option<Lookup>, Search),
}

/// One customer of several, as the pick list shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub lookup: Lookup,
    /// "none" when the store knows no email for them.
    pub email: String,
    /// "none (anonymous)" when they have none.
    pub customer_user_id: String,
    pub profile_id: String,
    /// "28 Nov 2026 (2 days ago)", in the admin's zone.
    pub last_seen: String,
    /// Which of their identifiers is what was searched: "transaction ID".
    pub matched: String,
}

/// What the panel does with the store's answer to a search for `text`
/// in `app`.
pub fn next(answer: SearchAnswer, text: &str, app: &str, clock: &Clock) -> Next {
    match &answer.matches[..] {
        [] => {
            let since = answer
                .indexed_since
                .as_deref()
                .map(|since| date(since, clock));
            let search = Search::Nothing {
                query: text.trim().into(),
                since,
            };
            Next::LookUp(as_id(text, app), search)
        }
        [one] => Next::Open(lookup_of(one, app)),
        several => Next::Pick(
            several
                .iter()
                .map(|found| Choice {
                    lookup: lookup_of(found, app),
                    email: found.email.clone().unwrap_or_else(|| "none".into()),
                    customer_user_id: found
                        .customer_user_id
                        .clone()
                        .unwrap_or_else(|| "none (anonymous)".into()),
                    profile_id: found.profile_id.clone(),
                    last_seen: date_with_relative(&found.last_seen_at, clock),
                    matched: matched_words(&found.matched),
                })
                .collect(),
        ),
    }
}

/// When search could not be used (`error`): the lookup of the text as
/// an ID and what a "not found" says of search, or `None` when the error
/// is the answer (the sign-in expired, too many requests, no network).
pub fn without_search(error: &LookupError, text: &str, app: &str) -> Option<Next> {
    let search = match error {
        LookupError::SearchNotSetUp => Search::NotSetUp,
        LookupError::StoreUnavailable => Search::Unavailable,
        _ => return None,
    };
    let lookup = as_id(text, app)?;
    Some(Next::LookUp(Some(lookup), search))
}

/// The text read as an ID, when the panel can ask it: a lower-case UUID
/// is a profile ID (Adapty writes them so; a customer user ID may be an
/// upper-case one), anything else a customer user ID.
pub fn as_id(text: &str, app: &str) -> Option<Lookup> {
    let ask = |kind| {
        let lookup = Lookup {
            app: app.into(),
            ..Lookup::from_input(kind, text)?
        };
        lookup.check().is_ok().then_some(lookup)
    };
    let upper = text.contains(|c: char| c.is_ascii_uppercase());
    let profile = if upper { None } else { ask(IdKind::ProfileId) };
    profile.or_else(|| ask(IdKind::CustomerUserId))
}

/// The lookup of a customer the store found: by the customer user ID
/// when that is what matched, else by the profile ID.
fn lookup_of(found: &SearchMatch, app: &str) -> Lookup {
    let (kind, id) = match (&found.customer_user_id, found.matched.as_str()) {
        (Some(id), matched::CUSTOMER_USER_ID) => (IdKind::CustomerUserId, id),
        _ => (IdKind::ProfileId, &found.profile_id),
    };
    Lookup {
        kind,
        id: id.clone(),
        app: app.into(),
    }
}

fn matched_words(kind: &str) -> String {
    match kind {
        matched::EMAIL => "email".into(),
        matched::TRANSACTION_ID => "transaction ID".into(),
        matched::ORIGINAL_TRANSACTION_ID => "original transaction ID".into(),
        matched::CUSTOMER_USER_ID => "customer user ID".into(),
        matched::PROFILE_ID => "profile ID".into(),
        other => other.into(),
    }
}

/// A date of the store, as the admin reads it; verbatim when unreadable.
fn date(text: &str, clock: &Clock) -> String {
    match Timestamp::parse(text) {
        Timestamp::At(at) => clock.date(at),
        Timestamp::Unreadable(raw) => raw,
    }
}

fn date_with_relative(text: &str, clock: &Clock) -> String {
    match Timestamp::parse(text) {
        Timestamp::At(at) => clock.date_with_relative(at),
        Timestamp::Unreadable(raw) => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn clock() -> Clock {
        Clock::in_utc(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap())
    }

    const PROFILE: &str = "d8533a10-bcce-4e33-8c9d-88b05ac56559";
    const OTHER: &str = "5e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

    fn found(profile_id: &str, user: Option<&str>, matched: &str) -> SearchMatch {
        SearchMatch {
            profile_id: profile_id.into(),
            customer_user_id: user.map(Into::into),
            email: Some("ann@example.com".into()),
            matched: matched.into(),
            last_seen_at: "2026-11-26T12:00:00Z".into(),
        }
    }

    fn answer(matches: Vec<SearchMatch>, since: Option<&str>) -> SearchAnswer {
        SearchAnswer {
            matches,
            indexed_since: since.map(Into::into),
        }
    }

    fn lookup(kind: IdKind, id: &str, app: &str) -> Lookup {
        Lookup {
            kind,
            id: id.into(),
            app: app.into(),
        }
    }

    #[test]
    fn emails_are_told_from_ids() {
        for email in ["ann@example.com", " Ann.Lee+x@mail.example.co.uk "] {
            assert!(looks_like_email(email), "{email}");
        }
        for id in [
            "ann",
            "@example.com",
            "ann@localhost",
            "a b@example.com",
            "a@b@example.com",
            PROFILE,
            "1000000123456789",
        ] {
            assert!(!looks_like_email(id), "{id}");
        }
    }

    #[test]
    fn one_match_opens_the_customer_by_profile_id_or_by_the_id_typed() {
        let by_email = answer(vec![found(PROFILE, Some("u1"), matched::EMAIL)], None);
        assert_eq!(
            next(by_email, "ann@example.com", "kids", &clock()),
            Next::Open(lookup(IdKind::ProfileId, PROFILE, "kids"))
        );
        let by_transaction = answer(vec![found(PROFILE, None, matched::TRANSACTION_ID)], None);
        assert_eq!(
            next(by_transaction, "1000000123", "", &clock()),
            Next::Open(lookup(IdKind::ProfileId, PROFILE, ""))
        );
        // A customer user ID typed stays one: the URL names what was asked.
        let by_id = answer(
            vec![found(
                PROFILE,
                Some("demo-expired"),
                matched::CUSTOMER_USER_ID,
            )],
            None,
        );
        assert_eq!(
            next(by_id, "demo-expired", "", &clock()),
            Next::Open(lookup(IdKind::CustomerUserId, "demo-expired", ""))
        );
    }

    #[test]
    fn several_matches_are_listed_with_email_user_and_last_seen() {
        let two = answer(
            vec![
                found(PROFILE, Some("u1"), matched::EMAIL),
                SearchMatch {
                    email: None,
                    ..found(OTHER, None, "some_new_kind")
                },
            ],
            None,
        );
        let Next::Pick(choices) = next(two, "ann@example.com", "", &clock()) else {
            panic!("a list to pick from");
        };
        assert_eq!(
            choices[0],
            Choice {
                lookup: lookup(IdKind::ProfileId, PROFILE, ""),
                email: "ann@example.com".into(),
                customer_user_id: "u1".into(),
                profile_id: PROFILE.into(),
                last_seen: "26 Nov 2026 (2 days ago)".into(),
                matched: "email".into(),
            }
        );
        assert_eq!(
            (
                choices[1].email.as_str(),
                choices[1].customer_user_id.as_str(),
                choices[1].matched.as_str()
            ),
            ("none", "none (anonymous)", "some_new_kind")
        );
    }

    #[test]
    fn no_match_looks_the_text_up_as_an_id_and_says_since_when_customers_are_found() {
        let none = answer(vec![], Some("2026-11-03T08:00:00Z"));
        let since = Search::Nothing {
            query: "demo-gone".into(),
            since: Some("3 Nov 2026".into()),
        };
        assert_eq!(
            next(none.clone(), " demo-gone ", "", &clock()),
            Next::LookUp(Some(lookup(IdKind::CustomerUserId, "demo-gone", "")), since)
        );
        // A profile ID as Adapty writes it; an upper-case UUID may be a customer user ID.
        let Next::LookUp(Some(as_profile), _) = next(none.clone(), PROFILE, "", &clock()) else {
            panic!("looked up");
        };
        assert_eq!(as_profile.kind, IdKind::ProfileId);
        let upper = PROFILE.to_uppercase();
        let Next::LookUp(Some(as_user), _) = next(none.clone(), &upper, "", &clock()) else {
            panic!("looked up");
        };
        assert_eq!(as_user.kind, IdKind::CustomerUserId);
        // Nothing the panel can ask: no lookup, only what was searched.
        assert_eq!(
            next(answer(vec![], None), "josé@example.com", "", &clock()),
            Next::LookUp(
                None,
                Search::Nothing {
                    query: "josé@example.com".into(),
                    since: None
                }
            )
        );
    }

    #[test]
    fn search_not_possible_falls_back_to_the_id_and_other_errors_are_the_answer() {
        assert_eq!(
            without_search(&LookupError::SearchNotSetUp, "demo-x", ""),
            Some(Next::LookUp(
                Some(lookup(IdKind::CustomerUserId, "demo-x", "")),
                Search::NotSetUp
            ))
        );
        assert_eq!(
            without_search(&LookupError::StoreUnavailable, "demo-x", "main"),
            Some(Next::LookUp(
                Some(lookup(IdKind::CustomerUserId, "demo-x", "main")),
                Search::Unavailable
            ))
        );
        assert_eq!(
            without_search(&LookupError::StoreUnavailable, "josé@example.com", ""),
            None,
            "nothing to look up: the error is the answer"
        );
        assert_eq!(
            without_search(
                &LookupError::RateLimited {
                    retry_after_secs: None
                },
                "x",
                ""
            ),
            None
        );
    }

    #[test]
    fn an_answer_as_the_relay_writes_it_reads_back_whole() {
        let answer = answer(
            vec![
                found(PROFILE, Some("u1"), matched::EMAIL),
                SearchMatch {
                    email: None,
                    ..found(OTHER, None, matched::TRANSACTION_ID)
                },
            ],
            Some("2026-11-03T08:00:00Z"),
        );
        let json: Loose = serde_json::from_str(&serde_json::to_string(&answer).unwrap()).unwrap();
        assert_eq!(read_answer(&json), answer);
        assert_eq!(read_answer(&Loose::Null), SearchAnswer::default());
    }
}
