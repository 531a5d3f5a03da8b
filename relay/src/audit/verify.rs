//! `relay audit verify FILE…`: follows the chain through the files in the
//! order given, segment after segment, and names every place where it
//! breaks, not only the first: after a break it goes on from the broken
//! line's own chain value (or past a line the chain skips), and at every
//! segment's first line, so a later edit is never hidden behind an
//! earlier break.
//!
//! A segment begins with a `log_opened` line naming the line it continues:
//! each file, each start of the relay, and each resumption after a failed
//! write (`cause: write_failed`). A write cut short by a full disk leaves a
//! fragment; the relay ends it with a newline and starts a segment that
//! says how many lines were cut short since the line it continues
//! (`cut_lines`). Fragments so declared, right before the segment that
//! declares them and right after the line it continues, are an
//! interruption: noted, not a break. Anything else that is not a sealed
//! line is a break.
//!
//! What a break can be told apart as:
//! - not a line the relay writes (no chain value, not JSON): inserted or
//!   edited (one that still ends with a chain value that the next line
//!   follows: edited);
//! - a genuine line in the wrong place (it follows another line's chain
//!   value): moved (reordered) or copied;
//! - a line the chain skips (the next line follows the one before it): inserted;
//! - a gap in `seq`: lines removed before it (it cannot be checked itself
//!   without them, so an edit of its `seq` reads the same);
//! - otherwise: edited.
//!
//! And between files: a file whose opening line does not continue the
//! previous file's last chain value (lines removed from that file's end,
//! a file missing between them, or the files given out of order).
//! Lines removed from the end of the last file leave no trace in the chain.

use super::chain::{stated_chain, ChainKey, Link, Sealed};
use super::WRITE_FAILED;
use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// A chain that holds, with what was noted on the way (interruptions).
#[derive(Debug)]
pub struct Verified {
    pub lines: u64,
    pub files: usize,
    pub notes: Vec<Finding>,
}

/// Where the chain breaks: the first break (line 0: the file as a whole)
/// as before, and every break, the first included, in order.
#[derive(Debug)]
pub struct Broken {
    pub file: PathBuf,
    pub line: usize,
    pub what: String,
    pub breaks: Vec<Finding>,
    pub notes: Vec<Finding>,
    /// Lines that verified, and the files read.
    pub lines: u64,
    pub files: usize,
}

/// One place in the log, and what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    pub line: usize,
    pub what: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.what)
    }
}

/// `OK: …`, then a `noted: …` line for each interruption.
impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OK: {} lines in {} file(s), the chain unbroken (lines removed from the end of the \
             last file leave no trace: compare with the copy kept off this machine)",
            self.lines, self.files
        )?;
        for note in &self.notes {
            write!(f, "\nnoted: {note}")?;
        }
        Ok(())
    }
}

/// The first break (after the caller's `BROKEN: `), then `BROKEN: …` for
/// each other, `noted: …` for each interruption, and a count.
impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.what)?;
        for other in self.breaks.iter().skip(1) {
            write!(f, "\nBROKEN: {other}")?;
        }
        for note in &self.notes {
            write!(f, "\nnoted: {note}")?;
        }
        write!(
            f,
            "\n{} break(s); {} line(s) in {} file(s) verified around them",
            self.breaks.len(),
            self.lines,
            self.files
        )
    }
}

/// The chain through `files`, in this order.
pub fn verify(key: &ChainKey, files: &[PathBuf]) -> Result<Verified, Broken> {
    let mut walk = Walk {
        key,
        last: None,
        unsealed: Vec::new(),
        breaks: Vec::new(),
        notes: Vec::new(),
        lines: 0,
        parsed: None,
    };
    for path in files {
        walk.file(path);
    }
    walk.finish(files.len())
}

/// A line that is not a sealed line, waiting for what follows to say
/// whether it is a fragment of an interrupted write.
struct Unsealed {
    file: PathBuf,
    line: usize,
}

/// How the chain goes on after a broken line.
enum Resync {
    /// From the broken line's own chain value.
    FromIt,
    /// From the line before it: the chain skips it.
    Past,
}

struct Walk<'k> {
    key: &'k ChainKey,
    /// The line the chain has reached: its link, file and line number.
    last: Option<(Link, PathBuf, usize)>,
    /// Lines since `last` that are not sealed lines.
    unsealed: Vec<Unsealed>,
    breaks: Vec<Finding>,
    notes: Vec<Finding>,
    lines: u64,
    /// The file being read, parsed whole once a break needs it.
    parsed: Option<(PathBuf, Parsed)>,
}

impl Walk<'_> {
    fn file(&mut self, path: &Path) {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) => return self.broken(path, 0, format!("cannot be read: {error}")),
        };
        let mut reader = std::io::BufReader::new(file);
        let mut number = 0;
        // Whether a segment has begun in this file.
        let mut opened = false;
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match reader.read_until(b'\n', &mut buffer) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) => {
                    self.broken(path, number + 1, format!("cannot be read: {error}"));
                    break;
                }
            }
            number += 1;
            let text = std::str::from_utf8(buffer.strip_suffix(b"\n").unwrap_or(&buffer));
            let Some(sealed) = text.ok().and_then(Sealed::parse) else {
                self.unsealed_line(path, number, text.ok().and_then(stated_chain));
                continue;
            };
            if sealed.starts.is_some() {
                self.segment_start(path, number, &sealed, !opened);
                opened = true;
            } else if !opened {
                opened = true;
                self.settle_unsealed(None);
                self.broken(
                    path,
                    number,
                    "the file does not begin with the line that opens it (log_opened): its \
                     first lines were removed"
                        .into(),
                );
                self.reach(sealed.link, path, number, false);
            } else {
                self.line(path, number, &sealed);
            }
        }
        if number == 0 {
            self.broken(
                path,
                0,
                "the file is empty; every file the relay writes begins with its opening line"
                    .into(),
            );
        }
    }

    /// A line that is not sealed. One that still ends with a chain value
    /// is a whole line edited (a write cut short never leaves one): broken
    /// at once, and the chain goes on from that value. Any other waits.
    fn unsealed_line(&mut self, path: &Path, number: usize, chain: Option<&str>) {
        let Some(chain) = chain else {
            self.unsealed.push(Unsealed {
                file: path.to_owned(),
                line: number,
            });
            return;
        };
        self.settle_unsealed(None);
        self.broken(
            path,
            number,
            "edited: not a line as the relay writes it any more (not JSON, or its seq is gone), \
             though it still ends with a chain value"
                .into(),
        );
        let seq = self.last.as_ref().map_or(0, |(link, ..)| link.seq + 1);
        let link = Link {
            seq,
            chain: chain.to_owned(),
        };
        self.reach(link, path, number, false);
    }

    /// A line within a segment.
    fn line(&mut self, path: &Path, number: usize, sealed: &Sealed) {
        let follows = |chain: &str| sealed.follows(self.key, chain);
        if self
            .last
            .as_ref()
            .is_some_and(|(link, ..)| follows(&link.chain))
        {
            self.settle_unsealed(Some(
                "inserted: not a line as the relay writes it, and the chain goes on past it",
            ));
            self.reach(sealed.link.clone(), path, number, true);
            return;
        }
        self.settle_unsealed(None);
        let (what, resync) = self.diagnose(path, number);
        self.broken(path, number, what);
        if let Resync::FromIt = resync {
            self.reach(sealed.link.clone(), path, number, false);
        }
    }

    /// The first line of a segment: it must follow the chain value it names,
    /// and that must be where the chain stands, with exactly the lines it
    /// says were cut short in between.
    fn segment_start(&mut self, path: &Path, number: usize, sealed: &Sealed, first_in_file: bool) {
        let start = sealed.starts.as_ref().expect("a segment's first line");
        if !sealed.follows(self.key, &start.continues) {
            self.settle_unsealed(None);
            self.broken(
                path,
                number,
                "edited: the line opening a segment does not match its chain value".into(),
            );
            self.reach(sealed.link.clone(), path, number, false);
            return;
        }
        match &self.last {
            // The walk's first segment: what it continues is not here.
            None => self.settle_cut_lines(path, number, start.cut_lines, true),
            Some((link, ..)) if link.chain == start.continues => {
                self.settle_cut_lines(path, number, start.cut_lines, false)
            }
            Some((link, file, _)) => {
                let what = if first_in_file && file != path {
                    format!(
                        "this file does not continue {}: lines were removed from its end, a \
                         file between them is missing, or the files are named out of order",
                        file.display()
                    )
                } else if sealed.link.seq > link.seq + 1 {
                    format!(
                        "{} line(s) removed before this line (it opens a segment after seq {}, \
                         and the chain before it ends at seq {})",
                        sealed.link.seq - link.seq - 1,
                        sealed.link.seq - 1,
                        link.seq
                    )
                } else {
                    "lines were removed before this line (it opens a segment after a line that \
                     is not here)"
                        .into()
                };
                self.settle_unsealed(None);
                self.broken(path, number, what);
            }
        }
        if start.cause == WRITE_FAILED && start.cut_lines == 0 {
            self.notes.push(Finding {
                file: path.to_owned(),
                line: number,
                what: "a write failed before this line (nothing was cut short): the relay \
                       refused lookups and changes until it could write again, and resumed the \
                       chain here"
                    .into(),
            });
        }
        self.reach(sealed.link.clone(), path, number, true);
    }

    /// The lines not sealed before a segment's first line that declares
    /// `cut_lines`: exactly those are an interruption, noted; otherwise
    /// each is a break. At the walk's start fewer may be here (the others
    /// end a file not given).
    fn settle_cut_lines(&mut self, path: &Path, number: usize, cut_lines: u64, first: bool) {
        let found = self.unsealed.len() as u64;
        if found == cut_lines || (first && found < cut_lines) {
            for fragment in std::mem::take(&mut self.unsealed) {
                self.notes.push(Finding {
                    file: fragment.file,
                    line: fragment.line,
                    what: format!(
                        "a line cut short by a failed write (a full disk?): it holds nothing \
                         verified, and the chain resumes at {}:{number}, which declares it",
                        path.display()
                    ),
                });
            }
            return;
        }
        self.settle_unsealed(None);
        if cut_lines > 0 {
            self.broken(
                path,
                number,
                format!(
                    "this line declares {cut_lines} line(s) cut short by a failed write before \
                     it, and {found} unverifiable line(s) are there: lines were inserted or \
                     removed"
                ),
            );
        }
    }

    /// The lines not sealed since the chain last went on, each a break.
    fn settle_unsealed(&mut self, what: Option<&str>) {
        let what = what.unwrap_or(
            "not a line as the relay writes it (no chain value, or not JSON): inserted or \
             edited, or cut short by a failed write with no segment after it that declares it",
        );
        for line in std::mem::take(&mut self.unsealed) {
            self.breaks.push(Finding {
                file: line.file,
                line: line.line,
                what: what.to_owned(),
            });
        }
    }

    /// The chain reached this line (`verified`: by following it).
    fn reach(&mut self, link: Link, path: &Path, number: usize, verified: bool) {
        if verified {
            self.lines += 1;
        }
        self.last = Some((link, path.to_owned(), number));
    }

    fn broken(&mut self, path: &Path, line: usize, what: String) {
        self.breaks.push(Finding {
            file: path.to_owned(),
            line,
            what,
        });
    }

    fn finish(mut self, files: usize) -> Result<Verified, Broken> {
        self.settle_unsealed(Some(
            "not a line as the relay writes it, and nothing after it: cut short by a write that \
             failed and not yet followed by the segment that declares it (the relay may still be \
             unable to write), or added by hand",
        ));
        let Some(first) = self.breaks.first().cloned() else {
            return Ok(Verified {
                lines: self.lines,
                files,
                notes: self.notes,
            });
        };
        Err(Broken {
            file: first.file,
            line: first.line,
            what: first.what,
            breaks: self.breaks,
            notes: self.notes,
            lines: self.lines,
            files,
        })
    }

    /// What the break at line `number` of `path` is, with the whole file at
    /// hand (read again, once: only a broken file is held in memory).
    fn diagnose(&mut self, path: &Path, number: usize) -> (String, Resync) {
        if self.parsed.as_ref().is_none_or(|(file, _)| file != path) {
            self.parsed = Some((path.to_owned(), Parsed::read(path)));
        }
        let (_, parsed) = self.parsed.as_ref().expect("just read");
        let previous = self.last.as_ref().map(|(link, ..)| link);
        let edited = || {
            (
                "edited: the line does not match its chain value".to_owned(),
                Resync::FromIt,
            )
        };
        let at = number - 1;
        let Some(line) = parsed.lines.get(at).and_then(Option::as_ref) else {
            // Changed since it was read.
            return edited();
        };
        // A genuine line elsewhere: it follows the line that has the `seq` before its own.
        if let Some(before) = line.link.seq.checked_sub(1) {
            for &index in parsed.by_seq.get(&before).into_iter().flatten() {
                let chain = &parsed.lines[index].as_ref().expect("indexed").link.chain;
                if index + 1 != at && line.follows(self.key, chain) {
                    return (
                        format!(
                            "out of order: this line belongs right after line {} (moved, or \
                             copied)",
                            index + 1
                        ),
                        Resync::FromIt,
                    );
                }
            }
        }
        let Some(previous) = previous else {
            return edited();
        };
        let next = parsed.lines.get(at + 1).and_then(Option::as_ref);
        if next.is_some_and(|next| next.follows(self.key, &previous.chain)) {
            return (
                "inserted: the chain skips this line (the next line follows the one before it)"
                    .into(),
                Resync::Past,
            );
        }
        if line.link.seq > previous.seq + 1 {
            let gap = line.link.seq - previous.seq - 1;
            return (
                format!(
                    "{gap} line(s) removed before this line (seq jumps from {} to {})",
                    previous.seq, line.link.seq
                ),
                Resync::FromIt,
            );
        }
        edited()
    }
}

/// A file's lines, parsed, and where each `seq` is.
struct Parsed {
    lines: Vec<Option<Sealed>>,
    by_seq: HashMap<u64, Vec<usize>>,
}

impl Parsed {
    fn read(path: &Path) -> Parsed {
        let text = std::fs::read(path).unwrap_or_default();
        let lines: Vec<Option<Sealed>> = text.split(|&byte| byte == b'\n').map(parse).collect();
        let mut by_seq: HashMap<u64, Vec<usize>> = HashMap::new();
        for (index, line) in lines.iter().enumerate() {
            if let Some(line) = line {
                by_seq.entry(line.link.seq).or_default().push(index);
            }
        }
        Parsed { lines, by_seq }
    }
}

fn parse(line: &[u8]) -> Option<Sealed> {
    Sealed::parse(std::str::from_utf8(line).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A log as the relay writes it, line by line, with the cuts a full
    /// disk makes.
    struct Log {
        key: ChainKey,
        last: Option<Link>,
        lines: Vec<String>,
    }

    impl Log {
        fn new() -> Log {
            let mut log = Log {
                key: ChainKey::new(&[9; 32]),
                last: None,
                lines: Vec::new(),
            };
            log.open("relay_started", 0);
            log
        }

        fn seal(&self, line: serde_json::Value) -> (String, Link) {
            let (sealed, link) = self
                .key
                .seal(&serde_json::to_vec(&line).unwrap(), self.last.as_ref());
            (String::from_utf8(sealed).unwrap(), link)
        }

        fn push(&mut self, line: serde_json::Value) {
            let (sealed, link) = self.seal(line);
            self.lines.push(sealed);
            self.last = Some(link);
        }

        fn lookup(&mut self, id: &str) {
            self.push(json!({"time": "t", "id": id, "outcome": "ok"}));
        }

        fn open(&mut self, cause: &str, cut_lines: u64) {
            let line = json!({
                "time": "t", "outcome": super::super::OPENED, "cause": cause,
                "previous_seq": self.last.as_ref().map(|link| link.seq),
                "previous_chain": self.last.as_ref().map(|link| link.chain.clone()),
                "cut_lines": cut_lines,
            });
            self.push(line);
        }

        /// The first `keep` bytes of the next line, as a full disk leaves it
        /// (the relay ends it with a newline before anything else).
        fn cut(&mut self, id: &str, keep: usize) {
            let (sealed, _) = self.seal(json!({"time": "t", "id": id, "outcome": "ok"}));
            self.lines.push(sealed[..keep].to_owned());
        }

        fn write(&self, name: &str) -> PathBuf {
            let dir = std::env::temp_dir().join(format!("verify-unit-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, self.lines.join("\n") + "\n").unwrap();
            path
        }
    }

    /// Lines 1–4: opened, a, b, c; 5: c's successor cut short; 6: the
    /// segment after it; 7–10: d, e, f, g.
    fn interrupted() -> Log {
        let mut log = Log::new();
        for id in ["a", "b", "c"] {
            log.lookup(id);
        }
        log.cut("lost", 40);
        log.open(WRITE_FAILED, 1);
        for id in ["d", "e", "f", "g"] {
            log.lookup(id);
        }
        log
    }

    fn breaks_of(log: &Log, name: &str) -> Vec<(usize, String)> {
        let path = log.write(name);
        match verify(&log.key, &[path]) {
            Ok(verified) => panic!("verified: {verified}"),
            Err(broken) => broken
                .breaks
                .iter()
                .map(|found| (found.line, found.what.clone()))
                .collect(),
        }
    }

    #[test]
    fn a_fragment_declared_by_the_next_segment_is_an_interruption() {
        let log = interrupted();
        let path = log.write("interrupted");
        let verified = verify(&log.key, std::slice::from_ref(&path)).unwrap();
        assert_eq!(verified.lines, 9);
        assert_eq!(verified.notes.len(), 1, "{verified}");
        assert_eq!(verified.notes[0].line, 5);
        assert!(verified.notes[0].what.contains("cut short"));
        let shown = verified.to_string();
        assert!(shown.starts_with("OK: 9 lines in 1 file(s)"), "{shown}");
        assert!(shown.contains(&format!("\nnoted: {}:5: ", path.display())));
    }

    /// After the interruption, each later edit, removal or insertion is
    /// found, every one of them, and the fragment is still no break.
    #[test]
    fn every_break_after_an_interruption_is_reported() {
        let mut edited = interrupted();
        edited.lines[7] = edited.lines[7].replace("\"e\"", "\"E\"");
        assert_eq!(
            breaks_of(&edited, "edited")[..],
            [(8, "edited: the line does not match its chain value".into())]
        );

        let mut removed = interrupted();
        removed.lines.remove(7);
        let breaks = breaks_of(&removed, "removed");
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        assert_eq!(breaks[0].0, 8);
        assert!(breaks[0].1.contains("1 line(s) removed"), "{breaks:?}");

        let mut twice = interrupted();
        twice.lines[2] = twice.lines[2].replace("\"b\"", "\"B\"");
        twice.lines[7] = twice.lines[7].replace("\"e\"", "\"E\"");
        twice.lines.remove(8);
        let breaks = breaks_of(&twice, "twice");
        let at: Vec<usize> = breaks.iter().map(|(line, _)| *line).collect();
        assert_eq!(at, [3, 8, 9], "{breaks:?}");
        assert!(breaks[2].1.contains("removed"), "{breaks:?}");

        // Not JSON any more, but its chain value still there: edited, and
        // the chain goes on after it.
        let mut mangled = interrupted();
        mangled.lines[7] = mangled.lines[7].replacen('{', "[", 1);
        mangled.lines[9] = mangled.lines[9].replace("\"g\"", "\"G\"");
        let breaks = breaks_of(&mangled, "mangled");
        let at: Vec<usize> = breaks.iter().map(|(line, _)| *line).collect();
        assert_eq!(at, [8, 10], "{breaks:?}");
    }

    /// The segment declares how many lines were cut: one more, one fewer,
    /// or none declared, and the lines there are breaks.
    #[test]
    fn only_the_declared_fragments_are_an_interruption() {
        let mut added = interrupted();
        added
            .lines
            .insert(4, "{\"outcome\":\"ok\",\"id\":\"forged".into());
        let breaks = breaks_of(&added, "added");
        assert!(breaks.iter().any(|(line, _)| *line == 7), "{breaks:?}");

        let mut gone = interrupted();
        gone.lines.remove(4);
        let breaks = breaks_of(&gone, "gone");
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        assert!(
            breaks[0].1.contains("declares 1 line(s) cut short"),
            "{breaks:?}"
        );

        // As the relay wrote before: the next line glued to the fragment,
        // no segment after it.
        let mut glued = Log::new();
        glued.lookup("a");
        glued.cut("lost", 40);
        let after = glued
            .seal(json!({"time": "t", "id": "b", "outcome": "ok"}))
            .0;
        glued.lines.last_mut().unwrap().push_str(&after);
        let breaks = breaks_of(&glued, "glued");
        assert_eq!(breaks[0].0, 3, "{breaks:?}");
    }

    /// A line cut short and nothing after it: no segment declares it.
    #[test]
    fn a_fragment_at_the_end_is_a_break() {
        let mut log = Log::new();
        log.lookup("a");
        log.cut("lost", 40);
        let breaks = breaks_of(&log, "end");
        assert_eq!(breaks.len(), 1);
        assert_eq!(breaks[0].0, 3);
        assert!(breaks[0].1.contains("nothing after it"), "{breaks:?}");
    }

    /// A write that failed with nothing written: the segment after it is
    /// noted; and a fragment that ends one file is declared by the next.
    #[test]
    fn interruptions_without_fragments_and_across_files() {
        let mut log = Log::new();
        log.lookup("a");
        log.open(WRITE_FAILED, 0);
        log.lookup("b");
        let path = log.write("no-fragment");
        let verified = verify(&log.key, &[path]).unwrap();
        assert_eq!(verified.notes.len(), 1);
        assert_eq!(verified.notes[0].line, 3);

        let mut first = Log::new();
        first.lookup("a");
        first.cut("lost", 30);
        let mut second = Log {
            key: first.key.clone(),
            last: first.last.clone(),
            lines: Vec::new(),
        };
        second.open("new_day", 1);
        second.lookup("b");
        let files = [first.write("day-1"), second.write("day-2")];
        let verified = verify(&first.key, &files).unwrap();
        assert_eq!(verified.notes.len(), 1, "{verified}");
        assert_eq!(verified.notes[0].file, files[0]);
        assert!(verify(&first.key, &files[1..]).is_ok(), "a file alone");
    }

    #[test]
    fn the_display_names_every_break_and_counts_them() {
        let mut log = interrupted();
        log.lines[1] = log.lines[1].replace("\"a\"", "\"A\"");
        log.lines[8] = log.lines[8].replace("\"f\"", "\"F\"");
        let path = log.write("display");
        let broken = verify(&log.key, std::slice::from_ref(&path)).unwrap_err();
        assert_eq!((broken.line, broken.file.clone()), (2, path.clone()));
        let shown = format!("BROKEN: {broken}");
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines[0].starts_with(&format!("BROKEN: {}:2: edited", path.display())));
        assert!(lines[1].starts_with(&format!("BROKEN: {}:9: edited", path.display())));
        assert!(lines[2].starts_with(&format!("noted: {}:5: ", path.display())));
        assert_eq!(
            lines[3],
            "2 break(s); 7 line(s) in 1 file(s) verified around them"
        );
    }
}
