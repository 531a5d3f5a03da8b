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
//!
//! A write that fails may have written part of its lines (a full disk
//! takes what fits). The lines written whole are kept: the chain moves on
//! to the last of them and their requests hear that they were written.
//! The rest are not: the chain stands at the last line known written, and
//! the next write starts a new segment there. It first ends a line cut
//! short with a newline (the sink knows whether the output ends in one),
//! then writes a `log_opened` line with the cause `write_failed` that
//! names that last line (`previous_seq`, `previous_chain`) and how many
//! lines were cut short since (`cut_lines`), so `verify` can tell an
//! interruption from tampering, and goes on checking after it.

use super::chain::{ChainKey, Link};
use super::sink::{Partial, Sink};
use super::{OPENED, WRITE_FAILED};
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
        let copy = |error: &std::io::Error| std::io::Error::new(error.kind(), error.to_string());
        self.note(
            &written
                .as_ref()
                .map_err(|partial| copy(&partial.error))
                .copied(),
        );
        // Lines written whole before a failure are in the log: their
        // requests go on.
        let whole = written
            .as_ref()
            .map_or_else(|partial| partial.lines, |()| lines.len());
        for (index, reply) in replies.into_iter().enumerate() {
            let Some(reply) = reply else { continue };
            let result = match &written {
                Err(partial) if index >= whole => Err(copy(&partial.error)),
                _ => Ok(()),
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

/// The first line of every file, of every start of the relay, and of the
/// segment after a failed write: where the chain stands.
#[derive(Serialize)]
struct Opened<'a> {
    time: String,
    outcome: &'static str,
    /// `relay_started`, `reload` (SIGHUP), `new_day`, `reopened` (after
    /// the file could not be opened), or `write_failed` (after a write to
    /// it failed).
    cause: &'static str,
    /// The `seq` and chain value of the line this segment continues, the
    /// last line known written; `null` when none was known (the first
    /// file, or standard output).
    previous_seq: Option<u64>,
    previous_chain: Option<&'a str>,
    /// Lines cut short by a failed write between that line and this one
    /// (left out when none).
    #[serde(skip_serializing_if = "is_zero")]
    cut_lines: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

impl Writer {
    /// Opens the file if it is not open or its day is over, and writes
    /// the segment's first line if that is not written yet.
    pub fn write_opening(&mut self, now: DateTime<Utc>) -> std::io::Result<()> {
        if self.sink.is_stale(now) {
            self.sink.close();
            self.opening = Some("new_day");
        }
        if !self.sink.is_open() {
            self.opening.get_or_insert("reopened");
            self.sink.open(now)?;
        }
        let Some(cause) = self.opening else {
            return Ok(());
        };
        let opened = Opened {
            time: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            outcome: OPENED,
            cause,
            previous_seq: self.last.as_ref().map(|link| link.seq),
            previous_chain: self.last.as_ref().map(|link| link.chain.as_str()),
            cut_lines: self.sink.cut_lines(),
        };
        let line = serde_json::to_vec(&opened).expect("a line always serializes");
        match self.append(&[line]) {
            Ok(()) => {
                self.opening = None;
                Ok(())
            }
            Err(partial) => {
                // Written whole, it started the segment; the failure after
                // it starts another.
                if partial.lines == 1 {
                    self.opening = Some(WRITE_FAILED);
                }
                Err(partial.error)
            }
        }
    }

    /// The lines sealed one after the other, each with its newline, in one
    /// write after the segment's first line (when due); the chain moves on
    /// over the lines written whole.
    pub fn write(&mut self, lines: &[Vec<u8>], now: DateTime<Utc>) -> Result<(), Partial> {
        self.write_opening(now)
            .map_err(|error| Partial { lines: 0, error })?;
        self.append(lines)
    }

    fn append(&mut self, lines: &[Vec<u8>]) -> Result<(), Partial> {
        let mut all = Vec::with_capacity(lines.iter().map(|line| line.len() + 128).sum());
        let mut ends = Vec::with_capacity(lines.len());
        let mut links: Vec<Link> = Vec::with_capacity(lines.len());
        for line in lines {
            let (sealed, link) = self.key.seal(line, links.last().or(self.last.as_ref()));
            all.extend_from_slice(&sealed);
            ends.push(all.len());
            all.push(b'\n');
            links.push(link);
        }
        match self.sink.write(&all, &ends) {
            Ok(()) => {
                if let Some(link) = links.pop() {
                    self.last = Some(link);
                }
                Ok(())
            }
            Err(partial) => {
                if let Some(link) = partial.lines.checked_sub(1).map(|at| links.swap_remove(at)) {
                    self.last = Some(link);
                }
                self.opening.get_or_insert(WRITE_FAILED);
                Err(partial)
            }
        }
    }

    /// Lets go of the file; the next line reopens it with an opening line.
    fn reload(&mut self) {
        if !self.sink.is_stdout() {
            self.sink.close();
            self.opening = Some("reload");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sink::full_disk::Tmpfs;
    use super::super::verify::verify;
    use super::*;

    fn line(n: u32, padding: usize) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"n": n, "padding": "p".repeat(padding)})).unwrap()
    }

    /// A group of three lines on a disk with room for the first only: it
    /// is kept (the chain moves on to it, its request hears it was
    /// written), the others are refused; with room again, the next write
    /// ends the fragment and starts a segment from the first line.
    #[test]
    fn a_group_cut_short_keeps_its_whole_lines_and_resumes_after_them() {
        let disk = Tmpfs::mount();
        let path = disk.dir.join("audit.log");
        let key = ChainKey::new(&[5; 32]);
        let mut sink = Sink::file(path.clone());
        sink.open(Utc::now()).unwrap();
        let writer = Writer {
            sink,
            key: key.clone(),
            last: None,
            opening: Some("relay_started"),
        };
        let commits = Commits::new(writer, Box::new(Utc::now));
        let filler = disk.fill();
        let mut heard = Vec::new();
        for (n, padding) in [(1, 10), (2, 5000), (3, 10)] {
            let (reply, written) = oneshot::channel();
            lock(&commits.queue).push((line(n, padding), Some(reply)));
            heard.push(written);
        }
        commits.lead();
        let heard: Vec<bool> = heard
            .into_iter()
            .map(|mut written| written.try_recv().unwrap().is_ok())
            .collect();
        assert_eq!(heard, [true, false, false]);
        assert!(!commits.is_healthy());
        assert_eq!(lock(&commits.writer).last.as_ref().unwrap().seq, 1);

        std::fs::remove_file(filler).unwrap();
        commits.submit(line(4, 10), None);
        assert!(commits.is_healthy());
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        let json = |at: usize| serde_json::from_str::<serde_json::Value>(lines[at]);
        assert_eq!(json(1).unwrap()["n"], 1);
        assert!(json(2).is_err(), "line 2, cut short, alone on its line");
        let segment = json(3).unwrap();
        assert_eq!(segment["cause"], WRITE_FAILED);
        assert_eq!(segment["cut_lines"], 1);
        assert_eq!(segment["previous_seq"], 1);
        assert_eq!(segment["previous_chain"], json(1).unwrap()["chain"]);
        assert_eq!(json(4).unwrap()["n"], 4);
        let verified = verify(&key, &[path]).unwrap();
        assert_eq!(verified.lines, 4);
        assert_eq!(verified.notes.len(), 1);
        assert_eq!(verified.notes[0].line, 3);
    }
}
