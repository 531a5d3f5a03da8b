//! Finding a customer by what a ticket holds: exact matches only, on any
//! identifier the store has seen (an email in any letter case).

use super::{rfc3339, Store, StoreError};
use protocol::feed::{matched, SearchAnswer, SearchMatch, SEARCH_LIMIT};

/// One identifier that matched, with its customer.
#[derive(sqlx::FromRow)]
struct Row {
    value: String,
    kind: String,
    profile_id: String,
    customer_user_id: Option<String>,
    email: Option<String>,
    last_seen_at: i64,
}

impl Store {
    pub async fn search(&self, app: &str, text: &str) -> Result<SearchAnswer, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            // The text as typed, lower-case (an email), and as a profile ID
            // in any letter case: one `IN` on the identifiers' key (an `OR`
            // of kinds would walk every identifier of the app on SQLite);
            // which form may match which kind is decided below.
            let lower = text.to_lowercase();
            let profile_id = uuid::Uuid::parse_str(text)
                .map_or_else(|_| text.to_owned(), |id| id.hyphenated().to_string());
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT i.value, i.kind, p.profile_id, p.customer_user_id, p.email, \
                   p.last_seen_at \
                 FROM identifiers i JOIN profiles p \
                   ON p.app = i.app AND p.profile_id = i.profile_id \
                 WHERE i.app = $1 AND i.value IN ($2, $3, $4) \
                 ORDER BY p.last_seen_at DESC, p.profile_id LIMIT $5",
            )
            .bind(app)
            .bind(text)
            .bind(&lower)
            .bind(&profile_id)
            .bind((SEARCH_LIMIT * 10) as i64)
            .fetch_all(&self.pool)
            .await?;
            // A customer may match by two identifiers (a transaction that
            // is its own original): one entry each.
            let rows = rows.into_iter().filter(|row| {
                row.value == text
                    || (row.kind == matched::EMAIL && row.value == lower)
                    || (row.kind == matched::PROFILE_ID && row.value == profile_id)
            });
            let mut matches: Vec<SearchMatch> = Vec::new();
            for Row {
                value: _,
                kind,
                profile_id,
                customer_user_id,
                email,
                last_seen_at,
            } in rows
            {
                if matches.len() == SEARCH_LIMIT {
                    break;
                }
                if matches.iter().any(|known| known.profile_id == profile_id) {
                    continue;
                }
                matches.push(SearchMatch {
                    profile_id,
                    customer_user_id,
                    email,
                    matched: kind,
                    last_seen_at: rfc3339(last_seen_at),
                });
            }
            let since: Option<(i64,)> =
                sqlx::query_as("SELECT since FROM indexed_since WHERE app = $1")
                    .bind(app)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(SearchAnswer {
                matches,
                indexed_since: since.map(|(since,)| rfc3339(since)),
            })
        })
        .await
    }
}
