//! The relay's store: what Adapty's API cannot give back. Adapty's webhook
//! events, the relay's own changes, and an index of every customer seen
//! (by email, transaction ID, ID), for search and the event feed.
//!
//! SQLite is the embedded default (one file); PostgreSQL lets several
//! relays share one. Both run the same portable SQL through sqlx's `Any`
//! driver, and the same versioned migrations (`relay/migrations`) at start.
//! Split by what is done with it: `ingest` writes, `search` and `feed`
//! read, `retention` forgets; `address` is where the store is.

pub mod address;
pub mod cursor;
pub mod feed;
pub mod ingest;
pub mod retention;
pub mod search;

pub use address::StoreAddress;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Executor;
use std::fmt;
use std::time::Duration;

/// How long a request waits for a connection: short, so that a store that
/// is gone answers 503 well within Adapty's 10 seconds (it retries).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long SQLite waits for another writer's lock before it gives up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 2_000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// An open store, its schema up to date.
pub struct Store {
    pool: AnyPool,
    address: StoreAddress,
}

/// Why the store could not do something; says what failed, never the
/// store's password.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        // sqlx's messages name the failure (a timeout, a refused connection,
        // a locked or read-only database), never the connection's URL.
        StoreError(error.to_string())
    }
}

impl Store {
    /// Connects, creating the SQLite file if need be, and applies the
    /// migrations not applied yet (several relays at once take turns: the
    /// migrator holds a lock).
    pub async fn open(address: &StoreAddress) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let sqlite = address.is_sqlite();
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 8 })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL: readers never wait for the writer. FULL: an
                        // event acknowledged to Adapty survives a power cut.
                        connection
                            .execute(&*format!(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"
                            ))
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&address.connect_url())
            .await
            .map_err(|error| StoreError(format!("cannot open the store {address}: {error}")))?;
        MIGRATOR.run(&pool).await.map_err(|error| {
            StoreError(format!(
                "cannot bring the store {address} up to date: {error}"
            ))
        })?;
        Ok(Store {
            pool,
            address: address.clone(),
        })
    }

    /// Where it is, without its password.
    pub fn address(&self) -> &StoreAddress {
        &self.address
    }

    /// Whether the store answers now (for `/healthz`-like checks and tests).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since 1970 UTC: how the store keeps every time.
pub fn millis(time: chrono::DateTime<chrono::Utc>) -> i64 {
    time.timestamp_millis()
}

/// The store's time as RFC 3339 (UTC, seconds; milliseconds when it has some).
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
