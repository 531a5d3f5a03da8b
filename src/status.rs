//! What state an access level or subscription is in, derived from its dates.
//!
//! Adapty's v2 profile has no `is_active`: the panel decides. The rules:
//!
//! - **State**, from dates alone, first match wins: *Unknown* (a date that
//!   decides it is unreadable), *Scheduled* (`starts_at` in the future),
//!   *Lifetime* (no `expires_at`), *Expired* (`expires_at` at or before now),
//!   else *Active*.
//! - **Flags** are facts shown beside the state: *grace period* (only while
//!   active), *billing issue* and *auto-renew off* (only while not yet expired:
//!   on an expired item they are history, told in its sentence), *refunded*
//!   (cancellation reason `refund`), *sandbox* (environment `Sandbox`; an
//!   access level without one takes its purchase's, see `environment`).
//! - **Tone**, for the badge colour, is the worst that applies: refunded,
//!   then expired, then billing issue or grace period, then auto-renew off,
//!   then scheduled; otherwise good.

use crate::model::{AccessLevel, Subscription, Timestamp};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    Scheduled,
    Expired,
    Lifetime,
    /// A deciding date came in a spelling the panel cannot read.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    pub grace_period: bool,
    pub billing_issue: bool,
    pub auto_renew_off: bool,
    pub refunded: bool,
    pub sandbox: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Info,
    Warning,
    Muted,
    Bad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    pub flags: Flags,
}

/// The fields that decide a status, shared by access levels and subscriptions.
pub struct Period<'a> {
    pub starts_at: Option<&'a Timestamp>,
    pub expires_at: Option<&'a Timestamp>,
    pub renewal_cancelled_at: Option<&'a Timestamp>,
    pub billing_issue_detected_at: Option<&'a Timestamp>,
    pub is_in_grace_period: bool,
    pub cancellation_reason: Option<&'a str>,
    pub environment: Option<&'a str>,
}

impl AccessLevel {
    pub fn period(&self) -> Period<'_> {
        // Support's grant or revoke explains the level: the store's facts
        // left from before it (a cancellation, a billing issue) no longer do.
        let store = self.by_support.is_none();
        Period {
            starts_at: self.starts_at.as_ref(),
            expires_at: self.expires_at.as_ref(),
            renewal_cancelled_at: self.renewal_cancelled_at.as_ref().filter(|_| store),
            billing_issue_detected_at: self.billing_issue_detected_at.as_ref().filter(|_| store),
            is_in_grace_period: self.is_in_grace_period && store,
            cancellation_reason: self.cancellation_reason.as_deref().filter(|_| store),
            environment: self.effective_environment(),
        }
    }

    pub fn status(&self, now: DateTime<Utc>) -> Status {
        Status::of(&self.period(), now)
    }
}

impl Subscription {
    pub fn period(&self) -> Period<'_> {
        Period {
            // Subscriptions have no `starts_at`: they start when purchased.
            starts_at: None,
            expires_at: self.expires_at.as_ref(),
            renewal_cancelled_at: self.renewal_cancelled_at.as_ref(),
            billing_issue_detected_at: self.billing_issue_detected_at.as_ref(),
            is_in_grace_period: self.is_in_grace_period,
            cancellation_reason: self.cancellation_reason.as_deref(),
            environment: self.environment.as_deref(),
        }
    }

    pub fn status(&self, now: DateTime<Utc>) -> Status {
        Status::of(&self.period(), now)
    }
}

pub fn is_sandbox(environment: Option<&str>) -> bool {
    environment.is_some_and(|env| env.eq_ignore_ascii_case("sandbox"))
}

impl Status {
    pub fn of(period: &Period<'_>, now: DateTime<Utc>) -> Status {
        let state = Self::state(period, now);
        let not_expired = matches!(state, State::Active | State::Scheduled | State::Lifetime);
        let flags = Flags {
            grace_period: period.is_in_grace_period && state == State::Active,
            billing_issue: period.billing_issue_detected_at.is_some() && not_expired,
            auto_renew_off: period.renewal_cancelled_at.is_some()
                && matches!(state, State::Active | State::Scheduled),
            refunded: period.cancellation_reason == Some("refund"),
            sandbox: is_sandbox(period.environment),
        };
        Status { state, flags }
    }

    fn state(period: &Period<'_>, now: DateTime<Utc>) -> State {
        let starts = match period.starts_at {
            Some(Timestamp::Unreadable(_)) => return State::Unknown,
            Some(Timestamp::At(at)) => Some(*at),
            None => None,
        };
        if starts.is_some_and(|at| at > now) {
            return State::Scheduled;
        }
        match period.expires_at {
            None => State::Lifetime,
            Some(Timestamp::Unreadable(_)) => State::Unknown,
            Some(Timestamp::At(at)) if *at <= now => State::Expired,
            Some(Timestamp::At(_)) => State::Active,
        }
    }

    /// Whether it is active and will renew on its own at its end: no
    /// refund, billing issue, grace period or auto-renew turned off (the
    /// headline's "renews automatically"). Its end is then a renewal.
    pub fn renews(&self) -> bool {
        let flags = self.flags;
        self.state == State::Active
            && !(flags.refunded
                || flags.billing_issue
                || flags.grace_period
                || flags.auto_renew_off)
    }

    /// Whether the customer has this access right now.
    pub fn grants_access(&self) -> bool {
        matches!(self.state, State::Active | State::Lifetime)
    }

    pub fn tone(&self) -> Tone {
        let flags = self.flags;
        if flags.refunded {
            Tone::Bad
        } else if matches!(self.state, State::Expired | State::Unknown) {
            Tone::Muted
        } else if flags.billing_issue || flags.grace_period || flags.auto_renew_off {
            Tone::Warning
        } else if self.state == State::Scheduled {
            Tone::Info
        } else {
            Tone::Good
        }
    }
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Active => "Active",
            State::Scheduled => "Scheduled",
            State::Expired => "Expired",
            State::Lifetime => "Lifetime",
            State::Unknown => "Unknown",
        }
    }
}

impl Flags {
    /// The flags that apply, in the order of the tone rule.
    pub fn labels(self) -> Vec<&'static str> {
        [
            (self.refunded, "Refunded"),
            (self.billing_issue, "Billing issue"),
            (self.grace_period, "Grace period"),
            (self.auto_renew_off, "Auto-renew off"),
            (self.sandbox, "Sandbox"),
        ]
        .into_iter()
        .filter_map(|(set, label)| set.then_some(label))
        .collect()
    }
}

impl Tone {
    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "tone-good",
            Tone::Info => "tone-info",
            Tone::Warning => "tone-warning",
            Tone::Muted => "tone-muted",
            Tone::Bad => "tone-bad",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 7, 12, 0, 0).unwrap()
    }

    fn at(days: i64) -> Option<Timestamp> {
        Some(Timestamp::At(now() + Duration::days(days)))
    }

    fn level() -> AccessLevel {
        crate::model::sample_access_level(now())
    }

    #[test]
    fn state_follows_the_dates() {
        assert_eq!(level().status(now()).state, State::Active);
        let expired = AccessLevel {
            expires_at: at(-1),
            ..level()
        };
        assert_eq!(expired.status(now()).state, State::Expired);
        let exactly_now = AccessLevel {
            expires_at: at(0),
            ..level()
        };
        assert_eq!(
            exactly_now.status(now()).state,
            State::Expired,
            "expiry is exclusive"
        );
        let lifetime = AccessLevel {
            expires_at: None,
            ..level()
        };
        assert_eq!(lifetime.status(now()).state, State::Lifetime);
        let scheduled = AccessLevel {
            starts_at: at(2),
            ..level()
        };
        assert_eq!(scheduled.status(now()).state, State::Scheduled);
        let started = AccessLevel {
            starts_at: at(-2),
            ..level()
        };
        assert_eq!(started.status(now()).state, State::Active);
        let unreadable = AccessLevel {
            expires_at: Some(Timestamp::Unreadable("soon".into())),
            ..level()
        };
        assert_eq!(unreadable.status(now()).state, State::Unknown);
    }

    #[test]
    fn scheduled_wins_over_lifetime_and_lifetime_over_expired() {
        let scheduled_lifetime = AccessLevel {
            starts_at: at(5),
            expires_at: None,
            ..level()
        };
        assert_eq!(scheduled_lifetime.status(now()).state, State::Scheduled);
        let lifetime = AccessLevel {
            expires_at: None,
            ..level()
        };
        assert!(lifetime.status(now()).grants_access());
        assert!(!AccessLevel {
            starts_at: at(5),
            ..level()
        }
        .status(now())
        .grants_access());
    }

    #[test]
    fn flags_apply_only_where_they_are_current() {
        let cancelled = AccessLevel {
            renewal_cancelled_at: at(-2),
            ..level()
        };
        assert!(cancelled.status(now()).flags.auto_renew_off);
        let cancelled_and_over = AccessLevel {
            expires_at: at(-1),
            ..cancelled.clone()
        };
        assert!(
            !cancelled_and_over.status(now()).flags.auto_renew_off,
            "history, not a flag"
        );

        let grace = AccessLevel {
            is_in_grace_period: true,
            billing_issue_detected_at: at(-1),
            ..level()
        };
        let flags = grace.status(now()).flags;
        assert!(flags.grace_period && flags.billing_issue);
        let stale_grace = AccessLevel {
            expires_at: at(-1),
            ..grace
        };
        let flags = stale_grace.status(now()).flags;
        assert!(!flags.grace_period && !flags.billing_issue);

        let refunded = AccessLevel {
            expires_at: at(-1),
            cancellation_reason: Some("refund".into()),
            ..level()
        };
        assert!(refunded.status(now()).flags.refunded);
        let sandbox = AccessLevel {
            environment: Some("Sandbox".into()),
            ..level()
        };
        assert!(sandbox.status(now()).flags.sandbox);
        assert!(
            !level().status(now()).flags.sandbox,
            "missing environment is not sandbox"
        );
    }

    #[test]
    fn the_worst_fact_sets_the_tone() {
        assert_eq!(level().status(now()).tone(), Tone::Good);
        let cancelled = AccessLevel {
            renewal_cancelled_at: at(-2),
            ..level()
        };
        assert_eq!(cancelled.status(now()).tone(), Tone::Warning);
        let expired = AccessLevel {
            expires_at: at(-1),
            ..level()
        };
        assert_eq!(expired.status(now()).tone(), Tone::Muted);
        let refunded = AccessLevel {
            cancellation_reason: Some("refund".into()),
            ..expired
        };
        assert_eq!(refunded.status(now()).tone(), Tone::Bad);
        let scheduled = AccessLevel {
            starts_at: at(2),
            ..level()
        };
        assert_eq!(scheduled.status(now()).tone(), Tone::Info);
        let flags = Flags {
            refunded: true,
            sandbox: true,
            auto_renew_off: true,
            ..Flags::default()
        };
        assert_eq!(flags.labels(), ["Refunded", "Auto-renew off", "Sandbox"]);
    }

    #[test]
    fn subscriptions_share_the_rules() {
        let subscription = Subscription {
            store: "play_store".into(),
            store_product_id: "monthly".into(),
            store_base_plan_id: None,
            store_transaction_id: None,
            store_original_transaction_id: None,
            offer: None,
            environment: Some("Production".into()),
            purchased_at: at(-10),
            originally_purchased_at: at(-40),
            expires_at: at(20),
            renewal_cancelled_at: None,
            billing_issue_detected_at: at(-1),
            is_in_grace_period: true,
            cancellation_reason: None,
        };
        let status = subscription.status(now());
        assert_eq!(status.state, State::Active);
        assert!(status.flags.grace_period && status.flags.billing_issue);
        assert_eq!(status.tone(), Tone::Warning);
    }
}
