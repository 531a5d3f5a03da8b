//! The audit log's own thread, the only code that touches its file.
//!
//! Why a thread: a write can block — a slow or full disk, a standard output
//! nobody reads. Done on the runtime's worker threads under a lock, it
//! stalled every request, `/healthz` included. Now a request hands its line
//! to a bounded queue and awaits the result of its own write (failing
//! closed needs it): a slow disk delays the lookups waiting for their lines,
//! and nothing else. The thread writes whatever has queued meanwhile in one
//! system call (group commit), chained in the order written.

use super::chain::{ChainKey, Link};
use super::sink::Sink;
use super::OPENED;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Lines waiting for the thread at most; beyond, requests wait (without
/// holding a worker thread) for room.
pub const QUEUE_LINES: usize = 1024;
/// Lines written in one system call at most.
const GROUP_LINES: usize = 256;

pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub enum Job {
    /// A line, and who waits for the result of its write (if anyone).
    Line(Vec<u8>, Option<oneshot::Sender<std::io::Result<()>>>),
    /// Look at `Shared::reload` (the queue may be full, so the request
    /// itself is a flag; this only wakes the thread).
    Wake,
    /// Write what came before, then end.
    Stop,
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
    fn write(&mut self, lines: &[Vec<u8>], now: DateTime<Utc>) -> std::io::Result<()> {
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

/// What the thread and the requests share.
pub struct Shared {
    /// Whether the last write succeeded.
    pub healthy: AtomicBool,
    /// Whether the file is to be reopened (SIGHUP).
    pub reload: AtomicBool,
}

impl Shared {
    pub fn note(&self, written: &std::io::Result<()>) {
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

/// Starts the thread that owns `writer`.
pub fn spawn(
    writer: Writer,
    clock: Clock,
    shared: Arc<Shared>,
) -> std::io::Result<(mpsc::Sender<Job>, std::thread::JoinHandle<()>)> {
    let (queue, jobs) = mpsc::channel(QUEUE_LINES);
    let thread = std::thread::Builder::new()
        .name("audit-log".into())
        .spawn(move || run(writer, jobs, clock, &shared))?;
    Ok((queue, thread))
}

fn run(mut writer: Writer, mut jobs: mpsc::Receiver<Job>, clock: Clock, shared: &Shared) {
    let mut lines = Vec::new();
    let mut waiting = Vec::new();
    while let Some(first) = jobs.blocking_recv() {
        let mut next = Some(first);
        let mut stop = false;
        while let Some(job) = next.take() {
            match job {
                Job::Line(line, reply) => {
                    lines.push(line);
                    waiting.push(reply);
                }
                Job::Wake => {}
                Job::Stop => stop = true,
            }
            if !stop && lines.len() < GROUP_LINES {
                next = jobs.try_recv().ok();
            }
        }
        write_group(&mut writer, &mut lines, &mut waiting, &clock, shared);
        if shared.reload.swap(false, Ordering::Relaxed) {
            writer.reload();
            // At once, so that the new file exists and nothing more goes
            // to the moved one.
            shared.note(&writer.write_opening(clock()));
        }
        if stop {
            return;
        }
    }
}

/// Writes the lines gathered and tells each waiting request how it went.
fn write_group(
    writer: &mut Writer,
    lines: &mut Vec<Vec<u8>>,
    waiting: &mut Vec<Option<oneshot::Sender<std::io::Result<()>>>>,
    clock: &Clock,
    shared: &Shared,
) {
    if lines.is_empty() {
        return;
    }
    let written = writer.write(lines, clock());
    shared.note(&written);
    for reply in waiting.drain(..).flatten() {
        let result = match &written {
            Ok(()) => Ok(()),
            Err(error) => Err(std::io::Error::new(error.kind(), error.to_string())),
        };
        let _ = reply.send(result);
    }
    lines.clear();
}
