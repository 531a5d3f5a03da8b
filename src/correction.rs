//! Correcting a customer's profile from the panel (`POST
//! api/profile/update`): what the agent typed in the dialog, checked as
//! they type by `protocol::correction`'s rules (the relay checks again),
//! the preview of what changes, the request's body, and whether Adapty's
//! answer shows what was asked.
//!
//! The rules:
//!
//! - **Contact details** (email, phone number, first and last name): a
//!   field typed is set; one left empty stays as Adapty has it. Adapty
//!   keeps them but never shows them back, so the dialog starts empty and
//!   nothing after saving can show them.
//! - **Custom attributes** are rows of key and value, starting as the
//!   profile has them. A row added is set, a value changed is set, a row
//!   removed (or its key changed) removes that attribute; rows left as
//!   they were are not sent. A value keeps its kind: a number stays a
//!   number while it reads as one, a new value that reads as a number is
//!   one, every other value is text.
//! - Keys and values follow Adapty's rules (`protocol::correction`); at
//!   most [`MAX_ATTRIBUTES`] after the change. A value longer than
//!   [`WARN_VALUE_LENGTH`] is warned of, not refused: two of Adapty's pages
//!   say 30 is the most.
//! - Adapty does not promise to remove an attribute: after saving, an
//!   answer that still has one removed, or another value than the one set,
//!   is said plainly.

use crate::change::sentence;
use crate::lookup::Lookup;
use crate::model::{Loose, Profile};
use protocol::correction::{
    field, key_problem, text_value_problem, MAX_ATTRIBUTES, MAX_CONTACT_LENGTH, WARN_VALUE_LENGTH,
};
use protocol::param;

/// The start of a correction's or an erasure's body: the customer as the
/// page shows them (`handoff::customer`: by customer user ID when they
/// have one), the app (none named when the relay serves one), the reason.
pub fn naming(customer: &Lookup, reason: &str) -> Vec<(String, Loose)> {
    let mut body = vec![(
        customer.kind.param().to_owned(),
        Loose::Text(customer.id.clone()),
    )];
    if !customer.app.is_empty() {
        body.push((param::APP.into(), Loose::Text(customer.app.clone())));
    }
    body.push((
        protocol::field::REASON.into(),
        Loose::Text(reason.trim().into()),
    ));
    body
}

/// What the agent typed in the dialog.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Edit {
    /// In `field::CONTACT`'s order; empty: left as it is.
    pub contact: Vec<String>,
    /// Each row's key and value as typed; a row removed is not here, and
    /// a row left empty is no attribute.
    pub rows: Vec<(String, String)>,
}

/// A correction ready to send, with its words.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// The body's fields beside the customer, the app and the reason.
    pub fields: Vec<(&'static str, Loose)>,
    /// What changes, a line each, with any warning after.
    pub preview: String,
    /// The attributes set (or removed, `Null`), to check the answer by.
    attributes: Vec<(String, Loose)>,
}

/// A value as the preview shows it: text in quotes, a number bare.
fn shown(value: &Loose) -> String {
    match value {
        Loose::Text(text) => format!("\u{201c}{text}\u{201d}"),
        other => other.to_string(),
    }
}

/// Why a contact detail cannot be sent, or `None`.
fn contact_problem(name: &str, value: &str) -> Option<String> {
    if value.chars().count() > MAX_CONTACT_LENGTH {
        return Some(format!(
            "The {name} is longer than {MAX_CONTACT_LENGTH} characters."
        ));
    }
    if value.chars().any(char::is_control) {
        return Some(format!("The {name} contains a control character."));
    }
    // An address: one `@`, something before it, a dotted domain after.
    let address = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    });
    (name == "email" && (!address || value.contains(char::is_whitespace)))
        .then(|| format!("The email \u{201c}{value}\u{201d} is not an email address."))
}

impl Edit {
    /// The correction, or what is wrong or missing, in a sentence.
    /// `current` is the profile's custom attributes.
    pub fn plan(&self, current: &[crate::model::CustomAttribute]) -> Result<Correction, String> {
        let mut fields = Vec::new();
        let mut lines = Vec::new();
        for (name, value) in field::CONTACT.iter().zip(&self.contact) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let label = name.replace('_', " ");
            if let Some(problem) = contact_problem(&label, value) {
                return Err(problem);
            }
            lines.push(format!("Set the {label} to {value}."));
            fields.push((*name, Loose::Text(value.into())));
        }
        let mut attributes: Vec<(String, Loose)> = Vec::new();
        let mut kept = Vec::new();
        let mut warnings = Vec::new();
        for (key, value) in &self.rows {
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() && value.is_empty() {
                continue;
            }
            if key.is_empty() {
                return Err(format!(
                    "Type the key of the attribute whose value is \u{201c}{value}\u{201d}."
                ));
            }
            if let Some(problem) = key_problem(key).or_else(|| text_value_problem(key, value)) {
                return Err(sentence(problem));
            }
            if kept.contains(&key) {
                return Err(format!(
                    "The key \u{201c}{key}\u{201d} is on two rows: keep one."
                ));
            }
            kept.push(key);
            let was = current.iter().find(|attribute| attribute.key == key);
            let number = !matches!(was.map(|attribute| &attribute.value), Some(Loose::Text(_)))
                && serde_json::from_str::<f64>(value).is_ok();
            let value = if number {
                Loose::Number(value.into())
            } else {
                Loose::Text(value.into())
            };
            match was {
                Some(was) if was.value == value => continue,
                Some(was) => lines.push(format!(
                    "Change {key} from {} to {}.",
                    shown(&was.value),
                    shown(&value)
                )),
                None => lines.push(format!("Add {key}: {}.", shown(&value))),
            }
            let length = value.to_string().chars().count();
            if !number && length > WARN_VALUE_LENGTH {
                warnings.push(format!(
                    "The value of {key} is {length} characters: two of Adapty's pages say \
                     {WARN_VALUE_LENGTH} is the most, so Adapty may refuse it."
                ));
            }
            attributes.push((key.into(), value));
        }
        for attribute in current {
            if !kept.contains(&attribute.key.as_str()) {
                lines.push(format!(
                    "Remove {} (now {}).",
                    attribute.key,
                    shown(&attribute.value)
                ));
                attributes.push((attribute.key.clone(), Loose::Null));
            }
        }
        let added = attributes
            .iter()
            .filter(|(key, _)| current.iter().all(|attribute| attribute.key != *key))
            .count();
        let removed = attributes.iter().filter(|(_, value)| *value == Loose::Null);
        let after = current.len() + added - removed.count();
        if after > MAX_ATTRIBUTES {
            return Err(format!(
                "A profile has at most {MAX_ATTRIBUTES} custom attributes; this would leave \
                 {after}. Remove some first."
            ));
        }
        if lines.is_empty() {
            return Err(
                "Nothing to save yet: type a contact detail, or add, change or remove an \
                 attribute."
                    .into(),
            );
        }
        if !attributes.is_empty() {
            fields.push((field::CUSTOM_ATTRIBUTES, Loose::Object(attributes.clone())));
        }
        lines.extend(warnings);
        Ok(Correction {
            fields,
            preview: lines.join("\n"),
            attributes,
        })
    }
}

impl Correction {
    /// The body, for `customer` (`naming`).
    pub fn body(&self, customer: &Lookup, reason: &str) -> Loose {
        let mut body = naming(customer, reason);
        for (name, value) in &self.fields {
            body.push(((*name).into(), value.clone()));
        }
        Loose::Object(body)
    }

    /// What the notice says once Adapty answered with `after`: saved, and
    /// plainly, any attribute its answer does not show as asked.
    pub fn notice(&self, after: &Profile) -> String {
        let mut text = String::from("Saved the correction.");
        let mut differ = Vec::new();
        for (key, asked) in &self.attributes {
            let now = after
                .custom_attributes
                .iter()
                .find(|attribute| attribute.key == *key);
            match (asked, now) {
                (Loose::Null, Some(now)) => {
                    differ.push(format!("{key} is still there ({})", shown(&now.value)))
                }
                (Loose::Null, None) => {}
                (_, None) => differ.push(format!("{key} is missing")),
                (_, Some(now)) if now.value.to_string() != asked.to_string() => differ.push(
                    format!("{key} is {}, not {}", shown(&now.value), shown(asked)),
                ),
                _ => {}
            }
        }
        if !differ.is_empty() {
            text += " But Adapty's answer does not show every change: ";
            text += &differ.join("; ");
            text += ". Adapty does not promise to remove an attribute; look the customer up \
                     again later, and if it stays, tell the team that runs this tool.";
        }
        if self
            .fields
            .iter()
            .any(|(name, _)| *name != field::CUSTOM_ATTRIBUTES)
        {
            text += " Adapty does not show contact details back, so they cannot be checked here.";
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CustomAttribute;

    fn current() -> Vec<CustomAttribute> {
        vec![
            CustomAttribute {
                key: "partner".into(),
                value: Loose::Text("acme".into()),
            },
            CustomAttribute {
                key: "seats".into(),
                value: Loose::Number("3".into()),
            },
        ]
    }

    /// The rows as the dialog starts: the profile's own.
    fn rows(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        [("partner", "acme"), ("seats", "3")]
            .iter()
            .chain(extra)
            .map(|(key, value)| ((*key).into(), (*value).into()))
            .collect()
    }

    fn edit(rows: Vec<(String, String)>) -> Edit {
        Edit {
            contact: vec![String::new(); 4],
            rows,
        }
    }

    fn customer(customer_user_id: Option<&str>, app: &str) -> Lookup {
        let profile = Profile {
            profile_id: "p-1".into(),
            customer_user_id: customer_user_id.map(Into::into),
            ..Profile::default()
        };
        crate::handoff::customer(&profile, app)
    }

    #[test]
    fn unchanged_rows_are_nothing_to_save() {
        let problem = edit(rows(&[("", "")])).plan(&current()).unwrap_err();
        assert!(problem.starts_with("Nothing to save yet"), "{problem}");
    }

    #[test]
    fn added_changed_and_removed_rows_are_previewed_and_sent() {
        let mut rows = rows(&[("tier", "gold"), ("visits", "12")]);
        rows[0].1 = "acme-pro".into();
        rows.remove(1);
        let correction = edit(rows).plan(&current()).unwrap();
        assert_eq!(
            correction.preview,
            "Change partner from \u{201c}acme\u{201d} to \u{201c}acme-pro\u{201d}.\n\
             Add tier: \u{201c}gold\u{201d}.\nAdd visits: 12.\nRemove seats (now 3)."
        );
        let body = correction
            .body(&customer(Some("demo-1"), "main"), " ticket 12 ")
            .to_json();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"customer_user_id": "demo-1", "app": "main",
                "reason": "ticket 12", "custom_attributes": {"partner": "acme-pro",
                "tier": "gold", "visits": 12, "seats": null}})
        );
    }

    #[test]
    fn a_value_keeps_its_kind_and_a_new_key_is_a_rename() {
        let mut changed = rows(&[]);
        changed[1].1 = "4".into();
        changed[0].1 = "7".into();
        let correction = edit(changed).plan(&current()).unwrap();
        assert_eq!(
            correction.preview,
            "Change partner from \u{201c}acme\u{201d} to \u{201c}7\u{201d}.\n\
             Change seats from 3 to 4."
        );
        let mut text = rows(&[]);
        text[1].1 = "three".into();
        assert_eq!(
            edit(text).plan(&current()).unwrap().preview,
            "Change seats from 3 to \u{201c}three\u{201d}."
        );
        let mut renamed = rows(&[]);
        renamed[0].0 = "partner_name".into();
        assert_eq!(
            edit(renamed).plan(&current()).unwrap().preview,
            "Add partner_name: \u{201c}acme\u{201d}.\nRemove partner (now \u{201c}acme\u{201d})."
        );
    }

    #[test]
    fn keys_values_and_the_count_follow_adaptys_rules() {
        let problem = |extra: &[(&str, &str)]| edit(rows(extra)).plan(&current()).unwrap_err();
        assert_eq!(
            problem(&[("has space", "x")]),
            "The key \"has space\" may hold only letters, digits, '-', '.' and '_'."
        );
        assert_eq!(
            problem(&[("tier", "")]),
            "The value of \"tier\" is empty; remove the attribute instead."
        );
        assert_eq!(
            problem(&[("", "gold")]),
            "Type the key of the attribute whose value is \u{201c}gold\u{201d}."
        );
        assert_eq!(
            problem(&[("seats", "4")]),
            "The key \u{201c}seats\u{201d} is on two rows: keep one."
        );
        assert!(problem(&[("note", &"x".repeat(51))]).contains("at most 50"));
        let many: Vec<(String, String)> = (0..29).map(|n| (format!("k{n}"), "v".into())).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        assert_eq!(
            problem(&many),
            "A profile has at most 30 custom attributes; this would leave 31. Remove some first."
        );
        // Removing two makes room for two.
        let mut room = edit(rows(&many));
        room.rows.drain(..2);
        assert!(room.plan(&current()).is_ok());
    }

    #[test]
    fn a_long_value_is_warned_of_not_refused() {
        let long = "a".repeat(42);
        let correction = edit(rows(&[("note", &long)])).plan(&current()).unwrap();
        assert!(
            correction
                .preview
                .ends_with("\nThe value of note is 42 characters: two of Adapty's pages say 30 is the most, so Adapty may refuse it."),
            "{}",
            correction.preview
        );
        let fine = edit(rows(&[("note", &"a".repeat(30))]))
            .plan(&current())
            .unwrap();
        assert!(!fine.preview.contains("may refuse"));
    }

    #[test]
    fn contact_details_typed_are_set_and_checked() {
        let mut typed = edit(rows(&[]));
        typed.contact = vec![
            " ann@example.com ".into(),
            String::new(),
            "Ann".into(),
            String::new(),
        ];
        let correction = typed.plan(&current()).unwrap();
        assert_eq!(
            correction.preview,
            "Set the email to ann@example.com.\nSet the first name to Ann."
        );
        let body = correction.body(&customer(None, ""), "fix");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body.to_json()).unwrap(),
            serde_json::json!({"profile_id": "p-1", "reason": "fix",
                "email": "ann@example.com", "first_name": "Ann"}),
            "the customer by profile ID when they have no customer user ID; no app with one"
        );
        for bad in [
            "ann",
            "ann@example",
            "@example.com",
            "ann @example.com",
            "a@b@c.d",
        ] {
            typed.contact[0] = bad.into();
            assert_eq!(
                typed.plan(&current()).unwrap_err(),
                format!("The email \u{201c}{bad}\u{201d} is not an email address.")
            );
        }
        typed.contact[0] = String::new();
        typed.contact[1] = "+1 555\u{7}".into();
        assert_eq!(
            typed.plan(&current()).unwrap_err(),
            "The phone number contains a control character."
        );
        typed.contact[1] = "1".repeat(255);
        assert_eq!(
            typed.plan(&current()).unwrap_err(),
            "The phone number is longer than 254 characters."
        );
    }

    #[test]
    fn the_notice_says_plainly_what_adaptys_answer_does_not_show() {
        let mut changed = rows(&[("tier", "gold")]);
        changed.remove(0);
        changed[0].1 = "4".into();
        let correction = edit(changed).plan(&current()).unwrap();
        let applied = Profile {
            custom_attributes: vec![
                CustomAttribute {
                    key: "seats".into(),
                    value: Loose::Number("4".into()),
                },
                CustomAttribute {
                    key: "tier".into(),
                    value: Loose::Text("gold".into()),
                },
            ],
            ..Profile::default()
        };
        assert_eq!(correction.notice(&applied), "Saved the correction.");
        let kept = Profile {
            custom_attributes: current(),
            ..Profile::default()
        };
        assert_eq!(
            correction.notice(&kept),
            "Saved the correction. But Adapty's answer does not show every change: seats is 3, \
             not 4; tier is missing; partner is still there (\u{201c}acme\u{201d}). Adapty does \
             not promise to remove an attribute; look the customer up again later, and if it \
             stays, tell the team that runs this tool."
        );
        let mut contact = edit(rows(&[]));
        contact.contact[1] = "+44 20 7946 0000".into();
        assert!(contact.plan(&current()).unwrap().notice(&kept).ends_with(
            "Adapty does not show contact details back, so they cannot be checked here."
        ));
    }
}
