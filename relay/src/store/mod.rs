//! The relay's store: what Adapty's API cannot give back. Adapty's webhook
//! events, the relay's own changes, and an index of every customer seen
//! (by email, transaction ID, ID), for search and the event feed.
//!
//! SQLite is the embedded default (one file); PostgreSQL lets several
//! relays share one. Both run the same portable SQL through sqlx's `Any`
//! driver, and the same versioned migrations (`relay/migrations`) at start.
//! Split by what is done with it: `ingest` writes, `search` and `feed`
//! read, `notes` keeps support's notes, `retention` forgets, `erasure`
//! forgets one customer for good and remembers that it did; `address` is where the store is.

pub mod address;
pub mod cursor;
pub mod erasure;
pub mod feed;
pub mod ingest;
pub mod notes;
pub mod retention;
pub mod search;

pub use address::StoreAddress;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Executor;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a request waits for a connection: short, so that a store that
/// is gone answers 503 well within Adapty's 10 seconds (it retries).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long SQLite waits for another writer's lock before it gives up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 2_000;
/// What one request's read or write may take, waiting included: within
/// Adapty's 10 seconds for the webhook, and short for a person waiting.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(6);
/// What maintenance (pruning, a purge) may take.
pub const MAINTENANCE_DEADLINE: Duration = Duration::from_secs(600);
const MIGRATION_DEADLINE: Duration = Duration::from_secs(60);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The store; asked only once its schema is known to be up to date.
pub struct Store {
    pool: AnyPool,
    address: StoreAddress,
    /// Set once `migrate` has succeeded.
    ready: AtomicBool,
    /// Every write goes through it (`ingest`).
    writer: ingest::Writer,
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
    /// A store not connected yet: nothing is asked of it until `migrate`
    /// has succeeded once (`Err` only for an address sqlx cannot read).
    /// The relay starts with it whether or not the store answers: search
    /// and the feed wait for it, lookups and changes never do.
    pub fn lazy(address: &StoreAddress) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let sqlite = address.is_sqlite();
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 8 })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    let settings = if sqlite {
                        // WAL: readers never wait for the writer. FULL: an
                        // event acknowledged to Adapty survives a power cut.
                        // secure_delete: an erased customer's rows are
                        // overwritten, not left in free pages.
                        format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                             PRAGMA secure_delete = ON;"
                        )
                    } else {
                        // The server's own bounds, behind the relay's
                        // deadlines: a lock someone holds open in psql, or a
                        // transaction left idle, cannot hold a connection.
                        "SET lock_timeout = '5s'; SET statement_timeout = '120s'; \
                         SET idle_in_transaction_session_timeout = '60s';"
                            .to_owned()
                    };
                    connection.execute(&*settings).await?;
                    Ok(())
                })
            })
            .connect_lazy(&address.connect_url())
            .map_err(|error| StoreError(format!("cannot use the store {address}: {error}")))?;
        Ok(Store {
            writer: ingest::Writer::start(pool.clone()),
            pool,
            address: address.clone(),
            ready: AtomicBool::new(false),
        })
    }

    /// Connects (creating the SQLite file if need be) and applies the
    /// migrations not applied yet; on PostgreSQL several relays starting
    /// at once take turns (the migrator holds an advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let address = &self.address;
        tokio::time::timeout(MIGRATION_DEADLINE, MIGRATOR.run(&self.pool))
            .await
            .map_err(|_| StoreError(format!("the store {address} did not answer in time")))?
            .map_err(|error| {
                StoreError(format!(
                    "cannot bring the store {address} up to date: {error}"
                ))
            })?;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// `lazy` then `migrate`, for tools that need the store at once.
    pub async fn open(address: &StoreAddress) -> Result<Store, StoreError> {
        let store = Store::lazy(address)?;
        store.migrate().await?;
        Ok(store)
    }

    /// Tries `migrate` until it succeeds, waiting longer between tries
    /// (up to a minute), saying each failure once in the log.
    pub async fn migrate_until_ready(&self) {
        let mut wait = Duration::from_secs(1);
        loop {
            if self.ready.load(Ordering::Acquire) {
                return;
            }
            match self.migrate().await {
                Ok(()) => {
                    tracing::info!(store = %self.address, "store ready");
                    return;
                }
                Err(error) => tracing::error!(
                    %error,
                    retry_in_secs = wait.as_secs(),
                    "the store is not ready: search and Adapty's events wait for it; lookups \
                     and changes go on"
                ),
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(60));
        }
    }

    /// Runs one of the store's operations within `deadline`, once the
    /// store is ready: a store that hangs (a half-open connection, a lock)
    /// costs a request this long at most.
    async fn bounded<T>(
        &self,
        deadline: Duration,
        operation: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if !self.ready.load(Ordering::Acquire) {
            return Err(StoreError(
                "the store is not ready yet (its first connection or migration has not \
                 succeeded; the relay's log says why)"
                    .into(),
            ));
        }
        tokio::time::timeout(deadline, operation)
            .await
            .map_err(|_| StoreError(format!("the store did not answer within {deadline:?}")))?
    }

    /// Where it is, without its password.
    pub fn address(&self) -> &StoreAddress {
        &self.address
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
