//! What a support agent may change: grant an access level (which also
//! extends one: a grant with a later end), or revoke it, now or at a date.
//!
//! Bodies are read strictly (unknown fields refused) and every rule is
//! checked here, with the field named, before any byte goes to Adapty. The
//! customer is named under the lookup's own rules. Adapty's answers to a
//! change are read here too: its documented refusals each have their code.

use crate::error::RelayError;
use crate::lookup::Lookup;
use axum::http::{header, HeaderMap, StatusCode};
use chrono::{DateTime, SecondsFormat, Utc};
use protocol::field;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::ops::RangeInclusive;

/// The largest body a change may have: a 500-character reason and the
/// longest IDs fit with room to spare.
pub const MAX_BODY_BYTES: usize = 4096;
/// In characters, after trimming.
pub const REASON_LENGTH: RangeInclusive<usize> = 3..=500;
pub const MAX_ACCESS_LEVEL_ID_LENGTH: usize = 100;

pub const GRANT_PATH: &str = "api/v2/server-side-api/purchase/profile/grant/access-level/";
pub const REVOKE_PATH: &str = "api/v2/server-side-api/purchase/profile/revoke/access-level/";

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

    pub fn adapty_path(self) -> &'static str {
        match self {
            Action::Grant => GRANT_PATH,
            Action::Revoke => REVOKE_PATH,
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

/// `POST /api/access-level/grant`, as sent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    customer_user_id: Option<String>,
    #[serde(default)]
    profile_id: Option<String>,
    access_level_id: String,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
    reason: String,
}

/// `POST /api/access-level/revoke`, as sent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    customer_user_id: Option<String>,
    #[serde(default)]
    profile_id: Option<String>,
    access_level_id: String,
    #[serde(default)]
    revoke_at: Option<String>,
    reason: String,
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
    /// names, if any, for `apps` to judge.
    pub fn read(
        action: Action,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(Change, Option<String>), RelayError> {
        // serde's own words name the field: "unknown field `x`", "missing field `reason`".
        let unreadable =
            |error: serde_json::Error| invalid(format!("the body is not valid: {error}"));
        let (app, customer_user_id, profile_id, access_level_id, reason, when) = match action {
            Action::Grant => {
                let body: GrantBody = serde_json::from_slice(body).map_err(unreadable)?;
                let starts_at = date(field::STARTS_AT, body.starts_at.as_deref())?;
                let expires_at = date(field::EXPIRES_AT, body.expires_at.as_deref())?;
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
                let when = When::Grant {
                    starts_at,
                    expires_at,
                };
                let ids = (body.customer_user_id, body.profile_id);
                (
                    body.app,
                    ids.0,
                    ids.1,
                    body.access_level_id,
                    body.reason,
                    when,
                )
            }
            Action::Revoke => {
                let body: RevokeBody = serde_json::from_slice(body).map_err(unreadable)?;
                let revoke_at = date(field::REVOKE_AT, body.revoke_at.as_deref())?;
                if revoke_at.is_some_and(|at| at < now) {
                    return Err(invalid(format!(
                        "{} must not be in the past; leave it out to revoke now",
                        field::REVOKE_AT
                    )));
                }
                let when = When::Revoke { revoke_at };
                let ids = (body.customer_user_id, body.profile_id);
                (
                    body.app,
                    ids.0,
                    ids.1,
                    body.access_level_id,
                    body.reason,
                    when,
                )
            }
        };
        let change = Change {
            customer: Lookup::from_ids(customer_user_id, profile_id)?,
            access_level_id: access_level_id_checked(access_level_id)?,
            when,
            reason: reason_checked(&reason)?,
        };
        Ok((change, app))
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
fn date(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, RelayError> {
    value
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
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

/// Trimmed; line breaks and tabs are kept, other control characters refused.
fn reason_checked(reason: &str) -> Result<String, RelayError> {
    let name = field::REASON;
    let reason = reason.trim();
    let length = reason.chars().count();
    if !REASON_LENGTH.contains(&length) {
        return Err(invalid(format!(
            "{name} must be {} to {} characters, saying why (it goes to the audit log); it is {length}",
            REASON_LENGTH.start(),
            REASON_LENGTH.end()
        )));
    }
    if reason
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(invalid(format!("{name} contains a control character")));
    }
    Ok(reason.to_owned())
}

/// Adapty's error bodies: the stable code, and the status its body claims.
#[derive(Deserialize, Default)]
struct AdaptyError {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    status_code: Option<u16>,
}

/// What Adapty's answer (other than a complete 200) to a change means for
/// the agent. Documented refusals are each their own code; an answer that
/// says nothing certain (a 5xx, a redirect) leaves the outcome unknown.
pub fn refusal(change: &Change, status: StatusCode, body: &[u8]) -> RelayError {
    let error: AdaptyError = serde_json::from_slice(body).unwrap_or_default();
    let level = || change.access_level_id.clone();
    let revoke = change.action() == Action::Revoke;
    match error.error_code.as_deref() {
        Some("paid_access_level_does_not_exist") => return RelayError::AccessLevelUnknown(level()),
        Some("profile_does_not_exist" | "profile_not_found") => return RelayError::ProfileNotFound,
        Some("profile_paid_access_level_does_not_exist") => {
            return RelayError::AccessLevelNotHeld(level())
        }
        Some("revocation_date_more_than_expiration_date") => return RelayError::RevokeAfterExpiry,
        // Documented for a revoke date in the past only.
        Some("value_error") if revoke => return RelayError::RevokeInPast,
        Some("not_authenticated" | "unauthorized" | "authentication_failed") => {
            return crate::upstream::misconfigured(status)
        }
        Some("rate_limited") => {
            return RelayError::RateLimited {
                retry_after_secs: None,
            }
        }
        _ => {}
    }
    let effective = error
        .status_code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(status);
    match effective {
        StatusCode::NOT_FOUND => RelayError::ProfileNotFound,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            crate::upstream::misconfigured(effective)
        }
        StatusCode::TOO_MANY_REQUESTS => RelayError::RateLimited {
            retry_after_secs: None,
        },
        code if code.is_client_error() => RelayError::InvalidRequest(format!(
            "Adapty refused the change (HTTP {}); nothing was changed",
            code.as_u16()
        )),
        code => RelayError::OutcomeUnknown(format!(
            "Adapty answered with an error (HTTP {})",
            code.as_u16()
        )),
    }
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
            (json!({"access_level_id": 5}), "invalid type"),
            (
                json!({"reason": "  ab "}),
                "reason must be 3 to 500 characters",
            ),
            (
                json!({"reason": "é".repeat(501)}),
                "reason must be 3 to 500 characters",
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
        assert!(message(grant(json!("not json"))).contains("not valid"));
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

    #[test]
    fn each_documented_refusal_has_its_code() {
        let revoke_change =
            revoke(json!({"customer_user_id": "u", "access_level_id": "premium", "reason": "why"}))
                .unwrap();
        let grant_change =
            grant(json!({"customer_user_id": "u", "access_level_id": "premium", "reason": "why"}))
                .unwrap();
        let body = |code: &str, status: u16| {
            format!(
                r#"{{"errors":[{{"source":"non_field_errors","errors":["…"]}}],"error_code":"{code}","status_code":{status}}}"#
            )
        };
        let answer = |change: &Change, status: u16, text: &str| {
            refusal(
                change,
                StatusCode::from_u16(status).unwrap(),
                text.as_bytes(),
            )
        };
        assert_eq!(
            answer(
                &grant_change,
                400,
                &body("paid_access_level_does_not_exist", 400)
            ),
            RelayError::AccessLevelUnknown("premium".into())
        );
        // One page documents it as a 404.
        assert_eq!(
            answer(
                &grant_change,
                404,
                &body("paid_access_level_does_not_exist", 404)
            ),
            RelayError::AccessLevelUnknown("premium".into())
        );
        assert_eq!(
            answer(&grant_change, 400, &body("profile_does_not_exist", 400)),
            RelayError::ProfileNotFound
        );
        assert_eq!(
            answer(
                &revoke_change,
                400,
                &body("profile_paid_access_level_does_not_exist", 400)
            ),
            RelayError::AccessLevelNotHeld("premium".into())
        );
        assert_eq!(
            answer(
                &revoke_change,
                400,
                &body("revocation_date_more_than_expiration_date", 400)
            ),
            RelayError::RevokeAfterExpiry
        );
        assert_eq!(
            answer(&revoke_change, 400, &body("value_error", 400)),
            RelayError::RevokeInPast
        );
        assert!(matches!(
            answer(&grant_change, 400, &body("value_error", 400)),
            RelayError::InvalidRequest(_)
        ));
        assert_eq!(
            answer(&grant_change, 401, &body("not_authenticated", 401)),
            RelayError::RelayMisconfigured
        );
        assert!(matches!(
            answer(&grant_change, 429, ""),
            RelayError::RateLimited { .. }
        ));
        assert_eq!(answer(&grant_change, 404, ""), RelayError::ProfileNotFound);
        for status in [500, 502, 503, 504, 302] {
            assert!(
                matches!(answer(&grant_change, status, "<html>"), RelayError::OutcomeUnknown(ref m) if m.contains(&status.to_string())),
                "{status}"
            );
        }
    }
}
