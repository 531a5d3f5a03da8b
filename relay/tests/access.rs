//! Who may ask: the panel's own calls only, and only with an SSO identity,
//! plain or signed. Nothing refused here ever reaches Adapty.

mod common;

use axum::routing::get;
use axum::{Json, Router};
use common::*;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const RSA_PEM: &[u8] = include_bytes!("keys/rsa-test-only.pem");
const EC_PEM: &[u8] = include_bytes!("keys/ec-test-only.pem");
const AUDIENCE: &str = "adapty-lookup-test-aud";
const ISSUER: &str = "https://team.example.cloudflareaccess.com";

fn rsa() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PEM).unwrap()
}

fn ec() -> EncodingKey {
    EncodingKey::from_ec_pem(EC_PEM).unwrap()
}

fn other_ec() -> EncodingKey {
    EncodingKey::from_ec_pem(include_bytes!("keys/ec-other-test-only.pem")).unwrap()
}

/// The JWKS the test serves: the RSA key with its `alg`, the EC key without
/// (as some providers publish), and a count of fetches.
async fn jwks() -> (String, Arc<AtomicUsize>) {
    let mut rsa_jwk = Jwk::from_encoding_key(&rsa(), Algorithm::RS256).unwrap();
    rsa_jwk.common.key_id = Some("rsa-1".into());
    let mut ec_jwk = Jwk::from_encoding_key(&ec(), Algorithm::ES256).unwrap();
    ec_jwk.common.key_id = Some("ec-1".into());
    ec_jwk.common.key_algorithm = None;
    let set = JwkSet {
        keys: vec![rsa_jwk, ec_jwk],
    };
    let fetches = Arc::new(AtomicUsize::new(0));
    let count = fetches.clone();
    let router = Router::new().route(
        "/certs",
        get(move || {
            count.fetch_add(1, Ordering::SeqCst);
            let set = set.clone();
            async move { Json(set) }
        }),
    );
    (format!("{}/certs", serve(router).await), fetches)
}

fn claims(overrides: Value) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "aud": AUDIENCE, "iss": ISSUER, "exp": now + 300, "iat": now,
        "email": "agent@example.com", "sub": "user-123"
    });
    for (key, value) in overrides.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value.clone();
        }
    }
    claims
}

fn token(alg: Algorithm, kid: &str, key: &EncodingKey, overrides: Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    encode(&header, &claims(overrides), key).unwrap()
}

const ASSERTION: &str = "cf-access-jwt-assertion";

async fn relay_with_jwt() -> (Relay, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let (jwks_url, fetches) = jwks().await;
    let config = config_with(
        &upstream,
        KEY,
        &[
            "--jwt-header",
            ASSERTION,
            "--jwks-url",
            &jwks_url,
            "--jwt-audience",
            AUDIENCE,
            "--jwt-issuer",
            ISSUER,
        ],
    );
    (start(config).await, calls, fetches)
}

async fn lookup_with(relay: &Relay, headers: &[(&str, &str)]) -> (u16, Value) {
    let (status, _, body) = get_json_with(
        &format!("{}/api/profile?customer_user_id=u", relay.url),
        headers,
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn cross_site_requests_are_forbidden_and_never_reach_adapty() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = relay_to(&upstream, KEY).await;
    let url = format!("{}/api/profile?customer_user_id=u", relay.url);
    let cases: &[&[(&str, &str)]] = &[
        &[],
        &[("x-csrf", "yes")],
        &[("x-csrf", "1"), ("sec-fetch-site", "cross-site")],
        &[("x-csrf", "1"), ("sec-fetch-site", "same-site")],
        &[("x-csrf", "1"), ("origin", "https://evil.example")],
        &[("x-csrf", "1"), ("origin", "null")],
    ];
    for headers in cases {
        let mut request = client().get(&url);
        for (name, value) in *headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{headers:?}");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(error_code(&body), "forbidden", "{headers:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // The panel's own call passes: same origin as the host it was sent to.
    let host = relay.url.trim_start_matches("http://").to_owned();
    let (status, _, _) = get_json_with(
        &url,
        &[("sec-fetch-site", "same-origin"), ("origin", &relay.url)],
    )
    .await;
    assert_eq!(status, 200, "origin {} for host {host}", relay.url);
}

#[tokio::test]
async fn an_identity_header_is_required_when_configured_and_names_the_actor() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &["--identity-header", "x-forwarded-email"],
    ))
    .await;

    let (status, body) = lookup_with(&relay, &[]).await;
    assert_eq!((status, error_code(&body)), (401, "unauthenticated"));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("x-forwarded-email"));
    let (status, _) = lookup_with(&relay, &[("x-forwarded-email", "  ")]).await;
    assert_eq!(status, 401, "a blank identity is none");
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let (status, _) = lookup_with(&relay, &[("x-forwarded-email", "agent@example.com")]).await;
    assert_eq!(status, 200);
    let audit = relay.audit_lines();
    assert_eq!(audit.last().unwrap()["actor"], "agent@example.com");
    assert_eq!(audit[0]["outcome"], "unauthenticated");
    assert_eq!(audit[0]["actor"], Value::Null);
}

#[tokio::test]
async fn signed_assertions_are_verified_rs256_and_es256() {
    let (relay, calls, _) = relay_with_jwt().await;
    let rs = token(Algorithm::RS256, "rsa-1", &rsa(), json!({}));
    let (status, body) = lookup_with(&relay, &[(ASSERTION, &rs)]).await;
    assert_eq!(status, 200, "{body}");
    let es = token(
        Algorithm::ES256,
        "ec-1",
        &ec(),
        json!({"email": null, "sub": "iap-user-7"}),
    );
    let (status, body) = lookup_with(&relay, &[(ASSERTION, &es)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let actors: Vec<Value> = relay
        .audit_lines()
        .iter()
        .map(|line| line["actor"].clone())
        .collect();
    assert_eq!(actors, [json!("agent@example.com"), json!("iap-user-7")]);
}

#[tokio::test]
async fn every_bad_assertion_is_refused() {
    let (relay, calls, _) = relay_with_jwt().await;
    let past = jsonwebtoken::get_current_timestamp() - 3600;
    let none_token = {
        use base64::Engine;
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            b64(json!({"alg": "none", "kid": "rsa-1"})),
            b64(claims(json!({})))
        )
    };
    // HS256 "signed" with the RSA public key: the classic algorithm confusion.
    let rsa_jwk = Jwk::from_encoding_key(&rsa(), Algorithm::RS256).unwrap();
    let confused = token(
        Algorithm::HS256,
        "rsa-1",
        &EncodingKey::from_secret(serde_json::to_string(&rsa_jwk).unwrap().as_bytes()),
        json!({}),
    );
    let cases: Vec<(&str, String)> = vec![
        ("missing", String::new()),
        ("garbage", "not.a.jwt".into()),
        (
            "expired",
            token(Algorithm::RS256, "rsa-1", &rsa(), json!({"exp": past})),
        ),
        (
            "no exp",
            token(Algorithm::RS256, "rsa-1", &rsa(), json!({"exp": null})),
        ),
        (
            "wrong audience",
            token(
                Algorithm::RS256,
                "rsa-1",
                &rsa(),
                json!({"aud": "someone-else"}),
            ),
        ),
        (
            "no audience",
            token(Algorithm::RS256, "rsa-1", &rsa(), json!({"aud": null})),
        ),
        (
            "wrong issuer",
            token(
                Algorithm::RS256,
                "rsa-1",
                &rsa(),
                json!({"iss": "https://evil.example"}),
            ),
        ),
        (
            "no issuer",
            token(Algorithm::RS256, "rsa-1", &rsa(), json!({"iss": null})),
        ),
        ("alg none", none_token),
        (
            "unknown key",
            token(Algorithm::RS256, "rsa-2", &rsa(), json!({})),
        ),
        (
            "algorithm not the key's",
            token(Algorithm::ES256, "rsa-1", &ec(), json!({})),
        ),
        ("HS256 with the public key", confused),
        (
            "signed by a key the JWKS does not hold",
            token(Algorithm::ES256, "ec-1", &other_ec(), json!({})),
        ),
    ];
    for (name, assertion) in cases {
        let headers: Vec<(&str, &str)> = if assertion.is_empty() {
            vec![]
        } else {
            vec![(ASSERTION, &assertion)]
        };
        let (status, body) = lookup_with(&relay, &headers).await;
        assert_eq!(
            (status, error_code(&body)),
            (401, "unauthenticated"),
            "{name}: {body}"
        );
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "no refused request reached Adapty"
    );
}

#[tokio::test]
async fn unknown_keys_refetch_the_jwks_at_most_once_a_minute() {
    let (relay, _, fetches) = relay_with_jwt().await;
    let good = token(Algorithm::RS256, "rsa-1", &rsa(), json!({}));
    assert_eq!(lookup_with(&relay, &[(ASSERTION, &good)]).await.0, 200);
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "fetched on first use");
    for n in 0..5 {
        let forged = token(Algorithm::RS256, &format!("forged-{n}"), &rsa(), json!({}));
        assert_eq!(lookup_with(&relay, &[(ASSERTION, &forged)]).await.0, 401);
    }
    assert_eq!(lookup_with(&relay, &[(ASSERTION, &good)]).await.0, 200);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "forged key IDs must not hammer the JWKS"
    );
}

#[tokio::test]
async fn the_per_person_limit_answers_429_without_calling_adapty() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &[
            "--identity-header",
            "x-forwarded-email",
            "--rate-limit-per-minute",
            "2",
        ],
    ))
    .await;
    let ann = [("x-forwarded-email", "ann@example.com")];
    assert_eq!(lookup_with(&relay, &ann).await.0, 200);
    assert_eq!(lookup_with(&relay, &ann).await.0, 200);
    let (status, headers, body) = get_json_with(
        &format!("{}/api/profile?customer_user_id=u", relay.url),
        &ann,
    )
    .await;
    assert_eq!((status, error_code(&body)), (429, "rate_limited"));
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=31).contains(&wait), "{wait}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let bob = [("x-forwarded-email", "bob@example.com")];
    assert_eq!(
        lookup_with(&relay, &bob).await.0,
        200,
        "bob has his own allowance"
    );
}

/// DNS rebinding: a page can point its own name at the relay and set any
/// identity header itself, but its requests name its own host. Only the
/// hosts the operator expects are served, before any other check.
#[tokio::test]
async fn requests_naming_a_host_not_served_here_are_refused_before_anything_else() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &["--identity-header", "x-forwarded-email"],
    ))
    .await;
    let port = relay.url.rsplit(':').next().unwrap().to_owned();
    let ask = |path: &str, host: Option<&str>| {
        let host = host.map_or(String::new(), |host| format!("Host: {host}\r\n"));
        format!(
            "GET {path} HTTP/1.1\r\n{host}X-CSRF: 1\r\nX-Forwarded-Email: ann@example.com\r\n\
             Connection: close\r\n\r\n"
        )
    };
    let lookup = "/api/profile?customer_user_id=u";
    let rebound = format!("evil.example:{port}");
    let other_port = format!("127.0.0.1:{}", port.parse::<u16>().unwrap() - 1);
    let refused = [
        ask(lookup, Some(&rebound)),
        ask(lookup, Some("evil.example")),
        ask(lookup, Some(&format!("127.0.0.1.evil.example:{port}"))),
        ask(lookup, Some(&other_port)),
        ask(lookup, None),
        ask(
            &format!("http://evil.example{lookup}"),
            Some(&format!("127.0.0.1:{port}")),
        ),
        ask("/", Some(&rebound)),
        ask("/metrics", Some(&rebound)),
        // The right host and another: a proxy in front might route by either.
        ask(
            lookup,
            Some(&format!("127.0.0.1:{port}\r\nHost: evil.example")),
        ),
    ];
    for request in &refused {
        let answer = raw_exchange(&relay.url, request.as_bytes(), Duration::from_secs(5)).await;
        let (status, body) = status_and_body(&answer);
        assert_eq!(status, 421, "{request}\n{answer}");
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(error_code(&body), "host_not_allowed", "{request}");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "nothing refused reached Adapty"
    );
    assert!(
        relay.audit_lines().is_empty(),
        "refused before the lookup began"
    );

    // Health checkers may use any name or an IP.
    let answer = raw_exchange(
        &relay.url,
        ask("/healthz", Some(&rebound)).as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(status_and_body(&answer), (200, "ok"));
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("LocalHost:{port}"),
    ] {
        let answer = raw_exchange(
            &relay.url,
            ask(lookup, Some(&host)).as_bytes(),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(status_and_body(&answer).0, 200, "{host}: {answer}");
    }
}

#[tokio::test]
async fn every_public_origin_and_allowed_host_is_served() {
    let (upstream, _) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &[
            "--public-origin",
            "https://lookup.example.com,https://other.example.com:8443",
            "--allowed-host",
            "relay.internal",
        ],
    ))
    .await;
    let lookup = |host: &str, origin: &str| {
        format!(
            "GET /api/profile?customer_user_id=u HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n\
             X-CSRF: 1\r\nConnection: close\r\n\r\n"
        )
    };
    for (host, origin, status) in [
        ("lookup.example.com", "https://lookup.example.com", 200),
        ("lookup.example.com:443", "https://lookup.example.com", 200),
        (
            "other.example.com:8443",
            "https://other.example.com:8443",
            200,
        ),
        ("lookup.example.com", "https://other.example.com:8443", 200),
        ("relay.internal:9000", "https://lookup.example.com", 200),
        ("lookup.example.com", "https://evil.example", 403),
        ("other.example.com", "https://other.example.com:8443", 421),
        ("evil.example", "https://evil.example", 421),
    ] {
        let answer = raw_exchange(
            &relay.url,
            lookup(host, origin).as_bytes(),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(
            status_and_body(&answer).0,
            status,
            "{host} from {origin}: {answer}"
        );
    }
}

/// The longest values a client can choose, in their most expensive JSON
/// spelling, still make an audit line of at most 2 KiB, whole and readable.
#[tokio::test]
async fn no_audit_line_exceeds_two_kib() {
    let (relay, _, _) = relay_with_jwt().await;
    // A quote: control characters, which JSON spells longer, are refused.
    let actor = "\"".repeat(320);
    let assertion = token(Algorithm::RS256, "rsa-1", &rsa(), json!({ "email": actor }));
    let id = "%22".repeat(512);
    let request_id = "r".repeat(64);
    let (status, _, body) = get_json_with(
        &format!("{}/api/profile?customer_user_id={id}", relay.url),
        &[(ASSERTION, &assertion), ("x-request-id", &request_id)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let text = std::fs::read_to_string(relay.audit_log.as_ref().unwrap()).unwrap();
    let line = text.lines().nth(1).unwrap();
    assert!(line.len() <= 2048, "{} bytes: {line}", line.len());
    let line: Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["request_id"], request_id.as_str());
    assert_eq!(line["outcome"], "ok");
    assert!(line["id"].as_str().unwrap().starts_with("\"\"\""));
    // With control characters refused in a name, the longest a client can
    // send fits whole (the audit's unit tests cover cutting what does not).
    assert_eq!(line["actor"], actor.as_str());
}

#[tokio::test]
async fn assertions_not_yet_valid_or_issued_in_the_future_are_refused() {
    let (relay, calls, _) = relay_with_jwt().await;
    let now = jsonwebtoken::get_current_timestamp();
    let next_year = now + 365 * 24 * 3600;
    for (name, overrides, status) in [
        (
            "valid from next year",
            json!({"nbf": next_year, "exp": next_year + 300}),
            401,
        ),
        ("issued next year", json!({"iat": next_year}), 401),
        ("nbf within the leeway", json!({"nbf": now + 30}), 200),
        ("iat within the leeway", json!({"iat": now + 30}), 200),
        ("no iat", json!({"iat": null}), 200),
    ] {
        let assertion = token(Algorithm::RS256, "rsa-1", &rsa(), overrides);
        let (got, body) = lookup_with(&relay, &[(ASSERTION, &assertion)]).await;
        assert_eq!(got, status, "{name}: {body}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// oauth2-proxy's --pass-authorization-header sends `Authorization: Bearer <jwt>`.
#[tokio::test]
async fn an_assertion_in_authorization_may_carry_the_bearer_scheme() {
    let (upstream, _) = raw_upstream(vec![ok_json(SEED)]).await;
    let (jwks_url, _) = jwks().await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &[
            "--jwt-header",
            "Authorization",
            "--jwks-url",
            &jwks_url,
            "--jwt-audience",
            AUDIENCE,
            "--jwt-issuer",
            ISSUER,
        ],
    ))
    .await;
    let assertion = token(Algorithm::RS256, "rsa-1", &rsa(), json!({}));
    for value in [
        format!("Bearer {assertion}"),
        format!("bearer {assertion}"),
        assertion.clone(),
    ] {
        let (status, body) = lookup_with(&relay, &[("authorization", &value)]).await;
        assert_eq!(status, 200, "{value}: {body}");
    }
    let (status, _) = lookup_with(&relay, &[("authorization", "Bearer not.a.jwt")]).await;
    assert_eq!(status, 401);
}

/// A JWKS server the test steers: it serves the usual keys, or holds a
/// fetch until released, or serves a set that is huge or empty.
struct SteeredJwks {
    url: String,
    fetches: Arc<AtomicUsize>,
    mode: Arc<AtomicUsize>,
    release: Arc<tokio::sync::Notify>,
}

const SERVE: usize = 0;
const HOLD: usize = 1;
const HUGE: usize = 2;
const EMPTY: usize = 3;
/// Answers 500, as a provider that is down.
const DOWN: usize = 4;
/// A good set that no longer holds `rsa-1`: the provider withdrew it.
const WITHDRAWN: usize = 5;

async fn steered_jwks() -> SteeredJwks {
    let mut rsa_jwk = Jwk::from_encoding_key(&rsa(), Algorithm::RS256).unwrap();
    rsa_jwk.common.key_id = Some("rsa-1".into());
    let set = serde_json::to_string(&JwkSet {
        keys: vec![rsa_jwk.clone()],
    })
    .unwrap();
    // A readable set, without the key in use, padded beyond a megabyte.
    let mut other = rsa_jwk;
    other.common.key_id = Some("other".into());
    let withdrawn = serde_json::to_string(&JwkSet {
        keys: vec![other.clone()],
    })
    .unwrap();
    let huge = serde_json::to_string(&JwkSet {
        keys: vec![other; 5000],
    })
    .unwrap();
    assert!(huge.len() > 1024 * 1024);
    let fetches = Arc::new(AtomicUsize::new(0));
    let mode = Arc::new(AtomicUsize::new(SERVE));
    let release = Arc::new(tokio::sync::Notify::new());
    let (count, steer, gate) = (fetches.clone(), mode.clone(), release.clone());
    let router = Router::new().route(
        "/certs",
        get(move || {
            count.fetch_add(1, Ordering::SeqCst);
            let (set, huge, steer, gate) = (set.clone(), huge.clone(), steer.clone(), gate.clone());
            let withdrawn = withdrawn.clone();
            async move {
                let mode = steer.load(Ordering::SeqCst);
                let status = if mode == DOWN {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                };
                let body = match mode {
                    HOLD => {
                        gate.notified().await;
                        set
                    }
                    HUGE => huge,
                    EMPTY => r#"{"keys":[]}"#.to_owned(),
                    DOWN => String::new(),
                    WITHDRAWN => withdrawn,
                    _ => set,
                };
                (status, body)
            }
        }),
    );
    SteeredJwks {
        url: format!("{}/certs", serve(router).await),
        fetches,
        mode,
        release,
    }
}

async fn relay_with_steered_jwks(jwks: &SteeredJwks) -> Relay {
    // Not a minute: the test would wait for it.
    relay_with_steered_jwks_timed(jwks, Duration::from_millis(100), Duration::from_secs(600)).await
}

/// `refetch_after` and `max_age` as the test needs them.
async fn relay_with_steered_jwks_timed(
    jwks: &SteeredJwks,
    refetch_after: Duration,
    max_age: Duration,
) -> Relay {
    let (upstream, _) = raw_upstream(vec![ok_json(SEED)]).await;
    let mut config = config_with(
        &upstream,
        KEY,
        &[
            "--jwt-header",
            ASSERTION,
            "--jwks-url",
            &jwks.url,
            "--jwt-audience",
            AUDIENCE,
            "--jwt-issuer",
            ISSUER,
        ],
    );
    let jwt = config.access.jwt.as_mut().unwrap();
    jwt.refetch_after = refetch_after;
    jwt.max_age = max_age;
    start(config).await
}

#[tokio::test]
async fn a_fetch_for_a_forged_key_never_holds_up_a_known_one_and_runs_alone() {
    let jwks = steered_jwks().await;
    let relay = Arc::new(relay_with_steered_jwks(&jwks).await);
    let good = token(Algorithm::RS256, "rsa-1", &rsa(), json!({}));
    assert_eq!(lookup_with(&relay, &[(ASSERTION, &good)]).await.0, 200);
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 1);

    tokio::time::sleep(Duration::from_millis(200)).await;
    jwks.mode.store(HOLD, Ordering::SeqCst);
    let forged = |n: usize| {
        let relay = relay.clone();
        let forged = token(Algorithm::RS256, &format!("forged-{n}"), &rsa(), json!({}));
        tokio::spawn(async move { lookup_with(&relay, &[(ASSERTION, &forged)]).await.0 })
    };
    let first = forged(1);
    while jwks.fetches.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let others: Vec<_> = (2..6).map(forged).collect();
    // The fetch is held for as long as the test likes; the known key is not.
    let known = tokio::time::timeout(
        Duration::from_secs(10),
        lookup_with(&relay, &[(ASSERTION, &good)]),
    )
    .await
    .expect("a known key waited for the fetch in flight");
    assert_eq!(known.0, 200);
    jwks.release.notify_one();
    assert_eq!(first.await.unwrap(), 401);
    for other in others {
        assert_eq!(other.await.unwrap(), 401);
    }
    assert_eq!(
        jwks.fetches.load(Ordering::SeqCst),
        2,
        "one fetch at a time"
    );
}

#[tokio::test]
async fn a_huge_or_empty_key_set_never_replaces_the_keys_in_hand() {
    let jwks = steered_jwks().await;
    let relay = relay_with_steered_jwks(&jwks).await;
    let good = token(Algorithm::RS256, "rsa-1", &rsa(), json!({}));
    assert_eq!(lookup_with(&relay, &[(ASSERTION, &good)]).await.0, 200);
    for (mode, fetches) in [(HUGE, 2), (EMPTY, 3)] {
        jwks.mode.store(mode, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let forged = token(Algorithm::RS256, "forged", &rsa(), json!({}));
        assert_eq!(lookup_with(&relay, &[(ASSERTION, &forged)]).await.0, 401);
        assert_eq!(
            jwks.fetches.load(Ordering::SeqCst),
            fetches,
            "it was fetched"
        );
        let (status, body) = lookup_with(&relay, &[(ASSERTION, &good)]).await;
        assert_eq!(
            status, 200,
            "mode {mode}: the keys in hand still work: {body}"
        );
    }
}

/// A provider down when the relay first asks must not lock everyone out
/// for the minute between refetches: with no keys in hand it is asked again
/// a second later.
#[tokio::test]
async fn a_provider_down_at_first_is_asked_again_a_second_later() {
    let jwks = steered_jwks().await;
    jwks.mode.store(DOWN, Ordering::SeqCst);
    let relay =
        relay_with_steered_jwks_timed(&jwks, Duration::from_secs(60), Duration::from_secs(600))
            .await;
    let good = token(Algorithm::RS256, "rsa-1", &rsa(), json!({}));
    assert_eq!(lookup_with(&relay, &[(ASSERTION, &good)]).await.0, 401);
    assert_eq!(lookup_with(&relay, &[(ASSERTION, &good)]).await.0, 401);
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 1, "not at once");
    jwks.mode.store(SERVE, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = lookup_with(&relay, &[(ASSERTION, &good)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 2);
}

/// A key set is trusted for a while, not forever: once it is older than
/// its age limit the relay fetches it again, and a key the provider
/// withdrew is refused; while the provider is down the old set stays.
#[tokio::test]
async fn a_key_the_provider_withdrew_is_refused_once_the_set_is_old() {
    let jwks = steered_jwks().await;
    let relay = relay_with_steered_jwks_timed(
        &jwks,
        Duration::from_millis(100),
        Duration::from_millis(300),
    )
    .await;
    let good = token(Algorithm::RS256, "rsa-1", &rsa(), json!({}));
    assert_eq!(lookup_with(&relay, &[(ASSERTION, &good)]).await.0, 200);

    jwks.mode.store(DOWN, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, body) = lookup_with(&relay, &[(ASSERTION, &good)]).await;
    assert_eq!(status, 200, "a provider down keeps the set in hand: {body}");
    assert_eq!(
        jwks.fetches.load(Ordering::SeqCst),
        2,
        "an old set is fetched again"
    );

    jwks.mode.store(WITHDRAWN, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, body) = lookup_with(&relay, &[(ASSERTION, &good)]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 3);
}

/// An email the provider says it has not verified is only what the person
/// typed: the audit names them by their subject instead.
#[tokio::test]
async fn an_unverified_email_never_names_the_actor() {
    let (relay, _, _) = relay_with_jwt().await;
    for verified in [json!(false), json!("false"), json!(true), json!("true")] {
        let assertion = token(
            Algorithm::RS256,
            "rsa-1",
            &rsa(),
            json!({ "email": "boss@example.com", "email_verified": verified }),
        );
        assert_eq!(lookup_with(&relay, &[(ASSERTION, &assertion)]).await.0, 200);
    }
    let actors: Vec<Value> = relay
        .audit_lines()
        .iter()
        .map(|line| line["actor"].clone())
        .collect();
    assert_eq!(
        actors,
        [
            json!("user-123"),
            json!("user-123"),
            json!("boss@example.com"),
            json!("boss@example.com")
        ]
    );
}

#[tokio::test]
async fn one_person_is_one_actor_however_the_header_spells_them_and_only_once() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &[
            "--identity-header",
            "x-forwarded-email",
            "--rate-limit-per-minute",
            "2",
        ],
    ))
    .await;
    assert_eq!(
        lookup_with(&relay, &[("x-forwarded-email", "Ann@X.com")])
            .await
            .0,
        200
    );
    assert_eq!(
        lookup_with(&relay, &[("x-forwarded-email", " ann@x.com ")])
            .await
            .0,
        200
    );
    let (status, body) = lookup_with(&relay, &[("x-forwarded-email", "ANN@x.COM")]).await;
    assert_eq!(
        (status, error_code(&body)),
        (429, "rate_limited"),
        "one allowance"
    );
    let actors: Vec<Value> = relay
        .audit_lines()
        .iter()
        .map(|line| line["actor"].clone())
        .collect();
    assert_eq!(actors[..2], [json!("ann@x.com"), json!("ann@x.com")]);

    let host = relay.url.trim_start_matches("http://");
    let twice = format!(
        "GET /api/profile?customer_user_id=u HTTP/1.1\r\nHost: {host}\r\nX-CSRF: 1\r\n\
         X-Forwarded-Email: bob@example.com\r\nX-Forwarded-Email: admin@example.com\r\n\
         Connection: close\r\n\r\n"
    );
    let answer = raw_exchange(&relay.url, twice.as_bytes(), Duration::from_secs(5)).await;
    let (status, body) = status_and_body(&answer);
    assert_eq!(status, 401, "{answer}");
    assert!(body.contains("more than once"), "{body}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
