//! The reason a change gives, written once: the panel checks it before
//! sending, the relay before calling Adapty, with the same rule.
//!
//! A reason is trimmed (Unicode white space at both ends), then:
//!
//! - at most [`MAX_CHARS`] characters;
//! - no control character (Unicode's `Cc`) but line feed, carriage return
//!   and tab;
//! - no format character (Unicode's `Cf`, [`FORMAT`]): the zero-width space
//!   and joiners, the bidirectional marks, embeddings, overrides and
//!   isolates, the word joiner and invisible operators, the byte order mark,
//!   the soft hyphen, tags… They are invisible, and the bidirectional ones
//!   reorder what follows them: stored raw, the audit log would not read as
//!   what was written. (So an emoji joined with U+200D, 👨‍👩‍👧, is refused
//!   too; separate emoji are fine.)
//! - no line or paragraph separator (U+2028, U+2029), which tools that read
//!   the audit log line by line take as a line break;
//! - at least [`MIN_VISIBLE`] visible characters: not white space, and not
//!   invisible ([`IGNORABLE`], [`UNSHOWN`]: variation selectors, the combining grapheme
//!   joiner, the Hangul fillers, blank patterns), so that a reason made only
//!   of spaces or of filler (U+3164 ×3) says nothing and is refused.
//!
//! A short table rather than a crate of Unicode's categories: the panel's
//! wasm carries it, and these code points are all the rule needs.

use crate::field;
use std::fmt;

/// Visible characters a reason needs at least.
pub const MIN_VISIBLE: usize = 3;
/// Characters a reason may have at most, after trimming.
pub const MAX_CHARS: usize = 500;

/// Unicode's format characters (general category `Cf`, Unicode 16), as
/// inclusive ranges: U+00AD soft hyphen; U+0600–U+0605, U+06DD, U+070F,
/// U+0890–U+0891, U+08E2 Arabic and Syriac number and end-of-ayah signs;
/// U+061C Arabic letter mark; U+180E Mongolian vowel separator;
/// U+200B–U+200F zero-width space, non-joiner, joiner, left-to-right and
/// right-to-left marks; U+202A–U+202E bidirectional embeddings and
/// overrides; U+2060–U+2064 word joiner and invisible operators;
/// U+2066–U+206F bidirectional isolates and deprecated format characters;
/// U+FEFF zero-width no-break space (byte order mark); U+FFF9–U+FFFB
/// interlinear annotation; U+110BD, U+110CD Kaithi number signs;
/// U+13430–U+1343F Egyptian hieroglyph format controls; U+1BCA0–U+1BCA3
/// shorthand format controls; U+1D173–U+1D17A musical beam and slur
/// controls; U+E0001, U+E0020–U+E007F language tag and tags.
pub const FORMAT: &[(char, char)] = &[
    ('\u{AD}', '\u{AD}'),
    ('\u{600}', '\u{605}'),
    ('\u{61C}', '\u{61C}'),
    ('\u{6DD}', '\u{6DD}'),
    ('\u{70F}', '\u{70F}'),
    ('\u{890}', '\u{891}'),
    ('\u{8E2}', '\u{8E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// Allowed, but not visible, so not counted: the rest of Unicode's
/// default-ignorable code points (besides the format characters above,
/// which are refused). U+034F combining grapheme joiner; U+115F, U+1160
/// Hangul choseong and jungseong fillers; U+17B4, U+17B5 Khmer inherent
/// vowels; U+180B–U+180D, U+180F Mongolian free variation selectors;
/// U+2065 (reserved); U+3164 Hangul filler; U+FE00–U+FE0F variation
/// selectors; U+FFA0 halfwidth Hangul filler; U+FFF0–U+FFF8 (reserved);
/// U+E0000–U+E0FFF the rest of the tag block and beyond, the variation
/// selectors supplement (U+E0100–U+E01EF) included.
pub const IGNORABLE: &[(char, char)] = &[
    ('\u{34F}', '\u{34F}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180D}'),
    ('\u{180F}', '\u{180F}'),
    ('\u{2065}', '\u{2065}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{E0000}', '\u{E0000}'),
    ('\u{E0002}', '\u{E001F}'),
    ('\u{E0080}', '\u{E0FFF}'),
];

/// Allowed, but shown as nothing a reader can take in, so not counted
/// either: two blank symbols (U+2800 Braille pattern blank, U+1D159
/// musical symbol null notehead); the combining marks' blocks (U+0300–
/// U+036F, U+1AB0–U+1AFF, U+1DC0–U+1DFF, U+20D0–U+20FF, U+FE20–U+FE2F),
/// which show nothing alone; the private use areas (U+E000–U+F8FF, planes
/// 15 and 16), which no font the team shares shows; U+FFFC, the object
/// replacement character.
pub const UNSHOWN: &[(char, char)] = &[
    ('\u{300}', '\u{36F}'),
    ('\u{1AB0}', '\u{1AFF}'),
    ('\u{1DC0}', '\u{1DFF}'),
    ('\u{20D0}', '\u{20FF}'),
    ('\u{2800}', '\u{2800}'),
    ('\u{E000}', '\u{F8FF}'),
    ('\u{FE20}', '\u{FE2F}'),
    ('\u{FFFC}', '\u{FFFC}'),
    ('\u{1D159}', '\u{1D159}'),
    ('\u{F0000}', '\u{FFFFD}'),
    ('\u{100000}', '\u{10FFFD}'),
];

/// Why a reason is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonError {
    /// Fewer than [`MIN_VISIBLE`] visible characters: how many it has.
    TooShort { visible: usize },
    /// More than [`MAX_CHARS`] characters, trimmed: how many it has.
    TooLong { chars: usize },
    /// A control character other than a line break or a tab (the first).
    Control(char),
    /// A format character, invisible (the first): see [`FORMAT`].
    Format(char),
    /// U+2028 or U+2029.
    Separator(char),
}

/// The reason, trimmed, or why it is refused.
pub fn check(reason: &str) -> Result<&str, ReasonError> {
    check_within(reason, MAX_CHARS, MIN_VISIBLE)
}

/// Text of another length under the reason's rule (a note's, say): at most
/// `max_chars` characters once trimmed, at least `min_visible` visible. The
/// errors' words are a reason's; the caller names its own field.
pub fn check_within(
    reason: &str,
    max_chars: usize,
    min_visible: usize,
) -> Result<&str, ReasonError> {
    let reason = reason.trim();
    let chars = reason.chars().count();
    if chars > max_chars {
        return Err(ReasonError::TooLong { chars });
    }
    for character in reason.chars() {
        if character.is_control() && !matches!(character, '\n' | '\r' | '\t') {
            return Err(ReasonError::Control(character));
        }
        if is_in(FORMAT, character) {
            return Err(ReasonError::Format(character));
        }
        if matches!(character, '\u{2028}' | '\u{2029}') {
            return Err(ReasonError::Separator(character));
        }
    }
    let visible = reason.chars().filter(|&c| is_visible(c)).count();
    if visible < min_visible {
        return Err(ReasonError::TooShort { visible });
    }
    Ok(reason)
}

/// Whether a character shows: not white space, not a control or format
/// character, not one of [`IGNORABLE`] or [`UNSHOWN`].
pub fn is_visible(character: char) -> bool {
    !(character.is_whitespace()
        || character.is_control()
        || is_format_or_ignorable(character)
        || is_in(UNSHOWN, character))
}

/// A format character (Unicode's Cf) or another default-ignorable code
/// point: shows nothing, or changes how what follows shows. The relay's
/// identities refuse these too (`guard::identity`).
pub fn is_format_or_ignorable(character: char) -> bool {
    is_in(FORMAT, character) || is_in(IGNORABLE, character)
}

fn is_in(table: &[(char, char)], character: char) -> bool {
    table
        .iter()
        .any(|&(first, last)| (first..=last).contains(&character))
}

/// `U+202E`.
struct CodePoint(char);

impl fmt::Display for CodePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

impl fmt::Display for ReasonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = field::REASON;
        match *self {
            ReasonError::TooShort { visible } => write!(
                f,
                "{name} must have at least {MIN_VISIBLE} visible characters (spaces and \
                 invisible characters do not count), saying why: it goes to the audit log; \
                 it has {visible}"
            ),
            ReasonError::TooLong { chars } => write!(
                f,
                "{name} must be at most {MAX_CHARS} characters; it is {chars}"
            ),
            ReasonError::Control(character) => write!(
                f,
                "{name} contains a control character, {}: only line breaks and tabs are allowed",
                CodePoint(character)
            ),
            ReasonError::Format(character) => write!(
                f,
                "{name} contains an invisible format character, {}: zero-width, joining and \
                 bidirectional characters are not allowed",
                CodePoint(character)
            ),
            ReasonError::Separator(character) => write!(
                f,
                "{name} contains a line or paragraph separator, {}: use a line break",
                CodePoint(character)
            ),
        }
    }
}

impl std::error::Error for ReasonError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_letters_pass_trimmed_and_emoji_count_as_visible() {
        assert_eq!(check("abc"), Ok("abc"));
        assert_eq!(check("   abc   "), Ok("abc"));
        assert_eq!(check("\n\t abc \r\n"), Ok("abc"));
        assert_eq!(check("👍👍👍"), Ok("👍👍👍"));
        assert_eq!(check("goodwill, ticket 4411"), Ok("goodwill, ticket 4411"));
        assert_eq!(check("日本語"), Ok("日本語"));
        // Inside, line breaks and tabs stay.
        assert_eq!(
            check("line one\r\n\tline two"),
            Ok("line one\r\n\tline two")
        );
        // A variation selector is allowed, though it does not count.
        assert_eq!(check("❤\u{FE0F}ok"), Ok("❤\u{FE0F}ok"));
    }

    #[test]
    fn fewer_than_three_visible_characters_are_too_short() {
        assert_eq!(check(""), Err(ReasonError::TooShort { visible: 0 }));
        assert_eq!(check("     "), Err(ReasonError::TooShort { visible: 0 }));
        assert_eq!(check("ab"), Err(ReasonError::TooShort { visible: 2 }));
        assert_eq!(check("a b"), Err(ReasonError::TooShort { visible: 2 }));
        // Issue 19's filler: Hangul fillers, alone, say nothing.
        assert_eq!(
            check("\u{3164}\u{3164}\u{3164}"),
            Err(ReasonError::TooShort { visible: 0 })
        );
        for invisible in [
            '\u{115F}',
            '\u{1160}',
            '\u{FFA0}',
            '\u{2800}',
            '\u{1D159}',
            '\u{34F}',
            '\u{FE0F}',
            '\u{E0100}',
            '\u{180B}',
            '\u{3000}',
            '\u{A0}',
            '\u{301}',
            '\u{20DD}',
            '\u{E000}',
            '\u{FFFC}',
            '\u{F0000}',
        ] {
            let reason = format!("a{invisible}{invisible}{invisible}b");
            assert_eq!(
                check(&reason),
                Err(ReasonError::TooShort { visible: 2 }),
                "U+{:04X}",
                u32::from(invisible)
            );
        }
    }

    #[test]
    fn more_than_500_characters_are_too_long() {
        let most = "é".repeat(MAX_CHARS);
        assert_eq!(check(&most), Ok(most.as_str()), "characters, not bytes");
        assert_eq!(
            check(&"a".repeat(501)),
            Err(ReasonError::TooLong { chars: 501 })
        );
        assert_eq!(
            check(&format!("  {}  ", "a".repeat(500))).map(str::len),
            Ok(500),
            "counted after trimming"
        );
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_and_tabs() {
        assert_eq!(check("a\0bc"), Err(ReasonError::Control('\0')));
        for control in [
            '\u{1}', '\u{7}', '\u{B}', '\u{C}', '\u{1B}', '\u{7F}', '\u{85}', '\u{9F}',
        ] {
            assert_eq!(
                check(&format!("ab{control}c")),
                Err(ReasonError::Control(control)),
                "U+{:04X}",
                u32::from(control)
            );
        }
    }

    #[test]
    fn format_characters_are_refused() {
        // Issue 19: zero-width spaces alone were accepted and sent.
        assert_eq!(
            check("\u{200B}\u{200B}\u{200B}"),
            Err(ReasonError::Format('\u{200B}'))
        );
        // A bidirectional override reorders the audit line after it.
        assert_eq!(
            check("ok\u{202E}evil"),
            Err(ReasonError::Format('\u{202E}'))
        );
        for format in [
            '\u{AD}',
            '\u{600}',
            '\u{61C}',
            '\u{180E}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202D}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{206F}',
            '\u{FEFF}',
            '\u{FFF9}',
            '\u{FFFB}',
            '\u{110BD}',
            '\u{13430}',
            '\u{1BCA0}',
            '\u{1D173}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
        ] {
            assert_eq!(
                check(&format!("abc{format}def")),
                Err(ReasonError::Format(format)),
                "U+{:04X}",
                u32::from(format)
            );
        }
        assert_eq!(
            check("family 👨\u{200D}👩\u{200D}👧"),
            Err(ReasonError::Format('\u{200D}'))
        );
    }

    #[test]
    fn line_and_paragraph_separators_are_refused() {
        // Issue 19: U+2028 split the audit line for line-based tools.
        assert_eq!(check("a\u{2028}b"), Err(ReasonError::Separator('\u{2028}')));
        assert_eq!(
            check("abc\u{2029}def"),
            Err(ReasonError::Separator('\u{2029}'))
        );
        // At either end, they are white space, trimmed away.
        assert_eq!(check("\u{2028}abc\u{2029}"), Ok("abc"));
    }

    #[test]
    fn every_refusal_names_the_field_and_says_why() {
        let said = |reason: &str| check(reason).unwrap_err().to_string();
        assert_eq!(
            said("ab"),
            "reason must have at least 3 visible characters (spaces and invisible characters \
             do not count), saying why: it goes to the audit log; it has 2"
        );
        assert_eq!(
            said(&"a".repeat(501)),
            "reason must be at most 500 characters; it is 501"
        );
        assert_eq!(
            said("a\0bc"),
            "reason contains a control character, U+0000: only line breaks and tabs are allowed"
        );
        assert_eq!(
            said("ok\u{202E}evil"),
            "reason contains an invisible format character, U+202E: zero-width, joining and \
             bidirectional characters are not allowed"
        );
        assert_eq!(
            said("a\u{2028}b"),
            "reason contains a line or paragraph separator, U+2028: use a line break"
        );
        assert_eq!(
            said("x\u{E0041}yz"),
            "reason contains an invisible format character, U+E0041: zero-width, joining and \
             bidirectional characters are not allowed"
        );
    }

    #[test]
    fn the_tables_are_ordered_and_apart() {
        for table in [FORMAT, IGNORABLE, UNSHOWN] {
            for &(first, last) in table {
                assert!(first <= last, "{first:?}..{last:?}");
            }
            for pair in table.windows(2) {
                assert!(pair[0].1 < pair[1].0, "{:?} then {:?}", pair[0], pair[1]);
            }
        }
        for &(first, last) in FORMAT {
            for character in first..=last {
                assert!(
                    !is_in(IGNORABLE, character) && !is_in(UNSHOWN, character),
                    "U+{:04X}",
                    u32::from(character)
                );
                assert!(!character.is_whitespace() && !character.is_control());
                assert!(!is_visible(character));
            }
        }
    }
}
