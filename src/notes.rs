//! Notes on a customer, kept by the relay's store (`protocol::notes`): read
//! from its answers field by field through `Loose` (serde's derive would
//! weigh on the wasm), the body of a new one, and how each reads: who
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
use protocol::notes::{field, Note, NoteDeletion};
use protocol::param;

/// A page of notes (`GET api/notes`), newest first as the relay sends them.
pub fn read_page(json: &Loose) -> Vec<Note> {
    json.get("notes").items().iter().map(read).collect()
}

fn read(json: &Loose) -> Note {
    let text = |name| json.string(name).unwrap_or_default();
    let deleted = json.get("deleted");
    Note {
        id: text("id"),
        author: text("author"),
        text: text(field::TEXT),
        check_on: json.string(field::CHECK_ON),
        created_at: text("created_at"),
        deleted: matches!(deleted, Loose::Object(_)).then(|| NoteDeletion {
            by: deleted.string("by").unwrap_or_default(),
            at: deleted.string("at").unwrap_or_default(),
        }),
    }
}

/// The relay's answer to adding or deleting a note: the note as it is
/// now, or the failure, read as a change's (`change::refusal`).
pub fn read_answer(status: u16, content_type: Option<&str>, body: &str) -> Result<Note, Failure> {
    if status != 200 || is_sign_in_page(status, content_type) {
        return Err(refusal(status, content_type, body));
    }
    match serde_json::from_str::<Loose>(body) {
        Ok(json @ Loose::Object(_)) => Ok(read(&json)),
        _ => Err(Failure::OutcomeUnknown),
    }
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

/// When the note was written: "3 minutes ago", and for its title the
/// exact time in the admin's zone; a time that cannot be read, verbatim.
pub fn written(note: &Note, clock: &Clock) -> (String, String) {
    match Timestamp::parse(&note.created_at) {
        Timestamp::At(at) => (clock.relative(at), clock.date_time(at)),
        Timestamp::Unreadable(raw) => (raw.clone(), raw),
    }
}

/// What the note says, or who deleted it and when.
pub fn text(note: &Note, clock: &Clock) -> String {
    match &note.deleted {
        Some(deleted) => format!(
            "Deleted by {} on {}",
            deleted.by,
            erasure::when(&deleted.at, clock)
        ),
        None => note.text.clone(),
    }
}

/// Its "check again on" day: "Check again: due" once the day has begun in
/// the admin's zone (`true`), else "Check again on 10 Dec 2026"; nothing
/// without a day.
pub fn check(note: &Note, clock: &Clock) -> Option<(String, bool)> {
    let day = change::day(note.check_on.as_deref()?)?;
    let starts = change::start_of(day, clock);
    Some(if starts <= clock.now {
        ("Check again: due".into(), true)
    } else {
        (format!("Check again on {}", clock.date(starts)), false)
    })
}

/// Whether this person may delete the note: their own, or anyone's with
/// the app's notes admin role (the relay decides either way).
pub fn may_delete(note: &Note, actor: &str, admin: bool) -> bool {
    note.deleted.is_none() && (admin || note.author == actor)
}

/// The history's events (newest first) with the notes among them, each
/// marked as support's: "Note by ana@example.com: …".
pub fn among(events: &[Event], notes: &[Note], clock: &Clock) -> Vec<Event> {
    let notes = notes.iter().map(|note| Event {
        when: feed::when(&note.created_at),
        text: format!("Note by {}: {}", note.author, text(note, clock)),
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

    /// 7 Dec 2026, 13:00 in Tokyo (04:00 UTC).
    fn tokyo() -> Clock {
        Clock {
            now: Utc.with_ymd_and_hms(2026, 12, 7, 4, 0, 0).unwrap(),
            offset_minutes: |_| 540,
            utc: false,
            absolute: false,
        }
    }

    fn note(check_on: Option<&str>) -> Note {
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
    fn a_page_as_the_relay_writes_it_reads_back_whole() {
        let page = protocol::notes::NotesPage {
            notes: vec![
                note(Some("2026-12-10")),
                Note {
                    id: "n0".into(),
                    text: String::new(),
                    check_on: None,
                    deleted: Some(NoteDeletion {
                        by: "lead@example.com".into(),
                        at: "2026-12-07T03:58:00Z".into(),
                    }),
                    ..note(None)
                },
            ],
        };
        let json = loose(&serde_json::to_string(&page).unwrap());
        assert_eq!(read_page(&json), page.notes);
        assert_eq!(read_page(&Loose::Null), Vec::new());
        assert_eq!(read_page(&loose(r#"{"notes":[7]}"#)), [Note::default()]);
    }

    #[test]
    fn a_note_reads_as_who_when_and_its_text_verbatim() {
        let clock = tokyo();
        let note = note(None);
        assert_eq!(
            written(&note, &clock),
            ("3 minutes ago".into(), "7 Dec 2026, 12:57".into())
        );
        // Markup and links stay text: the view writes it as text.
        assert_eq!(text(&note, &clock), note.text);
        let odd = Note {
            created_at: "yesterday".into(),
            ..note.clone()
        };
        assert_eq!(
            written(&odd, &clock),
            ("yesterday".into(), "yesterday".into())
        );
        let deleted = Note {
            text: String::new(),
            deleted: Some(NoteDeletion {
                by: "lead@example.com".into(),
                at: "2026-12-07T03:58:00Z".into(),
            }),
            ..note
        };
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
        assert_eq!(check(&note(Some("2026-12-08")), &utc).unwrap().1, false);
        let late_tokyo = Clock {
            now: utc.now,
            ..clock
        };
        assert_eq!(
            check(&note(Some("2026-12-08")), &late_tokyo).unwrap().1,
            true
        );
        assert_eq!(check(&note(None), &clock), None);
        assert_eq!(check(&note(Some("soon")), &clock), None);
    }

    #[test]
    fn only_the_author_or_an_admin_may_delete_and_never_twice() {
        let mine = note(None);
        assert!(may_delete(&mine, "ana@example.com", false));
        assert!(!may_delete(&mine, "bob@example.com", false));
        assert!(may_delete(&mine, "bob@example.com", true));
        let gone = Note {
            deleted: Some(NoteDeletion::default()),
            ..mine
        };
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
    fn answers_are_the_note_or_a_changes_failure() {
        let json = Some("application/json");
        let note = read_answer(
            200,
            json,
            r#"{"id":"n1","author":"ana@example.com","text":"x","check_on":null,"created_at":"2026-12-07T03:57:00Z","deleted":null}"#,
        )
        .unwrap();
        assert_eq!((note.id.as_str(), note.text.as_str()), ("n1", "x"));
        assert_eq!(
            read_answer(
                403,
                json,
                r#"{"error":{"code":"forbidden","message":"only its author (ana@example.com) may delete this note"}}"#
            )
            .unwrap_err(),
            Failure::Refused("Only its author (ana@example.com) may delete this note.".into())
        );
        assert_eq!(
            read_answer(200, Some("text/html"), "<html>").unwrap_err(),
            Failure::SignInExpired
        );
        assert_eq!(
            read_answer(200, json, "[]").unwrap_err(),
            Failure::OutcomeUnknown
        );
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
}
