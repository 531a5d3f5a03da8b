//! What may be asked of the store: a search (`q`), a customer's events
//! (`profile_id`, `before`) and their notes (`profile_id`), each with at
//! most one `app`, nothing else.
//! Checked here, before the store is asked.

use super::lookup::Lookup;
use crate::error::RelayError;
use crate::store::cursor::Cursor;
use protocol::param;

/// Longer than any email address (254) or store transaction ID.
pub const MAX_QUERY_CHARS: usize = 256;

/// A search's text, trimmed.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub text: String,
}

/// One page of a customer's events.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsAsked {
    /// Hyphenated lower case, as the store keeps it.
    pub profile_id: String,
    pub before: Option<Cursor>,
}

/// A customer's notes.
#[derive(Debug, Clone, PartialEq)]
pub struct NotesAsked {
    /// Hyphenated lower case, as the store keeps it.
    pub profile_id: String,
}

fn invalid(message: String) -> RelayError {
    RelayError::InvalidRequest(message)
}

/// The query's parameters among `names`, each at most once; `app` too.
fn parameters<const N: usize>(
    query: Option<&str>,
    names: [&str; N],
) -> Result<([Option<String>; N], Option<String>), RelayError> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    let mut app = None;
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let slot = match names.iter().position(|known| *known == name) {
            Some(index) => &mut values[index],
            None if name == param::APP => &mut app,
            None => {
                return Err(invalid(format!(
                    "unknown parameter {name:?}; use {} and {}",
                    names.join(", "),
                    param::APP
                )))
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(invalid(format!("{name} is given more than once")));
        }
    }
    Ok((values, app))
}

impl Search {
    pub fn from_query(query: Option<&str>) -> Result<(Search, Option<String>), RelayError> {
        let ([text], app) = parameters(query, [param::QUERY])?;
        let text = text.unwrap_or_default().trim().to_owned();
        if text.is_empty() {
            return Err(invalid(format!(
                "give {}: an email address, a transaction ID, a customer user ID or a profile ID",
                param::QUERY
            )));
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(invalid(format!(
                "{} is longer than {MAX_QUERY_CHARS} characters: no identifier is",
                param::QUERY
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(invalid(format!(
                "{} contains a control character (a line break or tab?): no identifier does",
                param::QUERY
            )));
        }
        // Pasted from a ticket or a mail, an invisible character would
        // make an exact match fail silently: named, so it can be removed.
        if let Some(hidden) = text
            .chars()
            .find(|c| protocol::reason::is_format_or_ignorable(*c))
        {
            return Err(invalid(format!(
                "{} contains an invisible character (U+{:04X}); remove it and search again",
                param::QUERY,
                hidden as u32
            )));
        }
        Ok((Search { text }, app))
    }
}

impl EventsAsked {
    pub fn from_query(query: Option<&str>) -> Result<(EventsAsked, Option<String>), RelayError> {
        let ([profile_id, before], app) = parameters(query, [param::PROFILE_ID, param::BEFORE])?;
        let Some(profile_id) = profile_id else {
            return Err(invalid(format!("give {}", param::PROFILE_ID)));
        };
        // A profile ID under the lookup's own rule (a UUID).
        let profile_id = Lookup::from_ids(None, Some(profile_id))?.id();
        let before = match before {
            None => None,
            Some(text) => Some(Cursor::decode(&text).ok_or_else(|| {
                invalid(format!(
                    "{} is not a cursor this relay gave (the `next` of an events page)",
                    param::BEFORE
                ))
            })?),
        };
        Ok((EventsAsked { profile_id, before }, app))
    }
}

impl NotesAsked {
    pub fn from_query(query: Option<&str>) -> Result<(NotesAsked, Option<String>), RelayError> {
        let ([profile_id], app) = parameters(query, [param::PROFILE_ID])?;
        let Some(profile_id) = profile_id else {
            return Err(invalid(format!("give {}", param::PROFILE_ID)));
        };
        let profile_id = Lookup::from_ids(None, Some(profile_id))?.id();
        Ok((NotesAsked { profile_id }, app))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal<T: std::fmt::Debug>(result: Result<T, RelayError>) -> String {
        result.unwrap_err().message()
    }

    #[test]
    fn a_search_is_one_trimmed_text_and_an_app() {
        let (search, app) = Search::from_query(Some("q=+Ana%40Example.com+&app=main")).unwrap();
        assert_eq!(search.text, "Ana@Example.com");
        assert_eq!(app.as_deref(), Some("main"));
        assert!(refusal(Search::from_query(None)).contains("give q"));
        assert!(refusal(Search::from_query(Some("q=%20"))).contains("give q"));
        assert!(refusal(Search::from_query(Some("q=a&q=b"))).contains("more than once"));
        assert!(refusal(Search::from_query(Some("q=a&x=1"))).contains("unknown parameter"));
        assert!(refusal(Search::from_query(Some("q=a%0Ab"))).contains("control character"));
        assert!(
            refusal(Search::from_query(Some("q=ana%E2%80%8B%40example.com")))
                .contains("invisible character (U+200B)")
        );
        let long = format!("q={}", "a".repeat(257));
        assert!(refusal(Search::from_query(Some(&long))).contains("longer than 256"));
    }

    #[test]
    fn events_need_a_profile_id_and_take_only_a_cursor_given_before() {
        let (asked, _) =
            EventsAsked::from_query(Some("profile_id=7F1C2D3E-0000-4000-8000-000000000001"))
                .unwrap();
        assert_eq!(asked.profile_id, "7f1c2d3e-0000-4000-8000-000000000001");
        assert!(refusal(EventsAsked::from_query(Some("app=main"))).contains("give profile_id"));
        assert!(!refusal(EventsAsked::from_query(Some("profile_id=nope"))).is_empty());
        assert!(refusal(EventsAsked::from_query(Some(
            "profile_id=7f1c2d3e-0000-4000-8000-000000000001&before=garbage"
        )))
        .contains("not a cursor"));
    }
}
