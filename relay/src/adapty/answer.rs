//! What Adapty's answer means, for a lookup and for a change alike: one
//! reading of its error bodies and one classifier.
//!
//! Only a 4xx status is a refusal, and only then is the body asked which
//! one (`error_code`, then the body's own `status_code`, then the HTTP
//! status). Anything else but a complete 200 (a 5xx, a redirect, whatever
//! its body claims) says nothing certain: a lookup failed, and a change's
//! outcome is unknown, never guessed either way.

use crate::error::RelayError;
use axum::http::{header, HeaderMap, StatusCode};
use bytes::Bytes;
use serde::Deserialize;
use std::time::{Duration, SystemTime};

/// The longest wait passed on to the panel: whatever Adapty says beyond
/// this is a fault, not advice an admin can follow.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// What was asked, which decides what a failure means.
#[derive(Clone, Copy)]
pub enum Asked<'a> {
    Read,
    /// A grant or a revoke of this access level.
    Change {
        access_level_id: &'a str,
        revoke: bool,
    },
    /// A correction of the profile (`PATCH profile/`).
    Correct,
    /// An erasure (`DELETE profile/`): its success is a 204 with no body.
    Erase,
}

impl Asked<'_> {
    /// Whether it changes the customer: never repeated once it may have
    /// reached Adapty, and an answer that says nothing certain leaves its
    /// outcome unknown.
    pub fn writes(self) -> bool {
        !matches!(self, Asked::Read)
    }
}

/// The least a 200 body must be to reach the panel: a JSON envelope with a
/// profile in it. Parsing it whole also proves the JSON is complete and valid;
/// the bytes themselves pass through unchanged.
#[derive(Deserialize)]
#[allow(dead_code)] // Only the shape is checked; the fields are never read.
struct ProfileShape<'a> {
    #[serde(borrow)]
    data: ProfileId<'a>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct ProfileId<'a> {
    #[serde(borrow)]
    profile_id: std::borrow::Cow<'a, str>,
}

/// Adapty's error bodies vary; these two fields are the stable part.
#[derive(Deserialize, Default)]
struct AdaptyError {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    status_code: Option<u16>,
}

/// The profile envelope exactly as Adapty sent it, or what the answer means.
pub fn interpret(
    asked: Asked<'_>,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Bytes,
) -> Result<Bytes, RelayError> {
    if let Asked::Erase = asked {
        if status == StatusCode::NO_CONTENT || status == StatusCode::OK {
            return Ok(Bytes::new());
        }
    }
    if status == StatusCode::OK {
        return match serde_json::from_slice::<ProfileShape>(&body) {
            Ok(_) => Ok(body),
            Err(_) => Err(uncertain(
                asked,
                "Adapty answered with something that is not a profile".into(),
            )),
        };
    }
    if !status.is_client_error() {
        let what = if status.is_redirection() {
            "a redirect"
        } else {
            "an error"
        };
        return Err(uncertain(
            asked,
            format!("Adapty answered with {what} (HTTP {})", status.as_u16()),
        ));
    }
    // A wait already over is no wait: the panel then just says "shortly".
    let retry_after_secs = retry_after.map(retry_after_secs).filter(|&secs| secs > 0);
    let rate_limited = RelayError::RateLimited { retry_after_secs };
    let error: AdaptyError = serde_json::from_slice(&body).unwrap_or_default();
    let change = match asked {
        Asked::Change {
            access_level_id,
            revoke,
        } => Some((access_level_id.to_owned(), revoke)),
        Asked::Read | Asked::Correct | Asked::Erase => None,
    };
    match (error.error_code.as_deref(), &change) {
        (Some("profile_does_not_exist" | "profile_not_found"), _) => {
            return Err(RelayError::ProfileNotFound)
        }
        (Some("not_authenticated" | "unauthorized" | "authentication_failed"), _) => {
            return Err(misconfigured(status))
        }
        (Some("rate_limited"), _) => return Err(rate_limited),
        (Some("paid_access_level_does_not_exist"), Some((level, _))) => {
            return Err(RelayError::AccessLevelUnknown(level.clone()))
        }
        (Some("profile_paid_access_level_does_not_exist"), Some((level, _))) => {
            return Err(RelayError::AccessLevelNotHeld(level.clone()))
        }
        (Some("revocation_date_more_than_expiration_date"), Some(_)) => {
            return Err(RelayError::RevokeAfterExpiry)
        }
        // Documented for a revoke date in the past only.
        (Some("value_error"), Some((_, true))) => return Err(RelayError::RevokeInPast),
        _ => {}
    }
    // The body's own status may name the refusal more precisely, but only
    // as another refusal: a 4xx never becomes anything else.
    let effective = error
        .status_code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .filter(StatusCode::is_client_error)
        .unwrap_or(status);
    Err(match effective {
        StatusCode::NOT_FOUND => RelayError::ProfileNotFound,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => misconfigured(effective),
        StatusCode::TOO_MANY_REQUESTS => rate_limited,
        code if asked.writes() => RelayError::InvalidRequest(format!(
            "Adapty refused the {} (HTTP {}{}); nothing was changed",
            match asked {
                Asked::Correct => "correction",
                Asked::Erase => "erasure",
                _ => "change",
            },
            code.as_u16(),
            adapty_says(&body).map_or(String::new(), |says| format!(": {says}"))
        )),
        StatusCode::BAD_REQUEST => {
            RelayError::InvalidRequest("Adapty rejected this ID as invalid".into())
        }
        code => RelayError::Upstream(format!(
            "Adapty answered with an error (HTTP {})",
            code.as_u16()
        )),
    })
}

/// An answer that says nothing certain: a failed lookup, or a change that
/// may or may not have been made.
fn uncertain(asked: Asked<'_>, cause: String) -> RelayError {
    match asked.writes() {
        false => RelayError::Upstream(cause),
        true => RelayError::OutcomeUnknown(cause),
    }
}

/// What a refusal's body says, for the agent: Adapty's messages, by field
/// where it names one (`{"errors": {"field": ["message"]}}` or
/// `[{"source", "errors"}]`), at most 300 characters of them.
fn adapty_says(body: &[u8]) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    let texts = |value: &serde_json::Value| -> Vec<String> {
        match value {
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
            serde_json::Value::String(text) => vec![text.clone()],
            _ => Vec::new(),
        }
    };
    let mut said = Vec::new();
    match &body["errors"] {
        serde_json::Value::Object(fields) => {
            for (field, messages) in fields {
                said.extend(texts(messages).into_iter().map(|m| format!("{field}: {m}")));
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                let source = item["source"]
                    .as_str()
                    .filter(|source| *source != "non_field_errors");
                said.extend(texts(&item["errors"]).into_iter().map(|m| match source {
                    Some(source) => format!("{source}: {m}"),
                    None => m,
                }));
                said.extend(item.as_str().map(str::to_owned));
            }
        }
        _ => {}
    }
    let said = said.join("; ");
    // Adapty's words, kept short and to one line for the panel.
    let said: String = said.chars().filter(|c| !c.is_control()).take(300).collect();
    (!said.is_empty()).then_some(said)
}

/// Adapty refused the key itself.
pub fn misconfigured(status: StatusCode) -> RelayError {
    // Loud for the operator: every lookup fails until the key is fixed.
    tracing::error!(
        upstream_status = status.as_u16(),
        "Adapty rejected the relay's API key: check ADAPTY_API_KEY_FILE / ADAPTY_API_KEY"
    );
    RelayError::RelayMisconfigured
}

/// Adapty's `Retry-After`: delta-seconds of any size (saturating) or an
/// HTTP-date, one in the past meaning now; anything else is no advice.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // All digits, so the parse fails only by being too large.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

/// Whole seconds for the panel, rounded up, at most a day.
fn retry_after_secs(wait: Duration) -> u64 {
    let wait = wait.min(MAX_RETRY_AFTER);
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<Bytes, RelayError> {
        interpret(
            Asked::Read,
            StatusCode::from_u16(status).unwrap(),
            Some(Duration::from_secs(7)),
            Bytes::from(body.to_owned()),
        )
    }

    #[test]
    fn each_documented_error_body_has_its_meaning() {
        let not_found = r#"{"errors":[{"source":null,"errors":["Profile not found"]}],"error_code":"profile_does_not_exist","status_code":404}"#;
        assert_eq!(answer(404, not_found), Err(RelayError::ProfileNotFound));
        let no_key = r#"{"errors":[{"source":"non_field_errors","errors":["Authentication credentials were not provided."]}],"error_code":"not_authenticated","status_code":401}"#;
        assert_eq!(answer(401, no_key), Err(RelayError::RelayMisconfigured));
        let bad_key =
            r#"{"errors":["Invalid API key"],"error_code":"unauthorized","status_code":401}"#;
        assert_eq!(answer(401, bad_key), Err(RelayError::RelayMisconfigured));
        assert_eq!(
            answer(429, r#"{"error_code":"rate_limited","status_code":429}"#),
            Err(RelayError::RateLimited {
                retry_after_secs: Some(7)
            })
        );
        let bad_request =
            r#"{"errors":{"field":["message"]},"error_code":"base_error","status_code":400}"#;
        assert!(matches!(
            answer(400, bad_request),
            Err(RelayError::InvalidRequest(_))
        ));
    }

    #[test]
    fn bodies_without_adapty_json_fall_back_to_the_http_status() {
        assert_eq!(answer(404, ""), Err(RelayError::ProfileNotFound));
        assert!(
            matches!(answer(503, "<html>down</html>"), Err(RelayError::Upstream(m)) if m.contains("503"))
        );
        assert!(matches!(answer(302, ""), Err(RelayError::Upstream(m)) if m.contains("redirect")));
    }

    /// A failing Adapty whose body names a refusal is still failing: the
    /// admin is not told the customer does not exist.
    #[test]
    fn a_5xx_is_a_failure_whatever_its_body_says() {
        for status in [500, 502, 503] {
            for code in [
                "profile_does_not_exist",
                "rate_limited",
                "not_authenticated",
            ] {
                let body = format!(r#"{{"error_code":"{code}","status_code":404}}"#);
                assert!(
                    matches!(answer(status, &body), Err(RelayError::Upstream(ref m)) if m.contains(&status.to_string())),
                    "{status} {code}"
                );
            }
        }
        // A 4xx whose body claims a 5xx stays a refusal.
        assert!(matches!(
            answer(400, r#"{"status_code":500}"#),
            Err(RelayError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_200_must_be_a_complete_profile_envelope() {
        let seed = include_str!("../../../fixtures/seed.json");
        assert_eq!(answer(200, seed).unwrap(), Bytes::from(seed));
        for nonsense in ["<html>", "{}", r#"{"data":{}}"#, &seed[..seed.len() / 2]] {
            assert!(
                matches!(answer(200, nonsense), Err(RelayError::Upstream(_))),
                "{nonsense}"
            );
        }
    }

    fn change(revoke: bool, status: u16, text: &str) -> RelayError {
        let asked = Asked::Change {
            access_level_id: "premium",
            revoke,
        };
        interpret(
            asked,
            StatusCode::from_u16(status).unwrap(),
            None,
            Bytes::from(text.to_owned()),
        )
        .unwrap_err()
    }

    #[test]
    fn each_documented_refusal_of_a_change_has_its_code() {
        let body = |code: &str, status: u16| {
            format!(
                r#"{{"errors":[{{"source":"non_field_errors","errors":["…"]}}],"error_code":"{code}","status_code":{status}}}"#
            )
        };
        let (grant, revoke) = (false, true);
        assert_eq!(
            change(grant, 400, &body("paid_access_level_does_not_exist", 400)),
            RelayError::AccessLevelUnknown("premium".into())
        );
        // One page documents it as a 404.
        assert_eq!(
            change(grant, 404, &body("paid_access_level_does_not_exist", 404)),
            RelayError::AccessLevelUnknown("premium".into())
        );
        assert_eq!(
            change(grant, 400, &body("profile_does_not_exist", 400)),
            RelayError::ProfileNotFound
        );
        assert_eq!(
            change(
                revoke,
                400,
                &body("profile_paid_access_level_does_not_exist", 400)
            ),
            RelayError::AccessLevelNotHeld("premium".into())
        );
        assert_eq!(
            change(
                revoke,
                400,
                &body("revocation_date_more_than_expiration_date", 400)
            ),
            RelayError::RevokeAfterExpiry
        );
        assert_eq!(
            change(revoke, 400, &body("value_error", 400)),
            RelayError::RevokeInPast
        );
        assert!(matches!(
            change(grant, 400, &body("value_error", 400)),
            RelayError::InvalidRequest(_)
        ));
        assert_eq!(
            change(grant, 401, &body("not_authenticated", 401)),
            RelayError::RelayMisconfigured
        );
        assert!(matches!(
            change(grant, 429, ""),
            RelayError::RateLimited { .. }
        ));
        assert_eq!(change(grant, 404, ""), RelayError::ProfileNotFound);
        for status in [500, 502, 503, 504, 302] {
            assert!(
                matches!(change(grant, status, "<html>"), RelayError::OutcomeUnknown(ref m) if m.contains(&status.to_string())),
                "{status}"
            );
        }
    }

    /// Issue 19, point 4: a 5xx to a change is `outcome_unknown` whatever
    /// its body names; only a 4xx status is a refusal.
    #[test]
    fn a_5xx_to_a_change_leaves_its_outcome_unknown_whatever_its_body_says() {
        for status in [500, 502, 503, 504, 599] {
            for (code, claimed) in [
                ("profile_does_not_exist", 404),
                ("rate_limited", 429),
                ("paid_access_level_does_not_exist", 400),
                ("value_error", 400),
                ("not_authenticated", 401),
                ("base_error", 400),
            ] {
                let body = format!(r#"{{"error_code":"{code}","status_code":{claimed}}}"#);
                for revoke in [false, true] {
                    assert!(
                        matches!(change(revoke, status, &body), RelayError::OutcomeUnknown(_)),
                        "{status} {code}"
                    );
                }
            }
            assert!(matches!(
                change(false, status, r#"{"status_code":400}"#),
                RelayError::OutcomeUnknown(_)
            ));
        }
        // A 200 that is not a profile: the change may have been made.
        assert!(matches!(
            change(false, 200, r#"{"error_code":"profile_does_not_exist"}"#),
            RelayError::OutcomeUnknown(_)
        ));
    }

    #[test]
    fn retry_after_of_any_size_or_form_is_read_without_overflow() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let read = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::RETRY_AFTER, value.parse().unwrap());
            retry_after(&headers, now)
        };
        assert_eq!(read("7"), Some(Duration::from_secs(7)));
        assert_eq!(read(" 0 "), Some(Duration::ZERO));
        let huge = Some(Duration::from_secs(u64::MAX));
        assert_eq!(read("18446744073709551615"), huge);
        assert_eq!(read("99999999999999999999999999"), huge);
        assert_eq!(read("-5"), None);
        assert_eq!(read("1.5"), None);
        assert_eq!(read("soon"), None);
        assert_eq!(read(""), None);
        assert_eq!(read("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            read("Tue, 14 Nov 2023 22:13:30 GMT"),
            Some(Duration::from_secs(10))
        );
        assert!(read("Fri, 31 Dec 9999 23:59:59 GMT").unwrap() > MAX_RETRY_AFTER);
        assert_eq!(retry_after_secs(Duration::from_secs(u64::MAX)), 86_400);
        assert_eq!(retry_after_secs(Duration::from_millis(1_500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 0);
    }
}
