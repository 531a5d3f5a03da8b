//! Where the lines go: standard output, one file (reopened on `reload`, so
//! that logrotate can move it), or a folder with one file a day in UTC.

use super::chain::{Link, Sealed};
use chrono::{DateTime, NaiveDate, Utc};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub enum Sink {
    Stdout,
    File {
        path: PathBuf,
        file: Option<File>,
    },
    /// `audit-YYYY-MM-DD.jsonl` files in `dir`; `day` is the open file's.
    Daily {
        dir: PathBuf,
        file: Option<(NaiveDate, File)>,
    },
}

impl Sink {
    pub fn stdout() -> Sink {
        Sink::Stdout
    }

    pub fn file(path: PathBuf) -> Sink {
        Sink::File { path, file: None }
    }

    pub fn daily(dir: PathBuf) -> Sink {
        Sink::Daily { dir, file: None }
    }

    /// Whether lines go to a file that may need opening.
    pub fn is_open(&self) -> bool {
        match self {
            Sink::Stdout => true,
            Sink::File { file, .. } => file.is_some(),
            Sink::Daily { file, .. } => file.is_some(),
        }
    }

    /// A day's file still open after that day ended (in UTC).
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        matches!(self, Sink::Daily { file: Some((day, _)), .. } if *day != now.date_naive())
    }

    /// Lets go of the file; the next line opens it (or the day's) again.
    pub fn close(&mut self) {
        match self {
            Sink::Stdout => {}
            Sink::File { file, .. } => *file = None,
            Sink::Daily { file, .. } => *file = None,
        }
    }

    pub fn open(&mut self, now: DateTime<Utc>) -> std::io::Result<()> {
        match self {
            Sink::Stdout => {}
            Sink::File { path, file } => *file = Some(open_append(path)?),
            Sink::Daily { dir, file } => {
                let day = now.date_naive();
                *file = Some((day, open_append(&dir.join(daily_name(day)))?));
            }
        }
        Ok(())
    }

    /// One whole line (with its newline) in one write, handed to the
    /// operating system before this returns.
    pub fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let closed = || std::io::Error::other("the audit log is not open");
        match self {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(line).and_then(|()| out.flush())
            }
            // A `File` is unbuffered: `write_all` is the system call.
            Sink::File { file, .. } => file.as_mut().ok_or_else(closed)?.write_all(line),
            Sink::Daily { file, .. } => file.as_mut().ok_or_else(closed)?.1.write_all(line),
        }
    }

    /// The last line already in the file the relay starts with, so that
    /// its chain continues across a restart.
    pub fn last_link(&self) -> Option<Link> {
        let path = match self {
            Sink::Stdout => return None,
            Sink::File { path, .. } => path.clone(),
            // The newest day's file: the names sort by date.
            Sink::Daily { dir, .. } => std::fs::read_dir(dir)
                .ok()?
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| name.starts_with("audit-") && name.ends_with(".jsonl"))
                .max()
                .map(|name| dir.join(name))?,
        };
        last_link_in(&path)
    }
}

pub fn daily_name(day: NaiveDate) -> String {
    format!("audit-{}.jsonl", day.format("%Y-%m-%d"))
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// The link of the last line of `path`: its last 16 KiB hold it whole
/// (no line is longer than 8 KiB and its seal).
fn last_link_in(path: &Path) -> Option<Link> {
    let mut file = File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    // Not a device such as /dev/full, which reads as endless zeros.
    if !metadata.is_file() {
        return None;
    }
    let length = metadata.len();
    file.seek(SeekFrom::Start(length.saturating_sub(16 * 1024)))
        .ok()?;
    let mut tail = Vec::new();
    file.take(16 * 1024).read_to_end(&mut tail).ok()?;
    let tail = String::from_utf8_lossy(&tail);
    let last = tail.trim_end_matches('\n').rsplit('\n').next()?;
    Sealed::parse(last).map(|sealed| sealed.link)
}
