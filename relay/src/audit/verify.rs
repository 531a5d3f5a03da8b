//! `relay audit verify FILE…`: follows the chain through the files in the
//! order given and names the first line where it breaks.
//!
//! What a break can be told apart as, at the first broken line:
//! - not a line the relay writes (no chain value, not JSON): inserted or edited;
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

use super::chain::{ChainKey, Link, Sealed};
use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// A chain that holds.
#[derive(Debug)]
pub struct Verified {
    pub lines: u64,
    pub files: usize,
}

/// Where the chain breaks (line 0: the file as a whole), and what that means.
#[derive(Debug)]
pub struct Broken {
    pub file: PathBuf,
    pub line: usize,
    pub what: String,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.what)
    }
}

/// The chain through `files`, in this order.
pub fn verify(key: &ChainKey, files: &[PathBuf]) -> Result<Verified, Broken> {
    let mut last: Option<(Link, &Path)> = None;
    let mut lines = 0;
    for path in files {
        let broken = |line, what: String| Broken {
            file: path.clone(),
            line,
            what,
        };
        let unreadable = |error: std::io::Error| broken(0, format!("cannot be read: {error}"));
        let mut reader = std::io::BufReader::new(std::fs::File::open(path).map_err(unreadable)?);
        let mut number = 0;
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            if reader.read_until(b'\n', &mut buffer).map_err(unreadable)? == 0 {
                break;
            }
            number += 1;
            let sealed = parse(&buffer);
            let previous = last.as_ref().map(|(link, _)| link);
            let Some(sealed) = sealed else {
                return Err(broken(number, diagnose(key, path, number, previous)));
            };
            match &sealed.continues {
                None if number == 1 => {
                    return Err(broken(
                        number,
                        "the file does not begin with the line that opens it (log_opened): \
                         its first lines were removed"
                            .into(),
                    ))
                }
                None => {
                    let follows = previous.is_some_and(|link| sealed.follows(key, &link.chain));
                    if !follows {
                        return Err(broken(number, diagnose(key, path, number, previous)));
                    }
                }
                Some(continues) => {
                    if !sealed.follows(key, continues) {
                        return Err(broken(number, diagnose(key, path, number, previous)));
                    }
                    match &last {
                        Some((link, _)) if link.chain == *continues => {}
                        None => {}
                        Some((_, file)) if number == 1 => {
                            return Err(broken(
                                number,
                                format!(
                                    "this file does not continue {}: lines were removed from its \
                                     end, a file between them is missing, or the files are named \
                                     out of order",
                                    file.display()
                                ),
                            ))
                        }
                        Some(_) => {
                            return Err(broken(
                                number,
                                "lines were removed before this line (it reopens the log after \
                                 a line that is not here)"
                                    .into(),
                            ))
                        }
                    }
                }
            }
            last = Some((sealed.link, path));
            lines += 1;
        }
        if number == 0 {
            return Err(broken(
                0,
                "the file is empty; every file the relay writes begins with its opening line"
                    .into(),
            ));
        }
    }
    Ok(Verified {
        lines,
        files: files.len(),
    })
}

fn parse(line: &[u8]) -> Option<Sealed> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    Sealed::parse(std::str::from_utf8(line).ok()?)
}

/// What the break at line `number` of `path` is, with the whole file at
/// hand (read again: only a broken file is held in memory).
fn diagnose(key: &ChainKey, path: &Path, number: usize, previous: Option<&Link>) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let lines: Vec<Option<Sealed>> = text.split(|&byte| byte == b'\n').map(parse).collect();
    let at = number - 1;
    let Some(line) = &lines[at] else {
        return "not a line as the relay writes it (no chain value, or not JSON): inserted or \
                edited"
            .into();
    };
    // A genuine line elsewhere: it follows the line that has the `seq` before its own.
    let mut by_seq: HashMap<u64, Vec<usize>> = HashMap::new();
    for (index, other) in lines.iter().enumerate() {
        if let Some(other) = other {
            by_seq.entry(other.link.seq).or_default().push(index);
        }
    }
    if let Some(before) = line.link.seq.checked_sub(1) {
        for &index in by_seq.get(&before).into_iter().flatten() {
            let chain = &lines[index].as_ref().expect("indexed").link.chain;
            if index + 1 != at && line.follows(key, chain) {
                return format!(
                    "out of order: this line belongs right after line {} (moved, or copied)",
                    index + 1
                );
            }
        }
    }
    let Some(previous) = previous else {
        return "edited: the line does not match its chain value".into();
    };
    let next = lines.get(at + 1).and_then(Option::as_ref);
    if next.is_some_and(|next| next.follows(key, &previous.chain)) {
        return "inserted: the chain skips this line (the next line follows the one before it)"
            .into();
    }
    if line.link.seq > previous.seq + 1 {
        let gap = line.link.seq - previous.seq - 1;
        return format!(
            "{gap} line(s) removed before this line (seq jumps from {} to {})",
            previous.seq, line.link.seq
        );
    }
    "edited: the line does not match its chain value".into()
}
