//! An erasure: one customer, a reason, and the customer's ID typed again
//! (`confirm`), so that a slip of the mouse or a pasted ID from another
//! ticket erases no one. Read strictly like a change (`fields`).

use super::fields::Fields;
use super::lookup::Lookup;
use crate::error::RelayError;
use protocol::correction::field as correction;
use protocol::{field, param};

/// The largest body an erasure may have (as a change's).
pub const MAX_BODY_BYTES: usize = super::change::MAX_BODY_BYTES;

/// A checked erasure, ready for Adapty and the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Erasure {
    pub customer: Lookup,
    pub reason: String,
}

impl Erasure {
    /// Reads and checks a body; with the app it names, if any.
    pub fn read(body: &[u8]) -> Result<(Erasure, Option<String>), RelayError> {
        let allowed = [
            param::APP,
            param::CUSTOMER_USER_ID,
            param::PROFILE_ID,
            field::REASON,
            correction::CONFIRM,
        ];
        let mut fields = Fields::read(body, &allowed, "erasure")?;
        // As sent, before the lookup's rules read it.
        let given = match (
            fields.text(param::CUSTOMER_USER_ID)?,
            fields.text(param::PROFILE_ID)?,
        ) {
            (Some(id), None) => (Some(id.clone()), None, id),
            (None, Some(id)) => (None, Some(id.clone()), id),
            (customer_user_id, profile_id) => (customer_user_id, profile_id, String::new()),
        };
        let (customer_user_id, profile_id, typed) = given;
        let customer = Lookup::from_ids(customer_user_id, profile_id)?;
        let confirm = fields.required(correction::CONFIRM).map_err(|_| {
            RelayError::InvalidRequest(format!(
                "missing field `{}`: type the customer's ID again to confirm the erasure",
                correction::CONFIRM
            ))
        })?;
        if confirm != typed {
            return Err(RelayError::InvalidRequest(format!(
                "{} does not repeat the customer's ID exactly; nothing was erased",
                correction::CONFIRM
            )));
        }
        let erasure = Erasure {
            customer,
            reason: fields.reason()?,
        };
        Ok((erasure, fields.text(param::APP)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: serde_json::Value) -> Result<Erasure, RelayError> {
        Erasure::read(body.to_string().as_bytes()).map(|(erasure, _)| erasure)
    }

    #[test]
    fn the_id_must_be_typed_again_exactly() {
        let id = "D8533A10-BCCE-4E33-8C9D-88B05AC56559";
        let ok = read(json!({"profile_id": id, "confirm": id, "reason": "GDPR request 12"}));
        assert_eq!(ok.unwrap().customer.id(), id.to_lowercase());
        for (confirm, expected) in [
            (
                json!(id.to_lowercase()),
                "does not repeat the customer's ID exactly",
            ),
            (json!(format!("{id} ")), "does not repeat"),
            (json!(null), "type the customer's ID again"),
            (json!(5), "type the customer's ID again"),
        ] {
            let body = json!({"profile_id": id, "confirm": confirm, "reason": "GDPR request 12"});
            let error = read(body).unwrap_err();
            assert!(error.message().contains(expected), "{confirm}: {error:?}");
        }
        let missing = read(json!({"customer_user_id": "u", "reason": "why"})).unwrap_err();
        assert!(missing.message().contains("confirm"), "{missing:?}");
        let unknown = read(
            json!({"customer_user_id": "u", "confirm": "u", "reason": "why",
            "force": true}),
        )
        .unwrap_err();
        assert!(unknown.message().contains("unknown field `force`"));
        let short =
            read(json!({"customer_user_id": "u", "confirm": "u", "reason": "x"})).unwrap_err();
        assert!(short.message().contains("reason must have at least 3"));
    }
}
