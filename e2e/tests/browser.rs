//! What an admin sees in a real browser, against the demo relay.

use e2e::{Demo, ANONYMOUS_PROFILE_ID, SEED_CUSTOMER_USER_ID, SEED_PROFILE_ID};

#[tokio::test]
async fn typing_the_seed_id_shows_the_three_cards_with_the_seed_values() {
    let demo = Demo::start().await;
    demo.open("/").await;
    demo.look_up("customer_user_id", SEED_CUSTOMER_USER_ID)
        .await;

    let profile = demo.text_of("article.profile").await;
    for heading in ["Access levels", "Subscriptions", "Purchases"] {
        assert!(
            profile.contains(heading),
            "missing card {heading}:\n{profile}"
        );
    }
    let summary = demo.text_of(".summary").await;
    assert!(summary.contains(SEED_PROFILE_ID), "{summary}");
    assert!(summary.contains(SEED_CUSTOMER_USER_ID), "{summary}");
    assert!(summary.contains("$9.99"), "{summary}");

    let cards = demo
        .browser
        .find_all(e2e::fantoccini::Locator::Css("section.card"))
        .await
        .unwrap();
    assert_eq!(cards.len(), 3);
    let access = cards[0].text().await.unwrap();
    assert!(
        access.contains("premium") && access.contains("unlimited.9999"),
        "{access}"
    );
    assert!(
        access.contains("never (lifetime)") && access.contains("2025-01-05 13:27 UTC"),
        "{access}"
    );
    let subscriptions = cards[1].text().await.unwrap();
    assert!(
        subscriptions.contains("weekly.premium.599"),
        "{subscriptions}"
    );
    assert!(
        subscriptions.contains("2025-01-10 11:34 UTC"),
        "{subscriptions}"
    );
    let purchases = cards[2].text().await.unwrap();
    assert!(
        purchases.contains("1year.premium") && purchases.contains("2022-10-12 09:42 UTC"),
        "{purchases}"
    );

    let url = demo.browser.current_url().await.unwrap();
    assert_eq!(
        url.query(),
        Some(format!("customer_user_id={SEED_CUSTOMER_USER_ID}").as_str())
    );
    assert_eq!(demo.severe_console_messages().await, Vec::<String>::new());
    demo.close().await;
}

#[tokio::test]
async fn a_deep_link_runs_the_lookup_and_finds_an_anonymous_profile() {
    let demo = Demo::start().await;
    demo.open(&format!("/?profile_id={ANONYMOUS_PROFILE_ID}"))
        .await;
    let summary = demo.text_of(".summary").await;
    assert!(
        summary.contains("anonymous") && summary.contains(ANONYMOUS_PROFILE_ID),
        "{summary}"
    );
    let profile = demo.text_of("article.profile").await;
    assert!(
        profile.contains("coins_100") && profile.contains("Consumable"),
        "{profile}"
    );
    // The form shows what the link asked for.
    let input = demo.wait_for("#lookup-id").await;
    assert_eq!(
        input.prop("value").await.unwrap().as_deref(),
        Some(ANONYMOUS_PROFILE_ID)
    );
    demo.close().await;
}

#[tokio::test]
async fn an_unknown_customer_is_explained_with_the_next_step() {
    let demo = Demo::start().await;
    demo.open("/").await;
    demo.look_up("customer_user_id", "nobody-by-this-id").await;
    let error = demo.text_of(".error").await;
    assert!(
        error.contains("No profile has this customer user ID"),
        "{error}"
    );
    assert!(
        error.contains("profile ID"),
        "suggests the other kind of ID: {error}"
    );
    demo.close().await;
}

#[tokio::test]
async fn a_malformed_profile_id_says_what_is_wrong() {
    let demo = Demo::start().await;
    demo.open("/").await;
    demo.look_up("profile_id", "not-a-uuid").await;
    let error = demo.text_of(".error").await;
    assert!(error.contains("That ID cannot be looked up"), "{error}");
    assert!(error.contains("must be a UUID"), "{error}");
    demo.close().await;
}

#[tokio::test]
async fn back_and_forward_replay_the_lookups() {
    let demo = Demo::start().await;
    demo.open("/").await;
    demo.look_up("customer_user_id", SEED_CUSTOMER_USER_ID)
        .await;
    assert!(demo.text_of(".summary").await.contains(SEED_PROFILE_ID));
    demo.look_up("customer_user_id", "demo-lifetime").await;
    wait_for_text(&demo, ".summary", "demo-lifetime").await;

    demo.browser.back().await.unwrap();
    let summary = wait_for_text(&demo, ".summary", SEED_PROFILE_ID).await;
    assert!(summary.contains(SEED_CUSTOMER_USER_ID));
    demo.browser.forward().await.unwrap();
    wait_for_text(&demo, ".summary", "demo-lifetime").await;
    demo.close().await;
}

/// The page updates asynchronously: poll until `css` contains `expected`.
async fn wait_for_text(demo: &Demo, css: &str, expected: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(element) = demo.browser.find(e2e::fantoccini::Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if last.contains(expected) {
                return last;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{css} never contained {expected:?}; last text:\n{last}");
}
