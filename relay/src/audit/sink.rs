//! Where the lines go: standard output, one file (reopened on `reload`, so
//! that logrotate can move it), or a folder with one file a day in UTC.
//!
//! The sink also knows what its output holds after the last line written
//! whole, for when a write was cut short (a full disk writes what fits):
//! whether it ends in the middle of a line (`cut`: the next write ends that
//! line with a newline first, so no line is ever glued to a fragment), and
//! how many lines were cut short since the last whole one (`cut_lines`:
//! the next segment's first line declares them, see `writer`). Every write
//! counts the bytes the system took, so both are known exactly; standard
//! output is written unbuffered for that (a duplicate of its descriptor).

use super::chain::{Link, Sealed};
use chrono::{DateTime, NaiveDate, Utc};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// How much of a file's end is read for its last line: a whole line (at
/// most 8 KiB and its seal) after a line cut short (shorter than that).
const TAIL_BYTES: u64 = 32 * 1024;

pub struct Sink {
    target: Target,
    /// The file open now (standard output's, once first written).
    file: Option<Open>,
    /// The output ends in the middle of a line.
    cut: bool,
    /// Lines cut short since the last line written whole.
    cut_lines: u64,
}

enum Target {
    Stdout,
    File(PathBuf),
    /// `audit-YYYY-MM-DD.jsonl` files in this folder.
    Daily(PathBuf),
}

struct Open {
    file: File,
    /// A daily file's day.
    day: Option<NaiveDate>,
}

/// A write cut short: how many of its lines were written whole first.
#[derive(Debug)]
pub struct Partial {
    pub lines: usize,
    pub error: std::io::Error,
}

impl Sink {
    pub fn stdout() -> Sink {
        Sink::new(Target::Stdout)
    }

    pub fn file(path: PathBuf) -> Sink {
        Sink::new(Target::File(path))
    }

    pub fn daily(dir: PathBuf) -> Sink {
        Sink::new(Target::Daily(dir))
    }

    fn new(target: Target) -> Sink {
        Sink {
            target,
            file: None,
            cut: false,
            cut_lines: 0,
        }
    }

    pub fn is_stdout(&self) -> bool {
        matches!(self.target, Target::Stdout)
    }

    /// Whether lines go to a file that may need opening.
    pub fn is_open(&self) -> bool {
        self.is_stdout() || self.file.is_some()
    }

    /// A day's file still open after that day ended (in UTC).
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        matches!(&self.file, Some(Open { day: Some(day), .. }) if *day != now.date_naive())
    }

    /// Lets go of the file; the next line opens it (or the day's) again.
    pub fn close(&mut self) {
        if !self.is_stdout() {
            self.file = None;
        }
    }

    /// Opens the file (or the day's) for appending, and notes whether it
    /// ends in the middle of a line.
    pub fn open(&mut self, now: DateTime<Utc>) -> std::io::Result<()> {
        let (path, day) = match &self.target {
            Target::Stdout => return Ok(()),
            Target::File(path) => (path.clone(), None),
            Target::Daily(dir) => {
                let day = now.date_naive();
                (dir.join(daily_name(day)), Some(day))
            }
        };
        let (file, cut) = open_append(&path)?;
        self.file = Some(Open { file, day });
        self.cut = cut;
        Ok(())
    }

    /// Lines cut short since the last line written whole.
    pub fn cut_lines(&self) -> u64 {
        self.cut_lines
    }

    /// `bytes`, whole lines each ending at the offset in `ends` with its
    /// newline, in one write (after a newline that ends a line cut short,
    /// when the output ends in one), handed to the operating system before
    /// this returns. Cut short, it says how many lines were written whole
    /// (a line whose newline alone is missing counts: the next write
    /// begins with it).
    pub fn write(&mut self, bytes: &[u8], ends: &[usize]) -> Result<(), Partial> {
        let newline_first = self.cut;
        if bytes.is_empty() && !newline_first {
            return Ok(());
        }
        let joined;
        let all = if newline_first {
            joined = [b"\n", bytes].concat();
            &joined[..]
        } else {
            bytes
        };
        let (mut done, result) = match self.handle() {
            Ok(file) => write_counted(file, all),
            Err(error) => (0, Err(error)),
        };
        if newline_first {
            if done == 0 {
                let error = result
                    .err()
                    .unwrap_or_else(|| std::io::Error::other("the write took nothing"));
                return Err(Partial { lines: 0, error });
            }
            done -= 1;
            self.cut = false;
        }
        let error = match result {
            Ok(()) => {
                if !ends.is_empty() {
                    self.cut_lines = 0;
                }
                return Ok(());
            }
            Err(error) => error,
        };
        let whole = ends.partition_point(|&end| end <= done);
        if whole > 0 {
            self.cut_lines = 0;
        }
        let next_start = whole.checked_sub(1).map_or(0, |last| ends[last] + 1);
        if done + 1 == next_start {
            // A whole line but its newline.
            self.cut = true;
        } else if done > next_start {
            self.cut = true;
            self.cut_lines += 1;
        }
        Err(Partial {
            lines: whole,
            error,
        })
    }

    fn handle(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() && self.is_stdout() {
            self.file = Some(Open {
                file: stdout_file()?,
                day: None,
            });
        }
        self.file
            .as_mut()
            .map(|open| &mut open.file)
            .ok_or_else(|| std::io::Error::other("the audit log is not open"))
    }

    /// The last line already in the file the relay starts with, so that
    /// its chain continues across a restart; the lines cut short after it
    /// (the file ends in one) are counted, for the first line to declare.
    pub fn last_link(&mut self) -> Option<Link> {
        let path = match &self.target {
            Target::Stdout => return None,
            Target::File(path) => path.clone(),
            // The newest day's file: the names sort by date.
            Target::Daily(dir) => std::fs::read_dir(dir)
                .ok()?
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| name.starts_with("audit-") && name.ends_with(".jsonl"))
                .max()
                .map(|name| dir.join(name))?,
        };
        let (link, cut_lines) = last_link_in(&path);
        self.cut_lines = cut_lines;
        link
    }
}

pub fn daily_name(day: NaiveDate) -> String {
    format!("audit-{}.jsonl", day.format("%Y-%m-%d"))
}

/// Writes `bytes`, counting what the system took: `write_all` says only
/// that it failed, not how much of the buffer is in the file.
fn write_counted(out: &mut File, bytes: &[u8]) -> (usize, std::io::Result<()>) {
    let mut done = 0;
    while done < bytes.len() {
        match out.write(&bytes[done..]) {
            Ok(0) => return (done, Err(std::io::ErrorKind::WriteZero.into())),
            Ok(written) => done += written,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return (done, Err(error)),
        }
    }
    (done, Ok(()))
}

/// Standard output unbuffered: Rust's own handle keeps what a short write
/// left in its buffer, to write it later, so what reached the output would
/// be unknown.
#[cfg(unix)]
fn stdout_file() -> std::io::Result<File> {
    use std::os::fd::AsFd;
    Ok(File::from(std::io::stdout().as_fd().try_clone_to_owned()?))
}

#[cfg(windows)]
fn stdout_file() -> std::io::Result<File> {
    use std::os::windows::io::AsHandle;
    Ok(File::from(
        std::io::stdout().as_handle().try_clone_to_owned()?,
    ))
}

/// The file opened for appending, and whether it ends in the middle of a
/// line. A regular file is opened to be read too, for its last byte; a
/// device or pipe (`/dev/full`, a FIFO) is only written.
fn open_append(path: &Path) -> std::io::Result<(File, bool)> {
    let regular = std::fs::metadata(path).map_or(true, |metadata| metadata.is_file());
    let append = || OpenOptions::new().create(true).append(true).to_owned();
    if regular {
        if let Ok(mut file) = append().read(true).open(path) {
            let cut = ends_mid_line(&mut file);
            return Ok((file, cut));
        }
    }
    Ok((append().open(path)?, false))
}

fn ends_mid_line(file: &mut File) -> bool {
    let Ok(metadata) = file.metadata() else {
        return false;
    };
    if !metadata.is_file() || metadata.len() == 0 {
        return false;
    }
    let mut last = [0u8];
    let read = file
        .seek(SeekFrom::End(-1))
        .and_then(|_| file.read_exact(&mut last));
    read.is_ok() && last[0] != b'\n'
}

/// The link of the last sealed line of `path`, and how many lines cut
/// short follow it: only when the file ends in the middle of a line (a
/// write cut short), the lines after the last sealed one up to there.
fn last_link_in(path: &Path) -> (Option<Link>, u64) {
    let Some(tail) = tail_of(path) else {
        return (None, 0);
    };
    let ends_cut = tail.last().is_some_and(|&byte| byte != b'\n');
    let tail = String::from_utf8_lossy(&tail);
    let mut pieces: Vec<&str> = tail.split('\n').collect();
    if !ends_cut {
        pieces.pop(); // The nothing after the last newline.
    }
    for (unsealed, piece) in pieces.iter().rev().enumerate() {
        if let Some(sealed) = Sealed::parse(piece) {
            let cut_lines = if ends_cut { unsealed as u64 } else { 0 };
            return (Some(sealed.link), cut_lines);
        }
    }
    (None, 0)
}

/// The last `TAIL_BYTES` of a regular file.
fn tail_of(path: &Path) -> Option<Vec<u8>> {
    let mut file = File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    // Not a device such as /dev/full, which reads as endless zeros.
    if !metadata.is_file() {
        return None;
    }
    let length = metadata.len();
    file.seek(SeekFrom::Start(length.saturating_sub(TAIL_BYTES)))
        .ok()?;
    let mut tail = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut tail).ok()?;
    Some(tail)
}

/// A small tmpfs to fill up: a real disk that runs out of room in the
/// middle of a write (mounting it takes root, as CI has).
#[cfg(test)]
pub mod full_disk {
    use std::io::Write;
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub struct Tmpfs {
        pub dir: PathBuf,
    }

    impl Tmpfs {
        pub fn mount() -> Tmpfs {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "audit-unit-disk-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = Command::new("umount").arg(&dir).output();
            std::fs::create_dir_all(&dir).unwrap();
            let mounted = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
                .arg(&dir)
                .output()
                .unwrap();
            assert!(
                mounted.status.success(),
                "this test fills a small tmpfs, which takes root to mount: {}",
                String::from_utf8_lossy(&mounted.stderr)
            );
            Tmpfs { dir }
        }

        /// A file that takes every page left; removing it frees them.
        pub fn fill(&self) -> PathBuf {
            let path = self.dir.join("filler");
            let mut file = std::fs::File::create(&path).unwrap();
            let page = vec![b'x'; 4096];
            while matches!(file.write(&page), Ok(written) if written > 0) {}
            path
        }
    }

    impl Drop for Tmpfs {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::full_disk::Tmpfs;
    use super::*;

    const PAGE: usize = 4096;

    /// A file on a full disk with `room` bytes left in its last page.
    fn file_with_room(disk: &Tmpfs, room: usize) -> (Sink, PathBuf) {
        let path = disk.dir.join("audit.log");
        let mut first = "x".repeat(PAGE - room - 1);
        first.push('\n');
        std::fs::write(&path, first).unwrap();
        disk.fill();
        let mut sink = Sink::file(path.clone());
        sink.open(Utc::now()).unwrap();
        (sink, path)
    }

    /// Lines of these lengths (newline included), and where each ends.
    fn lines(lengths: &[usize]) -> (Vec<u8>, Vec<usize>) {
        let (mut all, mut ends) = (Vec::new(), Vec::new());
        for (n, length) in lengths.iter().enumerate() {
            all.extend(std::iter::repeat_n(b'a' + n as u8, length - 1));
            ends.push(all.len());
            all.push(b'\n');
        }
        (all, ends)
    }

    #[test]
    fn a_write_cut_short_counts_the_lines_written_whole_and_the_fragment() {
        let disk = Tmpfs::mount();
        let (mut sink, path) = file_with_room(&disk, 100);
        let (all, ends) = lines(&[60, 80, 30]);
        let partial = sink.write(&all, &ends).unwrap_err();
        assert_eq!(partial.lines, 1, "the first line fit");
        assert_eq!((sink.cut, sink.cut_lines), (true, 1));
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, PAGE);
        // Still full: nothing, not even the newline, and nothing changes.
        let partial = sink.write(&all, &ends).unwrap_err();
        assert_eq!(partial.lines, 0);
        assert_eq!((sink.cut, sink.cut_lines), (true, 1));
        std::fs::remove_file(disk.dir.join("filler")).unwrap();
        let (next, ends) = lines(&[20]);
        sink.write(&next, &ends).unwrap();
        assert_eq!((sink.cut, sink.cut_lines), (false, 0));
        let text = std::fs::read_to_string(&path).unwrap();
        let tail: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(tail, ["a".repeat(59), "b".repeat(40), "a".repeat(19)]);
    }

    /// Room for a line but its newline: the line is whole, no fragment,
    /// and the next write begins with the newline.
    #[test]
    fn a_line_whole_but_its_newline_is_written() {
        let disk = Tmpfs::mount();
        let (mut sink, path) = file_with_room(&disk, 59);
        let (all, ends) = lines(&[60, 10]);
        let partial = sink.write(&all, &ends).unwrap_err();
        assert_eq!(partial.lines, 1);
        assert_eq!((sink.cut, sink.cut_lines), (true, 0));
        std::fs::remove_file(disk.dir.join("filler")).unwrap();
        // Reopened (as at a restart), the file itself says it ends mid-line.
        let mut again = Sink::file(path.clone());
        assert!(again.last_link().is_none());
        again.open(Utc::now()).unwrap();
        assert!(again.cut);
        let (next, ends) = lines(&[5]);
        again.write(&next, &ends).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let tail: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(tail, ["a".repeat(59), "a".repeat(4)]);
    }
}
