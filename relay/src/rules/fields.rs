//! A request body's fields, read one at a time so that every error names
//! its field: a JSON object, each field once, none but those allowed. The
//! bodies of changes, corrections and erasures are all read this way, and
//! their customer and reason under the same rules.

use super::lookup::Lookup;
use crate::error::RelayError;
use protocol::{field, param};
use serde::Deserialize;
use serde_json::Value;

pub struct Fields(Vec<(String, Value)>);

fn invalid(message: String) -> RelayError {
    RelayError::InvalidRequest(message)
}

impl Fields {
    /// The fields of `body`, which must all be among `allowed`; `what` names
    /// the request in errors ("a grant takes …").
    pub fn read(body: &[u8], allowed: &[&str], what: &str) -> Result<Fields, RelayError> {
        let Pairs(pairs) = serde_json::from_slice(body).map_err(|error| {
            invalid(format!(
                "the body is not a JSON object of the {what}'s fields: {error}"
            ))
        })?;
        for (at, (name, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                return Err(invalid(format!(
                    "unknown field `{name}`; a {what} takes {}",
                    allowed.join(", ")
                )));
            }
            if pairs[..at].iter().any(|(earlier, _)| earlier == name) {
                return Err(invalid(format!("the field `{name}` is given twice")));
            }
        }
        Ok(Fields(pairs))
    }

    /// A field as sent, `null` included; `None` when left out.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        let at = self.0.iter().position(|(own, _)| own == name)?;
        Some(self.0.swap_remove(at).1)
    }

    /// A text field; left out or `null` is `None`.
    pub fn text(&mut self, name: &str) -> Result<Option<String>, RelayError> {
        match self.take(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(invalid(format!(
                "{name} must be a string, not {}",
                kind(&other)
            ))),
        }
    }

    /// A text field that must be there.
    pub fn required(&mut self, name: &str) -> Result<String, RelayError> {
        self.text(name)?
            .ok_or_else(|| invalid(format!("missing field `{name}`: it must be a string")))
    }

    /// The customer, by exactly one of the two IDs, under the lookup's rules.
    pub fn customer(&mut self) -> Result<Lookup, RelayError> {
        let customer_user_id = self.text(param::CUSTOMER_USER_ID)?;
        let profile_id = self.text(param::PROFILE_ID)?;
        Lookup::from_ids(customer_user_id, profile_id)
    }

    /// The reason, under the rule written once for the panel and the relay
    /// (`protocol::reason`): trimmed, at least three visible characters, no
    /// control (but line breaks and tabs), format or line-separator character.
    pub fn reason(&mut self) -> Result<String, RelayError> {
        let reason = self.required(field::REASON)?;
        protocol::reason::check(&reason)
            .map(str::to_owned)
            .map_err(|error| invalid(error.to_string()))
    }
}

/// How a JSON value that is not text is named in an error.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A JSON object's fields in order, duplicates kept (a map would keep only
/// the last, and an audit line must not say one thing while another is meant).
pub struct Pairs(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Pairs, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Pairs, M::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
