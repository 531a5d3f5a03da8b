//! What the relay keeps of its own changes and lookups in the store: each
//! grant and revoke (who, why, what came of it) as an event of that
//! customer, and each customer a lookup fetched in the search index. The
//! audit log stays the record; the store is what the panel shows, so a
//! store that fails is logged and never fails the change or the lookup.

use super::Services;
use crate::adapty::{identifiers, Profile};
use crate::error::RelayError;
use crate::rules::change::{Change, When};
use crate::rules::lookup::Lookup;
use crate::store::ingest::{Incoming, Seen};
use chrono::{DateTime, SecondsFormat, Utc};
use protocol::feed::{source, staff_kind, FeedEvent, StaffAction};

/// What a change's answer waits, at most, for the store to keep it.
pub const RECORD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Indexes the customer of a lookup's answer, off the lookup's path.
pub fn index_lookup(services: &Services, app: &str, profile: &Profile) {
    let Some(store) = services.store.clone() else {
        return;
    };
    let bytes = profile.bytes.clone();
    let app = app.to_owned();
    tokio::spawn(async move {
        // The answer's bytes are let go before the store is waited for.
        let seen = identifiers::seen(&bytes);
        drop(bytes);
        let Some(seen) = seen else {
            return;
        };
        if let Err(error) = store.see(&app, &seen, Utc::now().timestamp_millis()).await {
            tracing::warn!(%error, "a looked-up customer could not be indexed");
        }
    });
}

/// Keeps a change that was sent (or refused by Adapty) as the customer's
/// event. `change_id` is the relay's own ID of the change.
pub async fn record_change(
    services: &Services,
    app: &str,
    change_id: &str,
    actor: &str,
    change: &Change,
    result: &Result<Profile, RelayError>,
) {
    let Some(store) = &services.store else {
        return;
    };
    let answered = result
        .as_ref()
        .ok()
        .and_then(|profile| identifiers::seen(&profile.bytes));
    let profile_id = match (&change.customer, &answered) {
        (Lookup::ProfileId(id), _) => Some(id.hyphenated().to_string()),
        (_, Some(seen)) => Some(seen.profile_id.clone()),
        (Lookup::CustomerUserId(id), None) => store.profile_id_of(app, id).await.ok().flatten(),
    };
    let Some(profile_id) = profile_id else {
        tracing::warn!(
            change_id,
            "a change is not in the store's feed: its customer's profile ID is unknown"
        );
        return;
    };
    let now = Utc::now();
    let text = |time: Option<DateTime<Utc>>| {
        time.map(|time| time.to_rfc3339_opts(SecondsFormat::Secs, true))
    };
    let (kind, starts_at, expires_at, revoke_at) = match change.when {
        When::Grant {
            starts_at,
            expires_at,
        } => (staff_kind::GRANT, text(starts_at), text(expires_at), None),
        When::Revoke { revoke_at } => (staff_kind::REVOKE, None, None, text(revoke_at)),
    };
    let outcome = result
        .as_ref()
        .err()
        .map_or("ok", |error| error.code().as_str());
    let incoming = Incoming {
        event: FeedEvent {
            id: format!("relay:{change_id}"),
            source: source::RELAY.into(),
            kind: kind.into(),
            at: crate::store::rfc3339(now.timestamp_millis()),
            staff: Some(StaffAction {
                author: actor.to_owned(),
                reason: change.reason.clone(),
                outcome: outcome.to_owned(),
                access_level_id: change.access_level_id.clone(),
                starts_at,
                expires_at,
                revoke_at,
            }),
            ..FeedEvent::default()
        },
        at_ms: now.timestamp_millis(),
        // Adapty's answer names the customer best; the profile ID is the
        // one decided above either way.
        customer: Seen {
            profile_id,
            ..answered.unwrap_or_default()
        },
    };
    if let Err(error) = store.record(app, &incoming, now.timestamp_millis()).await {
        tracing::error!(%error, change_id, "a change is not in the store's feed (it is in the audit log)");
    }
}
