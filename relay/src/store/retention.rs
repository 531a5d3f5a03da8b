//! What the store forgets: everything older than the retention
//! (`--store-retention-days`, pruned daily), and one customer on request
//! (`relay store purge`, for erasure requests).

use super::{Store, StoreError};
use std::sync::Weak;
use std::time::Duration;

/// How much one customer's purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Removed {
    pub events: u64,
    pub identifiers: u64,
    pub profiles: u64,
    pub notes: u64,
}

impl Store {
    /// Forgets events that happened before `cutoff_ms`, customers and
    /// identifiers not seen since, and notes written before it.
    pub async fn prune(&self, cutoff_ms: i64) -> Result<Removed, StoreError> {
        self.bounded(super::MAINTENANCE_DEADLINE, async {
            let mut tx = self.pool.begin().await?;
            let mut removed = Removed::default();
            for (table, column, count) in [
                ("events", "event_at", &mut removed.events),
                ("identifiers", "last_seen_at", &mut removed.identifiers),
                ("profiles", "last_seen_at", &mut removed.profiles),
                ("notes", "created_at", &mut removed.notes),
            ] {
                *count = sqlx::query(&format!("DELETE FROM {table} WHERE {column} < $1"))
                    .bind(cutoff_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            // What is left starts at the cutoff at the earliest.
            sqlx::query("UPDATE indexed_since SET since = $1 WHERE since < $1")
                .bind(cutoff_ms)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(removed)
        })
        .await
    }

    /// Forgets one customer of one app: their events, identifiers, row and notes.
    pub async fn purge(&self, app: &str, profile_id: &str) -> Result<Removed, StoreError> {
        self.bounded(super::MAINTENANCE_DEADLINE, async {
            let mut tx = self.pool.begin().await?;
            let removed = forget(&mut tx, app, profile_id).await?;
            tx.commit().await?;
            Ok(removed)
        })
        .await
    }
}

/// Deletes every row of one customer of one app within `tx`: what a purge
/// and an erasure both do.
pub(super) async fn forget(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app: &str,
    profile_id: &str,
) -> Result<Removed, StoreError> {
    let mut removed = Removed::default();
    for (table, count) in [
        ("events", &mut removed.events),
        ("identifiers", &mut removed.identifiers),
        ("profiles", &mut removed.profiles),
        ("notes", &mut removed.notes),
    ] {
        *count = sqlx::query(&format!(
            "DELETE FROM {table} WHERE app = $1 AND profile_id = $2"
        ))
        .bind(app)
        .bind(profile_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(removed)
}

/// Prunes once at start and then every day, while the store is open.
pub async fn prune_daily(store: Weak<Store>, retention_days: u32) {
    let mut daily = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
    loop {
        daily.tick().await;
        let Some(store) = store.upgrade() else { return };
        let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(retention_days));
        match store.prune(cutoff.timestamp_millis()).await {
            Ok(removed) => tracing::info!(
                events = removed.events,
                customers = removed.profiles,
                retention_days,
                "store pruned"
            ),
            Err(error) => {
                tracing::warn!(%error, "the store could not be pruned; next try tomorrow")
            }
        }
    }
}
