//! What the store is given: Adapty's events (from the webhook), the
//! relay's own changes, and the customers its lookups fetched.
//!
//! An event, its customer and their identifiers are written in one
//! transaction: once `record` returns, all of it is on disk (the webhook
//! answers 2xx only then), or none of it is.

use super::{Store, StoreError};
use protocol::feed::{matched, FeedEvent};
use sqlx::any::Any;
use sqlx::Transaction;

/// A customer as something the store was given names them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    pub profile_id: String,
    pub customer_user_id: Option<String>,
    pub email: Option<String>,
    /// Store transaction IDs: `(kind, value)`, the kind one of
    /// `matched::TRANSACTION_ID` or `matched::ORIGINAL_TRANSACTION_ID`.
    pub transactions: Vec<(&'static str, String)>,
}

/// One event to keep.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// As the panel shows it; `id` is the key duplicates are known by.
    pub event: FeedEvent,
    /// `event.at` in milliseconds: events are read in this order.
    pub at_ms: i64,
    pub customer: Seen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    /// Already kept (Adapty sent it again): nothing written.
    Duplicate,
}

impl Store {
    /// Keeps one event and indexes its customer, unless an event of the
    /// same ID is kept already. `received_ms`: now.
    pub async fn record(
        &self,
        app: &str,
        incoming: &Incoming,
        received_ms: i64,
    ) -> Result<Recorded, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            let body = serde_json::to_string(&incoming.event)
                .map_err(|error| StoreError(format!("cannot write the event: {error}")))?;
            let mut tx = self.pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO events \
                 (app, event_key, profile_id, source, event_type, event_at, received_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (app, event_key) DO NOTHING",
            )
            .bind(app)
            .bind(&incoming.event.id)
            .bind(&incoming.customer.profile_id)
            .bind(&incoming.event.source)
            .bind(&incoming.event.kind)
            .bind(incoming.at_ms)
            .bind(received_ms)
            .bind(body)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                tx.rollback().await?;
                return Ok(Recorded::Duplicate);
            }
            see(&mut tx, app, &incoming.customer, incoming.at_ms).await?;
            if incoming.event.source == protocol::feed::source::ADAPTY {
                sqlx::query(
                    "INSERT INTO indexed_since (app, since) VALUES ($1, $2) \
                     ON CONFLICT (app) DO UPDATE SET since = \
                     CASE WHEN excluded.since < indexed_since.since \
                     THEN excluded.since ELSE indexed_since.since END",
                )
                .bind(app)
                .bind(received_ms)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(Recorded::New)
        })
        .await
    }

    /// Indexes a customer a lookup fetched, seen at `seen_ms`.
    pub async fn see(&self, app: &str, customer: &Seen, seen_ms: i64) -> Result<(), StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            let mut tx = self.pool.begin().await?;
            see(&mut tx, app, customer, seen_ms).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The profile ID of the customer of this customer user ID, if the
    /// store has seen them (the relay's changes may name a customer so).
    pub async fn profile_id_of(
        &self,
        app: &str,
        customer_user_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            let found: Option<(String,)> = sqlx::query_as(
                "SELECT profile_id FROM profiles WHERE app = $1 AND customer_user_id = $2 \
                 ORDER BY last_seen_at DESC LIMIT 1",
            )
            .bind(app)
            .bind(customer_user_id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(found.map(|(id,)| id))
        })
        .await
    }
}

/// The customer's row and every identifier of theirs, each with the latest
/// time seen; a name already known is kept when this one has none.
async fn see(
    tx: &mut Transaction<'static, Any>,
    app: &str,
    customer: &Seen,
    seen_ms: i64,
) -> Result<(), StoreError> {
    let email = customer.email.as_deref().map(str::to_lowercase);
    sqlx::query(
        "INSERT INTO profiles (app, profile_id, customer_user_id, email, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (app, profile_id) DO UPDATE SET \
         customer_user_id = CASE WHEN excluded.last_seen_at >= profiles.last_seen_at \
           THEN COALESCE(excluded.customer_user_id, profiles.customer_user_id) \
           ELSE COALESCE(profiles.customer_user_id, excluded.customer_user_id) END, \
         email = CASE WHEN excluded.last_seen_at >= profiles.last_seen_at \
           THEN COALESCE(excluded.email, profiles.email) \
           ELSE COALESCE(profiles.email, excluded.email) END, \
         last_seen_at = CASE WHEN excluded.last_seen_at > profiles.last_seen_at \
           THEN excluded.last_seen_at ELSE profiles.last_seen_at END",
    )
    .bind(app)
    .bind(&customer.profile_id)
    .bind(customer.customer_user_id.as_deref())
    .bind(email.as_deref())
    .bind(seen_ms)
    .execute(&mut **tx)
    .await?;
    let names = [(matched::PROFILE_ID, Some(customer.profile_id.as_str()))]
        .into_iter()
        .chain([
            (
                matched::CUSTOMER_USER_ID,
                customer.customer_user_id.as_deref(),
            ),
            (matched::EMAIL, email.as_deref()),
        ])
        .filter_map(|(kind, value)| Some((kind, value?)))
        .chain(
            customer
                .transactions
                .iter()
                .map(|(kind, value)| (*kind, value.as_str())),
        );
    for (kind, value) in names {
        sqlx::query(
            "INSERT INTO identifiers (app, value, kind, profile_id, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (app, value, kind, profile_id) \
             DO UPDATE SET last_seen_at = CASE WHEN excluded.last_seen_at > \
             identifiers.last_seen_at THEN excluded.last_seen_at \
             ELSE identifiers.last_seen_at END",
        )
        .bind(app)
        .bind(value)
        .bind(kind)
        .bind(&customer.profile_id)
        .bind(seen_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
