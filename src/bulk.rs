//! A bulk check (issue 24): many customers of one app checked in one run
//! through the relay's `POST api/bulk`, in plain Rust: the pasted list or
//! a CSV file's column, the run as its NDJSON lines come
//! (`protocol::bulk`), each found profile read by the same model code as a
//! lookup and said in the profile page's words, the counts and the time
//! left, the table's cells, and the CSV export.
//!
//! Lines are read through `Loose`, not protocol's derived readers, which
//! would weigh on the wasm; found profiles through `Envelope::parse`.

use crate::cells::{Badge, Cell};
use crate::events;
use crate::explain;
use crate::feed;
use crate::format::{self, iso, Clock};
use crate::handoff;
use crate::listing::Row;
use crate::lookup::{IdKind, Lookup};
use crate::model::{Envelope, Loose, Profile, Timestamp};
use crate::status::Tone;
use chrono::{DateTime, Utc};
use protocol::bulk::{line, status, LAST_EVENT};
use std::collections::BTreeMap;

/// The relay's default `--bulk-max-ids`, for a relay whose session does
/// not say its own.
pub const MAX_IDS: usize = 5_000;

/// The most IDs a run may check: the session's `bulk_max_ids` (0 when the
/// relay did not say). A longer list is refused here, before anything is
/// sent.
pub fn most_ids(session_max: usize) -> usize {
    match session_max {
        0 => MAX_IDS,
        max => max,
    }
}

/// The IDs of a pasted list: one a line, or separated by commas or white
/// space; trimmed, blank lines and repeated IDs dropped and counted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pasted {
    pub ids: Vec<String>,
    pub duplicates: usize,
    pub blanks: usize,
}

pub fn read_pasted(text: &str) -> Pasted {
    let mut pasted = Pasted::default();
    // Keyed as the feed's Adapty fields are: the same map in the wasm.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            pasted.blanks += 1;
            continue;
        }
        for id in line.split(|c: char| c == ',' || c.is_whitespace()) {
            if id.is_empty() {
                continue;
            }
            if seen.insert(id.to_owned(), String::new()).is_some() {
                pasted.duplicates += 1;
            } else {
                pasted.ids.push(id.to_owned());
            }
        }
    }
    // A last line break is not a blank line.
    pasted
}

/// What the list comes to, in a sentence; `Err` when it cannot be sent.
pub fn pasted_words(pasted: &Pasted, most: usize) -> Result<String, String> {
    let count = pasted.ids.len();
    if count > most {
        return Err(format!(
            "This list has {} IDs; a run checks at most {}: split it.",
            format::thousands(count as u64),
            format::thousands(most as u64)
        ));
    }
    if count == 0 {
        return Err("Paste the IDs to check, or choose a CSV file.".into());
    }
    Ok(format!(
        "IDs to check: {}. Dropped: {} repeated, {} blank lines.",
        format::thousands(count as u64),
        pasted.duplicates,
        pasted.blanks
    ))
}

/// A CSV file's records (RFC 4180: quoted fields may hold commas, quotes
/// doubled and line breaks; CRLF or LF), blank lines skipped.
pub fn read_csv(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut was_quoted) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            '"' if field.is_empty() => (quoted, was_quoted) = (true, true),
            ',' if !quoted => record.push(std::mem::take(&mut field)),
            '\r' if !quoted => {}
            '\n' if !quoted => {
                if !field.is_empty() || was_quoted || !record.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                was_quoted = false;
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || was_quoted || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// Column names that say a file's first record is its header, as
/// `plain` writes them (`Customer user ID`, `customer_user_id`).
const ID_COLUMNS: [&str; 7] = [
    "id",
    "customeruserid",
    "profileid",
    "userid",
    "customerid",
    "email",
    "transactionid",
];

/// A column's name in lower-case letters and digits only.
fn plain(name: &str) -> String {
    name.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|byte| byte.to_ascii_lowercase() as char)
        .collect()
}

/// A file's columns to pick from, and the one picked first: with several
/// columns, the first record names them; with one, only when it is a
/// name such as `customer_user_id` (else it is the first ID). The first
/// column named like an ID is picked, or the first.
pub fn columns(records: &[Vec<String>]) -> (Vec<String>, usize) {
    let first = records.first().map_or(&[][..], Vec::as_slice);
    let named = |name: &String| ID_COLUMNS.contains(&plain(name).as_str());
    if first.len() < 2 && !first.iter().any(named) {
        return (vec!["Column 1".into()], 0);
    }
    let pick = first.iter().position(named).unwrap_or(0);
    (first.to_vec(), pick)
}

/// Column `index` of the records, one value a line, without the header
/// `columns` found: the text the paste box then holds.
pub fn column(records: &[Vec<String>], index: usize) -> String {
    let (names, _) = columns(records);
    let header = names.len() > 1 || records.first().is_some_and(|r| r.first() == names.first());
    let mut text = String::new();
    for record in records.iter().skip(header as usize) {
        text += record.get(index).map_or("", |value| value.trim());
        text.push('\n');
    }
    text
}

/// What an ID came to, as the page counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    HasAccess,
    NoAccess,
    NotFound,
    /// Invalid, ambiguous, or failed at Adapty or the relay.
    Failed,
    /// Not reached: the run was cancelled first.
    NotChecked,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::HasAccess => "Has access",
            State::NoAccess => "No access",
            State::NotFound => "Not found",
            State::Failed => "Failed",
            State::NotChecked => "Not checked",
        }
    }
}

/// One access level of a found customer, as of the moment it was checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub id: String,
    /// "Active", "Expired", … (`status::State::label`).
    pub state: &'static str,
    pub expires: Option<Timestamp>,
    pub renews: bool,
}

/// One ID's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Its place in the list.
    pub index: usize,
    pub id: String,
    pub state: State,
    /// The relay's word: `found`, `not_found`, `invalid`, `ambiguous`, `failed`.
    pub status: String,
    /// How the relay read the ID: `customer_user_id`, `profile_id`, `email`…
    pub matched: Option<String>,
    /// Why it was not found or failed.
    pub reason: Option<String>,
    /// The customer as a lookup opens them.
    pub lookup: Lookup,
    pub profile_id: Option<String>,
    pub customer_user_id: Option<String>,
    /// The profile page's headline, short ("Has premium (renews)") and
    /// whole, its dates in UTC.
    pub short: String,
    pub headline: String,
    pub tone: Tone,
    pub levels: Vec<Level>,
    /// The access levels' IDs, for the filter box.
    pub level_names: String,
    pub store: String,
    pub billing_issue: bool,
    pub grace_period: bool,
    pub sandbox_only: bool,
    /// The latest end of the access granted now.
    pub expires: Option<DateTime<Utc>>,
    /// The newest event of the customer's history, from the profile.
    pub last_event: Option<(DateTime<Utc>, String)>,
}

impl Checked {
    /// An ID without a profile: not found, failed, or not checked.
    fn without(index: usize, id: &str, state: State, status: &str, app: &str) -> Checked {
        Checked {
            index,
            id: id.into(),
            state,
            status: status.into(),
            matched: None,
            reason: None,
            lookup: Lookup {
                kind: IdKind::CustomerUserId,
                id: id.into(),
                app: app.into(),
            },
            profile_id: None,
            customer_user_id: None,
            short: state.label().into(),
            headline: String::new(),
            tone: Tone::Muted,
            levels: Vec::new(),
            level_names: String::new(),
            store: String::new(),
            billing_issue: false,
            grace_period: false,
            sandbox_only: false,
            expires: None,
            last_event: None,
        }
    }

    /// A found customer, as the profile page would say them at `now`.
    fn found(index: usize, id: &str, profile: &Profile, app: &str, now: DateTime<Utc>) -> Checked {
        let clock = Clock {
            absolute: true,
            ..Clock::in_utc(now)
        };
        let headline = explain::headline(profile, &clock, false);
        let mut checked = Checked::without(index, id, State::NoAccess, status::FOUND, app);
        let mut granted_store = None;
        let (mut granted, mut sandbox, mut forever) = (false, true, false);
        for level in &profile.access_levels {
            let status = level.status(now);
            let flags = status.flags;
            checked.billing_issue |= flags.billing_issue;
            checked.grace_period |= flags.grace_period;
            if status.grants_access() {
                granted = true;
                sandbox &= flags.sandbox;
                granted_store.get_or_insert(&level.store);
                let end = level.expires_at.as_ref().and_then(Timestamp::instant);
                // A level without an end (lifetime) outlasts any date.
                forever |= end.is_none();
                checked.expires = checked.expires.max(end);
            }
            if !checked.level_names.is_empty() {
                checked.level_names.push_str(", ");
            }
            checked.level_names.push_str(&level.access_level_id);
            checked.levels.push(Level {
                id: level.access_level_id.clone(),
                state: status.state.label(),
                expires: level.expires_at.clone(),
                renews: status.renews(),
            });
        }
        checked.sandbox_only = granted && sandbox;
        if forever {
            checked.expires = None;
        }
        checked.store = granted_store
            .or(profile.access_levels.first().map(|level| &level.store))
            .cloned()
            .unwrap_or_default();
        if headline.text.starts_with("Has ") {
            checked.state = State::HasAccess;
        }
        checked.short = headline.short;
        checked.headline = headline.text;
        checked.tone = headline.tone;
        checked.lookup = handoff::customer(profile, app);
        checked.profile_id = Some(profile.profile_id.clone());
        checked.customer_user_id = profile.customer_user_id.clone();
        checked.last_event =
            events::history(profile, now)
                .into_iter()
                .find_map(|event| match event.when {
                    events::When::At(at) if at <= now => Some((at, event.text)),
                    _ => None,
                });
        checked
    }

    /// Whether any access level will renew on its own.
    pub fn renews(&self) -> bool {
        self.levels.iter().any(|level| level.renews)
    }
}

/// A found line's profile: the relay writes it last, after the line's own
/// fields (`{"type":"checked",…,"profile":{…}}`). A quote inside a JSON
/// string is escaped, so the first `,"profile":` is that field. Returns
/// the line's own fields as an object, and the profile's text.
fn split_profile(line: &str) -> (String, Option<&str>) {
    const MARKER: &str = ",\"profile\":";
    match line.find(MARKER) {
        Some(at) => {
            let profile = line[at + MARKER.len()..].trim_end();
            let profile = profile.strip_suffix('}').unwrap_or(profile);
            (line[..at].to_owned() + "}", Some(profile))
        }
        None => (line.to_owned(), None),
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    #[default]
    Ready,
    Running,
    Paused,
    Done,
    Cancelled,
}

/// A run: its list, what came of each ID so far, and where it is.
#[derive(Debug)]
pub struct Run {
    /// The app's ID (empty with one app), for the request and the links.
    pub app: String,
    pub ids: Vec<String>,
    pub reason: String,
    /// Results in the order they came.
    pub rows: Vec<Checked>,
    /// Whether each ID of the list has its result.
    done: Vec<bool>,
    /// The list's places of the IDs the current request sent, in its order
    /// (a resumed request sends only those left, counted from 0 again).
    sent: Vec<usize>,
    /// Checks a minute, from the start line.
    pub per_minute: u32,
    pub phase: Phase,
}

/// The counts on the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub has_access: usize,
    pub no_access: usize,
    pub not_found: usize,
    pub failed: usize,
}

impl Run {
    /// No run yet: a constant, so the page's cell of it needs no lazy start.
    pub const NONE: Run = Run {
        app: String::new(),
        ids: Vec::new(),
        reason: String::new(),
        rows: Vec::new(),
        done: Vec::new(),
        sent: Vec::new(),
        per_minute: 0,
        phase: Phase::Ready,
    };

    pub fn new(app: &str, ids: Vec<String>, reason: &str) -> Run {
        Run {
            app: app.into(),
            done: vec![false; ids.len()],
            ids,
            reason: reason.trim().into(),
            ..Run::NONE
        }
    }

    /// The IDs the next request sends, those without a result, in the
    /// list's order; the run is then running.
    pub fn send(&mut self) -> Vec<String> {
        self.sent = (0..self.ids.len()).filter(|&i| !self.done[i]).collect();
        self.phase = Phase::Running;
        self.sent.iter().map(|&i| self.ids[i].clone()).collect()
    }

    /// The request's JSON body (`protocol::bulk`).
    pub fn body(&self, ids: Vec<String>) -> String {
        let mut fields = vec![
            (
                protocol::field::REASON.to_owned(),
                Loose::Text(self.reason.clone()),
            ),
            (
                protocol::bulk::field::IDS.to_owned(),
                Loose::List(ids.into_iter().map(Loose::Text).collect()),
            ),
        ];
        if !self.app.is_empty() {
            fields.push((protocol::param::APP.into(), Loose::Text(self.app.clone())));
        }
        Loose::Object(fields).to_json()
    }

    /// One NDJSON line of the answer, checked at `now`.
    pub fn take(&mut self, text: &str, now: DateTime<Utc>) {
        let (own, profile) = split_profile(text.trim());
        let Ok(json) = serde_json::from_str::<Loose>(&own) else {
            return;
        };
        let number = |name| json.number(name).map_or(0, |n| n as usize);
        match json.get("type").text() {
            Some(line::START) => self.per_minute = number("per_minute") as u32,
            Some(line::CHECKED) => {
                let Some(&index) = self.sent.get(number("index")) else {
                    return;
                };
                if self.done[index] {
                    return;
                }
                let id = &self.ids[index];
                let word = json.string("status").unwrap_or_default();
                // Adapty's envelope, `{"data": …}`, as a lookup reads it.
                let parsed = profile.map(Envelope::parse);
                let mut checked = match (word.as_str(), parsed) {
                    (status::FOUND, Some(Ok(envelope))) => {
                        Checked::found(index, id, &envelope, &self.app, now)
                    }
                    (status::FOUND, _) => {
                        let mut failed =
                            Checked::without(index, id, State::Failed, status::FAILED, &self.app);
                        failed.reason = Some("the profile did not have the expected shape".into());
                        failed
                    }
                    (status::NOT_FOUND, _) => {
                        Checked::without(index, id, State::NotFound, &word, &self.app)
                    }
                    _ => Checked::without(index, id, State::Failed, &word, &self.app),
                };
                checked.matched = json.string("matched");
                // The store's newest event from Adapty, when the relay has one.
                let stored = json.string(LAST_EVENT).unwrap_or_default();
                if let Ok(event) = serde_json::from_str::<Loose>(&stored) {
                    if let Some(last) = feed::moment_and_sentence(&event) {
                        checked.last_event = Some(last);
                    }
                }
                if checked.reason.is_none() {
                    checked.reason = json.string("error");
                }
                self.done[index] = true;
                self.rows.push(checked);
            }
            Some(line::END) if self.rows.len() == self.ids.len() => self.phase = Phase::Done,
            _ => {}
        }
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            total: self.ids.len(),
            done: self.rows.len(),
            ..Counts::default()
        };
        for row in &self.rows {
            match row.state {
                State::HasAccess => counts.has_access += 1,
                State::NoAccess => counts.no_access += 1,
                State::NotFound => counts.not_found += 1,
                _ => counts.failed += 1,
            }
        }
        counts
    }

    /// Seconds left at the relay's pace, while it runs.
    pub fn seconds_left(&self) -> Option<u64> {
        if self.per_minute == 0 || self.phase != Phase::Running {
            return None;
        }
        let left = (self.ids.len() - self.rows.len()) as u64;
        Some((left * 60).div_ceil(u64::from(self.per_minute)))
    }

    /// "Checked 12 of 60: 5 have access, 4 no access, 2 not found, 1
    /// failed. About 1 minute left."
    pub fn progress_words(&self) -> String {
        let c = self.counts();
        let mut words = format!(
            "Checked {} of {}: {} with access, {} without, {} not found, {} failed.",
            format::thousands(c.done as u64),
            format::thousands(c.total as u64),
            c.has_access,
            c.no_access,
            c.not_found,
            c.failed
        );
        words += match self.phase {
            Phase::Paused => " Paused.",
            Phase::Cancelled => " Cancelled.",
            Phase::Done => " Done.",
            _ => "",
        };
        if let Some(seconds) = self.seconds_left() {
            words.push(' ');
            words += &time_left(seconds);
        }
        words
    }

    /// Every ID of the list in its order: its result, or not checked.
    pub fn each_row(&self, mut each: impl FnMut(&Checked)) {
        let mut placed: Vec<Option<&Checked>> = vec![None; self.ids.len()];
        for row in &self.rows {
            placed[row.index] = Some(row);
        }
        for (index, row) in placed.into_iter().enumerate() {
            match row {
                Some(row) => each(row),
                None => {
                    let mut row = Checked::without(
                        index,
                        &self.ids[index],
                        State::NotChecked,
                        "not_checked",
                        &self.app,
                    );
                    row.reason = Some("the run ended before this ID was checked".into());
                    each(&row);
                }
            }
        }
    }
}

/// "About 3 minutes left.", and past an hour and a half, hours.
pub fn time_left(seconds: u64) -> String {
    let minutes = seconds.div_ceil(60);
    match minutes {
        0 => "Almost done.".into(),
        1 => "Less than a minute left.".into(),
        2..=90 => format!("About {minutes} minutes left."),
        _ => format!("About {} hours left.", (minutes + 30) / 60),
    }
}

/// The CSV's columns, in order.
pub const CSV_COLUMNS: [&str; 18] = [
    "ID",
    "App",
    "Result",
    "State",
    "Headline",
    "Access levels",
    "Expires",
    "Renews",
    "Store",
    "Billing issue",
    "Grace period",
    "Sandbox only",
    "Last event",
    "Last event at",
    "Profile ID",
    "Customer user ID",
    "Matched as",
    "Reason",
];

/// The export: RFC 4180 (CRLF, quoted where needed), a header row, one
/// row per ID in the list's order, dates in ISO 8601 UTC.
pub fn csv(run: &Run, app_name: &str) -> String {
    let mut out = String::new();
    let mut record = |fields: &[&str]| {
        for (n, field) in fields.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            // What a spreadsheet would run as a formula (an ID or a name
            // that Adapty holds as the app or a customer wrote it) is
            // shown as text: OWASP's advice, a leading apostrophe.
            let guard = if field.starts_with(['=', '+', '-', '@', '\t', '\r', '\0']) {
                "'"
            } else {
                ""
            };
            // Quoted also where a spreadsheet of another locale splits
            // cells (`;`, a tab), so no formula starts a cell of its own.
            if field.contains([',', '"', '\r', '\n', ';', '\t']) {
                out.push('"');
                out += guard;
                out += &field.replace('"', "\"\"");
                out.push('"');
            } else {
                out += guard;
                out += field;
            }
        }
        out += "\r\n";
    };
    record(&CSV_COLUMNS);
    let yes = |found: bool, value: bool| match (found, value) {
        (false, _) => "",
        (true, true) => "yes",
        (true, false) => "no",
    };
    run.each_row(|row| {
        let found = row.profile_id.is_some();
        let levels: Vec<String> = row
            .levels
            .iter()
            .map(|level| {
                let end = match &level.expires {
                    Some(Timestamp::At(at)) => format!("expires {}", iso(*at)),
                    Some(Timestamp::Unreadable(raw)) => format!("expires {raw}"),
                    None => "no expiry".into(),
                };
                let renews = if level.renews { ", renews" } else { "" };
                format!("{}: {}, {end}{renews}", level.id, level.state)
            })
            .collect();
        let (event_at, event) = match &row.last_event {
            Some((at, text)) => (iso(*at), text.as_str()),
            None => (String::new(), ""),
        };
        record(&[
            &row.id,
            app_name,
            &row.status,
            row.state.label(),
            &row.headline,
            &levels.join("; "),
            &row.expires.map(iso).unwrap_or_default(),
            yes(found, row.renews()),
            &row.store,
            yes(found, row.billing_issue),
            yes(found, row.grace_period),
            yes(found, row.sandbox_only),
            event,
            &event_at,
            row.profile_id.as_deref().unwrap_or_default(),
            row.customer_user_id.as_deref().unwrap_or_default(),
            row.matched.as_deref().unwrap_or_default(),
            row.reason.as_deref().unwrap_or_default(),
        ]);
    });
    out
}

/// `bulk-check-main-20261207T101500Z.csv`: the app (letters, digits, `-`
/// and `_` of its ID) and the time in UTC.
pub fn file_name(app: &str, at: DateTime<Utc>) -> String {
    let app: String = app
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let app = if app.is_empty() { "adapty".into() } else { app };
    format!(
        "bulk-check-{app}-{}.csv",
        plain(&iso(at)).to_ascii_uppercase()
    )
}

/// The table's columns: what `cells` gives, in order.
pub const COLUMNS: [&str; 6] = [
    "ID",
    "State",
    "Access levels",
    "Expires",
    "Store",
    "Last event",
];

/// A row's cells; `panel` is the lookup page's address, for the link that
/// opens the customer in a new tab.
pub fn cells(row: &Checked, clock: &Clock, panel: &str) -> Vec<Cell> {
    let id = Cell {
        link: Some(panel.to_owned() + &handoff::panel_query(&row.lookup)),
        ..Cell::code(row.id.clone())
    };
    let mut badges = vec![Badge {
        label: row.state.label(),
        class: row.tone.class(),
    }];
    for (on, label) in [
        (row.billing_issue, "Billing issue"),
        (row.grace_period, "Grace period"),
        (row.sandbox_only, "Sandbox only"),
    ] {
        if on {
            badges.push(Badge {
                label,
                class: "flag",
            });
        }
    }
    let state = Cell {
        badges,
        ..Cell::text(match row.state {
            State::HasAccess | State::NoAccess => row.short.clone(),
            _ => row.reason.clone().unwrap_or_default(),
        })
    };
    let levels: Vec<String> = row
        .levels
        .iter()
        .map(|level| {
            let mut text = format!("{}: {}", level.id, level.state);
            if let Some(Timestamp::At(at)) = &level.expires {
                text += &format!(" {}", clock.date(*at));
            }
            if level.renews {
                text += ", renews";
            }
            text
        })
        .collect();
    let last = match &row.last_event {
        Some((at, text)) => Cell {
            detail: Some(text.clone()),
            ..Cell::when(Some(&Timestamp::At(*at)), clock, "")
        },
        None => Cell::default(),
    };
    vec![
        id,
        state,
        Cell::text(levels.join("; ")),
        Cell::when(row.expires.map(Timestamp::At).as_ref(), clock, ""),
        Cell::text(if row.store.is_empty() {
            String::new()
        } else {
            format::store(&row.store)
        }),
        last,
    ]
}

/// A row's detail when it is opened.
pub fn details(row: &Checked, app_name: &str) -> Vec<(&'static str, Cell)> {
    let mut fields = vec![("App", Cell::text(app_name))];
    let mut add = |label, value: &Option<String>| {
        if let Some(value) = value {
            fields.push((label, Cell::text(value.clone())));
        }
    };
    add(
        "Headline",
        &Some(row.headline.clone()).filter(|h| !h.is_empty()),
    );
    add("Profile ID", &row.profile_id);
    add("Customer user ID", &row.customer_user_id);
    add("Matched as", &row.matched);
    add("Reason", &row.reason);
    fields
}

impl Row for Checked {
    /// Sorted as "Last event".
    fn purchased(&self) -> Option<DateTime<Utc>> {
        self.last_event.as_ref().map(|(at, _)| *at)
    }
    fn expires(&self) -> Option<DateTime<Utc>> {
        self.expires
    }
    fn ids(&self) -> [Option<&str>; 4] {
        let other = match &self.customer_user_id {
            Some(user) if *user != self.id => Some(user.as_str()),
            _ => self.profile_id.as_deref(),
        };
        [
            Some(&self.id),
            other,
            Some(&self.short),
            Some(&self.level_names),
        ]
    }
    fn environment(&self) -> Option<&str> {
        self.sandbox_only.then_some("Sandbox")
    }
    fn store(&self) -> &str {
        &self.store
    }
    fn marks(&self, _: DateTime<Utc>) -> Vec<&'static str> {
        let mut marks = vec![self.state.label()];
        if self.billing_issue {
            marks.push("Billing issue");
        }
        if self.grace_period {
            marks.push("Grace period");
        }
        marks
    }
    fn state(&self) -> Option<&'static str> {
        Some(self.state.label())
    }
    fn rank(&self) -> i64 {
        self.state as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{self, Quick, Sort, SortKey, View};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 7, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_pasted_list_is_split_trimmed_and_its_blanks_and_duplicates_counted() {
        let pasted = read_pasted("a\n b , c\n\n  \na,d e\tf\r\nb\n");
        assert_eq!(pasted.ids, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!((pasted.duplicates, pasted.blanks), (2, 2));
        assert_eq!(
            pasted_words(&pasted, MAX_IDS).unwrap(),
            "IDs to check: 6. Dropped: 2 repeated, 2 blank lines."
        );
        assert_eq!(
            pasted_words(&read_pasted("x"), MAX_IDS).unwrap(),
            "IDs to check: 1. Dropped: 0 repeated, 0 blank lines."
        );
        assert!(pasted_words(&read_pasted(" \n"), MAX_IDS).is_err());
        let many: Vec<String> = (0..=MAX_IDS).map(|n| format!("id-{n}")).collect();
        let many = read_pasted(&many.join("\n"));
        assert_eq!(
            pasted_words(&many, most_ids(0)).unwrap_err(),
            "This list has 5,001 IDs; a run checks at most 5,000: split it."
        );
        // A relay set to its own limit: the panel refuses by that one.
        assert_eq!(
            pasted_words(&read_pasted("a b c"), most_ids(2)).unwrap_err(),
            "This list has 3 IDs; a run checks at most 2: split it."
        );
        assert!(pasted_words(&many, most_ids(6_000)).is_ok());
    }

    #[test]
    fn a_csv_files_column_is_read_with_quotes_and_its_header_found() {
        let file = "\u{feff}name,customer_user_id,note\r\n\"Doe, Jane\",u1,\"said \"\"hi\"\"\nthen left\"\r\nBob,u2,\r\n\r\n,u3,x";
        let records = read_csv(file);
        assert_eq!(records.len(), 4);
        assert_eq!(records[1], ["Doe, Jane", "u1", "said \"hi\"\nthen left"]);
        assert_eq!(records[2], ["Bob", "u2", ""]);
        let (names, pick) = columns(&records);
        assert_eq!((names[1].as_str(), pick), ("customer_user_id", 1));
        assert_eq!(column(&records, pick), "u1\nu2\nu3\n");
        assert_eq!(column(&records, 0), "Doe, Jane\nBob\n\n");
        // One column: a header only when it is named like one.
        let bare = read_csv("u1\nu2\n");
        assert_eq!(columns(&bare), (vec!["Column 1".into()], 0));
        assert_eq!(column(&bare, 0), "u1\nu2\n");
        let named = read_csv("Customer User ID\nu1\n");
        assert_eq!(column(&named, 0), "u1\n");
    }

    const FOUND: &str = r#"{"type":"checked","index":0,"id":"u1","status":"found","matched":"customer_user_id","error":null,"profile":{"data":{"profile_id":"p1","customer_user_id":"u1","access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"m","expires_at":"2025-02-01T00:00:00+00:00","purchased_at":"2024-12-01T00:00:00+00:00","is_in_grace_period":false}],"subscriptions":[{"store":"app_store","store_product_id":"m","purchased_at":"2024-12-01T00:00:00+00:00","expires_at":"2025-02-01T00:00:00+00:00"}]}}}"#;

    fn run_of(ids: &[&str]) -> Run {
        let mut run = Run::new(
            "main",
            ids.iter().map(|s| s.to_string()).collect(),
            " outage ",
        );
        run.send();
        run.take(
            r#"{"type":"start","run_id":"r","count":4,"duplicates":0,"blanks":0,"per_minute":300}"#,
            now(),
        );
        run
    }

    #[test]
    fn lines_become_rows_in_the_profile_pages_words() {
        let mut run = run_of(&["u1", "nobody", "bad id", "u4"]);
        assert_eq!(run.per_minute, 300);
        run.take(FOUND, now());
        run.take(r#"{"type":"checked","index":1,"id":"nobody","status":"not_found","matched":"customer_user_id"}"#, now());
        run.take(r#"{"type":"checked","index":2,"id":"bad id","status":"invalid","error":"customer_user_id must not contain spaces"}"#, now());
        let found = &run.rows[0];
        assert_eq!(found.state, State::HasAccess);
        assert_eq!(found.short, "Has premium");
        assert_eq!(
            found.headline,
            "Has premium until 1 Feb 2025, 00:00 UTC, renews automatically"
        );
        assert_eq!(
            found.expires,
            Some(Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap())
        );
        assert!(found.renews() && !found.billing_issue && !found.sandbox_only);
        assert_eq!(found.store, "app_store");
        assert_eq!(found.profile_id.as_deref(), Some("p1"));
        assert_eq!(
            found.last_event.as_ref().map(|(_, text)| text.as_str()),
            Some("Subscribed to m (App Store)")
        );
        assert_eq!(run.rows[1].state, State::NotFound);
        assert_eq!(run.rows[2].state, State::Failed);
        assert_eq!(
            run.rows[2].reason.as_deref(),
            Some("customer_user_id must not contain spaces")
        );
        let counts = run.counts();
        assert_eq!(
            (
                counts.done,
                counts.has_access,
                counts.no_access,
                counts.not_found,
                counts.failed
            ),
            (3, 1, 0, 1, 1)
        );
        // One left at 300 a minute: 0.2 s, a second once rounded up.
        assert_eq!(run.seconds_left(), Some(1));
        assert_eq!(
            run.progress_words(),
            "Checked 3 of 4: 1 with access, 0 without, 1 not found, 1 failed. Less than a minute left."
        );
        let link = cells(found, &Clock::in_utc(now()), "https://x.test/")[0]
            .link
            .clone();
        assert_eq!(
            link.as_deref(),
            Some("https://x.test/?app=main&customer_user_id=u1")
        );
    }

    /// Lines as the relay writes them: protocol's types, and a found one's
    /// profile after its fields (`relay/src/http/bulk.rs`, `found_line`).
    #[test]
    fn what_protocol_and_the_relay_write_is_read() {
        let mut run = Run::new("", vec!["u1".into(), "gone".into()], "outage");
        run.send();
        let start = protocol::bulk::Start {
            kind: line::START.into(),
            count: 2,
            per_minute: 120,
            ..Default::default()
        };
        run.take(&serde_json::to_string(&start).unwrap(), now());
        let found = protocol::bulk::Checked {
            kind: line::CHECKED.into(),
            index: 0,
            id: "u1".into(),
            status: status::FOUND.into(),
            matched: Some("customer_user_id".into()),
            error: None,
        };
        let fields = serde_json::to_string(&found).unwrap();
        let profile = r#"{"data":{"profile_id":"p1","customer_user_id":"u1"}}"#;
        let line = format!(
            "{},\"{}\":{profile}}}",
            &fields[..fields.len() - 1],
            protocol::bulk::PROFILE
        );
        run.take(&line, now());
        let gone = protocol::bulk::Checked {
            index: 1,
            id: "gone".into(),
            status: status::NOT_FOUND.into(),
            ..found
        };
        run.take(&serde_json::to_string(&gone).unwrap(), now());
        let end = protocol::bulk::End {
            kind: line::END.into(),
            found: 1,
            not_found: 1,
            ..Default::default()
        };
        run.take(&serde_json::to_string(&end).unwrap(), now());
        assert_eq!(run.per_minute, 120);
        assert_eq!(run.rows[0].profile_id.as_deref(), Some("p1"));
        assert_eq!(run.rows[0].state, State::NoAccess);
        assert_eq!(
            run.rows[0].headline,
            "No access: this customer has never had an access level"
        );
        assert_eq!(run.rows[0].matched.as_deref(), Some("customer_user_id"));
        assert_eq!(run.rows[1].state, State::NotFound);
        assert_eq!(run.phase, Phase::Done);
    }

    #[test]
    fn a_resumed_run_sends_only_the_ids_left_and_counts_from_zero_again() {
        let mut run = run_of(&["u1", "a", "b", "c"]);
        run.take(FOUND, now());
        run.phase = Phase::Paused;
        assert_eq!(run.send(), ["a", "b", "c"]);
        assert!(run.body(vec!["a".into()]).contains(r#""reason":"outage""#));
        run.take(
            r#"{"type":"checked","index":1,"id":"b","status":"not_found"}"#,
            now(),
        );
        assert_eq!((run.rows[1].id.as_str(), run.rows[1].index), ("b", 2));
        run.take(r#"{"type":"end","cancelled":true}"#, now());
        assert_eq!(run.phase, Phase::Running, "two are still left");
        run.take(r#"{"type":"checked","index":0,"id":"a","status":"failed","error":"Adapty did not answer"}"#, now());
        run.take(
            r#"{"type":"checked","index":2,"id":"c","status":"not_found"}"#,
            now(),
        );
        run.take(r#"{"type":"end"}"#, now());
        assert_eq!(run.phase, Phase::Done);
        assert_eq!(run.seconds_left(), None);
    }

    #[test]
    fn time_left_in_words() {
        assert_eq!(time_left(0), "Almost done.");
        assert_eq!(time_left(59), "Less than a minute left.");
        assert_eq!(time_left(61), "About 2 minutes left.");
        assert_eq!(time_left(5_000 * 60 / 300), "About 17 minutes left.");
        assert_eq!(time_left(90 * 60), "About 90 minutes left.");
        assert_eq!(time_left(91 * 60), "About 2 hours left.");
        assert_eq!(time_left(5_000 * 60 / 5), "About 17 hours left.");
    }

    /// A CSV reader for the test only, independent of `read_csv`'s
    /// leniency: strict RFC 4180 over CRLF.
    fn parse_back(text: &str) -> Vec<Vec<String>> {
        assert!(text.ends_with("\r\n"));
        read_csv(text)
    }

    #[test]
    fn the_csv_has_a_header_and_one_row_per_id_and_reads_back() {
        let mut run = run_of(&[
            "u1",
            "nobody",
            "x,\"y\"",
            "later",
            "=HYPERLINK(\"x\")",
            "@SUM(1)",
            "u8;=cmd()",
        ]);
        run.take(FOUND, now());
        run.take(
            r#"{"type":"checked","index":1,"id":"nobody","status":"not_found"}"#,
            now(),
        );
        run.take(r#"{"type":"checked","index":2,"id":"x,\"y\"","status":"invalid","error":"an ID has no commas"}"#, now());
        run.phase = Phase::Cancelled;
        let text = csv(&run, "Main app");
        let records = parse_back(&text);
        assert_eq!(records.len(), 8);
        assert_eq!(records[0], CSV_COLUMNS);
        let found: Vec<&str> = records[1].iter().map(String::as_str).collect();
        assert_eq!(
            found,
            [
                "u1",
                "Main app",
                "found",
                "Has access",
                "Has premium until 1 Feb 2025, 00:00 UTC, renews automatically",
                "premium: Active, expires 2025-02-01T00:00:00Z, renews",
                "2025-02-01T00:00:00Z",
                "yes",
                "app_store",
                "no",
                "no",
                "no",
                "Subscribed to m (App Store)",
                "2024-12-01T00:00:00Z",
                "p1",
                "u1",
                "customer_user_id",
                ""
            ]
        );
        assert_eq!(
            records[2][..4],
            ["nobody", "Main app", "not_found", "Not found"]
        );
        assert_eq!(records[3][0], "x,\"y\"");
        assert_eq!(records[3][17], "an ID has no commas");
        assert_eq!(
            records[4][..4],
            ["later", "Main app", "not_checked", "Not checked"]
        );
        // Formulas stay text in a spreadsheet.
        assert_eq!(records[5][0], "'=HYPERLINK(\"x\")");
        assert_eq!(records[6][0], "'@SUM(1)");
        // Whole, where a semicolon-separated spreadsheet would split it.
        assert_eq!(records[7][0], "u8;=cmd()");
        assert!(text.contains("\r\n\"u8;=cmd()\","), "{text}");
        assert!(records
            .iter()
            .all(|record| record.len() == CSV_COLUMNS.len()));
        assert_eq!(
            file_name("main", now()),
            "bulk-check-main-20250107T120000Z.csv"
        );
        assert_eq!(
            file_name("", now()),
            "bulk-check-adapty-20250107T120000Z.csv"
        );
    }

    /// Access that never ends (a lifetime level) beside a dated one: the
    /// customer's access has no end, not the other level's date.
    #[test]
    fn a_lifetime_level_beside_a_dated_one_has_no_end() {
        let lifetime = FOUND.replace(
            r#""access_levels":["#,
            r#""access_levels":[{"access_level_id":"forever","store":"app_store","store_product_id":"l","expires_at":null,"purchased_at":"2024-12-01T00:00:00+00:00"},"#,
        );
        let mut run = run_of(&["u1"]);
        run.take(&lifetime, now());
        assert_eq!(run.rows[0].state, State::HasAccess);
        assert_eq!(run.rows[0].expires, None, "{:?}", run.rows[0].levels);
        let mut dated = run_of(&["u1"]);
        dated.take(FOUND, now());
        let end = Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap();
        assert_eq!(dated.rows[0].expires, Some(end));
    }

    /// The store's newest event from Adapty, which the relay writes as a
    /// string beside the profile, is the row's last event, in the History's
    /// words; the profile's own story is the fallback.
    #[test]
    fn the_stores_last_adapty_event_is_the_rows_last_event() {
        // As the relay writes it: the event's JSON in a string, beside the
        // line's fields; a key of its own named `profile` changes nothing.
        let line = |event: &str| {
            let field = serde_json::to_string(event).unwrap();
            FOUND.replace(
                r#","profile":"#,
                &format!(r#","last_event":{field},"profile":"#),
            )
        };
        let mut run = run_of(&["u1"]);
        run.take(
            &line(r#"{"id":"e1","a":1,"profile":{"x":1},"source":"adapty","type":"subscription_renewed","at":"2025-01-06T09:30:00Z","product":"m"}"#),
            now(),
        );
        let at = Utc.with_ymd_and_hms(2025, 1, 6, 9, 30, 0).unwrap();
        assert_eq!(run.rows[0].last_event, Some((at, "Renewed m".to_owned())));
        assert_eq!(
            run.rows[0].state,
            State::HasAccess,
            "the profile is still read"
        );
        // Unreadable: the profile's story stays.
        for event in [r#"{"type":"x","at":"soon"}"#, "not JSON"] {
            let mut run = run_of(&["u1"]);
            run.take(&line(event), now());
            let (_, text) = run.rows[0].last_event.clone().unwrap();
            assert_eq!(text, "Subscribed to m (App Store)", "{event}");
        }
    }

    #[test]
    fn rows_filter_by_state_and_sort_by_state_then_list_order() {
        let mut run = run_of(&["u1", "nobody", "bad", "u4"]);
        run.take(
            r#"{"type":"checked","index":1,"id":"nobody","status":"not_found"}"#,
            now(),
        );
        run.take(
            r#"{"type":"checked","index":2,"id":"bad","status":"failed"}"#,
            now(),
        );
        run.take(FOUND, now());
        let quick = listing::quick_filters(&run.rows, now());
        let labels: Vec<String> = quick.iter().map(|(q, _)| q.label()).collect();
        assert_eq!(labels, ["Not found", "Failed", "Has access", "App Store"]);
        let by_state = View {
            sort: Sort {
                key: SortKey::State,
                newest_first: false,
            },
            ..View::default()
        };
        let ids = |view: &View| -> Vec<String> {
            listing::page(&run.rows, view, now())
                .rows
                .iter()
                .map(|&i| run.rows[i].id.clone())
                .collect()
        };
        assert_eq!(ids(&by_state), ["u1", "nobody", "bad"]);
        let failed = View {
            quick: Some(Quick::State("Failed")),
            ..by_state.clone()
        };
        assert_eq!(ids(&failed), ["bad"]);
        let words = View {
            filter: "premium".into(),
            ..by_state
        };
        assert_eq!(ids(&words), ["u1"]);
    }
}
