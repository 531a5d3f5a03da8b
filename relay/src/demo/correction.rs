//! The stand-in's `PATCH profile/` and `DELETE profile/`, as Adapty's
//! reference documents them: a correction answers the whole profile (its
//! custom attributes changed; contact details kept but, as with Adapty,
//! never shown back), with a 400 in the common error shape for a body
//! Adapty would refuse; an erasure answers 204 with no body, and 404 for a
//! profile that does not exist. Both hold until the process ends.

use super::{adapty_error, authorized_customer, AdaptyError, Data};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[derive(Deserialize)]
struct PatchBody {
    #[serde(default)]
    custom_attributes: Option<Vec<Pair>>,
}

#[derive(Deserialize)]
struct Pair {
    key: String,
    #[serde(default)]
    value: Value,
}

pub(super) async fn correct(
    State(data): State<Arc<Data>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AdaptyError> {
    data.changes_received.fetch_add(1, Ordering::SeqCst);
    let (field, wanted) = authorized_customer(&data, &headers)?;
    let body: PatchBody = serde_json::from_slice(&body).map_err(|error| bad(error.to_string()))?;
    let Some(mut profile) = data.find(field, &wanted, Utc::now()) else {
        return Err(not_found());
    };
    let mut attributes: Vec<(String, Value)> = profile["custom_attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair["key"].as_str()?.to_owned(), pair["value"].clone())))
        .collect();
    // Contact fields need no check here: Adapty keeps them, never shows them.
    for pair in body.custom_attributes.unwrap_or_default() {
        let valid_key = (1..=30).contains(&pair.key.chars().count())
            && pair
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !valid_key {
            return Err(bad(format!("Invalid key: {}", pair.key)));
        }
        attributes.retain(|(key, _)| *key != pair.key);
        match &pair.value {
            Value::Null => {}
            Value::String(text) if text.is_empty() => {}
            Value::String(text) if text.chars().count() > 50 => {
                return Err(bad(format!("Value of {} is longer than 50", pair.key)))
            }
            Value::String(_) | Value::Number(_) => attributes.push((pair.key, pair.value)),
            _ => {
                return Err(bad(format!(
                    "Value of {} must be a string or a number",
                    pair.key
                )))
            }
        }
    }
    if attributes.len() > 30 {
        return Err(bad("A profile has at most 30 custom attributes".into()));
    }
    let attributes: Vec<Value> = attributes
        .into_iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    let profile_id = profile["profile_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    data.corrected
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(profile_id, attributes.clone());
    profile["custom_attributes"] = Value::Array(attributes);
    Ok(Json(json!({ "data": profile })))
}

pub(super) async fn erase(
    State(data): State<Arc<Data>>,
    headers: HeaderMap,
) -> Result<Response, AdaptyError> {
    data.changes_received.fetch_add(1, Ordering::SeqCst);
    let (field, wanted) = authorized_customer(&data, &headers)?;
    let Some(profile) = data.find(field, &wanted, Utc::now()) else {
        return Err(not_found());
    };
    let profile_id = profile["profile_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    data.erased
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(profile_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn bad(message: String) -> AdaptyError {
    adapty_error(
        StatusCode::BAD_REQUEST,
        json!({"non_field_errors": [message]}),
        "base_error",
    )
}

fn not_found() -> AdaptyError {
    adapty_error(
        StatusCode::NOT_FOUND,
        json!([{"source": null, "errors": ["Profile not found"]}]),
        "profile_does_not_exist",
    )
}
