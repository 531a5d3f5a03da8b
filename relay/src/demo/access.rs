//! The stand-in's grant and revoke, with Adapty's documented refusals: an
//! access level the app does not have, a profile that does not exist, a
//! revoke of a level the customer lacks, a revoke date later than the
//! current end or in the past. What it grants or revokes stays for the life
//! of the process, so the next lookup shows it.

use super::{adapty_error, authorized_customer, AdaptyError, Data};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The demo app's paid access levels.
pub const PAID_ACCESS_LEVELS: &[&str] = &["premium", "vip"];

#[derive(Deserialize)]
struct GrantBody {
    access_level_id: String,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Deserialize)]
struct RevokeBody {
    access_level_id: String,
    #[serde(default)]
    revoke_at: Option<String>,
}

pub(super) async fn grant(
    State(data): State<Arc<Data>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AdaptyError> {
    data.changes_received.fetch_add(1, Ordering::SeqCst);
    let now = Utc::now();
    let body: GrantBody = read(&body)?;
    let starts_at = date(body.starts_at.as_deref())?;
    let expires_at = date(body.expires_at.as_deref())?;
    let profile = profile_to_change(&data, &headers, &body.access_level_id, now)?;
    let id = body.access_level_id.as_str();
    let level = match own_level(&profile, id) {
        // Extended: the store's own record stays, with the new dates.
        Some(mut level) => {
            level["starts_at"] = json!(starts_at.map(iso));
            level["expires_at"] = json!(expires_at.map(iso));
            level
        }
        None => json!({
            "access_level_id": id, "store": "adapty", "store_product_id": format!("granted.{id}"),
            "store_base_plan_id": null, "store_transaction_id": null,
            "store_original_transaction_id": null, "offer": null,
            "starts_at": starts_at.map(iso), "purchased_at": iso(now),
            "originally_purchased_at": iso(now), "expires_at": expires_at.map(iso),
            "renewal_cancelled_at": null, "billing_issue_detected_at": null,
            "is_in_grace_period": false, "cancellation_reason": null
        }),
    };
    Ok(answer(&data, profile, level))
}

pub(super) async fn revoke(
    State(data): State<Arc<Data>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AdaptyError> {
    data.changes_received.fetch_add(1, Ordering::SeqCst);
    let now = Utc::now();
    let body: RevokeBody = read(&body)?;
    let revoke_at = date(body.revoke_at.as_deref())?;
    let profile = profile_to_change(&data, &headers, &body.access_level_id, now)?;
    let id = body.access_level_id.as_str();
    let Some(mut level) = own_level(&profile, id) else {
        let profile_id = profile["profile_id"].as_str().unwrap_or_default();
        return Err(refusal(
            json!([{"source": "non_field_errors", "errors": [format!("Profile `{profile_id}` has no `{id}` access level")]}]),
            "profile_paid_access_level_does_not_exist",
        ));
    };
    if revoke_at.is_some_and(|at| at < now) {
        return Err(refusal(
            json!([{"source": null, "errors": ["Must be greater than the current time or null"]}]),
            "value_error",
        ));
    }
    let revoke_at = revoke_at.unwrap_or(now);
    // In any of Adapty's spellings: `+00:00`, `+0000`, with or without fractions.
    let expires = level["expires_at"]
        .as_str()
        .and_then(|text| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok());
    if let Some(expires) = expires.filter(|expires| revoke_at > *expires) {
        return Err(refusal(
            json!([{"source": "revoke_at", "errors": [format!(
                "Revocation date ({}) is more than current expiration date ({})", iso(revoke_at), iso(expires.to_utc())
            )]}]),
            "revocation_date_more_than_expiration_date",
        ));
    }
    level["expires_at"] = json!(iso(revoke_at));
    Ok(answer(&data, profile, level))
}

/// The body as Adapty reads it; one it cannot read is a `base_error`.
fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdaptyError> {
    serde_json::from_slice(body).map_err(|error| {
        adapty_error(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": [error.to_string()]}),
            "base_error",
        )
    })
}

/// A date as Adapty reads it, with an offset; one it cannot read is a `base_error`.
fn date(text: Option<&str>) -> Result<Option<DateTime<Utc>>, AdaptyError> {
    text.map(|text| {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.to_utc())
            .map_err(|_| {
                adapty_error(
                    StatusCode::BAD_REQUEST,
                    json!({"non_field_errors": [format!("Not a date with an offset: {text}")]}),
                    "base_error",
                )
            })
    })
    .transpose()
}

/// The profile the change is for, once the key, the customer and the
/// access level are known to be right.
fn profile_to_change(
    data: &Data,
    headers: &HeaderMap,
    access_level_id: &str,
    now: DateTime<Utc>,
) -> Result<Value, AdaptyError> {
    let (field, wanted) = authorized_customer(data, headers)?;
    if !PAID_ACCESS_LEVELS.contains(&access_level_id) {
        return Err(refusal(
            json!([{"source": "non_field_errors", "errors": [format!("Paid access level `{access_level_id}` does not exist")]}]),
            "paid_access_level_does_not_exist",
        ));
    }
    data.find(field, &wanted, now).ok_or_else(|| {
        refusal(
            json!([{"source": "non_field_errors", "errors": ["Profile not found"]}]),
            "profile_does_not_exist",
        )
    })
}

fn own_level(profile: &Value, id: &str) -> Option<Value> {
    profile["access_levels"]
        .as_array()?
        .iter()
        .find(|level| level["access_level_id"] == id)
        .cloned()
}

/// `level` kept for this profile, and the profile with it, as Adapty answers.
fn answer(data: &Data, mut profile: Value, level: Value) -> Json<Value> {
    let profile_id = profile["profile_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    data.keep(&profile_id, level.clone());
    put_level(&mut profile, level.clone());
    let target = data
        .webhook
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(target) = target {
        // As Adapty does, a moment after the answer.
        let now = Utc::now();
        let email = data.email_of(&profile_id);
        let event = super::webhooks::access_level_updated(&profile, &email, &level, now, now);
        tokio::spawn(async move {
            super::webhooks::send(&reqwest::Client::new(), &target, &[event]).await;
        });
    }
    Json(json!({ "data": profile }))
}

/// Replaces the profile's access level of the same ID, or adds it.
pub(super) fn put_level(profile: &mut Value, level: Value) {
    if !profile["access_levels"].is_array() {
        profile["access_levels"] = json!([]);
    }
    let levels = profile["access_levels"]
        .as_array_mut()
        .expect("made an array above");
    match levels
        .iter_mut()
        .find(|own| own["access_level_id"] == level["access_level_id"])
    {
        Some(own) => *own = level,
        None => levels.push(level),
    }
}

fn refusal(errors: Value, error_code: &str) -> AdaptyError {
    adapty_error(StatusCode::BAD_REQUEST, errors, error_code)
}

fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}
