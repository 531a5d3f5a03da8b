//! The History section: what happened, newest first, by day in the admin's
//! zone, upcoming events above a "now" line, the first 20 until *Show all*;
//! with the relay's store, Adapty's events and support's changes among
//! them, and older ones a page at a time. `events` and `feed` decide every
//! event and the layout; this only renders it. Each sentence links to its
//! item: `follow` brings the table row or access level card on screen and
//! moves focus to it.
//!
//! Written for weight as the notes are: the section is drawn from
//! constant pieces of markup, its values set as text (`browser::redraw`),
//! never as markup; its state is a plain cell, its clicks handled once on
//! the section. As Leptos views it weighed 1.7 KB brotli more (11.7 KB of
//! raw wasm; docs/performance.md).

use crate::browser;
use crate::events::{self, Day, Event, Item, When, FIRST_SHOWN};
use crate::feed::{self, Feed};
use crate::format::{self, Clock};
use crate::transport::{self, Fetched};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::feed::FeedEvent;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// Brings an item's row or card on screen and moves focus to it.
pub type Follow = Arc<dyn Fn(Item) + Send + Sync>;

const SECTION: &str = "history";
const LOAD_OLDER: &str = "load-older";

/// The section's heading with the count, the line on what is missing, the
/// line saying why no events show, and the box of the upcoming days.
const HEAD: &str = r#"<h2 id="history-heading">History <span class="count"></span></h2><p class="hint feed-note"></p><p class="empty"></p><div class="upcoming">"#;
/// A day: its heading and the start of its list.
const DAY: &str = r#"<h3 class="day"></h3><ol class="events">"#;
/// The start of an event, then its time, machine-readable or not, then
/// its sentence, a link or not. Each kind its own markup: where the
/// markup is the same as last drawn, the elements stay and only their
/// properties are set again (`browser::redraw`).
const LINE: &str = r#"<li tabindex="-1">"#;
const DATED: &str = r#"<time datetime="">"#;
const UNDATED: &str = "<time>";
const LINKED: &str = r#"</time> <a href="">"#;
const UNLINKED: &str = "</time> <a>";
const MARK: &str = r#" <span></span>"#;
const DETAIL: &str = r#" <small class="detail"></small>"#;
/// The end of the upcoming days, and the "now" line.
const NOW: &str = r#"</div><p class="now">Now: <time></time></p>"#;
/// *Show all* (its label written with the count), *Load older*.
const TAIL: &str = r#"<button class="secondary" type="button"></button><button class="secondary" type="button" id="load-older">Load older events from Adapty</button>"#;

/// What the section shows: the merged events, the store's events loaded
/// so far with the cursor of the next page, a line on what is missing,
/// and the clock and *Hide sandbox* as last read.
struct Shown {
    found: Arc<Fetched>,
    follow: Follow,
    /// The moment the profile arrived: "now" for the merge.
    now: DateTime<Utc>,
    events: Arc<[Event]>,
    /// The pages after the first, which `found` holds.
    older: Vec<FeedEvent>,
    next: Option<String>,
    note: String,
    all: bool,
    clock: Clock,
    hide_sandbox: bool,
    /// The markup last drawn into the section.
    drawn: String,
    /// Which section this is: a page of older events asked for by one
    /// drawn before (a date passed since) is not added to this one.
    made: u32,
}

thread_local! {
    static SHOWN: RefCell<Option<Shown>> = const { RefCell::new(None) };
    static MADE: Cell<u32> = const { Cell::new(0) };
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
    let made = MADE.get().wrapping_add(1);
    MADE.set(made);
    let mut shown = Shown {
        events: [].into(),
        older: Vec::new(),
        next: match &found.feed {
            Feed::Page(page) => page.next.clone(),
            _ => None,
        },
        note: feed::note(&found.feed),
        found,
        follow,
        now,
        all: false,
        clock: clock.get_untracked(),
        // Both read by `read` below before the first draw.
        hide_sandbox: false,
        drawn: String::new(),
        made,
    };
    shown.merge();
    SHOWN.set(Some(shown));
    // Read to be drawn again when they change (the notes read again move
    // the clock too); drawn once the section is on the page. An attribute's
    // closure: a kind of reactive value the panel has anyway, where a child
    // returning nothing would add its own (~0.3 KB).
    let read = move || {
        let (clock, hide_sandbox) = (clock.get(), hide_sandbox.get());
        SHOWN.with_borrow_mut(|shown| {
            if let Some(shown) = shown.as_mut().filter(|shown| shown.made == made) {
                (shown.clock, shown.hide_sandbox) = (clock, hide_sandbox);
            }
        });
        spawn_local(async { draw() });
        "history-heading"
    };
    view! {
        <section class="card" id=SECTION aria-labelledby=read
            on:click=|click| {
                let (tag, at) = browser::clicked_at(&click);
                match tag.as_str() {
                    "A" => {
                        // The page's URL names the lookup: a fragment would replay it.
                        click.prevent_default();
                        follow_link(&at);
                    }
                    "BUTTON" if at == LOAD_OLDER => load_older(),
                    "BUTTON" => show_all(),
                    _ => {}
                }
            }>
        </section>
    }
}

impl Shown {
    /// The profile's history with every page of the store's events so far.
    fn merge(&mut self) {
        let first = match &self.found.feed {
            Feed::Page(page) => &page.events[..],
            _ => &[],
        };
        let pages: Vec<&FeedEvent> = first.iter().chain(&self.older).collect();
        let derived = events::history(&self.found.profile, self.now);
        self.events = feed::merge(&self.found.profile, derived, &pages).into();
    }
}

/// Follows the link to `anchor` (`#purchases-1`); a link without one
/// (what is not on the page) goes nowhere.
fn follow_link(anchor: &str) {
    let to = SHOWN.with_borrow(|shown| {
        let shown = shown.as_ref()?;
        let item = shown
            .events
            .iter()
            .filter_map(|event| event.item)
            .find(|item| anchor.strip_prefix('#') == Some(item.anchor().as_str()))?;
        Some((shown.follow.clone(), item))
    });
    // Out of the cell: following redraws the lists.
    if let Some((follow, item)) = to {
        follow(item);
    }
}

fn show_all() {
    SHOWN.with_borrow_mut(|shown| {
        if let Some(shown) = shown {
            shown.all = true;
        }
    });
    draw();
    // The first event it adds takes focus.
    browser::focus(&format!("event-{FIRST_SHOWN}"));
}

fn load_older() {
    let asked = SHOWN.with_borrow_mut(|shown| {
        let shown = shown.as_mut()?;
        let cursor = shown.next.clone()?;
        // Older events land among all the others, not beyond the first 20.
        shown.all = true;
        Some((shown.found.clone(), cursor, shown.made))
    });
    let Some((found, cursor, made)) = asked else {
        return;
    };
    draw();
    spawn_local(async move {
        let page = transport::events(&found.app.id, &found.profile.profile_id, &cursor).await;
        SHOWN.with_borrow_mut(|shown| {
            let Some(shown) = shown.as_mut().filter(|shown| shown.made == made) else {
                return;
            };
            match page {
                Ok(page) => {
                    shown.older.extend(page.events);
                    shown.next = page.next;
                    shown.merge();
                    shown.note.clear();
                }
                Err(error) => shown.note = feed::unavailable(&error),
            }
        });
        draw();
    });
}

/// The section's markup, made of constant pieces only, and what each of
/// its elements shows, in document order (`browser::redraw`): an element's
/// properties, then a name of "" for the next element.
#[derive(Default)]
struct Drawing {
    html: String,
    properties: Vec<(&'static str, String)>,
}

impl Drawing {
    fn add(&mut self, html: &str) {
        self.html.push_str(html);
    }

    /// A property of the element being filled.
    fn set(&mut self, name: &'static str, value: String) {
        self.properties.push((name, value));
    }

    /// On to the next element.
    fn next(&mut self) {
        self.set("", String::new());
    }

    /// Hides the element being filled, or shows it again.
    fn hide(&mut self, hide: bool) {
        let hidden = if hide { "hidden" } else { "" };
        self.set("hidden", hidden.into());
    }

    /// The element's text; then on to the next.
    fn text(&mut self, text: String) {
        self.set("textContent", text);
        self.next();
    }

    /// Each day's heading and the list of its events; `place` counts
    /// events across days, to name each (`event-20`).
    fn days(&mut self, days: Vec<Day>, clock: &Clock, place: &mut usize) {
        for day in days {
            self.add(DAY);
            self.text(day.label);
            self.next();
            for (time, event) in day.events {
                self.line(time, event, clock, *place);
                *place += 1;
            }
            self.add("</ol>");
        }
    }

    /// One event: its time (an unreadable date verbatim, with no
    /// `datetime`), its sentence linking to its item, its marks in words.
    fn line(&mut self, time: String, event: &Event, clock: &Clock, place: usize) {
        self.add(LINE);
        self.set("id", format!("event-{place}"));
        self.next();
        match event.when {
            When::At(at) => {
                self.add(DATED);
                self.set("dateTime", format::iso(at));
            }
            When::Unreadable(_) => self.add(UNDATED),
        }
        self.text(time);
        // What is not on the page (another product, an access level gone)
        // is told without a link: an `a` without `href`.
        match event.item {
            Some(item) => {
                self.add(LINKED);
                self.set("href", format!("#{}", item.anchor()));
            }
            None => self.add(UNLINKED),
        }
        self.text(event.text.clone());
        self.add("</a>");
        for mark in event.marks(clock.now) {
            let tone = match mark {
                "Upcoming" | "Support" => "badge tone-info",
                "Refunded" => "badge tone-bad",
                _ => "badge flag",
            };
            self.add(MARK);
            self.set("className", tone.into());
            self.text(mark.into());
        }
        if !event.detail.is_empty() {
            self.add(DETAIL);
            self.text(event.detail.clone());
        }
        self.add("</li>");
    }
}

/// Draws the section as its state and the clock read now; focus on one of
/// its elements with an ID stays there.
fn draw() {
    let focused = browser::focused_id();
    SHOWN.with_borrow_mut(|shown| {
        let Some(shown) = shown else {
            return;
        };
        let clock = &shown.clock;
        let limit = if shown.all { usize::MAX } else { FIRST_SHOWN };
        // The notes among them, once there are any; written again under
        // the headline too, as the clock reads them now.
        super::notes::redraw(clock);
        let events = super::notes::among(shown.events.clone(), clock);
        let timeline = events::timeline(&events, clock, shown.hide_sandbox, limit);
        let empty = match (timeline.total, timeline.hidden) {
            (0, 0) => "No dated events in this profile.".to_owned(),
            (0, hidden) => format!("Only sandbox events, hidden ({hidden})."),
            (_, 0) => String::new(),
            (_, hidden) => format!("{hidden} sandbox events hidden."),
        };
        let count = shown.events.len() + super::notes::count();
        let mut drawing = Drawing::default();
        drawing.add(HEAD);
        drawing.next();
        drawing.text(format::thousands(count as u64));
        drawing.hide(shown.note.is_empty());
        drawing.text(shown.note.clone());
        drawing.hide(empty.is_empty());
        drawing.text(empty);
        drawing.next();
        let mut place = 0;
        drawing.days(timeline.upcoming, clock, &mut place);
        drawing.add(NOW);
        drawing.hide(timeline.total == 0);
        drawing.next();
        drawing.set("dateTime", format::iso(clock.now));
        drawing.text(clock.date_time(clock.now));
        drawing.days(timeline.past, clock, &mut place);
        drawing.add(TAIL);
        let total = format::thousands(timeline.total as u64);
        drawing.hide(timeline.shown == timeline.total);
        drawing.text(["Show all ", &total, " events"].concat());
        drawing.hide(shown.next.is_none());
        // The same markup as last drawn (the clock moved, the notes were
        // read again): the elements stay, with focus, as Leptos kept them.
        let same = drawing.html == shown.drawn;
        let markup = (!same).then_some(drawing.html.as_str());
        if browser::redraw(SECTION, markup, &drawing.properties) && !same {
            shown.drawn = drawing.html;
        }
    });
    // Drawn anew: the element focused before, if it had an ID, gets
    // focus back (the one event named so, *Load older*).
    if !focused.is_empty() {
        browser::focus(&focused);
    }
}
