//! What support did, from the relay's record of its own changes (events
//! with `source: "relay"`): which grant or revoke still explains an access
//! level, so that its card and the headline say support's doing rather
//! than the store's old record.
//!
//! A change explains an access level when all of these hold:
//!
//! - it went through (`outcome` `ok`) and is the latest such change to
//!   that access level: a later one replaced it;
//! - the profile still shows what it set: a grant's end (`expires_at`, to
//!   the second; both absent for lifetime access); a revoke's date
//!   (`revoke_at`), or for a revoke "now" an end within
//!   [`REVOKE_SLACK`] of when the relay sent it (Adapty's clock decides
//!   the instant). A renewal, a purchase or another grant moves the end,
//!   so the change no longer explains it;
//! - nothing of Adapty's about that access level (its ID, or the product
//!   the card shows) happened after it, but the `access_level_updated`
//!   the change itself caused ([`is_echo`]).
//!
//! Only the events loaded decide: the newest page holds the latest change
//! of every access level that had one among the last 50 events.

use crate::model::{AccessLevel, Profile, StaffChange, Timestamp};
use chrono::{DateTime, Duration, Utc};
use protocol::feed::{source, staff_kind, FeedEvent, StaffAction};

/// How far from the moment the relay sent a revoke "now" the end Adapty
/// recorded may be: the two clocks and the call between them.
pub const REVOKE_SLACK: Duration = Duration::minutes(5);

/// How far from a change Adapty's `access_level_updated` for it may be
/// dated: Adapty dates it when it applied the change, a moment before the
/// relay, which records the change once Adapty answered.
pub const ECHO_WINDOW: Duration = Duration::minutes(10);

/// The outcome of a change that went through.
pub const OK: &str = "ok";

/// Marks each access level of `profile` with the change of `feed` that
/// still explains it, if any.
pub fn attribute(profile: &mut Profile, feed: &[FeedEvent]) {
    for level in &mut profile.access_levels {
        level.by_support = explaining(level, feed);
    }
}

/// A readable instant of the feed's RFC 3339 text.
pub fn instant(text: &str) -> Option<DateTime<Utc>> {
    Timestamp::parse(text).instant()
}

fn optional_instant(text: Option<&String>) -> Option<Option<DateTime<Utc>>> {
    match text {
        None => Some(None),
        Some(text) => instant(text).map(Some),
    }
}

fn same_second(one: DateTime<Utc>, other: DateTime<Utc>) -> bool {
    (one - other).abs() < Duration::seconds(1)
}

/// A relay change of the feed: the event, what support did, and when.
pub fn staff(event: &FeedEvent) -> Option<(&StaffAction, DateTime<Utc>)> {
    if event.source != source::RELAY {
        return None;
    }
    Some((event.staff.as_ref()?, instant(&event.at)?))
}

/// The change of `feed` that still explains `level`, by the rules above.
pub fn explaining(level: &AccessLevel, feed: &[FeedEvent]) -> Option<StaffChange> {
    let (event, action, at) = feed
        .iter()
        .filter_map(|event| {
            let (action, at) = staff(event)?;
            (action.outcome == OK && action.access_level_id == level.access_level_id)
                .then_some((event, action, at))
        })
        .max_by_key(|(_, _, at)| *at)?;
    let revoked = event.kind == staff_kind::REVOKE;
    // The end the card shows; one that cannot be read explains nothing.
    let shown = match &level.expires_at {
        None => None,
        Some(end) => Some(end.instant()?),
    };
    let still_shown = match (revoked, optional_instant(action.revoke_at.as_ref())?, shown) {
        (true, Some(date), Some(end)) => same_second(date, end),
        (true, None, Some(end)) => (end - at).abs() <= REVOKE_SLACK,
        (true, _, None) => false,
        (false, _, shown) => match (optional_instant(action.expires_at.as_ref())?, shown) {
            (Some(set), Some(end)) => same_second(set, end),
            (set, end) => set.is_none() && end.is_none(),
        },
    };
    let overtaken = feed.iter().any(|other| {
        other.source == source::ADAPTY
            && instant(&other.at).is_some_and(|when| when > at)
            && concerns(other, level)
            && !is_echo(other, action, revoked, at)
    });
    (still_shown && !overtaken).then(|| StaffChange {
        revoked,
        author: action.author.clone(),
        reason: action.reason.clone(),
        at,
    })
}

/// Whether Adapty's `event` is about `level`: its access level, or the
/// product the card shows.
pub fn concerns(event: &FeedEvent, level: &AccessLevel) -> bool {
    let access_level = event
        .access_level
        .as_ref()
        .and_then(|update| update.access_level_id.as_deref());
    access_level == Some(level.access_level_id.as_str())
        || event.product.as_deref() == Some(level.store_product_id.as_str())
}

/// Whether Adapty's `event` is the `access_level_updated` that support's
/// change (recorded at `at`) caused: the same access level, within
/// [`ECHO_WINDOW`], saying what the change set (a grant's end, or no
/// access after a revoke now).
pub fn is_echo(event: &FeedEvent, action: &StaffAction, revoked: bool, at: DateTime<Utc>) -> bool {
    let Some(update) = event.access_level.as_ref() else {
        return false;
    };
    let soon = instant(&event.at).is_some_and(|when| (when - at).abs() <= ECHO_WINDOW);
    let said = if revoked {
        match optional_instant(action.revoke_at.as_ref()) {
            Some(Some(date)) => update
                .expires_at
                .as_deref()
                .and_then(instant)
                .is_some_and(|end| same_second(end, date)),
            _ => update.is_active != Some(true),
        }
    } else {
        match optional_instant(action.expires_at.as_ref()) {
            Some(Some(set)) => update
                .expires_at
                .as_deref()
                .and_then(instant)
                .is_some_and(|end| same_second(end, set)),
            Some(None) => update.is_lifetime == Some(true) || update.expires_at.is_none(),
            None => false,
        }
    };
    update.access_level_id.as_deref() == Some(action.access_level_id.as_str()) && soon && said
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::format;
    use chrono::TimeZone;
    use protocol::feed::AccessLevelUpdate;

    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
    }

    fn iso(minutes_from_now: i64) -> String {
        format::iso(now() + Duration::minutes(minutes_from_now))
    }

    const DAY: i64 = 24 * 60;

    /// Support's change of `premium`, sent `minutes` from now.
    pub fn change(kind: &str, minutes: i64, outcome: &str) -> FeedEvent {
        FeedEvent {
            id: format!("relay-{kind}-{minutes}"),
            source: source::RELAY.into(),
            kind: kind.into(),
            at: iso(minutes),
            staff: Some(StaffAction {
                author: "alice@example.com".into(),
                reason: "goodwill, ticket 4411".into(),
                outcome: outcome.into(),
                access_level_id: "premium".into(),
                ..StaffAction::default()
            }),
            ..FeedEvent::default()
        }
    }

    /// A grant sent 2 minutes ago, ending in 30 days.
    pub fn grant() -> FeedEvent {
        let mut event = change(staff_kind::GRANT, -2, OK);
        event.staff.as_mut().unwrap().expires_at = Some(iso(30 * DAY));
        event
    }

    /// A revoke "now", sent 2 minutes ago.
    pub fn revoke() -> FeedEvent {
        change(staff_kind::REVOKE, -2, OK)
    }

    /// Adapty's event of `kind`, `minutes` from now, about the App Store
    /// product the store's own `premium` came from.
    pub fn adapty(kind: &str, minutes: i64) -> FeedEvent {
        FeedEvent {
            id: format!("adapty-{kind}-{minutes}"),
            source: source::ADAPTY.into(),
            kind: kind.into(),
            at: iso(minutes),
            product: Some("monthly.premium".into()),
            ..FeedEvent::default()
        }
    }

    /// The `access_level_updated` a change caused, `minutes` from now.
    pub fn updated(minutes: i64, active: bool, expires: Option<String>) -> FeedEvent {
        FeedEvent {
            access_level: Some(AccessLevelUpdate {
                access_level_id: Some("premium".into()),
                is_active: Some(active),
                expires_at: expires,
                ..AccessLevelUpdate::default()
            }),
            product: None,
            ..adapty("access_level_updated", minutes)
        }
    }

    /// `premium` from a cancelled App Store subscription, ending `minutes`
    /// from now (as Adapty shows it after support moved the end).
    pub fn level(minutes: Option<i64>) -> AccessLevel {
        AccessLevel {
            store: "app_store".into(),
            store_product_id: "monthly.premium".into(),
            expires_at: minutes.map(|m| Timestamp::At(now() + Duration::minutes(m))),
            renewal_cancelled_at: Some(Timestamp::At(now() - Duration::days(40))),
            cancellation_reason: Some("voluntarily_cancelled".into()),
            ..crate::model::sample_access_level(now())
        }
    }

    fn by(level: &AccessLevel, feed: &[FeedEvent]) -> Option<(bool, String)> {
        explaining(level, feed).map(|change| (change.revoked, change.author))
    }

    const ALICE: &str = "alice@example.com";

    #[test]
    fn a_grant_explains_the_level_while_it_shows_the_grants_end() {
        let granted = level(Some(30 * DAY));
        assert_eq!(by(&granted, &[grant()]), Some((false, ALICE.into())));
        let change = explaining(&granted, &[grant()]).unwrap();
        assert_eq!(
            (change.reason.as_str(), change.at),
            ("goodwill, ticket 4411", now() - Duration::minutes(2))
        );
        // Adapty wrote the same end in its own spelling, with fractions.
        let spelled = AccessLevel {
            expires_at: Some(Timestamp::parse(&format!(
                "{}.000000+0000",
                iso(30 * DAY).trim_end_matches('Z')
            ))),
            ..granted.clone()
        };
        assert!(by(&spelled, &[grant()]).is_some());
        // Another end: something else (a renewal, another grant) set it.
        assert_eq!(by(&level(Some(31 * DAY)), &[grant()]), None);
        assert_eq!(by(&level(None), &[grant()]), None, "lifetime is no 30 days");
        // Lifetime granted: no end on either side.
        let mut lifetime = grant();
        lifetime.staff.as_mut().unwrap().expires_at = None;
        assert!(by(&level(None), &[lifetime.clone()]).is_some());
        assert_eq!(by(&granted, &[lifetime]), None);
    }

    #[test]
    fn a_grant_that_ran_out_still_explains_the_ended_level() {
        let mut old = change(staff_kind::GRANT, -40 * DAY, OK);
        old.staff.as_mut().unwrap().expires_at = Some(iso(-10 * DAY));
        let ended = level(Some(-10 * DAY));
        assert_eq!(by(&ended, &[old]), Some((false, ALICE.into())));
    }

    #[test]
    fn a_revoke_now_explains_a_level_that_ended_when_it_was_sent() {
        // Adapty ended it a moment after the relay sent it.
        let ended = level(Some(-1));
        assert_eq!(by(&ended, &[revoke()]), Some((true, ALICE.into())));
        // Ended long before, or still active: something else decided.
        assert_eq!(by(&level(Some(-3 * DAY)), &[revoke()]), None);
        assert_eq!(by(&level(Some(30 * DAY)), &[revoke()]), None);
        assert_eq!(by(&level(None), &[revoke()]), None);
    }

    #[test]
    fn a_revoke_at_a_date_explains_the_level_that_ends_then() {
        let mut later = revoke();
        later.staff.as_mut().unwrap().revoke_at = Some(iso(7 * DAY));
        assert_eq!(
            by(&level(Some(7 * DAY)), &[later.clone()]),
            Some((true, ALICE.into()))
        );
        assert_eq!(by(&level(Some(8 * DAY)), &[later]), None);
    }

    #[test]
    fn only_the_latest_change_that_went_through_counts() {
        let granted = level(Some(30 * DAY));
        // A revoke after the grant replaced it (and the card no longer shows it).
        let after = change(staff_kind::REVOKE, -1, OK);
        assert_eq!(by(&granted, &[after, grant()]), None);
        // A refused or unknown change after it changed nothing.
        for outcome in ["access_level_unknown", "outcome_unknown"] {
            let refused = change(staff_kind::REVOKE, -1, outcome);
            assert_eq!(
                by(&granted, &[refused, grant()]),
                Some((false, ALICE.into())),
                "{outcome}"
            );
        }
        let mut refused_grant = grant();
        refused_grant.staff.as_mut().unwrap().outcome = "changes_not_allowed".into();
        assert_eq!(by(&granted, &[refused_grant]), None);
        // Another access level's change explains nothing here.
        let mut vip = grant();
        vip.staff.as_mut().unwrap().access_level_id = "vip".into();
        assert_eq!(by(&granted, &[vip]), None);
    }

    #[test]
    fn a_later_store_event_for_the_level_takes_over_but_the_changes_own_update_does_not() {
        let granted = level(Some(30 * DAY));
        // The access_level_updated the grant caused, a minute after it, or
        // dated by Adapty a moment before the relay recorded the grant.
        for minutes in [-1, -3] {
            let echo = updated(minutes, true, Some(iso(30 * DAY)));
            assert_eq!(by(&granted, &[echo, grant()]), Some((false, ALICE.into())));
        }
        // Long before it: the store's own, not the grant's.
        let old = updated(-2 * DAY, true, Some(iso(30 * DAY)));
        let action = grant().staff.unwrap();
        assert!(!is_echo(&old, &action, false, now() - Duration::minutes(2)));
        // A renewal of the card's product after the grant: the store's record again.
        let renewed = adapty("subscription_renewed", -1);
        assert_eq!(by(&granted, &[renewed, grant()]), None);
        // An update of the level saying something else.
        let other = updated(-1, true, Some(iso(60 * DAY)));
        assert_eq!(by(&granted, &[other, grant()]), None);
        // Before the grant, or about another product: history, not a takeover.
        let before = adapty("subscription_expired", -3 * DAY);
        let elsewhere = FeedEvent {
            product: Some("coins_100".into()),
            ..adapty("non_subscription_purchase", -1)
        };
        assert!(by(&granted, &[elsewhere, grant(), before]).is_some());
        // A revoke's own update says no access.
        let ended = level(Some(-1));
        assert!(by(&ended, &[updated(-1, false, Some(iso(-1))), revoke()]).is_some());
        assert_eq!(by(&ended, &[updated(-1, true, None), revoke()]), None);
    }

    #[test]
    fn attributing_marks_each_level_and_clears_what_no_longer_holds() {
        let mut profile = Profile {
            access_levels: vec![
                level(Some(30 * DAY)),
                AccessLevel {
                    access_level_id: "vip".into(),
                    ..level(Some(30 * DAY))
                },
            ],
            ..Profile::default()
        };
        attribute(&mut profile, &[grant()]);
        assert!(profile.access_levels[0].by_support.is_some());
        assert!(profile.access_levels[1].by_support.is_none());
        attribute(&mut profile, &[]);
        assert!(profile.access_levels[0].by_support.is_none());
    }

    #[test]
    fn a_level_support_explains_has_none_of_the_stores_old_flags() {
        let mut granted = AccessLevel {
            cancellation_reason: Some("refund".into()),
            billing_issue_detected_at: Some(Timestamp::At(now() - Duration::days(41))),
            is_in_grace_period: true,
            ..level(Some(30 * DAY))
        };
        let store = granted.status(now());
        assert!(store.flags.refunded && store.flags.auto_renew_off && store.flags.billing_issue);
        granted.by_support = explaining(&granted, &[grant()]);
        let status = granted.status(now());
        assert_eq!(status.flags.labels(), Vec::<&str>::new());
        assert_eq!(status.state.label(), "Active");
    }
}
