//! The audit log: one JSON line per lookup, who asked for whom and what came
//! of it. Lines are written whole, in groups (see `writer`), so concurrent
//! lookups never interleave or lose a line, and a slow disk holds up only
//! the requests waiting for their own lines.
//!
//! A change has two lines: what was asked (who, what, for whom, the dates and
//! the reason), written before Adapty is called — if it cannot be written,
//! nothing is changed — and what came of it, written however the call ended.
//!
//! It never lets a lookup or change go unrecorded: a line that cannot be
//! written marks the log unhealthy (`/healthz` says so), and while it is,
//! lookups are refused before Adapty is asked; the refusal's own line is
//! the next attempt, and the first that is written makes it healthy again.
//! A lookup's line is written after Adapty answers and before the answer
//! leaves: when it fails, the profile is not sent.
//!
//! Every line is chained to the one before (`chain`): see `chain` for how,
//! and `verify` for `relay audit verify`. Each file begins with a line
//! (`"outcome":"log_opened"`) naming the chain value it continues, so a
//! file verifies alone and consecutive files together. `reload` (SIGHUP)
//! reopens the file after logrotate moved it; `--audit-dir` switches to a
//! new day's file at the first line after midnight (UTC).
//!
//! A client cannot flood it: no lookup line exceeds 2 KiB, no change line
//! 32 KiB (a reason is never cut), and calls refused before Adapty was asked
//! are written at most N a minute per client address, the rest counted in
//! one line a minute. Every call that reached Adapty is written.

mod chain;
mod config;
mod refused;
mod sink;
pub mod verify;
mod writer;

pub use chain::ChainKey;
use chain::SEAL_BYTES;
pub use config::{AuditConfig, ChainSecret};
use refused::{Client, Refused};
use sink::Sink;
use writer::{Clock, Commits, Writer};

use crate::adapty::ApiKey;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::{Mutex, Weak};
use std::time::Duration;
use tokio::sync::oneshot;

/// The longest lookup line written, newline included.
pub const MAX_LINE_BYTES: usize = 2048;
/// The longest change line (a grant, revoke, correction or erasure),
/// newline included. Every field of one is bounded (the actor, the ID, the
/// access level and the reason by their checks, a correction's attributes
/// by its body's 16 KiB), and together they stay well within it: nothing is
/// ever cut.
pub const MAX_CHANGE_LINE_BYTES: usize = 32 * 1024;
/// How often refused calls left out are counted in the log.
const SUPPRESSED_EVERY: Duration = Duration::from_secs(60);
/// The `outcome` of the line that opens a file.
pub const OPENED: &str = "log_opened";
/// The `cause` of a segment started in the same file after a write failed.
pub const WRITE_FAILED: &str = "write_failed";

pub struct AuditLog {
    /// The file, and the lines waiting for it (see `writer`).
    commits: Commits,
    /// When set, IDs are written as a keyed hash: records of the same customer
    /// still match each other, but the log alone does not name anyone.
    id_hash_key: Option<[u8; 32]>,
    refused: Mutex<Refused>,
}

/// One lookup, as the log records it.
#[derive(Serialize)]
pub struct Entry<'a> {
    pub time: String,
    pub request_id: &'a str,
    pub actor: Option<&'a str>,
    /// The app's ID; `null` when refused before the app was known.
    pub app: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub id: Option<String>,
    pub outcome: &'a str,
    pub status: u16,
    pub upstream_status: Option<u16>,
    pub latency_ms: u64,
    /// Set when the actor or the ID was cut to keep the line within 2 KiB.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// One line of a change: `phase` is `asked` (before Adapty is called),
/// `done` (with the outcome), or `refused` (before Adapty, with the reason
/// as its code; only what had been checked by then is named).
#[derive(Serialize)]
pub struct ChangeEntry<'a> {
    pub time: String,
    /// Made by the relay for this change: its two lines share it, and no
    /// other change's lines have it, whatever request ID a client sends.
    pub change_id: &'a str,
    /// The request's ID, the client's (or its proxy's) when it sent one.
    pub request_id: &'a str,
    pub actor: Option<&'a str>,
    pub app: Option<&'a str>,
    /// `grant`, `revoke`, `edit` or `erase`.
    pub action: &'a str,
    pub phase: &'a str,
    pub kind: Option<&'a str>,
    pub id: Option<String>,
    pub access_level_id: Option<&'a str>,
    #[serde(flatten)]
    pub dates: Option<crate::rules::change::AuditDates>,
    pub reason: Option<&'a str>,
    /// A correction's fields: contact details by name only, custom
    /// attributes with their values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction: Option<crate::rules::correction::AuditCorrection<'a>>,
    /// The profile an erasure removed, found before it was sent (hashed
    /// as `id` is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

/// A note added or deleted: who, in which app, which note, about which
/// customer (hashed as `id` is), and its length; never its text.
#[derive(Serialize)]
pub struct NoteEntry<'a> {
    pub time: String,
    pub request_id: &'a str,
    pub actor: Option<&'a str>,
    pub app: Option<&'a str>,
    /// `note_add` or `note_delete`.
    pub action: &'static str,
    /// `asked` (before the store is written), `done` or `refused`.
    pub phase: &'a str,
    pub note_id: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_chars: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub latency_ms: u64,
}

impl Line for NoteEntry<'_> {
    fn line(&self) -> Vec<u8> {
        one_line(serde_json::to_vec(self).expect("an entry always serializes"))
    }
}

/// A bulk run's line: its start (who, app, reason, how many), one per
/// customer checked, and its end (the counts, completed or cancelled).
#[derive(Serialize)]
pub struct BulkEntry<'a> {
    pub time: String,
    pub request_id: &'a str,
    pub actor: Option<&'a str>,
    pub app: Option<&'a str>,
    pub action: &'a str,
    /// `start`, `check`, `end` or `refused`.
    pub phase: &'a str,
    pub run_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'a str>,
    /// The customer checked, hashed with `--audit-hash-ids`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<&'a protocol::bulk::End>,
}

impl<'a> BulkEntry<'a> {
    /// A line of the run `run_id`, naming only the run and the phase.
    pub fn new(run_id: &'a str, phase: &'a str) -> BulkEntry<'a> {
        BulkEntry {
            time: now(),
            request_id: "",
            actor: None,
            app: None,
            action: "bulk",
            phase,
            run_id,
            reason: None,
            count: None,
            kind: None,
            id: None,
            outcome: None,
            counts: None,
        }
    }
}

impl Line for BulkEntry<'_> {
    fn line(&self) -> Vec<u8> {
        one_line(serde_json::to_vec(self).expect("an entry always serializes"))
    }
}

/// What can be written as one line of the log.
pub trait Line {
    fn line(&self) -> Vec<u8>;
}

impl Line for Entry<'_> {
    fn line(&self) -> Vec<u8> {
        one_line(fitted(self))
    }
}

impl Line for ChangeEntry<'_> {
    fn line(&self) -> Vec<u8> {
        one_line(serde_json::to_vec(self).expect("an entry always serializes"))
    }
}

/// JSON leaves U+2028 and U+2029 as they are, and some line-based tools
/// (JavaScript's among them) end a line there: written escaped, a line is
/// one line to every reader. Its value reads back the same.
fn one_line(json: Vec<u8>) -> Vec<u8> {
    const SEPARATORS: [&[u8]; 2] = ["\u{2028}".as_bytes(), "\u{2029}".as_bytes()];
    if !json.windows(3).any(|three| SEPARATORS.contains(&three)) {
        return json;
    }
    let text = String::from_utf8(json).expect("serde_json writes UTF-8");
    text.replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
        .into_bytes()
}

/// The count of refused calls left out in a minute: of one client (an
/// address or /64 as `client`, or a person as `actor`), or with both
/// `null`, of every client beyond the ceiling or beyond those told apart.
#[derive(Serialize)]
struct LeftOut<'a> {
    time: String,
    outcome: &'static str,
    client: Option<&'a str>,
    actor: Option<&'a str>,
    count: u64,
}

impl AuditLog {
    pub fn open(config: &AuditConfig, key: &ApiKey) -> std::io::Result<AuditLog> {
        AuditLog::open_with_clock(config, key, Box::new(Utc::now))
    }

    /// Opens the log, writes its first line and starts its thread. Fails
    /// when the file cannot be opened; a first line that cannot be written
    /// only marks it unhealthy.
    pub fn open_with_clock(
        config: &AuditConfig,
        key: &ApiKey,
        clock: Clock,
    ) -> std::io::Result<AuditLog> {
        let mut sink = match (&config.dir, &config.path) {
            (Some(dir), _) => Sink::daily(dir.clone()),
            (None, Some(path)) => Sink::file(path.clone()),
            (None, None) => Sink::stdout(),
        };
        let last = sink.last_link();
        sink.open(clock())?;
        let writer = Writer {
            sink,
            key: ChainKey::new(&config.chain_key.0),
            last,
            opening: Some("relay_started"),
        };
        Ok(AuditLog {
            commits: Commits::new(writer, clock),
            id_hash_key: config
                .hash_ids
                .then(|| key.derive("adapty-lookup audit id hash v1")),
            refused: Mutex::new(Refused::new(
                config.refused_per_minute.get(),
                config.refused_total_per_minute.get(),
            )),
        })
    }

    /// Whether the last line could be written. While not, lookups are
    /// refused before Adapty is asked, and `/healthz` answers 503.
    pub fn is_healthy(&self) -> bool {
        self.commits.is_healthy()
    }

    /// Reopens the file (SIGHUP, after logrotate moved it) and writes its
    /// opening line at once. Standard output is left as it is.
    pub fn reload(&self) {
        self.commits.reload();
    }

    /// The ID as the log shows it: verbatim, or `hmac-sha256:<hex>`.
    pub fn id(&self, id: &str) -> String {
        match &self.id_hash_key {
            None => id.to_owned(),
            Some(key) => {
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
                mac.update(id.as_bytes());
                let digest = mac.finalize().into_bytes();
                let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
                format!("hmac-sha256:{hex}")
            }
        }
    }

    /// A call that reached Adapty (or is about to): always written, and
    /// handed to the operating system before this returns; on an error
    /// the call must not go on, nor its answer leave.
    pub async fn record(&self, entry: &impl Line) -> std::io::Result<()> {
        let (reply, written) = oneshot::channel();
        self.commits.submit(entry.line(), Some(reply));
        written
            .await
            .map_err(|_| std::io::Error::other("the audit line was dropped unwritten"))?
    }

    /// A call refused before Adapty was asked: written unless this client
    /// has had its share of lines this minute; then only counted.
    /// `actor`: the person, once the identity check named them (behind
    /// an SSO proxy every client has the proxy's address).
    pub fn record_refused(&self, entry: &impl Line, address: IpAddr, actor: Option<&str>) {
        if !lock(&self.refused).admit(Client::new(actor, address)) {
            return;
        }
        self.commits.submit(entry.line(), None);
    }

    /// Ends the minute: one line per address whose refused calls were left
    /// out, with their count, and every address's share starts afresh.
    pub fn end_minute(&self) {
        for line in self.left_out_lines() {
            self.commits.submit(line, None);
        }
    }

    fn left_out_lines(&self) -> Vec<Vec<u8>> {
        let left_out = lock(&self.refused).end_minute();
        let beyond = (left_out.beyond > 0).then_some((None, left_out.beyond));
        let counts = left_out
            .per_client
            .iter()
            .map(|(client, count)| (Some(client), *count));
        counts
            .chain(beyond)
            .map(|(client, count)| {
                let line = LeftOut {
                    time: now(),
                    outcome: "audit_suppressed",
                    client: match client {
                        Some(Client::Address(address)) => Some(address.as_str()),
                        _ => None,
                    },
                    actor: match client {
                        Some(Client::Actor(actor)) => Some(actor.as_str()),
                        _ => None,
                    },
                    count,
                };
                serde_json::to_vec(&line).expect("a count always serializes")
            })
            .collect()
    }
}

/// The counts left out reach the log when the relay stops, too.
impl Drop for AuditLog {
    fn drop(&mut self) {
        self.end_minute();
    }
}

/// Ends the log's minute every minute, until the log is gone.
pub async fn count_left_out_every_minute(log: Weak<AuditLog>) {
    let mut ticks = tokio::time::interval(SUPPRESSED_EVERY);
    ticks.tick().await; // The first tick is immediate.
    loop {
        ticks.tick().await;
        match log.upgrade() {
            Some(log) => log.end_minute(),
            None => return,
        }
    }
}

/// The time as every line spells it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding it leaves nothing half-written here.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The entry as one JSON line (without its newline) shorter than
/// `MAX_LINE_BYTES`: the actor and the ID, the only fields whose size a
/// client chooses, are cut when needed, and the line says so.
/// serde_json escapes every value, so no field can forge a line.
fn fitted(entry: &Entry<'_>) -> Vec<u8> {
    let limit = MAX_LINE_BYTES - 1 - SEAL_BYTES;
    let line = serde_json::to_vec(entry).expect("an entry always serializes");
    if line.len() <= limit {
        return line;
    }
    let actor = entry.actor.unwrap_or_default();
    let id = entry.id.as_deref().unwrap_or_default();
    let fixed = line.len() - escaped_len(actor) - escaped_len(id) + r#","truncated":true"#.len();
    let room = limit.saturating_sub(fixed);
    let actor = cut(actor, (room / 2).max(room.saturating_sub(escaped_len(id))));
    let id = cut(id, room - escaped_len(actor));
    let shortened = Entry {
        time: entry.time.clone(),
        request_id: entry.request_id,
        actor: entry.actor.map(|_| actor),
        app: entry.app,
        kind: entry.kind,
        id: entry.id.as_ref().map(|_| id.to_owned()),
        outcome: entry.outcome,
        status: entry.status,
        upstream_status: entry.upstream_status,
        latency_ms: entry.latency_ms,
        truncated: true,
    };
    serde_json::to_vec(&shortened).expect("an entry always serializes")
}

/// The bytes serde_json writes for `text` inside its quotes.
fn escaped_len(text: &str) -> usize {
    text.chars().map(escaped_char_len).sum()
}

fn escaped_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if c < ' ' => 6,
        c => c.len_utf8(),
    }
}

/// The longest start of `text` whose escaped form takes at most `room` bytes.
fn cut(text: &str, room: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += escaped_char_len(c);
        if used > room {
            return &text[..at];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    fn config(path: Option<std::path::PathBuf>, hash_ids: bool) -> AuditConfig {
        AuditConfig {
            path,
            dir: None,
            chain_key: ChainSecret([7; 32]),
            hash_ids,
            refused_per_minute: NonZeroU32::new(3).unwrap(),
            refused_total_per_minute: NonZeroU32::new(600).unwrap(),
        }
    }

    fn entry(id: &str) -> Entry<'_> {
        Entry {
            time: now(),
            request_id: "r",
            actor: Some("ann@example.com"),
            app: Some("main"),
            kind: Some("customer_user_id"),
            id: Some(id.to_owned()),
            outcome: "invalid_request",
            status: 400,
            upstream_status: None,
            latency_ms: 0,
            truncated: false,
        }
    }

    #[tokio::test]
    async fn refused_calls_are_written_n_a_minute_per_address_and_the_rest_counted() {
        let path = std::env::temp_dir().join(format!("audit-unit-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let log = AuditLog::open(
            &config(Some(path.clone()), false),
            &ApiKey::new("k").unwrap(),
        )
        .unwrap();
        let (one, two): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..10 {
            log.record_refused(&entry("x"), one, None);
        }
        log.record_refused(&entry("x"), two, None);
        log.record(&entry("reached Adapty")).await.unwrap();
        log.end_minute();
        log.record_refused(&entry("x"), one, None);
        drop(log);
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let outcomes: Vec<&str> = lines
            .iter()
            .map(|l| l["outcome"].as_str().unwrap())
            .filter(|&outcome| outcome != OPENED)
            .collect();
        assert_eq!(
            outcomes,
            [
                "invalid_request",
                "invalid_request",
                "invalid_request",
                "invalid_request",
                "invalid_request",
                "audit_suppressed",
                "invalid_request"
            ]
        );
        assert_eq!(lines[6]["client"], "10.0.0.1");
        assert_eq!(lines[6]["count"], 7);
        assert_eq!(lines[5]["id"], "reached Adapty");
    }

    #[test]
    fn lines_are_cut_to_two_kib_only_when_needed() {
        let short = fitted(&entry("user-1"));
        assert!(!String::from_utf8(short).unwrap().contains("truncated"));
        for id in [
            "\"".repeat(5000),
            "\u{1}".repeat(5000),
            "é".repeat(5000),
            "x".repeat(2040),
        ] {
            let line = fitted(&entry(&id));
            assert!(line.len() < MAX_LINE_BYTES, "{}", line.len());
            let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(parsed["truncated"], true);
            assert!(id.starts_with(parsed["id"].as_str().unwrap()));
            assert!(
                parsed["id"].as_str().unwrap().len() > 100,
                "the room is used"
            );
        }
    }

    /// The longest values every check lets through, and the characters
    /// JSON spells longest: the line stays within its cap, reason whole.
    #[test]
    fn the_longest_change_line_fits_and_keeps_its_reason() {
        let actor = "\u{1}".repeat(320);
        let reason = "𝄞".repeat(499) + "\n";
        let request_id = "r".repeat(64);
        let entry = ChangeEntry {
            time: now(),
            change_id: "0b3c3f5e-4f7a-4d3e-9a77-1c1f5d9e2b41",
            request_id: &request_id,
            actor: Some(&actor),
            app: Some("abcdefghijklmnopqrstuvwxyz012345"),
            action: "revoke",
            phase: "done",
            kind: Some("customer_user_id"),
            id: Some("\"".repeat(512)),
            access_level_id: Some(&"\\".repeat(100)),
            dates: Some(crate::rules::change::AuditDates::Grant {
                starts_at: Some("2026-12-28T09:42:50Z".into()),
                expires_at: Some("2026-12-28T09:42:50Z".into()),
            }),
            reason: Some(&reason),
            correction: None,
            profile_id: None,
            outcome: Some("revoke_after_expiry"),
            status: Some(400),
            upstream_status: Some(400),
            latency_ms: Some(u64::MAX),
        };
        let line = entry.line();
        assert!(line.len() < MAX_CHANGE_LINE_BYTES, "{}", line.len());
        let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed["reason"], reason.as_str());
        assert_eq!(parsed["expires_at"], "2026-12-28T09:42:50Z");
    }

    /// Issue 19, point 6: no value splits a line for a line-based reader.
    #[test]
    fn line_separators_are_written_escaped() {
        let actor = "ann\u{2028}@example.com\u{2029}";
        let line = Entry {
            actor: Some(actor),
            ..entry("u")
        }
        .line();
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(
            !text.contains('\u{2028}') && !text.contains('\u{2029}'),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);
        let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed["actor"], actor);
    }

    #[tokio::test]
    async fn a_log_that_cannot_be_written_says_so_before_a_change() {
        let log = AuditLog::open(
            &config(Some("/dev/full".into()), false),
            &ApiKey::new("k").unwrap(),
        )
        .unwrap();
        let entry = ChangeEntry {
            time: now(),
            change_id: "c",
            request_id: "r",
            actor: Some("ann@example.com"),
            app: None,
            action: "grant",
            phase: "asked",
            kind: None,
            id: None,
            access_level_id: None,
            dates: None,
            reason: None,
            correction: None,
            profile_id: None,
            outcome: None,
            status: None,
            upstream_status: None,
            latency_ms: None,
        };
        assert!(log.record(&entry).await.is_err());
        assert!(!log.is_healthy(), "the health check says so");
    }

    #[tokio::test]
    async fn hashed_ids_are_stable_keyed_and_not_the_id() {
        let key = ApiKey::new("secret_live_audit").unwrap();
        let hashed = AuditLog::open(&config(None, true), &key).unwrap();
        let plain = AuditLog::open(&config(None, false), &key).unwrap();
        assert_eq!(plain.id("user-1"), "user-1");
        let once = hashed.id("user-1");
        assert_eq!(
            once,
            hashed.id("user-1"),
            "the same customer hashes the same"
        );
        assert_ne!(once, hashed.id("user-2"));
        assert!(once.starts_with("hmac-sha256:") && !once.contains("user-1"));
        let other_key = AuditLog::open(&config(None, true), &ApiKey::new("k2").unwrap()).unwrap();
        assert_ne!(
            once,
            other_key.id("user-1"),
            "keyed: no rainbow table of IDs works"
        );
    }

    /// The day's file changes at the first line after midnight (UTC), and
    /// the new file opens with the chain value the old one ended with.
    #[tokio::test]
    async fn a_new_day_starts_a_new_file_that_continues_the_chain() {
        use chrono::TimeZone;
        let dir = std::env::temp_dir().join(format!("audit-daily-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let now = std::sync::Arc::new(Mutex::new(
            Utc.with_ymd_and_hms(2026, 11, 28, 23, 59, 59).unwrap(),
        ));
        let clock = now.clone();
        let mut config = config(None, false);
        config.dir = Some(dir.clone());
        let log = AuditLog::open_with_clock(
            &config,
            &ApiKey::new("k").unwrap(),
            Box::new(move || *lock(&clock)),
        )
        .unwrap();
        log.record(&entry("before midnight")).await.unwrap();
        *lock(&now) = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        log.record(&entry("after midnight")).await.unwrap();
        drop(log);

        let read = |name: &str| -> Vec<serde_json::Value> {
            std::fs::read_to_string(dir.join(name))
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        };
        let (first, second) = (
            read("audit-2026-11-28.jsonl"),
            read("audit-2026-11-29.jsonl"),
        );
        assert_eq!(first.len(), 2, "{first:?}");
        assert_eq!(first[0]["cause"], "relay_started");
        assert_eq!(first[1]["id"], "before midnight");
        assert_eq!(second[0]["cause"], "new_day");
        assert_eq!(second[0]["previous_chain"], first[1]["chain"]);
        assert_eq!(second[1]["id"], "after midnight");
        let key = ChainKey::new(&config.chain_key.0);
        let files = [
            dir.join("audit-2026-11-28.jsonl"),
            dir.join("audit-2026-11-29.jsonl"),
        ];
        assert_eq!(verify::verify(&key, &files).unwrap().lines, 4);
        assert!(verify::verify(&key, &files[1..]).is_ok(), "a file alone");
    }

    /// A restart continues the chain of the file it appends to.
    #[tokio::test]
    async fn a_restart_continues_the_chain_of_its_file() {
        let path = std::env::temp_dir().join(format!("audit-restart-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let config = config(Some(path.clone()), false);
        for _ in 0..2 {
            let log = AuditLog::open(&config, &ApiKey::new("k").unwrap()).unwrap();
            log.record(&entry("x")).await.unwrap();
        }
        let key = ChainKey::new(&config.chain_key.0);
        assert_eq!(verify::verify(&key, &[path]).unwrap().lines, 4);
    }
}
