//! The History section: what happened, newest first, by day in the admin's
//! zone, upcoming events above a "now" line, the first 20 until *Show all*;
//! with the relay's store, Adapty's events and support's changes among
//! them, and older ones a page at a time. `events` and `feed` decide every
//! event and the layout; this only renders it. Each sentence links to its
//! item: `follow` brings the table row or access level card on screen and
//! moves focus to it.

use crate::browser;
use crate::events::{self, Day, Event, Item, When, FIRST_SHOWN};
use crate::feed::{self, Feed};
use crate::format::{self, Clock};
use crate::transport::{self, Fetched};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::feed::FeedEvent;
use std::sync::Arc;

/// Brings an item's row or card on screen and moves focus to it.
pub type Follow = Arc<dyn Fn(Item) + Send + Sync>;

/// What the section shows: the merged events, the store's events loaded
/// so far with the cursor of the next page, and a line on what is missing.
struct Shown {
    events: Arc<[Event]>,
    /// The pages after the first, which `found` holds.
    older: Vec<FeedEvent>,
    next: Option<String>,
    note: String,
}

/// The section; its events are laid out again when the zone, *Hide
/// sandbox* or *Show all* changes, and merged again when an older page of
/// the store's events arrives.
pub fn history_section(
    found: Arc<Fetched>,
    clock: RwSignal<Clock>,
    hide_sandbox: RwSignal<bool>,
    follow: Follow,
) -> impl IntoView {
    // "Now" is the moment the profile arrived; the zone toggle keeps it.
    let now = clock.get_untracked().now;
    // The profile's history with every page of the store's events so far.
    let merged = move |found: &Fetched, older: &[FeedEvent]| -> Arc<[Event]> {
        let first = match &found.feed {
            Feed::Page(page) => &page.events[..],
            _ => &[],
        };
        let pages: Vec<&FeedEvent> = first.iter().chain(older).collect();
        let derived = events::history(&found.profile, now);
        feed::merge(&found.profile, derived, &pages).into()
    };
    let next = match &found.feed {
        Feed::Page(page) => page.next.clone(),
        _ => None,
    };
    let shown = RwSignal::new(Shown {
        events: merged(&found, &[]),
        older: Vec::new(),
        next,
        note: feed::note(&found.feed),
    });
    let all = RwSignal::new(false);
    // The notes are counted again when the clock moves, as they change.
    let count = move || {
        let notes = clock.with(|_| super::notes::count());
        shown.with(|shown| format::thousands((shown.events.len() + notes) as u64))
    };
    let show_all = move |_| {
        all.set(true);
        // The first event it adds takes focus.
        request_animation_frame(|| browser::focus(&format!("event-{FIRST_SHOWN}")));
    };
    let load_older = move |_| {
        let Some(cursor) = shown.with_untracked(|shown| shown.next.clone()) else {
            return;
        };
        // Older events land among all the others, not beyond the first 20.
        all.set(true);
        let found = found.clone();
        spawn_local(async move {
            let page = transport::events(&found.app.id, &found.profile.profile_id, &cursor).await;
            shown.update(|shown| match page {
                Ok(page) => {
                    shown.older.extend(page.events);
                    shown.next = page.next;
                    shown.events = merged(&found, &shown.older);
                    shown.note.clear();
                }
                Err(error) => shown.note = feed::unavailable(&error),
            });
        });
    };
    let body = move || {
        let clock = clock.get();
        let limit = if all.get() { usize::MAX } else { FIRST_SHOWN };
        // The notes among them, once there are any; written again under
        // the headline too, as the clock reads them now.
        super::notes::redraw(&clock);
        let events = super::notes::among(shown.with(|shown| shown.events.clone()), &clock);
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
            <p class="hint feed-note" hidden=move || shown.with(|shown| shown.note.is_empty())>
                {move || shown.with(|shown| shown.note.clone())}
            </p>
            {body}
            <button type="button" class="secondary" id="load-older"
                hidden=move || shown.with(|shown| shown.next.is_none()) on:click=load_older>
                "Load older events from Adapty"
            </button>
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
                "Upcoming" | "Support" => "badge tone-info",
                "Refunded" => "badge tone-bad",
                _ => "badge flag",
            };
            view! { " " <span class=tone>{mark}</span> }
        })
        .collect_view();
    // What is not on the page (another product, an access level gone) is
    // told without a link: an `a` without `href`.
    let item = event.item;
    let text = view! {
        <a href=item.map(|item| format!("#{}", item.anchor())) on:click=move |click| {
            // The page's URL names the lookup: a fragment would replay it.
            click.prevent_default();
            if let Some(item) = item {
                follow(item);
            }
        }>{event.text.clone()}</a>
    };
    let detail = (!event.detail.is_empty())
        .then(|| view! { " " <small class="detail">{event.detail.clone()}</small> });
    view! {
        <li id=format!("event-{place}") tabindex="-1">
            <time datetime=datetime>{time}</time>
            " "
            {text}
            {marks}
            {detail}
        </li>
    }
}
