//! Changing a customer's access from the panel: what the agent chose in the
//! dialog, turned into the relay's request, the sentence that says what
//! will happen, and what the relay's answer means.
//!
//! The rules:
//!
//! - **Grant** an access level the profile shows, or one typed: for 7 days,
//!   30 days, a year (365 days), for life or until the end of a chosen day, starting
//!   now or at the start of a chosen day (in the admin's zone).
//! - **Extend** an access level: the same lengths, counted from its current
//!   end, or from now if it has ended; a start still to come is kept.
//! - **Revoke** it now, or at the end of a chosen day.
//! - A reason, always: it goes to the audit log. At most 500 characters,
//!   at least 3 of them visible, and no control, invisible format or line
//!   separator character: the relay's own rule, `protocol::reason`. The
//!   preview is shown before it is written; nothing is sent without it.
//! - Before revoking access a store subscription still renews, a warning:
//!   Adapty's record changes, the store's does not.
//! - An answer that may have come after Adapty applied the change, or not,
//!   is said to be unknown, never guessed: look the customer up again.

use crate::error::{is_sign_in_page, relay_error};
use crate::explain;
use crate::format::{self, Clock};
use crate::model::{AccessLevel, Envelope, Loose, Profile};
use crate::status::State;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use protocol::reason::{self, ReasonError};
use protocol::{field, param, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Grant,
    Extend,
    Revoke,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Grant => "Grant",
            Action::Extend => "Extend",
            Action::Revoke => "Revoke",
        }
    }
}

/// How long access lasts, as the dialog offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Days(i64),
    Year,
    Lifetime,
    /// To the end of this day, in the admin's zone.
    Until(Option<NaiveDate>),
}

impl Length {
    /// From the dialog's choice (`7`, `30`, `year`, `life`, or a date) and
    /// its date field.
    pub fn chosen(choice: &str, date: &str) -> Length {
        match choice {
            "7" => Length::Days(7),
            "30" => Length::Days(30),
            "year" => Length::Year,
            "life" => Length::Lifetime,
            _ => Length::Until(day(date)),
        }
    }
}

/// When access starts (a grant) or ends (a revoke).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Now,
    /// The start of this day (a grant) or its end (a revoke); `None` until chosen.
    On(Option<NaiveDate>),
}

impl Moment {
    /// From the dialog's choice (`now`, or a date) and its date field.
    pub fn chosen(choice: &str, date: &str) -> Moment {
        match choice {
            "now" => Moment::Now,
            _ => Moment::On(day(date)),
        }
    }
}

/// What the agent chose in the dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub action: Action,
    pub access_level_id: String,
    pub length: Length,
    pub moment: Moment,
    pub reason: String,
}

/// A change ready to send, with its words.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub path: &'static str,
    /// The body's fields, in `protocol`'s names, each a string; a field
    /// left out is "now" (or for `expires_at`, lifetime). `body` writes
    /// them as JSON.
    pub fields: Vec<(&'static str, String)>,
    /// "premium will be active until 28 Dec 2026 (in 30 days)."
    pub preview: String,
    /// After success: "Granted premium until 28 Dec 2026."
    pub notice: String,
}

/// The store's record is not Adapty's: said before revoking access that a
/// store subscription still renews.
pub const STORE_WARNING: &str = "This changes Adapty's record, not the store's: the customer is \
    still charged, and the next renewal may grant this access level again. To stop the charges, \
    the customer cancels the subscription in the store.";

/// The same for a sandbox (test) purchase, which costs nothing.
pub const SANDBOX_WARNING: &str = "This changes Adapty's record, not the store's: this is a \
    sandbox (test) purchase, which costs the customer nothing, but the store's next test renewal \
    may grant this access level again.";

/// The warning said before revoking `level`, if it needs one
/// (`needs_store_warning`): a sandbox purchase is charged nothing.
pub fn store_warning(level: &AccessLevel, now: DateTime<Utc>) -> Option<&'static str> {
    if !needs_store_warning(level, now) {
        None
    } else if level.status(now).flags.sandbox {
        Some(SANDBOX_WARNING)
    } else {
        Some(STORE_WARNING)
    }
}

/// Whether revoking `level` needs the store warning: a store's subscription
/// (not Adapty's own grant) that has not ended and still renews.
pub fn needs_store_warning(level: &AccessLevel, now: DateTime<Utc>) -> bool {
    let status = level.status(now);
    // The store's own record, even where support's change explains the
    // card (and its flags leave it out): it is what charges the customer.
    !matches!(level.store.as_str(), "adapty" | "")
        && matches!(status.state, State::Active | State::Scheduled)
        && level.renewal_cancelled_at.is_none()
}

/// "2026-12-28" from a date field; anything else is no date.
pub fn day(text: &str) -> Option<NaiveDate> {
    let mut parts = text.trim().splitn(3, '-').map(str::parse::<u32>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// The instant a local day starts, in the clock's zone.
pub fn start_of(day: NaiveDate, clock: &Clock) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let offset = |at: DateTime<Utc>| {
        Duration::minutes(i64::from(if clock.utc {
            0
        } else {
            (clock.offset_minutes)(at)
        }))
    };
    // The zone's offset at the guess, which is right but on the day daylight saving changes.
    let guess = naive - offset(naive);
    naive - offset(guess)
}

/// The last second of a local day.
fn end_of(day: NaiveDate, clock: &Clock) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    start_of(next, clock) - Duration::seconds(1)
}

/// What is wrong with a change's reason, if anything, by the relay's rule
/// (`protocol::reason`): for access changes, corrections and erasures alike.
pub fn reason_problem(text: &str) -> Option<String> {
    let code = |character: char| format!("U+{:04X}", u32::from(character));
    Some(match reason::check(text).err()? {
        ReasonError::TooShort { .. } => format!(
            "Say why in the reason (at least {} visible characters): it goes to the audit log.",
            reason::MIN_VISIBLE
        ),
        ReasonError::TooLong { chars } => format!(
            "The reason is {chars} characters; at most {}.",
            reason::MAX_CHARS
        ),
        ReasonError::Control(character) => format!(
            "The reason contains a control character ({}); line breaks and tabs are fine.",
            code(character)
        ),
        ReasonError::Format(character) => format!(
            "The reason contains an invisible character ({}), perhaps pasted: type it instead.",
            code(character)
        ),
        ReasonError::Separator(character) => format!(
            "The reason contains a line or paragraph separator ({}): use a line break.",
            code(character)
        ),
    })
}

impl Plan {
    /// The request's JSON body (`Loose::to_json` writes it).
    pub fn body(&self) -> Loose {
        Loose::Object(
            self.fields
                .iter()
                .map(|(name, value)| ((*name).to_owned(), Loose::Text(value.clone())))
                .collect(),
        )
    }

    /// The plan for a customer of `app` (none named when the relay serves one).
    pub fn in_app(mut self, app: &str) -> Plan {
        if !app.is_empty() {
            self.fields.push((param::APP, app.into()));
        }
        self
    }
}

impl Draft {
    /// The dialog's fields as they are: the access level, the length and
    /// its date, the moment and its date, the reason.
    pub fn from_fields(action: Action, fields: [String; 6]) -> Draft {
        let [access_level_id, length, until, moment, on_day, reason] = fields;
        Draft {
            action,
            access_level_id,
            length: Length::chosen(&length, &until),
            moment: Moment::chosen(&moment, &on_day),
            reason,
        }
    }

    /// What is wrong with the reason, if anything (`reason_problem`). Said
    /// apart from `plan`, so the preview shows while the agent has not
    /// written it yet.
    pub fn reason_problem(&self) -> Option<String> {
        reason_problem(&self.reason)
    }

    /// The request and its words, or what is missing, in a sentence; the
    /// reason is checked by `reason_problem`.
    /// `level` is the card's access level (extend and revoke).
    pub fn plan(
        &self,
        profile_id: &str,
        level: Option<&AccessLevel>,
        clock: &Clock,
    ) -> Result<Plan, String> {
        let id = self.access_level_id.trim();
        if id.is_empty() {
            return Err("Choose or type the access level.".into());
        }
        let now = clock.now;
        let chosen = |moment: Moment| match moment {
            Moment::Now => Ok(None),
            Moment::On(Some(day)) => Ok(Some(day)),
            Moment::On(None) => Err("Choose the date.".to_owned()),
        };
        let (starts, ends) = match self.action {
            Action::Revoke => {
                let ends = chosen(self.moment)?
                    .map(|day| end_of(day, clock))
                    .unwrap_or(now);
                if ends < now {
                    return Err("Choose today or a later date.".into());
                }
                (None, Some(ends))
            }
            Action::Grant | Action::Extend => {
                let (starts, from) = match self.action {
                    Action::Grant => {
                        let starts = chosen(self.moment)?.map(|day| start_of(day, clock));
                        (starts, starts.unwrap_or(now))
                    }
                    _ => {
                        let level = level.ok_or("The access level is not on the page.")?;
                        let instant = |value: Option<&crate::model::Timestamp>| {
                            value.and_then(crate::model::Timestamp::instant)
                        };
                        // A start still to come stays; the length counts from the current end.
                        let starts = instant(level.starts_at.as_ref()).filter(|at| *at > now);
                        let from =
                            instant(level.expires_at.as_ref()).map_or(now, |end| end.max(now));
                        (starts, from)
                    }
                };
                let ends = match self.length {
                    Length::Days(days) => Some(from + Duration::days(days)),
                    // 365 days, as promotional grants count a year (a
                    // calendar year's arithmetic costs the wasm 0.2 KB).
                    Length::Year => Some(from + Duration::days(365)),
                    Length::Lifetime => None,
                    Length::Until(Some(day)) => Some(end_of(day, clock)),
                    Length::Until(None) => return Err("Choose the date access ends.".into()),
                };
                if ends.is_some_and(|end| end <= starts.unwrap_or(now)) {
                    return Err("The end must be after the start, and after now.".into());
                }
                (starts, ends)
            }
        };
        let reason = self.reason.trim();
        let revoke = self.action == Action::Revoke;
        let mut fields = vec![
            (param::PROFILE_ID, profile_id.to_owned()),
            (field::ACCESS_LEVEL_ID, id.to_owned()),
            (field::REASON, reason.to_owned()),
        ];
        let dates = [
            (field::STARTS_AT, starts),
            (field::EXPIRES_AT, ends.filter(|_| !revoke)),
            // Now is said by leaving it out: the relay's clock decides.
            (
                field::REVOKE_AT,
                ends.filter(|_| revoke && matches!(self.moment, Moment::On(_))),
            ),
        ];
        for (name, at) in dates {
            if let Some(at) = at {
                fields.push((name, format::iso(at)));
            }
        }
        let until = match ends {
            None => " for life".into(),
            Some(end) if revoke && end <= now => String::new(),
            Some(end) if revoke => format!(" from {}", clock.date(end)),
            Some(end) => format!(" until {}", clock.date(end)),
        };
        let past = match self.action {
            Action::Grant => "Granted",
            Action::Extend => "Extended",
            Action::Revoke => "Revoked",
        };
        Ok(Plan {
            path: if revoke {
                protocol::path::REVOKE
            } else {
                protocol::path::GRANT
            },
            fields,
            preview: explain::after_change(id, starts, ends, revoke, clock),
            notice: format!("{past} {id}{until}."),
        })
    }
}

/// A change that did not go through, as the agent needs to hear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// It may or may not have been applied: look the customer up again.
    OutcomeUnknown,
    /// The sign-in is gone: nothing was sent to Adapty.
    SignInExpired,
    /// Refused, nothing changed; the sentence says why.
    Refused(String),
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Failure::OutcomeUnknown => {
                "The answer did not come: the change may or may not have been \
                applied. Look the customer up again before trying again."
                    .into()
            }
            Failure::SignInExpired => {
                "Your sign-in has expired; nothing was changed. Sign in again, then retry.".into()
            }
            Failure::Refused(why) => why.clone(),
        }
    }
}

/// A message of the relay's or of `protocol`'s rules as a sentence: they
/// start in lower case (ASCII: no Unicode case tables in the wasm for one
/// letter) and end without a full stop.
pub fn sentence(mut text: String) -> String {
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// The relay's answer to a change or a correction: the profile after it,
/// or the failure.
pub fn read_answer(
    status: u16,
    content_type: Option<&str>,
    body: &str,
) -> Result<Profile, Failure> {
    if status == 200 && !is_sign_in_page(status, content_type) {
        // Applied, but not readable: only a new lookup shows what is true.
        return Envelope::parse(body).map_err(|_| Failure::OutcomeUnknown);
    }
    Err(refusal(status, content_type, body))
}

/// What an answer other than the relay's 200 means, for every call that
/// changes something (`read_answer`, `erasure::read_answer`).
pub fn refusal(status: u16, content_type: Option<&str>, body: &str) -> Failure {
    if is_sign_in_page(status, content_type) {
        return Failure::SignInExpired;
    }
    let Some(error) = relay_error(body) else {
        // Not the relay's JSON: a proxy answered, perhaps after passing the change on.
        return match status {
            401 | 403 => Failure::SignInExpired,
            _ => Failure::OutcomeUnknown,
        };
    };
    let sentence = || Failure::Refused(sentence(error.message.clone()));
    let Some(code) = ErrorCode::parse(&error.code) else {
        return Failure::OutcomeUnknown;
    };
    // Exhaustive on purpose: a code added to `protocol` must be decided here.
    match code {
        ErrorCode::OutcomeUnknown | ErrorCode::UpstreamTimeout | ErrorCode::UpstreamTooLarge => {
            Failure::OutcomeUnknown
        }
        // A bug in the relay may come after Adapty was asked (its audit log
        // failing, before, has its own code).
        ErrorCode::InternalError => Failure::OutcomeUnknown,
        ErrorCode::Unauthenticated => Failure::SignInExpired,
        ErrorCode::InvalidRequest
        | ErrorCode::UnknownApp
        | ErrorCode::Forbidden
        | ErrorCode::NotFound
        | ErrorCode::MethodNotAllowed
        | ErrorCode::ProfileNotFound
        | ErrorCode::RelayMisconfigured
        | ErrorCode::RateLimited
        | ErrorCode::UpstreamError
        | ErrorCode::HostNotAllowed
        | ErrorCode::Busy
        | ErrorCode::ChangesDisabled
        | ErrorCode::ChangesNotAllowed
        | ErrorCode::AccessLevelUnknown
        | ErrorCode::AccessLevelNotHeld
        | ErrorCode::RevokeAfterExpiry
        | ErrorCode::RevokeInPast
        | ErrorCode::StoreNotConfigured
        | ErrorCode::StoreUnavailable
        | ErrorCode::AuditUnavailable => sentence(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 9, 42, 50).unwrap()
    }

    fn clock() -> Clock {
        Clock::in_utc(now())
    }

    /// Tokyo, nine hours ahead, as the browser tests run.
    fn tokyo() -> Clock {
        Clock {
            now: now(),
            offset_minutes: |_| 540,
            utc: false,
            absolute: false,
        }
    }

    const PROFILE: &str = "d8533a10-bcce-4e33-8c9d-88b05ac56559";

    fn draft(action: Action, length: Length, moment: Moment) -> Draft {
        Draft {
            action,
            access_level_id: "premium".into(),
            length,
            moment,
            reason: "goodwill, ticket 4411".into(),
        }
    }

    /// The body as the relay reads it.
    fn body(plan: &Plan) -> serde_json::Value {
        let mut names: Vec<_> = plan.fields.iter().map(|(name, _)| name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), plan.fields.len(), "a field twice");
        serde_json::from_str(&plan.body().to_json()).unwrap()
    }

    fn level(expires_in_days: Option<i64>, store: &str) -> AccessLevel {
        AccessLevel {
            store: store.into(),
            expires_at: expires_in_days.map(|days| Timestamp::At(now() + Duration::days(days))),
            ..crate::model::sample_access_level(now())
        }
    }

    #[test]
    fn a_grant_of_30_days_from_now() {
        let plan = draft(Action::Grant, Length::Days(30), Moment::Now)
            .plan(PROFILE, None, &clock())
            .unwrap();
        assert_eq!(plan.path, "api/access-level/grant");
        assert_eq!(
            body(&plan),
            serde_json::json!({"profile_id": PROFILE, "access_level_id": "premium",
                "expires_at": "2026-12-28T09:42:50Z", "reason": "goodwill, ticket 4411"})
        );
        assert_eq!(
            plan.preview,
            "premium will be active until 28 Dec 2026 (in 30 days)."
        );
        assert_eq!(plan.notice, "Granted premium until 28 Dec 2026.");
    }

    #[test]
    fn a_change_names_its_app_when_the_relay_serves_several() {
        let plan = || {
            draft(Action::Grant, Length::Days(30), Moment::Now)
                .plan(PROFILE, None, &clock())
                .unwrap()
        };
        assert_eq!(body(&plan().in_app("kids"))["app"], "kids");
        assert!(body(&plan().in_app("")).get("app").is_none());
    }

    #[test]
    fn every_length_and_start_of_a_grant() {
        let plan = |length, moment, clock: &Clock| {
            draft(Action::Grant, length, moment)
                .plan(PROFILE, None, clock)
                .unwrap()
        };
        let week = plan(Length::Days(7), Moment::Now, &clock());
        assert_eq!(body(&week)["expires_at"], "2026-12-05T09:42:50Z");
        let year = plan(Length::Year, Moment::Now, &clock());
        assert_eq!(body(&year)["expires_at"], "2027-11-28T09:42:50Z");
        assert_eq!(
            year.preview,
            "premium will be active until 28 Nov 2027 (in 1 year)."
        );
        let lifetime = plan(Length::Lifetime, Moment::Now, &clock());
        assert_eq!(
            body(&lifetime).get("expires_at"),
            None,
            "left out: lifetime"
        );
        assert_eq!(lifetime.preview, "premium will be lifetime access.");
        assert_eq!(lifetime.notice, "Granted premium for life.");
        // Days in the admin's zone: Tokyo's 31 Dec ends at 14:59:59 UTC.
        let until = plan(Length::Until(day("2026-12-31")), Moment::Now, &tokyo());
        assert_eq!(body(&until)["expires_at"], "2026-12-31T14:59:59Z");
        assert_eq!(
            until.preview,
            "premium will be active until 31 Dec 2026 (in 33 days)."
        );
        // Starting on a day: its midnight, and the length counts from there.
        let later = plan(Length::Days(7), Moment::On(day("2026-12-10")), &tokyo());
        assert_eq!(body(&later)["starts_at"], "2026-12-09T15:00:00Z");
        assert_eq!(body(&later)["expires_at"], "2026-12-16T15:00:00Z");
        assert_eq!(
            later.preview,
            "premium will start on 10 Dec 2026 (in 11 days) and run until 17 Dec 2026."
        );
        let later_for_life = plan(Length::Lifetime, Moment::On(day("2026-12-10")), &clock());
        assert_eq!(
            later_for_life.preview,
            "premium will start on 10 Dec 2026 (in 12 days) and then be lifetime access."
        );
    }

    #[test]
    fn an_extension_counts_from_the_current_end_or_from_now() {
        let still_active = level(Some(3), "app_store");
        let plan = draft(Action::Extend, Length::Days(30), Moment::Now)
            .plan(PROFILE, Some(&still_active), &clock())
            .unwrap();
        assert_eq!(body(&plan)["expires_at"], "2026-12-31T09:42:50Z");
        assert_eq!(plan.notice, "Extended premium until 31 Dec 2026.");
        let ended = level(Some(-10), "app_store");
        let plan = draft(Action::Extend, Length::Days(30), Moment::Now)
            .plan(PROFILE, Some(&ended), &clock())
            .unwrap();
        assert_eq!(body(&plan)["expires_at"], "2026-12-28T09:42:50Z");
        // A start still to come is kept.
        let scheduled = AccessLevel {
            starts_at: Some(Timestamp::At(now() + Duration::days(7))),
            ..level(Some(37), "adapty")
        };
        let plan = draft(Action::Extend, Length::Days(7), Moment::Now)
            .plan(PROFILE, Some(&scheduled), &clock())
            .unwrap();
        assert_eq!(body(&plan)["starts_at"], "2026-12-05T09:42:50Z");
        assert_eq!(body(&plan)["expires_at"], "2027-01-11T09:42:50Z");
        assert_eq!(plan.path, "api/access-level/grant");
    }

    #[test]
    fn a_revoke_now_or_at_the_end_of_a_day() {
        let now_plan = draft(Action::Revoke, Length::Lifetime, Moment::Now)
            .plan(PROFILE, None, &clock())
            .unwrap();
        assert_eq!(now_plan.path, "api/access-level/revoke");
        assert_eq!(
            body(&now_plan),
            serde_json::json!({"profile_id": PROFILE, "access_level_id": "premium",
                "reason": "goodwill, ticket 4411"}),
            "now is left out"
        );
        assert_eq!(
            now_plan.preview,
            "premium will end now: the customer loses access at once."
        );
        assert_eq!(now_plan.notice, "Revoked premium.");
        let later = draft(
            Action::Revoke,
            Length::Lifetime,
            Moment::On(day("2026-12-01")),
        )
        .plan(PROFILE, None, &clock())
        .unwrap();
        assert_eq!(body(&later)["revoke_at"], "2026-12-01T23:59:59Z");
        assert_eq!(
            later.preview,
            "premium will be active until 1 Dec 2026 (in 4 days), then end."
        );
        assert_eq!(later.notice, "Revoked premium from 1 Dec 2026.");
        // Today is not in the past: it ends at the end of it.
        assert!(draft(
            Action::Revoke,
            Length::Lifetime,
            Moment::On(day("2026-11-28"))
        )
        .plan(PROFILE, None, &clock())
        .is_ok());
    }

    #[test]
    fn the_dialogs_choices_read_into_a_draft() {
        assert_eq!(Length::chosen("7", ""), Length::Days(7));
        assert_eq!(Length::chosen("30", "2026-12-01"), Length::Days(30));
        assert_eq!(Length::chosen("year", ""), Length::Year);
        assert_eq!(Length::chosen("life", ""), Length::Lifetime);
        assert_eq!(
            Length::chosen("date", "2026-12-01"),
            Length::Until(day("2026-12-01"))
        );
        assert_eq!(Length::chosen("date", ""), Length::Until(None));
        assert_eq!(Moment::chosen("now", "2026-12-01"), Moment::Now);
        assert_eq!(
            Moment::chosen("date", "2026-12-01"),
            Moment::On(day("2026-12-01"))
        );
        let fields = ["vip", "date", "2026-12-01", "now", "", " why "].map(String::from);
        assert_eq!(
            Draft::from_fields(Action::Grant, fields),
            Draft {
                action: Action::Grant,
                access_level_id: "vip".into(),
                length: Length::Until(day("2026-12-01")),
                moment: Moment::Now,
                reason: " why ".into(),
            }
        );
    }

    #[test]
    fn what_is_missing_is_said_before_anything_is_sent() {
        let problem = |draft: Draft| draft.plan(PROFILE, None, &clock()).unwrap_err();
        let no_reason = Draft {
            reason: "  ".into(),
            ..draft(Action::Grant, Length::Days(7), Moment::Now)
        };
        assert!(no_reason
            .reason_problem()
            .unwrap()
            .contains("Say why in the reason"));
        assert!(
            no_reason.plan(PROFILE, None, &clock()).is_ok(),
            "the preview still shows"
        );
        let long = Draft {
            reason: "é".repeat(501),
            ..draft(Action::Grant, Length::Days(7), Moment::Now)
        };
        assert_eq!(
            long.reason_problem().unwrap(),
            "The reason is 501 characters; at most 500."
        );
        // Issue 19: what says nothing, or hides or splits the audit line.
        let problem_of = |reason: &str| {
            Draft {
                reason: reason.into(),
                ..draft(Action::Grant, Length::Days(7), Moment::Now)
            }
            .reason_problem()
        };
        assert_eq!(
            problem_of("\u{3164}\u{3164}\u{3164}").unwrap(),
            "Say why in the reason (at least 3 visible characters): it goes to the audit log."
        );
        assert_eq!(
            problem_of("\u{200B}\u{200B}\u{200B}").unwrap(),
            "The reason contains an invisible character (U+200B), perhaps pasted: type it instead."
        );
        assert_eq!(
            problem_of("ok\u{202E}evil").unwrap(),
            "The reason contains an invisible character (U+202E), perhaps pasted: type it instead."
        );
        assert_eq!(
            problem_of("a\u{2028}bc").unwrap(),
            "The reason contains a line or paragraph separator (U+2028): use a line break."
        );
        assert_eq!(
            problem_of("ab\u{7}c").unwrap(),
            "The reason contains a control character (U+0007); line breaks and tabs are fine."
        );
        assert_eq!(problem_of("why:\n\tticket 4411"), None);
        assert_eq!(problem_of("👍👍👍"), None);
        assert_eq!(
            draft(Action::Grant, Length::Days(7), Moment::Now).reason_problem(),
            None
        );
        let no_level = Draft {
            access_level_id: " ".into(),
            ..draft(Action::Grant, Length::Days(7), Moment::Now)
        };
        assert_eq!(problem(no_level), "Choose or type the access level.");
        assert_eq!(
            problem(draft(Action::Grant, Length::Until(None), Moment::Now)),
            "Choose the date access ends."
        );
        assert_eq!(
            problem(draft(Action::Grant, Length::Days(7), Moment::On(None))),
            "Choose the date."
        );
        assert_eq!(
            problem(draft(
                Action::Grant,
                Length::Until(day("2026-11-27")),
                Moment::Now
            )),
            "The end must be after the start, and after now."
        );
        assert_eq!(
            problem(draft(
                Action::Grant,
                Length::Until(day("2026-12-01")),
                Moment::On(day("2026-12-05"))
            )),
            "The end must be after the start, and after now."
        );
        assert_eq!(
            problem(draft(
                Action::Revoke,
                Length::Lifetime,
                Moment::On(day("2026-11-27"))
            )),
            "Choose today or a later date."
        );
        assert_eq!(day("2026-02-30"), None);
        assert_eq!(day(""), None);
    }

    /// The body's names are the relay's, as `protocol` spells them.
    #[test]
    fn the_body_speaks_the_protocols_names() {
        let plan = draft(
            Action::Grant,
            Length::Days(7),
            Moment::On(day("2026-12-10")),
        )
        .plan(PROFILE, None, &clock())
        .unwrap();
        let body = body(&plan);
        let mut names: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let mut expected = [
            field::ACCESS_LEVEL_ID,
            field::EXPIRES_AT,
            param::PROFILE_ID,
            field::REASON,
            field::STARTS_AT,
        ];
        expected.sort_unstable();
        assert_eq!(names, expected);
        let revoke = draft(
            Action::Revoke,
            Length::Lifetime,
            Moment::On(day("2026-12-10")),
        )
        .plan(PROFILE, None, &clock())
        .unwrap();
        assert!(revoke
            .fields
            .iter()
            .any(|(name, _)| *name == field::REVOKE_AT));
    }

    #[test]
    fn the_store_warning_is_for_store_subscriptions_that_still_renew() {
        let now = now();
        assert!(needs_store_warning(&level(Some(3), "app_store"), now));
        assert!(needs_store_warning(&level(Some(3), "stripe"), now));
        assert!(
            !needs_store_warning(&level(Some(3), "adapty"), now),
            "Adapty's own grant"
        );
        assert!(
            !needs_store_warning(&level(Some(-3), "app_store"), now),
            "ended"
        );
        let cancelled = AccessLevel {
            renewal_cancelled_at: Some(Timestamp::At(now - Duration::days(1))),
            ..level(Some(3), "play_store")
        };
        assert!(!needs_store_warning(&cancelled, now), "auto-renew off");
        // Extended by support, the store's cancelled subscription still charges nothing.
        let extended = AccessLevel {
            by_support: Some(crate::model::StaffChange {
                revoked: false,
                author: "alice@example.com".into(),
                reason: "goodwill".into(),
                at: now,
            }),
            ..cancelled
        };
        assert!(
            !needs_store_warning(&extended, now),
            "extended, auto-renew off"
        );
        assert!(
            !needs_store_warning(&level(None, "app_store"), now),
            "lifetime: nothing renews"
        );
        // A sandbox purchase costs nothing: no charge is spoken of.
        assert_eq!(
            store_warning(&level(Some(3), "app_store"), now),
            Some(STORE_WARNING)
        );
        let test = AccessLevel {
            environment: Some("Sandbox".into()),
            ..level(Some(3), "app_store")
        };
        let warning = store_warning(&test, now).unwrap();
        assert!(
            warning.contains("sandbox") && !warning.contains("charged"),
            "{warning}"
        );
        assert_eq!(store_warning(&level(Some(-3), "app_store"), now), None);
    }

    #[test]
    fn the_relays_answers_become_what_the_agent_is_told() {
        let json = Some("application/json");
        let error = |status, code: &str| {
            let body = format!(
                r#"{{"error":{{"code":"{code}","message":"the customer has no \"vip\" access level to revoke"}}}}"#
            );
            read_answer(status, json, &body).unwrap_err()
        };
        assert_eq!(
            error(400, "access_level_not_held"),
            Failure::Refused("The customer has no \"vip\" access level to revoke.".into())
        );
        assert_eq!(error(504, "outcome_unknown"), Failure::OutcomeUnknown);
        assert_eq!(error(401, "unauthenticated"), Failure::SignInExpired);
        assert_eq!(error(500, "internal_error"), Failure::OutcomeUnknown);
        // Refused before Adapty was asked: the relay's own words.
        assert!(matches!(
            error(503, "audit_unavailable"),
            Failure::Refused(_)
        ));
        assert_eq!(error(400, "a_newer_code"), Failure::OutcomeUnknown);
        // A proxy's page: its sign-in, or its gateway error after passing the change on.
        assert_eq!(
            read_answer(200, Some("text/html"), "<html>").unwrap_err(),
            Failure::SignInExpired
        );
        assert_eq!(
            read_answer(502, Some("text/html"), "<html>").unwrap_err(),
            Failure::OutcomeUnknown
        );
        assert_eq!(
            read_answer(200, json, "{}").unwrap_err(),
            Failure::OutcomeUnknown
        );
        let seed = read_answer(200, json, include_str!("../fixtures/seed.json")).unwrap();
        assert_eq!(seed.profile_id, PROFILE);
        assert!(Failure::OutcomeUnknown
            .message()
            .contains("may or may not have been applied"));
    }
}
