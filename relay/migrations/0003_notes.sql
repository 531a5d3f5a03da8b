-- Notes on a customer, written by support, kept beside Adapty's events.
-- Keyed by app and profile ID (a note added after a lookup by customer
-- user ID is found by either). A deleted note keeps its row without its
-- text: who deleted it and when. Times are milliseconds since 1970 UTC;
-- `check_on` is a day, YYYY-MM-DD.
CREATE TABLE notes (
    app TEXT NOT NULL,
    note_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    check_on TEXT,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_by TEXT,
    PRIMARY KEY (app, note_id)
);
CREATE INDEX notes_by_profile ON notes (app, profile_id, created_at);
CREATE INDEX notes_by_time ON notes (created_at);
