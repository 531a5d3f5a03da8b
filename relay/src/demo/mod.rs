//! A stand-in for Adapty's profile endpoint, its two access changes, and
//! its correction and erasure of a profile, for `relay --demo` and tests.
//!
//! It listens on a loopback port and answers as the reference documents:
//! the `{"data": ...}` envelope, the 401 bodies for a missing or wrong key,
//! the 404 body for an unknown profile, and a 400 for a request with both or
//! neither identity header; grants and revokes with their documented
//! refusals (`access`); corrections and erasures (`correction`). The relay talks to it over real HTTP, with the same
//! code that talks to Adapty.

mod access;
mod correction;
pub mod profiles;
pub mod webhooks;

use crate::adapty::paths;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

pub struct StandIn {
    /// Where it listens, for `ADAPTY_API_BASE`.
    pub base_url: String,
    /// The key it accepts; generated fresh for every start.
    pub key: String,
    /// Grants and revokes received, for tests that count them.
    pub changes_received: Arc<AtomicUsize>,
    /// Where its grants and revokes are told, as Adapty's webhook would.
    webhook: Arc<Mutex<Option<webhooks::WebhookTarget>>>,
    samples: Option<&'static [profiles::Sample]>,
}

struct Data {
    key: String,
    profiles: Profiles,
    /// The access levels granted or revoked, by profile ID, kept for the
    /// life of the process: they replace the profile's own of the same ID.
    changed: Mutex<HashMap<String, Vec<Value>>>,
    /// The custom attributes corrected, by profile ID: they replace the
    /// profile's own.
    corrected: Mutex<HashMap<String, Vec<Value>>>,
    /// The profiles erased: not found from then on.
    erased: Mutex<HashSet<String>>,
    changes_received: Arc<AtomicUsize>,
    webhook: Arc<Mutex<Option<webhooks::WebhookTarget>>>,
}

/// What a stand-in serves.
enum Profiles {
    Fixed(Vec<Value>),
    /// Samples, each built as of the moment it is asked for.
    Samples(&'static [profiles::Sample]),
}

impl StandIn {
    /// Starts serving `profiles` (each a bare profile object, not an envelope)
    /// on a free loopback port, in the background of the current runtime.
    pub async fn start(profiles: Vec<Value>) -> std::io::Result<StandIn> {
        Self::serve(Profiles::Fixed(profiles)).await
    }

    /// The demo's samples (`profiles::SAMPLES`), their dates relative to
    /// each response: a sample's story holds however long the demo runs.
    pub async fn start_samples() -> std::io::Result<StandIn> {
        Self::start_sample_set(profiles::SAMPLES).await
    }

    /// Another app's samples (`profiles::KIDS_SAMPLES`), with a key of its own.
    pub async fn start_sample_set(
        samples: &'static [profiles::Sample],
    ) -> std::io::Result<StandIn> {
        Self::serve(Profiles::Samples(samples)).await
    }

    async fn serve(profiles: Profiles) -> std::io::Result<StandIn> {
        let key = format!("secret_demo_{}", uuid::Uuid::new_v4().simple());
        let changes_received = Arc::new(AtomicUsize::new(0));
        let webhook = Arc::new(Mutex::new(None));
        let samples = match &profiles {
            Profiles::Samples(samples) => Some(*samples),
            Profiles::Fixed(_) => None,
        };
        let data = Arc::new(Data {
            webhook: webhook.clone(),
            key: key.clone(),
            profiles,
            changed: Mutex::new(HashMap::new()),
            corrected: Mutex::new(HashMap::new()),
            erased: Mutex::new(HashSet::new()),
            changes_received: changes_received.clone(),
        });
        let app = Router::new()
            .route(
                &format!("/{}", paths::PROFILE),
                get(get_profile)
                    .patch(correction::correct)
                    .delete(correction::erase),
            )
            .route(&format!("/{}", paths::GRANT), post(access::grant))
            .route(&format!("/{}", paths::REVOKE), post(access::revoke))
            .with_state(data);
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(StandIn {
            base_url,
            key,
            changes_received,
            webhook,
            samples,
        })
    }

    /// Sends each sample's story to `target`, and from now on an
    /// `access_level_updated` for every grant and revoke.
    pub async fn send_webhooks_to(&self, target: webhooks::WebhookTarget) {
        *self.webhook.lock().unwrap_or_else(|p| p.into_inner()) = Some(target.clone());
        let now = Utc::now();
        let client = reqwest::Client::new();
        for sample in self.samples.unwrap_or_default() {
            webhooks::send(&client, &target, &webhooks::story(sample, now)).await;
        }
    }
}

async fn get_profile(
    State(data): State<Arc<Data>>,
    headers: HeaderMap,
) -> Result<Json<Value>, AdaptyError> {
    let (field, wanted) = authorized_customer(&data, &headers)?;
    match data.find(field, &wanted, chrono::Utc::now()) {
        Some(profile) => Ok(Json(json!({ "data": profile }))),
        None => Err(adapty_error(
            StatusCode::NOT_FOUND,
            json!([{"source": null, "errors": ["Profile not found"]}]),
            "profile_does_not_exist",
        )),
    }
}

/// The key checked, and the customer the one identity header names.
fn authorized_customer(
    data: &Data,
    headers: &HeaderMap,
) -> Result<(&'static str, String), AdaptyError> {
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok());
    match authorization {
        None => {
            return Err(adapty_error(
                StatusCode::UNAUTHORIZED,
                json!([{"source": "non_field_errors", "errors": ["Authentication credentials were not provided."]}]),
                "not_authenticated",
            ))
        }
        Some(value) if value != format!("Api-Key {}", data.key) => {
            return Err(adapty_error(
                StatusCode::UNAUTHORIZED,
                json!(["Invalid API key"]),
                "unauthorized",
            ))
        }
        Some(_) => {}
    }

    let customer_user_id = headers.get("adapty-customer-user-id");
    let profile_id = headers.get("adapty-profile-id");
    let (field, wanted) = match (customer_user_id, profile_id) {
        (Some(id), None) => ("customer_user_id", id),
        (None, Some(id)) => ("profile_id", id),
        _ => {
            return Err(adapty_error(
                StatusCode::BAD_REQUEST,
                json!({"non_field_errors": ["Send exactly one of adapty-customer-user-id and adapty-profile-id."]}),
                "base_error",
            ))
        }
    };
    Ok((
        field,
        String::from_utf8_lossy(wanted.as_bytes()).into_owned(),
    ))
}

impl Data {
    /// The profile `field` = `wanted` as of `now`, with the changes made to it.
    fn find(&self, field: &str, wanted: &str, now: DateTime<Utc>) -> Option<Value> {
        let mut profile = match &self.profiles {
            Profiles::Fixed(fixed) => fixed
                .iter()
                .find(|profile| profile[field].as_str() == Some(wanted))
                .cloned(),
            Profiles::Samples(samples) => profiles::find_in(samples, field, wanted, now),
        }?;
        let profile_id = profile["profile_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if self
            .erased
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&profile_id)
        {
            return None;
        }
        if let Some(attributes) = self
            .corrected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&profile_id)
        {
            profile["custom_attributes"] = Value::Array(attributes.clone());
        }
        let changed = self.changed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(levels) = changed.get(&profile_id) {
            for level in levels {
                access::put_level(&mut profile, level.clone());
            }
        }
        Some(profile)
    }

    /// The email the demo gives this profile's sample.
    fn email_of(&self, profile_id: &str) -> String {
        match &self.profiles {
            Profiles::Samples(samples) => samples
                .iter()
                .find(|sample| sample.profile_id == profile_id)
                .map(profiles::Sample::email)
                .unwrap_or_default(),
            Profiles::Fixed(_) => String::new(),
        }
    }

    /// Keeps `level` as the profile's access level of its ID from now on.
    fn keep(&self, profile_id: &str, level: Value) {
        let mut changed = self.changed.lock().unwrap_or_else(|p| p.into_inner());
        let levels = changed.entry(profile_id.to_owned()).or_default();
        levels.retain(|kept| kept["access_level_id"] != level["access_level_id"]);
        levels.push(level);
    }
}

/// An error as Adapty answers it.
struct AdaptyError {
    status: StatusCode,
    body: Value,
}

fn adapty_error(status: StatusCode, errors: Value, error_code: &str) -> AdaptyError {
    let body = json!({"errors": errors, "error_code": error_code, "status_code": status.as_u16()});
    AdaptyError { status, body }
}

impl IntoResponse for AdaptyError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
