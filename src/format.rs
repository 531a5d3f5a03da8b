//! How values read to a person. Written by hand rather than with chrono's
//! `format` machinery, which would add weight to the wasm for four patterns.

use crate::model::Timestamp;
use chrono::{DateTime, Datelike, Timelike, Utc};

/// `2024-12-24 10:50 UTC`; an unreadable date exactly as Adapty sent it.
pub fn timestamp(value: &Timestamp) -> String {
    match value {
        Timestamp::At(at) => instant(*at),
        Timestamp::Unreadable(raw) => raw.clone(),
    }
}

/// A date that may be absent, with what its absence means (`never`, `lifetime`, `—`).
pub fn maybe_timestamp(value: Option<&Timestamp>, absent: &str) -> String {
    value.map(timestamp).unwrap_or_else(|| absent.to_owned())
}

pub fn instant(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// Adapty's `timestamp` is milliseconds since the epoch.
pub fn millis(value: i64) -> String {
    DateTime::from_timestamp_millis(value)
        .map(instant)
        .unwrap_or_else(|| value.to_string())
}

pub fn usd(amount: f64) -> String {
    if amount < 0.0 {
        format!("-${:.2}", -amount)
    } else {
        format!("${amount:.2}")
    }
}

/// Known stores by their usual names; a custom store's name verbatim.
pub fn store(code: &str) -> String {
    match code {
        "app_store" => "App Store".into(),
        "play_store" => "Play Store".into(),
        "stripe" => "Stripe".into(),
        "paddle" => "Paddle".into(),
        "adapty" => "Adapty".into(),
        "" => "—".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_read_the_same_for_every_spelling() {
        assert_eq!(
            timestamp(&Timestamp::parse("2024-12-24T10:50:23+0000")),
            "2024-12-24 10:50 UTC"
        );
        assert_eq!(
            timestamp(&Timestamp::parse("2024-12-24T12:50:23+02:00")),
            "2024-12-24 10:50 UTC"
        );
        assert_eq!(timestamp(&Timestamp::parse("soon")), "soon");
        assert_eq!(maybe_timestamp(None, "lifetime"), "lifetime");
        assert_eq!(millis(1733324566777), "2024-12-04 15:02 UTC");
        assert_eq!(
            instant(Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap()),
            "2025-01-02 03:04 UTC"
        );
    }

    #[test]
    fn money_and_stores() {
        assert_eq!(usd(9.99), "$9.99");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(-4.5), "-$4.50");
        assert_eq!(store("play_store"), "Play Store");
        assert_eq!(store("my_custom_store"), "my_custom_store");
    }
}
