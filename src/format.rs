//! How values read to a person: dates in the admin's zone with relative time,
//! money, and Adapty's codes in words. Written by hand rather than with
//! chrono's `format` machinery, which would add weight to the wasm for a few
//! fixed patterns.

use crate::model::Timestamp;
use chrono::{DateTime, Datelike, Duration, FixedOffset, Timelike, Utc};

/// "Now" and the admin's time zone, passed in so that everything here is
/// tested with a fixed clock; the browser supplies its own.
#[derive(Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    /// Minutes east of UTC at a given instant (varies with daylight saving).
    pub offset_minutes: fn(DateTime<Utc>) -> i32,
    /// Show every date in UTC instead of the admin's zone.
    pub utc: bool,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Clock {
    pub fn in_utc(now: DateTime<Utc>) -> Clock {
        Clock {
            now,
            offset_minutes: |_| 0,
            utc: true,
        }
    }

    fn local(&self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        let minutes = if self.utc {
            0
        } else {
            (self.offset_minutes)(at)
        };
        let offset = FixedOffset::east_opt(minutes * 60)
            .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
        at.with_timezone(&offset)
    }

    /// `10 Jan 2025`, in the admin's zone.
    pub fn date(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        format!(
            "{} {} {}",
            local.day(),
            MONTHS[local.month0() as usize],
            local.year()
        )
    }

    /// `10 Jan 2025, 14:34` in the admin's zone, or `10 Jan 2025, 11:34 UTC`.
    pub fn date_time(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        let zone = if self.utc { " UTC" } else { "" };
        format!(
            "{}, {:02}:{:02}{zone}",
            self.date(at),
            local.hour(),
            local.minute()
        )
    }

    /// `14:34` in the admin's zone, `11:34 UTC` in UTC.
    pub fn time(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        let zone = if self.utc { " UTC" } else { "" };
        format!("{:02}:{:02}{zone}", local.hour(), local.minute())
    }

    /// `in 3 days`, `2 months ago`, `just now`.
    pub fn relative(&self, at: DateTime<Utc>) -> String {
        relative(at - self.now)
    }

    /// A date as it is read in a sentence: `10 Jan 2025 (in 3 days)`.
    pub fn date_with_relative(&self, at: DateTime<Utc>) -> String {
        format!("{} ({})", self.date(at), self.relative(at))
    }
}

/// The exact instant, for a tooltip: `2025-01-10 11:34:40 UTC`.
pub fn exact_utc(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The machine-readable instant for `<time datetime>`: `2025-01-10T11:34:40Z`.
pub fn iso(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A timestamp as Adapty sent it when it cannot be read, else `None`.
pub fn unreadable(value: &Timestamp) -> Option<&str> {
    match value {
        Timestamp::At(_) => None,
        Timestamp::Unreadable(raw) => Some(raw),
    }
}

fn relative(delta: Duration) -> String {
    let future = delta > Duration::zero();
    let span = delta.abs();
    // Rounded, not truncated: 6 days 23 hours reads as "7 days".
    let rounded =
        |unit: Duration| (span.num_seconds() as f64 / unit.num_seconds() as f64).round() as i64;
    let (count, unit) = if span < Duration::minutes(1) {
        return "just now".into();
    } else if span < Duration::hours(1) {
        (rounded(Duration::minutes(1)), "minute")
    } else if span < Duration::days(1) {
        (rounded(Duration::hours(1)), "hour")
    } else if span < Duration::days(45) {
        (rounded(Duration::days(1)), "day")
    } else if span < Duration::days(365) {
        // Months of 30.44 days: good enough for "how long ago".
        (rounded(Duration::seconds(2_630_016)), "month")
    } else {
        (rounded(Duration::seconds(31_557_600)).max(1), "year")
    };
    let plural = if count == 1 { "" } else { "s" };
    if future {
        format!("in {count} {unit}{plural}")
    } else {
        format!("{count} {unit}{plural} ago")
    }
}

/// Why the panel shows when it received an answer rather than Adapty's
/// own time of it (`Profile::produced_at`): "Adapty's own time cannot be
/// right (timestamp 0)".
pub fn no_adapty_time(timestamp: Option<i64>) -> String {
    match timestamp {
        Some(millis) => format!("Adapty's own time cannot be right (timestamp {millis})"),
        None => "Adapty sent no time of its own".into(),
    }
}

pub fn usd(amount: f64) -> String {
    let sign = if amount < 0.0 { "-" } else { "" };
    let cents = (amount.abs() * 100.0).round() as u64;
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// `8000` as `8,000`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Known stores by their usual names; a custom store's name verbatim.
pub fn store(code: &str) -> String {
    match code {
        "app_store" => "App Store".into(),
        "play_store" => "Play Store".into(),
        "stripe" => "Stripe".into(),
        "paddle" => "Paddle".into(),
        "adapty" => "Adapty".into(),
        "" => "an unnamed store".into(),
        other => other.into(),
    }
}

/// Where a customer fixes a failed payment: "in the App Store", "with Stripe".
pub fn payment_place(code: &str) -> String {
    match code {
        "app_store" | "play_store" => format!("in the {}", store(code)),
        "" => "with the store".into(),
        other => format!("with {}", store(other)),
    }
}

/// Adapty's cancellation reasons in words; an unknown one verbatim.
pub fn cancellation_reason(code: &str) -> String {
    match code {
        "voluntarily_cancelled" => "the customer cancelled".into(),
        "billing_error" => "a billing error".into(),
        "price_increase" => "the customer did not accept a price increase".into(),
        "product_was_not_available" => "the product was not available".into(),
        "refund" => "a refund".into(),
        "upgraded" => "an upgrade to another product".into(),
        "new_subscription_replace" => "a new subscription replaced it".into(),
        "cancelled_by_developer" => "the app's developer cancelled it".into(),
        "adapty_revoked" => "access was revoked in Adapty".into(),
        "unknown" => "an unknown reason".into(),
        other => other.into(),
    }
}

pub fn offer_category(code: &str) -> String {
    match code {
        "introductory" => "introductory".into(),
        "promotional" => "promotional".into(),
        "offer_code" => "offer code".into(),
        "win_back" => "win-back".into(),
        other => other.into(),
    }
}

pub fn offer_type(code: &str) -> String {
    match code {
        "free_trial" => "free trial".into(),
        "pay_as_you_go" => "pay as you go".into(),
        "pay_up_front" => "pay up front".into(),
        "unknown" => "unknown type".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 7, 12, 0, 0).unwrap()
    }

    fn berlin_winter() -> Clock {
        Clock {
            now: now(),
            offset_minutes: |_| 60,
            utc: false,
        }
    }

    #[test]
    fn dates_are_shown_in_the_admins_zone_or_in_utc() {
        let at = Utc.with_ymd_and_hms(2025, 1, 10, 23, 34, 40).unwrap();
        assert_eq!(
            berlin_winter().date(at),
            "11 Jan 2025",
            "past midnight in Berlin"
        );
        assert_eq!(berlin_winter().date_time(at), "11 Jan 2025, 00:34");
        assert_eq!(Clock::in_utc(now()).date_time(at), "10 Jan 2025, 23:34 UTC");
        assert_eq!(exact_utc(at), "2025-01-10 23:34:40 UTC");
        let toggled = Clock {
            utc: true,
            ..berlin_winter()
        };
        assert_eq!(toggled.date_time(at), "10 Jan 2025, 23:34 UTC");
    }

    #[test]
    fn relative_time_reads_naturally_both_ways() {
        let clock = Clock::in_utc(now());
        let cases = [
            (Duration::seconds(20), "just now"),
            (Duration::minutes(-1), "1 minute ago"),
            (Duration::minutes(5), "in 5 minutes"),
            (Duration::hours(-3), "3 hours ago"),
            (Duration::days(3), "in 3 days"),
            (Duration::days(7) - Duration::minutes(1), "in 7 days"),
            (Duration::hours(30), "in 1 day"),
            (Duration::days(-1), "1 day ago"),
            (Duration::days(-61), "2 months ago"),
            (Duration::days(200), "in 7 months"),
            (Duration::days(-800), "2 years ago"),
        ];
        for (delta, expected) in cases {
            assert_eq!(clock.relative(now() + delta), expected, "{delta:?}");
        }
        assert_eq!(
            clock.date_with_relative(now() + Duration::days(3)),
            "10 Jan 2025 (in 3 days)"
        );
    }

    #[test]
    fn money_counts_and_codes_in_words() {
        assert_eq!(usd(9.99), "$9.99");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(-4.5), "-$4.50");
        assert_eq!(usd(12345.678), "$12,345.68");
        assert_eq!(thousands(8000), "8,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(store("play_store"), "Play Store");
        assert_eq!(store("my_custom_store"), "my_custom_store");
        assert_eq!(payment_place("app_store"), "in the App Store");
        assert_eq!(payment_place("play_store"), "in the Play Store");
        assert_eq!(payment_place("stripe"), "with Stripe");
        assert_eq!(payment_place("acme"), "with acme");
        assert_eq!(cancellation_reason("billing_error"), "a billing error");
        assert_eq!(cancellation_reason("alien_abduction"), "alien_abduction");
        assert_eq!(offer_category("win_back"), "win-back");
        assert_eq!(offer_type("free_trial"), "free trial");
        assert_eq!(offer_type("brand_new"), "brand_new");
    }

    #[test]
    fn unreadable_dates_are_reported_verbatim() {
        assert_eq!(unreadable(&Timestamp::parse("soon")), Some("soon"));
        assert_eq!(
            unreadable(&Timestamp::parse("2024-12-24T10:50:23+0000")),
            None
        );
        assert_eq!(
            DateTime::from_timestamp_millis(1733324566777)
                .map(exact_utc)
                .as_deref(),
            Some("2024-12-04 15:02:46 UTC")
        );
    }
}
