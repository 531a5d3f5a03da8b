//! What an admin may ask: one profile, by exactly one kind of ID (a change
//! names its customer under the same rules).
//!
//! Everything is checked here, before any byte goes to Adapty.

use crate::error::RelayError;
use axum::http::{HeaderName, HeaderValue};
use protocol::param;
use uuid::Uuid;

/// Adapty's customer user IDs are the app's own; 512 bytes is far beyond any
/// real one and keeps the upstream header small.
pub const MAX_CUSTOMER_USER_ID_BYTES: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    CustomerUserId(String),
    ProfileId(Uuid),
}

impl Lookup {
    /// Reads the query string of `GET /api/profile`: exactly one of
    /// `customer_user_id` or `profile_id`, once, and at most one `app`
    /// (returned beside the lookup, for `apps` to judge), nothing else.
    pub fn from_query(query: Option<&str>) -> Result<(Lookup, Option<String>), RelayError> {
        let mut found: Option<(String, String)> = None;
        let mut app = None;
        for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if name == param::APP {
                if app.replace(value.into_owned()).is_some() {
                    return Err(invalid(format!("{name} is given more than once")));
                }
                continue;
            }
            if name != param::CUSTOMER_USER_ID && name != param::PROFILE_ID {
                return Err(invalid(format!(
                    "unknown parameter {name:?}; use customer_user_id or profile_id, and app"
                )));
            }
            if let Some((first, _)) = &found {
                return Err(invalid(if *first == name {
                    format!("{name} is given more than once")
                } else {
                    "give either customer_user_id or profile_id, not both".into()
                }));
            }
            found = Some((name.into_owned(), value.into_owned()));
        }
        let lookup = match found {
            None => Err(invalid("give customer_user_id or profile_id".into())),
            Some((name, value)) if name == param::PROFILE_ID => parse_profile_id(&value),
            Some((_, value)) => parse_customer_user_id(value),
        }?;
        Ok((lookup, app))
    }

    /// The customer a change's body names, by exactly one of the two IDs,
    /// under the same rules as a lookup's.
    pub fn from_ids(
        customer_user_id: Option<String>,
        profile_id: Option<String>,
    ) -> Result<Lookup, RelayError> {
        match (customer_user_id, profile_id) {
            (Some(_), Some(_)) => Err(invalid(
                "give either customer_user_id or profile_id, not both".into(),
            )),
            (None, None) => Err(invalid("give customer_user_id or profile_id".into())),
            (Some(id), None) => parse_customer_user_id(id),
            (None, Some(id)) => parse_profile_id(&id),
        }
    }

    /// The ID as Adapty receives it.
    pub fn id(&self) -> String {
        match self {
            Lookup::CustomerUserId(id) => id.clone(),
            Lookup::ProfileId(id) => id.hyphenated().to_string(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Lookup::CustomerUserId(_) => param::CUSTOMER_USER_ID,
            Lookup::ProfileId(_) => param::PROFILE_ID,
        }
    }

    /// The one identity header Adapty expects.
    pub fn header(&self) -> (HeaderName, HeaderValue) {
        match self {
            Lookup::CustomerUserId(id) => (
                HeaderName::from_static("adapty-customer-user-id"),
                // Validated as printable ASCII, which every header accepts.
                HeaderValue::from_str(id).expect("validated customer user ID"),
            ),
            Lookup::ProfileId(id) => (
                HeaderName::from_static("adapty-profile-id"),
                HeaderValue::from_str(&id.hyphenated().to_string()).expect("a UUID is ASCII"),
            ),
        }
    }
}

fn invalid(message: String) -> RelayError {
    RelayError::InvalidRequest(message)
}

fn parse_profile_id(value: &str) -> Result<Lookup, RelayError> {
    // Only the usual hyphenated form: the braced and URN forms that the uuid
    // crate also reads are not what an admin copies from Adapty.
    match Uuid::try_parse(value) {
        Ok(id) if value.len() == 36 => Ok(Lookup::ProfileId(id)),
        _ => Err(invalid(
            "profile_id must be a UUID such as d8533a10-bcce-4e33-8c9d-88b05ac56559".into(),
        )),
    }
}

/// Printable ASCII only. Adapty receives the ID in an HTTP header, and
/// headers carry no defined encoding beyond ASCII: a non-ASCII ID would reach
/// Adapty as bytes it may decode differently than the app stored it, so it is
/// refused with an explanation rather than silently mangled.
fn parse_customer_user_id(value: String) -> Result<Lookup, RelayError> {
    if value.is_empty() {
        return Err(invalid("customer_user_id is empty".into()));
    }
    if value.len() > MAX_CUSTOMER_USER_ID_BYTES {
        return Err(invalid(format!(
            "customer_user_id is longer than {MAX_CUSTOMER_USER_ID_BYTES} bytes"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            "customer_user_id contains a control character (such as a tab or line break)".into(),
        ));
    }
    if !value.is_ascii() {
        return Err(invalid(
            "customer_user_id contains a non-ASCII character; Adapty receives IDs in an HTTP header, \
             which carries ASCII only"
                .into(),
        ));
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err(invalid(
            "customer_user_id starts or ends with a space".into(),
        ));
    }
    Ok(Lookup::CustomerUserId(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(query: &str) -> String {
        match Lookup::from_query(Some(query)) {
            Err(RelayError::InvalidRequest(message)) => message,
            other => panic!("{query:?} should be invalid, got {other:?}"),
        }
    }

    #[test]
    fn reads_each_kind_of_id() {
        assert_eq!(
            Lookup::from_query(Some("customer_user_id=77B14FB4%20x")).unwrap(),
            (Lookup::CustomerUserId("77B14FB4 x".into()), None)
        );
        let (by_profile, app) = Lookup::from_query(Some(
            "app=kids&profile_id=D8533A10-BCCE-4E33-8C9D-88B05AC56559",
        ))
        .unwrap();
        assert_eq!(app.as_deref(), Some("kids"));
        // Forwarded in Adapty's own lower-case spelling.
        assert_eq!(
            by_profile.header().1,
            "d8533a10-bcce-4e33-8c9d-88b05ac56559"
        );
        assert_eq!(by_profile.header().0, "adapty-profile-id");
    }

    #[test]
    fn the_shape_of_the_query_is_checked() {
        assert!(message("").contains("give customer_user_id or profile_id"));
        assert!(message("customer_user_id=a&profile_id=b").contains("not both"));
        assert!(message("customer_user_id=a&customer_user_id=b").contains("more than once"));
        assert!(message("customer_user_id=a&debug=1").contains("unknown parameter \"debug\""));
        assert!(message("customer_user_id=a&app=x&app=y").contains("app is given more than once"));
    }

    #[test]
    fn bad_ids_are_refused_with_the_reason() {
        assert!(message("customer_user_id=").contains("empty"));
        assert!(message("customer_user_id=a%0Ab").contains("control character"));
        assert!(message("customer_user_id=a%09b").contains("control character"));
        assert!(message("customer_user_id=a%00b").contains("control character"));
        assert!(message("customer_user_id=%20a").contains("space"));
        assert!(message("customer_user_id=%C3%A9l%C3%A8ve").contains("non-ASCII"));
        let long = "x".repeat(MAX_CUSTOMER_USER_ID_BYTES + 1);
        assert!(message(&format!("customer_user_id={long}")).contains("longer than 512"));
        let longest = "x".repeat(MAX_CUSTOMER_USER_ID_BYTES);
        assert!(Lookup::from_query(Some(&format!("customer_user_id={longest}"))).is_ok());
        assert!(message("profile_id=not-a-uuid").contains("must be a UUID"));
        assert!(message("profile_id=d8533a10bcce4e338c9d88b05ac56559").contains("must be a UUID"));
    }
}
