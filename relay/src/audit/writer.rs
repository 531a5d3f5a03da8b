//! Writing the audit log: whoever holds the file writes every line queued
//! meanwhile (group commit), in one system call, chained in that order.
//!
//! Why so: a write can block (a slow or full disk, a standard output
//! nobody reads). When each request wrote its own line under a lock, a
//! blocked write held one runtime thread and every other request blocked
//! on the lock, `/healthz` included. Now a request queues its line, writes
//! the queue itself only if the file is free (`try_lock`), and otherwise
//! awaits the result of its own line's write (failing closed needs it)
//! without holding a thread: at most one runtime thread ever waits on the
//! disk, and the relay runs at least two (see `main`). A dedicated writer
//! thread would isolate the disk completely, but handing every line to it
//! and back cost 11–33 % more CPU per lookup in our measurements; the
//! uncontended path here is the old one: one lock, one write.

use super::chain::{ChainKey, Link};
use super::sink::Sink;
use super::OPENED;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, TryLockError};
use tokio::sync::oneshot;

pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// A line, and who waits for the result of its write (if anyone).
type Queued = (Vec<u8>, Option<oneshot::Sender<std::io::Result<()>>>);

/// The queue, the file, and what requests read without waiting for either.
pub struct Commits {
    queue: Mutex<Vec<Queued>>,
    writer: Mutex<Writer>,
    clock: Clock,
    /// Whether the last write succeeded.
    healthy: AtomicBool,
    /// Whether the file is to be reopened (SIGHUP).
    reload: AtomicBool,
}

impl Commits {
    /// `writer` with its first line written (or the log unhealthy).
    pub fn new(mut writer: Writer, clock: Clock) -> Commits {
        let opened = writer.write_opening(clock());
        let commits = Commits {
            queue: Mutex::new(Vec::new()),
            writer: Mutex::new(writer),
            clock,
            healthy: AtomicBool::new(true),
            reload: AtomicBool::new(false),
        };
        commits.note(&opened);
        commits
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Queues `line`; `reply` hears how its write went.
    pub fn submit(&self, line: Vec<u8>, reply: Option<oneshot::Sender<std::io::Result<()>>>) {
        lock(&self.queue).push((line, reply));
        self.lead();
    }

    /// Reopens the file (SIGHUP) at the next write, or now if it is free.
    pub fn reload(&self) {
        self.reload.store(true, Ordering::Relaxed);
        self.lead();
    }

    /// Writes the queue if the file is free; if not, its holder will.
    fn lead(&self) {
        loop {
            let mut writer = match self.writer.try_lock() {
                Ok(writer) => writer,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            loop {
                let group = std::mem::take(&mut *lock(&self.queue));
                let reload = self.reload.swap(false, Ordering::Relaxed);
                if group.is_empty() && !reload {
                    break;
                }
                self.write_group(&mut writer, group);
                if reload {
                    writer.reload();
                    // At once, so that the new file exists and nothing
                    // more goes to the moved one.
                    self.note(&writer.write_opening((self.clock)()));
                }
            }
            drop(writer);
            // A line queued after the last look, while the file was still
            // held, found it busy: look once more now that it is free.
            if lock(&self.queue).is_empty() && !self.reload.load(Ordering::Relaxed) {
                return;
            }
        }
    }

    fn write_group(&self, writer: &mut Writer, group: Vec<Queued>) {
        let (lines, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let written = writer.write(&lines, (self.clock)());
        self.note(&written);
        for reply in replies.into_iter().flatten() {
            let result = match &written {
                Ok(()) => Ok(()),
                Err(error) => Err(std::io::Error::new(error.kind(), error.to_string())),
            };
            let _ = reply.send(result);
        }
    }

    fn note(&self, written: &std::io::Result<()>) {
        let was_healthy = self.healthy.swap(written.is_ok(), Ordering::Relaxed);
        match written {
            Err(error) if was_healthy => tracing::error!(
                %error,
                "cannot write the audit log: lookups and changes are refused until it can be"
            ),
            Ok(()) if !was_healthy => tracing::info!("the audit log can be written again"),
            _ => {}
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding it leaves nothing half-written here.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sink, and where the chain stands.
pub struct Writer {
    pub sink: Sink,
    pub key: ChainKey,
    pub last: Option<Link>,
    /// Why the file in use still needs its opening line, when it does.
    pub opening: Option<&'static str>,
}

/// The first line of every file (and of every start of the relay).
#[derive(Serialize)]
struct Opened<'a> {
    time: String,
    outcome: &'static str,
    /// `relay_started`, `reload` (SIGHUP), `new_day`, or `reopened` (after
    /// the file could not be written).
    cause: &'static str,
    /// The chain value this file continues; `null` when none was known
    /// (the first file, or standard output).
    previous_chain: Option<&'a str>,
}

impl Writer {
    /// Opens the file if it is not open or its day is over, and writes
    /// its opening line if that is not written yet.
    pub fn write_opening(&mut self, now: DateTime<Utc>) -> std::io::Result<()> {
        if self.sink.is_stale(now) {
            self.sink.close();
            self.opening = Some("new_day");
        }
        if !self.sink.is_open() {
            self.opening.get_or_insert("reopened");
            self.sink.open(now)?;
        }
        if let Some(cause) = self.opening {
            let opened = Opened {
                time: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                outcome: OPENED,
                cause,
                previous_chain: self.last.as_ref().map(|link| link.chain.as_str()),
            };
            let line = serde_json::to_vec(&opened).expect("a line always serializes");
            self.append(&[line])?;
            self.opening = None;
        }
        Ok(())
    }

    /// The lines sealed one after the other, each with its newline, in one
    /// write after the file's opening line (when due); the chain moves on
    /// only once they are written.
    pub fn write(&mut self, lines: &[Vec<u8>], now: DateTime<Utc>) -> std::io::Result<()> {
        self.write_opening(now)?;
        self.append(lines)
    }

    fn append(&mut self, lines: &[Vec<u8>]) -> std::io::Result<()> {
        let mut all = Vec::with_capacity(lines.iter().map(|line| line.len() + 128).sum());
        let mut last = self.last.clone();
        for line in lines {
            let (sealed, link) = self.key.seal(line, last.as_ref());
            all.extend_from_slice(&sealed);
            all.push(b'\n');
            last = Some(link);
        }
        self.sink.write_line(&all)?;
        self.last = last;
        Ok(())
    }

    /// Lets go of the file; the next line reopens it with an opening line.
    fn reload(&mut self) {
        if !matches!(self.sink, Sink::Stdout) {
            self.sink.close();
            self.opening = Some("reload");
        }
    }
}
