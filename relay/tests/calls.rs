//! Issue 19's findings about calls, over real sockets: a client that leaves
//! cancels nothing that reached Adapty; bodies that never finish hold no
//! request slot; a 5xx is never a refusal; a change sent again with its
//! request ID is not made twice; and `/api/session` is counted as itself.

mod common;

use axum::routing::{get, post};
use axum::Router;
use common::*;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

const GRANT: &str = "api/access-level/grant";
const LEAD: &[(&str, &str)] = &[(EMAIL, "lead@example.com"), (GROUPS, "leads")];

fn grant_body() -> Value {
    json!({
        "customer_user_id": "u-1", "access_level_id": "premium",
        "expires_at": "2099-01-01T00:00:00Z", "reason": "goodwill, ticket 4411"
    })
}

fn grant_request(relay: &Relay, request_id: Option<&str>) -> reqwest::RequestBuilder {
    let mut request = client()
        .post(format!("{}/{GRANT}", relay.url))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .body(grant_body().to_string());
    for (name, value) in LEAD {
        request = request.header(*name, *value);
    }
    if let Some(id) = request_id {
        request = request.header("X-Request-Id", id);
    }
    request
}

/// An Adapty that says when a call arrived and answers only when released.
fn held_upstream(arrived: Arc<Notify>, release: Arc<Notify>) -> Router {
    let answer = move || {
        let (arrived, release) = (arrived.clone(), release.clone());
        async move {
            arrived.notify_one();
            release.notified().await;
            ([("content-type", "application/json")], SEED.to_owned())
        }
    };
    Router::new()
        .route("/api/v2/server-side-api/profile/", get(answer.clone()))
        .route(
            "/api/v2/server-side-api/purchase/profile/grant/access-level/",
            post(answer),
        )
}

/// The audit lines once `ready` holds of them, or what there is after a while.
async fn audit_when(relay: &Relay, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..100 {
        let lines = relay.audit_lines();
        if ready(&lines) {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    relay.audit_lines()
}

/// Point 1: the change was made, so its outcome is written, though no one
/// waits for it any more.
#[tokio::test]
async fn a_change_whose_client_leaves_is_finished_and_both_lines_written() {
    let (arrived, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let upstream = serve(held_upstream(arrived.clone(), release.clone())).await;
    let relay = start(changes_on(&upstream, KEY, &[])).await;
    let request = tokio::spawn(grant_request(&relay, None).send());
    arrived.notified().await;
    request.abort();
    let _ = request.await;
    // The client's connection is gone before Adapty answers.
    tokio::time::sleep(Duration::from_millis(100)).await;
    release.notify_one();
    let lines = audit_when(&relay, |lines| lines.iter().any(|l| l["phase"] == "done")).await;
    let phases: Vec<&str> = lines.iter().filter_map(|l| l["phase"].as_str()).collect();
    assert_eq!(phases, ["asked", "done"], "{lines:?}");
    assert_eq!(lines[1]["outcome"], "ok");
    assert_eq!(lines[0]["change_id"], lines[1]["change_id"]);
}

/// Point 1: a lookup that reached Adapty is written, client or not.
#[tokio::test]
async fn a_lookup_whose_client_leaves_after_adapty_was_asked_is_written() {
    let (arrived, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let upstream = serve(held_upstream(arrived.clone(), release.clone())).await;
    let relay = relay_to(&upstream, KEY).await;
    let url = format!("{}/api/profile?customer_user_id=u-1", relay.url);
    let request = tokio::spawn(async move { get_json(&url).await });
    arrived.notified().await;
    request.abort();
    let _ = request.await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    release.notify_one();
    let lines = audit_when(&relay, |lines| !lines.is_empty()).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[0]["id"], "u-1");
}

/// Point 2: many bodies announced and never sent hold their connections,
/// not the request slots: another person's lookup is answered, and each of
/// them is told it took too long.
#[tokio::test]
async fn bodies_that_never_finish_do_not_hold_the_door() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(changes_on(
        &upstream,
        KEY,
        &[
            "--max-concurrent-requests",
            "4",
            "--header-read-timeout-secs",
            "2",
        ],
    ))
    .await;
    let host = relay.url.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut socket = tokio::net::TcpStream::connect(&host).await.unwrap();
        let head = format!(
            "POST /{GRANT} HTTP/1.1\r\nHost: {host}\r\nX-CSRF: 1\r\nContent-Type: application/json\r\n\
             {EMAIL}: lead@example.com\r\n{GROUPS}: leads\r\nContent-Length: 4000\r\n\r\n{{\"reason\":"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        slow.push(socket);
    }
    let lookup = client()
        .get(format!("{}/api/profile?customer_user_id=u-1", relay.url))
        .header("X-CSRF", "1")
        .header(EMAIL, "agent@example.com")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("a lookup is answered while bodies trickle in");
    assert_eq!(lookup.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    for mut socket in slow {
        let mut answer = Vec::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer);
        let (status, body) = status_and_body(&answer);
        assert_eq!(status, 408, "{answer}");
        assert!(body.contains("did not arrive within 2 seconds"), "{body}");
    }
}

/// Point 2: a body announced larger than a change's is refused at once.
#[tokio::test]
async fn a_body_announced_too_large_is_refused_before_it_is_read() {
    let (upstream, _) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(changes_on(&upstream, KEY, &[])).await;
    let host = relay.url.trim_start_matches("http://");
    let answer = raw_exchange(
        &relay.url,
        format!(
            "POST /{GRANT} HTTP/1.1\r\nHost: {host}\r\nX-CSRF: 1\r\nContent-Type: application/json\r\n\
             Content-Length: 100000\r\nConnection: close\r\n\r\n{{"
        )
        .as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    let (status, body) = status_and_body(&answer);
    assert_eq!(status, 413, "{answer}");
    assert!(body.contains("4096 bytes"), "{body}");
}

/// Point 4: whatever a 5xx's body names, the change may have been made.
#[tokio::test]
async fn a_5xx_naming_a_refusal_leaves_a_changes_outcome_unknown() {
    for (status, body) in [
        (
            "500 Internal Server Error",
            r#"{"error_code":"profile_does_not_exist","status_code":404}"#,
        ),
        (
            "502 Bad Gateway",
            r#"{"error_code":"rate_limited","status_code":429}"#,
        ),
        (
            "503 Service Unavailable",
            r#"{"error_code":"base_error","status_code":400}"#,
        ),
    ] {
        let (upstream, calls) = raw_upstream(vec![http(
            status,
            "Content-Type: application/json\r\n",
            body,
        )])
        .await;
        let relay = start(changes_on(&upstream, KEY, &[])).await;
        let response = grant_request(&relay, None).send().await.unwrap();
        assert_eq!(response.status(), 504, "{status}");
        let answer: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(error_code(&answer), "outcome_unknown", "{status}");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "never repeated");
        let lines = relay.audit_lines();
        assert_eq!(lines[1]["outcome"], "outcome_unknown", "{lines:?}");
    }
}

/// Point 10: one request ID, one change; each change's lines carry an ID
/// of the relay's own beside the client's.
#[tokio::test]
async fn a_change_sent_again_with_its_request_id_is_refused_without_asking_adapty() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED), ok_json(SEED)]).await;
    let relay = start(changes_on(&upstream, KEY, &[])).await;
    let first = grant_request(&relay, Some("ticket-4411-grant"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let again = grant_request(&relay, Some("ticket-4411-grant"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let answer: Value = serde_json::from_str(&again.text().await.unwrap()).unwrap();
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("nothing was sent again"), "{message}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one change reached Adapty");
    let another = grant_request(&relay, Some("ticket-4412-grant"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        another.status(),
        200,
        "another request ID is another change"
    );
    let lines = relay.audit_lines();
    let phases: Vec<&str> = lines.iter().filter_map(|l| l["phase"].as_str()).collect();
    assert_eq!(
        phases,
        ["asked", "done", "refused", "asked", "done"],
        "{lines:?}"
    );
    assert_eq!(lines[0]["change_id"], lines[1]["change_id"]);
    assert_eq!(lines[0]["request_id"], "ticket-4411-grant");
    assert_eq!(lines[2]["request_id"], "ticket-4411-grant");
    assert_ne!(lines[2]["change_id"], lines[0]["change_id"]);
    assert_ne!(lines[3]["change_id"], lines[0]["change_id"]);
    for line in &lines {
        assert_eq!(line["change_id"].as_str().unwrap().len(), 36, "{line}");
    }
}

/// Found on the way (issue 18): `/api/session` is counted as itself.
#[tokio::test]
async fn the_session_route_is_counted_as_itself() {
    let (upstream, _) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = relay_to(&upstream, KEY).await;
    let (status, _, _) = get_json(&format!("{}/api/session", relay.url)).await;
    assert_eq!(status, 200);
    let metrics = metrics(&relay.url).await;
    assert!(
        metrics.contains(r#"relay_http_requests_total{route="/api/session",status="200"} 1"#),
        "{metrics}"
    );
}

/// Point 1, found again by review: a shutdown waits for a call to Adapty
/// whose client has left, so its outcome is still written.
#[tokio::test]
async fn a_shutdown_waits_for_a_lookup_whose_client_left_and_writes_its_line() {
    use std::process::Command;
    let (arrived, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let upstream = serve(held_upstream(arrived.clone(), release.clone())).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let audit_log = static_dir().join("audit.log");
    let mut child = spawn_binary(&upstream, port, &audit_log, &[]).await;
    let url = format!("{base}/api/profile?customer_user_id=u-1");
    let request = tokio::spawn(async move { get_json(&url).await });
    arrived.notified().await;
    request.abort();
    let _ = request.await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    // Adapty answers after the signal: the relay is still waiting for it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    release.notify_one();
    let exited = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exited.success());
    let text = std::fs::read_to_string(&audit_log).unwrap();
    let lookups: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["id"] == "u-1")
        .collect();
    assert_eq!(lookups.len(), 1, "{text}");
    assert_eq!(lookups[0]["outcome"], "ok", "{text}");
}

/// Point 10, found again by review: a repeat spends none of the person's
/// allowance, and an ID whose change never reached Adapty (no connection)
/// may be used again.
#[tokio::test]
async fn a_repeat_spends_no_allowance_and_an_unsent_change_frees_its_request_id() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(changes_on(&upstream, KEY, &["--changes-per-hour", "2"])).await;
    assert_eq!(
        grant_request(&relay, Some("r-1"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for _ in 0..3 {
        let again = grant_request(&relay, Some("r-1")).send().await.unwrap();
        assert_eq!(again.status(), 409);
    }
    assert_eq!(
        grant_request(&relay, Some("r-2"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the second change of two an hour: the repeats spent nothing"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // Nothing listens at this port: the change could not be sent.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let relay = start(changes_on(&nowhere, KEY, &[])).await;
    for _ in 0..2 {
        let response = grant_request(&relay, Some("r-3")).send().await.unwrap();
        assert_eq!(response.status(), 502, "not a duplicate: nothing was sent");
        let answer: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("nothing was changed"),
            "{answer}"
        );
    }
}
