//! Every example answer in Adapty's documentation (`fixtures/`, whose
//! README says where each comes from), rendered as the panel renders it, at
//! a fixed clock: every sentence, card, table cell, row detail, history
//! event and day, the headline, the tab's title and the ticket summary. None
//! may have an empty slot ("(base plan )", an empty value) or an impossible
//! date (before 2000, or the data's time after the answer arrived).

use crate::cells::{self, Cell, Table, PURCHASES, SUBSCRIPTIONS};
use crate::events;
use crate::explain;
use crate::format::Clock;
use crate::handoff;
use crate::listing;
use crate::model::{Envelope, Profile};
use chrono::{DateTime, TimeZone, Utc};

/// Adapty's documented examples, by where they come from.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "get-profile.mdx, Successful response example",
        include_str!("../fixtures/seed.json"),
    ),
    (
        "API reference, ResponseExample.md",
        include_str!("../fixtures/profile-response-example.json"),
    ),
];

/// The moment the answers arrive: the issue's "57 years" after 1970.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 12, 0, 0).unwrap()
}

/// In Tokyo, as the browser tests run, and in UTC (*Times in UTC*).
fn clocks() -> [Clock; 2] {
    [
        Clock {
            now: now(),
            offset_minutes: |_| 540,
            utc: false,
            absolute: false,
        },
        Clock::in_utc(now()),
    ]
}

/// Everything the panel writes about a profile, each with where it is.
#[derive(Default)]
struct Rendered {
    /// Sentences and labels: where, and the text.
    texts: Vec<(String, String)>,
    /// Cells: where, and the cell.
    cells: Vec<(String, Cell)>,
}

impl Rendered {
    fn text(&mut self, place: impl Into<String>, text: impl Into<String>) {
        self.texts.push((place.into(), text.into()));
    }

    fn cell(&mut self, place: impl Into<String>, cell: Cell) {
        let place = place.into();
        // A cell that is only badges has no text; `faults` checks it whole.
        if !cell.text.is_empty() || cell.badges.is_empty() {
            self.text(place.clone(), cell.text.clone());
        }
        if let Some(detail) = &cell.detail {
            self.text(format!("{place}, second line"), detail.clone());
        }
        self.cells.push((place, cell));
    }

    fn table<T>(&mut self, table: &Table<T>, profile: &Profile, clock: &Clock) {
        for (index, item) in (table.items)(profile).iter().enumerate() {
            for (column, cell) in (table.row)(item, clock).into_iter().enumerate() {
                let place = format!("{} row {index}, {}", table.noun, table.columns[column]);
                self.cell(place, cell);
            }
            for (label, cell) in (table.details)(item, clock) {
                self.cell(format!("{} row {index} detail, {label}", table.noun), cell);
            }
        }
    }
}

fn render(profile: &Profile, clock: &Clock) -> Rendered {
    let mut out = Rendered::default();
    for hide_sandbox in [false, true] {
        let headline = explain::headline(profile, clock, hide_sandbox);
        out.text("headline", &headline.text);
        out.text(
            "tab title",
            handoff::tab_title(profile, &headline, "Main app"),
        );
    }
    let (label, cell) = cells::data_time(profile, clock.now, clock);
    out.text("summary, label of the data's time", label);
    out.cell("summary, the data's time", cell);
    for line in handoff::summary(
        profile,
        "Main app",
        "https://x.test/?customer_user_id=u",
        clock.now,
        clock,
    )
    .lines()
    {
        out.text("Copy summary", line);
    }
    for (index, level) in profile.access_levels.iter().enumerate() {
        out.text(
            format!("access level {index}, sentence"),
            explain::access_level(level, clock),
        );
        for (label, cell) in cells::access_details(level, clock) {
            out.cell(format!("access level {index}, {label}"), cell);
        }
    }
    let history = events::history(profile, clock.now);
    let timeline = events::timeline(&history, clock, false, usize::MAX);
    for day in timeline.upcoming.iter().chain(&timeline.past) {
        out.text("history, day", &day.label);
        for (time, event) in &day.events {
            out.text(format!("history, {}, time", day.label), time);
            out.text(format!("history, {} {time}", day.label), &event.text);
        }
    }
    for (quick, _) in listing::quick_filters(&profile.subscriptions, clock.now) {
        out.text("subscriptions, quick filter", quick.label());
    }
    for (quick, _) in listing::quick_filters(&profile.non_subscriptions, clock.now) {
        out.text("purchases, quick filter", quick.label());
    }
    out.table(&SUBSCRIPTIONS, profile, clock);
    out.table(&PURCHASES, profile, clock);
    out
}

/// What reads wrong: an empty slot or an impossible date, each said with
/// where it is.
fn faults(profile: &Profile, clock: &Clock) -> Vec<String> {
    let rendered = render(profile, clock);
    let mut faults = Vec::new();
    for (place, cell) in &rendered.cells {
        if cell.text.trim().is_empty() && cell.badges.is_empty() {
            faults.push(format!("{place}: an empty value"));
        }
        if let Some((iso, _)) = &cell.instant {
            if iso.as_str() < "2000" {
                faults.push(format!("{place}: the impossible date {iso}"));
            }
        }
    }
    for (place, text) in &rendered.texts {
        for slot in ["()", "( ", " )", "  ", " ,", " ;", " .", "\"\"", "[]"] {
            if text.contains(slot) {
                faults.push(format!("{place}: an empty slot {slot:?} in {text:?}"));
            }
        }
        if text.trim().is_empty() {
            faults.push(format!("{place}: no text"));
        }
        if text.contains("1970") || text.contains("1969") {
            faults.push(format!("{place}: the impossible date in {text:?}"));
        }
    }
    if let Some(at) = profile.produced_at(clock.now) {
        if at > clock.now + chrono::Duration::days(1) {
            faults.push(format!("the data's time {at} is after it arrived"));
        }
    }
    faults
}

#[test]
fn every_documented_example_renders_without_an_empty_slot_or_an_impossible_date() {
    for (origin, body) in EXAMPLES {
        let profile = Envelope::parse(body).unwrap();
        for clock in clocks() {
            let faults = faults(&profile, &clock);
            assert!(
                faults.is_empty(),
                "{origin} (UTC: {}):\n{}",
                clock.utc,
                faults.join("\n")
            );
        }
    }
}

#[test]
fn the_checks_find_the_faults_the_issue_found() {
    // Read without the model's rule (a blank base plan kept as sent, the
    // data's time taken as given), the reference example shows both.
    let mut profile = Envelope::parse(EXAMPLES[1].1).unwrap();
    profile.access_levels[0].store_base_plan_id = Some(String::new());
    profile.subscriptions[0].store_base_plan_id = Some(" ".into());
    let clock = Clock::in_utc(now());
    let faults = faults(&profile, &clock).join("\n");
    assert!(
        faults.contains("access level 0, sentence: an empty slot \" )\""),
        "{faults}"
    );
    assert!(
        faults.contains("access level 0, Base plan: an empty value"),
        "{faults}"
    );
    assert!(
        faults.contains("subscriptions row 0 detail, Base plan: an empty value"),
        "{faults}"
    );
}

#[test]
fn the_reference_example_reads_as_an_app_store_customer() {
    // `"store_base_plan_id": ""`, `"timestamp": 0`, both offer spellings,
    // `environment` on the access level: what an agent reads.
    let profile = Envelope::parse(EXAMPLES[1].1).unwrap();
    let clock = Clock::in_utc(now());
    assert_eq!(
        explain::access_level(&profile.access_levels[0], &clock),
        "premium expired on 12 Oct 2022 (4 years ago) through the App Store product \
         weekly_8.99, with an introductory free trial offer (offer12); auto-renew had been \
         turned off on 12 Oct 2022; cancellation reason: the customer cancelled."
    );
    assert_eq!(
        explain::headline(&profile, &clock, false).text,
        "No access: premium expired on 12 Oct 2022 (4 years ago)"
    );
    let labels: Vec<&str> = cells::access_details(&profile.access_levels[0], &clock)
        .iter()
        .map(|(label, _)| *label)
        .collect();
    assert!(!labels.contains(&"Base plan"), "{labels:?}");
    assert!(labels.contains(&"Offer"), "{labels:?}");
    let details = cells::subscription_details(&profile.subscriptions[0], &clock);
    assert_eq!(details[0], ("Base plan", Cell::text("—")));
    assert_eq!(
        details[1],
        (
            "Offer",
            Cell::text("an introductory free trial offer (offer12)")
        ),
        "the long spelling reads as the short one"
    );
    let (label, cell) = cells::data_time(&profile, clock.now, &clock);
    assert_eq!(label, "Received");
    assert_eq!(cell.text, "1 Mar 2027, 12:00 UTC");
    let history: Vec<String> = events::history(&profile, clock.now)
        .into_iter()
        .map(|event| event.text)
        .collect();
    assert_eq!(
        history,
        [
            "premium access ended",
            "premium access started",
            "Bought weekly_8.99 (consumable, App Store)",
            "weekly_8.99 expired (the customer cancelled)",
            "Billing issue detected on weekly_8.99",
            "Auto-renew turned off for weekly_8.99",
            "Renewed weekly_8.99, with an introductory free trial offer (offer12)",
            "Subscribed to weekly_8.99 (App Store)",
        ],
        "newest first; the access level's own auto-renew and billing facts are its subscription's"
    );
}
