//! Notes on a customer: read newest first, added within a customer's
//! limit, deleted to a line that says who deleted them and when.

use super::{Store, StoreError};
use protocol::notes::{Note, NoteDeletion, MAX_NOTES};

/// A note to keep.
pub struct NewNote<'a> {
    pub note_id: &'a str,
    pub profile_id: &'a str,
    pub author: &'a str,
    pub text: &'a str,
    pub check_on: Option<&'a str>,
    pub at_ms: i64,
}

/// What came of adding or deleting a note, when the store answered.
#[derive(Debug, Clone, PartialEq)]
pub enum NoteOutcome {
    Done(Note),
    /// The customer has [`MAX_NOTES`] already.
    Full,
    /// No note of this ID in the app.
    Unknown,
    /// Deleted already, or not the person's to delete: its author.
    NotYours(String),
    AlreadyDeleted,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
);

fn note((id, author, body, check_on, created_at, deleted_at, deleted_by): Row) -> Note {
    Note {
        id,
        author,
        text: body,
        check_on,
        created_at: super::rfc3339(created_at),
        deleted: deleted_at.map(|at| NoteDeletion {
            by: deleted_by.unwrap_or_default(),
            at: super::rfc3339(at),
        }),
    }
}

const COLUMNS: &str = "note_id, author, body, check_on, created_at, deleted_at, deleted_by";

impl Store {
    /// The customer's notes, newest first.
    pub async fn notes(&self, app: &str, profile_id: &str) -> Result<Vec<Note>, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            let rows: Vec<Row> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM notes WHERE app = $1 AND profile_id = $2 \
                 ORDER BY created_at DESC, note_id DESC LIMIT $3"
            ))
            .bind(app)
            .bind(profile_id)
            .bind(MAX_NOTES as i64)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.into_iter().map(note).collect())
        })
        .await
    }

    /// Keeps a note, unless the customer has as many as they may.
    pub async fn add_note(&self, app: &str, new: &NewNote<'_>) -> Result<NoteOutcome, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            let mut tx = self.pool.begin().await?;
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM notes WHERE app = $1 AND profile_id = $2 \
                 AND deleted_at IS NULL",
            )
            .bind(app)
            .bind(new.profile_id)
            .fetch_one(&mut *tx)
            .await?;
            if count >= MAX_NOTES as i64 {
                return Ok(NoteOutcome::Full);
            }
            sqlx::query(
                "INSERT INTO notes (app, note_id, profile_id, author, body, check_on, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(app)
            .bind(new.note_id)
            .bind(new.profile_id)
            .bind(new.author)
            .bind(new.text)
            .bind(new.check_on)
            .bind(new.at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(NoteOutcome::Done(note((
                new.note_id.to_owned(),
                new.author.to_owned(),
                new.text.to_owned(),
                new.check_on.map(str::to_owned),
                new.at_ms,
                None,
                None,
            ))))
        })
        .await
    }

    /// Deletes a note if `by` wrote it or `any` (the notes admin role):
    /// its text goes, its row says who deleted it and when. The profile ID
    /// it was about comes back with it, for the audit line.
    pub async fn delete_note(
        &self,
        app: &str,
        note_id: &str,
        by: &str,
        any: bool,
        at_ms: i64,
    ) -> Result<(NoteOutcome, Option<String>), StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            let mut tx = self.pool.begin().await?;
            let found: Option<(String, String, Option<i64>)> = sqlx::query_as(
                "SELECT profile_id, author, deleted_at FROM notes WHERE app = $1 AND note_id = $2",
            )
            .bind(app)
            .bind(note_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((profile_id, author, deleted_at)) = found else {
                return Ok((NoteOutcome::Unknown, None));
            };
            let refusal = match () {
                _ if deleted_at.is_some() => Some(NoteOutcome::AlreadyDeleted),
                _ if author != by && !any => Some(NoteOutcome::NotYours(author)),
                _ => None,
            };
            if let Some(refusal) = refusal {
                return Ok((refusal, Some(profile_id)));
            }
            sqlx::query(
                "UPDATE notes SET body = '', check_on = NULL, deleted_at = $3, deleted_by = $4 \
                 WHERE app = $1 AND note_id = $2 AND deleted_at IS NULL",
            )
            .bind(app)
            .bind(note_id)
            .bind(at_ms)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            let row: Row = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM notes WHERE app = $1 AND note_id = $2"
            ))
            .bind(app)
            .bind(note_id)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok((NoteOutcome::Done(note(row)), Some(profile_id)))
        })
        .await
    }
}
