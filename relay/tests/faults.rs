//! Every way Adapty can fail, from a raw TCP upstream: each becomes its own
//! JSON error within the deadline, and the relay serves the next request.

mod common;

use common::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(2);
const HTML: &str = "<html><body>Bad gateway</body></html>";

struct Case {
    name: &'static str,
    /// What the upstream does, one step per connection; then it answers properly.
    faults: Vec<Raw>,
    status: u16,
    code: &'static str,
    /// Requests the first lookup makes upstream (retries included).
    calls: usize,
}

fn cases() -> Vec<Case> {
    let truncated = Raw::Send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"data\": {\"profile_id\":".to_vec(),
    );
    let big = format!(
        r#"{{"data":{{"profile_id":"p","pad":"{}"}}}}"#,
        "x".repeat(20_000)
    );
    let big: &'static str = Box::leak(big.into_boxed_str());
    let chunked_big = Raw::Send(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
            big.len()
        )
        .into_bytes(),
    );
    vec![
        Case {
            name: "500",
            faults: vec![http("500 Internal Server Error", "", "")],
            status: 502,
            code: "upstream_error",
            calls: 1,
        },
        Case {
            name: "503 three times",
            faults: vec![http("503 Service Unavailable", "", HTML); 3],
            status: 502,
            code: "upstream_error",
            calls: 3,
        },
        Case {
            name: "HTML with 200",
            faults: vec![ok_json(HTML)],
            status: 502,
            code: "upstream_error",
            calls: 1,
        },
        Case {
            name: "malformed JSON",
            faults: vec![ok_json(r#"{"data": {"profile_id": "p""#)],
            status: 502,
            code: "upstream_error",
            calls: 1,
        },
        Case {
            name: "wrong shape",
            faults: vec![ok_json(r#"{"result": [1, 2, 3]}"#)],
            status: 502,
            code: "upstream_error",
            calls: 1,
        },
        Case {
            name: "over the size cap",
            faults: vec![ok_json(big)],
            status: 502,
            code: "upstream_too_large",
            calls: 1,
        },
        Case {
            name: "over the cap, chunked",
            faults: vec![chunked_big],
            status: 502,
            code: "upstream_too_large",
            calls: 1,
        },
        Case {
            name: "truncated body",
            faults: vec![truncated; 3],
            status: 502,
            code: "upstream_error",
            calls: 3,
        },
        Case {
            name: "connection reset",
            faults: vec![Raw::Reset; 3],
            status: 502,
            code: "upstream_error",
            calls: 3,
        },
        Case {
            name: "redirect",
            faults: vec![http(
                "302 Found",
                "Location: http://127.0.0.1:9/steal-the-key\r\n",
                "",
            )],
            status: 502,
            code: "upstream_error",
            calls: 1,
        },
        Case {
            name: "429 beyond the deadline",
            faults: vec![http(
                "429 Too Many Requests",
                "Retry-After: 30\r\n",
                r#"{"error_code":"rate_limited","status_code":429}"#,
            )],
            status: 429,
            code: "rate_limited",
            calls: 1,
        },
        Case {
            name: "stall past the deadline",
            faults: vec![Raw::SendThenStall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{".to_vec(),
                Duration::from_secs(30),
            )],
            status: 504,
            code: "upstream_timeout",
            calls: 1,
        },
    ]
}

#[tokio::test]
async fn each_fault_is_a_distinct_error_within_the_deadline_and_the_relay_recovers() {
    for case in cases() {
        let mut script = case.faults;
        script.push(ok_json(SEED));
        let (upstream, calls) = raw_upstream(script).await;
        let deadline = DEADLINE.as_secs().to_string();
        let relay = start(config_with(
            &upstream,
            KEY,
            &[
                "--upstream-timeout-secs",
                &deadline,
                "--upstream-max-bytes",
                "10000",
            ],
        ))
        .await;

        let started = Instant::now();
        let (status, headers, body) =
            get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
        let took = started.elapsed();
        assert_eq!(
            (status, error_code(&body)),
            (case.status, case.code),
            "{}: {body}",
            case.name
        );
        assert!(
            took < DEADLINE + Duration::from_millis(500),
            "{} took {took:?}",
            case.name
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            case.calls,
            "{}: upstream requests",
            case.name
        );
        if case.code == "rate_limited" {
            assert_eq!(
                headers["retry-after"], "30",
                "Adapty's Retry-After reaches the panel"
            );
        }

        let (status, _, body) =
            get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
        assert_eq!(
            status, 200,
            "{}: the next request must succeed: {body}",
            case.name
        );
    }
}

#[tokio::test]
async fn a_503_that_recovers_is_retried_into_success() {
    let (upstream, calls) = raw_upstream(vec![
        http("503 Service Unavailable", "", HTML),
        ok_json(SEED),
    ])
    .await;
    let relay = relay_to(&upstream, KEY).await;
    let (status, _, body) =
        get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let audit = relay.audit_lines();
    assert_eq!(audit[0]["upstream_status"], 200);
}

#[tokio::test]
async fn retry_after_is_honoured_when_it_fits_the_deadline() {
    let limited = http(
        "429 Too Many Requests",
        "Retry-After: 1\r\n",
        r#"{"error_code":"rate_limited"}"#,
    );
    let (upstream, calls) = raw_upstream(vec![limited, ok_json(SEED)]).await;
    let relay = relay_to(&upstream, KEY).await;
    let started = Instant::now();
    let (status, _, _) = get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as Adapty asked"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn other_client_errors_are_never_retried() {
    for status in [
        "400 Bad Request",
        "401 Unauthorized",
        "403 Forbidden",
        "404 Not Found",
    ] {
        let (upstream, calls) = raw_upstream(vec![http(status, "", "{}")]).await;
        let relay = relay_to(&upstream, KEY).await;
        let (code, _, _) = get_json(&format!("{}/api/profile?customer_user_id=u", relay.url)).await;
        assert!(code >= 400);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{status} was retried");
    }
}
