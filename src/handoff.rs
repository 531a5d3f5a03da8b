//! What leaves the panel with the agent: the tab's title, a plain-text
//! summary for a ticket, and the link to the profile in Adapty's dashboard.

use crate::explain::{self, Headline};
use crate::format::{self, Clock};
use crate::model::Profile;

/// The tab's title when no profile is shown.
pub const IDLE_TITLE: &str = "Adapty lookup";

/// "demo-refunded — No access (refunded) · Kids app · Adapty lookup":
/// several customers in several tabs, and apps, can be told apart (`app`
/// is the app's name, empty when the relay serves one).
pub fn tab_title(profile: &Profile, headline: &Headline, app: &str) -> String {
    let app = if app.is_empty() {
        String::new()
    } else {
        format!(" · {app}")
    };
    format!("{} — {}{app} · {IDLE_TITLE}", who(profile), headline.short)
}

fn who(profile: &Profile) -> &str {
    profile
        .customer_user_id
        .as_deref()
        .unwrap_or(&profile.profile_id)
}

/// The profile for a ticket, in UTC so that it reads the same to everyone:
/// both IDs, the headline, each access level's sentence, the data's time
/// (or, when Adapty's cannot be right, when the panel received it).
/// Sandbox levels are always included (their sentences say so).
pub fn summary(profile: &Profile, clock: &Clock) -> String {
    let clock = Clock {
        utc: true,
        ..*clock
    };
    let mut text = format!(
        "Customer user ID: {}\nProfile ID: {}\n{}\n",
        profile
            .customer_user_id
            .as_deref()
            .unwrap_or("none (anonymous profile)"),
        profile.profile_id,
        explain::headline(profile, &clock, false).text
    );
    for level in &profile.access_levels {
        text += &format!("- {}\n", explain::access_level(level, &clock));
    }
    text += &match profile.produced_at(clock.now) {
        Some(at) => format!("Data as of {} (Adapty lookup)\n", format::exact_utc(at)),
        None => format!(
            "Received {} (Adapty lookup; {})\n",
            format::exact_utc(clock.now),
            format::no_adapty_time(profile.timestamp)
        ),
    };
    text
}

/// The operator's dashboard link with the profile's ID in place of
/// `{profile_id}`, percent-encoded as a URL's path or query needs.
pub fn dashboard_link(template: &str, profile_id: &str) -> String {
    let mut encoded = String::new();
    for byte in profile_id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded += &format!("%{byte:02X}");
        }
    }
    template.replace("{profile_id}", &encoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;
    use chrono::{TimeZone, Utc};

    fn clock() -> Clock {
        Clock {
            now: Utc.with_ymd_and_hms(2025, 1, 7, 12, 0, 0).unwrap(),
            offset_minutes: |_| 540,
            utc: false,
            absolute: false,
        }
    }

    fn seed() -> Profile {
        Envelope::parse(include_str!("../fixtures/seed.json")).unwrap()
    }

    #[test]
    fn the_title_names_the_customer_and_the_answer() {
        let seed = seed();
        let headline = explain::headline(&seed, &clock(), false);
        assert_eq!(
            tab_title(&seed, &headline, ""),
            "77B14FB4-FD2A-4D38-AA3A-4C433F79863C — Has premium (sandbox only) · Adapty lookup"
        );
        let anonymous = Envelope::parse(r#"{"data":{"profile_id":"5e1f"}}"#).unwrap();
        let headline = explain::headline(&anonymous, &clock(), false);
        assert_eq!(
            tab_title(&anonymous, &headline, ""),
            "5e1f — No access · Adapty lookup"
        );
        assert_eq!(
            tab_title(&anonymous, &headline, "Kids app"),
            "5e1f — No access · Kids app · Adapty lookup"
        );
    }

    #[test]
    fn the_summary_is_plain_text_in_utc_for_a_ticket() {
        assert_eq!(
            summary(&seed(), &clock()),
            "Customer user ID: 77B14FB4-FD2A-4D38-AA3A-4C433F79863C\n\
             Profile ID: d8533a10-bcce-4e33-8c9d-88b05ac56559\n\
             Has premium — sandbox (test) purchase only\n\
             - premium is lifetime access through the App Store product unlimited.9999, purchased \
             on 24 Dec 2024; auto-renew had been turned off on 5 Jan 2025. This is a sandbox (test) \
             purchase: no real money was charged.\n\
             Data as of 2024-12-04 15:02:46 UTC (Adapty lookup)\n"
        );
        let anonymous = Envelope::parse(r#"{"data":{"profile_id":"5e1f"}}"#).unwrap();
        let text = summary(&anonymous, &clock());
        assert!(
            text.starts_with("Customer user ID: none (anonymous profile)\nProfile ID: 5e1f\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "Received 2025-01-07 12:00:00 UTC (Adapty lookup; Adapty sent no time of its own)\n"
            ),
            "no timestamp from Adapty: when the panel received it, said so; {text}"
        );
        let example =
            Envelope::parse(include_str!("../fixtures/profile-response-example.json")).unwrap();
        let text = summary(&example, &clock());
        assert!(
            text.ends_with(
                "Received 2025-01-07 12:00:00 UTC (Adapty lookup; Adapty's own time cannot be \
                 right (timestamp 0))\n"
            ),
            "`timestamp: 0` is not 1 Jan 1970: {text}"
        );
    }

    #[test]
    fn the_dashboard_link_carries_the_encoded_profile_id() {
        assert_eq!(
            dashboard_link(
                "https://app.adapty.io/profiles/{profile_id}?tab=events",
                "d8533a10-bcce-4e33-8c9d-88b05ac56559"
            ),
            "https://app.adapty.io/profiles/d8533a10-bcce-4e33-8c9d-88b05ac56559?tab=events"
        );
        assert_eq!(
            dashboard_link("https://x.test/p/{profile_id}", "a/b?c#é"),
            "https://x.test/p/a%2Fb%3Fc%23%C3%A9"
        );
    }
}
