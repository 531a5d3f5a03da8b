//! The store, on a real SQLite file and a real PostgreSQL: the same tests
//! on both, through the store's own API (the webhook and the API routes
//! are tested over sockets in `webhook.rs` and `search.rs`).

mod common;

use protocol::feed::{matched, source, FeedEvent, EVENTS_PAGE};
use relay::store::cursor::Cursor;
use relay::store::ingest::{Incoming, Recorded, Seen};
use relay::store::{Store, StoreAddress};
use testkit::postgres::Postgres;

/// A fresh SQLite file's address, in its own folder.
fn sqlite_address() -> (StoreAddress, ()) {
    (
        StoreAddress::Sqlite(common::static_dir().join("store.db")),
        (),
    )
}

fn event(id: &str, profile: &str, kind: &str, at_ms: i64) -> Incoming {
    Incoming {
        event: FeedEvent {
            id: id.into(),
            source: source::ADAPTY.into(),
            kind: kind.into(),
            at: relay::store::rfc3339(at_ms),
            ..FeedEvent::default()
        },
        at_ms,
        customer: Seen {
            profile_id: profile.into(),
            customer_user_id: Some(format!("user-{profile}")),
            email: Some(format!("{profile}@Example.COM")),
            transactions: vec![
                (matched::TRANSACTION_ID, format!("tx-{id}")),
                (matched::ORIGINAL_TRANSACTION_ID, format!("otx-{profile}")),
            ],
        },
    }
}

const T0: i64 = 1_780_000_000_000;

/// Everything a store must do, the same on both.
async fn behaves(store: &Store) {
    // Kept once, however often Adapty sends it.
    let first = event("e1", "p1", "subscription_started", T0);
    assert_eq!(
        store.record("main", &first, T0).await.unwrap(),
        Recorded::New
    );
    assert_eq!(
        store.record("main", &first, T0 + 5).await.unwrap(),
        Recorded::Duplicate
    );
    // Out of order: read in the order they happened.
    store
        .record(
            "main",
            &event("e3", "p1", "subscription_renewed", T0 + 2_000),
            T0 + 10,
        )
        .await
        .unwrap();
    store
        .record(
            "main",
            &event("e2", "p1", "access_level_updated", T0 + 1_000),
            T0 + 20,
        )
        .await
        .unwrap();
    let page = store.events("main", "p1", None).await.unwrap();
    let ids: Vec<&str> = page.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e3", "e2", "e1"]);
    assert_eq!(page.next, None);

    // Found by every identifier, an email in any case; only in its app.
    for (text, kind) in [
        ("p1@example.com", matched::EMAIL),
        ("P1@EXAMPLE.com", matched::EMAIL),
        ("tx-e2", matched::TRANSACTION_ID),
        ("otx-p1", matched::ORIGINAL_TRANSACTION_ID),
        ("user-p1", matched::CUSTOMER_USER_ID),
        ("p1", matched::PROFILE_ID),
    ] {
        let answer = store.search("main", text).await.unwrap();
        assert_eq!(answer.matches.len(), 1, "{text}");
        let found = &answer.matches[0];
        assert_eq!(
            (found.profile_id.as_str(), found.matched.as_str()),
            ("p1", kind),
            "{text}"
        );
        assert_eq!(found.email.as_deref(), Some("p1@example.com"));
        assert_eq!(found.last_seen_at, relay::store::rfc3339(T0 + 2_000));
        assert_eq!(answer.indexed_since, Some(relay::store::rfc3339(T0)));
    }
    assert!(store
        .search("kids", "p1@example.com")
        .await
        .unwrap()
        .matches
        .is_empty());
    assert_eq!(store.search("kids", "x").await.unwrap().indexed_since, None);
    // Exact only: a part of an email finds nothing.
    assert!(store
        .search("main", "example.com")
        .await
        .unwrap()
        .matches
        .is_empty());
    assert!(store
        .search("main", "p1@example")
        .await
        .unwrap()
        .matches
        .is_empty());

    // Two customers with one email: both, the most recently seen first.
    let mut other = event("e9", "p2", "trial_started", T0 + 9_000);
    other.customer.email = Some("p1@example.com".into());
    store.record("main", &other, T0 + 30).await.unwrap();
    let both = store.search("main", "p1@example.com").await.unwrap();
    let ids: Vec<&str> = both.matches.iter().map(|m| m.profile_id.as_str()).collect();
    assert_eq!(ids, ["p2", "p1"]);

    // A lookup indexes its customer: found without any event.
    let looked_up = Seen {
        profile_id: "p3".into(),
        customer_user_id: Some("looked-up".into()),
        email: None,
        transactions: vec![(matched::TRANSACTION_ID, "2000000815013007".into())],
    };
    store.see("main", &looked_up, T0 + 50).await.unwrap();
    let found = store.search("main", "2000000815013007").await.unwrap();
    assert_eq!(found.matches[0].profile_id, "p3");
    assert_eq!(
        store
            .profile_id_of("main", "looked-up")
            .await
            .unwrap()
            .as_deref(),
        Some("p3")
    );

    // Pages of 50, each starting right after the last, even within one
    // millisecond.
    for n in 0..(EVENTS_PAGE * 2 + 3) {
        let at = T0 + (n as i64 / 4) * 1_000;
        store
            .record(
                "main",
                &event(&format!("big-{n:03}"), "p4", "subscription_renewed", at),
                at,
            )
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut before: Option<Cursor> = None;
    loop {
        let page = store.events("main", "p4", before.as_ref()).await.unwrap();
        assert!(page.events.len() <= EVENTS_PAGE);
        seen.extend(page.events.iter().map(|e| e.id.clone()));
        match page.next {
            Some(next) => before = Some(Cursor::decode(&next).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen.len(), EVENTS_PAGE * 2 + 3);
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, none twice, none missing");

    // One customer purged: gone from search and the feed, the others stay.
    let removed = store.purge("main", "p1").await.unwrap();
    assert_eq!((removed.events, removed.profiles), (3, 1));
    assert!(store
        .events("main", "p1", None)
        .await
        .unwrap()
        .events
        .is_empty());
    assert!(store
        .search("main", "otx-p1")
        .await
        .unwrap()
        .matches
        .is_empty());
    assert_eq!(
        store
            .search("main", "p1@example.com")
            .await
            .unwrap()
            .matches
            .len(),
        1
    );

    // Pruning forgets what is older than the cutoff, and nothing newer.
    store.prune(T0 + 10_000).await.unwrap();
    assert!(store.search("main", "p2").await.unwrap().matches.is_empty());
    assert_eq!(
        store
            .search("main", "looked-up")
            .await
            .unwrap()
            .matches
            .len(),
        0
    );
    let left = store.events("main", "p4", None).await.unwrap();
    assert!(left
        .events
        .iter()
        .all(|e| e.at >= relay::store::rfc3339(T0 + 10_000)));
    assert!(!left.events.is_empty());
}

#[tokio::test]
async fn sqlite_keeps_searches_pages_and_forgets() {
    let (address, _dir) = sqlite_address();
    let store = Store::open(&address).await.unwrap();
    behaves(&store).await;
}

#[tokio::test]
async fn postgres_keeps_searches_pages_and_forgets() {
    let postgres = Postgres::start();
    let address = StoreAddress::parse(&postgres.url()).unwrap();
    let store = Store::open(&address).await.unwrap();
    behaves(&store).await;
}

#[tokio::test]
async fn reopening_keeps_everything_and_migrates_once() {
    let (address, _dir) = sqlite_address();
    {
        let store = Store::open(&address).await.unwrap();
        store
            .record("main", &event("e1", "p1", "x", T0), T0)
            .await
            .unwrap();
        store.close().await;
    }
    let store = Store::open(&address).await.unwrap();
    assert_eq!(
        store.events("main", "p1", None).await.unwrap().events.len(),
        1
    );

    let postgres = Postgres::start();
    let address = StoreAddress::parse(&postgres.url()).unwrap();
    // Two relays opening one database at once: both start.
    let (a, b) = tokio::join!(Store::open(&address), Store::open(&address));
    let (a, b) = (a.unwrap(), b.unwrap());
    a.record("main", &event("e1", "p1", "x", T0), T0)
        .await
        .unwrap();
    assert_eq!(
        b.record("main", &event("e1", "p1", "x", T0), T0)
            .await
            .unwrap(),
        Recorded::Duplicate
    );
}
