//! What leaves the panel with the agent: the tab's title, a plain-text
//! summary for a ticket, the panel's own link to a customer, and the link
//! to the profile in Adapty's dashboard.

use crate::explain::{self, Headline};
use crate::format::{self, Clock};
use crate::lookup::{IdKind, Lookup};
use crate::model::Profile;
use chrono::{DateTime, Utc};

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

/// The profile for a ticket, which is read days later by someone else:
/// both IDs, the app (`app`: its name, empty when the relay serves one),
/// the headline, each access level's sentence, the data's time (or, when
/// Adapty's cannot be right, when the panel `received` it), every date
/// with its time in UTC and nothing relative, and last the panel's `link`
/// to this customer. Sandbox levels are always included (their sentences
/// say so).
pub fn summary(
    profile: &Profile,
    app: &str,
    link: &str,
    received: DateTime<Utc>,
    clock: &Clock,
) -> String {
    let clock = Clock {
        utc: true,
        absolute: true,
        ..*clock
    };
    let mut text = format!(
        "Customer user ID: {}\nProfile ID: {}\n",
        profile
            .customer_user_id
            .as_deref()
            .unwrap_or("none (anonymous profile)"),
        profile.profile_id,
    );
    text += &if app.is_empty() {
        format!("App ID: {}\n", profile.app_id)
    } else {
        format!("App: {app} (App ID {})\n", profile.app_id)
    };
    text += &explain::headline(profile, &clock, false).text;
    text.push('\n');
    for level in &profile.access_levels {
        text += &format!("- {}\n", explain::access_level(level, &clock));
    }
    text += &match profile.produced_at(received) {
        Some(at) => format!("Data as of {} (Adapty lookup)\n", format::exact_utc(at)),
        None => format!(
            "Received {} (Adapty lookup; {})\n",
            format::exact_utc(received),
            format::no_adapty_time(profile.timestamp)
        ),
    };
    text + "In the panel: " + link + "\n"
}

/// The customer as the page shows them, to look up again or link to: by
/// customer user ID when they have one (an anonymous one by profile ID),
/// in `app` (the app's ID, empty when the relay serves one).
pub fn customer(profile: &Profile, app: &str) -> Lookup {
    let (kind, id) = match &profile.customer_user_id {
        Some(id) => (IdKind::CustomerUserId, id),
        None => (IdKind::ProfileId, &profile.profile_id),
    };
    Lookup {
        kind,
        id: id.clone(),
        app: app.into(),
    }
}

/// The panel's own query for a lookup, as its URL names it:
/// `?app=kids&customer_user_id=kids-family` (no app with one).
pub fn panel_query(lookup: &Lookup) -> String {
    let app = if lookup.app.is_empty() {
        String::new()
    } else {
        format!("{}={}&", protocol::param::APP, encode(&lookup.app))
    };
    format!("?{app}{}={}", lookup.kind.param(), encode(&lookup.id))
}

/// The operator's dashboard link with the profile's ID in place of
/// `{profile_id}`, percent-encoded as a URL's path or query needs.
pub fn dashboard_link(template: &str, profile_id: &str) -> String {
    template.replace("{profile_id}", &encode(profile_id))
}

/// Every byte but letters, digits and `-._~` percent-encoded: safe in a
/// path and in a query alike.
fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded += &format!("%{byte:02X}");
        }
    }
    encoded
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

    const LINK: &str = "https://lookup.example.com/?app=main&customer_user_id=u1";

    fn received() -> DateTime<Utc> {
        clock().now
    }

    #[test]
    fn the_summary_is_plain_text_in_utc_for_a_ticket() {
        assert_eq!(
            summary(&seed(), "Main app", LINK, received(), &clock()),
            "Customer user ID: 77B14FB4-FD2A-4D38-AA3A-4C433F79863C\n\
             Profile ID: d8533a10-bcce-4e33-8c9d-88b05ac56559\n\
             App: Main app (App ID 14c3d333-2f3a-455a-aa86-ef83dff6913b)\n\
             Has premium — sandbox (test) purchase only\n\
             - premium is lifetime access through the App Store product unlimited.9999, purchased \
             on 24 Dec 2024, 10:50 UTC; auto-renew had been turned off on 5 Jan 2025, 13:27 UTC. \
             This is a sandbox (test) purchase: no real money was charged.\n\
             Data as of 2024-12-04 15:02:46 UTC (Adapty lookup)\n\
             In the panel: https://lookup.example.com/?app=main&customer_user_id=u1\n"
        );
        let anonymous = Envelope::parse(r#"{"data":{"profile_id":"5e1f","app_id":"a1"}}"#).unwrap();
        let text = summary(&anonymous, "", LINK, received(), &clock());
        assert!(
            text.starts_with(
                "Customer user ID: none (anonymous profile)\nProfile ID: 5e1f\nApp ID: a1\n"
            ),
            "one app: no name, its App ID; {text}"
        );
        assert!(
            text.contains(
                "\nReceived 2025-01-07 12:00:00 UTC (Adapty lookup; Adapty sent no time of its own)\n"
            ),
            "no timestamp from Adapty: when the panel received it, said so; {text}"
        );
        let example =
            Envelope::parse(include_str!("../fixtures/profile-response-example.json")).unwrap();
        let later = Clock {
            now: received() + chrono::Duration::hours(5),
            ..clock()
        };
        let text = summary(&example, "", LINK, received(), &later);
        assert!(
            text.contains(
                "\nReceived 2025-01-07 12:00:00 UTC (Adapty lookup; Adapty's own time cannot be \
                 right (timestamp 0))\n"
            ),
            "`timestamp: 0` is not 1 Jan 1970, and received is when it came: {text}"
        );
    }

    /// A ticket is read days later: "in 3 days" would be wrong by then.
    #[test]
    fn the_summary_says_no_relative_time_and_ends_with_the_panels_link() {
        let profile = Envelope::parse(
            r#"{"data":{"profile_id":"p1","customer_user_id":"u1","app_id":"a1",
            "access_levels":[{"access_level_id":"premium","store":"app_store",
            "store_product_id":"weekly","purchased_at":"2025-01-03T12:00:00Z",
            "expires_at":"2025-01-10T12:00:00Z"},{"access_level_id":"vip","store":"app_store",
            "store_product_id":"vip","expires_at":"2025-01-06T18:30:00Z",
            "cancellation_reason":"refund"}]}}"#,
        )
        .unwrap();
        let text = summary(&profile, "Kids app", LINK, received(), &clock());
        for relative in [" ago", "(in ", "just now"] {
            assert!(!text.contains(relative), "{relative:?} in {text}");
        }
        assert!(
            text.contains(
                "\nHas premium until 10 Jan 2025, 12:00 UTC, renews automatically\n- premium is \
                 active until 10 Jan 2025, 12:00 UTC through the App Store product weekly"
            ),
            "{text}"
        );
        assert!(
            text.contains("- vip expired on 6 Jan 2025, 18:30 UTC"),
            "{text}"
        );
        assert!(text.contains("\nApp: Kids app (App ID a1)\n"), "{text}");
        assert!(
            text.ends_with(&format!("\nIn the panel: {LINK}\n")),
            "{text}"
        );
    }

    #[test]
    fn the_panels_link_names_the_customer_as_the_page_does() {
        let seed = seed();
        let by_customer = customer(&seed, "kids");
        assert_eq!(
            panel_query(&by_customer),
            "?app=kids&customer_user_id=77B14FB4-FD2A-4D38-AA3A-4C433F79863C"
        );
        let anonymous = Envelope::parse(r#"{"data":{"profile_id":"5e1f"}}"#).unwrap();
        assert_eq!(
            panel_query(&customer(&anonymous, "")),
            "?profile_id=5e1f",
            "one app: no app in the URL; no customer user ID: the profile ID"
        );
        let odd = Lookup {
            kind: IdKind::CustomerUserId,
            id: "a b+c&d=é".into(),
            app: "main".into(),
        };
        assert_eq!(
            panel_query(&odd),
            "?app=main&customer_user_id=a%20b%2Bc%26d%3D%C3%A9"
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
