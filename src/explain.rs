//! One plain sentence per access level, and a headline per profile, so an
//! agent on the phone never has to read raw dates to answer "why".

use crate::format::{self, Clock};
use crate::model::{AccessLevel, Offer, Profile, Timestamp};
use crate::status::{State, Tone};

/// "premium is active until 10 Jan 2025 (in 3 days) through the App Store
/// product weekly.premium.599; auto-renew was turned off on 5 Jan 2025."
pub fn access_level(level: &AccessLevel, clock: &Clock) -> String {
    let status = level.status(clock.now);
    let id = &level.access_level_id;
    let through = through(level);
    let when = |value: Option<&Timestamp>| date_words(value, clock, false);
    let when_relative = |value: Option<&Timestamp>| date_words(value, clock, true);

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
        sentence += " This is a sandbox (test) purchase: no real money was charged.";
    }
    sentence
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

fn date_words(value: Option<&Timestamp>, clock: &Clock, relative: bool) -> String {
    match value {
        None => "an unknown date".into(),
        Some(Timestamp::Unreadable(raw)) => format!("\"{raw}\""),
        Some(Timestamp::At(at)) if relative => clock.date_with_relative(*at),
        Some(Timestamp::At(at)) => clock.date(*at),
    }
}

/// The profile in one line: "Has premium", "No active access", …
pub fn headline(profile: &Profile, clock: &Clock) -> (String, Tone) {
    let statuses: Vec<_> = profile
        .access_levels
        .iter()
        .map(|level| (level, level.status(clock.now)))
        .collect();
    let granted: Vec<_> = statuses
        .iter()
        .filter(|(_, status)| status.grants_access())
        .collect();
    if !granted.is_empty() {
        let names: Vec<&str> = granted
            .iter()
            .map(|(level, _)| level.access_level_id.as_str())
            .collect();
        let worst = granted
            .iter()
            .map(|(_, status)| status.tone())
            .max_by_key(|tone| *tone as u8);
        let trouble = granted
            .iter()
            .find(|(_, status)| status.flags.billing_issue || status.flags.grace_period);
        let text = match trouble {
            Some(_) => format!("Has {} — with a billing issue", names.join(", ")),
            None => format!("Has {}", names.join(", ")),
        };
        return (text, worst.unwrap_or(Tone::Good));
    }
    if let Some((level, _)) = statuses
        .iter()
        .find(|(_, status)| status.state == State::Scheduled)
    {
        let starts = date_words(level.starts_at.as_ref(), clock, true);
        return (
            format!(
                "No active access: {} starts on {starts}",
                level.access_level_id
            ),
            Tone::Info,
        );
    }
    match statuses
        .iter()
        .find(|(_, status)| status.state == State::Expired)
    {
        Some((level, _)) => (
            format!(
                "No active access: {} expired on {}",
                level.access_level_id,
                date_words(level.expires_at.as_ref(), clock, true)
            ),
            Tone::Muted,
        ),
        None if statuses.is_empty() => ("No active access: no access levels".into(), Tone::Muted),
        None => ("No active access".into(), Tone::Muted),
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

    #[test]
    fn headlines() {
        let profile = |levels: Vec<AccessLevel>| {
            let mut profile = Envelope::parse(r#"{"data":{"profile_id":"p"}}"#).unwrap();
            profile.access_levels = levels;
            profile
        };
        assert_eq!(
            headline(&profile(vec![weekly()]), &clock()),
            ("Has premium".into(), Tone::Good)
        );
        let trouble = AccessLevel {
            is_in_grace_period: true,
            billing_issue_detected_at: at(-1),
            ..weekly()
        };
        assert_eq!(
            headline(&profile(vec![trouble]), &clock()),
            ("Has premium — with a billing issue".into(), Tone::Warning)
        );
        let expired = AccessLevel {
            expires_at: at(-40),
            ..weekly()
        };
        assert_eq!(
            headline(&profile(vec![expired]), &clock()).0,
            "No active access: premium expired on 28 Nov 2024 (40 days ago)"
        );
        let scheduled = AccessLevel {
            starts_at: at(5),
            ..weekly()
        };
        assert_eq!(
            headline(&profile(vec![scheduled]), &clock()),
            (
                "No active access: premium starts on 12 Jan 2025 (in 5 days)".into(),
                Tone::Info
            )
        );
        assert_eq!(
            headline(&profile(vec![]), &clock()).0,
            "No active access: no access levels"
        );
    }
}
