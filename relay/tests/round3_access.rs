//! Round three of the review, over real sockets: who a request names (one
//! rule for the identity header and the token, never Unicode folding; roles
//! from an array taken whole) and the CSRF check's second line (each header
//! once, allowed values only, in any case, and never `X-Forwarded-Host`).

mod common;

use axum::routing::get;
use axum::{Json, Router};
use common::*;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;

const RSA_PEM: &[u8] = include_bytes!("keys/rsa-test-only.pem");
const AUDIENCE: &str = "adapty-lookup-round3-aud";
const ISSUER: &str = "https://idp.example.com";
const ASSERTION: &str = "cf-access-jwt-assertion";
const LOOKUP: &str = "/api/profile?customer_user_id=u";

/// A JWKS with the test's RSA key, and tokens it signs with these claims
/// (a `null` claim is left out).
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
                                "sub": "user-123"});
        for (name, value) in extra.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa-1".into());
        encode(&header, &claims, &key).unwrap()
    };
    (url, token)
}

fn jwt_flags<'a>(jwks_url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut flags = vec![
        "--jwt-header",
        ASSERTION,
        "--jwks-url",
        jwks_url,
        "--jwt-audience",
        AUDIENCE,
        "--jwt-issuer",
        ISSUER,
    ];
    flags.extend(extra);
    flags
}

async fn lookup_with(relay: &Relay, headers: &[(&str, &str)]) -> (u16, Value) {
    let (status, _, body) = get_json_with(&format!("{}{LOOKUP}", relay.url), headers).await;
    (status, body)
}

/// The request's bytes as they are, and the relay's status and body.
async fn raw(relay: &Relay, request: &[u8]) -> (u16, String) {
    let answer = raw_exchange(&relay.url, request, Duration::from_secs(5)).await;
    let (status, body) = status_and_body(&answer);
    (status, body.to_owned())
}

fn host_of(relay: &Relay) -> String {
    relay.url.trim_start_matches("http://").to_owned()
}

/// A lookup with `lines` (each `Name: value`) after the request line and Host.
fn lookup_request(host: &str, lines: &[&str]) -> Vec<u8> {
    let mut request = format!("GET {LOOKUP} HTTP/1.1\r\nHost: {host}\r\n");
    for line in lines {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    request.into_bytes()
}

fn actors(relay: &Relay) -> Vec<Value> {
    relay
        .audit_lines()
        .iter()
        .map(|line| line["actor"].clone())
        .collect()
}

/// The Kelvin sign, a full-width letter: another person, never folded into
/// `kim@x.com` (so neither audited as them nor counted in their allowance);
/// ASCII letters in any case and spaces around are one person.
#[tokio::test]
async fn a_token_identity_folds_only_ascii_letters() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let (jwks_url, token) = signing().await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &jwt_flags(&jwks_url, &["--rate-limit-per-minute", "1"]),
    ))
    .await;
    let relay = &relay;
    let ask = |email: &str| {
        let assertion = token(json!({ "email": email }));
        async move { lookup_with(relay, &[(ASSERTION, &assertion)]).await }
    };
    assert_eq!(ask("kim@x.com").await.0, 200);
    let (status, body) = ask("  KIM@X.com ").await;
    assert_eq!((status, error_code(&body)), (429, "rate_limited"), "kim");
    let (status, body) = ask("\u{212A}im@x.com").await;
    assert_eq!(status, 200, "the Kelvin sign has its own allowance: {body}");
    assert_eq!(ask("\u{FF2B}im@x.com").await.0, 200, "full-width K");
    assert_eq!(
        ask("\u{212A}IM@X.COM").await.0,
        429,
        "Kelvin, in its allowance"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let audited: Vec<Value> = actors(relay)
        .into_iter()
        .filter(|actor| !actor.is_null())
        .collect();
    assert_eq!(
        audited,
        [
            json!("kim@x.com"),
            json!("kim@x.com"),
            json!("\u{212A}im@x.com"),
            json!("\u{FF2B}im@x.com"),
            json!("\u{212A}im@x.com"),
        ]
    );
}

/// Control, format and other invisible characters, and whitespace other
/// than the plain space, are refused with 401 and say which character.
#[tokio::test]
async fn a_token_identity_with_a_hidden_character_is_refused() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let (jwks_url, token) = signing().await;
    let relay = start(config_with(&upstream, KEY, &jwt_flags(&jwks_url, &[]))).await;
    for (claims, hidden) in [
        (json!({"email": "ki\u{200B}m@x.com"}), "U+200B"),
        (json!({"email": "kim@x.com\u{A0}"}), "U+00A0"),
        (json!({"email": "\u{202E}moc.x@mik"}), "U+202E"),
        (json!({"email": "kim@x.com\n"}), "U+000A"),
        (json!({"email": "kim\u{0}@x.com"}), "U+0000"),
        (json!({"email": "kim\u{AD}@x.com"}), "U+00AD"),
        (json!({"email": "kim@x.com\u{E0001}"}), "U+E0001"),
        (json!({"email": null, "sub": "user\u{2060}-123"}), "U+2060"),
        (json!({"email": "kim\u{FE0F}@x.com"}), "U+FE0F"),
    ] {
        let assertion = token(claims.clone());
        let (status, body) = lookup_with(&relay, &[(ASSERTION, &assertion)]).await;
        assert_eq!(
            (status, error_code(&body)),
            (401, "unauthenticated"),
            "{claims}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(hidden), "{claims}: {message}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "none reached Adapty");
    // The plain space inside a name is plain text.
    let assertion = token(json!({"email": null, "sub": "Kim Smith"}));
    assert_eq!(lookup_with(&relay, &[(ASSERTION, &assertion)]).await.0, 200);
    assert_eq!(actors(&relay).last().unwrap(), "Kim Smith");
}

/// `email_verified` is a yes only as `true` (or the string, in any case):
/// `"False"`, `0` or `"no"` do not vouch for the address.
#[tokio::test]
async fn an_email_is_verified_only_by_a_yes() {
    let (upstream, _) = raw_upstream(vec![ok_json(SEED)]).await;
    let (jwks_url, token) = signing().await;
    let relay = start(config_with(&upstream, KEY, &jwt_flags(&jwks_url, &[]))).await;
    for verified in [json!("False"), json!("FALSE "), json!(0), json!("no")] {
        let claims = json!({"email": "boss@x.com", "email_verified": verified});
        let assertion = token(claims);
        assert_eq!(lookup_with(&relay, &[(ASSERTION, &assertion)]).await.0, 200);
        assert_eq!(actors(&relay).last().unwrap(), "user-123", "{verified}");
    }
    for verified in [json!(true), json!("TRUE"), Value::Null] {
        let assertion = token(json!({"email": "boss@x.com", "email_verified": verified}));
        assert_eq!(lookup_with(&relay, &[(ASSERTION, &assertion)]).await.0, 200);
        assert_eq!(actors(&relay).last().unwrap(), "boss@x.com", "{verified}");
    }
}

/// The identity header under the same rule: a tab inside, two values
/// joined with a comma, bytes that are not ASCII text: all 401, each saying
/// why; spaces around and ASCII case are one person.
#[tokio::test]
async fn an_identity_header_follows_the_same_rule() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &["--identity-header", EMAIL, "--rate-limit-per-minute", "1"],
    ))
    .await;
    let host = host_of(&relay);
    let refused: [(&[u8], &str); 5] = [
        (b"X-Forwarded-Email: kim\t@x.com", "U+0009"),
        (b"X-Forwarded-Email: admin@x.com, kim@x.com", "comma"),
        (b"X-Forwarded-Email: \xe2\x84\xaaim@x.com", "ASCII"),
        (b"X-Forwarded-Email: ki\xe2\x80\x8bm@x.com", "ASCII"),
        (b"X-Forwarded-Email: kim@x.com\xc2\xa0", "ASCII"),
    ];
    for (line, why) in refused {
        let mut request =
            format!("GET {LOOKUP} HTTP/1.1\r\nHost: {host}\r\nX-CSRF: 1\r\n").into_bytes();
        request.extend_from_slice(line);
        request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        let (status, body) = raw(&relay, &request).await;
        let shown = String::from_utf8_lossy(line);
        assert_eq!(status, 401, "{shown}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error_code(&body), "unauthenticated");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{shown}: {message}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(lookup_with(&relay, &[(EMAIL, " Kim@X.com ")]).await.0, 200);
    let (status, body) = lookup_with(&relay, &[(EMAIL, "kim@x.COM")]).await;
    assert_eq!((status, error_code(&body)), (429, "rate_limited"));
}

/// Whether `/api/session` says this caller may change access.
async fn may_change(relay: &Relay, headers: &[(&str, &str)]) -> bool {
    let (status, _, body) = get_json_with(&format!("{}/api/session", relay.url), headers).await;
    assert_eq!(status, 200, "{body}");
    body["can_change_access"].as_bool().unwrap()
}

/// A claim's array lists roles as they are (`["x,leads"]` is the role
/// `x,leads`); only a string, from a claim or a header, is split.
#[tokio::test]
async fn an_arrays_roles_are_taken_whole_and_only_a_string_is_split() {
    let (jwks_url, token) = signing().await;
    let changes = [
        "--allow-access-changes",
        "--changes-role",
        "leads",
        "--roles-claim",
        "groups",
    ];
    let relay = start(config_with(
        "http://127.0.0.1:9",
        KEY,
        &jwt_flags(&jwks_url, &changes),
    ))
    .await;
    for (groups, allowed) in [
        (json!(["x,leads"]), false),
        (json!(["x, leads"]), false),
        (json!([" leads"]), false),
        (json!(["Leads"]), false),
        (json!(["leads\u{200B}"]), false),
        (json!([["leads"]]), false),
        (json!(["support", "leads"]), true),
        (json!("x,leads"), true),
        (json!("support, leads"), true),
    ] {
        let assertion = token(json!({ "groups": groups }));
        assert_eq!(
            may_change(&relay, &[(ASSERTION, &assertion)]).await,
            allowed,
            "{groups}"
        );
    }
    let header_mode = start(changes_on("http://127.0.0.1:9", KEY, &[])).await;
    for (groups, allowed) in [("x,leads", true), ("x, leads ", true), ("x;leads", false)] {
        let headers = [(EMAIL, "kim@x.com"), (GROUPS, groups)];
        assert_eq!(
            may_change(&header_mode, &headers).await,
            allowed,
            "{groups}"
        );
    }
}

/// The CSRF check's second line: a header given twice, a value in another
/// case or spelling, `X-Forwarded-Host` naming the attacker's host, and an
/// absolute-form request whose `Host` names another: all 403 (or 421), and
/// nothing reaches Adapty.
#[tokio::test]
async fn csrf_headers_are_read_once_whole_and_in_any_case() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = relay_to(&upstream, KEY).await;
    let host = host_of(&relay);
    let own = format!("Origin: {}", relay.url);
    let absolute = format!(
        "GET {}{LOOKUP} HTTP/1.1\r\nHost: evil.example\r\nX-CSRF: 1\r\n\
         Origin: http://evil.example\r\nConnection: close\r\n\r\n",
        relay.url
    );
    let forbidden: Vec<Vec<u8>> = vec![
        lookup_request(&host, &["X-CSRF: 1", &own, "Origin: http://evil.example"]),
        lookup_request(&host, &["X-CSRF: 1", "Origin: http://evil.example", &own]),
        lookup_request(
            &host,
            &[
                "X-CSRF: 1",
                "Origin: http://evil.example",
                "X-Forwarded-Host: evil.example",
            ],
        ),
        lookup_request(&host, &["X-CSRF: 1", "Sec-Fetch-Site: Cross-Site"]),
        lookup_request(&host, &["X-CSRF: 1", "Sec-Fetch-Site: CROSS-SITE"]),
        lookup_request(&host, &["X-CSRF: 1", "Sec-Fetch-Site: Same-Site"]),
        lookup_request(&host, &["X-CSRF: 1", "Sec-Fetch-Site:   cross-site   "]),
        lookup_request(&host, &["X-CSRF: 1", "Sec-Fetch-Site: cross-site,none"]),
        lookup_request(&host, &["X-CSRF: 1", "Sec-Fetch-Site: cross_site"]),
        lookup_request(
            &host,
            &[
                "X-CSRF: 1",
                "Sec-Fetch-Site: same-origin",
                "Sec-Fetch-Site: cross-site",
            ],
        ),
        lookup_request(&host, &["X-CSRF: 1", "X-CSRF: 1"]),
        lookup_request(&host, &["X-CSRF: 1, 1"]),
        lookup_request(&host, &["X-CSRF: 1", &format!("{own}/")]),
        lookup_request(&host, &["X-CSRF: 1", "Origin: null"]),
        absolute.into_bytes(),
    ];
    for request in &forbidden {
        let (status, body) = raw(&relay, request).await;
        let shown = String::from_utf8_lossy(request);
        assert_eq!(status, 403, "{shown}\n{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error_code(&body), "forbidden", "{shown}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing reached Adapty");

    // The panel's own calls, in any case and with spaces around.
    let upper_origin = format!("Origin: {}", relay.url.to_uppercase());
    for lines in [
        vec!["X-CSRF: 1", "Sec-Fetch-Site: Same-Origin", own.as_str()],
        vec!["X-CSRF:  1 ", "Sec-Fetch-Site: none"],
        vec!["X-CSRF: 1", upper_origin.as_str()],
    ] {
        let (status, body) = raw(&relay, &lookup_request(&host, &lines)).await;
        assert_eq!(status, 200, "{lines:?}: {body}");
    }
}

/// Behind a proxy with `--public-origin`, the origin must be one of them
/// whatever `X-Forwarded-Host` says.
#[tokio::test]
async fn x_forwarded_host_never_decides_the_origin() {
    let (upstream, calls) = raw_upstream(vec![ok_json(SEED)]).await;
    let relay = start(config_with(
        &upstream,
        KEY,
        &[
            "--public-origin",
            "https://lookup.example.com",
            "--allowed-host",
            "relay.internal",
        ],
    ))
    .await;
    let (status, _) = raw(
        &relay,
        &lookup_request(
            "relay.internal",
            &[
                "X-CSRF: 1",
                "Origin: https://evil.example",
                "X-Forwarded-Host: evil.example",
            ],
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = raw(
        &relay,
        &lookup_request(
            "relay.internal",
            &[
                "X-CSRF: 1",
                "Origin: https://lookup.example.com",
                "Origin: https://evil.example",
            ],
        ),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let (status, body) = raw(
        &relay,
        &lookup_request(
            "relay.internal",
            &["X-CSRF: 1", "Origin: https://LOOKUP.example.com"],
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
