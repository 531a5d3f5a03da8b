//! What a profile Adapty sent names its customer by, for the store's
//! index: the two IDs and every store transaction ID of its access levels,
//! subscriptions and purchases. Read off the lookup's path. And the keys
//! of its custom attributes, which a correction is checked against.

use crate::store::ingest::Seen;
use protocol::feed::matched;
use serde::Deserialize;

#[derive(Deserialize)]
struct Answer {
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    profile_id: String,
    #[serde(default)]
    customer_user_id: Option<String>,
    #[serde(default)]
    access_levels: Option<Vec<Transaction>>,
    #[serde(default)]
    subscriptions: Option<Vec<Transaction>>,
    #[serde(default)]
    non_subscriptions: Option<Vec<Transaction>>,
}

#[derive(Deserialize)]
struct Transaction {
    #[serde(default)]
    store_transaction_id: Option<String>,
    #[serde(default)]
    store_original_transaction_id: Option<String>,
}

#[derive(Deserialize)]
struct AttributesAnswer {
    data: AttributesData,
}

#[derive(Deserialize)]
struct AttributesData {
    #[serde(default)]
    custom_attributes: Option<Vec<Attribute>>,
}

#[derive(Deserialize)]
struct Attribute {
    key: String,
}

#[derive(Deserialize)]
struct IdAnswer {
    data: IdData,
}

#[derive(Deserialize)]
struct IdData {
    profile_id: String,
}

/// The profile's ID; `None` for anything that is not a profile.
pub fn profile_id(profile: &[u8]) -> Option<String> {
    let IdAnswer { data } = serde_json::from_slice(profile).ok()?;
    Some(data.profile_id)
}

/// The keys of the profile's custom attributes; `None` for anything that
/// is not a profile.
pub fn attribute_keys(profile: &[u8]) -> Option<Vec<String>> {
    let AttributesAnswer { data } = serde_json::from_slice(profile).ok()?;
    Some(
        data.custom_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|attribute| attribute.key)
            .collect(),
    )
}

/// `None` for anything that is not a profile.
pub fn seen(profile: &[u8]) -> Option<Seen> {
    let Answer { data } = serde_json::from_slice(profile).ok()?;
    // As the webhook reads them: trimmed, blank is absent.
    let blank = |id: Option<String>| {
        id.map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty() && id.len() <= 256)
    };
    let mut transactions: Vec<(&'static str, String)> = Vec::new();
    for transaction in [
        data.access_levels,
        data.subscriptions,
        data.non_subscriptions,
    ]
    .into_iter()
    .flatten()
    .flatten()
    {
        for (kind, id) in [
            (matched::TRANSACTION_ID, transaction.store_transaction_id),
            (
                matched::ORIGINAL_TRANSACTION_ID,
                transaction.store_original_transaction_id,
            ),
        ] {
            if let Some(id) = blank(id) {
                if !transactions
                    .iter()
                    .any(|(k, known)| *k == kind && *known == id)
                {
                    transactions.push((kind, id));
                }
            }
        }
    }
    let profile_id = uuid::Uuid::parse_str(&data.profile_id)
        .map_or(data.profile_id, |uuid| uuid.hyphenated().to_string());
    Some(Seen {
        profile_id,
        customer_user_id: blank(data.customer_user_id),
        email: None,
        transactions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_names_its_customer_and_transactions() {
        let example = include_str!("../../../fixtures/profile-response-example.json");
        let seen = seen(example.as_bytes()).unwrap();
        assert_eq!(seen.profile_id, "3fa85f64-5717-4562-b3fc-2c963f66afa6");
        assert_eq!(
            seen.customer_user_id.as_deref(),
            Some("8612ED7C-3477-466D-93AE-1854B8E5FDD5")
        );
        assert!(seen
            .transactions
            .contains(&(matched::TRANSACTION_ID, "530001802720333".into())));
        assert!(seen
            .transactions
            .contains(&(matched::ORIGINAL_TRANSACTION_ID, "530001724306018".into())));
        assert_eq!(seen.transactions.len(), 3, "{:?}", seen.transactions);
        assert!(super::seen(b"{\"error\":1}").is_none());
    }
}
