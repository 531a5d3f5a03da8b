-- The one fact kept of each erasure the relay made, so that a lookup of
-- that customer can say who erased them and when: the customer's ID as a
-- keyed hash (`id_hash`: HMAC-SHA256 under a key derived from the app's
-- Adapty key, of "customer_user_id:ID" or "profile_id:ID"), the time and
-- the author. Nothing else of the customer stays. Not pruned.
CREATE TABLE erasures (
    app TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    erased_at BIGINT NOT NULL,
    erased_by TEXT NOT NULL,
    PRIMARY KEY (app, id_hash)
);
