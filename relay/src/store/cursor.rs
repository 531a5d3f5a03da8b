//! An events page's cursor: the time and key of the last event given,
//! opaque to the panel (base64url), so the next page starts right after it
//! even when several events share a millisecond.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub at_ms: i64,
    pub key: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}\n{}", self.at_ms, self.key))
    }

    /// `None` for anything this relay did not write.
    pub fn decode(text: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (at, key) = text.split_once('\n')?;
        Some(Cursor {
            at_ms: at.parse().ok()?,
            key: key.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_garbage_is_none() {
        let cursor = Cursor {
            at_ms: 1_700_000_000_123,
            key: "a\nb".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "!!", "bm90IGEgY3Vyc29y", "eA"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
