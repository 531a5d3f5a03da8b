//! One plain sentence per access level, and a headline per profile, so an
//! agent on the phone never has to read raw dates to answer "why".

use crate::format::{self, Clock};
use crate::model::{AccessLevel, Offer, Profile, StaffChange, Timestamp};
use crate::status::{Period, State, Status, Tone};
use chrono::{DateTime, Utc};

/// "premium is active until 10 Jan 2025 (in 3 days) through the App Store
/// product weekly.premium.599; auto-renew was turned off on 5 Jan 2025."
pub fn access_level(level: &AccessLevel, clock: &Clock) -> String {
    let status = level.status(clock.now);
    let id = &level.access_level_id;
    let through = through(level);
    let when = |value: Option<&Timestamp>| date_words(value, clock, false);
    let when_relative = |value: Option<&Timestamp>| date_words(value, clock, true);
    if let Some(change) = level
        .by_support
        .as_ref()
        .filter(|_| status.state != State::Unknown)
    {
        return by_support(level, change, status, clock);
    }

    let mut sentence = match status.state {
        State::Unknown => {
            let raw = [level.starts_at.as_ref(), level.expires_at.as_ref()]
                .into_iter()
                .flatten()
                .find_map(format::unreadable)
                .unwrap_or_default();
            format!("{id}'s state cannot be determined: Adapty sent a date the panel cannot read (\"{raw}\"); {through}")
        }
        State::Scheduled => {
            let mut text = format!(
                "{id} starts on {} {through}",
                when_relative(level.starts_at.as_ref())
            );
            if level.expires_at.is_some() {
                text += &format!(" and runs until {}", when(level.expires_at.as_ref()));
            }
            text
        }
        State::Lifetime => {
            let mut text = format!("{id} is lifetime access {through}");
            if level.purchased_at.is_some() {
                text += &format!(", purchased on {}", when(level.purchased_at.as_ref()));
            }
            text
        }
        State::Expired => format!(
            "{id} expired on {} {through}",
            when_relative(level.expires_at.as_ref())
        ),
        State::Active if status.flags.grace_period => format!(
            "{id} is in a billing grace period until {} {through}",
            when_relative(level.expires_at.as_ref())
        ),
        State::Active => {
            let renews = !status.flags.auto_renew_off && !status.flags.billing_issue;
            format!(
                "{id} is active until {} {through}{}",
                when_relative(level.expires_at.as_ref()),
                if renews {
                    " and renews automatically"
                } else {
                    ""
                }
            )
        }
    };

    let mut clauses = Vec::new();
    if let Some(cancelled) = level.renewal_cancelled_at.as_ref() {
        clauses.push(match status.state {
            State::Active | State::Scheduled => {
                format!("auto-renew was turned off on {}", when(Some(cancelled)))
            }
            _ => format!(
                "auto-renew had been turned off on {}",
                when(Some(cancelled))
            ),
        });
    }
    if status.flags.billing_issue {
        clauses.push(format!(
            "the store reported a billing issue on {}",
            when(level.billing_issue_detected_at.as_ref())
        ));
    }
    if status.flags.grace_period {
        clauses.push("access continues while the store retries the payment".into());
    }
    if status.flags.refunded {
        clauses.push("the purchase was refunded".into());
    } else if let Some(reason) = level.cancellation_reason.as_deref() {
        clauses.push(format!(
            "cancellation reason: {}",
            format::cancellation_reason(reason)
        ));
    }
    for clause in clauses {
        sentence += "; ";
        sentence += &clause;
    }
    sentence.push('.');
    if status.flags.sandbox {
        sentence += SANDBOX_SENTENCE;
    }
    sentence
}

const SANDBOX_SENTENCE: &str = " This is a sandbox (test) purchase: no real money was charged.";

/// A level support's change explains, without the store's old record:
/// "premium is active until 28 Dec 2026 (in 30 days), granted by support:
/// alice@example.com on 28 Nov 2026, reason “goodwill, ticket 4411”."
fn by_support(level: &AccessLevel, change: &StaffChange, status: Status, clock: &Clock) -> String {
    let id = &level.access_level_id;
    let when = |value: Option<&Timestamp>| date_words(value, clock, true);
    let expires = level.expires_at.as_ref();
    let state = match status.state {
        State::Scheduled if expires.is_some() => format!(
            "{id} starts on {} and runs until {}",
            when(level.starts_at.as_ref()),
            date_words(expires, clock, false)
        ),
        State::Scheduled => format!(
            "{id} starts on {} as lifetime access",
            when(level.starts_at.as_ref())
        ),
        State::Lifetime => format!("{id} is lifetime access"),
        State::Expired => format!("{id} ended on {}", when(expires)),
        _ if change.revoked => format!("{id} is active until {}, then ends", when(expires)),
        _ => format!("{id} is active until {}", when(expires)),
    };
    let mut sentence = format!("{state}, {}.", support_words(change, clock, usize::MAX));
    if status.flags.sandbox {
        sentence += SANDBOX_SENTENCE;
    }
    sentence
}

/// How many characters of support's reason the headline shows.
pub const HEADLINE_REASON: usize = 60;

/// "granted by support: alice@example.com on 28 Nov 2026, reason
/// “goodwill, ticket 4411”", the reason on one line and cut after `limit`
/// characters.
pub fn support_words(change: &StaffChange, clock: &Clock, limit: usize) -> String {
    let mut reason: String = change
        .reason
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if let Some((cut, _)) = reason.char_indices().nth(limit) {
        reason.truncate(cut);
        reason.push('…');
    }
    format!(
        "{} by support: {} on {}, reason \u{201c}{reason}\u{201d}",
        if change.revoked { "revoked" } else { "granted" },
        change.author,
        clock.date(change.at)
    )
}

/// "through the Play Store product premium_monthly (base plan monthly), with
/// an introductory free trial offer (trial-7-days)"
fn through(level: &AccessLevel) -> String {
    let mut text = format!(
        "through the {} product {}",
        format::store(&level.store),
        level.store_product_id
    );
    if let Some(plan) = &level.store_base_plan_id {
        text += &format!(" (base plan {plan})");
    }
    if let Some(offer) = &level.offer {
        text += &format!(", with {}", offer_words(offer));
    }
    text
}

/// "an introductory free trial offer (trial-7-days)"
pub fn offer_words(offer: &Offer) -> String {
    let mut words: Vec<String> = Vec::new();
    if let Some(category) = &offer.category {
        words.push(format::offer_category(category));
    }
    if let Some(kind) = &offer.offer_type {
        words.push(format::offer_type(kind));
    }
    words.push("offer".into());
    let phrase = words.join(" ");
    let article = if phrase.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    match &offer.id {
        Some(id) => format!("{article} {phrase} ({id})"),
        None => format!("{article} {phrase}"),
    }
}

/// What an access level will be after a change, decided by the same state
/// rules as its card: "premium will be active until 28 Dec 2026 (in 30
/// days)." `starts` `None` is now; `ends` `None` is lifetime.
pub fn after_change(
    id: &str,
    starts: Option<DateTime<Utc>>,
    ends: Option<DateTime<Utc>>,
    revoke: bool,
    clock: &Clock,
) -> String {
    let (starts_at, expires_at) = (starts.map(Timestamp::At), ends.map(Timestamp::At));
    let period = Period {
        starts_at: starts_at.as_ref(),
        expires_at: expires_at.as_ref(),
        renewal_cancelled_at: None,
        billing_issue_detected_at: None,
        is_in_grace_period: false,
        cancellation_reason: None,
        environment: None,
    };
    let when = |value: Option<&Timestamp>| date_words(value, clock, true);
    let until = |value: Option<&Timestamp>| date_words(value, clock, false);
    match Status::of(&period, clock.now).state {
        State::Scheduled if ends.is_some() => format!(
            "{id} will start on {} and run until {}.",
            when(starts_at.as_ref()),
            until(expires_at.as_ref())
        ),
        State::Scheduled => format!(
            "{id} will start on {} and then be lifetime access.",
            when(starts_at.as_ref())
        ),
        State::Lifetime => format!("{id} will be lifetime access."),
        State::Expired => format!("{id} will end now: the customer loses access at once."),
        _ => format!(
            "{id} will be active until {}{}.",
            when(expires_at.as_ref()),
            if revoke { ", then end" } else { "" }
        ),
    }
}

fn date_words(value: Option<&Timestamp>, clock: &Clock, relative: bool) -> String {
    match value {
        None => "an unknown date".into(),
        Some(Timestamp::Unreadable(raw)) => format!("\"{raw}\""),
        Some(Timestamp::At(at)) if relative => clock.date_with_relative(*at),
        Some(Timestamp::At(at)) => clock.date(*at),
    }
}

/// The profile in one line, naming the fact that decides the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    /// "No access: premium was refunded on 25 Nov 2026 (3 days ago)"
    pub text: String,
    /// The same in a few words, for the tab's title: "No access (refunded)".
    pub short: String,
    pub tone: Tone,
}

impl Headline {
    fn new(text: String, short: impl Into<String>, tone: Tone) -> Headline {
        Headline {
            text,
            short: short.into(),
            tone,
        }
    }
}

/// The headline, by these rules (README, "The headline"). Access levels are
/// real (production or unknown) or sandbox; `hide_sandbox` takes the sandbox
/// ones out of view, as it does on the cards.
///
/// - Real access granted: "Has " and, for each such level, the phrase of its
///   first fact in this order: refunded, billing issue (the end date and
///   where the customer pays), grace period (its end), auto-renew off
///   ("until …, won't renew"), lifetime, else "until …, renews
///   automatically". Granted sandbox levels follow as "sandbox (test)
///   purchase only".
/// - Otherwise, first match: a refunded level that ended ("No access: premium
///   was refunded on …", the day access ended); a granted sandbox level ("Has
///   premium — sandbox (test) purchase only", or with `hide_sandbox` "No
///   production access"); a scheduled level; the level that expired last
///   (when its last period was a free trial and the profile's revenue is
///   zero: "No access: premium's free trial ended on … — nothing was
///   charged"); an unreadable date; no access levels at all.
pub fn headline(profile: &Profile, clock: &Clock, hide_sandbox: bool) -> Headline {
    // One pass: the phrases of real granted levels, the names of granted
    // sandbox ones, and among the visible levels the one that decides each
    // "no access" rule.
    let mut real: Vec<Phrase> = Vec::new();
    let mut sandbox: Vec<&str> = Vec::new();
    let mut refunded: Option<&AccessLevel> = None;
    let mut expired: Option<&AccessLevel> = None;
    let mut scheduled: Option<&AccessLevel> = None;
    let mut unknown: Option<&AccessLevel> = None;
    let ended = |level: &AccessLevel| level.expires_at.as_ref().and_then(Timestamp::instant);
    let later =
        |slot: Option<&AccessLevel>, level| slot.is_none_or(|old| ended(old) <= ended(level));
    for level in &profile.access_levels {
        let status = level.status(clock.now);
        match (status.grants_access(), status.flags.sandbox) {
            (true, false) => real.push(granted_phrase(level, status, clock)),
            (true, true) => sandbox.push(&level.access_level_id),
            _ => {}
        }
        if hide_sandbox && status.flags.sandbox {
            continue;
        }
        match status.state {
            State::Expired if status.flags.refunded && later(refunded, level) => {
                refunded = Some(level)
            }
            State::Expired if later(expired, level) => expired = Some(level),
            State::Scheduled if scheduled.is_none() => scheduled = Some(level),
            State::Unknown if unknown.is_none() => unknown = Some(level),
            _ => {}
        }
    }
    let id = |level: &AccessLevel| level.access_level_id.clone();
    let when = |value: Option<&Timestamp>| date_words(value, clock, true);
    let sandbox_names = sandbox.join(", ");

    if !real.is_empty() {
        // The most pressing fact first: the phrases in the rules' order.
        let mut text = Vec::new();
        for rank in 0..=4 {
            text.extend(
                real.iter()
                    .filter(|phrase| phrase.rank == rank)
                    .map(|phrase| phrase.text.as_str()),
            );
        }
        let sandbox_phrase = format!("{sandbox_names} — sandbox (test) purchase only");
        if !hide_sandbox && !sandbox.is_empty() {
            text.push(&sandbox_phrase);
        }
        let first = real
            .iter()
            .min_by_key(|phrase| phrase.rank)
            .expect("not empty");
        let names: Vec<&str> = real.iter().map(|phrase| phrase.id).collect();
        let mut short = format!("Has {}", names.join(", "));
        if !first.fact.is_empty() {
            short += &format!(" ({})", first.fact);
        }
        return Headline::new(format!("Has {}", text.join("; ")), short, first.tone);
    }
    if let Some(level) = refunded {
        return Headline::new(
            format!(
                "No access: {} was refunded on {}",
                id(level),
                when(level.expires_at.as_ref())
            ),
            "No access (refunded)",
            Tone::Bad,
        );
    }
    if !sandbox.is_empty() {
        return if hide_sandbox {
            Headline::new(
                format!("No production access: {sandbox_names} is sandbox (test) only, hidden"),
                "No production access",
                Tone::Muted,
            )
        } else {
            Headline::new(
                format!("Has {sandbox_names} — sandbox (test) purchase only"),
                format!("Has {sandbox_names} (sandbox only)"),
                Tone::Warning,
            )
        };
    }
    let by_support = |level: &AccessLevel| {
        level
            .by_support
            .as_ref()
            .map(|change| format!(", {}", support_words(change, clock, HEADLINE_REASON)))
            .unwrap_or_default()
    };
    if let Some(level) = scheduled {
        return Headline::new(
            format!(
                "No access yet: {} starts on {}{}",
                id(level),
                when(level.starts_at.as_ref()),
                by_support(level)
            ),
            "No access yet (scheduled)",
            Tone::Info,
        );
    }
    if let Some(level) = expired {
        if let Some(change) = level.by_support.as_ref().filter(|change| change.revoked) {
            return Headline::new(
                format!(
                    "No access: {} was {}",
                    id(level),
                    support_words(change, clock, HEADLINE_REASON)
                ),
                "No access (revoked by support)",
                Tone::Muted,
            );
        }
        // "I paid": a free trial that ended with nothing ever charged is
        // the answer, not merely an expiry.
        let trial = level
            .offer
            .as_ref()
            .and_then(|offer| offer.offer_type.as_deref());
        if trial == Some("free_trial")
            && profile.total_revenue_usd == 0.0
            && level.by_support.is_none()
        {
            return Headline::new(
                format!(
                    "No access: {}'s free trial ended on {} — nothing was charged",
                    id(level),
                    when(level.expires_at.as_ref())
                ),
                "No access (free trial ended)",
                Tone::Muted,
            );
        }
        return Headline::new(
            format!(
                "No access: {} expired on {}{}",
                id(level),
                when(level.expires_at.as_ref()),
                by_support(level)
            ),
            "No access (expired)",
            Tone::Muted,
        );
    }
    if let Some(level) = unknown {
        return Headline::new(
            format!(
                "Access unknown: {} has a date the panel cannot read",
                id(level)
            ),
            "Access unknown",
            Tone::Muted,
        );
    }
    let why = if profile.access_levels.is_empty() {
        "No access: this customer has never had an access level"
    } else {
        "No access: only sandbox access levels, hidden"
    };
    Headline::new(why.into(), "No access", Tone::Muted)
}

/// A granted real access level in the headline.
struct Phrase<'a> {
    /// Its place in the rules' order: the lowest comes first.
    rank: u8,
    id: &'a str,
    text: String,
    /// The fact in a word or two, for the tab's title; empty when all is well.
    fact: &'static str,
    tone: Tone,
}

fn granted_phrase<'a>(level: &'a AccessLevel, status: Status, clock: &Clock) -> Phrase<'a> {
    let id = level.access_level_id.as_str();
    let until = match status.state {
        State::Lifetime => "for life".into(),
        _ => format!(
            "until {}",
            date_words(level.expires_at.as_ref(), clock, true)
        ),
    };
    let flags = status.flags;
    let pay = format::payment_place(&level.store);
    let support = level.by_support.as_ref();
    let said = support
        .map(|change| support_words(change, clock, HEADLINE_REASON))
        .unwrap_or_default();
    // Support's change first: the store's facts from before it are gone
    // from `flags`. Granted access with an end does not renew on its own.
    let (rank, text, fact, tone) = if support.is_some_and(|change| change.revoked) {
        (
            3,
            format!("{id} {until}, then ends: {said}"),
            "revoked by support",
            Tone::Warning,
        )
    } else if support.is_some() && status.state == State::Lifetime {
        (4, format!("{id} {until}, {said}"), "", Tone::Good)
    } else if support.is_some() {
        (
            3,
            format!("{id} {until}, {said}"),
            "granted by support",
            Tone::Info,
        )
    } else if flags.refunded {
        (
            0,
            format!("{id} {until} — but the purchase was refunded"),
            "refunded",
            Tone::Bad,
        )
    } else if flags.billing_issue && !flags.grace_period {
        (
            1,
            format!("{id} {until} — billing issue: the customer must update payment {pay}"),
            "billing issue",
            Tone::Warning,
        )
    } else if flags.grace_period {
        (
            2,
            format!(
                "{id} in a grace period {until} — a payment failed: the customer must update \
                 payment {pay} before then"
            ),
            "grace period",
            Tone::Warning,
        )
    } else if flags.auto_renew_off {
        (
            3,
            format!("{id} {until}, won't renew"),
            "won't renew",
            Tone::Warning,
        )
    } else if status.state == State::Lifetime {
        (4, format!("{id} {until}"), "", Tone::Good)
    } else {
        (
            4,
            format!("{id} {until}, renews automatically"),
            "",
            Tone::Good,
        )
    };
    Phrase {
        rank,
        id,
        text,
        fact,
        tone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 7, 12, 0, 0).unwrap()
    }

    fn clock() -> Clock {
        Clock::in_utc(now())
    }

    fn at(days: i64) -> Option<Timestamp> {
        Some(Timestamp::At(now() + Duration::days(days)))
    }

    fn weekly() -> AccessLevel {
        crate::model::sample_access_level(now())
    }

    #[test]
    fn active_and_renewing() {
        assert_eq!(
            access_level(&weekly(), &clock()),
            "premium is active until 10 Jan 2025 (in 3 days) through the App Store product \
             weekly.premium.599 and renews automatically."
        );
    }

    #[test]
    fn active_with_auto_renew_off() {
        let level = AccessLevel {
            renewal_cancelled_at: at(-2),
            ..weekly()
        };
        assert_eq!(
            access_level(&level, &clock()),
            "premium is active until 10 Jan 2025 (in 3 days) through the App Store product \
             weekly.premium.599; auto-renew was turned off on 5 Jan 2025."
        );
    }

    #[test]
    fn grace_period_with_billing_issue() {
        let level = AccessLevel {
            is_in_grace_period: true,
            billing_issue_detected_at: at(-1),
            ..weekly()
        };
        assert_eq!(
            access_level(&level, &clock()),
            "premium is in a billing grace period until 10 Jan 2025 (in 3 days) through the App Store \
             product weekly.premium.599; the store reported a billing issue on 6 Jan 2025; access \
             continues while the store retries the payment."
        );
    }

    #[test]
    fn billing_issue_without_grace_does_not_promise_renewal() {
        let level = AccessLevel {
            billing_issue_detected_at: at(-1),
            ..weekly()
        };
        let text = access_level(&level, &clock());
        assert!(!text.contains("renews automatically"), "{text}");
        assert!(
            text.ends_with("the store reported a billing issue on 6 Jan 2025."),
            "{text}"
        );
    }

    #[test]
    fn expired_with_history_and_reason() {
        let level = AccessLevel {
            expires_at: at(-40),
            renewal_cancelled_at: at(-45),
            cancellation_reason: Some("voluntarily_cancelled".into()),
            ..weekly()
        };
        assert_eq!(
            access_level(&level, &clock()),
            "premium expired on 28 Nov 2024 (40 days ago) through the App Store product \
             weekly.premium.599; auto-renew had been turned off on 23 Nov 2024; cancellation \
             reason: the customer cancelled."
        );
    }

    #[test]
    fn refunded() {
        let level = AccessLevel {
            expires_at: at(-1),
            cancellation_reason: Some("refund".into()),
            ..weekly()
        };
        assert_eq!(
            access_level(&level, &clock()),
            "premium expired on 6 Jan 2025 (1 day ago) through the App Store product \
             weekly.premium.599; the purchase was refunded."
        );
    }

    #[test]
    fn lifetime() {
        let level = AccessLevel {
            expires_at: None,
            purchased_at: at(-400),
            ..weekly()
        };
        assert_eq!(
            access_level(&level, &clock()),
            "premium is lifetime access through the App Store product weekly.premium.599, \
             purchased on 4 Dec 2023."
        );
    }

    #[test]
    fn scheduled_with_end() {
        let level = AccessLevel {
            starts_at: at(5),
            expires_at: at(35),
            ..weekly()
        };
        assert_eq!(
            access_level(&level, &clock()),
            "premium starts on 12 Jan 2025 (in 5 days) through the App Store product \
             weekly.premium.599 and runs until 11 Feb 2025."
        );
    }

    #[test]
    fn play_store_plan_offer_and_sandbox() {
        let level = AccessLevel {
            store: "play_store".into(),
            store_product_id: "premium_monthly".into(),
            store_base_plan_id: Some("monthly-autorenew".into()),
            offer: Some(Offer {
                category: Some("introductory".into()),
                offer_type: Some("free_trial".into()),
                id: Some("trial-7-days".into()),
            }),
            environment: Some("Sandbox".into()),
            ..weekly()
        };
        assert_eq!(
            access_level(&level, &clock()),
            "premium is active until 10 Jan 2025 (in 3 days) through the Play Store product \
             premium_monthly (base plan monthly-autorenew), with an introductory free trial offer \
             (trial-7-days) and renews automatically. This is a sandbox (test) purchase: no real \
             money was charged."
        );
    }

    #[test]
    fn unknown_store_and_unreadable_date_are_shown_verbatim() {
        let level = AccessLevel {
            store: "my_custom_store".into(),
            expires_at: Some(Timestamp::Unreadable("next Tuesday".into())),
            ..weekly()
        };
        assert_eq!(
            access_level(&level, &clock()),
            "premium's state cannot be determined: Adapty sent a date the panel cannot read \
             (\"next Tuesday\"); through the my_custom_store product weekly.premium.599."
        );
    }

    #[test]
    fn offers_in_words() {
        let offer = |category: Option<&str>, kind: Option<&str>, id: Option<&str>| Offer {
            category: category.map(Into::into),
            offer_type: kind.map(Into::into),
            id: id.map(Into::into),
        };
        assert_eq!(
            offer_words(&offer(Some("promotional"), Some("pay_up_front"), None)),
            "a promotional pay up front offer"
        );
        assert_eq!(
            offer_words(&offer(Some("offer_code"), None, Some("SPRING"))),
            "an offer code offer (SPRING)"
        );
        assert_eq!(offer_words(&offer(None, None, None)), "an offer");
    }

    fn profile(levels: Vec<AccessLevel>) -> Profile {
        let mut profile = Envelope::parse(r#"{"data":{"profile_id":"p"}}"#).unwrap();
        profile.access_levels = levels;
        profile
    }

    fn headline_of(levels: Vec<AccessLevel>, hide_sandbox: bool) -> Headline {
        headline(&profile(levels), &clock(), hide_sandbox)
    }

    fn sandbox(level: AccessLevel) -> AccessLevel {
        AccessLevel {
            environment: Some("Sandbox".into()),
            ..level
        }
    }

    #[test]
    fn headline_of_each_rule() {
        let cases = [
            (weekly(), "Has premium until 10 Jan 2025 (in 3 days), renews automatically", "Has premium", Tone::Good),
            (
                AccessLevel { expires_at: None, ..weekly() },
                "Has premium for life", "Has premium", Tone::Good,
            ),
            (
                AccessLevel { renewal_cancelled_at: at(-2), ..weekly() },
                "Has premium until 10 Jan 2025 (in 3 days), won't renew",
                "Has premium (won't renew)", Tone::Warning,
            ),
            (
                AccessLevel { billing_issue_detected_at: at(-1), ..weekly() },
                "Has premium until 10 Jan 2025 (in 3 days) — billing issue: the customer must update \
                 payment in the App Store",
                "Has premium (billing issue)", Tone::Warning,
            ),
            (
                AccessLevel { billing_issue_detected_at: at(-1), is_in_grace_period: true, store: "play_store".into(), ..weekly() },
                "Has premium in a grace period until 10 Jan 2025 (in 3 days) — a payment failed: the \
                 customer must update payment in the Play Store before then",
                "Has premium (grace period)", Tone::Warning,
            ),
            (
                AccessLevel { expires_at: at(-3), cancellation_reason: Some("refund".into()), ..weekly() },
                "No access: premium was refunded on 4 Jan 2025 (3 days ago)",
                "No access (refunded)", Tone::Bad,
            ),
            (
                sandbox(weekly()),
                "Has premium — sandbox (test) purchase only", "Has premium (sandbox only)", Tone::Warning,
            ),
            (
                AccessLevel { starts_at: at(5), ..weekly() },
                "No access yet: premium starts on 12 Jan 2025 (in 5 days)",
                "No access yet (scheduled)", Tone::Info,
            ),
            (
                AccessLevel { expires_at: at(-40), ..weekly() },
                "No access: premium expired on 28 Nov 2024 (40 days ago)", "No access (expired)", Tone::Muted,
            ),
            (
                AccessLevel { expires_at: Some(Timestamp::Unreadable("soon".into())), ..weekly() },
                "Access unknown: premium has a date the panel cannot read", "Access unknown", Tone::Muted,
            ),
        ];
        for (level, text, short, tone) in cases {
            assert_eq!(
                headline_of(vec![level], false),
                Headline {
                    text: text.into(),
                    short: short.into(),
                    tone
                }
            );
        }
        assert_eq!(
            headline_of(vec![], false).text,
            "No access: this customer has never had an access level"
        );
    }

    #[test]
    fn a_free_trial_that_ended_unpaid_says_nothing_was_charged() {
        let trial = AccessLevel {
            expires_at: at(-3),
            offer: Some(Offer {
                category: Some("introductory".into()),
                offer_type: Some("free_trial".into()),
                id: None,
            }),
            ..weekly()
        };
        let unpaid = headline_of(vec![trial.clone()], false);
        assert_eq!(
            unpaid,
            Headline {
                text: "No access: premium's free trial ended on 4 Jan 2025 (3 days ago) — nothing \
                       was charged"
                    .into(),
                short: "No access (free trial ended)".into(),
                tone: Tone::Muted,
            }
        );
        // Some revenue: something was charged once, so only the expiry is said.
        let mut paid = profile(vec![trial.clone()]);
        paid.total_revenue_usd = 4.99;
        assert_eq!(
            headline(&paid, &clock(), false).text,
            "No access: premium expired on 4 Jan 2025 (3 days ago)"
        );
        // A paid last period, no revenue recorded: an expiry too.
        let bought = AccessLevel {
            offer: None,
            ..trial
        };
        assert_eq!(
            headline_of(vec![bought], false).text,
            "No access: premium expired on 4 Jan 2025 (3 days ago)"
        );
    }

    #[test]
    fn hide_sandbox_changes_the_headline() {
        let hidden = headline_of(vec![sandbox(weekly())], true);
        assert_eq!(
            hidden.text,
            "No production access: premium is sandbox (test) only, hidden"
        );
        assert_eq!(hidden.tone, Tone::Muted);
        let expired_sandbox = sandbox(AccessLevel {
            expires_at: at(-1),
            ..weekly()
        });
        assert_eq!(
            headline_of(vec![expired_sandbox], true).text,
            "No access: only sandbox access levels, hidden"
        );
    }

    #[test]
    fn the_seeds_lifetime_premium_is_sandbox_by_its_product() {
        let seed = Envelope::parse(include_str!("../fixtures/seed.json")).unwrap();
        let shown = headline(&seed, &clock(), false);
        assert_eq!(shown.text, "Has premium — sandbox (test) purchase only");
        assert_eq!(
            headline(&seed, &clock(), true).text,
            "No production access: premium is sandbox (test) only, hidden"
        );
    }

    #[test]
    fn several_levels_put_the_deciding_fact_first() {
        let vip = AccessLevel {
            access_level_id: "vip".into(),
            expires_at: None,
            ..weekly()
        };
        let troubled = AccessLevel {
            billing_issue_detected_at: at(-1),
            ..weekly()
        };
        let both = headline_of(vec![vip.clone(), troubled], false);
        assert!(
            both.text
                .starts_with("Has premium until 10 Jan 2025 (in 3 days) — billing issue"),
            "{}",
            both.text
        );
        assert!(both.text.ends_with("; vip for life"), "{}", both.text);
        assert_eq!(both.short, "Has vip, premium (billing issue)");
        assert_eq!(both.tone, Tone::Warning);

        // Real access is the answer; a sandbox level only follows it.
        let tester = sandbox(AccessLevel {
            access_level_id: "beta".into(),
            ..weekly()
        });
        let mixed = headline_of(vec![tester.clone(), vip.clone()], false);
        assert_eq!(
            mixed.text,
            "Has vip for life; beta — sandbox (test) purchase only"
        );
        assert_eq!(mixed.tone, Tone::Good);
        assert_eq!(
            headline_of(vec![tester.clone(), vip], true).text,
            "Has vip for life"
        );

        // A refund is told before sandbox access, and before an older expiry.
        let refunded = AccessLevel {
            expires_at: at(-3),
            cancellation_reason: Some("refund".into()),
            ..weekly()
        };
        let old = AccessLevel {
            access_level_id: "old".into(),
            expires_at: at(-1),
            ..weekly()
        };
        assert_eq!(
            headline_of(vec![old.clone(), tester, refunded], false).text,
            "No access: premium was refunded on 4 Jan 2025 (3 days ago)"
        );
        let older = AccessLevel {
            expires_at: at(-9),
            ..old.clone()
        };
        assert_eq!(
            headline_of(vec![older, old], false).text,
            "No access: old expired on 6 Jan 2025 (1 day ago)",
            "the level that ended last"
        );
    }

    /// Every combination of one access level's state and facts, with and
    /// without *Hide sandbox*: the headline is the one its rule names, and
    /// never green unless real access renews or lasts for life.
    #[test]
    fn headline_for_every_combination() {
        let states = [
            ("active", weekly()),
            (
                "lifetime",
                AccessLevel {
                    expires_at: None,
                    ..weekly()
                },
            ),
            (
                "expired",
                AccessLevel {
                    expires_at: at(-2),
                    ..weekly()
                },
            ),
            (
                "scheduled",
                AccessLevel {
                    starts_at: at(5),
                    ..weekly()
                },
            ),
            (
                "unknown",
                AccessLevel {
                    expires_at: Some(Timestamp::Unreadable("?".into())),
                    ..weekly()
                },
            ),
        ];
        for (state, base) in states {
            for bits in 0..64u8 {
                let [refunded, in_sandbox, billing, grace, cancelled, hide] =
                    [0, 1, 2, 3, 4, 5].map(|bit| bits & (1 << bit) != 0);
                let level = AccessLevel {
                    cancellation_reason: refunded.then(|| "refund".into()),
                    environment: Some(if in_sandbox { "Sandbox" } else { "Production" }.into()),
                    billing_issue_detected_at: if billing { at(-1) } else { None },
                    is_in_grace_period: grace,
                    renewal_cancelled_at: if cancelled { at(-1) } else { None },
                    ..base.clone()
                };
                let shown = headline_of(vec![level], hide);
                let case = format!("{state} refunded={refunded} sandbox={in_sandbox} billing={billing} grace={grace} cancelled={cancelled} hide={hide}: {shown:?}");
                let text = shown.text.as_str();
                let granted = matches!(state, "active" | "lifetime");
                let expected_start = match state {
                    _ if granted && in_sandbox && hide => "No production access: premium is sandbox (test) only, hidden",
                    _ if granted && in_sandbox => "Has premium — sandbox (test) purchase only",
                    "lifetime" if refunded => "Has premium for life — but the purchase was refunded",
                    "lifetime" if billing => "Has premium for life — billing issue: the customer must update payment in the App Store",
                    "active" if refunded => "Has premium until 10 Jan 2025 (in 3 days) — but the purchase was refunded",
                    "active" if billing && !grace => "Has premium until 10 Jan 2025 (in 3 days) — billing issue: the customer must update payment in the App Store",
                    "active" if grace => "Has premium in a grace period until 10 Jan 2025 (in 3 days) — a payment failed",
                    "active" if cancelled => "Has premium until 10 Jan 2025 (in 3 days), won't renew",
                    "active" => "Has premium until 10 Jan 2025 (in 3 days), renews automatically",
                    "lifetime" => "Has premium for life",
                    _ if in_sandbox && hide => "No access: only sandbox access levels, hidden",
                    "expired" if refunded => "No access: premium was refunded on 5 Jan 2025",
                    "expired" => "No access: premium expired on 5 Jan 2025",
                    "scheduled" => "No access yet: premium starts on 12 Jan 2025",
                    _ => "Access unknown: premium has a date the panel cannot read",
                };
                assert!(text.starts_with(expected_start), "{case}");
                let good = granted
                    && !in_sandbox
                    && !refunded
                    && !billing
                    && !(state == "active" && (grace || cancelled));
                assert_eq!(shown.tone == Tone::Good, good, "{case}");
                assert!(
                    shown.tone != Tone::Good || text.starts_with("Has "),
                    "{case}"
                );
                assert!(!(hide && in_sandbox && text.starts_with("Has")), "{case}");
            }
        }
    }

    fn by_alice(revoked: bool) -> Option<StaffChange> {
        Some(StaffChange {
            revoked,
            author: "alice@example.com".into(),
            reason: "goodwill,\nticket 4411".into(),
            at: now() - Duration::minutes(2),
        })
    }

    /// The issue's case: a cancelled App Store subscription that had
    /// ended, then extended by support, keeps the store's record beside
    /// support's dates. Neither the card nor the headline tells the
    /// store's old story.
    fn extended_by_support() -> AccessLevel {
        AccessLevel {
            expires_at: at(30),
            renewal_cancelled_at: at(-40),
            cancellation_reason: Some("voluntarily_cancelled".into()),
            billing_issue_detected_at: at(-41),
            by_support: by_alice(false),
            ..weekly()
        }
    }

    #[test]
    fn a_level_support_granted_says_so_without_the_stores_old_record() {
        let level = extended_by_support();
        let card = access_level(&level, &clock());
        assert_eq!(
            card,
            "premium is active until 6 Feb 2025 (in 30 days), granted by support: \
             alice@example.com on 7 Jan 2025, reason \u{201c}goodwill, ticket 4411\u{201d}."
        );
        let shown = headline_of(vec![level.clone()], false);
        assert_eq!(
            shown,
            Headline {
                text: "Has premium until 6 Feb 2025 (in 30 days), granted by support: \
                       alice@example.com on 7 Jan 2025, reason \u{201c}goodwill, ticket 4411\u{201d}"
                    .into(),
                short: "Has premium (granted by support)".into(),
                tone: Tone::Info,
            }
        );
        // Without support's record, the same level tells the store's story.
        let store = AccessLevel {
            by_support: None,
            ..level
        };
        assert!(access_level(&store, &clock()).contains("cancellation reason: the customer"));
        assert!(headline_of(vec![store], false)
            .text
            .contains("billing issue"));
    }

    #[test]
    fn every_state_of_a_level_support_changed_reads_as_supports_doing() {
        let cases = [
            (
                AccessLevel { expires_at: None, ..extended_by_support() },
                "premium is lifetime access, granted by support",
                "Has premium for life, granted by support",
            ),
            (
                AccessLevel { starts_at: at(5), ..extended_by_support() },
                "premium starts on 12 Jan 2025 (in 5 days) and runs until 6 Feb 2025, granted by support",
                "No access yet: premium starts on 12 Jan 2025 (in 5 days), granted by support",
            ),
            (
                AccessLevel { expires_at: at(-3), ..extended_by_support() },
                "premium ended on 4 Jan 2025 (3 days ago), granted by support",
                "No access: premium expired on 4 Jan 2025 (3 days ago), granted by support",
            ),
            (
                AccessLevel {
                    expires_at: Some(Timestamp::At(now() - Duration::minutes(2))),
                    by_support: by_alice(true),
                    ..extended_by_support()
                },
                "premium ended on 7 Jan 2025 (2 minutes ago), revoked by support: alice@example.com on 7 Jan 2025",
                "No access: premium was revoked by support: alice@example.com on 7 Jan 2025",
            ),
            (
                AccessLevel { expires_at: at(7), by_support: by_alice(true), ..extended_by_support() },
                "premium is active until 14 Jan 2025 (in 7 days), then ends, revoked by support",
                "Has premium until 14 Jan 2025 (in 7 days), then ends: revoked by support",
            ),
        ];
        for (level, card, headline) in cases {
            let sentence = access_level(&level, &clock());
            assert!(sentence.starts_with(card), "{sentence}");
            assert!(!sentence.contains("App Store"), "{sentence}");
            assert!(!sentence.contains("cancel"), "{sentence}");
            let shown = headline_of(vec![level], false).text;
            assert!(shown.starts_with(headline), "{shown}");
            assert!(!shown.contains("won't renew"), "{shown}");
        }
        // A sandbox level stays one.
        let tester = sandbox(extended_by_support());
        assert!(access_level(&tester, &clock()).ends_with("no real money was charged."));
    }

    #[test]
    fn the_headline_cuts_a_long_reason_the_card_keeps_it_whole() {
        let reason = "x".repeat(200);
        let level = AccessLevel {
            by_support: Some(StaffChange {
                reason: reason.clone(),
                ..by_alice(false).unwrap()
            }),
            ..extended_by_support()
        };
        assert!(access_level(&level, &clock()).contains(&reason));
        let shown = headline_of(vec![level], false).text;
        assert!(
            shown.ends_with(&format!(
                "\u{201c}{}\u{2026}\u{201d}",
                "x".repeat(HEADLINE_REASON)
            )),
            "{shown}"
        );
    }
}
