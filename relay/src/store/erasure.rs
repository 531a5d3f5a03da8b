//! An erasure in the store: everything of the customer goes (events,
//! index rows, the customer's row, notes), and one
//! fact stays (who erased them, when, the ID hashed), in one transaction.

use super::{Store, StoreError};
use protocol::correction::ErasureRecord;

/// How much of the customer an erasure removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Forgotten {
    pub events: u64,
    pub index_rows: u64,
    pub notes: u64,
}

/// The customer an erasure names: the profile ID Adapty gave, the
/// customer user ID if any, and the hashes its record is kept under.
pub struct Erased<'a> {
    pub profile_id: &'a str,
    pub customer_user_id: Option<&'a str>,
    pub id_hashes: &'a [String],
    pub at_ms: i64,
    pub by: &'a str,
}

impl Store {
    /// Forgets the customer of `app` (every profile of theirs the store
    /// knows by either ID) and keeps the erasure's record.
    pub async fn erase(&self, app: &str, erased: &Erased<'_>) -> Result<Forgotten, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            let mut tx = self.pool.begin().await?;
            let mut profile_ids = vec![erased.profile_id.to_owned()];
            if let Some(customer_user_id) = erased.customer_user_id {
                // Every profile the store has under the customer user ID:
                // by its row, or by its index only.
                let others: Vec<String> = sqlx::query_scalar(
                    "SELECT profile_id FROM profiles WHERE app = $1 AND customer_user_id = $2 \
                     UNION SELECT profile_id FROM identifiers \
                     WHERE app = $1 AND value = $2 AND kind = $3",
                )
                .bind(app)
                .bind(customer_user_id)
                .bind(protocol::feed::matched::CUSTOMER_USER_ID)
                .fetch_all(&mut *tx)
                .await?;
                profile_ids.extend(others);
            }
            profile_ids.sort();
            profile_ids.dedup();
            let mut forgotten = Forgotten::default();
            for profile_id in &profile_ids {
                let removed = super::retention::forget(&mut tx, app, profile_id).await?;
                forgotten.events += removed.events;
                forgotten.index_rows += removed.identifiers + removed.profiles;
                forgotten.notes += removed.notes;
            }
            for id_hash in erased.id_hashes {
                sqlx::query(
                    "INSERT INTO erasures (app, id_hash, erased_at, erased_by) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (app, id_hash) \
                     DO UPDATE SET erased_at = excluded.erased_at, erased_by = excluded.erased_by",
                )
                .bind(app)
                .bind(id_hash)
                .bind(erased.at_ms)
                .bind(erased.by)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            if self.address.is_sqlite() {
                // The deleted pages out of the write-ahead log too, now,
                // not at the next checkpoint. Best effort: done is done.
                let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&self.pool)
                    .await;
            }
            Ok(forgotten)
        })
        .await
    }

    /// The erasure kept under `id_hash`, if any.
    pub async fn erasure_of(
        &self,
        app: &str,
        id_hash: &str,
    ) -> Result<Option<ErasureRecord>, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            let row: Option<(i64, String)> = sqlx::query_as(
                "SELECT erased_at, erased_by FROM erasures WHERE app = $1 AND id_hash = $2",
            )
            .bind(app)
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.map(|(at_ms, by)| ErasureRecord {
                at: super::rfc3339(at_ms),
                by,
            }))
        })
        .await
    }
}
