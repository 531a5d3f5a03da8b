//! Access changes over real sockets: off by default, only for people in the
//! role, only the panel's own JSON, every rule checked before Adapty, never
//! repeated once sent, each of Adapty's documented refusals in words, and
//! two audit lines around every call that reaches Adapty.

mod common;

use axum::routing::{get, post};
use axum::{Json, Router};
use common::*;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use relay::demo::StandIn;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const GRANT: &str = "api/access-level/grant";
const REVOKE: &str = "api/access-level/revoke";

/// A lead, as the proxy would name them.
const LEAD: &[(&str, &str)] = &[(EMAIL, "lead@example.com"), (GROUPS, "support, leads")];

fn grant_body() -> Value {
    json!({
        "customer_user_id": "demo-play-store", "access_level_id": "premium",
        "expires_at": "2099-01-01T00:00:00Z", "reason": "goodwill, ticket 4411"
    })
}

/// A POST as the panel makes it: `X-CSRF: 1`, JSON, and these headers.
async fn post_json(
    relay: &Relay,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, axum::http::HeaderMap, Value) {
    let mut request = client()
        .post(format!("{}/{path}", relay.url))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, headers, json)
}

async fn session(relay: &Relay, headers: &[(&str, &str)]) -> Value {
    let (status, _, body) = get_json_with(&format!("{}/api/session", relay.url), headers).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn changes_are_off_by_default_and_nothing_reaches_adapty() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(&upstream, KEY, &["--identity-header", EMAIL])).await;
    let me = &[(EMAIL, "lead@example.com")];
    for path in [GRANT, REVOKE] {
        let (status, headers, body) = post_json(&relay, path, &grant_body(), me).await;
        assert_eq!(
            (status, error_code(&body)),
            (403, "changes_disabled"),
            "{path}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--allow-access-changes"),
            "{body}"
        );
        assert_eq!(headers["cache-control"], "no-store");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "Adapty was never asked");
    assert_eq!(session(&relay, me).await["can_change_access"], false);
    let audit = relay.audit_lines();
    assert_eq!(audit.len(), 2, "{audit:?}");
    for line in &audit {
        assert_eq!(line["phase"], "refused");
        assert_eq!(line["outcome"], "changes_disabled");
        assert_eq!(line["actor"], "lead@example.com");
    }
}

#[tokio::test]
async fn only_people_in_the_role_may_change_and_the_session_says_who() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let relay = start(changes_on(&stand_in.base_url, &stand_in.key, &[])).await;
    let not_leads: &[&[(&str, &str)]] = &[
        &[(EMAIL, "agent@example.com")],
        &[(EMAIL, "agent@example.com"), (GROUPS, "support,billing")],
        &[(EMAIL, "agent@example.com"), (GROUPS, "leadsx, Leads")],
        &[(EMAIL, "agent@example.com"), (GROUPS, "")],
    ];
    for headers in not_leads {
        let (status, _, body) = post_json(&relay, GRANT, &grant_body(), headers).await;
        assert_eq!(
            (status, error_code(&body)),
            (403, "changes_not_allowed"),
            "{headers:?}"
        );
        assert_eq!(session(&relay, headers).await["can_change_access"], false);
    }
    // A roles header given twice grants no role: which one the proxy set is unknown.
    let response = client()
        .post(format!("{}/{GRANT}", relay.url))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .header(EMAIL, "agent@example.com")
        .header(GROUPS, "support")
        .header(GROUPS, "leads")
        .body(grant_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(stand_in.changes_received.load(Ordering::SeqCst), 0);

    let (status, _, body) = post_json(&relay, GRANT, &grant_body(), &[]).await;
    assert_eq!((status, error_code(&body)), (401, "unauthenticated"));

    assert_eq!(
        session(&relay, LEAD).await,
        json!({"actor": "lead@example.com", "dashboard_profile_url": null, "can_change_access": true,
            "apps": [{"id": "default", "name": "Default app", "can_change_access": true, "can_edit_profile": false, "can_erase": false,
             "can_delete_any_note": false, "can_bulk_check": false}],
            "store": false, "bulk_max_ids": 5000})
    );
    let (status, headers, body) = post_json(&relay, GRANT, &grant_body(), LEAD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["data"]["customer_user_id"], "demo-play-store");
    let premium = &body["data"]["access_levels"][0];
    assert_eq!(premium["access_level_id"], "premium");
    assert_eq!(premium["expires_at"], "2099-01-01T00:00:00.000000+00:00");
    assert_eq!(stand_in.changes_received.load(Ordering::SeqCst), 1);
}

const RSA_PEM: &[u8] = include_bytes!("keys/rsa-test-only.pem");
const AUDIENCE: &str = "adapty-lookup-test-aud";
const ISSUER: &str = "https://idp.example.com";

/// A JWKS with the test's RSA key, and tokens it signs with these claims.
async fn signing() -> (String, impl Fn(Value) -> String) {
    let key = EncodingKey::from_rsa_pem(RSA_PEM).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("rsa-1".into());
    let set = JwkSet { keys: vec![jwk] };
    let router = Router::new().route("/certs", get(move || async move { Json(set.clone()) }));
    let url = format!("{}/certs", serve(router).await);
    let token = move |extra: Value| {
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = json!({"aud": AUDIENCE, "iss": ISSUER, "exp": now + 300, "iat": now,
                                "email": "lead@example.com"});
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa-1".into());
        encode(&header, &claims, &key).unwrap()
    };
    (url, token)
}

#[tokio::test]
async fn in_jwt_mode_the_role_comes_from_the_verified_claim() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let (jwks_url, token) = signing().await;
    let jwt_flags = |claim: &'static str| {
        config_with(
            &stand_in.base_url,
            &stand_in.key,
            &[
                "--jwt-header",
                "Authorization",
                "--jwks-url",
                Box::leak(jwks_url.clone().into_boxed_str()),
                "--jwt-audience",
                AUDIENCE,
                "--jwt-issuer",
                ISSUER,
                "--allow-access-changes",
                "--changes-role",
                "leads",
                "--roles-claim",
                claim,
            ],
        )
    };
    let relay = start(jwt_flags("groups")).await;
    let cases = [
        (json!({"groups": ["support", "leads"]}), 200),
        (json!({"groups": "support, leads"}), 200),
        (json!({"groups": ["support"]}), 403),
        (json!({"groups": [["leads"]]}), 403),
        (json!({"groups": 7}), 403),
        (json!({"roles": ["leads"]}), 403),
        (json!({}), 403),
    ];
    for (claims, expected) in cases {
        let bearer = format!("Bearer {}", token(claims.clone()));
        let auth = &[("Authorization", bearer.as_str())];
        let (status, _, body) = post_json(&relay, GRANT, &grant_body(), auth).await;
        assert_eq!(status, expected, "{claims}: {body}");
        assert_eq!(
            session(&relay, auth).await["can_change_access"],
            expected == 200,
            "{claims}"
        );
    }
    // A header naming the role counts for nothing beside a token.
    let bearer = format!("Bearer {}", token(json!({"groups": ["support"]})));
    let (status, _, _) = post_json(
        &relay,
        GRANT,
        &grant_body(),
        &[("Authorization", bearer.as_str()), (GROUPS, "leads")],
    )
    .await;
    assert_eq!(status, 403);

    let other_claim = start(jwt_flags("roles")).await;
    let bearer = format!("Bearer {}", token(json!({"roles": "leads"})));
    let (status, _, body) = post_json(
        &other_claim,
        GRANT,
        &grant_body(),
        &[("Authorization", bearer.as_str())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stand_in.changes_received.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn only_the_panels_own_json_calls_pass() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(changes_on(&upstream, KEY, &[])).await;
    let url = format!("{}/{GRANT}", relay.url);
    let send = |headers: Vec<(&'static str, &'static str)>, body: Vec<u8>| {
        let mut request = client().post(&url).body(body);
        for (name, value) in LEAD.iter().copied().chain(headers) {
            request = request.header(name, value);
        }
        request.send()
    };
    let body = || grant_body().to_string().into_bytes();
    let forbidden = [
        vec![("content-type", "application/json")],
        vec![
            ("x-csrf", "1"),
            ("content-type", "application/json"),
            ("sec-fetch-site", "cross-site"),
        ],
        vec![
            ("x-csrf", "1"),
            ("content-type", "application/json"),
            ("origin", "https://evil.example"),
        ],
    ];
    for headers in forbidden {
        let response = send(headers.clone(), body()).await.unwrap();
        assert_eq!(response.status(), 403, "{headers:?}");
        let answer: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(error_code(&answer), "forbidden");
    }
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut headers = vec![("x-csrf", "1")];
        headers.extend(content_type.map(|value| ("content-type", value)));
        let response = send(headers, body()).await.unwrap();
        assert_eq!(response.status(), 415, "{content_type:?}");
        let answer: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(error_code(&answer), "invalid_request");
        assert!(answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Content-Type: application/json"));
    }
    let json = vec![("x-csrf", "1"), ("content-type", "application/json")];
    // Over 4 KiB: said by its length, or found while reading a chunked body.
    let mut padded = grant_body();
    padded["reason"] = json!("r".repeat(5000));
    let response = send(json.clone(), padded.to_string().into_bytes())
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(response.headers().contains_key("content-security-policy"));
    let answer: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("4096 bytes"));
    let host = relay.url.trim_start_matches("http://");
    let padded = padded.to_string();
    let chunked: String = padded
        .as_bytes()
        .chunks(512)
        .map(|chunk| {
            format!(
                "{:x}\r\n{}\r\n",
                chunk.len(),
                String::from_utf8_lossy(chunk)
            )
        })
        .collect();
    let request = format!(
        "POST /{GRANT} HTTP/1.1\r\nHost: {host}\r\nX-CSRF: 1\r\nContent-Type: application/json\r\n\
         {EMAIL}: lead@example.com\r\n{GROUPS}: leads\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n{chunked}0\r\n\r\n"
    );
    let answer = raw_exchange(&relay.url, request.as_bytes(), Duration::from_secs(5)).await;
    let (status, body) = status_and_body(&answer);
    assert_eq!(status, 413, "chunked: {answer}");
    assert!(
        body.contains("invalid_request") && body.contains("4096 bytes"),
        "{body}"
    );

    let response = client()
        .get(&url)
        .header("x-csrf", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing reached Adapty");
}

#[tokio::test]
async fn every_rule_is_checked_before_adapty_with_the_field_named() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(changes_on(&upstream, KEY, &[])).await;
    let with = |path: &'static str, changes: Value| {
        let mut body = grant_body();
        if path == REVOKE {
            body.as_object_mut().unwrap().remove("expires_at");
        }
        for (key, value) in changes.as_object().unwrap() {
            if value == "REMOVE" {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        (path, body)
    };
    let cases = [
        (with(GRANT, json!({"admin": true})), "unknown field `admin`"),
        (
            with(GRANT, json!({"reason": "REMOVE"})),
            "missing field `reason`",
        ),
        (
            with(GRANT, json!({"access_level_id": "REMOVE"})),
            "missing field `access_level_id`",
        ),
        (
            with(GRANT, json!({"reason": " ok "})),
            "reason must have at least 3 visible characters",
        ),
        (
            with(GRANT, json!({"reason": "x".repeat(501)})),
            "reason must be at most 500 characters",
        ),
        (
            with(GRANT, json!({"access_level_id": ""})),
            "access_level_id must be 1 to 100 characters",
        ),
        (
            with(GRANT, json!({"access_level_id": "p".repeat(101)})),
            "access_level_id must be 1 to 100 characters",
        ),
        (
            with(GRANT, json!({"access_level_id": "prémium"})),
            "access_level_id must be printable ASCII",
        ),
        (
            with(GRANT, json!({"customer_user_id": "REMOVE"})),
            "give customer_user_id or profile_id",
        ),
        (
            with(
                GRANT,
                json!({"profile_id": "d8533a10-bcce-4e33-8c9d-88b05ac56559"}),
            ),
            "not both",
        ),
        (
            with(GRANT, json!({"customer_user_id": "é"})),
            "customer_user_id contains a non-ASCII character",
        ),
        (
            with(
                GRANT,
                json!({"customer_user_id": "REMOVE", "profile_id": "42"}),
            ),
            "profile_id must be a UUID",
        ),
        (
            with(GRANT, json!({"expires_at": "2099-01-01"})),
            "expires_at must be a date and time in RFC 3339 with an offset",
        ),
        (
            with(GRANT, json!({"expires_at": "2099-01-01T00:00:00"})),
            "expires_at must be a date and time in RFC 3339 with an offset",
        ),
        (
            with(GRANT, json!({"starts_at": "soon"})),
            "starts_at must be a date and time in RFC 3339",
        ),
        (
            with(GRANT, json!({"expires_at": "2020-01-01T00:00:00Z"})),
            "expires_at must be in the future",
        ),
        (
            with(
                GRANT,
                json!({"starts_at": "2099-02-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z"}),
            ),
            "expires_at must be after starts_at",
        ),
        (
            with(REVOKE, json!({"revoke_at": "2020-01-01T00:00:00Z"})),
            "revoke_at must not be in the past",
        ),
        (
            with(REVOKE, json!({"revoke_at": "2099-01-01"})),
            "revoke_at must be a date and time in RFC 3339",
        ),
        (
            with(REVOKE, json!({"expires_at": "2099-01-01T00:00:00Z"})),
            "unknown field `expires_at`",
        ),
        (
            with(REVOKE, json!({"reason": "no"})),
            "reason must have at least 3 visible characters",
        ),
    ];
    for ((path, body), expected) in cases {
        let (status, _, answer) = post_json(&relay, path, &body, LEAD).await;
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(
            (status, error_code(&answer)),
            (400, "invalid_request"),
            "{body}: {answer}"
        );
        assert!(message.contains(expected), "{body}: {message}");
    }
    let response = client()
        .post(format!("{}/{GRANT}", relay.url))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .header(EMAIL, "lead@example.com")
        .header(GROUPS, "leads")
        .body("{\"access_level_id\": \"premium\",")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "a body that is not JSON");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing reached Adapty");
}

/// Answers and faults of an upstream after a change was sent: exactly one
/// call each, never repeated, and what the agent is told.
#[tokio::test]
async fn a_change_is_never_repeated_once_it_may_have_reached_adapty() {
    let cut_off = Raw::Send(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"data\": {\"profile_id\":".to_vec(),
    );
    let stalled = Raw::SendThenStall(Vec::new(), Duration::from_secs(10));
    let cases = [
        (
            "a reset after reading the request",
            Raw::Reset,
            504,
            "outcome_unknown",
        ),
        ("a body cut off", cut_off, 504, "outcome_unknown"),
        (
            "no answer before the deadline",
            stalled,
            504,
            "outcome_unknown",
        ),
        (
            "503 (a lookup would retry)",
            http("503 Service Unavailable", "", ""),
            504,
            "outcome_unknown",
        ),
        (
            "500",
            http("500 Internal Server Error", "", "<html>"),
            504,
            "outcome_unknown",
        ),
        (
            "429",
            http(
                "429 Too Many Requests",
                "Retry-After: 7\r\n",
                r#"{"error_code":"rate_limited","status_code":429}"#,
            ),
            429,
            "rate_limited",
        ),
        (
            "200 that is not a profile",
            ok_json("<html>"),
            504,
            "outcome_unknown",
        ),
    ];
    for (name, fault, status, code) in cases {
        let (upstream, calls) = raw_upstream(vec![fault, ok_json(SEED)]).await;
        let relay = start(changes_on(
            &upstream,
            KEY,
            &["--upstream-timeout-secs", "1"],
        ))
        .await;
        let (answered, headers, body) = post_json(&relay, GRANT, &grant_body(), LEAD).await;
        assert_eq!(
            (answered, error_code(&body)),
            (status, code),
            "{name}: {body}"
        );
        if code == "outcome_unknown" {
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(
                    "the change may or may not have been applied — look the customer up again"
                ),
                "{name}: {message}"
            );
        } else {
            assert_eq!(headers["retry-after"], "7");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "{name}: sent once, never again"
        );
    }
}

/// Only a connection that failed before anything was sent is tried again.
#[tokio::test]
async fn a_refused_connection_is_tried_again_and_changes_nothing() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let relay = start(changes_on(&upstream, KEY, &[])).await;
    let (status, _, body) = post_json(
        &relay,
        REVOKE,
        &json!({
            "customer_user_id": "u", "access_level_id": "premium", "reason": "taken by mistake"
        }),
        LEAD,
    )
    .await;
    assert_eq!((status, error_code(&body)), (502, "upstream_error"));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nothing was changed"));
    let metrics = metrics(&relay.url).await;
    assert!(
        metrics.contains("relay_upstream_retries_total 2"),
        "{metrics}"
    );
    assert!(
        metrics
            .contains(r#"relay_access_changes_total{app="default",action="revoke",outcome="upstream_error"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn each_documented_refusal_has_its_own_code_and_words() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let relay = start(changes_on(&stand_in.base_url, &stand_in.key, &[])).await;
    let revoke = |customer: &str, level: &str, revoke_at: Option<&str>| {
        let mut body =
            json!({"customer_user_id": customer, "access_level_id": level, "reason": "ticket 1"});
        if let Some(at) = revoke_at {
            body["revoke_at"] = json!(at);
        }
        body
    };
    let mut unknown_level = grant_body();
    unknown_level["access_level_id"] = json!("gold");
    let mut unknown_customer = grant_body();
    unknown_customer["customer_user_id"] = json!("nobody");
    let cases = [
        (
            GRANT,
            unknown_level,
            400,
            "access_level_unknown",
            "this app has no access level \"gold\"",
        ),
        (
            GRANT,
            unknown_customer,
            404,
            "profile_not_found",
            "Adapty has no profile with this ID",
        ),
        (
            REVOKE,
            revoke("demo-play-store", "vip", None),
            400,
            "access_level_not_held",
            "the customer has no \"vip\" access level",
        ),
        // demo-sandbox's premium ends in three minutes.
        (
            REVOKE,
            revoke("demo-sandbox", "premium", Some("2099-01-01T00:00:00Z")),
            400,
            "revoke_after_expiry",
            "later than the access level's current end",
        ),
        (
            REVOKE,
            revoke("demo-expired", "premium", None),
            400,
            "revoke_after_expiry",
            "later than the access level's current end",
        ),
    ];
    for (path, body, status, code, words) in cases {
        let (answered, _, answer) = post_json(&relay, path, &body, LEAD).await;
        assert_eq!(
            (answered, error_code(&answer)),
            (status, code),
            "{body}: {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }
    assert_eq!(stand_in.changes_received.load(Ordering::SeqCst), 5);

    // Documented too, but past the relay's own checks only by a clock that
    // differs from Adapty's; and a status one page gives instead of 400.
    let raw_cases = [
        (
            http(
                "400 Bad Request",
                "Content-Type: application/json\r\n",
                r#"{"errors":[{"source":null,"errors":["Must be greater than the current time or null"]}],"error_code":"value_error","status_code":400}"#,
            ),
            REVOKE,
            "revoke_in_past",
        ),
        (
            http(
                "404 Not Found",
                "Content-Type: application/json\r\n",
                r#"{"errors":[{"source":"non_field_errors","errors":["Paid access level `premium` does not exist"]}],"error_code":"paid_access_level_does_not_exist","status_code":404}"#,
            ),
            GRANT,
            "access_level_unknown",
        ),
    ];
    for (fault, path, code) in raw_cases {
        let (upstream, calls) = raw_upstream(vec![fault]).await;
        let relay = start(changes_on(&upstream, KEY, &[])).await;
        let body = if path == REVOKE {
            revoke("u", "premium", None)
        } else {
            grant_body()
        };
        let (status, _, answer) = post_json(&relay, path, &body, LEAD).await;
        assert_eq!((status, error_code(&answer)), (400, code), "{answer}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

/// Records, at the moment Adapty is called, the audit log as it then is.
async fn upstream_that_reads_the_log(
    log: std::path::PathBuf,
    answer: &'static str,
    status: u16,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let handler = move || {
        record
            .lock()
            .unwrap()
            .push(std::fs::read_to_string(&log).unwrap_or_default());
        async move {
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json")],
                answer,
            )
        }
    };
    let router = Router::new()
        .route(
            "/api/v2/server-side-api/purchase/profile/grant/access-level/",
            post(handler.clone()),
        )
        .route(
            "/api/v2/server-side-api/purchase/profile/revoke/access-level/",
            post(handler),
        );
    (serve(router).await, seen)
}

#[tokio::test]
async fn what_is_asked_is_audited_before_adapty_and_what_came_of_it_after() {
    let not_held = r#"{"errors":[{"source":"non_field_errors","errors":["Profile `x` has no `premium` access level"]}],"error_code":"profile_paid_access_level_does_not_exist","status_code":400}"#;
    let cases = [
        ("succeeds", SEED, 200, "ok", 200, Some(200)),
        (
            "refuses",
            not_held,
            400,
            "access_level_not_held",
            400,
            Some(400),
        ),
    ];
    for (name, answer, upstream_status, outcome, status, logged_upstream) in cases {
        let dir = static_dir();
        let log = dir.join("audit.log");
        let (upstream, seen) =
            upstream_that_reads_the_log(log.clone(), answer, upstream_status).await;
        let log_flag = log.display().to_string();
        let relay = start(changes_on(&upstream, KEY, &["--audit-log", &log_flag])).await;
        let body = json!({"profile_id": "D8533A10-BCCE-4E33-8C9D-88B05AC56559", "access_level_id": "premium",
                          "revoke_at": "2099-01-01T01:00:00+01:00", "reason": "taken by mistake,\nsee ticket 9"});
        let (answered, headers, _) = post_json(
            &relay,
            REVOKE,
            &body,
            &[
                (EMAIL, "Lead@Example.com"),
                (GROUPS, "leads"),
                ("x-request-id", "req-42"),
            ],
        )
        .await;
        assert_eq!(answered, status, "{name}");
        assert_eq!(headers["x-request-id"], "req-42");

        let at_the_call = seen.lock().unwrap().clone();
        assert_eq!(at_the_call.len(), 1, "{name}");
        assert!(
            at_the_call[0].contains(r#""phase":"asked""#) && at_the_call[0].contains("req-42"),
            "{name}: the line was not written before Adapty was called: {at_the_call:?}"
        );
        let lines = relay.audit_lines();
        assert_eq!(lines.len(), 2, "{name}: {lines:?}");
        let (asked, done) = (&lines[0], &lines[1]);
        for line in [asked, done] {
            assert_eq!(line["request_id"], "req-42");
            assert_eq!(line["actor"], "lead@example.com");
            assert_eq!(line["action"], "revoke");
            assert_eq!(line["kind"], "profile_id");
            assert_eq!(line["id"], "d8533a10-bcce-4e33-8c9d-88b05ac56559");
            assert_eq!(line["access_level_id"], "premium");
            assert_eq!(line["revoke_at"], "2099-01-01T00:00:00Z");
            assert_eq!(line["reason"], "taken by mistake,\nsee ticket 9");
        }
        assert_eq!(asked["phase"], "asked");
        assert_eq!(asked.get("outcome"), None);
        assert_eq!(done["phase"], "done");
        assert_eq!(done["outcome"], outcome, "{name}");
        assert_eq!(done["status"], status);
        assert_eq!(done["upstream_status"], json!(logged_upstream));
    }

    // A timeout: the outcome line says so, with no status from Adapty.
    let (upstream, _) = raw_upstream(vec![Raw::SendThenStall(
        Vec::new(),
        Duration::from_secs(10),
    )])
    .await;
    let relay = start(changes_on(
        &upstream,
        KEY,
        &["--upstream-timeout-secs", "1"],
    ))
    .await;
    let mut lifetime = grant_body();
    lifetime["expires_at"] = Value::Null;
    let (status, _, _) = post_json(&relay, GRANT, &lifetime, LEAD).await;
    assert_eq!(status, 504);
    let lines = relay.audit_lines();
    let phases: Vec<&str> = lines
        .iter()
        .map(|line| line["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["asked", "done"]);
    assert_eq!(lines[0]["expires_at"], Value::Null, "lifetime");
    assert_eq!(lines[0]["starts_at"], Value::Null, "now");
    assert_eq!(lines[1]["outcome"], "outcome_unknown");
    assert_eq!(lines[1]["upstream_status"], Value::Null);
}

#[tokio::test]
async fn no_change_is_made_that_the_audit_log_cannot_record() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let relay = start(changes_on(
        &stand_in.base_url,
        &stand_in.key,
        &["--audit-log", "/dev/full"],
    ))
    .await;
    let (status, _, body) = post_json(&relay, GRANT, &grant_body(), LEAD).await;
    assert_eq!(
        (status, error_code(&body)),
        (503, "audit_unavailable"),
        "{body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("audit log"));
    assert_eq!(stand_in.changes_received.load(Ordering::SeqCst), 0);
    // Nor is anything looked up unaudited.
    let (status, _, body) = get_json_with(
        &format!("{}/api/profile?customer_user_id=demo-play-store", relay.url),
        LEAD,
    )
    .await;
    assert_eq!((status, error_code(&body)), (503, "audit_unavailable"));
}

#[tokio::test]
async fn each_person_has_their_own_hourly_allowance_of_changes() {
    let stand_in = StandIn::start_samples().await.unwrap();
    let relay = start(changes_on(
        &stand_in.base_url,
        &stand_in.key,
        &["--changes-per-hour", "2"],
    ))
    .await;
    for _ in 0..2 {
        let (status, _, body) = post_json(&relay, GRANT, &grant_body(), LEAD).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, headers, body) = post_json(&relay, GRANT, &grant_body(), LEAD).await;
    assert_eq!((status, error_code(&body)), (429, "rate_limited"));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 2 an hour"));
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1801).contains(&wait), "{wait}");
    assert_eq!(stand_in.changes_received.load(Ordering::SeqCst), 2);
    let other = &[(EMAIL, "other@example.com"), (GROUPS, "leads")];
    let (status, _, _) = post_json(&relay, GRANT, &grant_body(), other).await;
    assert_eq!(status, 200, "another lead has their own");
    let (status, _, _) = get_json_with(
        &format!("{}/api/profile?customer_user_id=demo-play-store", relay.url),
        LEAD,
    )
    .await;
    assert_eq!(status, 200, "lookups are not changes");
}
