//! Erasing a customer from the panel (`POST api/profile/erase`): the
//! confirmation, the request's body, the relay's answer, and the sentences
//! that say who erased the customer and when, right after and at any later
//! lookup of them.
//!
//! The rules:
//!
//! - Nothing is sent until the agent has typed the customer's ID again,
//!   exactly as the page shows it, and given a reason (`change::reason_problem`).
//! - The customer is named as `correction::identity` names them.
//! - After an erasure nothing of the profile stays on screen as if it were
//!   current: the page says that the customer was erased, when and by whom,
//!   and what the relay's store forgot with them.

use crate::change::{refusal, Failure};
use crate::correction::naming;
use crate::error::is_sign_in_page;
use crate::format::Clock;
use crate::lookup::Lookup;
use crate::model::{Loose, Timestamp};
use protocol::correction::{field, Erased, ErasureRecord, StoreErasure};

/// The body of the erasure of `customer` (as `handoff::customer` names
/// them), or what is missing: the ID typed again (`typed`) must be theirs
/// exactly.
pub fn body(customer: &Lookup, reason: &str, typed: &str) -> Result<Loose, String> {
    if typed != customer.id {
        return Err(format!(
            "Type the {} exactly as shown to confirm.",
            customer.kind.label()
        ));
    }
    let mut body = naming(customer, reason);
    body.push((field::CONFIRM.into(), Loose::Text(typed.into())));
    Ok(Loose::Object(body))
}

/// The relay's answer to an erasure: what it did, or the failure. Read
/// field by field, as every answer of the relay's (serde's derive would
/// weigh on the wasm).
pub fn read_answer(status: u16, content_type: Option<&str>, body: &str) -> Result<Erased, Failure> {
    if status != 200 || is_sign_in_page(status, content_type) {
        return Err(refusal(status, content_type, body));
    }
    let json: Loose = serde_json::from_str(body).map_err(|_| Failure::OutcomeUnknown)?;
    // Erased, but the answer says nothing readable: a lookup tells.
    let erased_at = json.string("erased_at").ok_or(Failure::OutcomeUnknown)?;
    let store = json.get("store");
    let count = |name| store.number(name).unwrap_or_default() as u64;
    Ok(Erased {
        erased_at,
        erased_by: json.string("erased_by").unwrap_or_default(),
        store: matches!(store, Loose::Object(_)).then(|| StoreErasure {
            cleared: store.get("cleared").is_true(),
            events: count("events"),
            index_rows: count("index_rows"),
            notes: count("notes"),
            message: store.string("message"),
        }),
    })
}

/// An instant of the relay's (RFC 3339) as the admin reads it, or as the
/// relay wrote it if it cannot be read.
pub fn when(at: &str, clock: &Clock) -> String {
    match Timestamp::parse(at) {
        Timestamp::At(at) => clock.date_time(at),
        Timestamp::Unreadable(text) => text,
    }
}

/// Said at a lookup of a customer the relay's store remembers erasing.
pub fn said(record: &ErasureRecord, clock: &Clock) -> String {
    format!(
        "This customer was erased on {} by {}.",
        when(&record.at, clock),
        record.by
    )
}

/// Said right after the agent erased the customer: when, by whom, and
/// what the relay's store forgot with them.
pub fn result(erased: &Erased, clock: &Clock) -> String {
    let mut text = format!(
        "Erased on {} by you ({}): Adapty no longer has this customer.",
        when(&erased.erased_at, clock),
        erased.erased_by
    );
    match &erased.store {
        None => {}
        Some(store) if store.cleared => {
            text += &format!(
                " The relay's store forgot them too: {} events, {} search entries and {} notes.",
                store.events, store.index_rows, store.notes
            );
        }
        Some(store) => {
            text += " The relay's store still holds their events: ";
            text += store.message.as_deref().unwrap_or("it did not say why.");
        }
    }
    text
}

/// The erasure as a later lookup will tell it.
pub fn record(erased: &Erased) -> ErasureRecord {
    ErasureRecord {
        at: erased.erased_at.clone(),
        by: erased.erased_by.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn tokyo() -> Clock {
        Clock {
            now: chrono::Utc.with_ymd_and_hms(2026, 12, 7, 4, 0, 0).unwrap(),
            offset_minutes: |_| 540,
            utc: false,
            absolute: false,
        }
    }

    fn customer(customer_user_id: Option<&str>, app: &str) -> Lookup {
        let profile = crate::model::Profile {
            profile_id: "0f2a23f1-6e1b-4f2c-9d3d-2b4c6d8e0f1a".into(),
            customer_user_id: customer_user_id.map(Into::into),
            ..Default::default()
        };
        crate::handoff::customer(&profile, app)
    }

    fn json(body: &Loose) -> serde_json::Value {
        serde_json::from_str(&body.to_json()).unwrap()
    }

    #[test]
    fn nothing_is_sent_until_the_id_is_typed_again_exactly() {
        let named = customer(Some("demo-scheduled"), "main");
        for typed in ["", "demo-schedule", "DEMO-SCHEDULED", " demo-scheduled"] {
            assert_eq!(
                body(&named, "GDPR request 88", typed).unwrap_err(),
                "Type the customer user ID exactly as shown to confirm.",
                "{typed:?}"
            );
        }
        let sent = body(&named, " GDPR request 88 ", "demo-scheduled").unwrap();
        assert_eq!(
            json(&sent),
            serde_json::json!({"customer_user_id": "demo-scheduled", "app": "main",
                "reason": "GDPR request 88", "confirm": "demo-scheduled"})
        );
        let anonymous = customer(None, "");
        assert_eq!(
            body(&anonymous, "why not", "demo-scheduled").unwrap_err(),
            "Type the profile ID exactly as shown to confirm."
        );
        let id = anonymous.id.clone();
        assert_eq!(
            json(&body(&anonymous, "GDPR", &id).unwrap()),
            serde_json::json!({"profile_id": id, "reason": "GDPR", "confirm": id})
        );
    }

    #[test]
    fn the_result_says_when_who_and_what_the_store_forgot() {
        let json = Some("application/json");
        let answer = |body: &str| read_answer(200, json, body).unwrap();
        let cleared = answer(
            r#"{"erased_at":"2026-12-07T04:12:00Z","erased_by":"ana@example.com","store":{"cleared":true,"events":12,"index_rows":3,"notes":0,"message":null}}"#,
        );
        assert_eq!(
            result(&cleared, &tokyo()),
            "Erased on 7 Dec 2026, 13:12 by you (ana@example.com): Adapty no longer has this \
             customer. The relay's store forgot them too: 12 events, 3 search entries and 0 notes."
        );
        assert_eq!(
            said(&record(&cleared), &tokyo()),
            "This customer was erased on 7 Dec 2026, 13:12 by ana@example.com."
        );
        let no_store = answer(
            r#"{"erased_at":"2026-12-07T04:12:00Z","erased_by":"ana@example.com","store":null}"#,
        );
        assert_eq!(
            result(&no_store, &tokyo()),
            "Erased on 7 Dec 2026, 13:12 by you (ana@example.com): Adapty no longer has this customer."
        );
        let kept = answer(
            r#"{"erased_at":"2026-12-07T04:12:00Z","erased_by":"ana@example.com","store":{"cleared":false,"events":0,"index_rows":0,"notes":0,"message":"the store is unavailable: run `relay store forget` later"}}"#,
        );
        assert!(result(&kept, &tokyo()).ends_with(
            "The relay's store still holds their events: the store is unavailable: run `relay store forget` later"
        ));
        let odd = ErasureRecord {
            at: "yesterday".into(),
            by: "bo".into(),
        };
        assert_eq!(
            said(&odd, &tokyo()),
            "This customer was erased on yesterday by bo."
        );
    }

    #[test]
    fn refusals_are_a_changes_and_an_unreadable_success_is_unknown() {
        let json = Some("application/json");
        assert_eq!(
            read_answer(
                404,
                json,
                r#"{"error":{"code":"profile_not_found","message":"no such profile"}}"#
            )
            .unwrap_err(),
            Failure::Refused("No such profile.".into())
        );
        assert_eq!(
            read_answer(
                403,
                json,
                r#"{"error":{"code":"changes_not_allowed","message":"you may not erase customers"}}"#
            )
            .unwrap_err(),
            Failure::Refused("You may not erase customers.".into())
        );
        assert_eq!(
            read_answer(
                504,
                json,
                r#"{"error":{"code":"outcome_unknown","message":"x"}}"#
            )
            .unwrap_err(),
            Failure::OutcomeUnknown
        );
        assert_eq!(
            read_answer(200, Some("text/html"), "<html>").unwrap_err(),
            Failure::SignInExpired
        );
        assert_eq!(
            read_answer(200, json, "{}").unwrap_err(),
            Failure::OutcomeUnknown
        );
    }
}
