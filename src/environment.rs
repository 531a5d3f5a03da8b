//! Whether an access level is a real (production) or a test (sandbox)
//! purchase, when Adapty does not say.
//!
//! Access levels carry `environment` only sometimes; subscriptions and
//! purchases always do. An access level comes from one of them, so when its
//! own field is absent it takes the environment of the purchase the profile
//! links it to, first match wins:
//!
//! 1. **Same transaction**: a subscription or purchase with the same
//!    `store_transaction_id`, or the same `store_original_transaction_id`.
//! 2. **Same product**: the subscriptions and purchases of the same store and
//!    `store_product_id`, when they all agree on one environment.
//!
//! Otherwise the environment stays unknown, which is never read as sandbox.

use crate::model::{AccessLevel, Profile};

/// How an access level's environment was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Transaction,
    Product,
}

impl Link {
    /// Said beside the environment on the access level's card.
    pub fn words(self) -> &'static str {
        match self {
            Link::Transaction => "not given by Adapty; from the purchase with the same transaction",
            Link::Product => "not given by Adapty; from the purchases of the same product",
        }
    }
}

/// One subscription or purchase, as far as linking goes.
struct Purchase<'a> {
    store: &'a str,
    product: &'a str,
    transaction: Option<&'a str>,
    original_transaction: Option<&'a str>,
    environment: &'a str,
}

/// Fills `linked_environment` of every access level that lacks `environment`.
pub fn link(profile: &mut Profile) {
    let mut purchases = Vec::new();
    for item in &profile.subscriptions {
        if let Some(environment) = &item.environment {
            purchases.push(Purchase {
                store: &item.store,
                product: &item.store_product_id,
                transaction: item.store_transaction_id.as_deref(),
                original_transaction: item.store_original_transaction_id.as_deref(),
                environment,
            });
        }
    }
    for item in &profile.non_subscriptions {
        if let Some(environment) = &item.environment {
            purchases.push(Purchase {
                store: &item.store,
                product: &item.store_product_id,
                transaction: item.store_transaction_id.as_deref(),
                original_transaction: item.store_original_transaction_id.as_deref(),
                environment,
            });
        }
    }
    let found: Vec<_> = profile
        .access_levels
        .iter()
        .map(|level| match level.environment {
            Some(_) => None,
            None => linked(level, &purchases),
        })
        .collect();
    for (level, found) in profile.access_levels.iter_mut().zip(found) {
        level.linked_environment = found;
    }
}

fn linked(level: &AccessLevel, purchases: &[Purchase]) -> Option<(String, Link)> {
    let same = |mine: &Option<String>, theirs: Option<&str>| {
        mine.as_deref().is_some_and(|mine| Some(mine) == theirs)
    };
    if let Some(purchase) = purchases.iter().find(|purchase| {
        same(&level.store_transaction_id, purchase.transaction)
            || same(
                &level.store_original_transaction_id,
                purchase.original_transaction,
            )
    }) {
        return Some((purchase.environment.to_owned(), Link::Transaction));
    }
    let mut environments = purchases
        .iter()
        .filter(|purchase| {
            purchase.store == level.store && purchase.product == level.store_product_id
        })
        .map(|purchase| purchase.environment);
    let first = environments.next()?;
    environments
        .all(|other| other.eq_ignore_ascii_case(first))
        .then(|| (first.to_owned(), Link::Product))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Envelope;

    fn linked_of(body: &str) -> Option<(String, Link)> {
        Envelope::parse(body).unwrap().access_levels[0]
            .linked_environment
            .clone()
    }

    #[test]
    fn the_seeds_premium_is_linked_to_its_sandbox_product() {
        let seed = Envelope::parse(include_str!("../fixtures/seed.json")).unwrap();
        let premium = &seed.access_levels[0];
        assert_eq!(premium.environment, None, "Adapty's field stays as sent");
        assert_eq!(
            premium.linked_environment,
            Some(("Sandbox".into(), Link::Product))
        );
        assert_eq!(premium.effective_environment(), Some("Sandbox"));
    }

    #[test]
    fn a_transaction_wins_over_a_product() {
        let body = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w",
                "store_transaction_id":"t2","store_original_transaction_id":"t1"}],
            "subscriptions":[
                {"store":"app_store","store_product_id":"w","store_transaction_id":"t9","environment":"Sandbox"},
                {"store":"app_store","store_product_id":"w","store_transaction_id":"x",
                 "store_original_transaction_id":"t1","environment":"Production"}]}}"#;
        assert_eq!(
            linked_of(body),
            Some(("Production".into(), Link::Transaction))
        );
    }

    #[test]
    fn a_purchase_links_too_and_disagreeing_products_do_not() {
        let purchase = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"lifetime","store":"play_store","store_product_id":"life",
                "store_transaction_id":"GPA.1"}],
            "non_subscriptions":[{"store":"play_store","store_product_id":"other",
                "store_transaction_id":"GPA.1","environment":"Sandbox"}]}}"#;
        assert_eq!(
            linked_of(purchase),
            Some(("Sandbox".into(), Link::Transaction))
        );
        let disagreeing = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w"}],
            "subscriptions":[
                {"store":"app_store","store_product_id":"w","environment":"Sandbox"},
                {"store":"app_store","store_product_id":"w","environment":"Production"}]}}"#;
        assert_eq!(linked_of(disagreeing), None);
        let other_store = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w"}],
            "subscriptions":[{"store":"play_store","store_product_id":"w","environment":"Sandbox"}]}}"#;
        assert_eq!(linked_of(other_store), None);
    }

    #[test]
    fn a_given_environment_is_never_replaced() {
        let body = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w",
                "environment":"Production"}],
            "subscriptions":[{"store":"app_store","store_product_id":"w","environment":"Sandbox"}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert_eq!(profile.access_levels[0].linked_environment, None);
        assert_eq!(
            profile.access_levels[0].effective_environment(),
            Some("Production")
        );
    }

    #[test]
    fn null_ids_do_not_link_to_each_other() {
        let body = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"adapty","store_product_id":"granted",
                "store_transaction_id":null}],
            "non_subscriptions":[{"store":"app_store","store_product_id":"x",
                "store_transaction_id":null,"environment":"Sandbox"}]}}"#;
        assert_eq!(linked_of(body), None);
    }
}
