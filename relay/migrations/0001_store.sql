-- The relay's store, the same on SQLite and PostgreSQL: only portable SQL
-- (TEXT, BIGINT, composite keys, ON CONFLICT), times as milliseconds since
-- 1970 UTC.

-- Adapty's webhook events and the relay's own changes, one row each.
-- `body` is the event as the panel shows it (protocol::feed::FeedEvent).
CREATE TABLE events (
    app TEXT NOT NULL,
    event_key TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    source TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (app, event_key)
);
CREATE INDEX events_by_profile ON events (app, profile_id, event_at, event_key);
CREATE INDEX events_by_time ON events (event_at);

-- Every customer the store has seen (an event, or a lookup).
CREATE TABLE profiles (
    app TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    customer_user_id TEXT,
    email TEXT,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (app, profile_id)
);
CREATE INDEX profiles_by_customer_user_id ON profiles (app, customer_user_id);
CREATE INDEX profiles_by_last_seen ON profiles (last_seen_at);

-- What a search finds a customer by: `value` is exact, an email lower-case.
CREATE TABLE identifiers (
    app TEXT NOT NULL,
    value TEXT NOT NULL,
    kind TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (app, value, kind, profile_id)
);
CREATE INDEX identifiers_by_profile ON identifiers (app, profile_id);
CREATE INDEX identifiers_by_last_seen ON identifiers (last_seen_at);

-- Since when each app's webhook has delivered: customers are found once
-- they have an event after it.
CREATE TABLE indexed_since (
    app TEXT PRIMARY KEY,
    since BIGINT NOT NULL
);
