//! One customer's events, Adapty's and the relay's own, newest first, a
//! page at a time; in the order they happened, not the order they came.

use super::cursor::Cursor;
use super::{Store, StoreError};
use protocol::feed::{source, EventsPage, FeedEvent, EVENTS_PAGE};

impl Store {
    /// The page after `before` (the first page without it).
    pub async fn events(
        &self,
        app: &str,
        profile_id: &str,
        before: Option<&Cursor>,
    ) -> Result<EventsPage, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            // One more than a page: whether there is a next page.
            let limit = EVENTS_PAGE as i64 + 1;
            let rows: Vec<(String, i64, String)> = match before {
                None => {
                    sqlx::query_as(
                        "SELECT event_key, event_at, body FROM events \
                         WHERE app = $1 AND profile_id = $2 \
                         ORDER BY event_at DESC, event_key DESC LIMIT $3",
                    )
                    .bind(app)
                    .bind(profile_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
                }
                Some(cursor) => {
                    sqlx::query_as(
                        "SELECT event_key, event_at, body FROM events \
                         WHERE app = $1 AND profile_id = $2 \
                           AND (event_at < $3 OR (event_at = $3 AND event_key < $4)) \
                         ORDER BY event_at DESC, event_key DESC LIMIT $5",
                    )
                    .bind(app)
                    .bind(profile_id)
                    .bind(cursor.at_ms)
                    .bind(&cursor.key)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
                }
            };
            let more = rows.len() > EVENTS_PAGE;
            let mut events = Vec::with_capacity(EVENTS_PAGE);
            let mut last = None;
            for (key, at_ms, body) in rows.into_iter().take(EVENTS_PAGE) {
                // Written by this relay from the same type: a row that does not
                // read back is a bug, shown as such rather than failing the page.
                let event = serde_json::from_str(&body).unwrap_or_else(|_| FeedEvent {
                    id: key.clone(),
                    kind: "unreadable".into(),
                    ..FeedEvent::default()
                });
                events.push(event);
                last = Some(Cursor { at_ms, key });
            }
            // With the first page only: the panel asks for it once.
            let email = match before {
                Some(_) => None,
                None => sqlx::query_scalar::<_, Option<String>>(
                    "SELECT email FROM profiles WHERE app = $1 AND profile_id = $2",
                )
                .bind(app)
                .bind(profile_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
            };
            Ok(EventsPage {
                events,
                next: last.filter(|_| more).map(|cursor| cursor.encode()),
                email,
            })
        })
        .await
    }

    /// The customer's newest event from Adapty's webhooks as stored (a
    /// `FeedEvent`'s JSON), for a bulk run's "last event"; `None` when the
    /// store has none.
    pub async fn last_adapty_event(
        &self,
        app: &str,
        profile_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.bounded(super::REQUEST_DEADLINE, async {
            Ok(sqlx::query_scalar(
                "SELECT body FROM events WHERE app = $1 AND profile_id = $2 AND source = $3 \
                 ORDER BY event_at DESC, event_key DESC LIMIT 1",
            )
            .bind(app)
            .bind(profile_id)
            .bind(source::ADAPTY)
            .fetch_optional(&self.pool)
            .await?)
        })
        .await
    }
}
