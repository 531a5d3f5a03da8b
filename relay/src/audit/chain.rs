//! Tamper evidence. Every line ends with `"seq":N,"chain":"<hex>"`, where
//! the chain value is HMAC-SHA256(chain key, the previous line's chain
//! value ‖ the line up to and including its `seq`). Without the key nobody
//! can write a line that fits, so an edited, inserted, removed or moved
//! line breaks the chain at that place; `relay audit verify` finds it.
//!
//! `seq` counts lines along the chain (across files): it tells a removed
//! line (a gap) from an edited one, and a moved line from an inserted one.

use hmac::{Hmac, Mac};

/// The chain value before the first line ever written.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// What sealing adds to a line's JSON at most: `,"seq":` and 20 digits,
/// `,"chain":"`, 64 hex digits and `"`.
pub const SEAL_BYTES: usize = 7 + 20 + 10 + 64 + 1;
/// The end of every sealed line after its chain value's start.
const CHAIN_FIELD: &str = ",\"chain\":\"";
const CHAIN_TAIL_BYTES: usize = CHAIN_FIELD.len() + 64 + 2;

/// The secret the chain is keyed with, ready to use (keying HMAC once,
/// not on every line).
#[derive(Clone)]
pub struct ChainKey(Hmac<sha2::Sha256>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(redacted)")
    }
}

/// The last line of a chain: where the next one continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub seq: u64,
    pub chain: String,
}

impl ChainKey {
    pub fn new(secret: &[u8; 32]) -> ChainKey {
        ChainKey(Hmac::new_from_slice(secret).expect("any key length"))
    }

    /// The chain value of `unsealed` (a line up to its `seq`, closed) after `previous`.
    pub fn mac(&self, previous: &str, unsealed: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(previous.as_bytes());
        mac.update(unsealed);
        hex(&mac.finalize().into_bytes())
    }

    /// `line` (one JSON object) as the line after `previous`, with its
    /// `seq` and chain value; and the link it becomes.
    pub fn seal(&self, line: &[u8], previous: Option<&Link>) -> (Vec<u8>, Link) {
        let seq = previous.map_or(0, |link| link.seq + 1);
        let previous = previous.map_or(GENESIS, |link| link.chain.as_str());
        let open = line.strip_suffix(b"}").unwrap_or(line);
        let mut sealed = Vec::with_capacity(open.len() + SEAL_BYTES + 2);
        sealed.extend_from_slice(open);
        if open.len() > 1 {
            sealed.push(b',');
        }
        sealed.extend_from_slice(format!("\"seq\":{seq}").as_bytes());
        let unsealed_len = sealed.len();
        sealed.push(b'}');
        let chain = self.mac(previous, &sealed);
        sealed.truncate(unsealed_len);
        sealed.extend_from_slice(CHAIN_FIELD.as_bytes());
        sealed.extend_from_slice(chain.as_bytes());
        sealed.extend_from_slice(b"\"}");
        (sealed, Link { seq, chain })
    }
}

/// A line as written, taken apart again.
pub struct Sealed {
    /// The line as its chain value covers it.
    pub unsealed: Vec<u8>,
    pub link: Link,
    /// For a line that starts a segment (`log_opened`: a file, a start, or
    /// the chain resumed after a failed write), what it says it continues.
    pub starts: Option<SegmentStart>,
}

/// What the first line of a segment says of what came before it.
pub struct SegmentStart {
    /// The chain value it continues (`GENESIS` for the first line ever,
    /// or when none was known).
    pub continues: String,
    /// Why the segment starts (`relay_started`, `reload`, `new_day`,
    /// `reopened`, `write_failed`).
    pub cause: String,
    /// Lines cut short by a failed write between the line it continues
    /// and itself.
    pub cut_lines: u64,
}

/// The chain value a line ends with, when it ends as a sealed line does
/// (whatever comes before: a line edited into something else keeps it).
pub fn stated_chain(line: &str) -> Option<&str> {
    let split = line.len().checked_sub(CHAIN_TAIL_BYTES)?;
    let chain = line
        .get(split..)?
        .strip_prefix(CHAIN_FIELD)?
        .strip_suffix("\"}")?;
    chain
        .bytes()
        .all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase())
        .then_some(chain)
}

impl Sealed {
    /// `None` for anything the relay did not write as a sealed line.
    pub fn parse(line: &str) -> Option<Sealed> {
        let chain = stated_chain(line)?;
        let open = &line[..line.len() - CHAIN_TAIL_BYTES];
        let unsealed = format!("{open}}}").into_bytes();
        let fields: serde_json::Value = serde_json::from_slice(&unsealed).ok()?;
        let seq = fields["seq"].as_u64()?;
        let starts = (fields["outcome"] == super::OPENED).then(|| SegmentStart {
            continues: fields["previous_chain"]
                .as_str()
                .unwrap_or(GENESIS)
                .to_owned(),
            cause: fields["cause"].as_str().unwrap_or_default().to_owned(),
            cut_lines: fields["cut_lines"].as_u64().unwrap_or(0),
        });
        Some(Sealed {
            unsealed,
            link: Link {
                seq,
                chain: chain.to_owned(),
            },
            starts,
        })
    }

    /// Whether this line follows the chain value `previous`.
    pub fn follows(&self, key: &ChainKey, previous: &str) -> bool {
        // Both are hex of the same length; comparing them leaks nothing
        // worth the timing (the verifier holds the key anyway).
        key.mac(previous, &self.unsealed) == self.link.chain
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)].into());
        text.push(DIGITS[usize::from(byte & 15)].into());
    }
    text
}
