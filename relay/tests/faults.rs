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

/// Header values and statuses no real Adapty sends, as a hostile or broken
/// one could: each answer is the profile or a JSON error, never a dropped
/// connection, and the next lookup works.
#[tokio::test]
async fn extreme_header_values_from_adapty_are_answered_and_the_relay_goes_on() {
    let limited = |retry_after: &str| {
        http(
            "429 Too Many Requests",
            &format!("Retry-After: {retry_after}\r\n"),
            r#"{"error_code":"rate_limited","status_code":429}"#,
        )
    };
    let raw = |head: &str, body: &str| Raw::Send(format!("{head}\r\n\r\n{body}").into_bytes());
    let a_day = Some("86400");
    // (name, what the upstream does each time, status and code, Retry-After to the panel);
    // a Retry-After that is no advice is retried after the usual backoff.
    let cases: Vec<(&str, Raw, u16, &str, Option<&str>)> = vec![
        (
            "Retry-After u64::MAX",
            limited("18446744073709551615"),
            429,
            "rate_limited",
            a_day,
        ),
        (
            "Retry-After 2^64",
            limited("18446744073709551616"),
            429,
            "rate_limited",
            a_day,
        ),
        (
            "Retry-After 20 digits",
            limited("99999999999999999999"),
            429,
            "rate_limited",
            a_day,
        ),
        (
            "Retry-After far future",
            limited("Fri, 31 Dec 9999 23:59:59 GMT"),
            429,
            "rate_limited",
            a_day,
        ),
        (
            "Retry-After negative",
            limited("-5"),
            429,
            "rate_limited",
            None,
        ),
        (
            "Retry-After far past",
            limited("Thu, 01 Jan 1970 00:00:00 GMT"),
            429,
            "rate_limited",
            None,
        ),
        (
            "Retry-After garbage",
            limited("soon, maybe"),
            429,
            "rate_limited",
            None,
        ),
        (
            "503 with Retry-After u64::MAX",
            http(
                "503 Service Unavailable",
                "Retry-After: 18446744073709551615\r\n",
                "",
            ),
            502,
            "upstream_error",
            None,
        ),
        (
            "Content-Length longer than the body",
            raw(
                "HTTP/1.1 200 OK\r\nContent-Length: 99999\r\nConnection: close",
                SEED,
            ),
            502,
            "upstream_error",
            None,
        ),
        (
            "Content-Length shorter than the body",
            raw(
                "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nConnection: close",
                SEED,
            ),
            502,
            "upstream_error",
            None,
        ),
        (
            "Content-Length beyond u64",
            raw(
                "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999",
                SEED,
            ),
            502,
            "upstream_error",
            None,
        ),
        (
            "Content-Length negative",
            raw("HTTP/1.1 200 OK\r\nContent-Length: -1", SEED),
            502,
            "upstream_error",
            None,
        ),
        (
            "status 999",
            http("999 Whatever", "", SEED),
            502,
            "upstream_error",
            None,
        ),
        (
            "status 204",
            raw("HTTP/1.1 204 No Content\r\nConnection: close", ""),
            502,
            "upstream_error",
            None,
        ),
        (
            "status 304",
            raw("HTTP/1.1 304 Not Modified\r\nConnection: close", ""),
            502,
            "upstream_error",
            None,
        ),
        (
            "a lone 1xx",
            raw("HTTP/1.1 103 Early Hints", ""),
            502,
            "upstream_error",
            None,
        ),
        (
            "status 101",
            raw(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade",
                "",
            ),
            502,
            "upstream_error",
            None,
        ),
    ];
    for (name, fault, status, code, retry_after) in cases {
        // Each fault three times, so that retries meet it too; then a good answer.
        let (upstream, _) =
            raw_upstream(vec![fault.clone(), fault.clone(), fault, ok_json(SEED)]).await;
        let relay = start(config_with(
            &upstream,
            KEY,
            &["--upstream-timeout-secs", "2"],
        ))
        .await;
        let url = format!("{}/api/profile?customer_user_id=u", relay.url);
        let response = client()
            .get(&url)
            .header("X-CSRF", "1")
            .send()
            .await
            .unwrap_or_else(|error| panic!("{name}: no answer at all: {error}"));
        let got_status = response.status().as_u16();
        let got_retry_after = response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap().to_owned());
        let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap())
            .unwrap_or_else(|error| panic!("{name}: not JSON: {error}"));
        if status == 200 {
            assert_eq!(got_status, 200, "{name}: {body}");
            assert_eq!(
                body,
                serde_json::from_str::<serde_json::Value>(SEED).unwrap()
            );
        } else {
            assert_eq!(
                (got_status, error_code(&body)),
                (status, code),
                "{name}: {body}"
            );
            assert_eq!(got_retry_after.as_deref(), retry_after, "{name}");
        }
        // Until the fault is used up, every answer is JSON; then the profile.
        let mut status = 0;
        for _ in 0..3 {
            status = get_json(&url).await.0;
            if status == 200 {
                break;
            }
        }
        assert_eq!(status, 200, "{name}: the relay must go on");
    }
}
