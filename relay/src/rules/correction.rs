//! A correction of a customer's profile: contact details (email, phone,
//! names) and custom attributes to set or remove, with a reason.
//!
//! Read strictly like a change (`fields`), and every rule checked here, the
//! field named in the error, before any byte goes to Adapty: the custom
//! attribute's rules are Adapty's, written once for the panel and the relay
//! (`protocol::correction`). Only the count after the change (at most 30)
//! needs the profile as it is, and is checked against it (`count_after`).

use super::fields::{kind, Fields, Pairs};
use super::lookup::Lookup;
use crate::error::RelayError;
use protocol::correction::{
    field as correction, key_problem, text_value_problem, MAX_ATTRIBUTES, MAX_CONTACT_LENGTH,
};
use protocol::{field, param};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The largest body a correction may have: thirty attributes of the longest
/// keys and values, four contact fields and a reason fit, in any script.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A checked correction, ready for Adapty and the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub customer: Lookup,
    pub reason: String,
    /// The contact fields given, in protocol's names: `None` clears.
    pub contact: Vec<(&'static str, Option<String>)>,
    /// The custom attributes named, in the order given: `None` removes.
    pub attributes: Vec<(String, Option<AttributeValue>)>,
}

/// A custom attribute's value: a string or a number, as Adapty takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttributeValue {
    Text(String),
    Number(serde_json::Number),
}

fn invalid(message: String) -> RelayError {
    RelayError::InvalidRequest(message)
}

/// The nested object of custom attributes, read again with its duplicates
/// kept (a JSON object's reader keeps only the last).
#[derive(Deserialize)]
struct Attributes {
    #[serde(default)]
    custom_attributes: Option<Pairs>,
}

impl Correction {
    /// Reads and checks a body; with the app it names, if any.
    pub fn read(body: &[u8]) -> Result<(Correction, Option<String>), RelayError> {
        let mut allowed = vec![
            param::APP,
            param::CUSTOMER_USER_ID,
            param::PROFILE_ID,
            field::REASON,
            correction::CUSTOM_ATTRIBUTES,
        ];
        allowed.extend_from_slice(correction::CONTACT);
        let mut fields = Fields::read(body, &allowed, "correction")?;
        let customer = fields.customer()?;
        let mut contact = Vec::new();
        for &name in correction::CONTACT {
            if let Some(value) = fields.take(name) {
                contact.push((name, contact_checked(name, value)?));
            }
        }
        let attributes = match fields.take(correction::CUSTOM_ATTRIBUTES) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(_)) => {
                let nested: Attributes = serde_json::from_slice(body)
                    .map_err(|error| invalid(format!("the body cannot be read: {error}")))?;
                attributes_checked(nested.custom_attributes.map_or(Vec::new(), |pairs| pairs.0))?
            }
            Some(other) => {
                return Err(invalid(format!(
                    "{} must be an object of key to value, not {}",
                    correction::CUSTOM_ATTRIBUTES,
                    kind(&other)
                )))
            }
        };
        if contact.is_empty() && attributes.is_empty() {
            return Err(invalid(format!(
                "nothing to correct: give {} or {}",
                correction::CONTACT.join(", "),
                correction::CUSTOM_ATTRIBUTES
            )));
        }
        let correction = Correction {
            customer,
            reason: fields.reason()?,
            contact,
            attributes,
        };
        Ok((correction, fields.text(param::APP)?))
    }

    /// Whether the profile, with `current` custom attribute keys, keeps at
    /// most 30 after this correction.
    pub fn count_after(&self, current: &[String]) -> Result<(), RelayError> {
        let mut keys: Vec<&str> = current.iter().map(String::as_str).collect();
        for (key, value) in &self.attributes {
            keys.retain(|kept| kept != key);
            if value.is_some() {
                keys.push(key);
            }
        }
        if keys.len() > MAX_ATTRIBUTES {
            return Err(invalid(format!(
                "{}: the profile would have {} custom attributes, and Adapty keeps at most \
                 {MAX_ATTRIBUTES}; remove some first",
                correction::CUSTOM_ATTRIBUTES,
                keys.len()
            )));
        }
        Ok(())
    }

    /// The body of Adapty's `PATCH profile/`. A removed attribute is sent as
    /// an empty string, as Adapty's pages say (its spec has no `null`).
    pub fn adapty_body(&self) -> Vec<u8> {
        let mut body = serde_json::Map::new();
        for (name, value) in &self.contact {
            body.insert((*name).into(), json!(value));
        }
        if !self.attributes.is_empty() {
            let pairs: Vec<Value> = self
                .attributes
                .iter()
                .map(|(key, value)| match value {
                    Some(value) => json!({"key": key, "value": value}),
                    None => json!({"key": key, "value": ""}),
                })
                .collect();
            body.insert(correction::CUSTOM_ATTRIBUTES.into(), Value::Array(pairs));
        }
        serde_json::to_vec(&body).expect("a JSON value always serializes")
    }

    /// What the audit log keeps: the contact fields by name only (a
    /// person's details stay out of the log), custom attributes with their
    /// values (`null`: removed).
    pub fn audit(&self) -> AuditCorrection<'_> {
        AuditCorrection {
            contact: self.contact.iter().map(|(name, _)| *name).collect(),
            custom_attributes: self
                .attributes
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_ref()))
                .collect(),
        }
    }
}

/// A correction as its audit lines show it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditCorrection<'a> {
    pub contact: Vec<&'static str>,
    pub custom_attributes: Vec<(&'a str, Option<&'a AttributeValue>)>,
}

/// A contact field: a string sets it (trimmed, checked), `null` clears it.
fn contact_checked(name: &str, value: Value) -> Result<Option<String>, RelayError> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(text) => text.trim().to_owned(),
        other => {
            return Err(invalid(format!(
                "{name} must be a string, or null to clear it, not {}",
                kind(&other)
            )))
        }
    };
    if text.is_empty() {
        return Err(invalid(format!("{name} is empty; send null to clear it")));
    }
    if text.chars().count() > MAX_CONTACT_LENGTH {
        return Err(invalid(format!(
            "{name} must be at most {MAX_CONTACT_LENGTH} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(format!("{name} contains a control character")));
    }
    let fits = match name {
        correction::EMAIL => email_address::EmailAddress::parse_with_options(
            &text,
            email_address::Options::default()
                .with_required_tld()
                .without_domain_literal()
                .without_display_text(),
        )
        .is_ok(),
        correction::PHONE_NUMBER => {
            text.chars().filter(char::is_ascii_digit).count() >= 3
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
        }
        _ => true,
    };
    if !fits {
        return Err(invalid(match name {
            correction::EMAIL => format!("{name} is not an email address, such as ann@example.com"),
            _ => format!("{name} must be digits, with +, spaces, -, ( ) or . between them"),
        }));
    }
    Ok(Some(text))
}

/// Each attribute's key and value under Adapty's rules; each key once.
fn attributes_checked(
    pairs: Vec<(String, Value)>,
) -> Result<Vec<(String, Option<AttributeValue>)>, RelayError> {
    let name = correction::CUSTOM_ATTRIBUTES;
    let mut checked: Vec<(String, Option<AttributeValue>)> = Vec::new();
    for (key, value) in pairs {
        if let Some(problem) = key_problem(&key) {
            return Err(invalid(format!("{name}: {problem}")));
        }
        if checked.iter().any(|(earlier, _)| *earlier == key) {
            return Err(invalid(format!("{name}: the key {key:?} is given twice")));
        }
        let value = match value {
            Value::Null => None,
            Value::String(text) => {
                if let Some(problem) = text_value_problem(&key, &text) {
                    return Err(invalid(format!("{name}: {problem}")));
                }
                Some(AttributeValue::Text(text))
            }
            Value::Number(number) => Some(AttributeValue::Number(number)),
            other => {
                return Err(invalid(format!(
                    "{name}: the value of {key:?} must be a string, a number, or null to remove \
                     it, not {}",
                    kind(&other)
                )))
            }
        };
        checked.push((key, value));
    }
    if checked.len() > 2 * MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "{name}: at most {} keys in one correction",
            2 * MAX_ATTRIBUTES
        )));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: Value) -> Result<Correction, RelayError> {
        Correction::read(body.to_string().as_bytes()).map(|(correction, _)| correction)
    }

    fn message(result: Result<Correction, RelayError>) -> String {
        match result {
            Err(RelayError::InvalidRequest(message)) => message,
            other => panic!("should be invalid: {other:?}"),
        }
    }

    #[test]
    fn a_correction_reads_into_adaptys_body() {
        let correction = read(json!({
            "customer_user_id": "u1", "reason": "ticket 7",
            "email": " ann@example.com ", "last_name": null,
            "custom_attributes": {"tier": "gold", "score": 4.5, "old": null}
        }))
        .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&correction.adapty_body()).unwrap(),
            // In the body's order (json! sorts its keys).
            json!({"email": "ann@example.com", "last_name": null, "custom_attributes": [
                {"key": "old", "value": ""}, {"key": "score", "value": 4.5},
                {"key": "tier", "value": "gold"}]})
        );
        let audit = serde_json::to_value(correction.audit()).unwrap();
        assert_eq!(
            audit,
            json!({"contact": ["email", "last_name"], "custom_attributes": [
                ["old", null], ["score", 4.5], ["tier", "gold"]]})
        );
        assert!(
            !audit.to_string().contains("ann@"),
            "contact values stay out of the log"
        );
    }

    #[test]
    fn every_rule_names_its_field() {
        let base = json!({"customer_user_id": "u", "reason": "ticket 1"});
        let with = |extra: Value| {
            let mut body = base.clone();
            for (key, value) in extra.as_object().unwrap() {
                body[key] = value.clone();
            }
            read(body)
        };
        let cases = [
            (json!({}), "nothing to correct"),
            (json!({"custom_attributes": {}}), "nothing to correct"),
            (json!({"nickname": "x"}), "unknown field `nickname`"),
            (
                json!({"email": "not an email"}),
                "email is not an email address",
            ),
            (
                json!({"email": "ann@localhost"}),
                "email is not an email address",
            ),
            (
                json!({"email": "Ann <ann@example.com>"}),
                "email is not an email",
            ),
            (json!({"email": ""}), "email is empty; send null"),
            (json!({"email": 5}), "email must be a string, or null"),
            (
                json!({"phone_number": "call me"}),
                "phone_number must be digits",
            ),
            (
                json!({"first_name": "a\u{7}"}),
                "first_name contains a control",
            ),
            (
                json!({"last_name": "x".repeat(255)}),
                "last_name must be at most 254",
            ),
            (
                json!({"custom_attributes": []}),
                "custom_attributes must be an object",
            ),
            (
                json!({"custom_attributes": {"has space": "x"}}),
                "custom_attributes: the key \"has space\" may hold only",
            ),
            (
                json!({"custom_attributes": {"k".repeat(31): "x"}}),
                "must be 1 to 30 characters",
            ),
            (json!({"custom_attributes": {"": "x"}}), "must be 1 to 30"),
            (
                json!({"custom_attributes": {"k": "v".repeat(51)}}),
                "the value of \"k\" must be at most 50",
            ),
            (
                json!({"custom_attributes": {"k": ""}}),
                "remove the attribute instead",
            ),
            (
                json!({"custom_attributes": {"k": true}}),
                "must be a string, a number, or null to remove it, not true or false",
            ),
            (json!({"custom_attributes": {"k": [1]}}), "not a list"),
            (
                json!({"reason": "ab", "email": null}),
                "reason must have at least 3",
            ),
            (json!({"profile_id": "x"}), "not both"),
        ];
        for (extra, expected) in cases {
            let text = message(with(extra.clone()));
            assert!(text.contains(expected), "{extra}: {text}");
        }
        let twice =
            br#"{"customer_user_id":"u","reason":"why","custom_attributes":{"k":"a","k":"b"}}"#;
        assert!(message(Correction::read(twice).map(|(c, _)| c)).contains("\"k\" is given twice"));
        let many: serde_json::Map<String, Value> =
            (0..61).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(message(with(json!({"custom_attributes": many}))).contains("at most 60 keys"));
        // The edges pass.
        assert!(with(json!({"custom_attributes": {"k".repeat(30): "é".repeat(50)}})).is_ok());
        assert!(with(json!({"phone_number": "+1 (555) 010-9999"})).is_ok());
        assert!(with(json!({"email": null})).is_ok());
    }

    #[test]
    fn at_most_thirty_attributes_after_the_change() {
        let current: Vec<String> = (0..29).map(|i| format!("k{i}")).collect();
        let adds = |keys: &[&str]| {
            let map: serde_json::Map<String, Value> = keys
                .iter()
                .map(|key| ((*key).to_owned(), json!("v")))
                .collect();
            read(json!({"customer_user_id": "u", "reason": "why", "custom_attributes": map}))
                .unwrap()
        };
        assert!(adds(&["new"]).count_after(&current).is_ok(), "30");
        let error = adds(&["new", "other"]).count_after(&current).unwrap_err();
        assert!(error.message().contains("would have 31"), "{error:?}");
        assert!(
            adds(&["k0", "new"]).count_after(&current).is_ok(),
            "a changed key is not a new one"
        );
        let swap = read(json!({"customer_user_id": "u", "reason": "why",
            "custom_attributes": {"k0": null, "a": "1", "b": "2", "c": "3"}}))
        .unwrap();
        assert!(swap
            .count_after(&current)
            .unwrap_err()
            .message()
            .contains("31"));
    }
}
