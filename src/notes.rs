//! Notes on a customer, kept by the relay's store (`protocol::notes`): each
//! read where it is used, field by field, from the page's JSON as `Loose`
//! (serde's derive, or even a struct of its own, would weigh on the wasm),
//! the body of a new one, and how each reads: who
//! wrote it and how long ago (the exact time on hover), its text or who
//! deleted it and when, whether its "check again on" day has come, and
//! each as an entry of the history.
//!
//! A note's text is only ever text on the page: never markup, its links
//! not links.

use crate::change::{self, refusal, Failure};
use crate::erasure;
use crate::error::is_sign_in_page;
use crate::events::{self, Event, Fact, Source};
use crate::feed;
use crate::format::Clock;
use crate::model::{Loose, Timestamp};
use protocol::notes::field;
use protocol::param;

/// The notes of a page (`GET api/notes`, `{"notes": [...]}`), newest first
/// as the relay sends them; each a `protocol::notes::Note`.
pub fn of_page(page: &Loose) -> &[Loose] {
    page.get("notes").items()
}

/// A note's field `name` when it is a string, else empty.
pub fn field<'a>(note: &'a Loose, name: &str) -> &'a str {
    note.get(name).text().unwrap_or_default()
}

/// Who deleted the note and when, once it is deleted.
fn deleted(note: &Loose) -> Option<&Loose> {
    let deleted = note.get("deleted");
    matches!(deleted, Loose::Object(_)).then_some(deleted)
}

/// The relay's answer to adding or deleting a note: done (the notes are
/// then read again, the new one among them), or the failure, read as a
/// change's (`change::refusal`).
pub fn answered(status: u16, content_type: Option<&str>, body: &str) -> Result<(), Failure> {
    if status != 200 || is_sign_in_page(status, content_type) {
        return Err(refusal(status, content_type, body));
    }
    Ok(())
}

/// The body of `POST api/notes`: the text as typed (the relay trims and
/// checks it by the reason's rule), the "check again on" day when one is
/// chosen, the app when the relay serves several.
pub fn body(app: &str, profile_id: &str, text: &str, check_on: &str) -> Loose {
    let mut fields = vec![
        (param::PROFILE_ID.into(), Loose::Text(profile_id.into())),
        (field::TEXT.into(), Loose::Text(text.into())),
    ];
    for (name, value) in [(field::CHECK_ON, check_on), (param::APP, app)] {
        if !value.is_empty() {
            fields.push((name.into(), Loose::Text(value.into())));
        }
    }
    Loose::Object(fields)
}

/// Who wrote the note and when: "ana@example.com · 3 minutes ago", and
/// for its title the exact time in the admin's zone; a time that cannot
/// be read, verbatim.
pub fn written(note: &Loose, clock: &Clock) -> (String, String) {
    let (ago, exact) = match Timestamp::parse(field(note, "created_at")) {
        Timestamp::At(at) => (clock.relative(at), clock.date_time(at)),
        Timestamp::Unreadable(raw) => (raw.clone(), raw),
    };
    ([field(note, "author"), " \u{b7} ", &ago].concat(), exact)
}

/// What the note says, or who deleted it and when.
pub fn text(note: &Loose, clock: &Clock) -> String {
    match deleted(note) {
        Some(deleted) => [
            "Deleted by ",
            field(deleted, "by"),
            " on ",
            &erasure::when(field(deleted, "at"), clock),
        ]
        .concat(),
        None => field(note, field::TEXT).into(),
    }
}

/// A note's text in pieces, each plain text or a link (`true`): a link
/// runs from `https://` to the next blank, quote or angle bracket, less the
/// punctuation that ends a sentence around it (a closing parenthesis only
/// when the address opened none). No other scheme becomes a link (`http:`,
/// `javascript:`, `data:` stay text), nor an address with an invisible
/// character, which would read otherwise than where it goes (the relay
/// refuses those in a note anyway).
pub fn pieces(text: &str) -> Vec<(&str, bool)> {
    const SCHEME: &str = "https://";
    let closes = |c| {
        matches!(
            c,
            '.' | ',' | ';' | ':' | '!' | '?' | ']' | '\'' | '\u{2019}' | '\u{201D}' | '\u{BB}'
        )
    };
    let mut pieces = Vec::new();
    // Where the text not pieced yet starts, and where the next link is
    // looked for.
    let (mut plain, mut from) = (0, 0);
    while let Some(at) = text[from..].find(SCHEME) {
        let start = from + at;
        let after = &text[start..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>'))
            .unwrap_or(after.len());
        let mut link = after[..end].trim_end_matches(closes);
        while link.ends_with(')') && link.matches('(').count() < link.matches(')').count() {
            link = link[..link.len() - 1].trim_end_matches(closes);
        }
        let hidden = link.chars().any(protocol::reason::is_format_or_ignorable);
        if link.len() > SCHEME.len() && !hidden {
            if start > plain {
                pieces.push((&text[plain..start], false));
            }
            pieces.push((link, true));
            plain = start + link.len();
            from = plain;
        } else {
            from = start + SCHEME.len();
        }
    }
    if plain < text.len() {
        pieces.push((&text[plain..], false));
    }
    pieces
}

/// Its "check again on" day: "Check again: due" once the day has begun in
/// the admin's zone (`true`), else "Check again on 10 Dec 2026"; nothing
/// without a day.
pub fn check(note: &Loose, clock: &Clock) -> Option<(String, bool)> {
    let day = change::day(field(note, field::CHECK_ON))?;
    let starts = change::start_of(day, clock);
    Some(if starts <= clock.now {
        ("Check again: due".into(), true)
    } else {
        (["Check again on ", &clock.date(starts)].concat(), false)
    })
}

/// Whether this person may delete the note: their own, or anyone's with
/// the app's notes admin role (the relay decides either way).
pub fn may_delete(note: &Loose, actor: &str, admin: bool) -> bool {
    deleted(note).is_none() && (admin || field(note, "author") == actor)
}

/// The history's events (newest first) with the notes among them, each
/// marked as support's: "Note by ana@example.com: …".
pub fn among(events: &[Event], notes: &[Loose], clock: &Clock) -> Vec<Event> {
    let notes = notes.iter().map(|note| Event {
        when: feed::when(field(note, "created_at")),
        text: ["Note by ", field(note, "author"), ": ", &text(note, clock)].concat(),
        item: None,
        sandbox: false,
        refunded: false,
        source: Source::Support,
        detail: String::new(),
        fact: Fact::Other,
    });
    events::sort(events.iter().cloned().chain(notes).collect(), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::When;
    use chrono::{TimeZone, Utc};
    use protocol::notes::{Note, NoteDeletion};

    /// 7 Dec 2026, 13:00 in Tokyo (04:00 UTC).
    fn tokyo() -> Clock {
        Clock {
            now: Utc.with_ymd_and_hms(2026, 12, 7, 4, 0, 0).unwrap(),
            offset_minutes: |_| 540,
            utc: false,
            absolute: false,
        }
    }

    /// A note as the relay writes it, read as the panel reads it.
    fn read(note: &Note) -> Loose {
        loose(&serde_json::to_string(note).unwrap())
    }

    fn note(check_on: Option<&str>) -> Loose {
        read(&written_note(check_on))
    }

    fn written_note(check_on: Option<&str>) -> Note {
        Note {
            id: "n1".into(),
            author: "ana@example.com".into(),
            text: "<b>granted</b> 7 days\nhttps://status.example.com".into(),
            check_on: check_on.map(Into::into),
            created_at: "2026-12-07T03:57:00Z".into(),
            deleted: None,
        }
    }

    fn loose(json: &str) -> Loose {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_page_as_the_relay_writes_it_is_read_field_by_field() {
        let page = protocol::notes::NotesPage {
            notes: vec![written_note(Some("2026-12-10")), written_note(None)],
        };
        let json = loose(&serde_json::to_string(&page).unwrap());
        let notes = of_page(&json);
        assert_eq!(notes.len(), 2);
        assert_eq!(field(&notes[0], "id"), "n1");
        assert_eq!(field(&notes[0], "check_on"), "2026-12-10");
        assert_eq!(field(&notes[1], "check_on"), "", "null reads as none");
        assert!(of_page(&Loose::Null).is_empty());
        assert_eq!(field(&loose("7"), "id"), "");
    }

    #[test]
    fn a_note_reads_as_who_when_and_its_text_verbatim() {
        let clock = tokyo();
        let note = note(None);
        assert_eq!(
            written(&note, &clock),
            (
                "ana@example.com \u{b7} 3 minutes ago".into(),
                "7 Dec 2026, 12:57".into()
            )
        );
        // Markup and links stay text: the view writes it as text.
        assert_eq!(
            text(&note, &clock),
            "<b>granted</b> 7 days\nhttps://status.example.com"
        );
        let odd = read(&Note {
            created_at: "yesterday".into(),
            ..written_note(None)
        });
        assert_eq!(
            written(&odd, &clock),
            (
                "ana@example.com \u{b7} yesterday".into(),
                "yesterday".into()
            )
        );
        let deleted = read(&Note {
            text: String::new(),
            deleted: Some(NoteDeletion {
                by: "lead@example.com".into(),
                at: "2026-12-07T03:58:00Z".into(),
            }),
            ..written_note(None)
        });
        assert_eq!(
            text(&deleted, &clock),
            "Deleted by lead@example.com on 7 Dec 2026, 12:58"
        );
    }

    #[test]
    fn a_check_again_day_is_due_once_it_has_begun_in_the_admins_zone() {
        let clock = tokyo();
        let said = |day: &str| check(&note(Some(day)), &clock);
        assert_eq!(said("2026-12-07"), Some(("Check again: due".into(), true)));
        assert_eq!(said("2026-12-01"), Some(("Check again: due".into(), true)));
        assert_eq!(
            said("2026-12-08"),
            Some(("Check again on 8 Dec 2026".into(), false))
        );
        // At 23:00 UTC on 7 Dec, 8 Dec has begun in Tokyo, not in UTC.
        let utc = Clock::in_utc(Utc.with_ymd_and_hms(2026, 12, 7, 23, 0, 0).unwrap());
        assert!(!check(&note(Some("2026-12-08")), &utc).unwrap().1);
        let late_tokyo = Clock {
            now: utc.now,
            ..clock
        };
        assert!(check(&note(Some("2026-12-08")), &late_tokyo).unwrap().1);
        assert_eq!(check(&note(None), &clock), None);
        assert_eq!(check(&note(Some("soon")), &clock), None);
    }

    #[test]
    fn only_the_author_or_an_admin_may_delete_and_never_twice() {
        let mine = note(None);
        assert!(may_delete(&mine, "ana@example.com", false));
        assert!(!may_delete(&mine, "bob@example.com", false));
        assert!(may_delete(&mine, "bob@example.com", true));
        let gone = read(&Note {
            deleted: Some(NoteDeletion::default()),
            ..written_note(None)
        });
        assert!(!may_delete(&gone, "ana@example.com", true));
    }

    #[test]
    fn the_body_names_the_customer_the_text_and_only_what_was_chosen() {
        let json =
            |body: Loose| serde_json::from_str::<serde_json::Value>(&body.to_json()).unwrap();
        assert_eq!(
            json(body("", "p1", "called \"again\"\n", "")),
            serde_json::json!({"profile_id": "p1", "text": "called \"again\"\n"})
        );
        assert_eq!(
            json(body("kids", "p1", "x", "2026-12-10")),
            serde_json::json!({"profile_id": "p1", "text": "x", "check_on": "2026-12-10", "app": "kids"})
        );
    }

    #[test]
    fn answers_are_done_or_a_changes_failure() {
        let json = Some("application/json");
        assert_eq!(answered(200, json, r#"{"id":"n1"}"#), Ok(()));
        assert_eq!(
            answered(
                403,
                json,
                r#"{"error":{"code":"forbidden","message":"only its author (ana@example.com) may delete this note"}}"#
            ),
            Err(Failure::Refused(
                "Only its author (ana@example.com) may delete this note.".into()
            ))
        );
        assert_eq!(
            answered(
                429,
                json,
                r#"{"error":{"code":"rate_limited","message":"too many notes"}}"#
            ),
            Err(Failure::Refused("Too many notes.".into()))
        );
        assert_eq!(
            answered(200, Some("text/html"), "<html>"),
            Err(Failure::SignInExpired)
        );
        assert_eq!(answered(502, None, ""), Err(Failure::OutcomeUnknown));
    }

    #[test]
    fn notes_are_entries_of_the_history_among_the_profiles() {
        let clock = tokyo();
        let profile = crate::model::Envelope::parse(
            r#"{"data":{"profile_id":"p","non_subscriptions":[
                {"store":"app_store","store_product_id":"coins","purchased_at":"2026-12-07T03:00:00Z"},
                {"store":"app_store","store_product_id":"gems","purchased_at":"2026-12-07T03:59:00Z"}]}}"#,
        )
        .unwrap();
        let history = feed::merge(&profile, events::history(&profile, clock.now), &[]);
        let merged = among(&history, &[note(None)], &clock);
        let texts: Vec<&str> = merged.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Bought gems (App Store)",
                "Note by ana@example.com: <b>granted</b> 7 days\nhttps://status.example.com",
                "Bought coins (App Store)"
            ]
        );
        assert_eq!(
            merged[1].when,
            When::At(Utc.with_ymd_and_hms(2026, 12, 7, 3, 57, 0).unwrap())
        );
        assert_eq!(merged[1].marks(clock.now), ["Support"]);
        assert_eq!(among(&history, &[], &clock), history);
    }

    #[test]
    fn only_https_addresses_become_links_without_the_sentences_punctuation() {
        assert_eq!(pieces("no link here"), [("no link here", false)]);
        assert_eq!(
            pieces("see https://status.example.com/incident/7. Then call."),
            [
                ("see ", false),
                ("https://status.example.com/incident/7", true),
                (". Then call.", false)
            ]
        );
        // Its own parentheses stay; quotes and brackets around it go.
        assert_eq!(
            pieces("see https://en.example/wiki/Rust_(language)."),
            [
                ("see ", false),
                ("https://en.example/wiki/Rust_(language)", true),
                (".", false)
            ]
        );
        assert_eq!(
            pieces("\u{201C}https://a.example/x\u{201D} <https://b.example>"),
            [
                ("\u{201C}", false),
                ("https://a.example/x", true),
                ("\u{201D} <", false),
                ("https://b.example", true),
                (">", false)
            ]
        );
        // An invisible mark in the address: no link.
        let hidden = "https://\u{202E}moc.live@bank.example";
        assert_eq!(pieces(hidden), [(hidden, false)]);
        assert_eq!(
            pieces("(https://a.example/x?u=https://b.example), https://c.example"),
            [
                ("(", false),
                ("https://a.example/x?u=https://b.example", true),
                ("), ", false),
                ("https://c.example", true)
            ]
        );
        for text in [
            "http://plain.example",
            "javascript:alert(1)",
            "data:text/html,hi",
            "just https:// and nothing",
            "",
        ] {
            assert!(pieces(text).iter().all(|&(_, link)| !link), "{text}");
            assert_eq!(pieces(text).iter().map(|p| p.0).collect::<String>(), text);
        }
        // Nothing is lost: the pieces put together are the text.
        let text = "é https://x.example/ü\nline two https://y.example.";
        assert_eq!(pieces(text).iter().map(|p| p.0).collect::<String>(), text);
        assert_eq!(pieces(text).iter().filter(|p| p.1).count(), 2);
    }
}
