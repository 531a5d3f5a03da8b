//! Correcting and erasing a customer's profile: the fields of
//! `POST api/profile/update` and `POST api/profile/erase`
//! ([`crate::path::PROFILE_UPDATE`], [`crate::path::PROFILE_ERASE`]), the
//! rules a custom attribute follows (Adapty's, checked by the panel as the
//! agent types and by the relay before anything is sent), and what the
//! relay answers to an erasure, and to a lookup of a customer it erased.

use serde::{Deserialize, Serialize};

/// The fields of a correction, beside the customer's ID, `app` and `reason`.
/// Each is optional; at least one must be given.
pub mod field {
    /// Contact details: a string sets, `null` clears. Adapty keeps them but
    /// never shows them back through its API.
    pub const EMAIL: &str = "email";
    pub const PHONE_NUMBER: &str = "phone_number";
    pub const FIRST_NAME: &str = "first_name";
    pub const LAST_NAME: &str = "last_name";
    /// The contact fields, in the order a form shows them.
    pub const CONTACT: &[&str] = &[EMAIL, PHONE_NUMBER, FIRST_NAME, LAST_NAME];
    /// An object of key to value: a string or a number sets the attribute,
    /// `null` removes it; the attributes not named stay as they are.
    pub const CUSTOM_ATTRIBUTES: &str = "custom_attributes";
    /// An erasure's confirmation: the customer's ID typed again, exactly.
    pub const CONFIRM: &str = "confirm";
}

/// How many custom attributes a profile may have, after a change.
pub const MAX_ATTRIBUTES: usize = 30;
/// A key's length, in characters: 1 to this.
pub const MAX_KEY_LENGTH: usize = 30;
/// A string value's length, in characters (Adapty's spec; two of its pages
/// say 30, so the panel warns above [`WARN_VALUE_LENGTH`]).
pub const MAX_VALUE_LENGTH: usize = 50;
pub const WARN_VALUE_LENGTH: usize = 30;
/// A contact field's length, in characters.
pub const MAX_CONTACT_LENGTH: usize = 254;

/// Why a custom attribute's key cannot be used, or `None`.
pub fn key_problem(key: &str) -> Option<String> {
    let length = key.chars().count();
    if length == 0 || length > MAX_KEY_LENGTH {
        return Some(format!(
            "the key {key:?} must be 1 to {MAX_KEY_LENGTH} characters"
        ));
    }
    if !key
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'))
    {
        return Some(format!(
            "the key {key:?} may hold only letters, digits, '-', '.' and '_'"
        ));
    }
    None
}

/// Why a custom attribute's string value cannot be used, or `None`. A
/// value is never empty: removing the attribute is how it is emptied.
pub fn text_value_problem(key: &str, value: &str) -> Option<String> {
    let length = value.chars().count();
    if length == 0 {
        return Some(format!(
            "the value of {key:?} is empty; remove the attribute instead"
        ));
    }
    if length > MAX_VALUE_LENGTH {
        return Some(format!(
            "the value of {key:?} must be at most {MAX_VALUE_LENGTH} characters"
        ));
    }
    if value.chars().any(char::is_control) {
        return Some(format!("the value of {key:?} contains a control character"));
    }
    None
}

/// What the relay answers to an erasure Adapty confirmed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Erased {
    /// When Adapty confirmed it, RFC 3339.
    pub erased_at: String,
    /// Who, as the audit log names them (the SSO identity).
    pub erased_by: String,
    /// What the relay's store forgot with it; `None` when the relay keeps
    /// no store.
    pub store: Option<StoreErasure>,
}

/// The relay's store after an erasure.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreErasure {
    /// Whether the customer's events, index rows and notes are gone; when
    /// not, `message` says why and what the operator runs instead.
    pub cleared: bool,
    pub events: u64,
    pub index_rows: u64,
    pub notes: u64,
    pub message: Option<String>,
}

/// Beside `code` and `message` in a lookup's `profile_not_found` error,
/// when the relay's store remembers erasing that customer:
/// `{"error": {"code", "message", "erased": {"at", "by"}}}`.
pub const ERASED: &str = "erased";

/// The one fact kept of an erasure (with the ID, hashed).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ErasureRecord {
    /// RFC 3339.
    pub at: String,
    /// Who, as the audit log names them.
    pub by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_adaptys_rule() {
        for good in ["plan", "a", "tier-2.beta_x", &"k".repeat(30)] {
            assert_eq!(key_problem(good), None, "{good}");
        }
        assert!(key_problem("").unwrap().contains("1 to 30"));
        assert!(key_problem(&"k".repeat(31)).unwrap().contains("1 to 30"));
        for bad in ["has space", "émoji", "a/b", "a:b"] {
            assert!(key_problem(bad).unwrap().contains("only letters"), "{bad}");
        }
    }

    #[test]
    fn values_are_short_visible_text() {
        assert_eq!(text_value_problem("k", &"é".repeat(50)), None);
        assert!(text_value_problem("k", &"é".repeat(51))
            .unwrap()
            .contains("at most 50"));
        assert!(text_value_problem("k", "").unwrap().contains("remove"));
        assert!(text_value_problem("k", "a\u{7}")
            .unwrap()
            .contains("control"));
    }
}
