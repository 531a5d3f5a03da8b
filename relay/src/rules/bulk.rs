//! A bulk run's list: strings, trimmed, blanks and duplicates dropped and
//! counted, at most the relay's limit (`--bulk-max-ids`), with a reason.
//! Each ID is judged when its turn comes (an ID the relay cannot look up is
//! one result, not a refused run).

use super::fields::Fields;
use crate::error::RelayError;
use protocol::bulk::field;
use protocol::param;
use serde_json::Value;

/// The largest body a run may have: the most IDs a run may have
/// (`--bulk-max-ids` at its highest, 20,000) of a hundred characters fit.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// A checked list, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkList {
    pub ids: Vec<String>,
    pub reason: String,
    pub duplicates: usize,
    pub blanks: usize,
}

fn invalid(message: String) -> RelayError {
    RelayError::InvalidRequest(message)
}

impl BulkList {
    /// Reads and checks a body, with at most `max_ids` IDs once blanks and
    /// duplicates are dropped; with the app it names, if any.
    pub fn read(body: &[u8], max_ids: usize) -> Result<(BulkList, Option<String>), RelayError> {
        let allowed = [param::APP, protocol::field::REASON, field::IDS];
        let mut fields = Fields::read(body, &allowed, "bulk run")?;
        let items = match fields.take(field::IDS) {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(invalid(format!(
                    "{} must be a list of the IDs to check, as strings",
                    field::IDS
                )))
            }
        };
        let mut seen = std::collections::HashSet::new();
        let (mut ids, mut duplicates, mut blanks) = (Vec::new(), 0, 0);
        for item in items {
            let Value::String(id) = item else {
                return Err(invalid(format!("{} must hold strings only", field::IDS)));
            };
            let id = id.trim();
            if id.is_empty() {
                blanks += 1;
            } else if !seen.insert(id.to_owned()) {
                duplicates += 1;
            } else {
                ids.push(id.to_owned());
            }
        }
        if ids.is_empty() {
            return Err(invalid(format!("{} holds no ID to check", field::IDS)));
        }
        if ids.len() > max_ids {
            return Err(invalid(format!(
                "a run checks at most {max_ids} IDs; this list has {}: split it",
                ids.len()
            )));
        }
        let list = BulkList {
            ids,
            reason: fields.reason()?,
            duplicates,
            blanks,
        };
        Ok((list, fields.text(param::APP)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: Value, max: usize) -> Result<BulkList, RelayError> {
        BulkList::read(body.to_string().as_bytes(), max).map(|(list, _)| list)
    }

    #[test]
    fn blanks_and_duplicates_are_dropped_and_counted_and_the_limit_holds() {
        let list = read(
            json!({"reason": "store outage", "ids": [" a ", "b", "", "a", "  ", "c", "b"]}),
            3,
        )
        .unwrap();
        assert_eq!(list.ids, ["a", "b", "c"]);
        assert_eq!((list.duplicates, list.blanks), (2, 2));
        let over = read(
            json!({"reason": "store outage", "ids": ["a", "b", "c", "d"]}),
            3,
        );
        assert!(over
            .unwrap_err()
            .message()
            .contains("at most 3 IDs; this list has 4"));
        for (body, expected) in [
            (json!({"reason": "why", "ids": "a,b"}), "must be a list"),
            (json!({"reason": "why", "ids": [1]}), "strings only"),
            (json!({"reason": "why", "ids": ["", " "]}), "no ID to check"),
            (json!({"ids": ["a"]}), "missing field `reason`"),
            (
                json!({"reason": "why", "ids": ["a"], "speed": 9}),
                "unknown field `speed`",
            ),
        ] {
            let error = read(body.clone(), 10).unwrap_err();
            assert!(error.message().contains(expected), "{body}: {error:?}");
        }
    }
}
