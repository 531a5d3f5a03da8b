//! Notes on a customer over real sockets (issue 23): kept in the store
//! (SQLite and PostgreSQL), read and added by anyone signed in, deleted
//! only by their author or the notes admin role (leaving who and when),
//! their text kept as it was written and out of the audit log.

mod common;

use common::*;
use serde_json::{json, Value};

const PROFILE: &str = "7f1c2d3e-0000-4000-8000-0000000000a7";
const ANA: &[(&str, &str)] = &[(EMAIL, "ana@example.com"), (GROUPS, "support")];
const BOB: &[(&str, &str)] = &[(EMAIL, "bob@example.com"), (GROUPS, "support")];
const CAROL: &[(&str, &str)] = &[(EMAIL, "carol@example.com"), (GROUPS, "support")];
const LEAD: &[(&str, &str)] = &[
    (EMAIL, "lead@example.com"),
    (GROUPS, "support, notes-admins"),
];

fn with_notes(extra: &[&str]) -> relay::settings::Config {
    let mut args = vec![
        "--identity-header",
        EMAIL,
        "--roles-header",
        GROUPS,
        "--notes-admin-role",
        "notes-admins",
    ];
    args.extend(extra);
    config_with("http://127.0.0.1:9", KEY, &args)
}

async fn post(
    relay: &Relay,
    path: &str,
    body: Option<&Value>,
    who: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = client()
        .post(format!("{}/{path}", relay.url))
        .header("X-CSRF", "1");
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    for (name, value) in who {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn notes(relay: &Relay, who: &[(&str, &str)]) -> Vec<Value> {
    let (status, headers, page) = get_json_with(
        &format!("{}/api/notes?profile_id={PROFILE}", relay.url),
        who,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(headers["cache-control"], "no-store");
    page["notes"].as_array().unwrap().clone()
}

#[tokio::test]
async fn without_a_store_notes_say_how_to_set_them_up() {
    let relay = start(with_notes(&[])).await;
    let (status, _, body) = get_json_with(
        &format!("{}/api/notes?profile_id={PROFILE}", relay.url),
        ANA,
    )
    .await;
    assert_eq!((status, error_code(&body)), (404, "store_not_configured"));
    let (status, body) = post(
        &relay,
        "api/notes",
        Some(&json!({"profile_id": PROFILE, "text": "x"})),
        ANA,
    )
    .await;
    assert_eq!((status, error_code(&body)), (404, "store_not_configured"));
}

#[tokio::test]
async fn two_people_add_and_read_notes_and_only_the_author_or_an_admin_deletes() {
    for backend in BACKENDS {
        let (store, _guard) = open_store(backend).await;
        let (relay, _) = start_stored(with_notes(&[]), store.clone()).await;
        let html =
            "<b>granted</b> 7 days <script>alert(1)</script> — check https://status.example.com";
        let (status, ana_note) = post(
            &relay,
            "api/notes",
            Some(&json!({"profile_id": PROFILE, "text": html, "check_on": "2026-12-10"})),
            ANA,
        )
        .await;
        assert_eq!(status, 200, "{backend:?}: {ana_note}");
        assert_eq!(ana_note["author"], "ana@example.com");
        assert_eq!(ana_note["text"], html, "kept as written, never rewritten");
        assert_eq!(ana_note["check_on"], "2026-12-10");
        // Two notes in one millisecond have no order of their own.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let (status, bob_note) = post(
            &relay,
            "api/notes",
            Some(&json!({"profile_id": PROFILE.to_uppercase(), "text": "customer called again"})),
            BOB,
        )
        .await;
        assert_eq!(status, 200, "{bob_note}");

        // Both read both, newest first, the profile ID in any case.
        for who in [ANA, BOB] {
            let notes = notes(&relay, who).await;
            let authors: Vec<&str> = notes
                .iter()
                .map(|n| n["author"].as_str().unwrap())
                .collect();
            assert_eq!(
                authors,
                ["bob@example.com", "ana@example.com"],
                "{backend:?}"
            );
        }

        // Carol may not delete Ana's note; the refusal names the author.
        let ana_delete = format!("api/notes/{}/delete", ana_note["id"].as_str().unwrap());
        let (status, body) = post(&relay, &ana_delete, None, CAROL).await;
        assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ana@example.com"));
        assert_eq!(notes(&relay, ANA).await[1]["text"], html, "still there");

        // Ana deletes her own; the lead (notes admin) deletes Bob's.
        let (status, deleted) = post(&relay, &ana_delete, None, ANA).await;
        assert_eq!(status, 200, "{deleted}");
        assert_eq!(deleted["deleted"]["by"], "ana@example.com");
        assert_eq!(deleted["text"], "", "a deleted note's text goes");
        let bob_delete = format!("api/notes/{}/delete", bob_note["id"].as_str().unwrap());
        let (status, deleted) = post(&relay, &bob_delete, None, LEAD).await;
        assert_eq!(status, 200, "{deleted}");
        assert_eq!(deleted["deleted"]["by"], "lead@example.com");
        let (status, body) = post(&relay, &bob_delete, None, LEAD).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_request"),
            "{body}"
        );
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deleted already"));
        let left = notes(&relay, CAROL).await;
        assert_eq!(left.len(), 2, "a deleted note leaves its line");
        assert!(left.iter().all(|note| note["deleted"]["at"].is_string()));

        // The session says who may delete anyone's notes.
        let (_, _, lead) = get_json_with(&format!("{}/api/session", relay.url), LEAD).await;
        assert_eq!(lead["apps"][0]["can_delete_any_note"], true);
        let (_, _, ana) = get_json_with(&format!("{}/api/session", relay.url), ANA).await;
        assert_eq!(ana["apps"][0]["can_delete_any_note"], false);

        // The audit log names each note and its length, never its text.
        let lines = relay.audit_lines();
        let added: Vec<&Value> = lines
            .iter()
            .filter(|l| l["action"] == "note_add" && l["phase"] == "done")
            .collect();
        assert_eq!(added.len(), 2);
        let asked = lines
            .iter()
            .position(|l| l["action"] == "note_add" && l["phase"] == "asked")
            .unwrap();
        let done = lines
            .iter()
            .position(|l| l["action"] == "note_add" && l["phase"] == "done")
            .unwrap();
        assert!(
            asked < done,
            "the line before the store is written, then its outcome"
        );
        assert_eq!(added[0]["note_id"], ana_note["id"]);
        assert_eq!(added[0]["text_chars"], html.chars().count());
        assert_eq!(added[0]["id"], PROFILE);
        let text = std::fs::read_to_string(relay.audit_log.as_ref().unwrap()).unwrap();
        assert!(
            !text.contains("granted") && !text.contains("called again"),
            "{text}"
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l["action"] == "note_delete" && l["phase"] == "done")
                .count(),
            4,
            "the refused, the two done, the repeat"
        );
        assert!(
            lines.iter().any(|l| l["kind"] == "notes"),
            "reads are audited too"
        );

        // `relay store purge` takes the notes with the rest.
        let removed = store
            .purge(relay::apps::config::DEFAULT_APP_ID, PROFILE)
            .await
            .unwrap();
        assert_eq!(removed.notes, 2, "{backend:?}");
        assert!(notes(&relay, ANA).await.is_empty());
    }
}

#[tokio::test]
async fn every_rule_is_named_and_nothing_is_kept() {
    let (store, _guard) = open_store(Backend::Sqlite).await;
    let (relay, _) = start_stored(with_notes(&["--notes-per-hour", "2"]), store).await;
    let cases = [
        (
            json!({"profile_id": PROFILE, "text": "  "}),
            "text is empty",
        ),
        (
            json!({"profile_id": PROFILE, "text": "x".repeat(1001)}),
            "at most 1000 characters",
        ),
        (
            json!({"profile_id": PROFILE, "text": "a\u{202E}b"}),
            "invisible format character",
        ),
        (
            json!({"profile_id": PROFILE, "text": "x", "check_on": "soon"}),
            "check_on must be a day",
        ),
        (
            json!({"profile_id": "someone", "text": "x"}),
            "profile_id must be a UUID",
        ),
        (
            json!({"profile_id": PROFILE, "text": "x", "author": "ceo@example.com"}),
            "unknown field `author`",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = post(&relay, "api/notes", Some(&body), ANA).await;
        assert_eq!(
            (status, error_code(&answer)),
            (400, "invalid_request"),
            "{body}"
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
    }
    assert!(notes(&relay, ANA).await.is_empty());
    let (status, _) = post(&relay, "api/notes/not-a-note/delete", None, ANA).await;
    assert_eq!(status, 400);
    // Without the panel's header: another site's form.
    let response = client()
        .post(format!("{}/api/notes", relay.url))
        .header("Content-Type", "application/json")
        .header(EMAIL, "ana@example.com")
        .body(json!({"profile_id": PROFILE, "text": "x"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // The hourly allowance: two a person.
    let body = json!({"profile_id": PROFILE, "text": "one"});
    assert_eq!(post(&relay, "api/notes", Some(&body), ANA).await.0, 200);
    assert_eq!(post(&relay, "api/notes", Some(&body), ANA).await.0, 200);
    let (status, answer) = post(&relay, "api/notes", Some(&body), ANA).await;
    assert_eq!(
        (status, error_code(&answer)),
        (429, "rate_limited"),
        "{answer}"
    );
    assert_eq!(
        post(&relay, "api/notes", Some(&body), BOB).await.0,
        200,
        "Bob's own"
    );
}

#[tokio::test]
async fn notes_need_a_signed_in_author() {
    let (store, _guard) = open_store(Backend::Sqlite).await;
    let (relay, _) = start_stored(config_with("http://127.0.0.1:9", KEY, &[]), store).await;
    let (status, body) = post(
        &relay,
        "api/notes",
        Some(&json!({"profile_id": PROFILE, "text": "x"})),
        &[],
    )
    .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--identity-header"));
}
