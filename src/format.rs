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
    /// For text that outlives the moment (a ticket): every date with its
    /// time and zone, never relative to `now`, which will have passed.
    pub absolute: bool,
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
            absolute: false,
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

    /// `10 Jan 2025`, in the admin's zone; when `absolute`, `date_time`.
    pub fn date(&self, at: DateTime<Utc>) -> String {
        if self.absolute {
            return self.date_time(at);
        }
        self.day(at)
    }

    fn day(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        format!(
            "{} {} {}",
            local.day(),
            MONTHS[local.month0() as usize],
            local.year()
        )
    }

    /// `10 Jan 2025, 14:34` in the admin's zone, or `10 Jan 2025, 11:34 UTC`
    /// (`absolute`: `10 Jan 2025, 14:34 UTC+03:00`).
    pub fn date_time(&self, at: DateTime<Utc>) -> String {
        format!("{}, {}", self.day(at), self.time(at))
    }

    /// `14:34` in the admin's zone, `11:34 UTC` in UTC.
    pub fn time(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        format!("{:02}:{:02}{}", local.hour(), local.minute(), self.zone(at))
    }

    /// The zone after a time: none on screen, where the page says which it
    /// is; a ticket is read anywhere, so there it is always named.
    fn zone(&self, at: DateTime<Utc>) -> String {
        if self.utc {
            return " UTC".into();
        }
        if !self.absolute {
            return String::new();
        }
        let minutes = (self.offset_minutes)(at);
        let sign = if minutes < 0 { '-' } else { '+' };
        let minutes = minutes.abs();
        format!(" UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    }

    /// `in 3 days`, `2 months ago`, `just now`.
    pub fn relative(&self, at: DateTime<Utc>) -> String {
        relative(at - self.now)
    }

    /// A date as it is read in a sentence: `10 Jan 2025 (in 3 days)`;
    /// when `absolute`, `date_time`.
    pub fn date_with_relative(&self, at: DateTime<Utc>) -> String {
        if self.absolute {
            return self.date_time(at);
        }
        format!("{} ({})", self.day(at), self.relative(at))
    }
}

/// The first moment after `now` at which `at` reads differently beside it:
/// its relative phrase changes ("in 3 minutes" to "in 2 minutes", "just
/// now" to "1 minute ago"), or it passes (what was upcoming has happened,
/// though both sides of it read "just now").
pub fn next_change(at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let future = at > now;
    let span = (at - now).abs().num_seconds();
    let (low, high, unit) = unit_of(span);
    let count = span_count(span, unit);
    if future {
        if span < 60 {
            return at;
        }
        // "in N units" holds down to (N - 1/2) units (rounded), and to the
        // unit's floor; one moment below that it reads otherwise.
        let floor = ((2 * count - 1) * unit / 2).max(low);
        at - Duration::seconds(floor) + Duration::milliseconds(1)
    } else {
        // "N units ago" turns N + 1 at (N + 1/2) units, or at the next unit.
        let ceiling = ((2 * count + 1) * unit / 2).min(high);
        at + Duration::seconds(ceiling.max(60))
    }
}

/// The span's unit, as `relative` picks it: its range in seconds, and its
/// length (even, so that half of it is a whole second).
fn unit_of(span: i64) -> (i64, i64, i64) {
    const DAY: i64 = 86_400;
    match span {
        ..60 => (0, 60, 60),
        60..3_600 => (60, 3_600, 60),
        3_600..DAY => (3_600, DAY, 3_600),
        span if span < 45 * DAY => (DAY, 45 * DAY, DAY),
        span if span < 365 * DAY => (45 * DAY, 365 * DAY, MONTH),
        _ => (365 * DAY, i64::MAX / 4, YEAR),
    }
}

/// Months of 30.44 days and years of 365.25: good enough for "how long ago".
const MONTH: i64 = 2_630_016;
const YEAR: i64 = 31_557_600;

/// How many units `relative` says for a span: rounded, not truncated, so
/// 6 days 23 hours reads as "7 days".
fn span_count(span: i64, unit: i64) -> i64 {
    ((span as f64 / unit as f64).round() as i64).max(1)
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
    let span = delta.abs().num_seconds();
    let (_, _, unit) = unit_of(span);
    let count = span_count(span, unit);
    let unit = match unit {
        _ if span < 60 => return "just now".into(),
        60 => "minute",
        3_600 => "hour",
        86_400 => "day",
        MONTH => "month",
        _ => "year",
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
            absolute: false,
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
    fn a_ticket_names_every_date_with_its_time_and_zone_and_nothing_relative() {
        let at = now() + Duration::days(3);
        let ticket = Clock {
            absolute: true,
            ..berlin_winter()
        };
        assert_eq!(
            ticket.date_with_relative(at),
            "10 Jan 2025, 13:00 UTC+01:00"
        );
        assert_eq!(ticket.date(at), "10 Jan 2025, 13:00 UTC+01:00");
        let west = Clock {
            offset_minutes: |_| -210,
            ..ticket
        };
        assert_eq!(west.date(at), "10 Jan 2025, 08:30 UTC-03:30");
        let utc = Clock {
            utc: true,
            ..ticket
        };
        assert_eq!(utc.date_with_relative(at), "10 Jan 2025, 12:00 UTC");
        // On screen, where the page says which zone it shows, as before.
        assert_eq!(berlin_winter().date(at), "10 Jan 2025");
        assert_eq!(berlin_winter().date_time(at), "10 Jan 2025, 13:00");
    }

    /// What `relative` says of `at` at every second around `next_change`:
    /// the same until it, something else (or the other side of `at`) from it.
    #[test]
    fn the_next_change_is_the_first_moment_a_date_reads_otherwise() {
        let clock = |now| Clock::in_utc(now);
        let reads = |at, now| (clock(now).relative(at), at > now);
        // Every unit's edges, and spans of every size between them.
        #[rustfmt::skip]
        let edges = [
            0, 1, 59, 60, 61, 89, 90, 91, 149, 150, 1_799, 3_569, 3_570, 3_599, 3_600, 5_399,
            5_400, 86_399, 86_400, 129_599, 129_600, 3_887_999, 3_888_000, 5_000_000,
            31_535_999, 31_536_000, 47_336_399, 47_336_400, 400_000_000,
        ];
        let between = std::iter::successors(Some(2_i64), |span| {
            (*span < 400_000_000).then_some(span + span / 13 + 7)
        });
        for span in edges.into_iter().chain(between) {
            for sign in [1, -1] {
                let at = now() + Duration::seconds(sign * span);
                let next = next_change(at, now());
                assert!(next > now(), "{span} {sign}: {next} is not after now");
                let before = next - Duration::milliseconds(1);
                assert_eq!(
                    reads(at, before),
                    reads(at, now()),
                    "{span}s {sign}: already changed before {next}"
                );
                assert_ne!(
                    reads(at, next),
                    reads(at, now()),
                    "{span}s {sign}: unchanged at {next}"
                );
            }
        }
        // The moments a page sees: three minutes ahead turns "in 2 minutes"
        // after 30 seconds, and passes exactly at its time.
        let soon = now() + Duration::minutes(3);
        assert_eq!(
            next_change(soon, now()),
            now() + Duration::seconds(30) + Duration::milliseconds(1)
        );
        assert_eq!(next_change(soon, soon - Duration::seconds(20)), soon);
        assert_eq!(
            next_change(now(), now()),
            now() + Duration::minutes(1),
            "just now, then 1 minute ago"
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
