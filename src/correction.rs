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
use crate::model::{CustomAttribute, Loose, Profile};
use protocol::correction::{
    field, key_problem, text_value_problem, MAX_ATTRIBUTES, WARN_VALUE_LENGTH,
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
    /// The request's JSON body.
    pub body: String,
    /// What changes, a line each (`key: before → after`), with any
    /// warning after.
    pub preview: String,
    /// Each attribute sent, and what Adapty's answer should show of it
    /// (`shown`, or `REMOVED`).
    expected: Vec<(String, String)>,
    /// Whether contact details were sent (Adapty never shows them back).
    contact: bool,
}

/// A value as the preview shows it: text in quotes, a number bare.
fn shown(value: &Loose) -> String {
    match value {
        Loose::Text(text) => ["\u{201c}", text, "\u{201d}"].concat(),
        other => other.to_string(),
    }
}

/// An attribute on neither side of a change, in its preview.
const NEW: &str = "new";
const REMOVED: &str = "removed";

/// Whether `value` can be an email address: one `@`, something before
/// it, a dotted domain after, no space.
fn is_address(value: &str) -> bool {
    value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    }) && !value.contains(char::is_whitespace)
}

impl Edit {
    /// The correction of `customer` (`naming`), or what is wrong or
    /// missing, in a sentence. `current` is the profile's custom
    /// attributes. A contact detail's length is held by its field
    /// (`maxlength`, [`protocol::correction::MAX_CONTACT_LENGTH`]).
    pub fn plan(
        &self,
        current: &[CustomAttribute],
        customer: &Lookup,
        reason: &str,
    ) -> Result<Correction, String> {
        let mut body = naming(customer, reason);
        let mut lines = Vec::new();
        let labels = ["email", "phone number", "first name", "last name"];
        for ((name, label), value) in field::CONTACT.iter().zip(labels).zip(&self.contact) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if *name == field::EMAIL && !is_address(value) {
                return Err(format!(
                    "The email \u{201c}{value}\u{201d} is not an email address."
                ));
            }
            lines.push(format!("Set the {label} to {value}."));
            body.push(((*name).into(), Loose::Text(value.into())));
        }
        let contact = !lines.is_empty();
        // Every key on a row, and the attributes sent.
        let mut kept: Vec<&str> = Vec::new();
        let mut sent = Vec::new();
        let mut expected = Vec::new();
        let mut warnings = Vec::new();
        let mut change = |key: &str, before: String, after: String, value: Loose| {
            lines.push(format!("{key}: {before} \u{2192} {after}"));
            expected.push((key.to_owned(), after));
            sent.push((key.to_owned(), value));
        };
        for (key, value) in &self.rows {
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() && value.is_empty() {
                continue;
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
            let was = current
                .iter()
                .find(|attribute| attribute.key == key)
                .map(|attribute| &attribute.value);
            // A value keeps its kind; a new one that reads as a number is one.
            let text =
                matches!(was, Some(Loose::Text(_))) || serde_json::from_str::<f64>(value).is_err();
            let new = if text {
                Loose::Text(value.into())
            } else {
                Loose::Number(value.into())
            };
            let (before, after) = (was.map_or(NEW.into(), shown), shown(&new));
            if before == after {
                continue;
            }
            let length = value.chars().count();
            if text && length > WARN_VALUE_LENGTH {
                warnings.push(format!(
                    "Note: {key} has {length} characters; some of Adapty's pages say at most \
                     {WARN_VALUE_LENGTH}."
                ));
            }
            change(key, before, after, new);
        }
        for attribute in current {
            if !kept.contains(&attribute.key.as_str()) {
                let before = shown(&attribute.value);
                change(&attribute.key, before, REMOVED.into(), Loose::Null);
            }
        }
        // Each key on a row is an attribute after the change.
        if kept.len() > MAX_ATTRIBUTES {
            return Err(format!(
                "A profile has at most {MAX_ATTRIBUTES} custom attributes; this leaves {}.",
                kept.len()
            ));
        }
        if lines.is_empty() {
            return Err("Nothing to save yet: no field is changed.".into());
        }
        if !sent.is_empty() {
            body.push((field::CUSTOM_ATTRIBUTES.into(), Loose::Object(sent)));
        }
        lines.extend(warnings);
        Ok(Correction {
            body: Loose::Object(body).to_json(),
            preview: lines.join("\n"),
            expected,
            contact,
        })
    }
}

impl Correction {
    /// What the notice says once Adapty answered with `after`: saved, and
    /// plainly, any attribute its answer does not show as asked.
    pub fn notice(&self, after: &Profile) -> String {
        let mut text = String::from("Saved the correction.");
        let mut differ = Vec::new();
        for (key, asked) in &self.expected {
            let now = after
                .custom_attributes
                .iter()
                .find(|attribute| attribute.key == *key)
                .map(|attribute| shown(&attribute.value));
            if now.as_deref().unwrap_or(REMOVED) != asked {
                let now = now.as_deref().unwrap_or("absent");
                differ.push(format!("{key} is {now} (asked: {asked})"));
            }
        }
        if !differ.is_empty() {
            text += " But Adapty's answer does not show it all: ";
            text += &differ.join("; ");
            text += ". Adapty does not guarantee a removal: look the customer up again later.";
        }
        if self.contact {
            text += " Adapty keeps contact details but never shows them back.";
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

    /// The plan for demo-1 in the main app, with the reason " ticket 12 ".
    trait Planned {
        fn planned(&self) -> Result<Correction, String>;
    }

    impl Planned for Edit {
        fn planned(&self) -> Result<Correction, String> {
            self.plan(&current(), &customer(Some("demo-1"), "main"), " ticket 12 ")
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
        let problem = edit(rows(&[("", "")])).planned().unwrap_err();
        assert!(problem.starts_with("Nothing to save yet"), "{problem}");
    }

    #[test]
    fn added_changed_and_removed_rows_are_previewed_and_sent() {
        let mut rows = rows(&[("tier", "gold"), ("visits", "12")]);
        rows[0].1 = "acme-pro".into();
        rows.remove(1);
        let correction = edit(rows).planned().unwrap();
        assert_eq!(
            correction.preview,
            "partner: \u{201c}acme\u{201d} \u{2192} \u{201c}acme-pro\u{201d}\n\
             tier: new \u{2192} \u{201c}gold\u{201d}\nvisits: new \u{2192} 12\n\
             seats: 3 \u{2192} removed"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&correction.body).unwrap(),
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
        let correction = edit(changed).planned().unwrap();
        assert_eq!(
            correction.preview,
            "partner: \u{201c}acme\u{201d} \u{2192} \u{201c}7\u{201d}\nseats: 3 \u{2192} 4"
        );
        let mut text = rows(&[]);
        text[1].1 = "three".into();
        assert_eq!(
            edit(text).planned().unwrap().preview,
            "seats: 3 \u{2192} \u{201c}three\u{201d}"
        );
        let mut renamed = rows(&[]);
        renamed[0].0 = "partner_name".into();
        assert_eq!(
            edit(renamed).planned().unwrap().preview,
            "partner_name: new \u{2192} \u{201c}acme\u{201d}\n\
             partner: \u{201c}acme\u{201d} \u{2192} removed"
        );
    }

    #[test]
    fn keys_values_and_the_count_follow_adaptys_rules() {
        let problem = |extra: &[(&str, &str)]| edit(rows(extra)).planned().unwrap_err();
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
            "The key \"\" must be 1 to 30 characters."
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
            "A profile has at most 30 custom attributes; this leaves 31."
        );
        // Removing two makes room for two.
        let mut room = edit(rows(&many));
        room.rows.drain(..2);
        assert!(room.planned().is_ok());
    }

    #[test]
    fn a_long_value_is_warned_of_not_refused() {
        let long = "a".repeat(42);
        let correction = edit(rows(&[("note", &long)])).planned().unwrap();
        assert!(
            correction.preview.ends_with(
                "\nNote: note has 42 characters; some of Adapty's pages say at most 30."
            ),
            "{}",
            correction.preview
        );
        let fine = edit(rows(&[("note", &"a".repeat(30))])).planned().unwrap();
        assert!(!fine.preview.contains("Note:"));
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
        let correction = typed.plan(&current(), &customer(None, ""), "fix").unwrap();
        assert_eq!(
            correction.preview,
            "Set the email to ann@example.com.\nSet the first name to Ann."
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&correction.body).unwrap(),
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
                typed.planned().unwrap_err(),
                format!("The email \u{201c}{bad}\u{201d} is not an email address.")
            );
        }
    }

    #[test]
    fn the_notice_says_plainly_what_adaptys_answer_does_not_show() {
        let mut changed = rows(&[("tier", "gold")]);
        changed.remove(0);
        changed[0].1 = "4".into();
        let correction = edit(changed).planned().unwrap();
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
            "Saved the correction. But Adapty's answer does not show it all: seats is 3 (asked: \
             4); tier is absent (asked: \u{201c}gold\u{201d}); partner is \u{201c}acme\u{201d} \
             (asked: removed). Adapty does not guarantee a removal: look the customer up again \
             later."
        );
        let mut contact = edit(rows(&[]));
        contact.contact[1] = "+44 20 7946 0000".into();
        assert!(contact
            .planned()
            .unwrap()
            .notice(&kept)
            .ends_with("Adapty keeps contact details but never shows them back."));
    }
}
