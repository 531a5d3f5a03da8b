//! The History section: what happened, newest first, by day in the admin's
//! zone, upcoming events above a "now" line, the first 20 until *Show all*.
//! `events` decides every event and the layout; this only renders it. Each
//! sentence links to its item: `follow` brings the table row or access level
//! card on screen and moves focus to it.

use crate::browser;
use crate::events::{self, Day, Event, Item, When, FIRST_SHOWN};
use crate::format::{self, Clock};
use leptos::prelude::*;
use std::sync::Arc;

/// Brings an item's row or card on screen and moves focus to it.
pub type Follow = Arc<dyn Fn(Item) + Send + Sync>;

/// The section; its events are laid out again when the zone, *Hide
/// sandbox* or *Show all* changes.
pub fn history_section(
    events: Arc<[Event]>,
    clock: RwSignal<Clock>,
    hide_sandbox: RwSignal<bool>,
    follow: Follow,
) -> impl IntoView {
    let all = RwSignal::new(false);
    let count = format::thousands(events.len() as u64);
    let show_all = move |_| {
        all.set(true);
        // The first event it adds takes focus.
        request_animation_frame(|| browser::focus(&format!("event-{FIRST_SHOWN}")));
    };
    let body = move || {
        let clock = clock.get();
        let limit = if all.get() { usize::MAX } else { FIRST_SHOWN };
        let timeline = events::timeline(&events, &clock, hide_sandbox.get(), limit);
        let empty = match (timeline.total, timeline.hidden) {
            (0, 0) => "No dated events in this profile.".to_owned(),
            (0, hidden) => format!("Only sandbox events, hidden ({hidden})."),
            (_, 0) => String::new(),
            (_, hidden) => format!("{hidden} sandbox events hidden."),
        };
        // Counts the events as they are rendered, across days.
        let mut place = 0;
        let mut days = |days: Vec<Day>| {
            days.into_iter()
                .map(|day| day_view(day, &clock, &follow, &mut place))
                .collect_view()
        };
        let upcoming = days(timeline.upcoming);
        let past = days(timeline.past);
        let total = format::thousands(timeline.total as u64);
        let no_note = empty.is_empty();
        view! {
            <p class="empty" hidden=no_note>{empty}</p>
            <div class="upcoming">{upcoming}</div>
            <p class="now" hidden=timeline.total == 0>
                "Now: " <time datetime=format::iso(clock.now)>{clock.date_time(clock.now)}</time>
            </p>
            {past}
            <button type="button" class="secondary" hidden=timeline.shown == timeline.total
                on:click=show_all>
                "Show all " {total} " events"
            </button>
        }
    };
    view! {
        <section class="card" id="history" aria-labelledby="history-heading">
            <h2 id="history-heading">"History " <span class="count">{count}</span></h2>
            {body}
        </section>
    }
}

/// A day's heading and the list of its events; `place` counts events
/// across days, to name each (`event-20`).
fn day_view(day: Day, clock: &Clock, follow: &Follow, place: &mut usize) -> impl IntoView {
    let lines = day
        .events
        .into_iter()
        .map(|(time, event)| {
            *place += 1;
            line(time, event, clock, follow.clone(), *place - 1)
        })
        .collect_view();
    view! {
        <h3 class="day">{day.label}</h3>
        <ol class="events">{lines}</ol>
    }
}

/// One event: its time (an unreadable date verbatim, with no `datetime`),
/// its sentence linking to its item, its marks in words.
fn line(time: String, event: &Event, clock: &Clock, follow: Follow, place: usize) -> impl IntoView {
    let datetime = match event.when {
        When::At(at) => Some(format::iso(at)),
        When::Unreadable(_) => None,
    };
    let marks = event
        .marks(clock.now)
        .into_iter()
        .map(|mark| {
            let tone = match mark {
                "Upcoming" => "badge tone-info",
                "Refunded" => "badge tone-bad",
                _ => "badge flag",
            };
            view! { " " <span class=tone>{mark}</span> }
        })
        .collect_view();
    let item = event.item;
    view! {
        <li id=format!("event-{place}") tabindex="-1">
            <time datetime=datetime>{time}</time>
            " "
            <a href=format!("#{}", item.anchor()) on:click=move |click| {
                // The page's URL names the lookup: a fragment would replay it.
                click.prevent_default();
                follow(item);
            }>{event.text.clone()}</a>
            {marks}
        </li>
    }
}
