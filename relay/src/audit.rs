//! The audit log: one JSON line per lookup, who asked for whom and what came
//! of it. Lines are written whole under a lock, so concurrent lookups never
//! interleave or lose a line.
//!
//! A change has two lines: what was asked (who, what, for whom, the dates and
//! the reason), written before Adapty is called — if it cannot be written,
//! nothing is changed — and what came of it, written however the call ended.
//!
//! A client cannot flood it: no lookup line exceeds 2 KiB, no change line
//! 8 KiB (a reason is never cut), and calls refused before Adapty was asked
//! are written at most N a minute per client address, the rest counted in
//! one line a minute. Every call that reached Adapty is written.

use crate::config::{ApiKey, AuditConfig};
use hmac::{Hmac, Mac};
use serde::Serialize;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::sync::{Mutex, Weak};
use std::time::Duration;

/// The longest lookup line written, newline included.
pub const MAX_LINE_BYTES: usize = 2048;
/// The longest change line, newline included. Every field of one is
/// bounded (the actor, the ID, the access level and the reason by their
/// checks), and together they stay well within it: nothing is ever cut.
pub const MAX_CHANGE_LINE_BYTES: usize = 8192;
/// How often refused calls left out are counted in the log.
const SUPPRESSED_EVERY: Duration = Duration::from_secs(60);

pub struct AuditLog {
    sink: Mutex<Box<dyn Write + Send>>,
    /// When set, IDs are written as a keyed hash: records of the same customer
    /// still match each other, but the log alone does not name anyone.
    id_hash_key: Option<[u8; 32]>,
    refused: Mutex<RefusedThisMinute>,
}

/// Refused calls per client address in the current minute: how many were
/// written, and how many left out.
struct RefusedThisMinute {
    per_minute: u32,
    written: HashMap<IpAddr, u32>,
    left_out: HashMap<IpAddr, u64>,
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
    pub request_id: &'a str,
    pub actor: Option<&'a str>,
    pub app: Option<&'a str>,
    /// `grant` or `revoke`.
    pub action: &'a str,
    pub phase: &'a str,
    pub kind: Option<&'a str>,
    pub id: Option<String>,
    pub access_level_id: Option<&'a str>,
    #[serde(flatten)]
    pub dates: Option<crate::change::AuditDates>,
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

/// What can be written as one line of the log.
pub trait Line {
    fn line(&self) -> Vec<u8>;
}

impl Line for Entry<'_> {
    fn line(&self) -> Vec<u8> {
        fitted(self)
    }
}

impl Line for ChangeEntry<'_> {
    fn line(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an entry always serializes")
    }
}

/// The count of refused calls from one address left out in a minute.
#[derive(Serialize)]
struct LeftOut {
    time: String,
    outcome: &'static str,
    client: IpAddr,
    count: u64,
}

impl AuditLog {
    pub fn open(config: &AuditConfig, key: &ApiKey) -> std::io::Result<AuditLog> {
        let sink: Box<dyn Write + Send> = match &config.path {
            Some(path) => Box::new(open_append(path)?),
            None => Box::new(std::io::stdout()),
        };
        Ok(AuditLog {
            sink: Mutex::new(sink),
            id_hash_key: config
                .hash_ids
                .then(|| key.derive("adapty-lookup audit id hash v1")),
            refused: Mutex::new(RefusedThisMinute {
                per_minute: config.refused_per_minute.get(),
                written: HashMap::new(),
                left_out: HashMap::new(),
            }),
        })
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

    /// A call that reached Adapty: always written.
    pub fn record(&self, entry: &impl Line) {
        let _ = self.write(&entry.line());
    }

    /// A change about to be sent to Adapty: written and flushed, or the
    /// error, upon which the change must not be sent.
    pub fn record_before_change(&self, entry: &ChangeEntry<'_>) -> std::io::Result<()> {
        self.write(&entry.line())
    }

    /// A call refused before Adapty was asked: written unless this client
    /// has had its share of lines this minute; then only counted.
    pub fn record_refused(&self, entry: &impl Line, client: IpAddr) {
        {
            let mut refused = lock(&self.refused);
            let per_minute = refused.per_minute;
            let written = refused.written.entry(client).or_default();
            if *written >= per_minute {
                *refused.left_out.entry(client).or_default() += 1;
                return;
            }
            *written += 1;
        }
        let _ = self.write(&entry.line());
    }

    /// Ends the minute: one line per address whose refused calls were left
    /// out, with their count, and every address's share starts afresh.
    pub fn end_minute(&self) {
        let left_out = {
            let mut refused = lock(&self.refused);
            refused.written.clear();
            std::mem::take(&mut refused.left_out)
        };
        for (client, count) in left_out {
            let line = LeftOut {
                time: now(),
                outcome: "audit_suppressed",
                client,
                count,
            };
            let _ = self.write(&serde_json::to_vec(&line).expect("a count always serializes"));
        }
    }

    /// The line and its newline in one write, then flushed; a failure is
    /// logged and returned.
    fn write(&self, line: &[u8]) -> std::io::Result<()> {
        let mut whole = Vec::with_capacity(line.len() + 1);
        whole.extend_from_slice(line);
        whole.push(b'\n');
        let mut sink = lock(&self.sink);
        let written = sink.write_all(&whole).and_then(|()| sink.flush());
        if let Err(error) = &written {
            tracing::error!(%error, "cannot write the audit log");
        }
        written
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
    let limit = MAX_LINE_BYTES - 1;
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

fn open_append(path: &std::path::Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    fn config(path: Option<std::path::PathBuf>, hash_ids: bool) -> AuditConfig {
        AuditConfig {
            path,
            hash_ids,
            refused_per_minute: NonZeroU32::new(3).unwrap(),
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

    #[test]
    fn refused_calls_are_written_n_a_minute_per_address_and_the_rest_counted() {
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
            log.record_refused(&entry("x"), one);
        }
        log.record_refused(&entry("x"), two);
        log.record(&entry("reached Adapty"));
        log.end_minute();
        log.record_refused(&entry("x"), one);
        drop(log);
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let outcomes: Vec<&str> = lines
            .iter()
            .map(|l| l["outcome"].as_str().unwrap())
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
        assert_eq!(lines[5]["client"], "10.0.0.1");
        assert_eq!(lines[5]["count"], 7);
        assert_eq!(lines[4]["id"], "reached Adapty");
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
            request_id: &request_id,
            actor: Some(&actor),
            app: Some("abcdefghijklmnopqrstuvwxyz012345"),
            action: "revoke",
            phase: "done",
            kind: Some("customer_user_id"),
            id: Some("\"".repeat(512)),
            access_level_id: Some(&"\\".repeat(100)),
            dates: Some(crate::change::AuditDates::Grant {
                starts_at: Some("2026-12-28T09:42:50Z".into()),
                expires_at: Some("2026-12-28T09:42:50Z".into()),
            }),
            reason: Some(&reason),
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

    #[test]
    fn a_log_that_cannot_be_written_says_so_before_a_change() {
        let log = AuditLog::open(
            &config(Some("/dev/full".into()), false),
            &ApiKey::new("k").unwrap(),
        )
        .unwrap();
        let entry = ChangeEntry {
            time: now(),
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
            outcome: None,
            status: None,
            upstream_status: None,
            latency_ms: None,
        };
        assert!(log.record_before_change(&entry).is_err());
    }

    #[test]
    fn hashed_ids_are_stable_keyed_and_not_the_id() {
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
}
