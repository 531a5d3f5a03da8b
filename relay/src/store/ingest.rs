//! What the store is given: Adapty's events (from the webhook), the
//! relay's own changes, and the customers its lookups fetched.
//!
//! Every write goes through one writer task (`Writer`), which commits
//! whatever has queued up meanwhile in one transaction (group commit):
//! each commit is synced to disk, so under load many events share one
//! sync, and SQLite's one writer never waits on another's lock. `record`
//! returns once its event's transaction is committed (the webhook answers
//! 2xx only then); a batch that fails is tried again one write at a time,
//! so one bad write fails alone.

use super::{Store, StoreError};
use protocol::feed::{matched, FeedEvent};
use sqlx::any::Any;
use sqlx::{AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};

/// Writes one transaction holds at most.
const BATCH: usize = 128;
/// Writes waiting for the writer; beyond them a write is refused at once
/// (the store is too slow for the load: 503, and Adapty sends it again).
const QUEUE: usize = 4096;

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

/// One write for the writer.
enum Write {
    Event {
        app: String,
        incoming: Box<Incoming>,
        received_ms: i64,
    },
    Customer {
        app: String,
        customer: Seen,
        seen_ms: i64,
    },
}

struct Job {
    write: Write,
    done: oneshot::Sender<Result<Recorded, StoreError>>,
}

/// The writer task's queue.
pub(super) struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer on `pool`; it ends when the store is dropped.
    pub(super) fn start(pool: AnyPool) -> Writer {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(write_all(pool, jobs));
        Writer { queue }
    }

    async fn write(&self, write: Write) -> Result<Recorded, StoreError> {
        let (done, result) = oneshot::channel();
        self.queue
            .try_send(Job { write, done })
            .map_err(|_| StoreError("the store's writes are queued up; try again".into()))?;
        result
            .await
            .map_err(|_| StoreError("the store's writer stopped".into()))?
    }
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
        let write = Write::Event {
            app: app.to_owned(),
            incoming: Box::new(incoming.clone()),
            received_ms,
        };
        self.bounded(super::REQUEST_DEADLINE, self.writer.write(write))
            .await
    }

    /// Indexes a customer a lookup fetched, seen at `seen_ms`.
    pub async fn see(&self, app: &str, customer: &Seen, seen_ms: i64) -> Result<(), StoreError> {
        let write = Write::Customer {
            app: app.to_owned(),
            customer: customer.clone(),
            seen_ms,
        };
        self.bounded(super::REQUEST_DEADLINE, self.writer.write(write))
            .await
            .map(|_| ())
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

/// The writer: takes what has queued up, commits it in one transaction,
/// answers each; a failed batch is tried again one write at a time.
async fn write_all(pool: AnyPool, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let writes: Vec<&Write> = batch.iter().map(|job| &job.write).collect();
        match commit(&pool, &writes).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.done.send(Ok(result));
                }
            }
            Err(_) if batch.len() > 1 => {
                for job in batch {
                    let result = commit(&pool, &[&job.write])
                        .await
                        .map(|mut one| one.remove(0));
                    let _ = job.done.send(result);
                }
            }
            Err(error) => {
                for job in batch {
                    let _ = job.done.send(Err(error.clone()));
                }
            }
        }
    }
}

/// `writes` in one transaction, each one's result in order.
async fn commit(pool: &AnyPool, writes: &[&Write]) -> Result<Vec<Recorded>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        results.push(match write {
            Write::Event {
                app,
                incoming,
                received_ms,
            } => keep_event(&mut tx, app, incoming, *received_ms).await?,
            Write::Customer {
                app,
                customer,
                seen_ms,
            } => {
                see(&mut tx, app, customer, *seen_ms).await?;
                Recorded::New
            }
        });
    }
    tx.commit().await?;
    Ok(results)
}

/// One event, unless kept already, with its customer.
async fn keep_event(
    tx: &mut Transaction<'static, Any>,
    app: &str,
    incoming: &Incoming,
    received_ms: i64,
) -> Result<Recorded, StoreError> {
    let body = serde_json::to_string(&incoming.event)
        .map_err(|error| StoreError(format!("cannot write the event: {error}")))?;
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
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Recorded::Duplicate);
    }
    see(tx, app, &incoming.customer, incoming.at_ms).await?;
    if incoming.event.source == protocol::feed::source::ADAPTY {
        sqlx::query(
            "INSERT INTO indexed_since (app, since) VALUES ($1, $2) \
             ON CONFLICT (app) DO UPDATE SET since = \
             CASE WHEN excluded.since < indexed_since.since \
             THEN excluded.since ELSE indexed_since.since END",
        )
        .bind(app)
        .bind(received_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(Recorded::New)
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
    let mut names: Vec<(&str, &str)> = vec![(matched::PROFILE_ID, &customer.profile_id)];
    names.extend(
        [
            (
                matched::CUSTOMER_USER_ID,
                customer.customer_user_id.as_deref(),
            ),
            (matched::EMAIL, email.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, value)| Some((kind, value?))),
    );
    names.extend(
        customer
            .transactions
            .iter()
            .map(|(kind, value)| (*kind, value.as_str())),
    );
    // One statement for all of them: a round trip each was most of an
    // event's cost. (A row given twice in one statement is an error on
    // PostgreSQL: the same name twice is written once.)
    names.sort_unstable();
    names.dedup();
    let rows: Vec<String> = (0..names.len())
        .map(|n| {
            let first = 3 + n * 2;
            format!(
                "($1, ${first}, ${}, $2, ${})",
                first + 1,
                3 + names.len() * 2
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO identifiers (app, value, kind, profile_id, last_seen_at) VALUES {} \
         ON CONFLICT (app, value, kind, profile_id) DO UPDATE SET last_seen_at = \
         CASE WHEN excluded.last_seen_at > identifiers.last_seen_at \
         THEN excluded.last_seen_at ELSE identifiers.last_seen_at END",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(app).bind(&customer.profile_id);
    for (kind, value) in &names {
        query = query.bind(*value).bind(*kind);
    }
    query.bind(seen_ms).execute(&mut **tx).await?;
    Ok(())
}
