//! How old what the page shows is. A found profile stays on screen while
//! time goes on: its relative times must move on ("in 3 minutes" does not
//! stay true), what has passed must read as passed, and after a few
//! minutes the page says the answer may be out of date and offers to look
//! again. The page asks these functions when to redraw, so it redraws only
//! when something it shows reads differently.

use crate::format::{next_change, Clock};
use crate::model::{Profile, Timestamp};
use chrono::{DateTime, Duration, Utc};

/// An answer this old is said to be possibly out of date: access can
/// change at any moment (a renewal, a refund, a change by a colleague).
pub const STALE_AFTER: Duration = Duration::minutes(3);

/// Gives `each` every instant the profile shows, in its sentences, tables
/// and history. Plain loops and one callee: iterator adapters over the
/// three lists weighed 2 KB more in the wasm.
fn instants(profile: &Profile, each: &mut dyn FnMut(DateTime<Utc>)) {
    let mut give = |values: &[&Option<Timestamp>]| {
        for value in values {
            if let Some(at) = value.as_ref().and_then(Timestamp::instant) {
                each(at);
            }
        }
    };
    for level in &profile.access_levels {
        give(&[
            &level.starts_at,
            &level.purchased_at,
            &level.originally_purchased_at,
            &level.expires_at,
            &level.renewal_cancelled_at,
            &level.billing_issue_detected_at,
        ]);
    }
    for subscription in &profile.subscriptions {
        give(&[
            &subscription.purchased_at,
            &subscription.originally_purchased_at,
            &subscription.expires_at,
            &subscription.renewal_cancelled_at,
            &subscription.billing_issue_detected_at,
        ]);
    }
    for purchase in &profile.non_subscriptions {
        give(&[&purchase.purchased_at]);
    }
}

/// When the profile on screen next reads differently after `now`: one of
/// its dates' relative phrases changes, or one of them passes.
pub fn next_turn(profile: &Profile, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut next: Option<DateTime<Utc>> = None;
    instants(profile, &mut |at| {
        let change = next_change(at, now);
        next = Some(next.map_or(change, |next| next.min(change)));
    });
    next
}

/// How many of the profile's dates have passed by `now`. It changes
/// exactly when one passes, which can change a state, the history's now
/// line and the quick filters' counts: what is laid out once must be laid
/// out again then.
pub fn passed(profile: &Profile, now: DateTime<Utc>) -> usize {
    let mut count = 0;
    instants(profile, &mut |at| count += usize::from(at <= now));
    count
}

/// What the page says of an answer it `received` once it may be out of
/// date (by `clock.now`), or `None` while it is fresh. The words do not
/// count the minutes, so that they are announced once, not every minute.
pub fn note(profile: &Profile, received: DateTime<Utc>, clock: &Clock) -> Option<String> {
    let now = clock.now;
    // Looked up today: the time says when; else the date too.
    let when = if clock.date(received) == clock.date(now) {
        clock.time(received)
    } else {
        clock.date_time(received)
    };
    if passed(profile, now) > passed(profile, received) {
        return Some(format!(
            "A date in this answer has passed since it was looked up at {when}: access may \
             have changed."
        ));
    }
    (now - received >= STALE_AFTER).then(|| {
        format!(
            "This answer is more than {} minutes old (looked up at {when}): access may have \
             changed since.",
            STALE_AFTER.num_minutes()
        )
    })
}

/// When the data's age (`data_time`, as `cells::data_time` shows it) or the
/// note of an answer `received` next reads differently after `now`.
pub fn next_age_change(
    data_time: DateTime<Utc>,
    received: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let stale = received + STALE_AFTER;
    let age = next_change(data_time, now);
    if stale > now {
        age.min(stale)
    } else {
        age
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;
    use chrono::TimeZone;

    fn received() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 12, 4, 10).unwrap()
    }

    /// Tokyo, as the browser tests run.
    fn clock(now: DateTime<Utc>) -> Clock {
        Clock {
            now,
            offset_minutes: |_| 540,
            utc: false,
            absolute: false,
        }
    }

    /// demo-sandbox as the demo answers it: bought two hours ago, access
    /// until three minutes after the lookup.
    fn expiring() -> Profile {
        let iso = |at: DateTime<Utc>| at.to_rfc3339();
        let (bought, expires) = (
            received() - Duration::hours(2),
            received() + Duration::minutes(3),
        );
        Envelope::parse(&format!(
            r#"{{"data":{{"profile_id":"p1","customer_user_id":"demo-sandbox",
            "access_levels":[{{"access_level_id":"premium","store":"app_store",
            "store_product_id":"weekly","purchased_at":"{}","expires_at":"{}"}}],
            "subscriptions":[{{"store":"app_store","store_product_id":"weekly",
            "purchased_at":"{}","expires_at":"{}"}}]}}}}"#,
            iso(bought),
            iso(expires),
            iso(bought),
            iso(expires)
        ))
        .unwrap()
    }

    #[test]
    fn the_page_turns_when_a_phrase_changes_or_a_date_passes() {
        let profile = expiring();
        let expires = received() + Duration::minutes(3);
        // "in 3 minutes" turns "in 2 minutes" after 30 seconds.
        assert_eq!(
            next_turn(&profile, received()),
            Some(received() + Duration::seconds(30) + Duration::milliseconds(1))
        );
        // Within the last minute, the next turn is the expiry itself.
        let last_minute = expires - Duration::seconds(40);
        assert_eq!(next_turn(&profile, last_minute), Some(expires));
        assert_eq!(passed(&profile, last_minute), passed(&profile, received()));
        assert_eq!(
            passed(&profile, expires),
            passed(&profile, received()) + 2,
            "the access level's and the subscription's end"
        );
        let empty = Envelope::parse(r#"{"data":{"profile_id":"p"}}"#).unwrap();
        assert_eq!(next_turn(&empty, received()), None, "nothing ever turns");
    }

    #[test]
    fn an_answer_is_said_to_be_old_after_three_minutes_or_once_a_date_in_it_passed() {
        let far = Envelope::parse(
            r#"{"data":{"profile_id":"p","access_levels":[{"access_level_id":"vip",
            "store":"app_store","store_product_id":"x","expires_at":"2027-06-01T00:00:00Z"}]}}"#,
        )
        .unwrap();
        let at = |minutes: i64, seconds: i64| {
            clock(received() + Duration::minutes(minutes) + Duration::seconds(seconds))
        };
        assert_eq!(note(&far, received(), &at(2, 59)), None, "still fresh");
        assert_eq!(
            note(&far, received(), &at(4, 0)).as_deref(),
            Some(
                "This answer is more than 3 minutes old (looked up at 21:04): access may have \
                 changed since."
            ),
            "the time in the admin's zone (Tokyo)"
        );
        // An expiry two minutes on has passed: said at once, before three minutes.
        let expiring = expiring();
        assert_eq!(note(&expiring, received(), &at(2, 59)), None);
        assert_eq!(
            note(&expiring, received(), &at(3, 0)).as_deref(),
            Some(
                "A date in this answer has passed since it was looked up at 21:04: access may \
                 have changed."
            )
        );
        // Open overnight: the day too.
        let next_day = clock(received() + Duration::hours(20));
        assert!(
            note(&far, received(), &next_day)
                .unwrap()
                .contains("(looked up at 7 Dec 2026, 21:04)"),
            "{:?}",
            note(&far, received(), &next_day)
        );
    }

    #[test]
    fn the_age_turns_each_minute_and_the_note_when_it_is_due() {
        let data_time = received() - Duration::seconds(2);
        // "just now" becomes "1 minute ago" a minute after the data's time.
        assert_eq!(
            next_age_change(data_time, received(), received()),
            data_time + Duration::minutes(1)
        );
        // Near three minutes, the note comes before the next phrase.
        let now = received() + Duration::minutes(2) + Duration::seconds(40);
        assert_eq!(
            next_age_change(data_time, received(), now),
            received() + STALE_AFTER
        );
        // Once it is due, only the phrase is left to change.
        let later = received() + Duration::minutes(5);
        assert_eq!(
            next_age_change(data_time, received(), later),
            data_time + Duration::seconds(330)
        );
    }
}
