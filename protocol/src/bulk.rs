//! Checking many customers at once: `POST api/bulk` with a list of IDs and
//! a reason ([`field`]), answered as NDJSON, one JSON object a line, as
//! results come: a [`Start`], one [`Checked`] per ID in the list's order,
//! and an [`End`] (absent when the client went away first). The relay
//! paces the run within the app's Adapty budget; the panel pauses by
//! ending the request and resumes with the IDs left.

use serde::{Deserialize, Serialize};

/// The fields of `POST api/bulk`, beside `app` and `reason`.
pub mod field {
    /// A list of strings: customer user IDs, profile IDs, and with the
    /// store's index, emails and transaction IDs.
    pub const IDS: &str = "ids";
}

/// The value of every line's `type`.
pub mod line {
    pub const START: &str = "start";
    pub const CHECKED: &str = "checked";
    pub const END: &str = "end";
}

/// The values of [`Checked::status`].
pub mod status {
    /// Found: `profile` is Adapty's profile, as a lookup answers it.
    pub const FOUND: &str = "found";
    pub const NOT_FOUND: &str = "not_found";
    /// Not an ID the relay can look up; `error` says why.
    pub const INVALID: &str = "invalid";
    /// An email or transaction ID the store's index has for several customers.
    pub const AMBIGUOUS: &str = "ambiguous";
    /// Adapty or the relay failed for this one; `error` says how.
    pub const FAILED: &str = "failed";
}

/// The first line: the run, and what the list came to.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Start {
    #[serde(rename = "type")]
    pub kind: String,
    /// The relay's ID of the run, in its audit lines.
    pub run_id: String,
    /// IDs to check, after blanks and duplicates were dropped.
    pub count: usize,
    pub duplicates: usize,
    pub blanks: usize,
    /// Checks a minute the runs of an app may make together (half its
    /// Adapty budget: the rest is the interactive lookups').
    pub per_minute: u32,
}

/// One ID's result, in the list's order (`index` from 0).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Checked {
    #[serde(rename = "type")]
    pub kind: String,
    pub index: usize,
    /// As given.
    pub id: String,
    /// One of [`status`].
    pub status: String,
    /// How the ID was read: `customer_user_id`, `profile_id`, or what the
    /// store's index matched (`email`, `transaction_id`, …).
    pub matched: Option<String>,
    pub error: Option<String>,
}

/// Beside a found ID's fields: Adapty's profile envelope `{"data": …}`,
/// exactly as a lookup answers it (the relay writes it through unparsed).
pub const PROFILE: &str = "profile";

/// Beside a found ID's fields, when the relay keeps a store that has any:
/// the customer's newest event from Adapty's webhooks, a
/// [`crate::feed::FeedEvent`] written as a JSON string (its keys, some
/// Adapty's own, then never look like the line's [`PROFILE`] key).
pub const LAST_EVENT: &str = "last_event";

/// The last line: how many of each, and whether the run was cut short.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct End {
    #[serde(rename = "type")]
    pub kind: String,
    pub found: usize,
    pub not_found: usize,
    pub invalid: usize,
    pub ambiguous: usize,
    pub failed: usize,
    pub cancelled: bool,
}
