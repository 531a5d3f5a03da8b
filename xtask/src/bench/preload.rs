//! A store as full as a busy app's before it is measured: a million
//! customers with one event each, and one customer with 5,000 events.
//!
//! The relay's own code opens the store (and so runs its migrations); the
//! rows are then made by the database itself, a counting query feeding
//! `INSERT … SELECT`, 100,000 customers a transaction: through the webhook
//! this would take the better part of an hour, and built row by row in this
//! debug-built process it would measure sqlx's binding more than the store.
//! The SQL is the same on SQLite and PostgreSQL but for the date of an
//! event's body. Every row matches what the relay writes for Adapty's
//! `subscription_started`: the body is Adapty's example read by the relay's
//! own webhook reader, with this customer's ID, time and transaction.

use crate::run::Result;
use relay::apps::webhook_secret::Environment;
use relay::store::{Store, StoreAddress};
use relay::webhook::event::{self, Payload};
use sqlx::AnyConnection;
use sqlx::{Connection, Executor};
use std::time::Instant;

pub const CUSTOMERS: i64 = 1_000_000;
/// Digits of a customer's number: `customer-000042@example.com`.
pub const DIGITS: usize = 6;
/// The customer whose events page is measured.
pub const BUSY_PROFILE: &str = "ffffffff-0000-4000-8000-000000000001";
pub const BUSY_EVENTS: i64 = 5_000;
/// The only app of a relay without `--apps-file`.
pub const APP: &str = "default";
const CHUNK: i64 = 100_000;
/// Customer `i`'s event happened `i` times this long ago: a million fit in
/// 347 days, inside the relay's default retention (400 days), so its prune
/// at start removes none of them.
const EVENT_SPACING_MS: i64 = 30_000;

/// Customer `i` (from 0) is `customer-{i, six digits}` (customer user
/// ID), `customer-…@example.com`, transaction `100000000…` (15 digits, an
/// App Store-like ID; a first purchase is its own original), and profile
/// `00000000-0000-4000-8000-{i, twelve digits}`.
pub const USER_PREFIX: &str = "customer-";
pub const EMAIL_DOMAIN: &str = "@example.com";
pub const TRANSACTION_PREFIX: &str = "100000000";
pub const PROFILE_PREFIX: &str = "00000000-0000-4000-8000-";

/// Customer `number`'s profile ID, as the relay answers it.
pub fn profile_of(number: i64) -> String {
    format!("{PROFILE_PREFIX}{number:012}")
}

pub struct Preloaded {
    pub seconds: f64,
    pub events: i64,
}

/// What sqlx connects to (as the relay's `StoreAddress` does).
pub fn connect_url(address: &StoreAddress) -> String {
    match address {
        StoreAddress::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
        StoreAddress::Postgres(url) => url.to_string(),
    }
}

pub async fn fill(address: &StoreAddress) -> Result<Preloaded> {
    let started = Instant::now();
    let store = Store::open(address)
        .await
        .map_err(|error| error.to_string())?;
    store.close().await;
    let sqlite = address.is_sqlite();
    let mut db = AnyConnection::connect(&connect_url(address))
        .await
        .map_err(|error| format!("cannot connect to {address}: {error}"))?;
    if sqlite {
        // Only this connection: its index pages stay in memory while it loads.
        execute(&mut db, "PRAGMA cache_size = -262144").await?;
    }
    let body = body_sql(sqlite)?;
    let now_ms = relay::store::millis(chrono::Utc::now());
    let mut from = 0;
    while from < CUSTOMERS {
        let to = (from + CHUNK).min(CUSTOMERS);
        let at = format!("({now_ms} - (i + 1) * {EVENT_SPACING_MS})");
        // Zero-padded in SQL both databases read alike: the digits after a leading 1.
        let six = "substr(CAST(1000000 + i AS TEXT), 2)";
        let twelve = "substr(CAST(1000000000000 + i AS TEXT), 2)";
        let id = format!("'{PROFILE_PREFIX}' || {twelve}");
        let user = format!("'{USER_PREFIX}' || {six}");
        let email = format!("{user} || '{EMAIL_DOMAIN}'");
        let transaction = format!("'{TRANSACTION_PREFIX}' || {six}");
        let key = format!("'10000000-0000-4000-8000-' || {twelve}");
        let mut statements = vec![
            format!(
                "INSERT INTO events (app, event_key, profile_id, source, event_type, event_at, \
                 received_at, body) SELECT '{APP}', {key}, {id}, 'adapty', 'subscription_started', \
                 {at}, {at}, {body} FROM n",
                body = body
                    .replace("@KEY@", &key)
                    .replace("@AT@", &at)
                    .replace("@TXN@", &transaction),
            ),
            format!(
                "INSERT INTO profiles (app, profile_id, customer_user_id, email, last_seen_at) \
                 SELECT '{APP}', {id}, {user}, {email}, {at} FROM n"
            ),
        ];
        for (kind, value) in [
            ("profile_id", &id),
            ("customer_user_id", &user),
            ("email", &email),
            ("transaction_id", &transaction),
            ("original_transaction_id", &transaction),
        ] {
            statements.push(format!(
                "INSERT INTO identifiers (app, value, kind, profile_id, last_seen_at) \
                 SELECT '{APP}', {value}, '{kind}', {id}, {at} FROM n"
            ));
        }
        in_one_transaction(&mut db, from, to, &statements).await?;
        from = to;
        println!(
            "{from:>9} of {CUSTOMERS} customers ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    // The busy customer: 5,000 events a minute apart, each its own purchase.
    let at = format!("({now_ms} - (i + 1) * 60000)");
    let key = "'busy-' || CAST(i AS TEXT)";
    let transaction = "'200000000' || substr(CAST(1000000 + i AS TEXT), 2)";
    let statements = [
        format!(
            "INSERT INTO events (app, event_key, profile_id, source, event_type, event_at, \
             received_at, body) SELECT '{APP}', {key}, '{BUSY_PROFILE}', 'adapty', \
             'subscription_renewed', {at}, {at}, {body} FROM n",
            body = body
                .replace("@KEY@", key)
                .replace("@AT@", &at)
                .replace("@TXN@", transaction),
        ),
        format!(
            "INSERT INTO profiles (app, profile_id, customer_user_id, email, last_seen_at) \
             SELECT '{APP}', '{BUSY_PROFILE}', 'busy-customer', 'busy@example.com', {at} \
             FROM n WHERE i = 0"
        ),
        format!(
            "INSERT INTO identifiers (app, value, kind, profile_id, last_seen_at) \
             SELECT '{APP}', {transaction}, 'transaction_id', '{BUSY_PROFILE}', {at} FROM n"
        ),
        format!(
            "INSERT INTO identifiers (app, value, kind, profile_id, last_seen_at) \
             SELECT '{APP}', '{BUSY_PROFILE}', 'profile_id', '{BUSY_PROFILE}', {at} \
             FROM n WHERE i = 0"
        ),
        format!(
            "INSERT INTO indexed_since (app, since) VALUES ('{APP}', {})",
            now_ms - CUSTOMERS * EVENT_SPACING_MS
        ),
    ];
    in_one_transaction(&mut db, 0, BUSY_EVENTS, &statements).await?;
    // The load's writes on disk now, not flushed in the background while
    // the store is measured (a checkpoint of gigabytes).
    if sqlite {
        execute(&mut db, "PRAGMA wal_checkpoint(TRUNCATE)").await?;
    } else {
        // What autovacuum does on its own a minute after a load like this:
        // statistics for the planner, and the visibility map.
        execute(&mut db, "VACUUM ANALYZE").await?;
        execute(&mut db, "CHECKPOINT").await?;
    }
    let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(&mut db)
        .await
        .map_err(|error| error.to_string())?;
    let _ = db.close().await;
    Ok(Preloaded {
        seconds: started.elapsed().as_secs_f64(),
        events,
    })
}

/// Each statement over the numbers `from..to` as `n(i)`, committed together.
async fn in_one_transaction(
    db: &mut AnyConnection,
    from: i64,
    to: i64,
    statements: &[String],
) -> Result {
    let mut tx = db.begin().await.map_err(|error| error.to_string())?;
    for statement in statements {
        sqlx::query(&format!(
            "WITH RECURSIVE n(i) AS (SELECT CAST($1 AS BIGINT) UNION ALL \
             SELECT i + 1 FROM n WHERE i + 1 < $2) {statement}"
        ))
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await
        .map_err(|error| format!("preloading the store: {error}\n{statement}"))?;
    }
    tx.commit().await.map_err(|error| error.to_string())
}

async fn execute(db: &mut AnyConnection, sql: &str) -> Result {
    db.execute(sql)
        .await
        .map(|_| ())
        .map_err(|error| format!("{sql}: {error}"))
}

/// The body the relay keeps for Adapty's example event, as SQL: literal
/// JSON around `@KEY@`, `@AT@` and `@TXN@`, for the caller to replace with
/// SQL of the row's own.
fn body_sql(sqlite: bool) -> Result<String> {
    let example = include_str!("../../../fixtures/webhook-subscription-started.json");
    let read = event::read(
        example.as_bytes(),
        chrono::Utc::now(),
        Environment::Production,
    );
    let Ok(Payload::Event(mut incoming)) = read else {
        return Err("the relay no longer reads Adapty's example event".into());
    };
    incoming.event.id = "@KEY@".into();
    incoming.event.at = "@AT@".into();
    incoming.event.transaction_id = Some("@TXN@".into());
    incoming.event.original_transaction_id = Some("@TXN@".into());
    let json = serde_json::to_string(&incoming.event).map_err(|error| error.to_string())?;
    // The time as the relay writes it (RFC 3339, UTC, whole seconds here).
    let date = if sqlite {
        "strftime('%Y-%m-%dT%H:%M:%SZ', @AT@ / 1000, 'unixepoch')"
    } else {
        "to_char(to_timestamp(@AT@ / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    };
    let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let mut sql = Vec::new();
    let mut rest = json.as_str();
    while let Some(start) = rest.find('@') {
        let end = start
            + 1
            + rest[start + 1..]
                .find('@')
                .ok_or("an unclosed placeholder")?;
        sql.push(literal(&rest[..start]));
        sql.push(match &rest[start..=end] {
            "@AT@" => date.to_owned(),
            hole => hole.to_owned(),
        });
        rest = &rest[end + 1..];
    }
    sql.push(literal(rest));
    Ok(sql.join(" || "))
}
