//! Notes on a customer, shared by the team, kept in the relay's store:
//! `GET api/notes?profile_id=…[&app=…]` answers a [`NotesPage`], `POST
//! api/notes` adds one (the fields in [`field`]), `POST
//! api/notes/{id}/delete` deletes one, leaving who deleted it and when.
//! The relay writes these types and the panel reads them.

use serde::{Deserialize, Serialize};

/// A note's text, trimmed: at most this many characters, at least one
/// visible, under the reason's rule otherwise (`crate::reason`).
pub const MAX_TEXT_CHARS: usize = 1_000;
/// Notes one customer may have (deleted ones not counted): beyond it,
/// adding one is refused.
pub const MAX_NOTES: usize = 200;

/// The fields of `POST api/notes`, beside `app` and `profile_id`.
pub mod field {
    pub const TEXT: &str = "text";
    /// `YYYY-MM-DD`, optional: the day to look at the customer again.
    pub const CHECK_ON: &str = "check_on";
}

/// The path that deletes the note `id`: `POST`, no body but `app`.
pub fn delete_path(id: &str) -> String {
    format!("{}/{id}/delete", crate::path::NOTES)
}

/// `{"notes": [...]}`: every note of the customer, newest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NotesPage {
    pub notes: Vec<Note>,
}

/// One note. A deleted note keeps its ID, author and time, loses its text
/// and `check_on`, and names who deleted it and when.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Note {
    pub id: String,
    /// Who wrote it, as the audit log names them (the SSO identity).
    pub author: String,
    pub text: String,
    /// `YYYY-MM-DD`.
    pub check_on: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub deleted: Option<NoteDeletion>,
}

/// Who deleted a note, and when (RFC 3339).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NoteDeletion {
    pub by: String,
    pub at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_back_and_a_deleted_note_says_by_whom() {
        let page = NotesPage {
            notes: vec![Note {
                id: "n1".into(),
                author: "ana@example.com".into(),
                text: String::new(),
                check_on: None,
                created_at: "2026-12-03T10:00:00Z".into(),
                deleted: Some(NoteDeletion {
                    by: "lead@example.com".into(),
                    at: "2026-12-04T10:00:00Z".into(),
                }),
            }],
        };
        let json = serde_json::to_string(&page).unwrap();
        assert_eq!(serde_json::from_str::<NotesPage>(&json).unwrap(), page);
        assert_eq!(delete_path("n1"), "api/notes/n1/delete");
    }
}
