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
//!
//! The rule alone, over the few fields it reads: `model` applies it to
//! every access level as it reads a profile (`Envelope::parse`).

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

/// An access level, subscription or purchase, as far as linking goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Purchase<'a> {
    pub store: &'a str,
    pub product: &'a str,
    pub transaction: Option<&'a str>,
    pub original_transaction: Option<&'a str>,
}

/// The environment of the purchase `level` comes from, and how it was
/// found, among `purchases` (each with the environment Adapty gave it);
/// `None` when unknown.
pub fn linked(level: Purchase, purchases: &[(Purchase, &str)]) -> Option<(String, Link)> {
    let same = |mine: Option<&str>, theirs: Option<&str>| mine.is_some() && mine == theirs;
    if let Some((_, environment)) = purchases.iter().find(|(purchase, _)| {
        same(level.transaction, purchase.transaction)
            || same(level.original_transaction, purchase.original_transaction)
    }) {
        return Some(((*environment).to_owned(), Link::Transaction));
    }
    let mut environments = purchases
        .iter()
        .filter(|(purchase, _)| purchase.store == level.store && purchase.product == level.product)
        .map(|&(_, environment)| environment);
    let first = environments.next()?;
    environments
        .all(|other| other.eq_ignore_ascii_case(first))
        .then(|| (first.to_owned(), Link::Product))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purchase<'a>(
        store: &'a str,
        product: &'a str,
        transaction: Option<&'a str>,
        original_transaction: Option<&'a str>,
    ) -> Purchase<'a> {
        Purchase {
            store,
            product,
            transaction,
            original_transaction,
        }
    }

    #[test]
    fn a_transaction_wins_over_a_product() {
        let level = purchase("app_store", "w", Some("t2"), Some("t1"));
        let purchases = [
            (purchase("app_store", "w", Some("t9"), None), "Sandbox"),
            (
                purchase("app_store", "w", Some("x"), Some("t1")),
                "Production",
            ),
        ];
        assert_eq!(
            linked(level, &purchases),
            Some(("Production".into(), Link::Transaction))
        );
        let same_transaction = [(purchase("play_store", "other", Some("t2"), None), "Sandbox")];
        assert_eq!(
            linked(level, &same_transaction),
            Some(("Sandbox".into(), Link::Transaction))
        );
    }

    #[test]
    fn a_product_links_only_when_its_purchases_agree_in_the_same_store() {
        let level = purchase("app_store", "w", None, None);
        let agreeing = [
            (purchase("app_store", "w", None, None), "Sandbox"),
            (purchase("app_store", "w", None, None), "sandbox"),
        ];
        assert_eq!(
            linked(level, &agreeing),
            Some(("Sandbox".into(), Link::Product))
        );
        let disagreeing = [
            (purchase("app_store", "w", None, None), "Sandbox"),
            (purchase("app_store", "w", None, None), "Production"),
        ];
        assert_eq!(linked(level, &disagreeing), None);
        let other_store = [(purchase("play_store", "w", None, None), "Sandbox")];
        assert_eq!(linked(level, &other_store), None);
        assert_eq!(linked(level, &[]), None);
    }

    #[test]
    fn absent_ids_do_not_link_to_each_other() {
        let level = purchase("adapty", "granted", None, None);
        let purchases = [(purchase("app_store", "x", None, None), "Sandbox")];
        assert_eq!(linked(level, &purchases), None);
    }
}
