//! A note to add: the customer by profile ID (notes are kept by it, so a
//! lookup by either ID finds them), the text under the reason's rule with
//! a longer limit, and an optional day to look at the customer again.
//! Read strictly like a change (`fields`).

use super::fields::Fields;
use super::lookup::Lookup;
use crate::error::RelayError;
use chrono::NaiveDate;
use protocol::notes::{field, MAX_TEXT_CHARS};
use protocol::param;
use protocol::reason::{self, ReasonError};

/// The largest body a note may have: a thousand characters in any script.
pub const MAX_BODY_BYTES: usize = super::change::MAX_BODY_BYTES + 4 * MAX_TEXT_CHARS;

/// A checked note, ready for the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNote {
    pub profile_id: String,
    pub text: String,
    /// `YYYY-MM-DD`.
    pub check_on: Option<String>,
}

fn invalid(message: String) -> RelayError {
    RelayError::InvalidRequest(message)
}

impl NewNote {
    /// Reads and checks a body; with the app it names, if any.
    pub fn read(body: &[u8]) -> Result<(NewNote, Option<String>), RelayError> {
        let allowed = [param::APP, param::PROFILE_ID, field::TEXT, field::CHECK_ON];
        let mut fields = Fields::read(body, &allowed, "note")?;
        let profile_id = fields.required(param::PROFILE_ID)?;
        let profile_id = match Lookup::from_ids(None, Some(profile_id))? {
            Lookup::ProfileId(id) => id.hyphenated().to_string(),
            Lookup::CustomerUserId(_) => unreachable!("read from a profile ID"),
        };
        let text = text_checked(&fields.required(field::TEXT)?)?;
        let check_on = fields
            .text(field::CHECK_ON)?
            .map(|day| {
                NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                    .ok()
                    .filter(|date| (2000..=2999).contains(&chrono::Datelike::year(date)))
                    .map(|date| date.format("%Y-%m-%d").to_string())
                    .ok_or_else(|| {
                        invalid(format!(
                            "{} must be a day as YYYY-MM-DD, such as 2026-12-24",
                            field::CHECK_ON
                        ))
                    })
            })
            .transpose()?;
        let note = NewNote {
            profile_id,
            text,
            check_on,
        };
        Ok((note, fields.text(param::APP)?))
    }
}

/// The reason's rule, a note's length: trimmed, at least one visible
/// character, no control (but line breaks and tabs), format or separator.
fn text_checked(text: &str) -> Result<String, RelayError> {
    let name = field::TEXT;
    reason::check_within(text, MAX_TEXT_CHARS, 1)
        .map(str::to_owned)
        .map_err(|error| {
            invalid(match error {
                ReasonError::TooShort { .. } => format!("{name} is empty"),
                ReasonError::TooLong { chars } => {
                    format!("{name} must be at most {MAX_TEXT_CHARS} characters; it is {chars}")
                }
                // The rest say what is wrong in the reason's words, renamed.
                other => other.to_string().replacen(protocol::field::REASON, name, 1),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: serde_json::Value) -> Result<NewNote, RelayError> {
        NewNote::read(body.to_string().as_bytes()).map(|(note, _)| note)
    }

    #[test]
    fn a_note_is_checked_with_the_field_named() {
        let id = "D8533A10-BCCE-4E33-8C9D-88B05AC56559";
        let note = read(
            json!({"profile_id": id, "text": "  granted 7 days (store outage) ",
            "check_on": "2026-12-10"}),
        )
        .unwrap();
        assert_eq!(note.profile_id, id.to_lowercase());
        assert_eq!(note.text, "granted 7 days (store outage)");
        assert_eq!(note.check_on.as_deref(), Some("2026-12-10"));
        let cases = [
            (json!({"profile_id": id, "text": " "}), "text is empty"),
            (
                json!({"profile_id": id, "text": "é".repeat(1001)}),
                "at most 1000 characters",
            ),
            (
                json!({"profile_id": id, "text": "a\u{7}"}),
                "text contains a control character",
            ),
            (
                json!({"profile_id": id, "text": "a\u{202E}b"}),
                "text contains an invisible",
            ),
            (
                json!({"profile_id": id, "text": "x", "check_on": "10/12/2026"}),
                "check_on must be a day",
            ),
            (
                json!({"profile_id": id, "text": "x", "check_on": "2026-02-30"}),
                "check_on must be a day",
            ),
            (
                json!({"profile_id": "u1", "text": "x"}),
                "profile_id must be a UUID",
            ),
            (
                json!({"customer_user_id": "u1", "text": "x"}),
                "unknown field `customer_user_id`",
            ),
            (json!({"text": "x"}), "missing field `profile_id`"),
        ];
        for (body, expected) in cases {
            let error = read(body.clone()).unwrap_err();
            assert!(error.message().contains(expected), "{body}: {error:?}");
        }
        assert!(read(json!({"profile_id": id, "text": "é".repeat(1000)})).is_ok());
        assert!(read(json!({"profile_id": id, "text": "line\nline"})).is_ok());
    }
}
