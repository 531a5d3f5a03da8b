//! Behind a real single sign-on: Apache httpd with mod_auth_openidc in front
//! of the relay, a real OpenID Connect provider, and Chromium signing in as
//! an admin would. The proxy's configuration is README's recipe.

use e2e::sso::{
    Identity, Prefix, Setup, SignedIn, Unauthenticated, CHANGES_ROLE, CLIENT_ID, PREFIX,
};
use e2e::sso::{PROVIDER_KEY_ID, PROVIDER_KEY_PEM};
use e2e::SEED_CUSTOMER_USER_ID;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::time::Duration;

const ANN: &str = "ann@example.com";

#[tokio::test]
async fn the_signed_in_user_is_the_actor_and_a_header_sent_by_the_browser_is_replaced() {
    let sso = SignedIn::start(Setup::default()).await;
    sso.panel
        .open(&format!("/?customer_user_id={SEED_CUSTOMER_USER_ID}"))
        .await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;

    // A page script that claims to be someone else, as the browser can.
    let status = sso
        .panel
        .browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('api/profile?app=main&customer_user_id=demo-expired', {headers: {
                 'X-CSRF': '1', 'X-Forwarded-Email': 'mallory@example.com'}})
             .then((response) => done(response.status), (error) => done(String(error)));",
            vec![],
        )
        .await
        .expect("run a fetch in the page");
    assert_eq!(status, json!(200));

    let lines = sso.audit_lines();
    // The lookups; the panel's reads of the customer's events and notes
    // after each (kinds `events` and `notes`) name the same actor.
    let ids: Vec<&str> = lines
        .iter()
        .filter(|line| line["kind"] != "events" && line["kind"] != "notes")
        .filter_map(|line| line["id"].as_str())
        .collect();
    assert_eq!(ids, [SEED_CUSTOMER_USER_ID, "demo-expired"], "{lines:?}");
    for line in &lines {
        assert_eq!(line["actor"], ANN, "{line}");
    }
    sso.panel.close().await;
}

/// Claims the provider would sign, for `minutes` from now (negative: past).
fn claims(provider: &str, overrides: Value) -> Value {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let mut claims = json!({
        "iss": provider, "aud": CLIENT_ID, "sub": "mallory", "email": "mallory@example.com",
        "iat": now, "exp": now + 300,
    });
    for (name, value) in overrides.as_object().expect("an object") {
        claims[name] = value.clone();
    }
    claims
}

fn signed(claims: &Value, kid: &str, key: &EncodingKey, algorithm: Algorithm) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, key).expect("sign a token")
}

async fn upstream_calls(relay: &str) -> u64 {
    let metrics = reqwest::get(format!("{relay}/metrics"))
        .await
        .expect("read the metrics")
        .text()
        .await
        .expect("metrics text");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("relay_upstream_request_seconds_count "))
        .map_or(0, |count| count.trim().parse().expect("a count"))
}

#[tokio::test]
async fn in_jwt_mode_the_providers_token_is_verified_and_forged_or_stale_ones_are_refused() {
    let sso = SignedIn::start(Setup {
        identity: Identity::Jwt,
        ..Setup::default()
    })
    .await;
    sso.panel.open("/?customer_user_id=demo-lifetime").await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;
    // The lookup, and the panel's reads of the customer's events and, once
    // its box shows, notes.
    sso.panel.wait_for("#note-text").await;
    let signed_in = sso.audit_lines();
    let kinds: Vec<&str> = signed_in
        .iter()
        .filter_map(|line| line["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["customer_user_id", "events", "notes"],
        "{signed_in:?}"
    );
    for line in &signed_in {
        assert_eq!(
            (&line["actor"], &line["outcome"]),
            (&json!(ANN), &json!("ok"))
        );
    }

    // Straight at the relay, bypassing the proxy, with tokens of every kind
    // that must not pass; one properly signed token shows the others fail
    // for their flaw alone.
    let provider_key = EncodingKey::from_rsa_pem(PROVIDER_KEY_PEM).unwrap();
    let other_key = EncodingKey::from_ec_pem(include_bytes!(
        "../../relay/tests/keys/ec-other-test-only.pem"
    ))
    .unwrap();
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let provider = sso.provider_url.as_str();
    let good = signed(
        &claims(provider, json!({})),
        PROVIDER_KEY_ID,
        &provider_key,
        Algorithm::RS256,
    );
    let mut tampered = good.clone();
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    let cases = [
        ("a signature that does not match", tampered),
        (
            "another key",
            signed(
                &claims(provider, json!({})),
                "someone-elses-key",
                &other_key,
                Algorithm::ES256,
            ),
        ),
        (
            "expired an hour ago",
            signed(
                &claims(provider, json!({"iat": now - 7200, "exp": now - 3600})),
                PROVIDER_KEY_ID,
                &provider_key,
                Algorithm::RS256,
            ),
        ),
        (
            "valid only from tomorrow",
            signed(
                &claims(provider, json!({"nbf": now + 86_400, "exp": now + 90_000})),
                PROVIDER_KEY_ID,
                &provider_key,
                Algorithm::RS256,
            ),
        ),
    ];
    let client = reqwest::Client::new();
    let ask = |token: String| {
        client
            .get(format!(
                "{}/api/profile?app=main&customer_user_id=demo-lifetime",
                sso.relay
            ))
            .header("X-CSRF", "1")
            .header("Authorization", format!("Bearer {token}"))
            .send()
    };
    assert_eq!(
        ask(good).await.unwrap().status(),
        200,
        "a good token passes"
    );
    let calls_before = upstream_calls(&sso.relay).await;
    for (flaw, token) in cases {
        let response = ask(token).await.unwrap();
        assert_eq!(response.status(), 401, "{flaw}");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated", "{flaw}: {body}");
    }
    assert_eq!(
        upstream_calls(&sso.relay).await,
        calls_before,
        "no refused token reached Adapty"
    );
    sso.panel.close().await;
}

#[tokio::test]
async fn a_deep_link_under_a_prefix_the_proxy_strips_survives_the_sign_in() {
    let sso = SignedIn::start(Setup {
        prefix: Prefix::StrippedByProxy,
        ..Setup::default()
    })
    .await;
    sso.panel.open("/?customer_user_id=demo-expired").await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for_text("#result-heading", "No access: premium expired")
        .await;
    let url = sso.panel.browser.current_url().await.unwrap();
    assert_eq!(url.path(), format!("{PREFIX}/"));
    assert_eq!(url.query(), Some("customer_user_id=demo-expired"));

    // The prefix without its slash still leads to the panel, query and all.
    sso.panel.open("?customer_user_id=demo-lifetime").await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;
    let url = sso.panel.browser.current_url().await.unwrap();
    assert_eq!(url.path(), format!("{PREFIX}/"));
    sso.panel.close().await;
}

#[tokio::test]
async fn a_deep_link_under_the_relays_base_path_survives_the_sign_in() {
    let sso = SignedIn::start(Setup {
        prefix: Prefix::RelayBasePath,
        ..Setup::default()
    })
    .await;
    // Straight to the bare prefix: the relay adds the slash after sign-in.
    sso.panel.open("?customer_user_id=demo-expired").await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for_text("#result-heading", "No access: premium expired")
        .await;
    let url = sso.panel.browser.current_url().await.unwrap();
    assert_eq!(url.path(), format!("{PREFIX}/"));
    assert_eq!(url.query(), Some("customer_user_id=demo-expired"));
    assert_eq!(sso.audit_lines()[0]["actor"], ANN);
    sso.panel.close().await;
}

/// After the proxy forgets the session, a lookup in the open page says the
/// sign-in expired (and nothing else), keeps the profile on screen, and
/// *Sign in again* leads through the provider back to that lookup.
async fn an_expired_session_leads_back_through_the_provider(unauthenticated: Unauthenticated) {
    let mut sso = SignedIn::start(Setup {
        unauthenticated,
        ..Setup::default()
    })
    .await;
    sso.panel.open("/?customer_user_id=demo-lifetime").await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;

    sso.proxy_forgets_every_session().await;
    sso.panel.look_up("customer_user_id", "demo-expired").await;
    let notice = sso
        .panel
        .wait_for_text("#sign-in-expired", "Your sign-in has expired")
        .await;
    assert!(!notice.contains("cannot be reached"), "{notice}");
    let buttons = sso.panel.texts("#sign-in-expired button").await;
    assert_eq!(buttons, ["Sign in again"]);
    assert!(
        sso.panel
            .texts("button")
            .await
            .iter()
            .all(|text| text != "Try again"),
        "nothing to try again"
    );
    assert_eq!(
        sso.panel.texts("#result-heading").await,
        ["Has premium for life"],
        "the profile on screen stays"
    );

    sso.panel.click("#sign-in-expired button").await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for_text("#result-heading", "No access: premium expired")
        .await;
    // The form's lookup names the demo's first app.
    let url = sso.panel.browser.current_url().await.unwrap();
    assert_eq!(url.query(), Some("app=main&customer_user_id=demo-expired"));
    sso.panel.close().await;
}

#[tokio::test]
async fn an_expired_session_redirected_by_the_proxy_asks_to_sign_in_again() {
    an_expired_session_leads_back_through_the_provider(Unauthenticated::Redirect).await;
}

#[tokio::test]
async fn an_expired_session_answered_401_by_the_proxy_asks_to_sign_in_again() {
    an_expired_session_leads_back_through_the_provider(Unauthenticated::Status401).await;
}

#[tokio::test]
async fn in_jwt_mode_the_proxy_session_ends_with_the_token() {
    let lifetime = Duration::from_secs(5);
    let sso = SignedIn::start(Setup {
        identity: Identity::Jwt,
        token_lifetime: lifetime,
        ..Setup::default()
    })
    .await;
    sso.panel.open("/?customer_user_id=demo-lifetime").await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;
    tokio::time::sleep(lifetime + Duration::from_secs(1)).await;

    // The proxy no longer vouches for a token it knows has expired: the
    // page asks to sign in again, and doing so works at once.
    sso.panel.look_up("customer_user_id", "demo-expired").await;
    sso.panel
        .wait_for_text("#sign-in-expired", "Your sign-in has expired")
        .await;
    sso.panel.click("#sign-in-expired button").await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for_text("#result-heading", "No access: premium expired")
        .await;
    sso.panel.close().await;
}

/// Only people in the role that may change access see *Grant access*,
/// *Extend* and *Revoke*; the relay refuses the others' calls too. The
/// role comes from the provider's `groups` claim: passed by the proxy as a
/// header, or read by the relay from the ID token.
async fn only_people_in_the_role_may_change_access(identity: Identity) {
    let mut sso = SignedIn::start(Setup {
        identity,
        changes: true,
        ..Setup::default()
    })
    .await;
    let agent = "agent@example.com";
    let lead = "lead@example.com";
    sso.set_claims(agent, json!({"email": agent, "groups": ["support"]}))
        .await;
    sso.set_claims(
        lead,
        json!({"email": lead, "groups": ["support", CHANGES_ROLE]}),
    )
    .await;
    let session = "const done = arguments[arguments.length - 1];
        fetch('api/session', {headers: {'X-CSRF': '1'}})
            .then((r) => r.json()).then((s) => done(s.can_change_access), (e) => done(String(e)));";

    sso.panel.open("/?customer_user_id=demo-play-store").await;
    sso.sign_in_as(agent).await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;
    let may = sso
        .panel
        .browser
        .execute_async(session, vec![])
        .await
        .unwrap();
    assert_eq!(may, json!(false), "the agent is not in the role");
    for button in ["#grant-access", "#extend-0", "#revoke-0"] {
        assert!(sso.panel.texts(button).await.is_empty(), "{button} shown");
    }
    // Asked directly, as a page script could: refused, and audited.
    let status = sso
        .panel
        .browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('api/access-level/revoke', {method: 'POST', headers: {
                 'X-CSRF': '1', 'Content-Type': 'application/json', 'X-Forwarded-Groups': 'support-leads'},
                 body: JSON.stringify({customer_user_id: 'demo-play-store',
                     access_level_id: 'premium', reason: 'trying'})})
             .then((r) => r.json()).then((b) => done(b.error.code), (e) => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!("changes_not_allowed"));

    // The lead signs in (the proxy forgot the agent's session) and may.
    sso.proxy_forgets_every_session().await;
    sso.panel.open("/?customer_user_id=demo-play-store").await;
    sso.sign_in_as(lead).await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;
    sso.panel.click("#revoke-0").await;
    sso.panel.wait_for("dialog#change-dialog[open]").await;
    sso.panel
        .wait_for("#change-reason")
        .await
        .send_keys("Granted by mistake, ticket 77")
        .await
        .unwrap();
    sso.panel.click("#change-confirm").await;
    sso.panel
        .wait_for_text("#change-notice", "Revoked premium.")
        .await;

    let changes: Vec<Value> = sso
        .audit_lines()
        .into_iter()
        .filter(|line| line.get("action").is_some())
        .collect();
    let seen: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|line| {
            (
                line["actor"].as_str().unwrap(),
                line["phase"].as_str().unwrap(),
                line["outcome"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (agent, "refused", "changes_not_allowed"),
            (lead, "asked", "-"),
            (lead, "done", "ok"),
        ]
    );
    assert_eq!(changes[1]["reason"], "Granted by mistake, ticket 77");
    sso.panel.close().await;
}

#[tokio::test]
async fn only_people_in_the_role_given_by_the_proxys_header_may_change_access() {
    only_people_in_the_role_may_change_access(Identity::Header).await;
}

#[tokio::test]
async fn only_people_in_the_role_given_by_the_id_token_may_change_access() {
    only_people_in_the_role_may_change_access(Identity::Jwt).await;
}

/// Adapty cuts the connection after the revoke was sent: the dialog says
/// the outcome is unknown and offers the lookup again, which shows what is
/// true; the relay sent the revoke once and audited both sides of it.
#[tokio::test]
async fn an_unknown_outcome_is_said_and_the_lookup_offered_again() {
    let seed = include_str!("../../fixtures/seed.json");
    let sso = SignedIn::start(Setup {
        changes: true,
        upstream: Some(vec![
            e2e::fault::ok(seed),
            e2e::Raw::Reset,
            e2e::fault::ok(seed),
        ]),
        ..Setup::default()
    })
    .await;
    let lead = "lead@example.com";
    sso.set_claims(lead, json!({"email": lead, "groups": [CHANGES_ROLE]}))
        .await;
    sso.panel
        .open(&format!("/?customer_user_id={SEED_CUSTOMER_USER_ID}"))
        .await;
    sso.sign_in_as(lead).await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;
    sso.panel.click("#revoke-0").await;
    sso.panel.wait_for("dialog#change-dialog[open]").await;
    sso.panel
        .wait_for("#change-reason")
        .await
        .send_keys("Refunded outside the store")
        .await
        .unwrap();
    sso.panel.click("#change-confirm").await;
    let said = sso
        .panel
        .wait_for_text("#change-problem", "may or may not have been applied")
        .await;
    assert!(said.contains("Look the customer up again"), "{said}");
    assert!(sso.panel.is_shown("#change-again").await);
    assert!(sso.panel.texts("#change-notice").await.concat().is_empty());

    sso.panel.click("#change-again").await;
    sso.panel.wait_for_gone("dialog#change-dialog[open]").await;
    sso.panel
        .wait_for_text("#result-heading", "Has premium")
        .await;
    let lines = sso.audit_lines();
    let change: Vec<(&str, &str)> = lines
        .iter()
        .filter(|line| line.get("action").is_some())
        .map(|line| {
            (
                line["phase"].as_str().unwrap(),
                line["outcome"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(change, [("asked", "-"), ("done", "outcome_unknown")]);
    let lookups = lines
        .iter()
        .filter(|line| line.get("action").is_none() && line["kind"] != "events")
        .count();
    assert_eq!(lookups, 2, "the lookup, and the lookup again: {lines:?}");
    sso.panel.close().await;
}

/// Notes (issue 23) between two people behind the sign-in: Ann adds one;
/// Bob reads it under her name, with no Delete (he is not in the notes
/// admin role), adds his own and deletes it, which names him. The audit
/// log names each author.
#[tokio::test]
async fn two_people_read_each_others_notes_and_delete_only_their_own() {
    let mut sso = SignedIn::start(Setup::default()).await;
    let bob = "bob@example.com";
    sso.panel.open("/?customer_user_id=demo-lifetime").await;
    sso.sign_in_as(ANN).await;
    sso.panel
        .wait_for("#note-text")
        .await
        .send_keys("Refund promised in ticket 12")
        .await
        .unwrap();
    sso.panel.click("#note-add").await;
    let note = sso
        .panel
        .wait_for_text("#note-list li", "Refund promised")
        .await;
    assert!(note.starts_with("ann@example.com \u{b7} "), "{note}");
    assert!(sso.panel.is_shown("#note-list li button").await, "hers");

    sso.proxy_forgets_every_session().await;
    sso.panel.open("/?customer_user_id=demo-lifetime").await;
    sso.sign_in_as(bob).await;
    let note = sso
        .panel
        .wait_for_text("#note-list li", "Refund promised")
        .await;
    assert!(note.starts_with("ann@example.com \u{b7} "), "{note}");
    assert!(
        !sso.panel.is_shown("#note-list li button").await,
        "not Bob's to delete"
    );
    sso.panel
        .wait_for("#note-text")
        .await
        .send_keys("Called back, refund done")
        .await
        .unwrap();
    sso.panel.click("#note-add").await;
    let mine = sso
        .panel
        .wait_for_text("#note-list li", "Called back")
        .await;
    assert!(mine.starts_with("bob@example.com \u{b7} "), "{mine}");
    sso.panel.click("#note-list li:first-child button").await;
    sso.panel
        .wait_for_text("#note-list", "Deleted by bob@example.com on ")
        .await;
    assert!(
        sso.panel
            .texts("#note-list")
            .await
            .concat()
            .contains("Refund promised"),
        "Ann's stays"
    );

    let lines = sso.audit_lines();
    let actors: Vec<&str> = lines
        .iter()
        .filter(|line| line["phase"] == "done")
        .filter(|line| line["action"] == "note_add" || line["action"] == "note_delete")
        .filter_map(|line| line["actor"].as_str())
        .collect();
    assert_eq!(actors, [ANN, bob, bob], "{lines:?}");
    sso.panel.close().await;
}
