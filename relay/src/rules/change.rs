//! What a support agent may change: grant an access level (which also
//! extends one: a grant with a later end), or revoke it, now or at a date.
//!
//! Bodies are read strictly (unknown or repeated fields refused) and every
//! rule is checked here, with the field named, before any byte goes to
//! Adapty. The customer is named under the lookup's own rules.

use super::fields::Fields;
use super::lookup::Lookup;
use crate::error::RelayError;
use axum::http::{header, HeaderMap};
use chrono::{DateTime, SecondsFormat, Utc};
use protocol::{field, param};
use serde::Serialize;
use serde_json::json;

/// The largest body a change may have: a 500-character reason and the
/// longest IDs fit with room to spare.
pub const MAX_BODY_BYTES: usize = 4096;
pub const MAX_ACCESS_LEVEL_ID_LENGTH: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Grant,
    Revoke,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Grant => "grant",
            Action::Revoke => "revoke",
        }
    }
}

/// A checked change, ready for Adapty and the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub customer: Lookup,
    pub access_level_id: String,
    pub when: When,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// `starts_at` `None` is now; `expires_at` `None` is lifetime.
    Grant {
        starts_at: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
    },
    /// `None` is now.
    Revoke { revoke_at: Option<DateTime<Utc>> },
}

fn invalid(message: String) -> RelayError {
    RelayError::InvalidRequest(message)
}

/// Only JSON: a cross-site form cannot send it without a preflight, and a
/// body of another type is not what the panel sends.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), RelayError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(RelayError::NotJson)
    }
}

impl Change {
    /// Reads and checks a body of `action`, as of `now`; with the app it
    /// names, if any, for `apps` to judge. Every error names its field.
    pub fn read(
        action: Action,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(Change, Option<String>), RelayError> {
        let mut body = Fields::read(body, &allowed(action), action.name())?;
        let when = match action {
            Action::Grant => {
                let starts_at = date(field::STARTS_AT, body.text(field::STARTS_AT)?)?;
                let expires_at = date(field::EXPIRES_AT, body.text(field::EXPIRES_AT)?)?;
                match (starts_at, expires_at) {
                    (Some(start), Some(end)) if end <= start => {
                        return Err(invalid(format!(
                            "{} must be after {}",
                            field::EXPIRES_AT,
                            field::STARTS_AT
                        )))
                    }
                    (None, Some(end)) if end <= now => {
                        return Err(invalid(format!(
                            "{} must be in the future when access starts now (no {})",
                            field::EXPIRES_AT,
                            field::STARTS_AT
                        )))
                    }
                    _ => {}
                }
                When::Grant {
                    starts_at,
                    expires_at,
                }
            }
            Action::Revoke => {
                let revoke_at = date(field::REVOKE_AT, body.text(field::REVOKE_AT)?)?;
                if revoke_at.is_some_and(|at| at < now) {
                    return Err(invalid(format!(
                        "{} must not be in the past; leave it out to revoke now",
                        field::REVOKE_AT
                    )));
                }
                When::Revoke { revoke_at }
            }
        };
        let change = Change {
            customer: body.customer()?,
            access_level_id: access_level_id_checked(body.required(field::ACCESS_LEVEL_ID)?)?,
            when,
            reason: body.reason()?,
        };
        Ok((change, body.text(param::APP)?))
    }

    pub fn action(&self) -> Action {
        match self.when {
            When::Grant { .. } => Action::Grant,
            When::Revoke { .. } => Action::Revoke,
        }
    }

    /// The body Adapty's endpoint takes, in its field names.
    pub fn adapty_body(&self) -> Vec<u8> {
        let body = match self.when {
            When::Grant {
                starts_at,
                expires_at,
            } => json!({
                "access_level_id": self.access_level_id,
                "starts_at": starts_at.map(adapty_date),
                "expires_at": expires_at.map(adapty_date),
            }),
            When::Revoke { revoke_at } => json!({
                "access_level_id": self.access_level_id,
                "revoke_at": revoke_at.map(adapty_date),
            }),
        };
        serde_json::to_vec(&body).expect("a JSON value always serializes")
    }

    /// The dates as the audit log writes them.
    pub fn audit_dates(&self) -> AuditDates {
        let text =
            |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true));
        match self.when {
            When::Grant {
                starts_at,
                expires_at,
            } => AuditDates::Grant {
                starts_at: text(starts_at),
                expires_at: text(expires_at),
            },
            When::Revoke { revoke_at } => AuditDates::Revoke {
                revoke_at: text(revoke_at),
            },
        }
    }
}

/// A change's dates in an audit line: `null` is now, or for `expires_at`
/// lifetime.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum AuditDates {
    Grant {
        starts_at: Option<String>,
        expires_at: Option<String>,
    },
    Revoke {
        revoke_at: Option<String>,
    },
}

/// An RFC 3339 date with an offset, or `null`.
fn date(name: &str, value: Option<String>) -> Result<Option<DateTime<Utc>>, RelayError> {
    value
        .map(|text| {
            DateTime::parse_from_rfc3339(&text)
                .map(|at| at.to_utc())
                .map_err(|_| {
                    invalid(format!(
                        "{name} must be a date and time in RFC 3339 with an offset, such as \
                         2026-12-28T09:42:50Z or 2026-12-28T10:42:50+01:00"
                    ))
                })
        })
        .transpose()
}

/// As Adapty writes dates: microseconds and an offset.
fn adapty_date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, false)
}

fn access_level_id_checked(id: String) -> Result<String, RelayError> {
    let name = field::ACCESS_LEVEL_ID;
    if id.is_empty() || id.len() > MAX_ACCESS_LEVEL_ID_LENGTH {
        return Err(invalid(format!(
            "{name} must be 1 to {MAX_ACCESS_LEVEL_ID_LENGTH} characters"
        )));
    }
    if !id.bytes().all(|byte| (b' '..=b'~').contains(&byte)) {
        return Err(invalid(format!(
            "{name} must be printable ASCII (letters, digits, symbols), such as premium"
        )));
    }
    Ok(id)
}

/// The fields a body of `action` may have.
fn allowed(action: Action) -> Vec<&'static str> {
    let mut allowed = vec![
        param::APP,
        param::CUSTOMER_USER_ID,
        param::PROFILE_ID,
        field::ACCESS_LEVEL_ID,
        field::REASON,
    ];
    allowed.extend(match action {
        Action::Grant => &[field::STARTS_AT, field::EXPIRES_AT][..],
        Action::Revoke => &[field::REVOKE_AT][..],
    });
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 9, 42, 50).unwrap()
    }

    fn grant(body: serde_json::Value) -> Result<Change, RelayError> {
        Change::read(Action::Grant, body.to_string().as_bytes(), now()).map(|(change, _)| change)
    }

    fn revoke(body: serde_json::Value) -> Result<Change, RelayError> {
        Change::read(Action::Revoke, body.to_string().as_bytes(), now()).map(|(change, _)| change)
    }

    fn message(result: Result<Change, RelayError>) -> String {
        match result {
            Err(RelayError::InvalidRequest(message)) => message,
            other => panic!("should be invalid: {other:?}"),
        }
    }

    #[test]
    fn a_grant_reads_into_adaptys_body() {
        let change = grant(json!({
            "profile_id": "D8533A10-BCCE-4E33-8C9D-88B05AC56559", "access_level_id": "premium",
            "expires_at": "2026-12-28T10:42:50+01:00", "reason": "  goodwill, ticket 4411 "
        }))
        .unwrap();
        assert_eq!(change.reason, "goodwill, ticket 4411");
        assert_eq!(change.action(), Action::Grant);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&change.adapty_body()).unwrap(),
            json!({"access_level_id": "premium", "starts_at": null,
                   "expires_at": "2026-12-28T09:42:50.000000+00:00"})
        );
        let lifetime = grant(json!({"customer_user_id": "u", "access_level_id": "vip",
            "expires_at": null, "reason": "why"}))
        .unwrap();
        assert_eq!(
            lifetime.when,
            When::Grant {
                starts_at: None,
                expires_at: None
            }
        );
        let now_revoke =
            revoke(json!({"customer_user_id": "u", "access_level_id": "vip", "reason": "why"}))
                .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&now_revoke.adapty_body()).unwrap(),
            json!({"access_level_id": "vip", "revoke_at": null})
        );
    }

    #[test]
    fn every_rule_names_its_field() {
        let base =
            json!({"customer_user_id": "u", "access_level_id": "premium", "reason": "ticket 1"});
        let with = |changes: serde_json::Value| {
            let mut body = base.clone();
            for (key, value) in changes.as_object().unwrap() {
                if value == "REMOVE" {
                    body.as_object_mut().unwrap().remove(key);
                } else {
                    body[key] = value.clone();
                }
            }
            body
        };
        let cases = [
            (json!({"debug": true}), "unknown field `debug`"),
            (json!({"reason": "REMOVE"}), "missing field `reason`"),
            (
                json!({"access_level_id": 5}),
                "access_level_id must be a string, not a number",
            ),
            (
                json!({"access_level_id": null}),
                "missing field `access_level_id`",
            ),
            (json!({"reason": null}), "missing field `reason`"),
            (
                json!({"reason": ["a", "b", "c"]}),
                "reason must be a string, not a list",
            ),
            (
                json!({"expires_at": 1798000000}),
                "expires_at must be a string, not a number",
            ),
            (
                json!({"customer_user_id": true}),
                "customer_user_id must be a string, not true or false",
            ),
            (json!({"app": {}}), "app must be a string, not an object"),
            (
                json!({"reason": "  ab "}),
                "reason must have at least 3 visible characters",
            ),
            (
                json!({"reason": "\u{200B}\u{200B}\u{200B}"}),
                "reason contains an invisible format character, U+200B",
            ),
            (
                json!({"reason": "\u{3164}\u{3164}\u{3164}"}),
                "reason must have at least 3 visible characters",
            ),
            (
                json!({"reason": "ok \u{202E}evil"}),
                "reason contains an invisible format character, U+202E",
            ),
            (json!({"reason": "one\u{2028}two"}), "U+2028"),
            (
                json!({"reason": "é".repeat(501)}),
                "reason must be at most 500 characters",
            ),
            (
                json!({"reason": "a\u{7}bc"}),
                "reason contains a control character",
            ),
            (
                json!({"access_level_id": ""}),
                "access_level_id must be 1 to 100",
            ),
            (
                json!({"access_level_id": "p".repeat(101)}),
                "access_level_id must be 1 to 100",
            ),
            (
                json!({"access_level_id": "prémium"}),
                "access_level_id must be printable ASCII",
            ),
            (
                json!({"access_level_id": "a\tb"}),
                "access_level_id must be printable ASCII",
            ),
            (
                json!({"customer_user_id": "REMOVE"}),
                "give customer_user_id or profile_id",
            ),
            (
                json!({"profile_id": "d8533a10-bcce-4e33-8c9d-88b05ac56559"}),
                "not both",
            ),
            (
                json!({"customer_user_id": "a\nb"}),
                "customer_user_id contains a control character",
            ),
            (
                json!({"customer_user_id": "REMOVE", "profile_id": "nope"}),
                "profile_id must be a UUID",
            ),
            (
                json!({"expires_at": "2026-12-28"}),
                "expires_at must be a date and time in RFC 3339",
            ),
            (
                json!({"expires_at": "2026-12-28T09:42:50"}),
                "expires_at must be a date and time in RFC 3339",
            ),
            (
                json!({"starts_at": "tomorrow"}),
                "starts_at must be a date and time in RFC 3339",
            ),
            (
                json!({"expires_at": "2026-11-28T09:00:00Z"}),
                "expires_at must be in the future",
            ),
            (
                json!({"starts_at": "2027-01-01T00:00:00Z", "expires_at": "2026-12-31T00:00:00Z"}),
                "expires_at must be after starts_at",
            ),
        ];
        for (changes, expected) in cases {
            let text = message(grant(with(changes.clone())));
            assert!(text.contains(expected), "{changes}: {text}");
        }
        // Reasons of 3 and 500 characters pass, counted in characters.
        assert!(grant(with(json!({"reason": "abc"}))).is_ok());
        assert!(grant(with(json!({"reason": "é".repeat(500)}))).is_ok());
        assert!(grant(with(json!({"reason": "line one\nline two"}))).is_ok());
        // A start in the past or the future is the agent's choice.
        assert!(grant(with(
            json!({"starts_at": "2026-01-01T00:00:00Z", "expires_at": "2026-12-01T00:00:00Z"})
        ))
        .is_ok());

        let revoke_with = |changes: serde_json::Value| revoke(with(changes));
        assert!(
            message(revoke_with(json!({"revoke_at": "2026-11-28T09:42:49Z"})))
                .contains("revoke_at must not be in the past")
        );
        assert!(
            message(revoke_with(json!({"expires_at": "2026-12-28T09:42:50Z"})))
                .contains("unknown field `expires_at`")
        );
        assert!(revoke_with(json!({"revoke_at": "2026-11-28T09:42:50Z"})).is_ok());
        assert!(message(grant(json!("not json"))).contains("not a JSON object"));
        let twice = br#"{"customer_user_id":"u","access_level_id":"premium","reason":"why","reason":"other"}"#;
        let error = Change::read(Action::Grant, twice, now()).unwrap_err();
        assert!(
            error.message().contains("`reason` is given twice"),
            "{error:?}"
        );
    }

    #[test]
    fn only_json_is_read() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            check_content_type(&headers)
        };
        assert!(with("application/json").is_ok());
        assert!(with("Application/JSON; charset=utf-8").is_ok());
        for other in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/jsonx",
        ] {
            assert_eq!(with(other), Err(RelayError::NotJson), "{other}");
        }
        assert_eq!(
            check_content_type(&HeaderMap::new()),
            Err(RelayError::NotJson)
        );
    }
}
